import Foundation
import Primitives

/// Which blocks to ask which peer for during headers-first download, and the order they go
/// to verification: Bitcoin Core's moving window (net_processing's FindNextBlocksToDownload
/// and its stall rule), as pure logic with the clock passed in, so it is tested without a
/// network.
///
/// - Blocks of the target (the best header chain above the tip) are requested only within
///   `window` heights from the first block not yet received, at most `maxInFlightPerPeer`
///   per peer, lowest first, each from one peer at a time.
/// - Received blocks are handed out (`takeReady`) strictly in height order, each once.
/// - When the window is exhausted (everything in it received or in flight) and the peer
///   holding its first block keeps it past `stallTimeout`, that peer is reported stalled and
///   loses its requests, so others fetch them; any request older than `blockTimeout` is
///   treated the same. The caller disconnects stalled peers.
/// - Memory: while the received-but-not-handed-out bytes reach `maxBufferedBytes`, only the
///   window's first block (the one whose arrival lets `takeReady` drain) is requested. Blocks
///   already in flight may still arrive, so the overshoot is at most the in-flight blocks
///   (peers × `maxInFlightPerPeer`); the scheduler does not know a block's size before it comes.
///
/// Unrequested blocks: Bitcoin Core processes an unrequested block only in narrow cases
/// (new, more work, not too far ahead). Here a block is kept only when it was requested from
/// the peer that delivered it; anything else is `.unrequested` and not stored (so a peer
/// cannot fill the buffer with blocks nobody asked for), and the caller counts it as
/// misbehaviour when a peer floods them.
public struct DownloadScheduler {
    public typealias PeerID = Int

    public enum ReceiveResult: Equatable, Sendable {
        /// Requested from this peer and kept for `takeReady`.
        case accepted
        /// Already received or handed out (any in-flight request for it from this peer is freed).
        case duplicate
        /// Not requested from this peer: not stored.
        case unrequested
        /// Requested from this peer, but no longer on the target after `setTarget` (a header
        /// reorganisation): discarded, and not the peer's fault.
        case stale
    }

    public let window: Int
    public let maxInFlightPerPeer: Int
    public let stallTimeout: Double
    public let blockTimeout: Double
    public let maxBufferedBytes: Int

    private struct Request {
        var peer: PeerID
        var since: Double
    }

    private struct Received {
        var hash: Hash256
        var bytes: [UInt8]
        var peer: PeerID
    }

    /// The target: `hashes[i]` is at height `firstHeight + i`.
    private var firstHeight: UInt64 = 0
    private var hashes: [Hash256] = []
    private var heights: [Hash256: UInt64] = [:]
    /// The next height `takeReady` hands out.
    private var nextOut: UInt64 = 0
    /// The first height at or above `nextOut` not received yet (the window's start).
    private var firstMissing: UInt64 = 0
    private var received: [UInt64: Received] = [:]
    /// What was handed out since the last `setTarget` at or above its first height, so a new
    /// target that still holds those blocks does not hand them out again.
    private var handedOut: [UInt64: Hash256] = [:]
    /// Outstanding requests, target or not (a request dropped from the target still occupies
    /// the peer's slot until the block, a notfound, a timeout or a disconnect ends it).
    private var requested: [Hash256: Request] = [:]
    private var byPeer: [PeerID: Set<Hash256>] = [:]
    /// Peers that answered notfound for a hash: not asked for it again.
    private var notFoundBy: [Hash256: Set<PeerID>] = [:]
    /// Peers reported stalled: no requests until `peerDisconnected`.
    private var evicted: Set<PeerID> = []
    /// The window's first block, who holds it, and since when the window has been exhausted with it outstanding.
    private var stall: (hash: Hash256, peer: PeerID, since: Double)?
    public private(set) var bufferedBytes = 0

    public init(window: Int = 1024, maxInFlightPerPeer: Int = 16, stallTimeout: Double = 2, blockTimeout: Double = 60,
                maxBufferedBytes: Int = 256 << 20) {
        self.window = max(1, window)
        self.maxInFlightPerPeer = max(1, maxInFlightPerPeer)
        self.stallTimeout = stallTimeout
        self.blockTimeout = blockTimeout
        self.maxBufferedBytes = maxBufferedBytes
    }

    public var inFlightCount: Int { requested.count }
    public func inFlight(for peer: PeerID) -> Int { byPeer[peer]?.count ?? 0 }
    /// Received blocks not handed out yet.
    public var bufferedCount: Int { received.count }
    /// Everything in the target has been handed out.
    public var isComplete: Bool { nextOut >= endHeight }
    /// The next height `takeReady` will hand out.
    public var nextHeight: UInt64 { nextOut }

    private var endHeight: UInt64 { firstHeight + UInt64(hashes.count) }
    private func hash(at height: UInt64) -> Hash256? {
        height >= firstHeight && height < endHeight ? hashes[Int(height - firstHeight)] : nil
    }

    /// The chain to download: the best header chain's hashes from `firstHeight` (tip + 1)
    /// upward. A replacement keeps the received blocks and requests still on the new chain
    /// (at the same height) and drops the other received blocks; requests off the new chain
    /// stay outstanding for their peers' slots and come back as `.stale`.
    /// `firstHeight` should not go down except when the chain below it was reorganised: the
    /// hand-outs below the current `firstHeight` are forgotten, so a lower one hands those
    /// heights out again.
    ///
    /// Cheap when the new target extends the old one (new headers, the tip moved): called
    /// for every headers message of a million-block download.
    public mutating func setTarget(firstHeight: UInt64, hashes: [Hash256]) {
        let (oldFirst, oldEnd, oldHashes) = (self.firstHeight, endHeight, self.hashes)
        self.firstHeight = firstHeight
        self.hashes = hashes
        // Headers commit to their parents: the same hash at the old target's last height
        // means the whole overlap is the same chain, so only the ends of the index change.
        if let last = oldHashes.last, firstHeight >= oldFirst, firstHeight < oldEnd, hash(at: oldEnd - 1) == last {
            for height in oldFirst..<firstHeight { heights[oldHashes[Int(height - oldFirst)]] = nil }
            for height in oldEnd..<max(oldEnd, endHeight) { heights[hashes[Int(height - firstHeight)]] = height }
        } else {
            heights = Dictionary(hashes.enumerated().map { ($0.element, firstHeight + UInt64($0.offset)) },
                                 uniquingKeysWith: { first, _ in first })
        }
        handedOut = handedOut.filter { $0.key >= firstHeight && hash(at: $0.key) == $0.value }
        nextOut = firstHeight
        while let hash = hash(at: nextOut), handedOut[nextOut] == hash { nextOut += 1 }
        for (height, block) in received where height < nextOut || hash(at: height) != block.hash {
            received[height] = nil
            bufferedBytes -= block.bytes.count
        }
        firstMissing = nextOut
        advanceFirstMissing()
        // The stall clock is kept: it restarts only when the window's first block changes
        // (`noteWindow`), or a node that retargets at every headers message would never evict.
    }

    /// The lowest not-yet-requested hashes inside the window that `peer` can serve (up to
    /// `peerBestHeight`), up to its free slots, marked in flight for it at `now`.
    public mutating func requests(for peer: PeerID, peerBestHeight: UInt64, now: Double) -> [Hash256] {
        guard !evicted.contains(peer) else { return [] }
        let free = maxInFlightPerPeer - inFlight(for: peer)
        noteWindow(now: now)
        guard free > 0 else { return [] }
        // Over the byte budget only the block that lets `takeReady` drain may be fetched.
        let last = bufferedBytes >= maxBufferedBytes ? min(windowEnd, firstMissing + 1) : windowEnd
        var result = [Hash256]()
        var height = firstMissing
        while height < last && height <= peerBestHeight && result.count < free {
            defer { height += 1 }
            let hash = hashes[Int(height - firstHeight)]
            guard received[height] == nil, requested[hash] == nil, notFoundBy[hash]?.contains(peer) != true else { continue }
            requested[hash] = Request(peer: peer, since: now)
            byPeer[peer, default: []].insert(hash)
            result.append(hash)
        }
        return result
    }

    /// A block arrived from `peer`.
    public mutating func received(_ hash: Hash256, bytes: [UInt8], from peer: PeerID) -> ReceiveResult {
        let wasRequested = requested[hash]?.peer == peer
        guard let height = heights[hash] else {
            guard wasRequested else { return .unrequested }
            release(hash)
            return .stale
        }
        if height < nextOut || received[height] != nil {
            if wasRequested { release(hash) }
            return .duplicate
        }
        guard wasRequested else { return .unrequested }
        release(hash)
        received[height] = Received(hash: hash, bytes: bytes, peer: peer)
        bufferedBytes += bytes.count
        if height == firstMissing {
            advanceFirstMissing()
            stall = nil
        }
        return .accepted
    }

    /// The received blocks from the next height on, consecutive, in height order; removed.
    public mutating func takeReady() -> [(hash: Hash256, bytes: [UInt8], peer: PeerID)] {
        var ready = [(hash: Hash256, bytes: [UInt8], peer: PeerID)]()
        while let block = received.removeValue(forKey: nextOut) {
            bufferedBytes -= block.bytes.count
            handedOut[nextOut] = block.hash
            ready.append((block.hash, block.bytes, block.peer))
            nextOut += 1
        }
        return ready
    }

    /// Peers to disconnect now: the one holding the window's first block for more than
    /// `stallTimeout` while nothing else can be requested (the window, or the byte budget,
    /// is exhausted), and any holding a request older than `blockTimeout`. Their requests
    /// are freed for other peers, and they get no more until `peerDisconnected`.
    public mutating func stalledPeers(now: Double) -> [PeerID] {
        noteWindow(now: now)
        var stalled = Set<PeerID>()
        if let stall, now - stall.since > stallTimeout { stalled.insert(stall.peer) }
        for request in requested.values where now - request.since > blockTimeout { stalled.insert(request.peer) }
        for peer in stalled {
            dropRequests(of: peer)
            evicted.insert(peer)
        }
        if !stalled.isEmpty { stall = nil }
        return stalled.sorted()
    }

    /// The peer is gone: its requests can go to others.
    public mutating func peerDisconnected(_ peer: PeerID) {
        dropRequests(of: peer)
        evicted.remove(peer)
        for hash in Array(notFoundBy.keys) {
            notFoundBy[hash]?.remove(peer)
            if notFoundBy[hash]?.isEmpty == true { notFoundBy[hash] = nil }
        }
        if stall?.peer == peer { stall = nil }
    }

    /// The peer does not have the block: its slot is freed and it is not asked for it again.
    public mutating func notFound(_ hash: Hash256, from peer: PeerID) {
        if requested[hash]?.peer == peer { release(hash) }
        if heights[hash] != nil { notFoundBy[hash, default: []].insert(peer) }
        if stall?.hash == hash { stall = nil }
    }

    // MARK: - Internals

    private var windowEnd: UInt64 { min(endHeight, firstMissing + UInt64(window)) }

    private mutating func advanceFirstMissing() {
        while firstMissing < endHeight && received[firstMissing] != nil { firstMissing += 1 }
    }

    private mutating func release(_ hash: Hash256) {
        guard let request = requested.removeValue(forKey: hash) else { return }
        byPeer[request.peer]?.remove(hash)
        if byPeer[request.peer]?.isEmpty == true { byPeer[request.peer] = nil }
    }

    private mutating func dropRequests(of peer: PeerID) {
        for hash in byPeer[peer] ?? [] { requested[hash] = nil }
        byPeer[peer] = nil
    }

    /// Starts (or ends) the stall clock: it runs while nothing more can be requested and the
    /// window's first block is in flight; it restarts when that block or its holder changes.
    private mutating func noteWindow(now: Double) {
        guard let first = hash(at: firstMissing), let holder = requested[first], exhausted else { stall = nil; return }
        if let stall, stall.hash == first && stall.peer == holder.peer { return }
        stall = (first, holder.peer, now)
    }

    /// Nothing can be requested: every block of the window is received or in flight and the
    /// target goes on past it (Core's "window full"), or the byte budget is reached.
    private var exhausted: Bool {
        if bufferedBytes >= maxBufferedBytes { return true }
        guard windowEnd < endHeight else { return false }
        var height = firstMissing
        while height < windowEnd {
            if received[height] == nil && requested[hashes[Int(height - firstHeight)]] == nil { return false }
            height += 1
        }
        return true
    }
}
