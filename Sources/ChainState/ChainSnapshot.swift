// An immutable view of the chain for readers: tip, active chain, header index, and the
// getheaders and locator answers computed from them.

import Governance
import Masternodes
import Primitives
import QuorumServices
import Quorums

/// The chain as of one publication by `ChainService` (after each write). Readers keep and
/// query it without locks against the writer: it holds the tip node, whose ancestors never
/// change, and reads only nodes' immutable fields (hash, header, parent, skip).
public final class ChainSnapshot: @unchecked Sendable {
    /// Increases by one with each publication.
    public let sequence: UInt64
    let tipNode: BlockNode
    let bestHeaderNode: BlockNode
    let lookup: NodeLookup
    /// The masternode list after the tip block (section 16.4).
    public let masternodes: MasternodeList
    /// The mined quorums after the tip block (section 17.5).
    public let quorums: QuorumSet
    /// The best chain lock as of this publication (ChainLockState.swift).
    public let chainLock: ChainLock?
    /// The governance ledger after the tip block (section 18.4).
    public let governance: GovernanceLedger
    let governanceInitialValues: [GovernanceParameter: UInt64]

    init(sequence: UInt64, tip: BlockNode, bestHeader: BlockNode, lookup: NodeLookup, masternodes: MasternodeList = MasternodeList(),
         quorums: QuorumSet = QuorumSet(), chainLock: ChainLock? = nil, governance: GovernanceLedger = GovernanceLedger(),
         governanceInitialValues: [GovernanceParameter: UInt64] = [:]) {
        self.chainLock = chainLock
        self.governance = governance
        self.governanceInitialValues = governanceInitialValues
        self.sequence = sequence
        tipNode = tip
        bestHeaderNode = bestHeader
        self.lookup = lookup
        self.masternodes = masternodes
        self.quorums = quorums
    }

    /// The governed parameters for a block at `height` (exact up to the tip's height + 1).
    public func parametersInForce(atHeight height: UInt64) -> GovernedParameters {
        governance.parametersInForce(atHeight: height, initial: governanceInitialValues)
    }

    public var tipHash: Hash256 { tipNode.hash }
    public var tipHeight: UInt64 { tipNode.height }
    public var tipHeader: BlockHeader { tipNode.header }
    /// The most-work valid header known (ahead of the tip while headers-first sync runs).
    public var bestHeaderHash: Hash256 { bestHeaderNode.hash }
    public var bestHeaderHeight: UInt64 { bestHeaderNode.height }

    /// The hash of the active chain's block at `height` (O(log n)), nil above the tip.
    public func hash(atHeight height: UInt64) -> Hash256? { tipNode.ancestor(at: height)?.hash }

    /// The height of the chain-locked block when the active chain holds it (at or below it
    /// every block is final, whatever its depth).
    public var chainLockedHeight: UInt64? {
        guard let chainLock, hash(atHeight: chainLock.height) == chainLock.blockHash else { return nil }
        return chainLock.height
    }

    /// Any indexed header (active chain, side branches, header-only), as of now.
    public func header(_ hash: Hash256) -> BlockHeader? { lookup[hash]?.header }

    /// The height of `hash` if it is on this snapshot's active chain.
    public func activeHeight(of hash: Hash256) -> UInt64? {
        guard let node = activeNode(hash) else { return nil }
        return node.height
    }

    func activeNode(_ hash: Hash256) -> BlockNode? {
        guard let node = lookup[hash], tipNode.ancestor(at: node.height) === node else { return nil }
        return node
    }

    /// Bitcoin's block locator of the active chain: the tip and the 10 blocks before it, then
    /// steps doubling back, always ending at genesis.
    public func locator() -> [Hash256] { Self.locator(from: tipNode) }

    /// The locator of the best header chain (headers-first sync asks for what follows it).
    public func bestHeaderLocator() -> [Hash256] { Self.locator(from: bestHeaderNode) }

    /// The chain work of the best header chain and of the tip (big-endian, 32 bytes).
    public var tipChainWork: UInt256 { tipNode.chainWork }
    public var bestHeaderChainWork: UInt256 { bestHeaderNode.chainWork }

    /// The chain work of an indexed header, nil when unknown.
    public func chainWork(of hash: Hash256) -> UInt256? { lookup[hash]?.chainWork }

    /// The height of any indexed header.
    public func height(of hash: Hash256) -> UInt64? { lookup[hash]?.height }

    /// Whether `hash` is an ancestor of (or is) the best header.
    public func isOnBestHeaderChain(_ hash: Hash256) -> Bool {
        guard let node = lookup[hash] else { return false }
        return bestHeaderNode.ancestor(at: node.height) === node
    }

    static func locator(from start: BlockNode) -> [Hash256] {
        var hashes = [Hash256]()
        var node = start
        var step: UInt64 = 1
        while true {
            hashes.append(node.hash)
            if node.height == 0 { break }
            node = node.ancestor(at: node.height > step ? node.height - step : 0)!
            if hashes.count > 10 { step *= 2 }
        }
        return hashes
    }

    /// Bitcoin's getheaders: the active chain's headers after the first locator entry on it
    /// (genesis when none is), up to `limit`, ending early with `stop`. An empty locator
    /// asks for `stop`'s header alone.
    public func headers(locator: [Hash256], stop: Hash256? = nil, limit: Int = 2000) -> [BlockHeader] {
        guard limit > 0 else { return [] }
        guard !locator.isEmpty else { return stop.flatMap(header).map { [$0] } ?? [] }
        let fork = locator.lazy.compactMap(activeNode).first ?? tipNode.ancestor(at: 0)!
        guard fork.height < tipNode.height else { return [] }
        let last = min(tipNode.height, fork.height + UInt64(limit))
        var chain = [BlockNode]()
        var node = tipNode.ancestor(at: last)!
        while node !== fork { chain.append(node); node = node.parent! }
        chain.reverse()
        if let stop, let index = chain.firstIndex(where: { $0.hash == stop }) { chain.removeSubrange((index + 1)...) }
        return chain.map(\.header)
    }
}
