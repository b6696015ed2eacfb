// The transaction pool: acceptance against chain state plus pool (the same contextual rules
// as blocks), updates on tip events, selection for block templates, relay inventory.

import ChainState
import Consensus
import Ed25519
import Foundation
import Primitives

/// Unconfirmed transactions that would be valid in the next block, under relay policy.
///
/// Thread-safe behind one lock (RPC tasks and the P2P loop call it). Lock order: the pool's
/// lock, then the chain's writer (never the reverse: nothing here is called under the
/// writer), so acceptance reads coins, the tip and its median-time-past as of one tip.
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
    /// Wall clock in unix seconds (entry times, rejection times).
    private let now: @Sendable () -> UInt64

    /// Two locks so that readers (the P2P event loop's `wants`, `transaction(wtxid:)`,
    /// `inventory`) never wait behind the chain writer: `admission` serialises every change
    /// (admissions and tip events), which may hold the chain's writer for a while; `lock`
    /// guards the fields for readers and is held only for moments. A change holds both while
    /// it writes; code holding `admission` may read the fields without `lock`, since nothing
    /// else can write them then.
    private let admission = NSLock()
    private let lock = NSLock()
    private var pool: [Hash256: MempoolEntry] = [:]
    /// Entry order (a counter), so listings and re-validation keep parents before children.
    private var arrival: [Hash256: UInt64] = [:]
    private var nextArrival: UInt64 = 0
    private var txidByWtxid: [Hash256: Hash256] = [:]
    private var spenders: [OutPoint: Hash256] = [:]
    private var children: [Hash256: Set<Hash256>] = [:]
    private var poolBytes = 0
    private var poolFees: UInt64 = 0
    private var changeCount: UInt64 = 0
    private var rejections: BoundedRecord<Hash256, (rejection: MempoolRejection, time: UInt64)>
    /// wtxids of transactions that broke a rule no later block can fix: not fetched again.
    private var rejectedWtxids: BoundedRecord<Hash256, Bool>
    private var histories: BoundedRecord<Hash256, [TransactionEvent]>
    /// Transactions of blocks disconnected by a reorganisation in progress, lowest block first.
    private var disconnectedTransactions: [Transaction] = []
    private var follower: Task<Void, Never>?
    /// The chain tip the pool's contents are valid on top of (the last tip event applied).
    private var syncedTip: Hash256
    /// Between a reorganisation's first `disconnected` event and its `reorganized` summary.
    private var reorganizing = false

    public init(chain: ChainService, parameters: ConsensusParameters, policy: MempoolPolicy = .init(),
                now: @escaping @Sendable () -> UInt64 = { UInt64(Date().timeIntervalSince1970) }) {
        self.chain = chain
        self.parameters = parameters
        self.policy = policy
        self.now = now
        rejections = BoundedRecord(limit: policy.rejectionMemory)
        rejectedWtxids = BoundedRecord(limit: policy.rejectionMemory)
        histories = BoundedRecord(limit: policy.rejectionMemory)
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
    private struct PoolView: UTXOView {
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
    private func admit(_ transaction: Transaction, time: UInt64, add: Bool) -> MempoolResult {
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
    private static func firstBadSignature(_ check: TransactionCheck, verifier: any SignatureBatchVerifier) -> Int? {
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

    private func insert(_ entry: MempoolEntry) {
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
    private func removeEntry(_ txid: Hash256) {
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

    /// Removes `txid` and everything in the pool that spends it, directly or not.
    private func removeWithDescendants(_ txid: Hash256, reason: String, time: UInt64) {
        for member in descendantSet(of: txid) {
            removeEntry(member)
            record(member, TransactionEvent(state: .removed, time: time, detail: reason))
        }
    }

    private func record(_ txid: Hash256, _ event: TransactionEvent) {
        var history = histories[txid] ?? []
        history.append(event)
        // A transaction bounced between pool and blocks keeps its latest steps only.
        if history.count > 32 { history.removeFirst(history.count - 32) }
        histories.set(txid, history)
    }

    // MARK: Tip events

    /// Brings the pool up to date with one tip event (what `start()` does for each event;
    /// public so a caller that owns the ordering, e.g. a test, can apply them itself).
    public func apply(_ event: TipEvent) {
        admission.withLock { applyHoldingAdmission(event) }
    }

    private func applyHoldingAdmission(_ event: TipEvent) {
        switch event {
        case let .connected(_, hash):
            lock.withLock { rejectedWtxids.removeAll() }
            // An empty pool has nothing to remove: no block read (the common case while syncing).
            let needsBlock = !pool.isEmpty || reorganizing
            let block = needsBlock ? try? chain.block(hash).map { try Block(decoding: $0) } : nil
            // A block that does not extend the pool's tip (events lost from a full buffer) or
            // cannot be read: check the whole pool against the chain as it is now.
            if needsBlock && !reorganizing && (block == nil || block?.header.previousHash != syncedTip) {
                revalidate()
                lock.withLock { syncedTip = hash }
                return
            }
            lock.withLock {
                if let block { blockConnected(block, hash: hash) }
                // Mid-reorganisation the pool is not valid on any tip until `revalidate`.
                if !reorganizing { syncedTip = hash }
            }
        case let .disconnected(_, hash):
            let block = try? chain.block(hash).map { try Block(decoding: $0) }
            lock.withLock {
                reorganizing = true
                // Tip first: each lower block's transactions go before the ones collected so far.
                if let block { disconnectedTransactions.insert(contentsOf: block.transactions.dropFirst(), at: 0) }
            }
        case .reorganized(let reorganization):
            revalidate()
            lock.withLock {
                reorganizing = false
                syncedTip = reorganization.newTip
            }
        }
    }

    /// Drops what `block` confirmed and whatever conflicts with it (with descendants).
    private func blockConnected(_ block: Block, hash: Hash256) {
        let time = now()
        var confirmed = Set<Hash256>()
        for transaction in block.transactions.dropFirst() {
            let txid = transaction.txid
            confirmed.insert(txid)
            let wasPooled = pool[txid] != nil
            if wasPooled { removeEntry(txid) }
            if wasPooled || histories[txid] != nil {
                record(txid, TransactionEvent(state: .confirmed, time: time, detail: hash.hex))
            }
            for input in transaction.inputs {
                if let spender = spenders[input.previousOutput] {
                    removeWithDescendants(spender, reason: "conflicts with \(txid.hex) in block \(hash.hex)", time: time)
                }
            }
        }
        if !disconnectedTransactions.isEmpty {
            disconnectedTransactions.removeAll { confirmed.contains($0.txid) }
        }
        changeCount += 1
    }

    /// After a reorganisation: the disconnected blocks' transactions, then the pool's own,
    /// are checked again against the new tip; those that no longer fit are dropped.
    /// Call holding `admission` (not `lock`).
    private func revalidate() {
        let time = now()
        let (previous, returning) = lock.withLock { () -> ([MempoolEntry], [Transaction]) in
            let previous = pool.values.sorted { arrival[$0.txid]! < arrival[$1.txid]! }
            let returning = disconnectedTransactions
            disconnectedTransactions = []
            pool = [:]
            arrival = [:]
            txidByWtxid = [:]
            spenders = [:]
            children = [:]
            poolBytes = 0
            poolFees = 0
            changeCount += 1
            return (previous, returning)
        }
        for transaction in returning {
            let result = admit(transaction, time: time, add: true)
            lock.withLock {
                switch result {
                case .accepted(let entry): record(entry.txid, TransactionEvent(state: .disconnected, time: time))
                case .rejected(let rejection): record(transaction.txid, TransactionEvent(state: .removed, time: time, detail: rejection.rule))
                }
            }
        }
        for entry in previous {
            if case .rejected(let rejection) = admit(entry.transaction, time: entry.time, add: true) {
                lock.withLock { record(entry.txid, TransactionEvent(state: .removed, time: time, detail: rejection.rule)) }
            }
        }
    }

    // MARK: Queries

    public func entry(txid: Hash256) -> MempoolEntry? { lock.withLock { pool[txid] } }

    public func entry(wtxid: Hash256) -> MempoolEntry? { lock.withLock { txidByWtxid[wtxid].flatMap { pool[$0] } } }

    /// Every entry, in the order they entered (parents before children).
    public func entries() -> [MempoolEntry] {
        lock.withLock { pool.values.sorted { arrival[$0.txid]! < arrival[$1.txid]! } }
    }

    public func contains(txid: Hash256) -> Bool { lock.withLock { pool[txid] != nil } }

    /// The pool transaction spending `outpoint`, if any.
    public func spender(of outpoint: OutPoint) -> Hash256? { lock.withLock { spenders[outpoint] } }

    public var count: Int { lock.withLock { pool.count } }
    /// Sum of the entries' encoded sizes.
    public var bytes: Int { lock.withLock { poolBytes } }
    public var totalFee: Amount { lock.withLock { Amount(baseUnits: poolFees) ?? .maxMoney } }
    /// Estimated heap use: each transaction's bytes plus the bookkeeping per entry (the entry,
    /// its map slots, decoded inputs and outputs) and per spent outpoint. An estimate, as
    /// bitcoind's `usage` is.
    public var memoryUsage: Int {
        lock.withLock {
            let inputs = spenders.count, outputs = pool.values.reduce(0) { $0 + $1.transaction.outputs.count }
            return poolBytes + pool.count * 320 + inputs * 120 + outputs * 48
        }
    }

    /// Changes with every addition and removal (for `longpollid`).
    public var sequence: UInt64 { lock.withLock { changeCount } }

    /// An output created by a pool transaction and not spent in the pool (height is the
    /// next block's, the convention for unconfirmed coins).
    public func coin(_ outpoint: OutPoint) -> Coin? {
        lock.withLock {
            guard spenders[outpoint] == nil, let entry = pool[outpoint.txid], Int(outpoint.index) < entry.transaction.outputs.count else {
                return nil
            }
            let output = entry.transaction.outputs[Int(outpoint.index)]
            guard !output.isUnspendable else { return nil }
            return Coin(output: output, height: chain.snapshot.tipHeight + 1, isCoinbase: false)
        }
    }

    /// In-pool ancestors of `txid` (not itself), parents before children.
    public func ancestors(of txid: Hash256) -> [MempoolEntry] {
        lock.withLock { ancestorOrder(of: txid, excluding: []).dropLast().compactMap { pool[$0] } }
    }

    /// In-pool descendants of `txid` (not itself).
    public func descendants(of txid: Hash256) -> [MempoolEntry] {
        lock.withLock { descendantSet(of: txid).filter { $0 != txid }.compactMap { pool[$0] } }
    }

    /// Direct in-pool children of `txid` (bitcoind's `spentby`).
    public func children(of txid: Hash256) -> [Hash256] { lock.withLock { Array(children[txid] ?? []) } }

    /// Why `txid` was last refused, and when (bounded memory of recent rejections).
    public func rejection(txid: Hash256) -> (rejection: MempoolRejection, time: UInt64)? { lock.withLock { rejections[txid] } }

    /// What the pool saw of `txid`, oldest first (bounded).
    public func history(txid: Hash256) -> [TransactionEvent] { lock.withLock { histories[txid] ?? [] } }

    /// `txid`'s ancestors not in `excluding`, then `txid`, parents before children.
    private func ancestorOrder(of txid: Hash256, excluding: Set<Hash256>) -> [Hash256] {
        var order = [Hash256]()
        var visited = Set<Hash256>()
        // Iterative post-order (deep chains must not exhaust the stack).
        var stack: [(Hash256, Bool)] = [(txid, false)]
        while let (current, expanded) = stack.popLast() {
            if expanded { order.append(current); continue }
            guard !excluding.contains(current), visited.insert(current).inserted, let entry = pool[current] else { continue }
            stack.append((current, true))
            for parent in entry.depends.reversed() { stack.append((parent, false)) }
        }
        return order
    }

    private func descendantSet(of txid: Hash256) -> [Hash256] {
        guard pool[txid] != nil else { return [] }
        var found = [txid]
        var seen: Set<Hash256> = [txid]
        var index = 0
        while index < found.count {
            for child in children[found[index]] ?? [] where seen.insert(child).inserted { found.append(child) }
            index += 1
        }
        return found
    }

    // MARK: Block templates

    /// Entries for the next block within `maxBytes`, parents before children, chosen by
    /// ancestor-package fee rate (Bitcoin Core's mining score): the best package whose not yet
    /// chosen ancestors fit goes in whole; packages that do not fit are skipped.
    public func selectForBlock(maxBytes: Int) -> [MempoolEntry] { selection(maxBytes: maxBytes).entries }

    /// `selectForBlock` with the tip the pool was last brought up to date with: a template
    /// may use the entries only on top of that tip (the pool may not have applied a newer
    /// block's event yet, and would then offer transactions the block confirmed).
    public func selection(maxBytes: Int) -> (tip: Hash256, entries: [MempoolEntry]) {
        lock.withLock { (syncedTip, select(maxBytes: maxBytes)) }
    }

    /// The tip of the last tip event applied (see `selection`).
    public var tip: Hash256 { lock.withLock { syncedTip } }

    private func select(maxBytes: Int) -> [MempoolEntry] {
        var chosen = Set<Hash256>()
        var selected = [MempoolEntry]()
        var remaining = maxBytes
        var heap = Heap<Candidate>()
        func package(_ txid: Hash256) -> (members: [Hash256], fee: UInt64, size: Int) {
            let members = ancestorOrder(of: txid, excluding: chosen)
            var fee: UInt64 = 0, size = 0
            for member in members { fee += pool[member]!.fee.baseUnits; size += pool[member]!.size }
            return (members, fee, size)
        }
        for txid in pool.keys {
            let candidate = package(txid)
            heap.push(Candidate(txid: txid, fee: candidate.fee, size: candidate.size, arrival: arrival[txid]!))
        }
        var failed = Set<Hash256>()
        while let best = heap.pop() {
            guard !chosen.contains(best.txid), !failed.contains(best.txid) else { continue }
            let current = package(best.txid)
            // Ancestors chosen since it was scored: score again and let the heap decide.
            if current.fee != best.fee || current.size != best.size {
                heap.push(Candidate(txid: best.txid, fee: current.fee, size: current.size, arrival: best.arrival))
                continue
            }
            guard current.size <= remaining else { failed.insert(best.txid); continue }
            for member in current.members {
                chosen.insert(member)
                selected.append(pool[member]!)
            }
            remaining -= current.size
        }
        return selected
    }

    /// A package in the selection heap: greater is better (higher fee rate, then earlier).
    private struct Candidate: Comparable {
        var txid: Hash256
        var fee: UInt64
        var size: Int
        var arrival: UInt64

        static func < (lhs: Candidate, rhs: Candidate) -> Bool {
            // fee/size compared by cross products (no rounding, no overflow in 128 bits).
            let left = UInt128(lhs.fee) * UInt128(rhs.size), right = UInt128(rhs.fee) * UInt128(lhs.size)
            if left != right { return left < right }
            return lhs.arrival > rhs.arrival
        }

        static func == (lhs: Candidate, rhs: Candidate) -> Bool { !(lhs < rhs) && !(rhs < lhs) }
    }

    // MARK: TransactionPool (the P2P layer)

    public func wants(wtxid: Hash256) -> Bool {
        lock.withLock { txidByWtxid[wtxid] == nil && rejectedWtxids[wtxid] == nil }
    }

    public func transaction(wtxid: Hash256) -> Transaction? {
        lock.withLock { txidByWtxid[wtxid].flatMap { pool[$0]?.transaction } }
    }

    public func accept(_ transaction: Transaction, from peer: String) -> PoolAcceptance {
        // While the chain is catching up, coins are missing and checks would be wasted (Core
        // ignores relayed transactions during initial download too); a block or two behind
        // (a header just announced) is not catching up.
        let snapshot = chain.snapshot
        guard snapshot.bestHeaderHeight <= snapshot.tipHeight + Self.syncingLag else { return .ignored }
        switch submit(transaction, source: peer) {
        case .accepted(let entry):
            return .accepted(wtxid: entry.wtxid, feeRate: entry.feeRate)
        case .rejected(let rejection):
            switch rejection.kind {
            case .alreadyInPool, .alreadyInChain: return .ignored
            case .missingInputs, .invalid: return .rejected(rule: rejection.rule, penalize: rejection.isConsensusFailure)
            }
        }
    }

    public func inventory(minimumFeeRate: UInt64) -> [Hash256] {
        lock.withLock {
            pool.values.filter { $0.feeRate >= minimumFeeRate }.sorted { arrival[$0.txid]! < arrival[$1.txid]! }.map(\.wtxid)
        }
    }

    public var minimumFeeRate: UInt64 { policy.minRelayFeeRate }

    /// Blocks the tip may lag the best header before relayed transactions are ignored.
    static let syncingLag: UInt64 = 6

    public func feeRate(wtxid: Hash256) -> UInt64? {
        lock.withLock { txidByWtxid[wtxid].flatMap { pool[$0]?.feeRate } }
    }
}

/// A map that forgets its oldest keys beyond `limit` (every record the pool keeps is bounded).
struct BoundedRecord<Key: Hashable, Value> {
    private var values: [Key: Value] = [:]
    private var order: [Key] = []
    private var head = 0
    let limit: Int

    init(limit: Int) { self.limit = max(1, limit) }

    subscript(key: Key) -> Value? { values[key] }

    mutating func removeAll() {
        values.removeAll()
        order.removeAll()
        head = 0
    }

    mutating func set(_ key: Key, _ value: Value) {
        if values.updateValue(value, forKey: key) == nil { order.append(key) }
        while values.count > limit, head < order.count {
            values[order[head]] = nil
            head += 1
        }
        // Compact the key list once most of it is forgotten.
        if head > limit { order.removeFirst(head); head = 0 }
    }
}

/// A binary max-heap.
struct Heap<Element: Comparable> {
    private var items: [Element] = []

    mutating func push(_ element: Element) {
        items.append(element)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[parent] < items[child] else { break }
            items.swapAt(parent, child)
            child = parent
        }
    }

    mutating func pop() -> Element? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let top = items.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var largest = parent
            if left < items.count && items[largest] < items[left] { largest = left }
            if right < items.count && items[largest] < items[right] { largest = right }
            guard largest != parent else { break }
            items.swapAt(parent, largest)
            parent = largest
        }
        return top
    }
}
