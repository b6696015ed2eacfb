import Foundation

/// A FIFO queue bounded by total weight; `close` wakes every waiter (pushes then fail,
/// pops drain what is left, then return nil).
final class BoundedQueue<Element>: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [(Element, Int)] = []
    private var head = 0
    private var weight = 0
    private var closed = false
    private let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    @discardableResult
    func push(_ element: Element, weight itemWeight: Int) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while !closed && weight > 0 && weight + itemWeight > capacity { condition.wait() }
        guard !closed else { return false }
        items.append((element, itemWeight))
        weight += itemWeight
        condition.broadcast()
        return true
    }

    func pop() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while head == items.count && !closed { condition.wait() }
        return take()
    }

    enum TimedPop {
        case item(Element)
        case timedOut
        case ended
    }

    /// Like `pop`, but gives up after `seconds` with nothing to take.
    func pop(waitingAtMost seconds: Double) -> TimedPop {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date(timeIntervalSinceNow: seconds)
        while head == items.count && !closed {
            if !condition.wait(until: deadline) { break }
        }
        if let element = take() { return .item(element) }
        return closed ? .ended : .timedOut
    }

    func tryPop() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        return take()
    }

    private func take() -> Element? {
        guard head < items.count else { return nil }
        let (element, itemWeight) = items[head]
        head += 1
        weight -= itemWeight
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 1024 {
            items.removeFirst(head)
            head = 0
        }
        condition.broadcast()
        return element
    }

    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}
