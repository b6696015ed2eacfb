import ChainState
import Primitives

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
    /// The block `failure` names, when it is a rejected or malformed block (not a read error
    /// or a storage failure): what a node needs to act on the peer that sent it.
    public var rejected: RejectedBlock?
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
        rejected = next.rejected
        (unconnected, gaps) = (next.unconnected, next.gaps)
        reorganizations += next.reorganizations
        passedOver += next.passedOver
    }
    public var seconds = 0.0
    /// Busy seconds per stage: read, contextFree, utxo, signatures, commit; and the
    /// UTXO stage's waits: waitInput (starved), waitSignatures (back-pressure and drains).
    public var stageSeconds: [String: Double] = [:]

    public init() {}

    /// The block that stopped a run, as structured fields.
    public struct RejectedBlock: Sendable, Equatable {
        /// Nil when the record did not decode (`malformed`).
        public var hash: Hash256?
        public var height: UInt64?
        /// Who supplied it (`BlockStream.push(_:origin:)`); nil for files and stored chains.
        public var origin: String?
        /// How messages name its record (e.g. "peer A: block 7 of the stream (from 10.0.0.1:5000)").
        public var record: String
        public var malformed: Bool

        public init(hash: Hash256?, height: UInt64?, origin: String?, record: String, malformed: Bool) {
            (self.hash, self.height, self.origin, self.record, self.malformed) = (hash, height, origin, record, malformed)
        }
    }
}
