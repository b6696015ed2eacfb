import ChainState
import Primitives

/// The counters and stage timings of one run, kept in one place by whichever mode runs
/// (`VerificationPipeline`, `SequentialVerifier`). Counters are touched only on the thread
/// that connects blocks; `clock` takes the other stages' timings from any thread.
final class ReportAccumulator {
    var report = VerificationReport()
    let clock = StageClock()
    private let started = StageClock.now

    /// A block connected with `transactions`, `inputs` and `signatures`.
    func connected(transactions: Int, inputs: Int, signatures: Int) {
        report.blocks += 1
        report.transactions += transactions
        report.inputs += inputs
        report.signatures += signatures
    }

    /// A block `ChainState.accept` just connected.
    func connected(by state: ChainState) {
        connected(transactions: state.connectedTransactions, inputs: state.connectedInputs, signatures: state.connectedSignatures)
    }

    /// A connected block rolled back (a later bad signature in a deferred batch).
    func disconnected(transactions: Int, inputs: Int, signatures: Int) {
        report.blocks -= 1
        report.transactions -= transactions
        report.inputs -= inputs
        report.signatures -= signatures
    }

    /// Stops the run at a rejected block or malformed input.
    func fail(_ message: String, malformed: Bool = false) {
        report.failure = message
        if malformed { report.malformed = true }
    }

    /// Stops the run at `record`'s block, rejected (`hash`, `height`) or malformed (nil).
    func reject(_ record: BlockSource.Record, hash: Hash256?, height: UInt64?, message: String, malformed: Bool = false) {
        fail(message, malformed: malformed)
        report.rejected = VerificationReport.RejectedBlock(hash: hash, height: height, origin: record.origin, record: record.name,
                                                           malformed: malformed)
    }

    /// Seconds since the run began.
    var seconds: Double { Double(StageClock.now - started) / 1e9 }

    /// The finished report: what is left waiting (when the input ended normally), the
    /// reorganisations and, with `stages`, the batch count and busy time per stage.
    func finish(state: ChainState, order: BlockOrder, stages: Bool) -> VerificationReport {
        if report.failure == nil && !report.interrupted {
            (report.gaps, report.unconnected) = order.describeWaiting(state: state, alreadyReported: report.unconnected)
        }
        report.reorganizations = state.takeReorganizations()
        if stages {
            report.batches = clock.count("signatures")
            report.stageSeconds = clock.snapshot()
        }
        report.seconds = seconds
        return report
    }
}
