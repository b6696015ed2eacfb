import Atomics
import Foundation

/// Stage 1: reads the sources' records into chunks (the unit of the parallel context-free
/// stage), up to `chunkBlocks` blocks or 8 MiB each.
enum ReadStage {
    static func run(_ sources: [BlockSource], magic: [UInt8], chunkBlocks: Int, into queue: BoundedQueue<ReadItem>, clock: StageClock,
                    cancelled: ManagedAtomic<Bool>) {
        var chunk = [BlockSource.Record]()
        var chunkBytes = 0
        var started = StageClock.now
        func emit() -> Bool {
            clock.add("read", since: started)
            defer { started = StageClock.now }
            guard !chunk.isEmpty else { return !cancelled.load(ordering: .acquiring) }
            let ok = queue.push(.chunk(chunk), weight: 1)
            chunk.removeAll(keepingCapacity: true)
            chunkBytes = 0
            return ok && !cancelled.load(ordering: .acquiring)
        }
        do {
            for source in sources {
                if case .stream(let stream) = source {
                    // A chunk as soon as anything came (never waiting to fill one); the time
                    // spent waiting for the network is not read time.
                    guard emit() else { throw CancellationError() }
                    while true {
                        let taken = stream.take(maxCount: chunkBlocks, maxBytes: 8 << 20)
                        started = StageClock.now
                        guard !taken.isEmpty else { break }
                        chunk = taken.map { BlockSource.Record(stream: stream, $0) }
                        guard emit() else { throw CancellationError() }
                    }
                    continue
                }
                try source.forEachRecord(magic: magic) { record in
                    chunk.append(record)
                    chunkBytes += record.bytes.count
                    if chunk.count >= chunkBlocks || chunkBytes >= 8 << 20 {
                        guard emit() else { throw CancellationError() }
                    }
                }
            }
            _ = emit()
        } catch is CancellationError {
        } catch {
            // What was read before the bad record still goes through.
            _ = emit()
            queue.push(.failure("\(error)"), weight: 1)
        }
        queue.close()
    }
}
