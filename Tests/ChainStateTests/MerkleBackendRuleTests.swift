import Consensus
import Foundation
import Primitives
import Testing

/// Block rules with the Merkle backend as a parameter (Primitives' `MerkleRootBackend`).
@Suite struct MerkleBackendRuleTests {
    /// Delegates to the scalar root, counting calls; `wrong` flips the roots it returns.
    final class Recording: MerkleRootBackend, @unchecked Sendable {
        let wrong: Bool
        private let lock = NSLock()
        private var leafCounts = [Int]()
        init(wrong: Bool = false) { self.wrong = wrong }
        var name: String { "recording" }
        var calls: [Int] { lock.withLock { leafCounts } }
        func root(of leaves: [Hash256]) throws -> Hash256 {
            lock.withLock { leafCounts.append(leaves.count) }
            let root = try CPUMerkleRoot(level: .scalar).root(of: leaves)
            return wrong ? Hash256(bytes: root.bytes.map { $0 ^ 0xFF })! : root
        }
    }

    struct DeviceLost: Error {}
    struct Failing: MerkleRootBackend {
        var name: String { "failing" }
        func root(of leaves: [Hash256]) throws -> Hash256 { throw DeviceLost() }
    }

    @Test("a given backend computes both roots, with the same result as the default; a wrong root is block-merkle-root")
    func backendParameter() throws {
        let (blocks, _) = Fixtures.blocks(3, seed: 12, transactions: 5)
        for block in blocks {
            let size = block.encoded.count
            let standard = try ContextFreeRules.check(block, encodedSize: size, parameters: Fixtures.regtest)
            let recording = Recording()
            let given = try ContextFreeRules.check(block, encodedSize: size, parameters: Fixtures.regtest, merkle: recording)
            #expect(given.txids == standard.txids && given.encodedSize == standard.encodedSize)
            // The txid root, then the witness root.
            #expect(recording.calls == [block.transactions.count, block.transactions.count])
            for cpu in [CPUMerkleRoot(level: .scalar), CPUMerkleRoot(level: .default)] {
                #expect(try ContextFreeRules.check(block, encodedSize: size, parameters: Fixtures.regtest, merkle: cpu).txids == standard.txids)
            }

            let wrong = Recording(wrong: true)
            do {
                _ = try ContextFreeRules.check(block, encodedSize: size, parameters: Fixtures.regtest, merkle: wrong)
                Issue.record("accepted with a wrong Merkle root")
            } catch let rejection as Rejection {
                #expect(rejection.rule == .blockMerkleRoot)
            }
            #expect(wrong.calls.count == 1, "stops at the first root")
        }
    }

    @Test("a backend that cannot compute a root throws its own error, not a rejection")
    func backendFailure() {
        let (blocks, _) = Fixtures.blocks(1, seed: 13, transactions: 2)
        #expect(throws: DeviceLost.self) {
            _ = try ContextFreeRules.check(blocks[0], encodedSize: blocks[0].encoded.count, parameters: Fixtures.regtest, merkle: Failing())
        }
    }
}
