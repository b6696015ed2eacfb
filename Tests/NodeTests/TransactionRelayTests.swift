import ChainGen
import Foundation
import JSONRPC
import Mempool
import Primitives
import Testing
import Wire
@testable import Node

/// Transaction relay between an in-process node (with a scripted pool) and raw wire peers:
/// batched acceptance, trickled announcements, serving rules, `mempool`, orphans' parents,
/// and feefilter both ways. Trickles are made due by the test (`trickleNow`) where a test
/// needs to know what was queued before the send; nothing asserts how long anything took.
@Suite("Transaction relay", .serialized)
struct TransactionRelayTests {
    /// Runs `body` with a started node, shutting it down however it ends.
    static func withNode(pool: ScriptedPool = ScriptedPool(), configure: (inout P2PSettings) -> Void = { _ in },
                         _ body: (RelayTestNode) async throws -> Void) async throws {
        let node = try RelayTestNode(pool: pool, configure: configure)
        try await node.start()
        do { try await body(node) } catch {
            await node.shutdown()
            throw error
        }
        await node.shutdown()
    }

    @Test("announcements wait for the trickle, then go together in one inv; gone ones are skipped", .timeLimit(.minutes(5)))
    func trickledTogether() async throws {
        try await Self.withNode { node in
            let peer = try await RelayTestPeer.handshaken(with: node)
            let first = relayTestTransaction(1), second = relayTestTransaction(2), gone = relayTestTransaction(3)
            for transaction in [first, second, gone] {
                node.pool.add(transaction, feeRate: 2_000)
                node.manager.relayTransaction(wtxid: transaction.wtxid)
            }
            // Queued for the peer, not sent: its trickle (mean one hour here) is not due.
            let queued = try await node.withPeer(peer.localPort) { _, peer in peer.announcementQueue }
            #expect(queued == [first.wtxid, second.wtxid, gone.wtxid])
            #expect(await peer.roundTrip())
            #expect(peer.transactionInvs.isEmpty)

            node.pool.remove(gone)
            try await node.trickleNow(peer.localPort)
            #expect(await peer.roundTrip())
            #expect(peer.transactionInvs.count == 1)
            #expect(Set(peer.transactionInvs.first ?? []) == [first.wtxid, second.wtxid])
            #expect(try await node.withPeer(peer.localPort) { _, peer in peer.announcementQueue.isEmpty })

            // Announced once: another trickle sends nothing new.
            node.manager.relayTransaction(wtxid: first.wtxid)
            try await node.trickleNow(peer.localPort)
            #expect(await peer.roundTrip())
            #expect(peer.transactionInvs.count == 1)
        }
    }

    @Test("one inv holds at most 1,000 entries; the rest waits for the next trickle", .timeLimit(.minutes(5)))
    func announcementBound() async throws {
        try await Self.withNode { node in
            let peer = try await RelayTestPeer.handshaken(with: node)
            let transactions = (1...1_500).map { relayTestTransaction($0) }
            for transaction in transactions {
                node.pool.add(transaction, feeRate: 2_000)
                node.manager.relayTransaction(wtxid: transaction.wtxid)
            }
            try await node.trickleNow(peer.localPort)
            #expect(await peer.roundTrip())
            #expect(peer.transactionInvs.map(\.count) == [PeerManager.maxInventoryBroadcast])
            try await node.trickleNow(peer.localPort)
            #expect(await peer.roundTrip())
            #expect(peer.transactionInvs.map(\.count) == [1_000, 500])
            // Equal fee rates: arrival order.
            #expect(peer.transactionInvs.flatMap { $0 } == transactions.map(\.wtxid))
        }
    }

    @Test("with a short interval the trickle comes by itself", .timeLimit(.minutes(5)))
    func trickleTimer() async throws {
        try await Self.withNode(configure: { $0.inboundTrickleInterval = 0.2 }) { node in
            let peer = try await RelayTestPeer.handshaken(with: node)
            let transaction = relayTestTransaction(9)
            node.pool.add(transaction, feeRate: 2_000)
            node.manager.relayTransaction(wtxid: transaction.wtxid)
            let inv = await peer.waitFor { $0 == .inv([InventoryItem(type: .transaction, hash: transaction.wtxid)]) }
            #expect(inv != nil)
        }
    }

    @Test("an inv lists parents before children, then higher fee rates first", .timeLimit(.minutes(5)))
    func announcementOrder() async throws {
        try await Self.withNode { node in
            let peer = try await RelayTestPeer.handshaken(with: node)
            let parent = relayTestTransaction(1)
            let child = relayTestTransaction(2, spending: parent.txid)
            let rich = relayTestTransaction(3), poor = relayTestTransaction(4)
            for (transaction, rate) in [(parent, UInt64(1_500)), (child, 90_000), (poor, 1_200), (rich, 50_000)] {
                node.pool.add(transaction, feeRate: rate)
                node.manager.relayTransaction(wtxid: transaction.wtxid)
            }
            try await node.trickleNow(peer.localPort)
            #expect(await peer.roundTrip())
            #expect(peer.transactionInvs == [[rich.wtxid, parent.wtxid, poor.wtxid, child.wtxid]])
        }
    }

    @Test("no inv below the peer's feefilter, nor to a peer that said relay=false", .timeLimit(.minutes(5)))
    func incomingFeeFilterAndRelayFlag() async throws {
        try await Self.withNode { node in
            let filtering = try await RelayTestPeer.handshaken(with: node)
            let silent = try await RelayTestPeer.handshaken(with: node, relay: false)
            filtering.send(.feefilter(10_000))
            #expect(await filtering.roundTrip())
            let cheap = relayTestTransaction(1), dear = relayTestTransaction(2)
            node.pool.add(cheap, feeRate: 5_000)
            node.pool.add(dear, feeRate: 20_000)
            node.manager.relayTransaction(wtxid: cheap.wtxid)
            node.manager.relayTransaction(wtxid: dear.wtxid)
            try await node.trickleNow(filtering.localPort)
            try await node.trickleNow(silent.localPort)
            #expect(await filtering.roundTrip())
            #expect(await silent.roundTrip())
            #expect(filtering.transactionInvs == [[dear.wtxid]])
            #expect(silent.transactionInvs.isEmpty)
            #expect(try await node.withPeer(silent.localPort) { _, peer in peer.announcementQueue.isEmpty })
        }
    }

    @Test("getdata is served only after the announcement; parents of served transactions by txid", .timeLimit(.minutes(5)))
    func servingRules() async throws {
        try await Self.withNode { node in
            let peer = try await RelayTestPeer.handshaken(with: node)
            let parent = relayTestTransaction(1)
            let child = relayTestTransaction(2, spending: parent.txid)
            let other = relayTestTransaction(3)
            node.pool.add(parent, feeRate: 2_000)
            node.pool.add(child, feeRate: 2_000)
            node.pool.add(other, feeRate: 2_000)

            // Pooled but not announced: probing is answered with notfound.
            let early = InventoryItem(type: .transaction, hash: child.wtxid)
            peer.send(.getdata([early]))
            #expect(await peer.waitFor { $0 == .notfound([early]) } != nil)
            #expect(!peer.messages.contains(.tx(child)))

            node.manager.relayTransaction(wtxid: child.wtxid)
            try await node.trickleNow(peer.localPort)
            #expect(await peer.waitFor { $0 == .inv([early]) } != nil)
            peer.send(.getdata([early]))
            #expect(await peer.waitFor { $0 == .tx(child) } != nil)

            // The served child's parent may now be fetched by txid; an unrelated one may not.
            let parentByTxid = InventoryItem(type: .transactionByTxid, hash: parent.txid)
            let otherByTxid = InventoryItem(type: .transactionByTxid, hash: other.txid)
            peer.send(.getdata([parentByTxid, otherByTxid]))
            #expect(await peer.waitFor { $0 == .tx(parent) } != nil)
            #expect(await peer.waitFor { $0 == .notfound([otherByTxid]) } != nil)
            #expect(!peer.messages.contains(.tx(other)))
        }
    }

    @Test("mempool is answered at the next trickle, at or above the peer's feefilter; what entered before the answer is fetchable", .timeLimit(.minutes(5)))
    func mempoolMessage() async throws {
        try await Self.withNode { node in
            let peer = try await RelayTestPeer.handshaken(with: node)
            let low = relayTestTransaction(1), high = relayTestTransaction(2), higher = relayTestTransaction(3)
            node.pool.add(low, feeRate: 1_000)
            node.pool.add(high, feeRate: 3_000)
            node.pool.add(higher, feeRate: 9_000)
            peer.send(.feefilter(2_000))
            peer.send(.mempool)
            // Not answered before the peer's trickle.
            #expect(await peer.roundTrip())
            #expect(peer.transactionInvs.isEmpty)
            try await node.trickleNow(peer.localPort)
            let expected = Message.inv([high, higher].map { InventoryItem(type: .transaction, hash: $0.wtxid) })
            #expect(await peer.waitFor { $0 == expected } != nil)
            // Listed ones entered in the answer's own second: fetchable as listed.
            peer.send(.getdata([InventoryItem(type: .transaction, hash: higher.wtxid)]))
            #expect(await peer.waitFor { $0 == .tx(higher) } != nil)
            // Entered in that same second but after the answer: not listed, so not fetchable.
            let sameSecond = relayTestTransaction(5)
            node.pool.add(sameSecond, feeRate: 9_000)
            let sameSecondItem = InventoryItem(type: .transaction, hash: sameSecond.wtxid)
            peer.send(.getdata([sameSecondItem]))
            #expect(await peer.waitFor { $0 == .notfound([sameSecondItem]) } != nil)
            // What entered later is not fetchable until announced.
            node.pool.now += 1
            let later = relayTestTransaction(4)
            node.pool.add(later, feeRate: 9_000)
            node.manager.relayTransaction(wtxid: later.wtxid)
            let laterItem = InventoryItem(type: .transaction, hash: later.wtxid)
            peer.send(.getdata([laterItem]))
            #expect(await peer.waitFor { $0 == .notfound([laterItem]) } != nil)
            // Listed transactions are known to the peer: never announced to it again.
            node.manager.relayTransaction(wtxid: high.wtxid)
            try await node.trickleNow(peer.localPort)
            #expect(await peer.roundTrip())
            #expect(peer.transactionInvs.last == [later.wtxid])
            #expect(!peer.messages.contains(.tx(sameSecond)) && !peer.messages.contains(.tx(later)))
        }
    }

    @Test("a second mempool request within 30 s is not answered", .timeLimit(.minutes(5)))
    func mempoolRateLimited() async throws {
        try await Self.withNode { node in
            let peer = try await RelayTestPeer.handshaken(with: node)
            let pooled = relayTestTransaction(1)
            node.pool.add(pooled, feeRate: 3_000)
            peer.send(.mempool)
            #expect(await peer.roundTrip())
            try await node.trickleNow(peer.localPort)
            #expect(await peer.roundTrip())
            peer.send(.mempool)
            #expect(await peer.roundTrip())
            try await node.trickleNow(peer.localPort)
            #expect(await peer.roundTrip())
            #expect(peer.transactionInvs == [[pooled.wtxid]])
        }
    }

    @Test("feefilter is sent after the handshake and again soon once the pool's minimum rises", .timeLimit(.minutes(5)))
    func outgoingFeeFilter() async throws {
        let pool = ScriptedPool()
        pool.minimumFeeRate = 1_000
        try await Self.withNode(pool: pool) { node in
            let peer = try await RelayTestPeer.handshaken(with: node)
            #expect(await peer.waitFor { $0 == .feefilter(1_000) } != nil)
            // A rise by more than a third: a new filter within maxFeeFilterChangeDelay (0.2 s here).
            pool.minimumFeeRate = 5_000
            let rounded = FeeFilterRounder.round(5_000)
            #expect(rounded <= 5_000 && rounded * 11 > 5_000 * 10)
            #expect(await peer.waitFor { $0 == .feefilter(rounded) } != nil)
            // A small move is not worth telling before the interval (an hour here).
            pool.minimumFeeRate = 5_100
            try await Task.sleep(for: .milliseconds(500))
            #expect(await peer.roundTrip())
            #expect(peer.messages.filter { if case .feefilter = $0 { true } else { false } }.count == 2)
        }
    }

    @Test("the fee filter rounder: coarse buckets, never above the rate, 1,000 exact")
    func feeFilterRounder() {
        #expect(FeeFilterRounder.round(0) == 0)
        #expect(FeeFilterRounder.round(1_000) == 1_000)
        #expect(FeeFilterRounder.round(1_099) == 1_000)
        #expect(FeeFilterRounder.round(1_100) == 1_100)
        #expect(FeeFilterRounder.round(.max) == FeeFilterRounder.maximum)
        #expect(FeeFilterRounder.maximum <= Amount.maxMoney.baseUnits)
        for rate: UInt64 in [1, 7, 999, 12_345, 9_876_543, 21_000_000_000_000] {
            let rounded = FeeFilterRounder.round(rate)
            #expect(rounded <= rate && Double(rounded) * 1.1 + 1 >= Double(rate))
        }
        #expect(FeeFilterRounder.changedSignificantly(from: 1_000, to: 1_400))
        #expect(FeeFilterRounder.changedSignificantly(from: 1_000, to: 700))
        #expect(!FeeFilterRounder.changedSignificantly(from: 1_000, to: 1_300))
        #expect(!FeeFilterRounder.changedSignificantly(from: 1_000, to: 800))
    }

    @Test("an orphan makes the node ask its sender for the parent by txid, once; the resolved orphan is announced", .timeLimit(.minutes(5)))
    func orphanParents() async throws {
        try await Self.withNode { node in
            let sender = try await RelayTestPeer.handshaken(with: node)
            let listener = try await RelayTestPeer.handshaken(with: node)
            let parent = relayTestTransaction(1)
            let orphan = relayTestTransaction(2, spending: parent.txid)
            node.pool.holdAsOrphan(orphan, parent: parent.txid)

            sender.send(.tx(orphan))
            let request = Message.getdata([InventoryItem(type: .transactionByTxid, hash: parent.txid)])
            #expect(await sender.waitFor { $0 == request } != nil)
            // Sent again while the request stands: not asked twice.
            sender.send(.tx(orphan))
            #expect(await sender.roundTrip())
            #expect(sender.messages.filter { $0 == request }.count == 1)

            sender.send(.tx(parent))
            #expect(await sender.roundTrip())
            try await node.trickleNow(listener.localPort)
            #expect(await listener.roundTrip())
            #expect(listener.transactionInvs == [[parent.wtxid, orphan.wtxid]])
            // The sender knows both: nothing is announced back to it.
            try await node.trickleNow(sender.localPort)
            #expect(await sender.roundTrip())
            #expect(sender.transactionInvs.isEmpty)
        }
    }

    @Test("transactions arriving together reach the pool in fewer batches; all are checked", .timeLimit(.minutes(5)))
    func batchedAcceptance() async throws {
        let pool = ScriptedPool(acceptDelay: 0.2)
        try await Self.withNode(pool: pool) { node in
            let peer = try await RelayTestPeer.handshaken(with: node)
            let transactions = (1...50).map { relayTestTransaction($0) }
            peer.sendTogether(transactions.map { .tx($0) })
            #expect(await eventually { pool.batchSizes.reduce(0, +) == transactions.count })
            #expect(pool.batchSizes.count < transactions.count)
            #expect(pool.batchSizes.contains { $0 > 1 })
            for transaction in transactions { #expect(pool.feeRate(wtxid: transaction.wtxid) == 5_000) }
        }
    }

    @Test("a consensus-invalid transaction disconnects its sender; the pool hears of it", .timeLimit(.minutes(5)))
    func invalidTransactionAndDisconnect() async throws {
        try await Self.withNode { node in
            let peer = try await RelayTestPeer.handshaken(with: node)
            let id = try await node.withPeer(peer.localPort) { _, peer in peer.id }
            let bad = relayTestTransaction(1)
            node.pool.markInvalid(bad)
            peer.send(.tx(bad))
            #expect(await eventually { peer.isClosed })
            #expect(await eventually { node.pool.disconnectedPeers.contains(id) })
        }
    }

    @Test("between two nodes with real pools: payments and a chained spend sent to one reach the other", .timeLimit(.minutes(6)))
    func relayBetweenPools() async throws {
        let (blocks, generator) = RPCChains.blocks(105, seed: 0x7E1A)
        var stream = try TransactionStream(coins: Array(generator.spendableSingleKeyCoins.prefix(3)),
                                           options: .init(chainDepth: 2, feeRates: 2_000...3_000, dustThreshold: 546, seed: 11))
        let payments = (0..<6).compactMap { _ in stream.next() }
        #expect(payments.count == 6 && payments.contains { $0.depth > 0 })
        let listener = try RPCTestNode(blocks: blocks, listen: true)
        let dialer = try RPCTestNode(blocks: blocks)
        do {
            try await listener.start()
            try await dialer.start()
            let address = try #require(try await listener.peers.listeningAddresses().first)
            #expect(try await dialer.result("addnode", [.string(address), "add"]) == .null)
            // Announcements are queued only for peers whose handshake completed.
            #expect(try await eventually {
                let inbound = try await NetworkRPCTests.handshaken(listener).count
                let outbound = try await NetworkRPCTests.handshaken(dialer).count
                return inbound == 1 && outbound == 1
            })
            for payment in payments {
                _ = try await dialer.result("sendrawtransaction", [.string(HexCoding.encode(payment.transaction.encoded))])
            }
            let txids = Set(payments.map(\.transaction.txid.hex))
            #expect(try await eventually(seconds: 90) {
                let pooled = try await listener.result("getrawmempool").arrayValue ?? []
                return Set(pooled.compactMap(\.stringValue)) == txids
            })
        } catch {
            await listener.shutdown()
            await dialer.shutdown()
            throw error
        }
        await listener.shutdown()
        await dialer.shutdown()
    }
}
