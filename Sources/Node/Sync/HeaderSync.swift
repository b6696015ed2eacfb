// Headers-first sync: asking for headers, validating them, and storing only a header chain
// that could become the best chain (DESIGN 9, "Denial of service").

import BLAKE3
import ChainState
import Consensus
import Foundation
import Primitives
import Wire

/// A peer's header chain that connects to ours but does not have enough work yet to be
/// stored. Only its end, its work and one bit per header (a salted hash) are kept, so a
/// low-work chain costs this node O(1) memory per header; once its work beats the tip the
/// headers are fetched again, checked against those bits, and stored (Bitcoin Core's
/// PRESYNC/REDOWNLOAD, with a commitment bit per header).
struct HeaderPresync {
    /// Where the chain leaves ours: the locator to fetch it again from.
    var startLocator: [Hash256]
    var lastHash: Hash256
    var work: UInt256
    var commitments: [UInt8] = []
    var count = 0
    var redownloading = false
    var checked = 0

    /// 2^21 headers (256 KiB of bits) at most: beyond that the peer is not believed.
    static let maxHeaders = 1 << 21

    static func bit(_ hash: Hash256, salt: [UInt8]) -> Bool {
        BLAKE3.hash(salt + hash.bytes)[0] & 1 == 1
    }

    mutating func record(_ headers: [BlockHeader], salt: [UInt8]) -> Bool {
        guard count + headers.count <= Self.maxHeaders else { return false }
        for header in headers {
            if count % 8 == 0 { commitments.append(0) }
            if Self.bit(header.hash, salt: salt) { commitments[count / 8] |= 1 << UInt8(count % 8) }
            count += 1
        }
        lastHash = headers.last?.hash ?? lastHash
        return true
    }

    /// Whether the redownloaded `headers` match the recorded bits.
    mutating func check(_ headers: [BlockHeader], salt: [UInt8]) -> Bool {
        for header in headers {
            guard checked < count else { return false }
            let expected = commitments[checked / 8] & (1 << UInt8(checked % 8)) != 0
            guard Self.bit(header.hash, salt: salt) == expected else { return false }
            checked += 1
        }
        return true
    }
}

extension PeerManager {
    static let maxUnconnectingHeaders = 10
    /// Unsolicited headers (announcements) are few; more that do not connect is a violation.
    static let maxAnnouncedHeaders = 8

    /// Starts headers sync with `peer` when it may know more: during initial sync one peer at
    /// a time; once caught up, every new peer (to learn of forks with more work).
    func considerHeaderSync(with peer: Peer) {
        let snapshot = chain.snapshot
        if headerSyncPeer == nil {
            headerSyncPeer = peer.id
            requestHeaders(from: peer, locator: snapshot.bestHeaderLocator())
        } else if snapshot.tipHeight == snapshot.bestHeaderHeight && peer.bestKnownHeight <= snapshot.bestHeaderHeight + 2000 {
            requestHeaders(from: peer, locator: snapshot.bestHeaderLocator())
        }
    }

    /// Picks a new headers-sync peer (the previous one left or finished).
    func startHeaderSync() {
        let snapshot = chain.snapshot
        guard headerSyncPeer == nil, let peer = peers.values
            .filter({ $0.handshakeDone && !$0.disconnecting && $0.kind != .seed && $0.bestKnownHeight > snapshot.bestHeaderHeight
                      && $0.bestKnownHeight > ($0.headersExhaustedAt ?? 0) })
            .max(by: { $0.bestKnownHeight < $1.bestKnownHeight }) else { return }
        headerSyncPeer = peer.id
        requestHeaders(from: peer, locator: snapshot.bestHeaderLocator())
    }

    func requestHeaders(from peer: Peer, locator: [Hash256], stop: Hash256? = nil) {
        peer.headersRequestedAt = Self.now
        send(.getheaders(locator: Array(locator.prefix(WireLimits.maxLocator)), stop: stop), to: peer)
    }

    func handleGetHeaders(locator: [Hash256], stop: Hash256?, from peer: Peer) {
        let headers = chain.snapshot.headers(locator: locator, stop: stop, limit: WireLimits.maxHeaders)
        send(.headers(headers), to: peer)
        // It has these now: later announcements to it may start after them.
        if let last = headers.last { peer.knownBlocks.insert(last.hash) }
    }

    func handleHeaders(_ headers: [BlockHeader], from peer: Peer) {
        let solicited = peer.headersRequestedAt != nil
        peer.headersRequestedAt = nil
        guard let first = headers.first, let last = headers.last else {
            if headerSyncPeer == peer.id { finishHeaderSync(with: peer) }
            return
        }
        for (previous, header) in zip(headers, headers.dropFirst()) where header.previousHash != previous.hash {
            return misbehaving(peer, "headers not in a chain (\(header.hash.hex) does not follow \(previous.hash.hex))")
        }
        let snapshot = chain.snapshot
        var work: UInt256
        if let presync = peer.presync, !presync.redownloading, first.previousHash == presync.lastHash {
            work = presync.work
        } else if let parentWork = snapshot.chainWork(of: first.previousHash) {
            work = parentWork
        } else {
            peer.unconnectingHeaders += 1
            if headers.count > Self.maxAnnouncedHeaders || peer.unconnectingHeaders > Self.maxUnconnectingHeaders {
                return misbehaving(peer, "\(headers.count) headers that do not connect to any known header "
                                   + "(\(peer.unconnectingHeaders) such messages)")
            }
            // An announcement we cannot place: ask for what leads to it.
            return requestHeaders(from: peer, locator: snapshot.bestHeaderLocator())
        }
        // Proof of work first: it is what makes sending headers cost the sender.
        for header in headers {
            do {
                try ContextFreeRules.checkProofOfWork(header, parameters: parameters)
                let (sum, overflow) = work.addingReportingOverflow(ProofOfWork.work(target: try header.compactTarget.target()))
                work = overflow ? .max : sum
            } catch {
                return misbehaving(peer, "header \(header.height) (\(header.hash.hex)): \(error)")
            }
        }
        peer.bestKnownHeight = max(peer.bestKnownHeight, last.height)
        peer.knownBlocks.insert(last.hash)
        // They connect: earlier unplaceable announcements were a view running behind (Core resets too).
        peer.unconnectingHeaders = 0
        let full = headers.count == WireLimits.maxHeaders

        if var presync = peer.presync {
            if presync.redownloading {
                guard presync.check(headers, salt: presyncSalt) else {
                    return misbehaving(peer, "redownloaded headers differ from the chain it sent before")
                }
                if presync.checked >= presync.count { peer.presync = nil } else { peer.presync = presync }
                return store(headers, from: peer, continueAfter: full || peer.presync != nil)
            }
            if first.previousHash == presync.lastHash {
                guard presync.record(headers, salt: presyncSalt) else {
                    return misbehaving(peer, "a low-work header chain longer than \(HeaderPresync.maxHeaders) headers")
                }
                presync.work = work
                if beatsStoreThreshold(work, snapshot) {
                    presync.redownloading = true
                    peer.presync = presync
                    logger.info("\(peer.label): its header chain (\(presync.count) headers) has enough work; fetching it again to store")
                    return requestHeaders(from: peer, locator: presync.startLocator)
                }
                peer.presync = presync
                if full { return requestHeaders(from: peer, locator: [last.hash]) }
                peer.presync = nil
                logger.debug("\(peer.label): ignoring a header chain of \(presync.count) headers: too little work to become the best chain")
                if headerSyncPeer == peer.id { finishHeaderSync(with: peer) }
                return
            }
        }

        if snapshot.header(last.hash) != nil {
            // Nothing new (an announcement of a known block, or an overlap).
            if full { requestHeaders(from: peer, locator: [last.hash] + snapshot.bestHeaderLocator()) }
            else if headerSyncPeer == peer.id {
                peer.headersExhaustedAt = peer.bestKnownHeight
                finishHeaderSync(with: peer)
            }
            return
        }
        // Headers up to a block a (correctly signed) pending chain lock names are stored
        // whatever their work: the node must be able to come back to the locked chain.
        if beatsStoreThreshold(work, snapshot) || leadsToPendingChainLock(headers) {
            return store(headers, from: peer, continueAfter: full)
        }
        guard full && solicited else {
            logger.debug("\(peer.label): ignoring \(headers.count) headers ending at height \(last.height): too little work to become the best chain")
            if headerSyncPeer == peer.id { finishHeaderSync(with: peer) }
            return
        }
        var presync = HeaderPresync(startLocator: [first.previousHash], lastHash: first.previousHash, work: work)
        _ = presync.record(headers, salt: presyncSalt)
        peer.presync = presync
        requestHeaders(from: peer, locator: [last.hash])
    }

    /// Whether a header chain with `work` may be stored: it beats the tip, or during initial
    /// sync it reaches the network's minimum chain work.
    func beatsStoreThreshold(_ work: UInt256, _ snapshot: ChainSnapshot) -> Bool {
        work > snapshot.tipChainWork
            || (settings.minimumChainWork > snapshot.tipChainWork && work >= settings.minimumChainWork)
    }

    /// Validates and stores headers on the chain queue (the writer may be busy connecting).
    func store(_ headers: [BlockHeader], from peer: Peer, continueAfter: Bool) {
        let chain = self.chain
        peer.headersRequestedAt = Self.now // what follows is asked for once these are in
        chainQueue.async {
            let (failure, added) = chain.withWriter { state -> (String?, Int) in
                var failure: String?
                var added = 0
                for header in headers {
                    do {
                        if try state.acceptHeader(header) == .added { added += 1 }
                    } catch ChainStateError.rejected(let rejection, let height, let hash) where rejection.rule == .headerTimeTooNew {
                        // Not the sender's fault: its clock, or ours. Stop here; asked again later.
                        failure = nil
                        self.logger.debug("header \(height) (\(hash.hex)) is too far in the future; stopping there")
                        break
                    } catch {
                        failure = "invalid header \(header.height) (\(header.hash.hex)): \(error)"
                        break
                    }
                }
                return (failure, added)
            }
            let target = chain.blocksToDownload(limit: Self.targetLimit)
            let snapshot = chain.snapshot
            self.loop.execute {
                peer.headersRequestedAt = nil
                if let failure { return self.misbehaving(peer, failure) }
                if added > 0 {
                    self.logger.debug("\(peer.label): \(added) new headers, best header now height \(snapshot.bestHeaderHeight)")
                }
                self.applyTarget((target.firstHeight, target.hashes), sequence: target.version)
                if continueAfter, let last = headers.last {
                    self.requestHeaders(from: peer, locator: [last.hash] + snapshot.bestHeaderLocator())
                } else if self.headerSyncPeer == peer.id {
                    self.finishHeaderSync(with: peer)
                }
            }
        }
    }

    func finishHeaderSync(with peer: Peer) {
        headerSyncPeer = nil
        let snapshot = chain.snapshot
        logger.debug("\(peer.label): headers in sync at height \(snapshot.bestHeaderHeight)")
        // Another peer may know of more.
        startHeaderSync()
    }

    /// The salt of the presync commitment bits (unknown to peers, so they cannot aim at it).
    var presyncSalt: [UInt8] { PeerManager.salt }
    static let salt: [UInt8] = (0..<16).map { _ in UInt8.random(in: 0...255) }
}
