import ChainState
import Consensus
import Foundation
import Masternodes
import Mempool
import Mining
import Primitives
import Quorums
import Testing
import TestSupport

/// Commitments in the pool and in templates (PROTOCOL section 17.6): accepted fee-less when
/// the rules pass on the tip, one per quorum, carried by the next template, gone once mined
/// or once the window has passed; templates commit to the quorum root across rotations.
@Suite(.serialized)
struct QuorumMempoolTests {
    /// A block from a template on the service's tip with the pool's selection.
    static func mine(_ service: ChainService, _ pool: Mempool) throws -> Block {
        let transactions = pool.selection(maxBytes: 1_000_000).entries.map(\.transaction)
        let template = try service.withWriter { state in
            try TemplateBuilder.make(on: state, payout: [0x51], now: state.tip.header.time + 150, transactions: transactions)
        }
        var block = Block(header: template.header, transactions: template.transactions)
        TestBlocks.mine(&block.header)
        #expect(try service.accept(block) == .connected, "template block \(block.header.height)")
        pool.apply(.connected(height: block.header.height, hash: block.hash))
        return block
    }

    @Test("a commitment enters the pool once, rides the next template, leaves when mined; a late one leaves when its window passes; templates follow rotations")
    func poolAndTemplates() throws {
        let directory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var q = try QuorumChain(directory: directory, masternodes: 7)
        try q.extend(to: 127)
        let commitment = try q.commitment(start: 120, valid: [0, 1, 2, 3, 4])
        let rival = try q.commitment(start: 120, valid: [0, 1, 2, 3], signers: [0, 1, 2])
        let late = try q.commitment(start: 120, valid: [0, 1, 2])
        let service = ChainService(q.state)
        let pool = Mempool(chain: service, parameters: QuorumChain.parameters)

        #expect(pool.submit(commitment, source: "test").entry?.fee == .zero)
        #expect(pool.submit(rival, source: "test").rejection?.rule == Mempool.quorumCommitmentPendingRule)
        #expect(pool.submit(commitment, source: "test").rejection?.kind == .alreadyInPool)
        #expect(pool.pendingQuorumCommitments.map(\.txid) == [commitment.txid])
        // Relay sees it like any pooled transaction, and no peer's fee filter holds it back.
        #expect(pool.transaction(wtxid: commitment.wtxid) == commitment)
        #expect(pool.transaction(txid: commitment.txid) == commitment)
        #expect(pool.entry(txid: commitment.txid)?.txid == commitment.txid)
        #expect(!pool.wants(wtxid: commitment.wtxid))
        #expect(pool.inventory(minimumFeeRate: 1_000_000).contains(commitment.wtxid))
        #expect((pool.feeRate(wtxid: commitment.wtxid) ?? 0) >= 1_000_000)
        #expect(pool.entryTime(wtxid: commitment.wtxid) != nil)
        var broken = try QuorumCommitmentPayload(transaction: commitment)
        broken.signatures[0][0] ^= 1
        #expect(pool.test(broken.transaction).rejection?.rule == RuleName.quorumSignature.rawValue)

        let mined = try Self.mine(service, pool)
        #expect(mined.transactions.map(\.txid).contains(commitment.txid))
        #expect(pool.pendingQuorumCommitments.isEmpty)
        #expect(service.snapshot.quorums.count == 1)
        #expect(pool.submit(late, source: "test").rejection?.rule == RuleName.quorumDuplicate.rawValue)

        // Templates through the rotation at 144 and the next DKG's window; a commitment for
        // it that nobody mines in time leaves the pool when the window closes.
        while service.snapshot.tipHeight < 151 { _ = try Self.mine(service, pool) }
        let next = try service.withWriter { state -> Transaction in
            let members = QuorumSelection.members(list: try state.masternodeList(at: 144), quorumHash: state.active[144].hash,
                                                  type: q.type, height: 144, parameters: state.masternodeParameters)
            var payload = QuorumCommitmentPayload.null(quorumType: q.type.id, quorumHash: state.active[144].hash, quorumHeight: 144, size: q.type.size)
            #expect(members.count == 5)
            payload.validMembers = QuorumBitset(count: q.type.size)
            return payload.transaction
        }
        #expect(pool.submit(next, source: "test").rejection?.rule == RuleName.quorumWindow.rawValue, "a null commitment before the window's last height")
        // Blocks on an empty selection hold pending commitments back until the window's end.
        func mineEmpty() throws {
            let template = try service.withWriter { state in try TemplateBuilder.make(on: state, payout: [0x51], now: state.tip.header.time + 150) }
            var block = Block(header: template.header, transactions: template.transactions)
            TestBlocks.mine(&block.header)
            _ = try service.accept(block)
            pool.apply(.connected(height: block.header.height, hash: block.hash))
        }
        while service.snapshot.tipHeight < 158 { try mineEmpty() }
        #expect(pool.submit(next, source: "test").entry != nil, "the null commitment at the window's last height, 159")
        let signed = try q.commitment(start: 144, valid: [0, 1, 2, 3, 4])
        #expect(pool.submit(signed, source: "test").entry != nil, "a signed commitment takes the null one's place")
        #expect(pool.pendingQuorumCommitments.map(\.txid) == [signed.txid])
        #expect(pool.submit(next, source: "test").rejection?.rule == Mempool.quorumCommitmentPendingRule, "a null one never displaces a signed one")
        try mineEmpty()
        #expect(pool.pendingQuorumCommitments.isEmpty, "the window 152..<160 has passed")
        #expect(service.snapshot.quorums.active(type: q.type).count == 1)
        _ = q
    }
}
