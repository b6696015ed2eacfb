import ChainGen
import ChainParams
import ChainState
import Consensus
import Foundation
import Mempool
import Primitives
import Synchronization
import Testing

/// Relayed batches through the P2P interface: orphans held, resolved when the parent
/// arrives, dropped with their peer, bounded and expiring; a parent known invalid.
@Suite(.serialized)
struct RelayOrphanTests {
    static func relayed(_ transactions: [Transaction], peer: Int = 1) -> [RelayedTransaction] {
        transactions.map { RelayedTransaction(transaction: $0, peerID: peer, peer: "peer\(peer)") }
    }

    static func announcement(_ transaction: Transaction, fee: UInt64) -> PoolAnnouncement {
        PoolAnnouncement(wtxid: transaction.wtxid, feeRate: MempoolPolicy.feeRate(fee: fee, bytes: transaction.encoded.count))
    }

    @Test("a child ahead of its parent is held as an orphan, then enters with the parent and is reported")
    func orphanResolved() throws {
        let chain = try TestChain(blocks: 105)
        let pool = Mempool(chain: chain.chain, parameters: chain.parameters)
        let parent = chain.payment(chain.coinbase(height: 1), fee: 10_000, outputs: 2)
        let child = chain.payment(TestChain.output(parent, 0), fee: 10_000)
        let grandchild = chain.payment(TestChain.output(child, 0), fee: 10_000)

        let first = pool.accept(Self.relayed([grandchild, child]))
        #expect(first.verdicts == [.orphan(missingParents: [child.txid]), .orphan(missingParents: [parent.txid])])
        #expect(first.resolvedOrphans.isEmpty && pool.count == 0)
        #expect(!pool.wants(wtxid: child.wtxid) && !pool.wants(wtxid: grandchild.wtxid) && pool.wants(wtxid: parent.wtxid))
        // Held, not rejected.
        #expect(pool.rejection(txid: child.txid) == nil && pool.history(txid: child.txid).isEmpty)

        let second = pool.accept(Self.relayed([parent], peer: 2))
        #expect(second.verdicts == [.accepted(wtxid: parent.wtxid, feeRate: MempoolPolicy.feeRate(fee: 10_000, bytes: parent.encoded.count))])
        #expect(second.resolvedOrphans == [Self.announcement(child, fee: 10_000), Self.announcement(grandchild, fee: 10_000)])
        #expect(pool.count == 3 && pool.entry(txid: grandchild.txid)?.depends == [child.txid])
    }

    @Test("a child before its parent in one relayed batch enters in the same call, reported as resolved")
    func orphanResolvedInSameBatch() throws {
        let chain = try TestChain(blocks: 105)
        let pool = Mempool(chain: chain.chain, parameters: chain.parameters)
        let parent = chain.payment(chain.coinbase(height: 1), fee: 10_000)
        let child = chain.payment(TestChain.output(parent, 0), fee: 10_000)
        let result = pool.accept(Self.relayed([child, parent]))
        #expect(result.verdicts.first == .orphan(missingParents: [parent.txid]))
        #expect(result.resolvedOrphans == [Self.announcement(child, fee: 10_000)] && pool.count == 2)
    }

    @Test("a disconnected peer's orphans are dropped")
    func orphansDroppedWithPeer() throws {
        let chain = try TestChain(blocks: 105)
        let pool = Mempool(chain: chain.chain, parameters: chain.parameters)
        let parent = chain.payment(chain.coinbase(height: 1), fee: 10_000, outputs: 2)
        let fromSeven = chain.payment(TestChain.output(parent, 0), fee: 10_000)
        let fromEight = chain.payment(TestChain.output(parent, 1), fee: 10_000)
        _ = pool.accept(Self.relayed([fromSeven], peer: 7))
        _ = pool.accept(Self.relayed([fromEight], peer: 8))
        pool.peerDisconnected(7)
        #expect(pool.wants(wtxid: fromSeven.wtxid) && !pool.wants(wtxid: fromEight.wtxid))
        let result = pool.accept(Self.relayed([parent], peer: 9))
        #expect(result.resolvedOrphans == [Self.announcement(fromEight, fee: 10_000)])
        #expect(!pool.contains(txid: fromSeven.txid) && pool.contains(txid: fromEight.txid))
    }

    @Test("orphans are bounded by maxOrphans and expire")
    func orphansBoundedAndExpiring() throws {
        let chain = try TestChain(blocks: 105)
        let clock = Mutex<UInt64>(10_000)
        var policy = MempoolPolicy()
        policy.maxOrphans = 3
        policy.orphanExpirySeconds = 600
        let pool = Mempool(chain: chain.chain, parameters: chain.parameters, policy: policy, now: { clock.withLock { $0 } })
        let parent = chain.payment(chain.coinbase(height: 1), fee: 10_000, outputs: 6)
        let orphans = (0..<6).map { chain.payment(TestChain.output(parent, $0), fee: 10_000) }
        _ = pool.accept(Self.relayed(orphans))
        #expect(orphans.filter { !pool.wants(wtxid: $0.wtxid) }.count == 3)

        // Past the expiry, the next relayed batch drops them all.
        clock.withLock { $0 += 601 }
        let result = pool.accept(Self.relayed([parent]))
        #expect(result.resolvedOrphans.isEmpty && pool.count == 1)
        #expect(orphans.allSatisfy { pool.wants(wtxid: $0.wtxid) })
    }

    @Test("a transaction whose missing parent was refused as invalid is refused, not held")
    func parentKnownInvalid() throws {
        let chain = try TestChain(blocks: 105)
        let pool = Mempool(chain: chain.chain, parameters: chain.parameters)
        // Pays out more than it spends: no witness can fix that, so its txid is refused
        // (a witness failure refuses only its wtxid: LifecycleGuardTests).
        let overspend = chain.spend([chain.coinbase(height: 1)], to: [chain.pay(SizeLimitTests.value + 1)])
        let child = chain.payment(TestChain.output(overspend, 0), fee: 10_000)
        let result = pool.accept(Self.relayed([overspend, child]))
        #expect(result.verdicts.count == 2 && pool.rejection(txid: overspend.txid)?.rejection.kind == .invalid)
        guard case .rejected = result.verdicts.first else {
            Issue.record("the overspending parent was not refused: \(result.verdicts)")
            return
        }
        #expect(result.verdicts.last == .rejected(rule: "bad-txns-inputs-missingorspent", penalize: false))
        #expect(pool.wants(wtxid: child.wtxid) == false && pool.rejection(txid: child.txid) != nil)
        #expect(pool.history(txid: child.txid).map(\.state) == [.rejected])
    }
}
