import Foundation

/// Per-index results written by concurrent workers (each index by exactly one).
final class ResultSlots<T>: @unchecked Sendable {
    private var storage: [T?]
    private let lock = NSLock()
    init(count: Int) { storage = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ value: T) { lock.lock(); storage[index] = value; lock.unlock() }
    var values: [T] { storage.map { $0! } }
}

/// Hands a value that is only read to another thread (the sources, whose `.stored` case
/// holds a ChainState that the read stage only reads).
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// Runs `body` on a named thread of its own (big stack: decoding recurses), counted in `group`.
func spawnStage(_ name: String, _ group: DispatchGroup, _ body: @escaping @Sendable () -> Void) {
    group.enter()
    let thread = Thread {
        body()
        group.leave()
    }
    thread.name = name
    thread.stackSize = 8 << 20
    thread.start()
}
