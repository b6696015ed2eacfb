import ChainGen
import ChainParams
import Foundation
import Governance
import JSONRPC
import Masternodes
import Primitives
import Testing
@testable import Node

/// gobject, getgovernanceinfo and the parameters in getblockchaininfo, on a generated chain
/// (`--masternodes 4 --governance`) whose first round approved a raised block size limit,
/// rejected a tie and slashed a voted-down proposal.
@Suite("Governance RPC", .serialized)
struct GovernanceRPCTests {
    static let generated: (blocks: [Block], activity: GovernanceActivity) = {
        var generator = ChainGenerator(parameters: RPCTestNode.regtest, seed: 19, transactionsPerBlock: 2)
        generator.enableMasternodes(count: 4, parameters: try! MasternodeParameters(RPCTestNode.regtest.chain))
        generator.enableGovernance(parameters: try! GovernanceParameters(RPCTestNode.regtest.chain))
        var blocks = [Block]()
        // Until the first round closed and a block used the raised limit (bounded).
        while blocks.count < 400 && (generator.governanceActivity?.blocksAboveInitialLimit ?? 0) == 0 {
            blocks.append(generator.nextBlock())
        }
        return (blocks, generator.governanceActivity ?? GovernanceActivity())
    }()

    static func withNode(_ body: (RPCTestNode) async throws -> Void) async throws {
        let node = try RPCTestNode(blocks: generated.blocks)
        do { try await body(node) } catch { await node.shutdown(); throw error }
        await node.shutdown()
    }

    @Test("the generated round: one proposal of each outcome, a block above the initial limit")
    func generatedRound() {
        let activity = Self.generated.activity
        #expect(activity.proposals == 3 && activity.approved == 1 && activity.rejected == 1 && activity.slashed == 1)
        #expect(activity.changedVotes > 0 && activity.blocksAboveInitialLimit == 1)
        #expect(Self.generated.blocks.last.map { $0.encoded.count > RPCTestNode.regtest.maxBlockBytes } == true)
    }

    @Test("gobject list, get and votes show the chain's ledger; getgovernanceinfo and getblockchaininfo the values in force")
    func queries() async throws {
        try await Self.withNode { node in
            let ledger = node.chain.snapshot.governance
            let all = try #require(try await node.result("gobject", ["list", "all"]).arrayValue)
            #expect(all.count == 3)
            #expect(Set(all.compactMap { $0["status"]?.stringValue }) == ["approved", "rejected", "slashed"])
            #expect(try await node.result("gobject", ["list"]).arrayValue == [])
            let approved = try #require(all.first { $0["status"] == "approved" })
            let id = try #require(approved["id"]?.stringValue.flatMap(Hash256.init(hex:)))
            let record = try #require(ledger.proposal(id))
            let closing = try #require(record.closing)
            #expect(approved["parameter"] == "maxBlockBytes" && approved["value"] == .int(8_000_000))
            #expect(approved["yes"] == .int(closing.tally.yes) && approved["no"] == .int(closing.tally.no))
            #expect(approved["activationHeight"] == .int(try #require(closing.activationHeight)))
            #expect(approved["collateral"] == .string("\(id.hex):0") && approved["height"] == .int(record.height))
            #expect(try await node.result("gobject", ["get", .string(id.hex)]) == approved)
            let votes = try #require(try await node.result("gobject", ["votes", .string(id.hex)]).arrayValue)
            #expect(votes.count == ledger.votes(of: id).count && votes.count == Int(closing.tally.yes + closing.tally.no + closing.tally.abstain))
            #expect(votes.allSatisfy { ["yes", "no", "abstain"].contains($0["outcome"]?.stringValue ?? "") })

            let info = try await node.result("getgovernanceinfo")
            #expect(info["openProposals"] == 0 && info["pendingProposals"] == 0)
            let size = try #require(info["parameters"]?.arrayValue?.first { $0["name"] == "maxBlockBytes" })
            #expect(size["value"] == .int(8_000_000) && size["initial"] == .int(4_000_000) && size["maxStep"] == .int(4_000_000))
            let chainInfo = try await node.result("getblockchaininfo")
            #expect(chainInfo["parameters"]?["maxBlockBytes"] == .int(8_000_000))
            #expect(chainInfo["parameters"]?["finalityDepth"] == .int(6))
            #expect(chainInfo["parametersheight"] == .int(Self.generated.blocks.count + 1))
        }
    }

    @Test("bad arguments: -8 naming them, -5 for an unknown proposal, -18 without a wallet")
    func errors() async throws {
        try await Self.withNode { node in
            #expect(try await node.errorCode("gobject", ["list", "recent"]) == RPCError.invalidParameter)
            #expect(try await node.errorCode("gobject", ["explode"]) == RPCError.invalidParameter)
            #expect(try await node.errorCode("gobject", ["get", "12"]) == RPCError.invalidParameter)
            #expect(try await node.errorCode("gobject", ["get", .string(String(repeating: "ab", count: 32))]) == RPCError.invalidAddressOrKey)
            #expect(try await node.errorCode("gobject", ["submit", "maxBlockBytes", 5_000_000, 1, 10, 2, "u", .string(String(repeating: "00", count: 32))])
                    == RPCError.walletNotFound)
            let id = try #require(try await node.result("gobject", ["list", "all"]).arrayValue?.first?["id"])
            #expect(try await node.errorCode("gobject", ["vote", id, "maybe"]) == RPCError.invalidParameter)
            // A closed proposal takes no votes; an owner key file that is no masternode's is named.
            #expect(try await node.error("gobject", ["vote", id, "yes"])?.message.contains("closed") == true)
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("owner-\(UUID().uuidString).key").path
            try (String(repeating: "11", count: 32) + "\n").write(toFile: file, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: file) }
            #expect(try NodeRPCContext.readOwnerSeed(file) == [UInt8](repeating: 0x11, count: 32))
            #expect(throws: RPCError.self) { try NodeRPCContext.readOwnerSeed(file + ".missing") }
        }
    }
}
