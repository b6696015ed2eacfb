import Foundation
import Mempool
import Primitives
import Testing
import Wire
@testable import Node

/// The relay's defences: one request in flight per wtxid (the tracker on its own, with made-up
/// times, and over the wire), the bounded acceptance queue with per-peer shares, and the
/// trickle all inbound peers share.
@Suite("Transaction relay limits", .serialized)
struct TransactionRelayLimitsTests {
    static func wtxid(_ tag: Int) -> Hash256 { relayTestTransaction(tag).wtxid }

    @Test("tracker: one request in flight per wtxid; a preferred announcer is asked at once, an inbound one after its delay")
    func trackerOneInFlight() {
        var tracker = TransactionRequestTracker(maxPerPeer: 10, nonPreferredDelay: 2, timeout: 60)
        let wtxid = Self.wtxid(1)
        tracker.announced(wtxid, by: 1, preferred: false, now: 100)
        #expect(tracker.dueRequests(now: 100).isEmpty)
        // An outbound announcer arriving within the delay is asked first, at once.
        tracker.announced(wtxid, by: 2, preferred: true, now: 101)
        #expect(tracker.dueRequests(now: 101) == [2: [wtxid]])
        // The inbound announcer's turn comes and goes: one request is in flight already.
        #expect(tracker.dueRequests(now: 102).isEmpty)
        #expect(tracker.dueRequests(now: 150).isEmpty)
        // Only once it times out is the other announcer asked.
        #expect(tracker.dueRequests(now: 161) == [1: [wtxid]])
        #expect(tracker.inFlightCount(1) == 1 && tracker.inFlightCount(2) == 0)
        tracker.received(wtxid)
        #expect(!tracker.isTracked(wtxid))
        #expect(tracker.byPeer.isEmpty)
        #expect(tracker.dueRequests(now: 1_000).isEmpty)
    }

    @Test("tracker: notfound and a disconnection pass the request to the next announcer; nobody left, it is dropped")
    func trackerFallback() {
        var tracker = TransactionRequestTracker(maxPerPeer: 10, nonPreferredDelay: 2, timeout: 60)
        let first = Self.wtxid(1), second = Self.wtxid(2)
        for peer in 1...3 { tracker.announced(first, by: peer, preferred: true, now: 10) }
        tracker.announced(second, by: 1, preferred: true, now: 10)
        #expect(tracker.dueRequests(now: 10) == [1: [first, second]])
        // notfound from someone not asked changes nothing.
        tracker.notFound(first, from: 2, now: 11)
        #expect(tracker.dueRequests(now: 11).isEmpty)
        tracker.notFound(first, from: 1, now: 12)
        #expect(tracker.dueRequests(now: 12) == [2: [first]])
        tracker.peerGone(2, now: 13)
        #expect(tracker.dueRequests(now: 13) == [3: [first]])
        // Peer 1 leaves: `second` has no other announcer and is dropped.
        tracker.peerGone(1, now: 14)
        #expect(tracker.dueRequests(now: 14).isEmpty)
        #expect(!tracker.isTracked(second) && tracker.isTracked(first))
        tracker.notFound(first, from: 3, now: 15)
        #expect(tracker.dueRequests(now: 15).isEmpty)
        #expect(!tracker.isTracked(first) && tracker.records.isEmpty && tracker.byPeer.isEmpty)
    }

    @Test("tracker: a peer's announcements (and so its requests in flight) are bounded")
    func trackerPerPeerLimit() {
        var tracker = TransactionRequestTracker(maxPerPeer: 3, nonPreferredDelay: 2, timeout: 60)
        let accepted = (1...5).map { tracker.announced(Self.wtxid($0), by: 7, preferred: true, now: 0) }
        #expect(accepted == [true, true, true, false, false])
        #expect(!tracker.hasRoom(for: 7) && tracker.hasRoom(for: 8))
        #expect(tracker.dueRequests(now: 0)[7]?.count == 3)
        tracker.received(Self.wtxid(1))
        #expect(tracker.hasRoom(for: 7))
    }

    @Test("over the wire: two peers announce one transaction; one getdata, the other peer asked after notfound", .timeLimit(.minutes(5)))
    func oneRequestAcrossPeers() async throws {
        try await TransactionRelayTests.withNode { node in
            let first = try await RelayTestPeer.handshaken(with: node)
            let second = try await RelayTestPeer.handshaken(with: node)
            let transaction = relayTestTransaction(1)
            let item = InventoryItem(type: .transaction, hash: transaction.wtxid)
            first.send(.inv([item]))
            #expect(await first.waitFor { $0 == .getdata([item]) } != nil)
            second.send(.inv([item]))
            #expect(await second.roundTrip())
            // Past the inbound delay: still not asked while the first request stands.
            try await Task.sleep(for: .seconds(3))
            #expect(await second.roundTrip())
            #expect(!second.messages.contains(.getdata([item])))
            first.send(.notfound([item]))
            #expect(await second.waitFor { $0 == .getdata([item]) } != nil)
            second.send(.tx(transaction))
            #expect(await eventually { node.pool.feeRate(wtxid: transaction.wtxid) != nil })
            #expect(first.messages.filter { $0 == .getdata([item]) }.count == 1)
        }
    }

    @Test("a transaction being accepted is neither fetched again nor queued twice", .timeLimit(.minutes(5)))
    func notFetchedWhileBeingAccepted() async throws {
        let pool = ScriptedPool(acceptDelay: 3)
        try await TransactionRelayTests.withNode(pool: pool) { node in
            let sender = try await RelayTestPeer.handshaken(with: node)
            let announcer = try await RelayTestPeer.handshaken(with: node)
            let transaction = relayTestTransaction(1)
            sender.send(.tx(transaction))
            sender.send(.tx(transaction))
            #expect(await sender.roundTrip())
            let item = InventoryItem(type: .transaction, hash: transaction.wtxid)
            announcer.send(.inv([item]))
            #expect(await announcer.roundTrip())
            #expect(await eventually { pool.feeRate(wtxid: transaction.wtxid) != nil })
            // Past the inbound delay: the announcer was never asked.
            try await Task.sleep(for: .seconds(3))
            #expect(await announcer.roundTrip())
            #expect(!announcer.messages.contains(.getdata([item])))
            #expect(pool.batchSizes.reduce(0, +) == 1)
        }
    }

    @Test("a transaction over the standard size is dropped before the pool sees it", .timeLimit(.minutes(5)))
    func oversizedDropped() async throws {
        try await TransactionRelayTests.withNode { node in
            let peer = try await RelayTestPeer.handshaken(with: node)
            let big = Transaction(inputs: [TxIn(previousOutput: OutPoint(txid: Self.wtxid(9), index: 0))],
                                  outputs: (0..<12).map { _ in TxOut(value: Amount(baseUnits: 1_000)!, lockScript: [UInt8](repeating: 0x51, count: 9_000)) })
            #expect(big.encoded.count > PeerManager.maxRelayedTransactionBytes)
            let small = relayTestTransaction(1)
            peer.send(.tx(big))
            peer.send(.tx(small))
            #expect(await eventually { node.pool.feeRate(wtxid: small.wtxid) != nil })
            #expect(node.pool.batchSizes.reduce(0, +) == 1)
            #expect(node.pool.feeRate(wtxid: big.wtxid) == nil)
            #expect(!peer.isClosed)
        }
    }

    @Test("a flooding peer gets at most its share of the acceptance queue; an honest peer's transactions still enter", .timeLimit(.minutes(5)))
    func floodingPeerShare() async throws {
        let pool = ScriptedPool(acceptDelay: 3)
        try await TransactionRelayTests.withNode(pool: pool) { node in
            let flooder = try await RelayTestPeer.handshaken(with: node)
            let honest = try await RelayTestPeer.handshaken(with: node)
            let flood = (1...2_000).map { relayTestTransaction($0) }
            flooder.sendTogether(flood.map { .tx($0) })
            #expect(await flooder.roundTrip())
            let honestTransactions = (10_001...10_010).map { relayTestTransaction($0) }
            honest.sendTogether(honestTransactions.map { .tx($0) })
            #expect(await honest.roundTrip())
            #expect(await eventually(seconds: 60) { honestTransactions.allSatisfy { pool.feeRate(wtxid: $0.wtxid) != nil } })
            // The share is a quarter of 5,000; only the first batch may have started before.
            let flooded = flood.filter { pool.feeRate(wtxid: $0.wtxid) != nil }.count
            #expect(flooded < flood.count)
            #expect(flooded <= PeerManager.maxTransactionsBeingAccepted / PeerManager.peerShareDivisor + 1)
        }
    }

    @Test("all inbound peers share one trickle: a peer's own timer does not send to it, the shared one sends to all", .timeLimit(.minutes(5)))
    func sharedInboundTrickle() async throws {
        try await TransactionRelayTests.withNode { node in
            let first = try await RelayTestPeer.handshaken(with: node)
            let second = try await RelayTestPeer.handshaken(with: node)
            let pooled = relayTestTransaction(1)
            node.pool.add(pooled, feeRate: 3_000)
            node.manager.relayTransaction(wtxid: pooled.wtxid)
            try await node.withPeer(first.localPort) { manager, peer in
                peer.nextTrickleAt = 0
                manager.relayTick()
            }
            #expect(await first.roundTrip())
            #expect(first.transactionInvs.isEmpty)
            try await node.withPeer(first.localPort) { manager, _ in
                manager.relay.nextInboundTrickleAt = 0
                manager.relayTick()
            }
            #expect(await first.waitFor { $0 == .inv([InventoryItem(type: .transaction, hash: pooled.wtxid)]) } != nil)
            #expect(await second.waitFor { $0 == .inv([InventoryItem(type: .transaction, hash: pooled.wtxid)]) } != nil)
            // The shared timer was drawn again.
            let next = try await node.withPeer(first.localPort) { manager, _ in manager.relay.nextInboundTrickleAt }
            #expect((next ?? 0) > 0)
        }
    }

    @Test("getpeerinfo's minfeefilter is the peer's feefilter", .timeLimit(.minutes(5)))
    func minFeeFilterReported() async throws {
        try await TransactionRelayTests.withNode { node in
            let peer = try await RelayTestPeer.handshaken(with: node)
            peer.send(.feefilter(4_321))
            #expect(await peer.roundTrip())
            let info = try await node.withPeer(peer.localPort) { manager, peer in manager.info(peer) }
            #expect(info.minFeeFilter == 4_321)
        }
    }
}
