import ChainState
import Foundation
import Primitives

/// Block-by-block verification: `ChainState.accept` verifies each block's signatures before
/// the next. It reads through the same `BlockSource`s, orders blocks by the same
/// `BlockOrder` and reports through the same `ReportAccumulator` as the pipeline. Unlike a
/// pipeline run, it passes over an invalid block of a datadir's own files itself (`--reindex`).
public struct SequentialVerifier {
    /// Called after each record with the state's tip height and the report so far.
    public typealias Progress = (_ height: UInt64, _ report: VerificationReport, _ seconds: Double) -> Void

    public var maxWaitingBytes = 256 << 20
    /// Blocks already judged invalid: passed over, counted in `knownInvalid`.
    public var knownInvalid: Set<Hash256> = []
    /// Polled once per record: true stops the run cleanly.
    public var shouldStop: () -> Bool = { false }

    private let state: ChainState

    public init(state: ChainState) { self.state = state }

    /// Verifies every source in order; stops at the first rejected block (not of a datadir's
    /// files) or malformed record. The state is left unflushed.
    public func run(_ sources: [BlockSource], progress: Progress? = nil) throws -> VerificationReport {
        let tally = ReportAccumulator()
        var order = BlockOrder(maxWaitingBytes: maxWaitingBytes, knownInvalid: knownInvalid)
        for source in sources {
            do {
                try source.forEachRecord(magic: state.parameters.magic) { record in
                    guard try verify(record, order: &order, tally: tally) else { throw CancellationError() }
                    progress?(state.tip.height, tally.report, tally.seconds)
                }
            } catch is CancellationError {
                break
            } catch {
                tally.fail("\(error)", malformed: true)
                break
            }
        }
        // Nothing reads a stream past this point: its producer must not wait on it.
        for case .stream(let stream) in sources { stream.close() }
        return tally.finish(state: state, order: order, stages: false)
    }

    /// Decodes and connects one record's block, then any that waited for it; false when the run must stop.
    private func verify(_ record: BlockSource.Record, order: inout BlockOrder, tally: ReportAccumulator) throws -> Bool {
        if shouldStop() { tally.report.interrupted = true; return false }
        let block: Block
        do {
            block = try Block(decoding: record.bytes)
        } catch {
            tally.reject(record, hash: nil, height: nil, message: "\(record.malformedName): \(error)", malformed: true)
            return false
        }
        var work = [PendingBlock(block: block, checked: nil, record: record)]
        while let pending = work.popLast() {
            guard order.isNew(pending.block, in: state, tally: tally) else { continue }
            if order.holdIfOrphan(pending, in: state, tally: tally) { continue }
            do {
                if try state.accept(pending.block, encodedSize: pending.record.bytes.count) == .connected { tally.connected(by: state) }
            } catch let error as ChainStateError {
                if case .rejected = error, pending.record.fromDatadir {
                    // A reindex passes over its files' invalid blocks (and, as they come, their children).
                    tally.report.passedOver.append("\(pending.record.name): \(error)")
                } else if case let .rejected(_, height, hash) = error {
                    tally.reject(pending.record, hash: hash, height: height, message: "\(pending.record.name): \(error)")
                    return false
                } else {
                    tally.fail("\(pending.record.name): \(error)")
                    return false
                }
            }
            work += order.released(by: pending.block.hash)
        }
        return true
    }
}
