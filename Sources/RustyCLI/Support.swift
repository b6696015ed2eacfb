import Foundation

extension NSLock {
    func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }
}

func activeProcessorCount() -> Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }
