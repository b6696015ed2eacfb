import Foundation

/// Raw blocks handed to a running pipeline by another thread (the node's download side):
/// a FIFO bounded by bytes, so a producer that outruns verification waits instead of
/// buffering without limit. Read through `BlockSource.stream`.
///
/// The pipeline closes the stream when its run stops for any reason (a rejected block, an
/// interruption), so a producer blocked in `push` wakes up and sees `false`.
public final class BlockStream: @unchecked Sendable {
    /// Names the stream's records in messages (e.g. "peer 127.0.0.1:5000").
    public let label: String
    public let capacityBytes: Int

    private let condition = NSCondition()
    private var items: [(bytes: [UInt8], origin: String?)] = []
    private var head = 0
    private var bytes = 0
    private var finished = false
    private var closed = false
    /// Records handed to the reader so far (numbers them in messages, from 1).
    private var taken = 0

    public init(label: String, capacityBytes: Int) {
        self.label = label
        self.capacityBytes = max(1, capacityBytes)
    }

    /// Queues one raw block (`origin`: which peer sent it, named if it is rejected). Waits
    /// while the buffered bytes would exceed the capacity; a block larger than the whole
    /// capacity is still taken once the queue is empty (else it could never pass).
    /// False, and nothing queued, once the stream is closed or finished.
    @discardableResult
    public func push(_ block: [UInt8], origin: String? = nil) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while !closed && !finished && bytes > 0 && bytes + block.count > capacityBytes { condition.wait() }
        guard !closed && !finished else { return false }
        items.append((block, origin))
        bytes += block.count
        condition.broadcast()
        return true
    }

    /// No more blocks: the reader ends once it has taken what is queued.
    public func finish() {
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    /// Aborts: queued blocks are dropped, `push` returns false, the reader ends.
    public func close() {
        condition.lock()
        closed = true
        items.removeAll()
        head = 0
        bytes = 0
        condition.broadcast()
        condition.unlock()
    }

    public var bufferedBytes: Int { condition.withLock { bytes } }
    public var bufferedCount: Int { condition.withLock { items.count - head } }
    public var isClosed: Bool { condition.withLock { closed } }

    /// One record taken by the reader, numbered from 1.
    struct Taken {
        var number: Int
        var bytes: [UInt8]
        var origin: String?
    }

    /// Waits for at least one block, then takes what is queued up to `maxCount` blocks or
    /// `maxBytes` bytes (at least one), without waiting for more: a chunk goes down the
    /// pipeline as soon as the network has delivered anything, never held back to fill up.
    /// Empty once the stream is finished and drained, or closed.
    func take(maxCount: Int, maxBytes: Int) -> [Taken] {
        condition.lock()
        defer { condition.unlock() }
        while head == items.count && !finished && !closed { condition.wait() }
        var result = [Taken](), size = 0
        while head < items.count && result.count < maxCount && (result.isEmpty || size + items[head].bytes.count <= maxBytes) {
            let item = items[head]
            items[head].bytes = []  // the reader owns the bytes now
            head += 1
            taken += 1
            size += item.bytes.count
            bytes -= item.bytes.count
            result.append(Taken(number: taken, bytes: item.bytes, origin: item.origin))
        }
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 1024 {
            items.removeFirst(head)
            head = 0
        }
        if !result.isEmpty { condition.broadcast() }
        return result
    }
}
