import Consensus
import Foundation
import Primitives

/// Stage 2: decodes each chunk and runs the context-free rules, in parallel within the chunk.
enum ContextFreeStage {
    /// Runs on a thread of its own until `input` ends.
    static func run(from input: BoundedQueue<ReadItem>, into output: BoundedQueue<[Parsed]>, parameters: ConsensusParameters, threads: Int,
                    clock: StageClock) {
        while let item = input.pop() {
            guard output.push(parse(item, parameters: parameters, threads: threads, clock: clock), weight: 1) else { break }
        }
        output.close()
    }

    /// Decodes a chunk of records and runs the context-free rules on `threads` threads.
    static func parse(_ item: ReadItem, parameters: ConsensusParameters, threads: Int, clock: StageClock) -> [Parsed] {
        switch item {
        case .failure(let message):
            return [.readFailure(message)]
        case .chunk(let records):
            let started = StageClock.now
            defer { clock.add("contextFree", since: started) }
            let results = ResultSlots<Parsed>(count: records.count)
            let workers = min(threads, records.count)
            let work: @Sendable (Int) -> Void = { worker in
                var index = worker
                while index < records.count {
                    results.set(index, parse(records[index], parameters: parameters))
                    index += workers
                }
            }
            if workers <= 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: workers, execute: work) }
            return results.values
        }
    }

    static func parse(_ record: BlockSource.Record, parameters: ConsensusParameters) -> Parsed {
        do {
            let (block, spans) = try Block.decodeWithSpans(record.bytes)
            let checked = try? ContextFreeRules.check(block, encodedSize: record.bytes.count, parameters: parameters,
                                                      encoded: record.bytes, spans: spans)
            return .block(block, checked: checked, record: record)
        } catch {
            var named = record
            named.bytes = []  // only its name and origin are needed now
            return .malformed("\(record.malformedName): \(error)", record: named)
        }
    }
}
