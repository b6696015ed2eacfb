import Atomics
import ChainState
import Consensus
import Ed25519
import Foundation

/// Bulk verification as a staged pipeline (docs/DESIGN section 5), each stage on its own
/// threads, joined by bounded queues:
///
///     read -> decode + context-free rules (parallel) -> UTXO + scripts (block order, caller's thread)
///          -> signature batches spanning blocks (own thread, `threads` workers) -> commit
///
/// When no core is left beside the signature workers, decoding runs on the UTXO stage's
/// thread instead (`Options.contextFreeInline`), so the signature stage keeps its cores.
///
/// Blocks that extend the tip are connected with their signatures deferred
/// (`ChainState.connectDeferred`); the signature stage verifies them behind the UTXO stage
/// in batches of about `batchSize`. Nothing reaches the database before its signatures
/// verified: the UTXO stage drains the signature stage before every flush, before any block
/// that is not a plain tip extension (it then goes through `ChainState.accept`), and at the
/// end. A failed batch names its first bad signature (the per-item results of
/// `Ed25519.verifyBatch`); the chain state is rolled back to the block before it.
///
/// This type only wires the stages (ReadStage, ContextFreeStage, UTXOStage, SignatureStage,
/// CommitStage) and shuts them down; each lives in its own file.
public final class VerificationPipeline {
    /// One batch verifier: one verdict per item, in order (e.g. `Ed25519.verifyBatch`).
    public typealias Verifier = @Sendable (SignatureBatch) throws -> [Bool]
    public typealias Source = BlockSource
    public typealias Report = VerificationReport
    public typealias Progress = VerificationProgress
    public typealias RejectedBlock = VerificationReport.RejectedBlock

    let state: ChainState
    let options: Options

    public init(state: ChainState, options: Options) {
        self.state = state
        self.options = options
    }

    /// Runs every source through the pipeline; stops at the first rejected block or malformed
    /// record (everything before it is connected and verified, nothing after it is).
    /// The state is left unflushed (the caller's `utxoSummary` or `flush` persists it).
    public func run(_ sources: [BlockSource], progress: ((VerificationProgress) -> Void)? = nil) throws -> VerificationReport {
        let tally = ReportAccumulator()
        let cancelled = ManagedAtomic(false)
        let busy = ManagedAtomic(false)
        let readQueue = BoundedQueue<ReadItem>(capacity: 4)
        let parsedQueue = BoundedQueue<[Parsed]>(capacity: 4)
        let signatureQueue = BoundedQueue<SignatureWork>(capacity: 2 * options.batchSize + 64)
        let resultQueue = BoundedQueue<SignatureResult>(capacity: Int.max)
        let group = DispatchGroup()
        let clock = tally.clock
        let totalUnits = BlockSource.totalUnits(sources)

        let sourceBox = UncheckedBox(sources)
        let chunkBlocks = options.chunkBlocks, magic = state.parameters.magic
        spawnStage("rusty-read", group) {
            ReadStage.run(sourceBox.value, magic: magic, chunkBlocks: chunkBlocks, into: readQueue, clock: clock, cancelled: cancelled)
        }
        if !options.contextFreeInline {
            let parameters = state.parameters, threads = options.contextFreeThreads
            spawnStage("rusty-context-free", group) {
                ContextFreeStage.run(from: readQueue, into: parsedQueue, parameters: parameters, threads: threads, clock: clock)
            }
        }
        let verifier = options.verifier, batchSize = options.batchSize
        spawnStage("rusty-signatures", group) {
            SignatureStage.run(from: signatureQueue, into: resultQueue, verifier: verifier, batchSize: batchSize, busy: busy, clock: clock)
        }

        let commit = CommitStage(state: state, tally: tally, signatureQueue: signatureQueue, resultQueue: resultQueue)
        let utxo = UTXOStage(state: state, options: options, tally: tally, commit: commit, readQueue: readQueue, parsedQueue: parsedQueue,
                             busy: busy, totalUnits: totalUnits, progress: progress)
        utxo.drainWhenIdle = sources.contains { if case .stream = $0 { true } else { false } }
        /// Stops the other stages and waits for their threads.
        func shutDown() {
            cancelled.store(true, ordering: .releasing)
            // Wakes a read stage waiting on a stream (and its producer: pushes now fail).
            for case .stream(let stream) in sources { stream.close() }
            readQueue.close()
            parsedQueue.close()
            signatureQueue.push(.end, weight: 0)
        }
        do {
            try utxo.run()
        } catch {
            shutDown()
            signatureQueue.close()
            group.wait()
            throw error
        }
        shutDown()
        group.wait()
        return tally.finish(state: state, order: utxo.order, stages: true)
    }

    /// Runs block files (records with the magic of the state's network).
    public func run(files: [String], progress: ((VerificationProgress) -> Void)? = nil) throws -> VerificationReport {
        try run(files.map { .file($0) }, progress: progress)
    }
}
