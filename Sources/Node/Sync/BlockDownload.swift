// Block download: the scheduler's requests to peers, arriving blocks to the importer, and
// the importer's results back into the schedule.

import ChainState
import Foundation
import Primitives
import Wire

extension PeerManager {
    /// Blocks of the best header chain asked of the chain state at a time (the scheduler's
    /// window is 1,024; the rest lets it see ahead).
    static let targetLimit = 4096

    /// Hands out block requests to every peer that can serve them.
    func requestBlocks() {
        guard !stopping, importer.bufferedBytes < settings.importBufferBytes else { return }
        let now = Self.now
        for peer in peers.values where peer.handshakeDone && !peer.disconnecting && peer.kind != .seed {
            guard let services = peer.version?.services, services & WireProtocol.nodeNetwork != 0 else { continue }
            let hashes = scheduler.requests(for: peer.id, peerBestHeight: peer.bestKnownHeight, now: now)
            if !hashes.isEmpty { send(.getdata(hashes.map { InventoryItem(type: .block, hash: $0) }), to: peer) }
        }
    }

    func handleBlock(_ payload: BlockPayload, from peer: Peer) {
        let hash = payload.hash
        peer.knownBlocks.insert(hash)
        peer.lastBlockAt = Self.now
        peer.bestKnownHeight = max(peer.bestKnownHeight, payload.header.height)
        switch scheduler.received(hash, bytes: payload.bytes, from: peer.id) {
        case .accepted:
            passReadyBlocks()
        case .duplicate, .stale:
            break
        case .unrequested:
            peer.unrequestedBlocks += 1
            if peer.unrequestedBlocks > 10 { return misbehaving(peer, "\(peer.unrequestedBlocks) blocks nobody asked for") }
            logger.debug("\(peer.label): ignoring unrequested block \(payload.header.height) (\(hash.hex))")
        }
    }

    func handleNotFound(_ items: [InventoryItem], from peer: Peer) {
        for item in items where item.type == .block { scheduler.notFound(item.hash, from: peer.id) }
        requestBlocks()
    }

    /// Blocks ready in height order go to the importer (the verification pipeline).
    func passReadyBlocks() {
        let ready = scheduler.takeReady()
        let bestHeader = chain.snapshot.bestHeaderHash
        for block in ready {
            let last = block.hash == bestHeader && scheduler.inFlightCount == 0
            importer.submit(block.bytes, origin: block.peer, last: last)
            importing.append(block.hash)
        }
        requestBlocks()
    }

    /// Asks the chain state (off the loop: the writer may be busy) for the blocks still needed.
    func refreshDownloadTarget() {
        let chain = self.chain
        chainQueue.async {
            let target = chain.blocksToDownload(limit: Self.targetLimit)
            self.loop.execute { self.applyTarget((target.firstHeight, target.hashes), sequence: target.version) }
        }
    }

    /// A new download target (after headers or an import run); blocks already handed to the
    /// importer are left out. Answers older than one already applied are dropped (`sequence`:
    /// `ChainService.blocksToDownload`'s version).
    func applyTarget(_ target: (firstHeight: UInt64, hashes: [Hash256]), sequence: UInt64) {
        guard sequence >= targetSequence else { return }
        targetSequence = sequence
        let pending = Set(importing)
        let skip = target.hashes.prefix { pending.contains($0) }.count
        scheduler.setTarget(firstHeight: target.firstHeight + UInt64(skip), hashes: Array(target.hashes.dropFirst(skip)))
        if syncStartedAt == 0 && !target.hashes.isEmpty {
            syncStartedAt = Self.now
            syncStartHeight = chain.snapshot.tipHeight
        }
        requestBlocks()
    }

    /// The importer finished a run: drop what it consumed, punish the sender of an invalid
    /// block, and schedule what is still missing.
    func importRunEnded(_ outcome: BlockImporter.RunOutcome) {
        importing.removeFirst(min(importing.count, outcome.consumed + outcome.dropped))
        if let failure = outcome.failure {
            // The blocks after the rejected one were dropped unconnected: fetch again whatever
            // the chain state still misses (from other peers: the sender is dropped below).
            scheduler.forgetHandedOut()
            importing.removeAll()
            if let origin = failure.origin, let peer = peers[origin] {
                misbehaving(peer, "sent an invalid block: \(failure.message)")
            } else {
                logger.warning("block rejected: \(failure.message)")
            }
        }
        applyTarget(outcome.target, sequence: outcome.sequence)
    }

    /// Every 10 s while blocks are behind the best header: height, rate, percentage.
    func logSyncProgress(now: Double) {
        let snapshot = chain.snapshot
        if now - rateSample.time >= 5 {
            let delta = Double(snapshot.tipHeight &- rateSample.height)
            blocksPerSecond = snapshot.tipHeight >= rateSample.height ? delta / (now - rateSample.time) : 0
            rateSample = (now, snapshot.tipHeight)
        }
        let behind = snapshot.tipHeight < snapshot.bestHeaderHeight
        if behind && now - lastProgressLog >= 10 {
            lastProgressLog = now
            let percent = snapshot.bestHeaderHeight == 0 ? 100 : 100 * Double(snapshot.tipHeight) / Double(snapshot.bestHeaderHeight)
            let connected = peers.values.filter(\.handshakeDone).count
            let text = String(format: "sync: height %llu of %llu (%.1f%%), %.1f blocks/s, %d peers",
                              snapshot.tipHeight, snapshot.bestHeaderHeight, percent, blocksPerSecond, connected)
            logger.info("\(text)")
        }
        if !behind && syncStartedAt > 0 && snapshot.tipHeight > syncStartHeight {
            let seconds = max(now - syncStartedAt, 1e-3)
            let blocks = snapshot.tipHeight - syncStartHeight
            if blocks > 1 {
                let text = String(format: "sync: caught up at height %llu: %llu blocks in %.1f s (%.1f blocks/s)",
                                  snapshot.tipHeight, blocks, seconds, Double(blocks) / seconds)
                logger.info("\(text)")
            }
            syncStartedAt = 0
        }
    }
}
