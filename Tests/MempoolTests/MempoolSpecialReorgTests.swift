import ChainState
import Consensus
import Masternodes
import Mempool
import Primitives
import TestSupport
import Testing

/// Special transactions in the pool across a reorganisation (PROTOCOL 16.7): a registration
/// from a disconnected block returns to the pool while it is still valid, and a pool
/// registration the new branch makes invalid leaves it.
@Suite(.serialized)
struct MempoolSpecialReorgTests {
    typealias Node = MempoolSpecialTests.Node

    /// A block on `parent` holding `transactions`, committing the list after it (`list`: the
    /// list after `parent`, updated to the list after the block).
    static func block(_ transactions: [Transaction], on parent: Hash256, extraNonce: UInt32, list: inout MasternodeList,
                      _ chain: TestChain) throws -> Block {
        var block = chain.block(transactions, on: parent, extraNonce: extraNonce)
        let parameters = try chain.chain.withWriter { $0.masternodeParameters }
        _ = try MasternodeRules.apply(block, txids: block.transactions.map(\.txid), height: block.header.height, to: &list,
                                      parameters: parameters, coin: { _ in nil })
        TestBlocks.seal(&block, extensionRoot: ExtensionRoot.compute(masternodes: list.root()))
        return block
    }

    @Test("a reorganisation returns a still-valid registration to the pool and removes one the new branch's service claim invalidates")
    func reorganisation() async throws {
        let (chain, pool, coins) = try MempoolSpecialTests.setUp()
        pool.start()
        defer { pool.stop() }
        let fork = chain.chain.snapshot.tipHash
        let listAtFork = chain.chain.snapshot.masternodes

        // Branch A: a registration of node 1 confirms.
        let returning = MempoolSpecialTests.register(Node(1), chain, spending: coins[0])
        var listA = listAtFork
        let blockA = try Self.block([returning], on: fork, extraNonce: 0, list: &listA, chain)
        #expect(try chain.chain.accept(blockA) == .connected)
        try await chain.waitUntilSynced(pool)
        #expect(chain.chain.snapshot.masternodes[returning.txid] != nil)

        // Waiting in the pool: node 2's registration.
        let doomed = MempoolSpecialTests.register(Node(2), chain, spending: coins[1])
        #expect(pool.submit(doomed, source: "test").entry != nil)

        // Branch B, longer: node 3 registers with node 2's service.
        var payload = Node(3).payload()
        payload.service = Node(2).service
        let rival = MempoolSpecialTests.register(Node(3), chain, spending: coins[2], payload: payload)
        var listB = listAtFork
        let first = try Self.block([rival], on: fork, extraNonce: 1, list: &listB, chain)
        #expect(try chain.chain.accept(first) == .sideBranch)
        let second = try Self.block([], on: first.hash, extraNonce: 1, list: &listB, chain)
        #expect(try chain.chain.accept(second) == .connected)
        try await chain.waitUntilSynced(pool)
        #expect(chain.chain.snapshot.masternodes == listB)
        #expect(chain.chain.snapshot.masternodes[returning.txid] == nil)

        // Node 1's registration is valid on branch B too: back in the pool.
        #expect(pool.status(txid: returning.txid)?.state == .mempool)
        #expect(pool.entries().map(\.txid).contains(returning.txid))
        // Node 2's service is taken on branch B: it left the pool.
        #expect(!pool.entries().map(\.txid).contains(doomed.txid))
        let gone = try #require(pool.status(txid: doomed.txid))
        #expect(gone.state != .mempool, "\(gone.history)")
        #expect(gone.history.last?.detail == RuleName.masternodeDuplicateService.rawValue || gone.rule == RuleName.masternodeDuplicateService.rawValue,
                "\(gone.history)")
    }
}
