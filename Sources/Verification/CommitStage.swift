import ChainState
import Primitives

/// Stage 5, on the UTXO stage's thread: tracks the blocks connected with deferred signatures,
/// confirms them as their batches verify (their records join the next flush), rolls the
/// state back at a bad signature, and flushes only when nothing awaits verification.
final class CommitStage {
    /// A deferred block not confirmed yet: what to name and uncount if it is rolled back.
    private struct Origin {
        var name: String
        var transactions: Int
        var inputs: Int
        var signatures: Int
        var fromDatadir: Bool
        var hash: Hash256
        var height: UInt64
        var origin: String?
    }

    private let state: ChainState
    private let tally: ReportAccumulator
    private let signatureQueue: BoundedQueue<SignatureWork>
    private let resultQueue: BoundedQueue<SignatureResult>
    private var origins: [Origin] = []
    private var originsHead = 0
    /// A batch failed: the state is rolled back and the run must stop.
    private(set) var signatureFailed = false
    private(set) var verifiedSignatures = 0

    init(state: ChainState, tally: ReportAccumulator, signatureQueue: BoundedQueue<SignatureWork>, resultQueue: BoundedQueue<SignatureResult>) {
        self.state = state
        self.tally = tally
        self.signatureQueue = signatureQueue
        self.resultQueue = resultQueue
    }

    /// Hands a block connected with deferred signatures to the signature stage.
    func submit(_ connection: DeferredConnection, record: BlockSource.Record) {
        origins.append(Origin(name: record.name, transactions: connection.transactions, inputs: connection.inputs,
                              signatures: connection.signatures.count, fromDatadir: record.fromDatadir, hash: connection.hash,
                              height: connection.height, origin: record.origin))
        tally.connected(transactions: connection.transactions, inputs: connection.inputs, signatures: connection.signatures.count)
        let pushStart = StageClock.now
        signatureQueue.push(.block(connection), weight: connection.signatures.count + 1)
        tally.clock.add("waitSignatures", since: pushStart)
    }

    /// Applies the batch results that are in, without waiting.
    func poll() throws {
        while !signatureFailed, let result = resultQueue.tryPop() { try apply(result) }
    }

    /// Waits until every deferred block is verified (or one failed).
    func drain() throws {
        guard state.unverifiedCount > 0 && !signatureFailed else { return }
        tally.report.drains += 1
        let waitStart = StageClock.now
        signatureQueue.push(.drain, weight: 1)
        while true {
            guard let result = resultQueue.pop() else { break }
            if case .drained = result { break }
            if !signatureFailed { try apply(result) }
        }
        tally.clock.add("waitSignatures", since: waitStart)
    }

    /// Flushes when the cache is over its limit (after draining); false when a batch failed.
    func flushIfNeeded() throws -> Bool {
        guard state.needsFlush else { return true }
        try drain()
        if signatureFailed { return false }
        try tally.clock.measure("commit") { try state.flushIfNeededAndVerified() }
        return true
    }

    /// At the end: the final flush's sorting and encoding (and the UTXO digest) overlap the
    /// last signature batch (if that batch fails, the flush prepares again), then drains.
    func finish() throws {
        if !signatureFailed && state.unverifiedCount > 0 { try tally.clock.measure("commit") { try state.prepareFlush() } }
        try drain()
    }

    private func apply(_ result: SignatureResult) throws {
        switch result {
        case let .verified(count, signatures):
            try tally.clock.measure("commit") { try state.confirmDeferred(count) }
            verifiedSignatures += signatures
            originsHead += count
        case let .failed(index, location):
            let error = try state.rejectDeferred(index: index, location: location)
            let rejected = origins[originsHead + index]
            tally.fail("\(rejected.name): \(error)")
            tally.report.rejected = VerificationReport.RejectedBlock(hash: rejected.hash, height: rejected.height, origin: rejected.origin,
                                                                     record: rejected.name, malformed: false)
            tally.report.failureInDatadirFile = rejected.fromDatadir
            // The rejected block and every later one are not connected.
            for dropped in origins[(originsHead + index)...] {
                tally.disconnected(transactions: dropped.transactions, inputs: dropped.inputs, signatures: dropped.signatures)
            }
            signatureFailed = true
            origins.removeAll()
            originsHead = 0
        case .drained:
            break
        }
        if originsHead > 4096 { origins.removeFirst(originsHead); originsHead = 0 }
    }
}
