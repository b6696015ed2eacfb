// The chain state for concurrent callers: one writer at a time, snapshots for readers,
// tip events for subscribers.

import Consensus
import Foundation
import Primitives

/// Owns a `ChainState` and serialises every use of it behind one lock (the writer role);
/// after each write it publishes a new `ChainSnapshot` (an O(1) reference swap under a
/// second lock that no connect ever holds) and sends the tip events since the last one.
///
/// A lock rather than an actor: the bulk verifier and the miner are synchronous code on
/// their own threads; `withWriter` lets the verifier hold the role for a whole run (one
/// uncontended acquisition, none per block) and lets every caller stay synchronous. Async
/// callers reach the writer by calling these methods from a task; readers never take the
/// writer lock for the snapshot, headers or locators.
///
/// Coins and raw blocks are read under the writer lock: the UTXO cache and the unflushed
/// block positions belong to the writer, and the flushed RocksDB state lags the tip (a
/// reader there would see coins inconsistent with the snapshot's tip), so these reads wait
/// for a running connect and answer as of the current tip.
public final class ChainService: @unchecked Sendable {
    private let writer = NSLock()
    private let state: ChainState
    private let published = NSLock()
    private var current: ChainSnapshot
    private var subscribers: [UInt64: AsyncStream<TipEvent>.Continuation] = [:]
    private var nextSubscriber: UInt64 = 0
    private let lookup: NodeLookup
    /// Writer sections completed (guarded by `writer`).
    private var completedWrites: UInt64 = 0

    /// Takes ownership of `state`: from now on use it only through this service.
    public init(_ state: ChainState) {
        self.state = state
        lookup = NodeLookup(state.nodes)
        current = ChainSnapshot(sequence: 0, tip: state.tip, bestHeader: state.bestHeader, lookup: lookup, masternodes: state.masternodes,
                                quorums: state.quorums, chainLock: state.bestChainLock,
                                 governance: state.governance, governanceInitialValues: state.governanceInitialValues)
        state.nodeAdded = { [lookup] in lookup.add($0) }
    }

    /// The latest published view (never waits for the writer).
    public var snapshot: ChainSnapshot { published.withLock { current } }

    /// Validates and stores a block from any source (file, miner, peer); see `ChainState.accept`.
    @discardableResult
    public func accept(_ block: Block, encodedSize: Int? = nil) throws -> ChainState.AcceptResult {
        try withWriter { try $0.accept(block, encodedSize: encodedSize) }
    }

    /// Headers-first: see `ChainState.acceptHeader`.
    @discardableResult
    public func acceptHeader(_ header: BlockHeader) throws -> ChainState.HeaderResult {
        try withWriter { try $0.acceptHeader(header) }
    }

    /// The raw bytes of a stored block; nil when the index has no block for `hash`.
    public func block(_ hash: Hash256) throws -> [UInt8]? {
        try withWriter { state in
            guard let node = state.node(hash), node.hasBlock else { return nil }
            return try state.storedBlockBytes(hash)
        }
    }

    /// The unspent coin at `outpoint` as of the current tip (see the type's comment).
    public func coin(_ outpoint: OutPoint) throws -> Coin? {
        try withWriter { try $0.utxo.coin(outpoint) }
    }

    /// The blocks headers-first sync still needs: the best header chain's blocks that are not
    /// stored, from the lowest (just above the last stored ancestor) upward, at most `limit`;
    /// and `version`, the number of writer sections completed before it was computed: of two
    /// answers the one with the greater version is at least as recent (equal versions, equal
    /// answers), whatever order their callers see them in.
    public func blocksToDownload(limit: Int) -> (firstHeight: UInt64, hashes: [Hash256], version: UInt64) {
        withWriter { state in
            let target = state.blocksToDownload(limit: limit)
            return (target.firstHeight, target.hashes, completedWrites)
        }
    }

    /// Writes everything pending to disk.
    public func flush() throws { try withWriter { try $0.flush() } }

    /// Runs `body` holding the writer role (a bulk verification run, a flush schedule), then
    /// publishes. `body` must not keep the chain state beyond its return.
    public func withWriter<T>(_ body: (ChainState) throws -> T) rethrows -> T {
        writer.lock()
        defer {
            completedWrites += 1
            publish()
            writer.unlock()
        }
        return try body(state)
    }

    /// Tip events from now on. A subscriber more than `bufferLimit` events behind loses the
    /// oldest ones (every buffer is bounded); it can resynchronise from `snapshot`.
    public func tipEvents(bufferLimit: Int = 10_000) -> AsyncStream<TipEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: TipEvent.self, bufferingPolicy: .bufferingNewest(bufferLimit))
        let id = published.withLock {
            defer { nextSubscriber += 1 }
            subscribers[nextSubscriber] = continuation
            return nextSubscriber
        }
        continuation.onTermination = { [weak self] _ in
            guard let self else { return }
            _ = self.published.withLock { self.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    /// Ends every tip-event stream (shutdown); later subscribers are not affected.
    public func finishTipEvents() {
        let listeners = published.withLock { defer { subscribers.removeAll() }; return Array(subscribers.values) }
        for listener in listeners { listener.finish() }
    }

    /// Blocks and transactions connected since the chain state was opened, as of the last
    /// writer section (for metrics: read without waiting for the writer).
    public var connectedTotals: (blocks: Int, transactions: Int) { published.withLock { totals } }
    private var totals = (blocks: 0, transactions: 0)

    /// Called by the writer only (so publications and their events are in order).
    private func publish() {
        let counted = (state.totalConnectedBlocks, state.totalConnectedTransactions)
        let old = published.withLock {
            totals = counted
            return current
        }
        guard old.tipNode !== state.tip || old.bestHeaderNode !== state.bestHeader || old.chainLock != state.bestChainLock else { return }
        let next = ChainSnapshot(sequence: old.sequence + 1, tip: state.tip, bestHeader: state.bestHeader, lookup: lookup, masternodes: state.masternodes,
                                 quorums: state.quorums, chainLock: state.bestChainLock,
                                 governance: state.governance, governanceInitialValues: state.governanceInitialValues)
        let events = old.tipNode === state.tip ? [] : TipEvent.between(old.tipNode, state.tip)
        let listeners = published.withLock {
            current = next
            return Array(subscribers.values)
        }
        for listener in listeners {
            for event in events { listener.yield(event) }
        }
    }
}
