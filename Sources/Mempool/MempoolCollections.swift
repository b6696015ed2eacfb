// The pool's bounded containers.

/// A map that forgets its oldest keys beyond `limit` (every record the pool keeps is bounded).
/// "Oldest" is by when a key was last added (not updated): a key removed and set again
/// counts as new, its earlier slot in the order going stale.
struct BoundedRecord<Key: Hashable, Value> {
    private var values: [Key: (value: Value, slot: UInt64)] = [:]
    private var order: [(key: Key, slot: UInt64)] = []
    private var head = 0
    private var nextSlot: UInt64 = 0
    let limit: Int

    init(limit: Int) { self.limit = max(1, limit) }

    subscript(key: Key) -> Value? { values[key]?.value }

    mutating func removeAll() {
        values.removeAll()
        order.removeAll()
        head = 0
    }

    var isEmpty: Bool { values.isEmpty }

    var count: Int { values.count }

    /// Forgets the entries `shouldRemove` picks.
    mutating func removeAll(where shouldRemove: (Key, Value) -> Bool) {
        let doomed = values.filter { shouldRemove($0.key, $0.value.value) }
        guard !doomed.isEmpty else { return }
        for key in doomed.keys { values[key] = nil }
        compact()
    }

    /// Forgets `key`, returning its value.
    mutating func remove(_ key: Key) -> Value? {
        guard let removed = values.removeValue(forKey: key) else { return nil }
        // Stale slots are skipped; compact once they outnumber the live ones.
        if order.count - head > 2 * values.count + 64 { compact() }
        return removed.value
    }

    mutating func set(_ key: Key, _ value: Value) {
        if let existing = values[key] {
            values[key] = (value, existing.slot)
        } else {
            values[key] = (value, nextSlot)
            order.append((key, nextSlot))
            nextSlot += 1
        }
        while values.count > limit, head < order.count {
            let oldest = order[head]
            if values[oldest.key]?.slot == oldest.slot { values[oldest.key] = nil }
            head += 1
        }
        // Compact the key list once most of it is forgotten.
        if head > limit { compact() }
    }

    private mutating func compact() {
        order = order[head...].filter { values[$0.key]?.slot == $0.slot }
        head = 0
    }
}

/// A binary min-heap (expiry and eviction orders, the template's candidates).
struct MinHeap<Element: Comparable & Sendable>: Sendable {
    private var items: [Element] = []

    init() {}

    /// Heapifies `elements` in linear time.
    init(_ elements: [Element]) {
        items = elements
        var index = items.count / 2
        while index > 0 {
            index -= 1
            siftDown(from: index)
        }
    }

    var count: Int { items.count }

    func peek() -> Element? { items.first }

    mutating func push(_ element: Element) {
        items.append(element)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child] < items[parent] else { break }
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
            var smallest = parent
            if left < items.count && items[left] < items[smallest] { smallest = left }
            if right < items.count && items[right] < items[smallest] { smallest = right }
            guard smallest != parent else { return }
            items.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
