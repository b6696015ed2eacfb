import ChainState
import Foundation
import JSONRPC
import Mempool
import Primitives
import QuorumServices
import Testing
import TestSupport
@testable import Node

/// getbestchainlock, submitchainlock, and the lifecycle's finality following a chain lock.
@Suite("Chain-lock RPC", .serialized)
struct ChainLockRPCTests {
    static let blocks = RPCChains.blocks(12, seed: 91).0
    static let signers = TestLockQuorums.signers

    static func lock(_ block: Block) -> ChainLock { TestLockQuorums.lock(height: block.header.height, on: block.hash) }

    static func withNode(txindex: Bool = false, _ body: (RPCTestNode) async throws -> Void) async throws {
        let node = try RPCTestNode(blocks: blocks, txindex: txindex)
        do { try await body(node) } catch { await node.shutdown(); throw error }
        await node.shutdown()
    }

    @Test("getbestchainlock: -32603 without a lock, then the lock's fields")
    func bestChainLock() async throws {
        try await Self.withNode { node in
            #expect(try await node.errorCode("getbestchainlock") == RPCError.internalErrorCode)
            let lock = Self.lock(Self.blocks[9])
            #expect(try node.chain.accept(chainLock: lock, signers: Self.signers) == .accepted)
            let result = try await node.result("getbestchainlock")
            #expect(result["height"] == 10 && result["blockhash"] == .string(lock.blockHash.hex))
            #expect(result["quorumhash"] == .string(lock.quorumHash.hex) && result["signature"] == .string(HexCoding.encode(lock.signature)))
            #expect(result["known_block"] == true)
        }
    }

    @Test("submitchainlock: accepted, duplicate, pending for an unknown block; refusals -25; bad hex -22")
    func submitChainLock() async throws {
        try await Self.withNode { node in
            let lock = Self.lock(Self.blocks[10])
            let hex = JSON.string(HexCoding.encode(lock.encoded))
            // No chain-lock quorum known: refused.
            #expect(try await node.errorCode("submitchainlock", [hex]) == RPCError.verifyError)
            let peers = node.peers
            try await peers.onLoop { peers.chainLocks.signers = { _ in Self.signers } }
            #expect(try await node.result("submitchainlock", [hex]) == "accepted")
            #expect(node.chain.snapshot.chainLock == lock)
            #expect(try await node.result("submitchainlock", [hex]) == "duplicate")
            var forged = Self.lock(Self.blocks[11])
            forged.signature[0] ^= 1
            let refused = try await node.error("submitchainlock", [.string(HexCoding.encode(forged.encoded))])
            #expect(refused?.code == RPCError.verifyError && refused?.message.contains("does not verify") == true)
            let unknown = TestLockQuorums.lock(height: 13, on: .zero)
            #expect(try await node.result("submitchainlock", [.string(HexCoding.encode(unknown.encoded))]) == "pending")
            #expect(try await peers.onLoop { peers.chainLocks.pending.count } == 1)
            #expect(try await node.errorCode("submitchainlock", [.string(HexCoding.encode(Array(lock.encoded.dropLast())))]) == RPCError.deserializationError)
        }
    }

    @Test("gettxstatus: a block at or below the chain lock is finalized whatever its depth")
    func finalityFollowsChainLock() async throws {
        try await Self.withNode(txindex: true) { node in
            let index = try #require(node.txIndex)
            index.start()
            #expect(try await eventually { index.status.synced && index.status.bestHeight == 12 })
            let deep = Self.blocks[5].transactions[0].txid, locked = Self.blocks[9].transactions[0].txid
            let above = Self.blocks[10].transactions[0].txid
            #expect(try await node.result("gettxstatus", [.string(deep.hex)])["state"] == "finalized") // depth 7
            #expect(try await node.result("gettxstatus", [.string(locked.hex)])["state"] == "confirmed") // depth 3
            #expect(try node.chain.accept(chainLock: Self.lock(Self.blocks[9]), signers: Self.signers) == .accepted)
            #expect(try await node.result("gettxstatus", [.string(locked.hex)])["state"] == "finalized")
            #expect(try await node.result("gettxstatus", [.string(above.hex)])["state"] == "confirmed")
        }
    }

    @Test("blockState: finalized by depth or by a chain lock, never before the block is in the chain")
    func blockStateRule() throws {
        #expect(NodeRPCContext.blockState(confirmations: 1, finalityDepth: 6, chainLocked: true) == .finalized)
        #expect(NodeRPCContext.blockState(confirmations: 1, finalityDepth: 6) == .included)
        #expect(NodeRPCContext.blockState(confirmations: 0, finalityDepth: 6, chainLocked: true) == .included)
        #expect(NodeRPCContext.blockState(confirmations: 6, finalityDepth: 6) == .finalized)
    }
}
