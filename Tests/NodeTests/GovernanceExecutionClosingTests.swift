import ChainGen
import Governance
import Masternodes
@testable import Node
import Primitives
import QuorumServices
import Testing

/// Which records a masternode signs at a tip: those of the proposals the tip block closed, on
/// a generated chain (`--masternodes 4 --governance`) stopped at its first deadline block.
@Suite("Governance execution at the deadline", .serialized)
struct GovernanceExecutionClosingTests {
    static let blocks: [Block] = {
        var generator = ChainGenerator(parameters: RPCTestNode.regtest, seed: 19, transactionsPerBlock: 2)
        generator.enableMasternodes(count: 4, parameters: try! MasternodeParameters(RPCTestNode.regtest.chain))
        generator.enableGovernance(parameters: try! GovernanceParameters(RPCTestNode.regtest.chain))
        var blocks = [Block]()
        func closed() -> Int { generator.governanceActivity.map { $0.approved + $0.rejected + $0.slashed } ?? 0 }
        while blocks.count < 400 && closed() == 0 { blocks.append(generator.nextBlock()) }
        return blocks
    }()

    @Test("the deadline tip yields the ledger's record of each proposal it closed; the block before yields none")
    func recordsOfTheDeadlineTip() async throws {
        let node = try RPCTestNode(blocks: Self.blocks)
        let snapshot = node.chain.snapshot
        await node.shutdown()
        let closedHere = snapshot.governance.proposals.values.filter { $0.payload.deadlineHeight == snapshot.tipHeight }
        #expect(!closedHere.isEmpty && closedHere.allSatisfy { !$0.isOpen })
        let records = QuorumNodeService.executionsClosed(by: snapshot)
        #expect(records.count == closedHere.count)
        #expect(Set(records) == Set(closedHere.compactMap(GovernanceExecution.init(proposal:))))
        #expect(records.map(\.proposalId) == records.map(\.proposalId).sorted())
        #expect(records.contains { $0.result == .approved && $0.activationHeight != nil })

        let before = try RPCTestNode(blocks: Array(Self.blocks.dropLast()))
        let earlier = before.chain.snapshot
        await before.shutdown()
        #expect(QuorumNodeService.executionsClosed(by: earlier).isEmpty)
        #expect(earlier.governance.proposals.values.contains { $0.isOpen })
    }
}
