import ChainGen
import ChainState
import Foundation
import Primitives
import QuorumServices
import Testing
import TestSupport
import Wire
@testable import Node

/// `clsig` between an in-process node and raw wire peers: a new valid lock goes to every peer
/// that did not send it (once), a bad signature is misbehaviour, a lock for an unknown block
/// waits for it.
@Suite("Chain-lock relay", .serialized)
struct ChainLockRelayTests {
    static func withNode(_ body: (RelayTestNode) async throws -> Void) async throws {
        let node = try RelayTestNode()
        try await node.start()
        let manager = node.manager
        try await manager.onLoop { manager.chainLocks.signers = { _ in TestLockQuorums.signers } }
        do { try await body(node) } catch {
            await node.shutdown()
            throw error
        }
        await node.shutdown()
    }

    static func clsigCount(_ peer: RelayTestPeer) -> Int {
        peer.messages.filter { if case .clsig = $0 { return true } else { return false } }.count
    }

    @Test("a valid lock is taken and relayed once to the peers that did not send it", .timeLimit(.minutes(5)))
    func relayedOnce() async throws {
        try await Self.withNode { node in
            let sender = try await RelayTestPeer.handshaken(with: node)
            let other = try await RelayTestPeer.handshaken(with: node)
            let genesis = RelayTestNode.regtest.chain.genesisBlock()
            let lock = TestLockQuorums.lock(height: 0, on: genesis.hash)
            sender.send(.clsig(lock))
            #expect(await other.waitFor { $0 == .clsig(lock) } != nil)
            #expect(node.manager.chain.snapshot.chainLock == lock)
            // Sent again (by either side): nothing new goes out.
            sender.send(.clsig(lock))
            other.send(.clsig(lock))
            #expect(await sender.roundTrip())
            #expect(await other.roundTrip())
            #expect(Self.clsigCount(sender) == 0 && Self.clsigCount(other) == 1)
            #expect(!sender.isClosed && !other.isClosed)
        }
    }

    @Test("a bad signature is misbehaviour: the sender is disconnected and nothing is relayed", .timeLimit(.minutes(5)))
    func badSignature() async throws {
        try await Self.withNode { node in
            let sender = try await RelayTestPeer.handshaken(with: node)
            let other = try await RelayTestPeer.handshaken(with: node)
            var forged = TestLockQuorums.lock(height: 0, on: RelayTestNode.regtest.chain.genesisBlock().hash)
            forged.signature[5] ^= 0x40
            sender.send(.clsig(forged))
            #expect(try await eventually { sender.isClosed })
            #expect(await other.roundTrip())
            #expect(Self.clsigCount(other) == 0 && node.manager.chain.snapshot.chainLock == nil)
        }
    }

    @Test("a lock for a block not known yet waits for it, then is taken and relayed", .timeLimit(.minutes(5)))
    func pendingUntilTheBlock() async throws {
        try await Self.withNode { node in
            let sender = try await RelayTestPeer.handshaken(with: node)
            let other = try await RelayTestPeer.handshaken(with: node)
            var generator = ChainGenerator(parameters: RelayTestNode.regtest, seed: 5, transactionsPerBlock: 0)
            let block = generator.nextBlock()
            let lock = TestLockQuorums.lock(height: 1, on: block.hash)
            sender.send(.clsig(lock))
            let manager = node.manager
            #expect(try await eventually { try await manager.onLoop { manager.chainLocks.pending.count == 1 } })
            #expect(Self.clsigCount(other) == 0 && manager.chain.snapshot.chainLock == nil)
            try manager.chain.accept(block)
            #expect(await other.waitFor { $0 == .clsig(lock) } != nil)
            #expect(manager.chain.snapshot.chainLock == lock)
            #expect(try await manager.onLoop { manager.chainLocks.pending.isEmpty })
        }
    }

    static func asksHeaders(upTo hash: Hash256) -> (Message) -> Bool {
        { if case .getheaders(_, let stop) = $0 { return stop == hash } else { return false } }
    }

    @Test("a pending lock's headers are asked of each peer in turn until one has them; then its block is fetched",
          .timeLimit(.minutes(5)))
    func pendingAsksEveryPeer() async throws {
        try await Self.withNode { node in
            // Both peers answer getheaders with nothing: the sender's answer is lost, so the
            // timer must turn to the other peer.
            let sender = try await RelayTestPeer.handshaken(with: node)
            let other = try await RelayTestPeer.handshaken(with: node)
            var generator = ChainGenerator(parameters: RelayTestNode.regtest, seed: 6, transactionsPerBlock: 0)
            let block = generator.nextBlock()
            let lock = TestLockQuorums.lock(height: 1, on: block.hash)
            sender.send(.clsig(lock))
            #expect(await sender.waitFor(seconds: 5, Self.asksHeaders(upTo: block.hash)) != nil)
            #expect(await other.waitFor(seconds: 5, Self.asksHeaders(upTo: block.hash)) != nil)
            // Retried in turn, not once: the sender is asked again after the other peer.
            #expect(try await eventually { sender.messages.filter(Self.asksHeaders(upTo: block.hash)).count >= 2 })
            let manager = node.manager
            #expect(try await manager.onLoop { manager.chainLocks.pending.count == 1 })
            // The other peer has it: its header makes the lock the best one, and the block is asked for.
            other.send(.headers([block.header]))
            #expect(try await eventually { manager.chain.snapshot.chainLock == lock })
            let wantsBlock = await other.waitFor(seconds: 60) {
                if case .getdata(let items) = $0 { return items.contains { $0.hash == block.hash } } else { return false }
            }
            #expect(wantsBlock != nil)
            #expect(try await manager.onLoop { manager.chainLocks.pending.isEmpty })
        }
    }
}
