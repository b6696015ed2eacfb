import Foundation
import JSONRPC
import Primitives
import Testing
import TestSupport
@testable import Node

/// `quorum` on a node without quorums or masternode keys: the chain-reading calls answer
/// from the (empty) set, the member-only calls say the node is not a masternode, and bad
/// arguments are named.
@Suite("Quorum RPC", .serialized)
struct QuorumRPCTests {
    static let blocks = RPCChains.blocks(3, seed: 92).0
    static let id = JSON.string(String(repeating: "ab", count: 32)), message = JSON.string(String(repeating: "cd", count: 32))

    @Test("list, info, verify, sign, getrecsig, dkgstatus and their refusals")
    func quorumCalls() async throws {
        let node = try RPCTestNode(blocks: Self.blocks)
        do {
            #expect(try await node.result("quorum", ["list"]) == .object(["llmq_test": .array([])]))
            #expect(try await node.errorCode("quorum", ["info", 100, Self.id]) == RPCError.invalidParameter)
            #expect(try await node.errorCode("quorum", ["info", 7, Self.id]) == RPCError.invalidParameter)
            #expect(try await node.errorCode("quorum", ["info", 100, "zz"]) == RPCError.invalidParameter)
            let signature = JSON.string(String(repeating: "00", count: 64))
            #expect(try await node.errorCode("quorum", ["verify", 100, Self.id, Self.message, signature]) == RPCError.miscError)
            #expect(try await node.errorCode("quorum", ["verify", 100, Self.id, Self.message, "00"]) == RPCError.invalidParameter)
            #expect(try await node.errorCode("quorum", ["sign", 100, Self.id, Self.message]) == RPCError.internalErrorCode)
            #expect(try await node.errorCode("quorum", ["getrecsig", 100, Self.id, Self.message]) == RPCError.internalErrorCode)
            #expect(try await node.errorCode("quorum", ["dkgstatus"]) == RPCError.internalErrorCode)
            #expect(try await node.errorCode("quorum", ["rotate"]) == RPCError.invalidParamsCode)
        } catch { await node.shutdown(); throw error }
        await node.shutdown()
    }
}
