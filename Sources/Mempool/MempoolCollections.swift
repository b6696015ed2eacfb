// The pool's bounded containers.

/// A map that forgets its oldest keys beyond `limit` (every record the pool keeps is bounded).
struct BoundedRecord<Key: Hashable, Value> {
    private var values: [Key: Value] = [:]
    private var order: [Key] = []
    private var head = 0
    let limit: Int

    init(limit: Int) { self.limit = max(1, limit) }

    subscript(key: Key) -> Value? { values[key] }

    mutating func removeAll() {
        values.removeAll()
        order.removeAll()
        head = 0
    }

    var isEmpty: Bool { values.isEmpty }

    var count: Int { values.count }

    /// Forgets the entries `shouldRemove` picks (the key order is rebuilt, so a key set again
    /// later counts as new).
    mutating func removeAll(where shouldRemove: (Key, Value) -> Bool) {
        let doomed = values.filter { shouldRemove($0.key, $0.value) }
        guard !doomed.isEmpty else { return }
        for key in doomed.keys { values[key] = nil }
        order = order[head...].filter { values[$0] != nil }
        head = 0
    }

    mutating func set(_ key: Key, _ value: Value) {
        if values.updateValue(value, forKey: key) == nil { order.append(key) }
        while values.count > limit, head < order.count {
            values[order[head]] = nil
            head += 1
        }
        // Compact the key list once most of it is forgotten.
        if head > limit { order.removeFirst(head); head = 0 }
    }
}

/// A binary max-heap.
struct Heap<Element: Comparable> {
    private var items: [Element] = []

    init() {}

    /// A heap of `elements`, built in linear time (Floyd's bottom-up construction).
    init(heapifying elements: [Element]) {
        items = elements
        var parent = items.count / 2
        while parent > 0 {
            parent -= 1
            siftDown(from: parent)
        }
    }

    mutating func push(_ element: Element) {
        items.append(element)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[parent] < items[child] else { break }
            items.swapAt(parent, child)
            child = parent
        }
    }

    mutating func pop() -> Element? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let top = items.removeLast()
        siftDown(from: 0)
        return top
    }

    private mutating func siftDown(from start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1, right = left + 1
            var largest = parent
            if left < items.count && items[largest] < items[left] { largest = left }
            if right < items.count && items[largest] < items[right] { largest = right }
            guard largest != parent else { return }
            items.swapAt(parent, largest)
            parent = largest
        }
    }
}
