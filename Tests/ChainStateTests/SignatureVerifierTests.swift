import ChainGen
import ChainState
import Consensus
import Ed25519
import Foundation
import Primitives
import Testing

/// ChainState verifies each connected block's signatures with the verifier it is given.
@Suite(.serialized) struct SignatureVerifierTests {
    /// Counts what it verifies; `mode` makes it answer with the CPU's verdicts, throw, or
    /// call every signature invalid.
    final class Recording: SignatureBatchVerifier, @unchecked Sendable {
        enum Mode { case honest, failing, rejectingAll }
        struct DeviceLost: Error {}
        let mode: Mode
        private let lock = NSLock()
        private var seen = 0
        init(_ mode: Mode) { self.mode = mode }
        var name: String { "recording-\(mode)" }
        var signatures: Int { lock.withLock { seen } }
        func verify(_ batch: SignatureBatch) throws -> [Bool] {
            lock.withLock { seen += batch.count }
            switch mode {
            case .honest: return Ed25519.verifyBatch(batch, backend: .scalar)
            case .failing: throw DeviceLost()
            case .rejectingAll: return [Bool](repeating: false, count: batch.count)
            }
        }
    }

    static func run(_ verifier: Recording, blocks: [Block]) throws -> (ChainState, String) {
        let directory = Fixtures.temporaryDirectory()
        let state = try ChainState(directory: directory, parameters: Fixtures.regtest)
        state.signatureVerifier = verifier
        for block in blocks { try state.accept(block) }
        return (state, directory)
    }

    @Test("the given verifier checks every signature and is named in signaturesVerifiedBy")
    func usesVerifier() throws {
        let (blocks, _) = Fixtures.blocks(104, seed: 41, transactions: 4)
        let verifier = Recording(.honest)
        let (state, directory) = try Self.run(verifier, blocks: blocks)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(state.tip.height == 104)
        #expect(verifier.signatures > 0)
        #expect(state.signaturesVerifiedBy == ["recording-honest": verifier.signatures])
    }

    @Test("a verifier that throws is replaced by the CPU for that batch, with the same verdicts; one that says invalid rejects")
    func failingAndRejecting() throws {
        let (blocks, _) = Fixtures.blocks(104, seed: 42, transactions: 4)
        let failing = Recording(.failing)
        let (state, directory) = try Self.run(failing, blocks: blocks)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(state.tip.height == 104 && failing.signatures > 0)
        #expect(state.signaturesVerifiedBy.keys.sorted() == ["cpu (after a verifier failure)"])

        let other = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: other) }
        let rejecting = try ChainState(directory: other, parameters: Fixtures.regtest)
        rejecting.signatureVerifier = Recording(.rejectingAll)
        var rejection: Rejection?
        for block in blocks where rejection == nil {
            do { try rejecting.accept(block) } catch ChainStateError.rejected(let reason, _, _) { rejection = reason }
        }
        #expect(rejection?.rule == .scriptSignature)
    }

    @Test("signatureBackend and signatureThreads set a CPU engine")
    func cpuShorthands() throws {
        let directory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let state = try ChainState(directory: directory, parameters: Fixtures.regtest)
        state.signatureBackend = .scalar
        state.signatureThreads = 3
        let cpu = try #require(state.signatureVerifier as? CPUSignatureVerifier)
        #expect(cpu.backend == .scalar && cpu.threads == 3 && state.signatureBackend == .scalar && state.signatureThreads == 3)
    }
}
