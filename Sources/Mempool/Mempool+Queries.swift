// Reading the pool: entries, coins and relatives, block-template selection. The P2P layer's
// TransactionPool interface is in Mempool+Relay.swift.

import ChainState
import Consensus
import Foundation
import Primitives
import Quorums

/// A pooled transaction's package statistics; each set includes the transaction itself.
/// Sizes are encoded bytes (= vsize), fees base units.
public struct MempoolPackageInfo: Sendable, Equatable {
    public var ancestorCount = 0
    public var ancestorSize = 0
    public var ancestorFees: UInt64 = 0
    public var descendantCount = 0
    public var descendantSize = 0
    public var descendantFees: UInt64 = 0

    public init() {}
}

extension Mempool {
    public func entry(txid: Hash256) -> MempoolEntry? { lock.withLock { pool[txid] ?? pendingFeeless(txid: txid) } }

    public func entry(wtxid: Hash256) -> MempoolEntry? {
        lock.withLock { txidByWtxid[wtxid].flatMap { pool[$0] } ?? pendingFeeless(wtxid: wtxid) }
    }

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
    public func history(txid: Hash256) -> [TransactionEvent] { lock.withLock { recordedHistory(txid) ?? [] } }

    /// `txid` with its in-pool ancestors and with its in-pool descendants, each set counted
    /// with `txid` itself (bitcoind's getmempoolentry `ancestorcount`, `descendantsize`, ...);
    /// nil when it is not pooled.
    public func packageInfo(txid: Hash256) -> MempoolPackageInfo? {
        lock.withLock {
            guard pool[txid] != nil else { return nil }
            var info = MempoolPackageInfo()
            for member in ancestorOrder(of: txid, excluding: []) {
                guard let entry = pool[member] else { continue }
                info.ancestorCount += 1
                info.ancestorSize += entry.size
                info.ancestorFees += entry.fee.baseUnits
            }
            let descendants = descendantPackage(of: txid)
            info.descendantCount = descendants.count
            info.descendantSize = descendants.bytes
            info.descendantFees = descendants.fee
            return info
        }
    }

    /// `txid`'s ancestors not in `excluding`, then `txid`, parents before children.
    func ancestorOrder(of txid: Hash256, excluding: Set<Hash256>) -> [Hash256] {
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

    func descendantSet(of txid: Hash256) -> [Hash256] {
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
    /// The selected transactions become the lifecycle's `pending` (the template handed out).
    public func selection(maxBytes: Int) -> (tip: Hash256, entries: [MempoolEntry]) {
        lock.withLock {
            // Commitments and votes first: fee-less and small, every block should carry them;
            // the fee-paying selection fills the room they leave.
            let feeless = quorumCommitments.sorted { $0.key < $1.key }.map(\.value) + governanceVotesFitting(maxBytes: maxBytes)
            let entries = select(maxBytes: maxBytes - feeless.reduce(0) { $0 + $1.size })
            noteTemplate(entries)
            return (syncedTip, feeless + entries)
        }
    }

    /// The tip of the last tip event applied (see `selection`).
    public var tip: Hash256 { lock.withLock { syncedTip } }
}

