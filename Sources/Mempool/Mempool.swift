// The transaction pool: its state, and acceptance against chain state plus pool (the same
// contextual rules as blocks). Tip events, queries, block-template selection and the P2P
// interface are in Mempool+TipEvents.swift, Mempool+Queries.swift and Mempool+Relay.swift.

import ChainState
import Consensus
import Ed25519
import Foundation
import Primitives

/// Unconfirmed transactions that would be valid in the next block, under relay policy.
///
/// Thread-safe (RPC tasks and the P2P layer call it) behind two locks, described at `admission`.
/// Lock order: `admission`, then the chain's writer, then `lock` (nothing here is called under
/// the writer), so acceptance reads coins, the tip and its median-time-past as of one tip.
/// Tip events arrive after the chain published them; the pool applies them in order
/// (`start()`) and reports the tip it is valid on (`selection(maxBytes:)`, `tip`), so a
/// template is built from pool transactions only on that tip.
///
/// Issue #15 adds replacement (RBF), package limits, eviction with a rising minimum fee,
/// expiry and mempool.dat on top: today a full pool refuses ("mempool full") and any
/// conflict with the pool is refused ("txn-mempool-conflict").
public final class Mempool: TransactionPool, @unchecked Sendable {
    public let chain: ChainService
    public let parameters: ConsensusParameters
    public let policy: MempoolPolicy
    /// Confirmations after which the lifecycle says `finalized` (the chain parameter).
    public let finalityDepth: UInt64
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
    var poolBytes = 0
    var poolFees: UInt64 = 0
    var changeCount: UInt64 = 0
    var rejections: BoundedRecord<Hash256, (rejection: MempoolRejection, time: UInt64)>
    /// wtxids of transactions that broke a rule no later block can fix: not fetched again.
    var rejectedWtxids: BoundedRecord<Hash256, Bool>
    var histories: BoundedRecord<Hash256, [TransactionEvent]>
    /// Transactions of blocks disconnected by a reorganisation in progress, lowest block first.
    var disconnectedTransactions: [Transaction] = []
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
    /// Relayed transactions waiting for a parent.
    var orphans: OrphanPool

    public init(chain: ChainService, parameters: ConsensusParameters, policy: MempoolPolicy = .init(), finalityDepth: UInt64 = 6,
                now: @escaping @Sendable () -> UInt64 = { UInt64(Date().timeIntervalSince1970) }) {
        self.chain = chain
        self.parameters = parameters
        self.policy = policy
        self.finalityDepth = finalityDepth
        self.now = now
        rejections = BoundedRecord(limit: policy.rejectionMemory)
        rejectedWtxids = BoundedRecord(limit: policy.rejectionMemory)
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
    /// peer's label, "rpc", "wallet") for logs.
    public func submit(_ transaction: Transaction, source: String) -> MempoolResult {
        admission.withLock {
            let result = admit(transaction, time: now(), add: true)
            let time = now()
            lock.withLock {
                switch result {
                case .accepted(let entry):
                    record(entry.txid, TransactionEvent(state: .mempool, time: time))
                case .rejected(let rejection) where rejection.kind != .alreadyInPool && rejection.kind != .alreadyInChain:
                    let txid = transaction.txid
                    rejections.set(txid, (rejection, time))
                    // Not fetched again until the next block clears the record (Bitcoin Core's
                    // recent-rejects filter); a failure of this node's own storage is not the
                    // transaction's fault and is not remembered.
                    if rejection.kind == .invalid && rejection.rule != "chain-state-error" {
                        rejectedWtxids.set(transaction.wtxid, true)
                    }
                    record(txid, TransactionEvent(state: .rejected, time: time, detail: rejection.rule))
                case .rejected:
                    break
                }
            }
            return result
        }
    }

    /// The same checks as `submit`; adds and records nothing.
    public func test(_ transaction: Transaction) -> MempoolResult {
        admission.withLock { admit(transaction, time: now(), add: false) }
    }

    /// The coins a candidate spends: the pool's unconfirmed outputs, then the chain's UTXO set.
    struct PoolView: UTXOView {
        let utxo: UTXOCache
        let pool: [Hash256: MempoolEntry]
        let height: UInt64

        func coin(_ outpoint: OutPoint) throws -> Coin? {
            if let parent = pool[outpoint.txid] {
                let outputs = parent.transaction.outputs
                guard Int(outpoint.index) < outputs.count, !outputs[Int(outpoint.index)].isUnspendable else { return nil }
                return Coin(output: outputs[Int(outpoint.index)], height: height, isCoinbase: false)
            }
            return try utxo.coin(outpoint)
        }
    }

    /// Every acceptance check, in Bitcoin Core's order (cheap and context-free first,
    /// signatures last); adds the entry when `add`. Call holding `admission` (not `lock`).
    func admit(_ transaction: Transaction, time: UInt64, add: Bool) -> MempoolResult {
        let (txid, wtxid) = transaction.ids
        let size = transaction.encoded.count
        guard !transaction.isCoinbase else {
            return .rejected(MempoolRejection("coinbase", "a coinbase is only valid in a block", isConsensusFailure: true))
        }
        do {
            try TransactionRules.checkContextFree(transaction, isCoinbase: false)
        } catch {
            let detail = error.input.map { "input \($0): " + error.detail } ?? error.detail
            return .rejected(MempoolRejection(error.rule.rawValue, detail, isConsensusFailure: true))
        }
        do {
            try policy.checkStandard(transaction, size: size)
        } catch {
            return .rejected(error)
        }
        if let pooled = pool[txid] {
            return .rejected(MempoolRejection(pooled.wtxid == wtxid ? "txn-already-in-mempool" : "txn-same-nonwitness-data-in-mempool",
                                              kind: .alreadyInPool))
        }
        for (index, input) in transaction.inputs.enumerated() {
            if let spender = spenders[input.previousOutput] {
                return .rejected(MempoolRejection("txn-mempool-conflict",
                                                  "input \(index) spends \(input.previousOutput), already spent by \(spender.hex)"))
            }
        }

        // The contextual rules against the tip, as the next block would apply them.
        let pool = self.pool
        let checked: (check: TransactionCheck, tipHeight: UInt64, verifier: any SignatureBatchVerifier)
        do {
            checked = try chain.withWriter { state in
                for (index, output) in transaction.outputs.enumerated() where !output.isUnspendable {
                    if try state.utxo.coin(OutPoint(txid: txid, index: UInt32(index))) != nil {
                        throw MempoolRejection("txn-already-known", "its outputs are in the UTXO set", kind: .alreadyInChain)
                    }
                }
                let tip = state.tip
                let active = state.active
                let context = ContextualRules.Context(
                    height: tip.height + 1, medianTimePast: state.medianTimePast(tip), blockHash: .zero,
                    medianTimePastBefore: { height in
                        let index = Int(min(height, UInt64(active.count))) - 1
                        return index >= 0 ? state.medianTimePast(active[index]) : 0
                    })
                let view = PoolView(utxo: state.utxo, pool: pool, height: tip.height + 1)
                let check = try ContextualRules.checkTransaction(transaction, txid: txid, context: context, parameters: parameters, view: view)
                return (check, tip.height, state.signatureVerifier)
            }
        } catch let rejection as MempoolRejection {
            return .rejected(rejection)
        } catch let rejection as Rejection {
            return .rejected(MempoolRejection(rejection))
        } catch {
            // A storage failure or an inconsistent view: nothing the sender did.
            return .rejected(MempoolRejection("chain-state-error", "\(error)"))
        }

        // Bitcoin Core's ancestor limit: bounds every package walk (selection, removal) on the pool.
        var ancestors = Set<Hash256>()
        var pending = transaction.inputs.map(\.previousOutput.txid).filter { pool[$0] != nil }
        while let next = pending.popLast() {
            guard ancestors.insert(next).inserted else { continue }
            guard ancestors.count < policy.maxAncestors else {
                return .rejected(MempoolRejection("too-long-mempool-chain", "more than \(policy.maxAncestors - 1) unconfirmed ancestors"))
            }
            pending += pool[next]?.depends ?? []
        }

        let fee = checked.check.fee
        let required = MempoolPolicy.fee(rate: policy.minRelayFeeRate, bytes: size)
        guard fee.baseUnits >= required else {
            return .rejected(MempoolRejection("min relay fee not met", "\(fee.baseUnits) < \(required)"))
        }
        guard poolBytes + size <= policy.maxPoolBytes else {
            return .rejected(MempoolRejection("mempool full", "\(poolBytes) of \(policy.maxPoolBytes) bytes used"))
        }
        if let input = Self.firstBadSignature(checked.check, verifier: checked.verifier) {
            return .rejected(MempoolRejection(RuleName.scriptSignature.rawValue, "input \(input): signature does not verify",
                                              isConsensusFailure: true))
        }

        var depends = [Hash256]()
        for input in transaction.inputs where pool[input.previousOutput.txid] != nil && !depends.contains(input.previousOutput.txid) {
            depends.append(input.previousOutput.txid)
        }
        let entry = MempoolEntry(transaction: transaction, txid: txid, wtxid: wtxid, size: size, fee: fee, time: time,
                                 height: checked.tipHeight, depends: depends)
        if add { lock.withLock { insert(entry) } }
        return .accepted(entry)
    }

    /// The input of the first check that fails, verified as one batch on the chain's verifier
    /// (per signature on the CPU when the verifier fails).
    static func firstBadSignature(_ check: TransactionCheck, verifier: any SignatureBatchVerifier) -> Int? {
        guard !check.checks.isEmpty else { return nil }
        var delta = BlockDelta()
        delta.checks = check.checks
        let batch = delta.signatureBatch
        let verdicts: [Bool]
        if let results = try? verifier.verify(batch), results.count == check.checks.count {
            verdicts = results
        } else {
            verdicts = check.checks.map { item in
                Ed25519.verify(signature: item.signature, message: item.message.bytes, publicKey: item.publicKey)
            }
        }
        return verdicts.firstIndex(of: false).map { check.checkInputs[$0] }
    }

    func insert(_ entry: MempoolEntry) {
        pool[entry.txid] = entry
        arrival[entry.txid] = nextArrival
        nextArrival += 1
        txidByWtxid[entry.wtxid] = entry.txid
        for outpoint in entry.spentOutpoints { spenders[outpoint] = entry.txid }
        for parent in entry.depends { children[parent, default: []].insert(entry.txid) }
        poolBytes += entry.size
        poolFees += entry.fee.baseUnits
        changeCount += 1
    }

    /// Removes one entry (its descendants stay; the caller handles them).
    func removeEntry(_ txid: Hash256) {
        guard let entry = pool.removeValue(forKey: txid) else { return }
        arrival[txid] = nil
        txidByWtxid[entry.wtxid] = nil
        for outpoint in entry.spentOutpoints where spenders[outpoint] == txid { spenders[outpoint] = nil }
        for parent in entry.depends { children[parent]?.remove(txid) }
        // Children of a confirmed transaction now spend a chain output.
        for child in children.removeValue(forKey: txid) ?? [] { pool[child]?.depends.removeAll { $0 == txid } }
        poolBytes -= entry.size
        poolFees -= entry.fee.baseUnits
        changeCount += 1
    }

    /// Removes `txid` and everything in the pool that spends it, directly or not, recording
    /// `state` (with `detail`) in each one's history; returns the removed entries.
    @discardableResult
    func removeWithDescendants(_ txid: Hash256, as state: TransactionEvent.State, detail: String, time: UInt64) -> [MempoolEntry] {
        var removed = [MempoolEntry]()
        for member in descendantSet(of: txid) {
            guard let entry = pool[member] else { continue }
            removeEntry(member)
            removed.append(entry)
            record(member, TransactionEvent(state: state, time: time, detail: detail))
        }
        return removed
    }

    func record(_ txid: Hash256, _ event: TransactionEvent) {
        var history = histories[txid] ?? []
        history.append(event)
        // A transaction bounced between pool and blocks keeps its latest steps only.
        if history.count > 32 { history.removeFirst(history.count - 32) }
        histories.set(txid, history)
    }
}
