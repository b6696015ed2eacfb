import ChainState

/// What a run (either mode) verified, passed over or stopped at, and where its time went.
public struct VerificationReport: Sendable {
    public var blocks = 0
    public var skipped = 0
    public var transactions = 0
    public var inputs = 0
    public var signatures = 0
    public var batches = 0
    public var drains = 0
    public var failure: String?
    public var malformed = false
    /// Stopped by `Options.shouldStop`.
    public var interrupted = false
    /// One line per input block neither connected nor already known (its parent never came,
    /// or too many blocks were waiting), and one per gap naming the missing parent.
    public var unconnected: [String] = []
    public var gaps: [String] = []
    public var reorganizations: [ChainState.Reorganization] = []
    public var knownInvalid = 0
    /// The rejected block of `failure` came from a datadir's own block file (`--reindex`
    /// may pass over it: the state knows it as invalid, and a rerun continues past it).
    public var failureInDatadirFile = false
    /// Rejections of blocks from a datadir's own files that a reindex passed over.
    public var passedOver: [String] = []

    /// Adds a rerun's counts to this report (`--reindex` reruns after passing over a block).
    public mutating func add(_ next: VerificationReport) {
        let earlierBlocks = blocks
        blocks += next.blocks
        transactions += next.transactions
        inputs += next.inputs
        signatures += next.signatures
        batches += next.batches
        drains += next.drains
        seconds += next.seconds
        knownInvalid += next.knownInvalid
        // The rerun skips what the earlier runs connected or passed over.
        skipped = max(0, next.skipped - earlierBlocks - passedOver.count)
        for (stage, value) in next.stageSeconds { stageSeconds[stage, default: 0] += value }
        (failure, malformed, interrupted, failureInDatadirFile) = (next.failure, next.malformed, next.interrupted, next.failureInDatadirFile)
        (unconnected, gaps) = (next.unconnected, next.gaps)
        reorganizations += next.reorganizations
        passedOver += next.passedOver
    }
    public var seconds = 0.0
    /// Busy seconds per stage: read, contextFree, utxo, signatures, commit; and the
    /// UTXO stage's waits: waitInput (starved), waitSignatures (back-pressure and drains).
    public var stageSeconds: [String: Double] = [:]

    public init() {}
}
