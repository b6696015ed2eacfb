// The transaction pool: its state, and acceptance against chain state plus pool (the same
// contextual rules as blocks). Tip events, queries, block-template selection and the P2P
// interface are in Mempool+TipEvents.swift, Mempool+Queries.swift and Mempool+Relay.swift.

import ChainState
import Consensus
import Foundation
import Primitives
import Governance
import Quorums

/// Unconfirmed transactions that would be valid in the next block, under relay policy.
///
/// Thread-safe (RPC tasks and the P2P layer call it) behind two locks, described at `admission`.
/// Lock order: `admission`, then the chain's writer, then `lock` (nothing here is called under
/// the writer), so acceptance reads coins, the tip and its median-time-past as of one tip;
/// `queueLock` (single submissions waiting, see `submit`) is a leaf: held for moments, nothing taken under it.
/// Tip events arrive after the chain published them; the pool applies them in order
/// (`start()`) and reports the tip it is valid on (`selection(maxBytes:)`, `tip`), so a
/// template is built from pool transactions only on that tip.
///
/// Acceptance (Mempool+Batch.swift, Mempool+Staging.swift) checks transactions in batches:
/// the chain's writer once per chunk, signatures as one batch; full replace-by-fee
/// (Mempool+Replacement.swift) and Bitcoin Core's package limits (Mempool+PackageLimits.swift).
public final class Mempool: TransactionPool, @unchecked Sendable {
    public let chain: ChainService
    public let parameters: ConsensusParameters
    public let policy: MempoolPolicy
    /// The governed parameters in force for the block after `syncedTip` (PROTOCOL section
    /// 18): refreshed on every tip event; guarded by `lock`.
    var governed: GovernedParameters
    /// A fixed finality depth instead of the governed one (nil: governed; tests fix it).
    let fixedFinalityDepth: UInt64?
    /// Fed by the pool (entries, removals, blocks); answers `estimatesmartfee`.
    public let feeEstimator = FeeEstimator()
    /// Wall clock in unix seconds (entry times, rejection times).
    let now: @Sendable () -> UInt64

    /// Two locks so that readers (the P2P event loop's `wants`, `transaction(wtxid:)`,
    /// `inventory`) never wait behind the chain writer: `admission` serialises every change
    /// (admissions and tip events), which may hold the chain's writer for a while; `lock`
    /// guards the fields for readers and is held only for moments. A change holds both while
    /// it writes; code holding `admission` may read the fields without `lock`, since nothing
    /// else can write them then.
    let admission = NSLock()
    let lock = NSLock()
    var pool: [Hash256: MempoolEntry] = [:]
    /// Entry order (a counter), so listings and re-validation keep parents before children.
    var arrival: [Hash256: UInt64] = [:]
    var nextArrival: UInt64 = 0
    var txidByWtxid: [Hash256: Hash256] = [:]
    var spenders: [OutPoint: Hash256] = [:]
    var children: [Hash256: Set<Hash256>] = [:]
    /// Which pool transaction holds each masternode resource, and the special transactions
    /// (Mempool+Masternodes.swift).
    var masternodeClaims: [MasternodeClaim: Hash256] = [:]
    var specialTxids: Set<Hash256> = []
    /// Quorum commitments waiting for a block, one per quorum (Mempool+Quorums).
    var quorumCommitments: [QuorumKey: MempoolEntry] = [:]
    /// Governance votes waiting for a block, one per (proposal, masternode), and their slots
    /// by txid and wtxid (relay looks them up per announcement) (Mempool+Governance).
    var governanceVotes: [GovernanceVoteKey: MempoolEntry] = [:]
    var governanceVoteKeys: [Hash256: GovernanceVoteKey] = [:]
    var poolBytes = 0
    var poolFees: UInt64 = 0
    var changeCount: UInt64 = 0
    /// Why a txid was last refused (for `rejection(txid:)`; informational).
    var rejections: BoundedRecord<Hash256, (rejection: MempoolRejection, time: UInt64)>
    /// txids refused for a reason no witness can change: their children are refused, not
    /// held as orphans. Witness-dependent failures stay keyed by wtxid (`rejectedWtxids`), so
    /// a malleated copy cannot poison an honest transaction.
    var invalidTxids: BoundedRecord<Hash256, Bool>
    /// wtxids of transactions that broke a rule no later block can fix: not fetched again.
    var rejectedWtxids: BoundedRecord<Hash256, Bool>
    /// Lifecycles of transactions not in the pool (count-bounded); pooled ones are in
    /// `pooledHistories`, so no flood of rejections can erase them.
    var histories: BoundedRecord<Hash256, [TransactionEvent]>
    /// Lifecycles of pooled transactions: moved into `histories` when they leave.
    var pooledHistories: [Hash256: [TransactionEvent]] = [:]
    /// Transactions of blocks disconnected by a reorganisation in progress, bounded by bytes
    /// (Mempool+Reorganisation.swift).
    var disconnected = DisconnectedTransactions()
    /// Per entry: it and its in-pool descendants (fees, bytes, count), kept up to date on
    /// insert and removal; the eviction order's key (Mempool+Limits.swift).
    var descendantTotals: [Hash256: Package] = [:]
    /// Entries by eviction score, with lazy invalidation (see `limitSize`).
    var evictionQueue = MinHeap<EvictionCandidate>()
    /// Entries by entry time, earliest on top, with lazy invalidation (see `expire`).
    var expiryQueue = MinHeap<EntryExpiry>()
    /// Ancestors whose descendant totals must be summed again after a removal.
    var pendingRescore = Set<Hash256>()
    var follower: Task<Void, Never>?
    /// The chain tip the pool's contents are valid on top of (the last tip event applied).
    var syncedTip: Hash256
    /// Between a reorganisation's first `disconnected` event and its `reorganized` summary.
    var reorganizing = false
    /// The size limit (Mempool+Limits.swift): Core's rolling minimum fee rate (per 1,000
    /// bytes), raised by evictions and decaying with `minimumFeeHalfLifeSeconds` once a block
    /// came after the last raise.
    var rollingMinimumFeeRate: Double = 0
    var lastRollingFeeUpdate: UInt64 = 0
    var blockSinceLastRollingFeeBump = false
    /// txids in the last block template handed out (the lifecycle's `pending`).
    var templateTxids: Set<Hash256> = []
    /// Relayed transactions waiting for a parent. Guarded by `lock` alone (the P2P layer
    /// drops a peer's orphans without waiting for `admission`).
    var orphans: OrphanPool
    /// Single submissions waiting to join a batch (group commit, see `submit`).
    let queueLock = NSLock()
    var queued: [QueuedSubmission] = []

    /// `finalityDepth` fixes the lifecycle's depth; nil (a node) follows the governed value.
    public init(chain: ChainService, parameters: ConsensusParameters, policy: MempoolPolicy = .init(), finalityDepth: UInt64? = nil,
                now: @escaping @Sendable () -> UInt64 = { UInt64(Date().timeIntervalSince1970) }) {
        self.chain = chain
        self.parameters = parameters
        self.policy = policy
        fixedFinalityDepth = finalityDepth
        governed = Self.parametersForNextBlock(chain)
        self.now = now
        rejections = BoundedRecord(limit: policy.rejectionMemory)
        rejectedWtxids = BoundedRecord(limit: policy.rejectionMemory)
        invalidTxids = BoundedRecord(limit: policy.rejectionMemory)
        histories = BoundedRecord(limit: policy.rejectionMemory)
        orphans = OrphanPool(maxCount: policy.maxOrphans, maxTransactionBytes: policy.maxTransactionBytes,
                             expirySeconds: policy.orphanExpirySeconds)
        syncedTip = chain.snapshot.tipHash
    }

    deinit { follower?.cancel() }

    // MARK: Lifecycle

    /// Follows the chain's tip events (blocks connected and disconnected) until `stop()`.
    public func start() {
        let events = chain.tipEvents()
        let task = Task { [weak self] in
            for await event in events {
                guard let self else { return }
                self.apply(event)
            }
        }
        lock.withLock {
            follower?.cancel()
            follower = task
        }
    }

    public func stop() {
        let task = lock.withLock { defer { follower = nil }; return follower }
        task?.cancel()
    }

    // MARK: Acceptance

    /// Checks `transaction` and adds it to the pool. `source` names where it came from (a
    /// peer's label, "rpc", "wallet") for logs. Concurrent callers join one batch (group
    /// commit): each enqueues and waits for `admission`; whoever gets it first checks
    /// everything queued by then as one batch (one signature batch) and hands each caller its
    /// verdict, so bursts of `sendrawtransaction` ride the batch verifier too.
    public func submit(_ transaction: Transaction, source: String) -> MempoolResult {
        let submission = QueuedSubmission(transaction)
        queueLock.withLock { queued.append(submission) }
        return admission.withLock {
            // A caller that held `admission` before took everything queued, this one included,
            // or nobody did yet and this caller takes it now: one pass at most.
            while true {
                if let result = submission.result { return result }
                let waiting = queueLock.withLock { () -> [QueuedSubmission] in
                    defer { queued.removeAll() }
                    return queued
                }
                let admissions = admitBatch(waiting.map(\.transaction), times: nil, options: .submission)
                for (waiter, admission) in zip(waiting, admissions) { waiter.result = admission.result }
            }
        }
    }

    /// Checks `batch` in order and adds what passes, one verdict per transaction, in order; a
    /// transaction may spend outputs of earlier ones. Signatures are verified as one batch per
    /// chunk: a bad signature refuses its transaction (`RuleName.scriptSignature`, naming the input)
    /// and its descendants in the batch (missing inputs), the rest are judged on their own.
    /// `entryTimes` (mempool.dat) are the entry times to record, per transaction; nil: now.
    public func submit(batch: [Transaction], source: String, entryTimes: [UInt64]? = nil) -> [MempoolResult] {
        admission.withLock {
            admitBatch(batch, times: entryTimes, options: entryTimes == nil ? .submission : .reload).map(\.result)
        }
    }

    /// The same checks as `submit` (replacement included); adds and records nothing.
    public func test(_ transaction: Transaction) -> MempoolResult {
        admission.withLock { admitBatch([transaction], times: nil, options: .test)[0].result }
    }

    /// One transaction through `admitBatch` as a reorganisation returns it (`add`) or as
    /// `test` judges it (not `add`): no replacement, no dynamic minimum fee, nothing recorded
    /// (the caller records). Call holding `admission` (not `lock`).
    func admit(_ transaction: Transaction, time: UInt64, add: Bool) -> MempoolResult {
        admitBatch([transaction], times: [time], options: add ? .reorganization : .test)[0].result
    }

    /// A single submission waiting to join the next batch (see `submit`). `result` is written
    /// and read holding `admission`.
    final class QueuedSubmission: @unchecked Sendable {
        let transaction: Transaction
        var result: MempoolResult?

        init(_ transaction: Transaction) { self.transaction = transaction }
    }

    func insert(_ entry: MempoolEntry) {
        pool[entry.txid] = entry
        arrival[entry.txid] = nextArrival
        nextArrival += 1
        txidByWtxid[entry.wtxid] = entry.txid
        for outpoint in entry.spentOutpoints { spenders[outpoint] = entry.txid }
        for parent in entry.depends { children[parent, default: []].insert(entry.txid) }
        indexClaims(of: entry)
        poolBytes += entry.size
        poolFees += entry.fee.baseUnits
        changeCount += 1
        if pooledHistories[entry.txid] == nil, let history = histories.remove(entry.txid) { pooledHistories[entry.txid] = history }
        indexInserted(entry)
    }

    /// Removes one entry (its descendants stay; the caller handles them).
    func removeEntry(_ txid: Hash256) {
        guard let entry = pool[txid] else { return }
        // Before it leaves: its ancestors are reachable through it.
        indexRemoving(entry)
        pool[txid] = nil
        arrival[txid] = nil
        txidByWtxid[entry.wtxid] = nil
        for outpoint in entry.spentOutpoints where spenders[outpoint] == txid { spenders[outpoint] = nil }
        for parent in entry.depends { children[parent]?.remove(txid) }
        unindexClaims(of: entry)
        // Children of a confirmed transaction now spend a chain output.
        for child in children.removeValue(forKey: txid) ?? [] { pool[child]?.depends.removeAll { $0 == txid } }
        poolBytes -= entry.size
        poolFees -= entry.fee.baseUnits
        changeCount += 1
        if let history = pooledHistories.removeValue(forKey: txid) { histories.set(txid, history) }
        rescorePending()
    }

    /// Removes `txid` and everything in the pool that spends it, directly or not, recording
    /// `state` (with `detail`) in each one's history; returns the removed entries.
    @discardableResult
    func removeWithDescendants(_ txid: Hash256, as state: TransactionEvent.State, detail: String, time: UInt64) -> [MempoolEntry] {
        var removed = [MempoolEntry]()
        // Latest arrival first (arrival order is topological): each leaves with no in-pool
        // descendants, so its ancestors' descendant totals lose exactly it.
        let members = descendantSet(of: txid).sorted { (arrival[$0] ?? 0) > (arrival[$1] ?? 0) }
        for member in members {
            guard let entry = pool[member] else { continue }
            removeEntry(member)
            removed.append(entry)
            record(member, TransactionEvent(state: state, time: time, detail: detail))
        }
        return removed.reversed()
    }

    func record(_ txid: Hash256, _ event: TransactionEvent) {
        if pool[txid] != nil {
            var history = pooledHistories[txid] ?? histories.remove(txid) ?? []
            Self.append(event, to: &history)
            pooledHistories[txid] = history
        } else {
            // Left the pool without `removeEntry` (a reorganisation empties it at once).
            var history = pooledHistories.removeValue(forKey: txid) ?? histories[txid] ?? []
            Self.append(event, to: &history)
            histories.set(txid, history)
        }
    }

    /// What the pool recorded of `txid`, oldest first. Call holding `lock` or `admission`.
    func recordedHistory(_ txid: Hash256) -> [TransactionEvent]? { pooledHistories[txid] ?? histories[txid] }

    private static func append(_ event: TransactionEvent, to history: inout [TransactionEvent]) {
        history.append(event)
        // A transaction bounced between pool and blocks keeps its latest steps only.
        if history.count > 32 { history.removeFirst(history.count - 32) }
    }
}
