import ChainGen
import ChainParams
import ChainState
import Consensus
import Ed25519
import Foundation
import Primitives
import Testing
import TestSupport
import Verification

/// The staged pipeline (deferred signatures, batches spanning blocks, rollback on a failed
/// batch) against the sequential `accept` path: same digest, same decision, same error.
@Suite(.serialized)
struct PipelineTests {
    struct Outcome {
        var failure: String?
        var summary: UTXOSummary
        var blocks: Int
    }

    static func writeFile(_ blocks: [Block]) throws -> String {
        let path = Fixtures.temporaryDirectory() + ".blk"
        try Data(blocks.flatMap { BlockFile.encodeRecord($0, magic: Fixtures.regtest.magic) }).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Runs the pipeline into a fresh datadir; the summary is read after reopening it.
    static func pipeline(_ file: String, backend: Ed25519.Backend = .auto, threads: Int = 2, batchSize: Int? = nil,
                         cacheMiB: Int = 64, contextFreeInline: Bool? = nil) throws -> Outcome {
        let directory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var report: VerificationPipeline.Report
        do {
            let state = try ChainState(directory: directory, parameters: Fixtures.regtest, cacheMiB: cacheMiB)
            var options = VerificationPipeline.Options.cpu(backend: backend, threads: threads, batchSize: batchSize)
            if let contextFreeInline { options.contextFreeInline = contextFreeInline }
            report = try VerificationPipeline(state: state, options: options).run(files: [file])
            try state.flush()
        }
        let reopened = try ChainState(directory: directory, parameters: Fixtures.regtest)
        return Outcome(failure: report.failure, summary: try reopened.utxoSummary(), blocks: report.blocks)
    }

    /// The sequential path: `accept` block by block, stopping at the first rejection.
    static func sequential(_ blocks: [Block]) throws -> Outcome {
        let directory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var failure: String?
        var connected = 0
        do {
            let state = try ChainState(directory: directory, parameters: Fixtures.regtest)
            for block in blocks {
                do {
                    if try state.accept(block) == .connected { connected += 1 }
                } catch let error as ChainStateError {
                    failure = "\(error)"
                    break
                }
            }
            try state.flush()
        }
        let reopened = try ChainState(directory: directory, parameters: Fixtures.regtest)
        return Outcome(failure: failure, summary: try reopened.utxoSummary(), blocks: connected)
    }

    @Test("a valid chain: every backend and batch size gives the sequential digest and the generator's")
    func validChain() throws {
        let (blocks, generator) = Fixtures.blocks(160, seed: 31, transactions: 8)
        let file = try Self.writeFile(blocks)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let expected = generator.utxoDigest()
        let reference = try Self.sequential(blocks)
        #expect(reference.failure == nil && reference.summary.digest == expected.digest && reference.summary.bestHeight == 160)
        var backends: [Ed25519.Backend] = [.scalar, .auto]
        if Ed25519.Backend.detected != .scalar { backends.append(Ed25519.Backend.detected) }
        for backend in backends {
            // Both shapes of the context-free stage: its own thread, and inline on the UTXO stage's.
            for (batchSize, inline) in [(1, true), (37, false), (500, true), (nil, false), (nil, true)] as [(Int?, Bool)] {
                let outcome = try Self.pipeline(file, backend: backend, threads: 2, batchSize: batchSize, cacheMiB: batchSize == 37 ? 1 : 64,
                                                contextFreeInline: inline)
                #expect(outcome.failure == nil, "\(backend) \(String(describing: batchSize)): \(outcome.failure ?? "")")
                #expect(outcome.summary == reference.summary, "\(backend) batch \(String(describing: batchSize)) inline \(inline)")
                #expect(outcome.blocks == 160)
            }
        }
    }

    enum Defect: CaseIterable { case signature, doubleSpend, proofOfWork }

    /// The generated chain with one block broken at `index`, the later blocks re-linked to it
    /// (so the pipeline runs past it); returns the expected rule and place.
    static func broken(_ blocks: [Block], at index: Int, _ defect: Defect) -> ([Block], rule: String, tx: Int?, input: Int?) {
        let result = brokenBlock(blocks, at: index, defect)
        var copy = result.0
        for later in index + 1..<copy.count {
            copy[later].header.previousHash = copy[later - 1].hash
            copy[later].header.nonce = ChainGenerator.mine(copy[later].header)
        }
        return (copy, result.rule, result.tx, result.input)
    }

    static func brokenBlock(_ blocks: [Block], at index: Int, _ defect: Defect) -> ([Block], rule: String, tx: Int?, input: Int?) {
        var copy = blocks
        var block = copy[index]
        switch defect {
        case .signature:
            // A key-hash spend: witness [signature (64), public key (32)].
            for t in 1..<block.transactions.count {
                if let i = block.transactions[t].witnesses.firstIndex(where: { $0.count == 2 && $0[0].count == 64 && $0[1].count == 32 }) {
                    block.transactions[t].witnesses[i][0][17] ^= 0x04
                    ChainGenerator.seal(&block)
                    copy[index] = block
                    return (copy, "script-signature", t, i)
                }
            }
            fatalError("no key-hash spend in block \(index)")
        case .doubleSpend:
            var spendAgain = block.transactions[1]
            spendAgain.outputs[0].value = Amount(baseUnits: 1)!
            block.transactions.append(spendAgain)
            ChainGenerator.seal(&block)
            copy[index] = block
            return (copy, "tx-double-spend", block.transactions.count - 1, 0)
        case .proofOfWork:
            while true {
                block.header.nonce &+= 1
                let target = try! block.header.compactTarget.target()
                if !ProofOfWork.meets(block.header.hash, target: target) { break }
            }
            copy[index] = block
            return (copy, "header-pow", nil, nil)
        }
    }

    @Test("a bad signature, a double spend or a bad PoW at random heights: same decision, error and state as sequential")
    func defects() throws {
        let (blocks, _) = Fixtures.blocks(150, seed: 32, transactions: 8)
        var rng = SeededGenerator(seed: UInt64(Date().timeIntervalSince1970))
        for defect in Defect.allCases {
            for _ in 0..<2 {
                let index = Int.random(in: 102..<150, using: &rng)  // heights 103...150: after coinbase maturity
                let (bad, rule, tx, input) = Self.broken(blocks, at: index, defect)
                let height = index + 1
                let file = try Self.writeFile(bad)
                defer { try? FileManager.default.removeItem(atPath: file) }
                let reference = try Self.sequential(bad)
                var place = rule
                if let tx { place += " (tx \(tx)" + (input.map { ", input \($0)" } ?? "") + ")" }
                let expected = "block \(height) (\(bad[index].hash.hex)) rejected: \(place)"
                #expect(reference.failure?.hasPrefix(expected) == true, "\(defect) at \(height): \(reference.failure ?? "accepted")")
                #expect(reference.summary.bestHeight == UInt64(height - 1))
                for (backend, batchSize, inline) in [(Ed25519.Backend.scalar, 64, false), (.auto, 300, true), (.auto, nil, false)]
                    as [(Ed25519.Backend, Int?, Bool)] {
                    let outcome = try Self.pipeline(file, backend: backend, batchSize: batchSize, contextFreeInline: inline)
                    let label = "\(defect) at \(height), \(backend), batch \(String(describing: batchSize))"
                    #expect(outcome.failure?.hasSuffix(reference.failure ?? "-") == true, "\(label): \(outcome.failure ?? "accepted")")
                    #expect(outcome.failure?.contains(expected) == true, "\(label): \(outcome.failure ?? "accepted")")
                    #expect(outcome.summary == reference.summary, "\(label)")
                    #expect(outcome.blocks == height - 1, "\(label)")
                }
            }
        }
    }

    @Test("blocks that do not extend the tip (a heavier branch, duplicates) go through accept: the reorganised digest")
    func reorganisation() throws {
        let (branchA, _) = Fixtures.blocks(110, seed: 11)
        let (branchB, generatorB) = Fixtures.blocks(115, seed: 12)
        let file = try Self.writeFile(branchA + branchB + branchA.prefix(5))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let outcome = try Self.pipeline(file, batchSize: 50)
        #expect(outcome.failure == nil, "\(outcome.failure ?? "")")
        #expect(outcome.summary.digest == generatorB.utxoDigest().digest && outcome.summary.bestHeight == 115)
    }

    @Test("deferred connection in ChainState: no flush while unverified; a rejection rolls back to the last verified block")
    func deferredState() throws {
        let (blocks, _) = Fixtures.blocks(106, seed: 33, transactions: 6)
        let (bad, _, tx, input) = Self.broken(blocks, at: 104, .signature)
        let directory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let state = try ChainState(directory: directory, parameters: Fixtures.regtest)
        for block in bad.prefix(103) { try state.accept(block) }
        let before = try state.utxoSummary()
        var connections = [DeferredConnection]()
        for block in bad.suffix(3) {
            #expect(state.canConnectDeferred(block))
            let txids = try ContextFreeRules.check(block, encodedSize: block.encoded.count, parameters: Fixtures.regtest).txids
            connections.append(try state.connectDeferred(block, txids: txids))
        }
        #expect(state.tip.height == 106 && state.unverifiedCount == 3 && state.verifiedHeight == 103)
        try state.confirmDeferred(1)
        #expect(state.verifiedHeight == 104)
        let location = connections[1].locations.first { $0.transaction == tx && $0.input == input }!
        let error = try state.rejectDeferred(index: 0, location: location)
        #expect("\(error)".hasPrefix("block 105 (\(bad[104].hash.hex)) rejected: script-signature (tx \(tx!), input \(input!))"))
        #expect(state.tip.height == 104 && state.unverifiedCount == 0)
        #expect(state.node(bad[104].hash)?.isInvalid == true && state.node(bad[105].hash) == nil)
        let after = try state.utxoSummary()
        #expect(after.bestHash == bad[103].hash && after.digest != before.digest)
        // The same as connecting 104 sequentially.
        let reference = try Self.sequential(Array(bad.prefix(104)))
        #expect(after == reference.summary)
    }
}
