// Chain-lock relay (docs/protocol/chainlocks.md): `clsig` from peers and from RPC is checked
// by the chain state against the active chain-lock quorums; a new best lock goes to every
// peer that has not sent it (authenticated masternodes first), a bad signature is
// misbehaviour, and a lock for a block not known yet waits (bounded) until it is, its
// headers asked of each connected peer in turn until one has them.

import ChainState
import Consensus
import Logging
import Primitives
import QuorumServices
import Quorums
import Wire

/// A correctly signed lock whose block is not in the index yet, and the header requests made for it.
struct PendingChainLock {
    var lock: ChainLock
    /// The peer that sent it (nil: RPC).
    var from: Int?
    var asks = 0
    var askedAt = 0.0
    /// The peer asked last: the next ask goes to the next peer by id.
    var lastAsked: Int?
}

/// The relay's bookkeeping, on the peer manager's loop.
struct ChainLockRelayState {
    /// The active chain-lock quorums as of a snapshot (nil: the network has no chain-lock type).
    var signers: @Sendable (ChainSnapshot) -> ChainLockSigners?
    /// Peers that sent (or were sent) each recent lock, by lock id: never sent it again.
    var knownBy: [Hash256: Set<Int>] = [:]
    /// Lock ids in arrival order, for evicting `knownBy`.
    var recent: [Hash256] = []
    /// Correctly signed locks whose block is not in the index yet, with the peer that sent them.
    var pending: [Hash256: PendingChainLock] = [:]
    /// The snapshot sequence at the last retry of `pending` (retried once per publication).
    var pendingCheckedAt: UInt64?

    static let maxRecent = 64
    static let maxPending = 16
    /// A pending lock's headers are asked for every 2 s, 30 times at most (one minute).
    static let askInterval = 2.0
    static let maxAsks = 30

    /// Locks are checked against the snapshot's quorum set and the network's chain-lock type.
    init(parameters: ConsensusParameters) {
        let quorumParameters = try? QuorumParameters(parameters.chain)
        signers = { snapshot in quorumParameters.flatMap { ChainState.chainLockSigners(snapshot.quorums, parameters: $0) } }
    }

    /// Records that `peer` knows lock `id`; false when the lock was seen before (from anyone).
    mutating func note(_ id: Hash256, knownBy peer: Int?) -> Bool {
        let isNew = knownBy[id] == nil
        if isNew {
            recent.append(id)
            if recent.count > Self.maxRecent { knownBy[recent.removeFirst()] = nil }
        }
        if let peer { knownBy[id, default: []].insert(peer) } else if isNew { knownBy[id] = [] }
        return isNew
    }

    /// Keeps `lock` until its block is known; past the bound the lowest height goes.
    mutating func keepPending(_ lock: ChainLock, from peer: Int?) {
        if pending[lock.id] == nil { pending[lock.id] = PendingChainLock(lock: lock, from: peer) }
        // Its header may have been stored since the last retry: check again at the next tick.
        pendingCheckedAt = nil
        if pending.count > Self.maxPending, let lowest = pending.min(by: { $0.value.lock.height < $1.value.lock.height })?.key {
            pending[lowest] = nil
        }
    }
}

extension PeerManager {
    func handleChainLock(_ lock: ChainLock, from peer: Peer) {
        guard chainLocks.note(lock.id, knownBy: peer.id) else { return }
        checkChainLock(lock, from: peer.id)
    }

    /// Hands `lock` to the chain state (off the loop: it waits for the writer) and settles the verdict on the loop.
    func checkChainLock(_ lock: ChainLock, from peerID: Int?) {
        let snapshot = chain.snapshot
        if let best = snapshot.chainLock, lock.height < best.height { return } // stale: not worth a signature check
        guard let signers = chainLocks.signers(snapshot) else {
            logger.debug("chain lock at height \(lock.height) ignored: no active chain-lock quorum known")
            return
        }
        chainQueue.async { [self] in
            let outcome = Result { try chain.accept(chainLock: lock, signers: signers) }
            loop.execute { self.chainLockSettled(lock, outcome, from: peerID) }
        }
    }

    func chainLockSettled(_ lock: ChainLock, _ outcome: Result<ChainState.ChainLockAcceptance, any Error>, from peerID: Int?) {
        let source = peerID.flatMap { peers[$0] }
        let from = source.map { " from \($0.label)" } ?? ""
        switch outcome {
        case .success(.accepted):
            chainLocks.pending = chainLocks.pending.filter { $0.value.lock.height > lock.height }
            logger.info("chain lock at height \(lock.height) on \(lock.blockHash.hex) (quorum \(lock.quorumHash.hex))\(from)")
            relayChainLock(lock)
            // The best header may now be the locked branch (with less work than the tip): fetch its blocks.
            refreshDownloadTarget()
        case .success(.duplicate):
            break
        case .success(.unknownBlock):
            logger.debug("chain lock at height \(lock.height)\(from) waits for block \(lock.blockHash.hex)")
            chainLocks.keepPending(lock, from: peerID)
            // The sender has the block: its headers up to it first (a branch with less work than
            // ours is otherwise never asked for); the timer asks the other peers if that fails.
            if let source, !source.disconnecting {
                chainLocks.pending[lock.id]?.asks += 1
                chainLocks.pending[lock.id]?.askedAt = Self.now
                chainLocks.pending[lock.id]?.lastAsked = source.id
                requestHeaders(from: source, locator: chain.snapshot.locator(), stop: lock.blockHash)
            }
        case .failure(ChainLockError.badSignature(let quorum)):
            if let source { misbehaving(source, "clsig at height \(lock.height) with a bad signature for quorum \(quorum.hex)") }
        case .failure(let error as ChainLockError):
            if case .conflictingLock = error {
                // Two valid locks at one height: the quorum itself misbehaved; the relayer did not.
                logger.error("conflicting chain lock\(from): \(error)")
            } else {
                logger.debug("chain lock at height \(lock.height)\(from) not accepted: \(error)")
            }
        case .failure(let error):
            logger.warning("chain lock at height \(lock.height)\(from): \(error)")
        }
    }

    /// Sends `lock` to every handshaken peer that does not know it, authenticated masternodes first.
    func relayChainLock(_ lock: ChainLock) {
        let id = lock.id
        _ = chainLocks.note(id, knownBy: nil)
        let known = chainLocks.knownBy[id] ?? []
        let targets = peers.values.filter { $0.handshakeDone && !$0.disconnecting && $0.kind != .seed && !known.contains($0.id) }
            .sorted { ($0.masternode != nil ? 0 : 1, $0.id) < ($1.masternode != nil ? 0 : 1, $1.id) }
        for peer in targets {
            chainLocks.knownBy[id, default: []].insert(peer.id)
            send(.clsig(lock), to: peer)
        }
    }

    /// Whether `headers` reach the block of a chain lock waiting for it.
    func leadsToPendingChainLock(_ headers: [BlockHeader]) -> Bool {
        guard !chainLocks.pending.isEmpty else { return false }
        let waiting = Set(chainLocks.pending.values.map(\.lock.blockHash))
        return headers.contains { waiting.contains($0.hash) }
    }

    /// A new connection learns the best lock at once: a node back from an outage (or an
    /// isolated miner) then refuses branches below it without waiting for the next lock.
    func sendBestChainLock(to peer: Peer) {
        guard let lock = chain.snapshot.chainLock else { return }
        _ = chainLocks.note(lock.id, knownBy: nil)
        chainLocks.knownBy[lock.id, default: []].insert(peer.id)
        send(.clsig(lock), to: peer)
    }

    /// From the timer: locks waiting for their block are tried again once a snapshot knows it,
    /// and the headers up to the others asked for again.
    func retryPendingChainLocks() {
        guard !chainLocks.pending.isEmpty else { return }
        let snapshot = chain.snapshot
        if chainLocks.pendingCheckedAt != snapshot.sequence {
            chainLocks.pendingCheckedAt = snapshot.sequence
            for (id, entry) in chainLocks.pending where snapshot.height(of: entry.lock.blockHash) != nil {
                chainLocks.pending[id] = nil
                checkChainLock(entry.lock, from: entry.from)
            }
        }
        askForPendingChainLockHeaders(snapshot)
    }

    /// An answer can be lost (the peer left, or it answered before the lock was pending and
    /// the headers were dropped for their low work): every `askInterval` the next idle peer
    /// by id is asked for the headers up to each lock still waiting, `maxAsks` times at most.
    func askForPendingChainLockHeaders(_ snapshot: ChainSnapshot) {
        let now = Self.now
        // Idle peers only: a second getheaders must not cut into a header sync in progress.
        let candidates = peers.values
            .filter { $0.handshakeDone && !$0.disconnecting && $0.kind != .seed && $0.headersRequestedAt == nil && $0.presync == nil }
            .sorted { $0.id < $1.id }
        guard let first = candidates.first else { return }
        for (id, entry) in chainLocks.pending where snapshot.height(of: entry.lock.blockHash) == nil
            && entry.asks < ChainLockRelayState.maxAsks && now - entry.askedAt >= ChainLockRelayState.askInterval {
            let peer = candidates.first { $0.id > (entry.lastAsked ?? -1) } ?? first
            guard peer.headersRequestedAt == nil else { continue } // asked for another lock this tick
            chainLocks.pending[id]?.asks += 1
            chainLocks.pending[id]?.askedAt = now
            chainLocks.pending[id]?.lastAsked = peer.id
            logger.debug("chain lock at height \(entry.lock.height) still waits for block \(entry.lock.blockHash.hex): asking \(peer.label)")
            requestHeaders(from: peer, locator: snapshot.locator(), stop: entry.lock.blockHash)
        }
    }

    /// `submitchainlock`: checks `lock` now and relays it when it is the new best lock.
    public func submitChainLock(_ lock: ChainLock) async throws -> ChainState.ChainLockAcceptance {
        let signers = try await onLoop { self.chainLocks.signers(self.chain.snapshot) }
        guard let signers else { throw ChainLockError.noActiveQuorum }
        let outcome = try chain.accept(chainLock: lock, signers: signers)
        try await onLoop {
            _ = self.chainLocks.note(lock.id, knownBy: nil)
            self.chainLockSettled(lock, .success(outcome), from: nil)
        }
        return outcome
    }
}
