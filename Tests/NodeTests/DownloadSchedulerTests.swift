import Foundation
import Node
import Primitives
import Testing
import TestSupport

/// The moving-window block download (Bitcoin Core's rules) as pure logic: the window, the
/// per-peer cap, in-order hand-out, stalls, disconnects, notfound, the byte budget, retargets.
struct DownloadSchedulerTests {
    typealias Scheduler = DownloadScheduler

    /// A distinct hash per (chain, height): chain 0 and a fork (chain 1) share nothing.
    static func hash(_ height: Int, chain: UInt8 = 0) -> Hash256 {
        var bytes = [UInt8](repeating: 0, count: 32)
        bytes[0] = chain
        withUnsafeBytes(of: UInt64(height).littleEndian) { bytes.replaceSubrange(8..<16, with: $0) }
        return Hash256(bytes: bytes)!
    }

    static func chain(_ count: Int, from first: Int = 1, chain: UInt8 = 0) -> [Hash256] {
        (first..<first + count).map { hash($0, chain: chain) }
    }

    /// Block bytes that name their hash (so a mix-up shows).
    static func bytes(_ hash: Hash256, size: Int = 100) -> [UInt8] {
        let text = Array(hash.hex.utf8.prefix(size))
        return text + [UInt8](repeating: 0, count: size - text.count)
    }

    /// Delivers `hash` from `peer` and expects `.accepted`.
    static func deliver(_ scheduler: inout Scheduler, _ hash: Hash256, from peer: Int, size: Int = 100,
                        sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(scheduler.received(hash, bytes: bytes(hash, size: size), from: peer) == .accepted, sourceLocation: sourceLocation)
    }

    @Test("requests stay inside the window past the first missing block, lowest first, each hash once")
    func window() {
        var scheduler = Scheduler(window: 40, maxInFlightPerPeer: 16)
        let target = Self.chain(300)
        scheduler.setTarget(firstHeight: 1, hashes: target)
        var handed = 0
        var outstanding: [Hash256: Int] = [:]
        var rng = SeededGenerator(testSeed: 0xD0_0001)
        for round in 0..<5_000 {
            for peer in 0..<6 {
                for hash in scheduler.requests(for: peer, peerBestHeight: 1_000, now: Double(round)) {
                    #expect(outstanding[hash] == nil, "\(hash) requested twice")
                    outstanding[hash] = peer
                }
            }
            // Every request lies within `window` heights of the first block not received (the
            // hand-out has just drained, so that is the next height to hand out).
            #expect(scheduler.nextHeight == UInt64(handed + 1))
            let firstMissing = handed
            for hash in outstanding.keys {
                let index = target.firstIndex(of: hash)!
                #expect(index >= firstMissing && index < firstMissing + 40, "height \(index + 1), first missing \(firstMissing + 1)")
            }
            #expect(scheduler.inFlightCount == outstanding.count && outstanding.count <= 40)
            // Some requests are answered, in random order; the hand-out drains.
            for (hash, peer) in outstanding.shuffled(using: &rng).prefix(Int.random(in: 0...12, using: &rng)) {
                Self.deliver(&scheduler, hash, from: peer)
                outstanding[hash] = nil
            }
            handed += scheduler.takeReady().count
            if scheduler.isComplete { break }
        }
        #expect(scheduler.isComplete && handed == 300)
    }

    @Test("at most maxInFlightPerPeer in flight per peer; answers free slots for the next lowest blocks")
    func perPeerCap() {
        var scheduler = Scheduler(window: 1024, maxInFlightPerPeer: 16)
        let target = Self.chain(100)
        scheduler.setTarget(firstHeight: 1, hashes: target)
        #expect(scheduler.requests(for: 1, peerBestHeight: 100, now: 0) == Array(target[0..<16]))
        #expect(scheduler.requests(for: 1, peerBestHeight: 100, now: 0) == [])
        #expect(scheduler.inFlight(for: 1) == 16)
        // Another peer gets the next ones; one whose best height is lower gets only what it has.
        #expect(scheduler.requests(for: 2, peerBestHeight: 100, now: 0) == Array(target[16..<32]))
        #expect(scheduler.requests(for: 3, peerBestHeight: 35, now: 0) == Array(target[32..<35]))
        for hash in target[3..<8] { Self.deliver(&scheduler, hash, from: 1) }
        #expect(scheduler.inFlight(for: 1) == 11)
        #expect(scheduler.requests(for: 1, peerBestHeight: 100, now: 1) == Array(target[35..<40]))
        #expect(scheduler.inFlight(for: 1) == 16 && scheduler.inFlightCount == 16 + 16 + 3)
        // Nothing handed out before height 1 comes.
        #expect(scheduler.takeReady().isEmpty)
    }

    @Test("blocks from 3 peers arriving in random order come out in height order, each exactly once")
    func inOrderHandOut() {
        var rng = SeededGenerator(testSeed: 0xD0_0003)
        var scheduler = Scheduler(window: 64, maxInFlightPerPeer: 8)
        let target = Self.chain(500, from: 101)
        scheduler.setTarget(firstHeight: 101, hashes: target)
        var pending: [(Hash256, Int)] = []
        var out: [Hash256] = []
        var now = 0.0
        while !scheduler.isComplete {
            now += 0.01
            for peer in 0..<3 { pending += scheduler.requests(for: peer, peerBestHeight: 600, now: now).map { ($0, peer) } }
            guard !pending.isEmpty else { Issue.record("nothing to request at height \(scheduler.nextHeight)"); break }
            pending.shuffle(using: &rng)
            let count = Int.random(in: 1...pending.count, using: &rng)
            for (hash, peer) in pending.prefix(count) {
                Self.deliver(&scheduler, hash, from: peer)
                // A second copy is a duplicate, never handed out twice.
                #expect(scheduler.received(hash, bytes: Self.bytes(hash), from: peer) == .duplicate)
            }
            pending.removeFirst(count)
            for block in scheduler.takeReady() {
                #expect(block.bytes == Self.bytes(block.hash))
                out.append(block.hash)
            }
        }
        #expect(out == target)
        #expect(scheduler.bufferedBytes == 0 && scheduler.inFlightCount == 0)
    }

    @Test("a peer holding the window's first block past the stall timeout loses its slots to another")
    func stall() {
        var scheduler = Scheduler(window: 32, maxInFlightPerPeer: 16, stallTimeout: 2, blockTimeout: 60)
        let target = Self.chain(100)
        scheduler.setTarget(firstHeight: 1, hashes: target)
        let slow = scheduler.requests(for: 1, peerBestHeight: 100, now: 10)
        let fast = scheduler.requests(for: 2, peerBestHeight: 100, now: 10)
        #expect(slow == Array(target[0..<16]) && fast == Array(target[16..<32]))
        for hash in fast { Self.deliver(&scheduler, hash, from: 2) }
        // The window (heights 1...32) is exhausted: peer 2 can get nothing while peer 1 holds height 1.
        #expect(scheduler.requests(for: 2, peerBestHeight: 100, now: 10.5).isEmpty)
        #expect(scheduler.stalledPeers(now: 12).isEmpty)  // 1.5 s: not yet
        // New headers (the node retargets at each headers message) do not restart the clock.
        scheduler.setTarget(firstHeight: 1, hashes: target + Self.chain(10, from: 101))
        #expect(scheduler.stalledPeers(now: 12.6) == [1])
        #expect(scheduler.inFlight(for: 1) == 0)
        // Its blocks go to the other peer; the stalled one gets nothing until it is disconnected.
        #expect(scheduler.requests(for: 2, peerBestHeight: 100, now: 12.6) == Array(target[0..<16]))
        #expect(scheduler.requests(for: 1, peerBestHeight: 100, now: 12.6).isEmpty)
        // A late answer from the stalled peer is not taken.
        #expect(scheduler.received(target[0], bytes: Self.bytes(target[0]), from: 1) == .unrequested)
        scheduler.peerDisconnected(1)
        for hash in target[0..<16] { Self.deliver(&scheduler, hash, from: 2) }
        #expect(scheduler.takeReady().map(\.hash) == Array(target[0..<32]))

        // A slow first block while the window still has room is no stall...
        var roomy = Scheduler(window: 1024, maxInFlightPerPeer: 16, stallTimeout: 2, blockTimeout: 60)
        roomy.setTarget(firstHeight: 1, hashes: target)
        _ = roomy.requests(for: 1, peerBestHeight: 100, now: 0)
        _ = roomy.requests(for: 2, peerBestHeight: 100, now: 0)
        #expect(roomy.stalledPeers(now: 30).isEmpty)
        // ...until a request is older than the block timeout.
        for hash in target[16..<32] { Self.deliver(&roomy, hash, from: 2) }
        #expect(roomy.stalledPeers(now: 60.5) == [1])
        #expect(roomy.inFlightCount == 0)
    }

    @Test("a disconnected peer's blocks become requestable by others")
    func disconnect() {
        var scheduler = Scheduler(window: 1024, maxInFlightPerPeer: 16)
        let target = Self.chain(40)
        scheduler.setTarget(firstHeight: 1, hashes: target)
        let first = scheduler.requests(for: 7, peerBestHeight: 40, now: 0)
        #expect(scheduler.requests(for: 8, peerBestHeight: 40, now: 0) == Array(target[16..<32]))
        Self.deliver(&scheduler, first[0], from: 7)
        scheduler.peerDisconnected(7)
        #expect(scheduler.inFlight(for: 7) == 0 && scheduler.inFlightCount == 16)
        // What it had delivered stays; what it had in flight goes to the next peer.
        #expect(scheduler.requests(for: 9, peerBestHeight: 40, now: 1) == Array(target[1..<16]) + [target[32]])
        #expect(scheduler.takeReady().map(\.hash) == [target[0]])
    }

    @Test("notfound frees the slot and that peer is not asked for the block again; others are")
    func notFound() {
        var scheduler = Scheduler(window: 1024, maxInFlightPerPeer: 4)
        let target = Self.chain(20)
        scheduler.setTarget(firstHeight: 1, hashes: target)
        #expect(scheduler.requests(for: 1, peerBestHeight: 20, now: 0) == Array(target[0..<4]))
        scheduler.notFound(target[1], from: 1)
        #expect(scheduler.inFlight(for: 1) == 3)
        // Its free slot takes the next block, not the one it lacks.
        #expect(scheduler.requests(for: 1, peerBestHeight: 20, now: 1) == [target[4]])
        #expect(scheduler.requests(for: 2, peerBestHeight: 20, now: 1) == [target[1]] + Array(target[5..<8]))
        // A notfound for a block the peer was not asked for changes nothing.
        scheduler.notFound(target[6], from: 1)
        #expect(scheduler.inFlight(for: 2) == 4 && scheduler.received(target[6], bytes: Self.bytes(target[6]), from: 2) == .accepted)
    }

    @Test("the byte budget stops requests (but the one block that drains) until takeReady frees it")
    func byteBudget() {
        var scheduler = Scheduler(window: 1024, maxInFlightPerPeer: 16, maxBufferedBytes: 1_000)
        let target = Self.chain(100)
        scheduler.setTarget(firstHeight: 1, hashes: target)
        let first = scheduler.requests(for: 1, peerBestHeight: 100, now: 0)
        // Heights 2...5 come (1,200 bytes), height 1 does not: nothing can be handed out.
        for hash in first[1..<5] { Self.deliver(&scheduler, hash, from: 1, size: 300) }
        #expect(scheduler.bufferedBytes == 1_200 && scheduler.takeReady().isEmpty)
        #expect(scheduler.requests(for: 2, peerBestHeight: 100, now: 1).isEmpty)
        // Peer 1 leaves: the only block peer 2 may fetch now is height 1, the one that lets the buffer drain.
        scheduler.peerDisconnected(1)
        #expect(scheduler.requests(for: 2, peerBestHeight: 100, now: 2) == [target[0]])
        #expect(scheduler.requests(for: 2, peerBestHeight: 100, now: 2).isEmpty)
        Self.deliver(&scheduler, target[0], from: 2, size: 300)
        #expect(scheduler.takeReady().map(\.hash) == Array(target[0..<5]))
        #expect(scheduler.bufferedBytes == 0)
        #expect(scheduler.requests(for: 2, peerBestHeight: 100, now: 3) == Array(target[5..<21]))
    }

    @Test("a retarget to a fork keeps the common prefix's blocks, drops the rest; old requests come back stale")
    func retarget() {
        var scheduler = Scheduler(window: 1024, maxInFlightPerPeer: 16)
        let old = Self.chain(40)
        scheduler.setTarget(firstHeight: 1, hashes: old)
        let asked = scheduler.requests(for: 1, peerBestHeight: 40, now: 0) + scheduler.requests(for: 2, peerBestHeight: 40, now: 0)
        #expect(asked == Array(old[0..<32]))
        // Heights 2...6 and 10...14 arrive from peer 1; height 1 is still missing.
        for index in Array(1..<6) + Array(9..<14) { Self.deliver(&scheduler, old[index], from: 1, size: 50) }
        #expect(scheduler.bufferedBytes == 500)
        // Headers reorganise from height 9: the fork's blocks replace heights 9 and up.
        let fork = Array(old[0..<8]) + Self.chain(40, from: 9, chain: 1)
        scheduler.setTarget(firstHeight: 1, hashes: fork)
        #expect(scheduler.bufferedBytes == 250)
        // Off-chain requests still hold their peers' slots until they come back, as stale.
        #expect(scheduler.inFlight(for: 2) == 16)
        #expect(scheduler.received(old[20], bytes: Self.bytes(old[20]), from: 2) == .stale)
        #expect(scheduler.received(old[21], bytes: Self.bytes(old[21]), from: 1) == .unrequested)
        #expect(scheduler.inFlight(for: 2) == 15)
        // The fork's blocks are requested; the kept ones are not fetched again.
        let forkAsked = scheduler.requests(for: 3, peerBestHeight: 48, now: 1)
        #expect(forkAsked == Array(fork[8..<24]))
        Self.deliver(&scheduler, old[0], from: 1, size: 50)
        #expect(scheduler.takeReady().map(\.hash) == Array(fork[0..<6]))
        for hash in [old[6], old[7]] { Self.deliver(&scheduler, hash, from: 1, size: 50) }
        for hash in forkAsked { Self.deliver(&scheduler, hash, from: 3, size: 50) }
        #expect(scheduler.takeReady().map(\.hash) == Array(fork[6..<24]))

        // New headers extend the same chain: nothing handed out comes again.
        scheduler.setTarget(firstHeight: 1, hashes: fork + Self.chain(5, from: 49, chain: 1))
        #expect(scheduler.nextHeight == 25 && scheduler.takeReady().isEmpty)
        #expect(scheduler.received(fork[3], bytes: Self.bytes(fork[3]), from: 3) == .duplicate)
        // The tip moved to 20 (the verifier lags the hand-out): from 21 on, 21...24 are not handed out again,
        // and the requests still out for the old chain keep their slots.
        let extended = fork + Self.chain(5, from: 49, chain: 1)
        scheduler.setTarget(firstHeight: 21, hashes: Array(extended[20...]))
        #expect(scheduler.nextHeight == 25 && scheduler.inFlight(for: 2) == 15)
        #expect(scheduler.requests(for: 3, peerBestHeight: 53, now: 2) == Array(extended[24..<40]))
    }

    @Test("seeded simulation: peers deliver, drop, answer notfound, stall and leave; every block comes out once, in order")
    func simulation() {
        var rng = SeededGenerator(testSeed: 0xD0_0009)
        // What the runs went through, so the simulation is known to reach every path.
        var (evictions, notFounds, overBudget, dropped) = (0, 0, 0, 0)
        for trial in 0..<20 {
            var scheduler = Scheduler(window: Int.random(in: 8...128, using: &rng), maxInFlightPerPeer: Int.random(in: 1...16, using: &rng),
                                      stallTimeout: 2, blockTimeout: 10, maxBufferedBytes: Int.random(in: 500...20_000, using: &rng))
            var length = Int.random(in: 50...600, using: &rng)
            var target = Self.chain(length)
            scheduler.setTarget(firstHeight: 1, hashes: target)
            struct Peer { var id: Int; var best: Int; var reliability: Double; var pending: [(Hash256, Double)] = [] }
            var peers: [Peer] = []
            var nextID = 0
            func join() {
                peers.append(Peer(id: nextID, best: Int.random(in: length / 2...length + 10, using: &rng),
                                  reliability: [0, 0.3, 0.9, 1].randomElement(using: &rng)!))
                nextID += 1
            }
            for _ in 0..<Int.random(in: 1...5, using: &rng) { join() }
            var out: [Hash256] = []
            var now = 0.0
            var steps = 0
            var mostPeers = 0
            var tipFirst = 1
            while !scheduler.isComplete && steps < 200_000 {
                steps += 1
                now += 0.1
                // Headers arrive: the target grows (same chain), every peer learns of them.
                if Int.random(in: 0..<200, using: &rng) == 0 {
                    let more = Int.random(in: 1...40, using: &rng)
                    target += Self.chain(more, from: length + 1)
                    length += more
                    if Bool.random(using: &rng) {
                        scheduler.setTarget(firstHeight: UInt64(tipFirst), hashes: Array(target[(tipFirst - 1)...]))
                    } else {
                        // From the verified tip + 1, which lags what was handed out (those are not
                        // handed out again) but never goes down without a reorganisation.
                        tipFirst = max(tipFirst, out.count + 1 - Int.random(in: 0...5, using: &rng))
                        scheduler.setTarget(firstHeight: UInt64(tipFirst), hashes: Array(target[(tipFirst - 1)...]))
                    }
                    for index in peers.indices { peers[index].best = max(peers[index].best, length) }
                }
                for index in peers.indices {
                    let peer = peers[index]
                    for hash in scheduler.requests(for: peer.id, peerBestHeight: UInt64(peer.best), now: now) {
                        peers[index].pending.append((hash, now + Double.random(in: 0.1...1.5, using: &rng)))
                    }
                    #expect(scheduler.inFlight(for: peer.id) <= scheduler.maxInFlightPerPeer)
                }
                for index in peers.indices {
                    let peer = peers[index]
                    var kept: [(Hash256, Double)] = []
                    for (hash, due) in peer.pending {
                        guard due <= now else { kept.append((hash, due)); continue }
                        let roll = Double.random(in: 0..<1, using: &rng)
                        if roll < peer.reliability {
                            let result = scheduler.received(hash, bytes: Self.bytes(hash, size: Int.random(in: 50...400, using: &rng)), from: peer.id)
                            // Each hash is asked of one peer at a time, and peers that lost their requests are gone.
                            #expect(result == .accepted)
                        } else if roll < peer.reliability + 0.05 {
                            scheduler.notFound(hash, from: peer.id)
                            notFounds += 1
                        } else {
                            dropped += 1
                        }
                    }
                    peers[index].pending = kept
                }
                if scheduler.bufferedBytes >= scheduler.maxBufferedBytes { overBudget += 1 }
                for stalled in scheduler.stalledPeers(now: now) {
                    evictions += 1
                    scheduler.peerDisconnected(stalled)
                    peers.removeAll { $0.id == stalled }
                }
                if Int.random(in: 0..<300, using: &rng) == 0, !peers.isEmpty {
                    let leaving = peers.remove(at: Int.random(in: 0..<peers.count, using: &rng))
                    scheduler.peerDisconnected(leaving.id)
                }
                // Someone always serves the whole chain eventually.
                if peers.count < 2 || !peers.contains(where: { $0.reliability > 0 && $0.best >= length }) {
                    join()
                    peers[peers.count - 1].best = length
                    peers[peers.count - 1].reliability = 1
                }
                mostPeers = max(mostPeers, peers.count)
                // Over the budget only requests already out (and the one that drains) still arrive.
                #expect(scheduler.bufferedBytes <= scheduler.maxBufferedBytes + 400 * (scheduler.maxInFlightPerPeer * mostPeers + 1))
                out += scheduler.takeReady().map(\.hash)
            }
            #expect(scheduler.isComplete, "trial \(trial): stuck at height \(scheduler.nextHeight) of \(length)")
            #expect(out == target, "trial \(trial)")
            #expect(scheduler.bufferedBytes == 0)
        }
        // Dropped requests are recovered only by the stall and block timeouts.
        #expect(evictions > 0 && notFounds > 0 && overBudget > 0 && dropped > 0, "\((evictions, notFounds, overBudget, dropped))")
    }
}

