import Atomics
import ChainState
import Consensus
import Primitives

/// Stage 3, on the caller's thread: UTXO resolution and scripts in block order. A block that
/// extends the tip is connected with its signatures deferred (to the commit stage); any other
/// (side branch, reorganisation, a rule the deferred path rejected) drains the signature
/// stage first and goes through `ChainState.accept`.
final class UTXOStage {
    private let state: ChainState
    private let options: VerificationPipeline.Options
    private let parameters: ConsensusParameters
    private let tally: ReportAccumulator
    private let commit: CommitStage
    private let readQueue: BoundedQueue<ReadItem>
    private let parsedQueue: BoundedQueue<[Parsed]>
    private let busy: ManagedAtomic<Bool>
    private let progress: ((VerificationProgress) -> Void)?
    private let totalUnits: Int
    private(set) var order: BlockOrder
    private var unitsDone = 0
    /// Verify what is deferred once the input has been dry for `idleDrainSeconds` (a stream
    /// waiting on the network) instead of only at the next full batch, so the verified
    /// height (and what a flush may persist) keeps up with the tip while the node waits.
    /// Not on every momentary gap: a drain cuts a batch short, and batches spanning many
    /// blocks are what makes bulk verification fast.
    var drainWhenIdle = false
    private let idleDrainSeconds = 0.05
    private let started = StageClock.now

    init(state: ChainState, options: VerificationPipeline.Options, tally: ReportAccumulator, commit: CommitStage,
         readQueue: BoundedQueue<ReadItem>, parsedQueue: BoundedQueue<[Parsed]>, busy: ManagedAtomic<Bool>, totalUnits: Int,
         progress: ((VerificationProgress) -> Void)?) {
        self.state = state
        self.options = options
        self.parameters = state.parameters
        self.tally = tally
        self.commit = commit
        self.readQueue = readQueue
        self.parsedQueue = parsedQueue
        self.busy = busy
        self.totalUnits = totalUnits
        self.progress = progress
        order = BlockOrder(maxWaitingBytes: options.maxWaitingBytes, knownInvalid: options.knownInvalid)
    }

    /// Consumes the input until it ends or the run stops (failure, bad signature, `shouldStop`).
    func run() throws {
        outer: while let batch = try nextBatch() {
            for item in batch {
                try commit.poll()
                if commit.signatureFailed { break outer }
                if let shouldStop = options.shouldStop, shouldStop() { tally.report.interrupted = true; break outer }
                switch item {
                case let .malformed(message, record):
                    // An earlier bad signature is the error to report.
                    try commit.drain()
                    if !commit.signatureFailed { tally.reject(record, hash: nil, height: nil, message: message, malformed: true) }
                    break outer
                case .readFailure(let message):
                    try commit.drain()
                    if !commit.signatureFailed { tally.fail(message, malformed: true) }
                    break outer
                case let .block(block, checked, record):
                    unitsDone += record.units
                    guard try connect(PendingBlock(block: block, checked: checked, record: record)) else { break outer }
                }
            }
        }
        try commit.finish()
    }

    /// The next decoded chunk, decoded here when the context-free stage runs inline.
    private func nextBatch() throws -> [Parsed]? {
        if drainWhenIdle && state.unverifiedCount > 0 {
            let waitStart = StageClock.now
            if options.contextFreeInline {
                switch readQueue.pop(waitingAtMost: idleDrainSeconds) {
                case .item(let item):
                    tally.clock.add("waitInput", since: waitStart)
                    return ContextFreeStage.parse(item, parameters: parameters, threads: 1, clock: tally.clock)
                case .ended: return nil
                case .timedOut: break
                }
            } else {
                switch parsedQueue.pop(waitingAtMost: idleDrainSeconds) {
                case .item(let parsed):
                    tally.clock.add("waitInput", since: waitStart)
                    return parsed
                case .ended: return nil
                case .timedOut: break
                }
            }
            tally.clock.add("waitInput", since: waitStart)
            try commit.drain()
            if commit.signatureFailed { return nil }
        }
        let waitStart = StageClock.now
        if options.contextFreeInline {
            guard let item = readQueue.pop() else { return nil }
            tally.clock.add("waitInput", since: waitStart)
            return ContextFreeStage.parse(item, parameters: parameters, threads: 1, clock: tally.clock)
        }
        guard let parsed = parsedQueue.pop() else { return nil }
        tally.clock.add("waitInput", since: waitStart)
        return parsed
    }

    /// Connects the block, then any that waited for it (parents always before children);
    /// false when the run must stop.
    private func connect(_ first: PendingBlock) throws -> Bool {
        var work = [first]
        while let pending = work.popLast() {
            let block = pending.block
            guard order.isNew(block, in: state, tally: tally) else { continue }
            var handled = false
            if let checked = pending.checked, state.canConnectDeferred(block) {
                let utxoStart = StageClock.now
                do {
                    let connection = try state.connectDeferred(block, txids: checked.txids, witnessRoot: checked.witnessRoot,
                                                                encoded: pending.record.bytes)
                    tally.clock.add("utxo", since: utxoStart)
                    commit.submit(connection, record: pending.record)
                    handled = true
                } catch is ChainStateError {
                    tally.clock.add("utxo", since: utxoStart)
                    // Settle first: an earlier bad signature is the error to report.
                    // Then `accept` repeats the check and records the block as invalid.
                }
            }
            // Its parent may come later: it waits (`work` resumes it then).
            if !handled && order.holdIfOrphan(pending, in: state, tally: tally) { continue }
            if !handled {
                try commit.drain()
                if commit.signatureFailed { return false }
                let utxoStart = StageClock.now
                do {
                    if try state.accept(block, encodedSize: pending.record.bytes.count) == .connected { tally.connected(by: state) }
                    tally.clock.add("utxo", since: utxoStart)
                } catch let error as ChainStateError {
                    if case let .rejected(_, height, hash) = error {
                        tally.reject(pending.record, hash: hash, height: height, message: "\(pending.record.name): \(error)")
                        tally.report.failureInDatadirFile = pending.record.fromDatadir
                    } else {
                        tally.fail("\(pending.record.name): \(error)")
                    }
                    return false
                }
            }
            work += order.released(by: block.hash)
            guard try commit.flushIfNeeded() else { return false }
            if let progress { progress(snapshot()) }
        }
        return true
    }

    private func snapshot() -> VerificationProgress {
        return VerificationProgress(height: state.tip.height, verifiedHeight: state.verifiedHeight, blocks: tally.report.blocks,
                                    transactions: tally.report.transactions, inputs: tally.report.inputs,
                                    signatures: tally.report.signatures,
                                    verifiedSignatures: commit.verifiedSignatures, seconds: Double(StageClock.now - started) / 1e9,
                                    fraction: totalUnits > 0 ? min(1, Double(unitsDone) / Double(totalUnits)) : 0,
                                    backend: options.backendName, signatureStageBusy: busy.load(ordering: .relaxed))
    }
}
