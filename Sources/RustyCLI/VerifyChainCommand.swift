import ArgumentParser
import ChainGen
import ChainParams
import ChainState
import Consensus
import Ed25519
import Foundation
import OpenCLRuntime
import Primitives
import SignatureBackends
import Verification


struct VerifyChainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-chain",
        abstract: "Fully validate the blocks of block files into a datadir's chain state (resumes where it stopped).",
        discussion: """
            A staged pipeline: read -> decode and context-free checks (parallel) -> UTXO and scripts in block order \
            -> signature batches spanning blocks on the chosen backend -> commit. Nothing is written before its \
            signatures verified. --sequential validates block by block instead. Blocks may come in any order: one \
            whose parent comes later waits for it (within a memory bound). --reindex rebuilds the state from the \
            datadir's own block files alone, from scratch (then any block files given). SIGINT or SIGTERM flushes, \
            prints the summary so far and exits; a rerun continues. \
            Exit status: 0 all blocks valid and connected (or already known); 1 a block was rejected (the state stays \
            at the last valid block) or could not be connected (unknown parent, gap); 2 a malformed file; \
            130/143 stopped by SIGINT/SIGTERM.
            """
    )

    @Argument(help: "Block files (records: magic | length u32 LE | block).")
    var files: [String] = []

    @Option(help: "Chain state directory.")
    var datadir: String

    @Option(help: "Network.")
    var network = "regtest"

    @Option(help: "Signature backend: auto, scalar, simd, avx2, avx512ifma, opencl.")
    var backend = "auto"

    @Option(help: "Signature verification threads (default: all cores).")
    var threads: Int?

    @Option(help: "UTXO cache size in MiB.")
    var dbcache = 256

    @Option(name: .customLong("batch-size"), help: "Signatures per verification batch (default: sized for the backend and threads).")
    var batchSize: Int?

    @Flag(help: "Validate block by block (signatures of each block verified before the next), without the pipeline.")
    var sequential = false

    @Flag(help: "Rebuild --datadir's chain state from its block files alone (the index may be gone), from scratch.")
    var reindex = false

    @Flag(help: "Print JSON.")
    var json = false

    static let dbcacheRange = 1...1_048_576
    static let threadsRange = 1...1024
    static let batchSizeRange = 1...16_777_216

    func validate() throws {
        guard !files.isEmpty || reindex else { throw ValidationError("give at least one block file (or --reindex)") }
        try checkCountRange("--dbcache", dbcache, Self.dbcacheRange, unit: " MiB")
        if let threads { try checkCountRange("--threads", threads, Self.threadsRange) }
        if let batchSize { try checkCountRange("--batch-size", batchSize, Self.batchSizeRange) }
    }

    func signatureBackend() throws -> Ed25519.Backend {
        // With opencl every batch goes to the OpenCL verifier (see `verify`) and this
        // CPU backend is not used.
        if backend == "simd" || backend == "opencl" { return Ed25519.Backend.detected }
        if let parsed = Ed25519.Backend(rawValue: backend), parsed.isSupported { return parsed }
        throw ValidationError("unknown or unsupported --backend '\(backend)' (auto, scalar, simd, avx2, avx512ifma, opencl)")
    }

    struct Outcome {
        var report: VerificationPipeline.Report
        var summary: UTXOSummary
        var startHeight: UInt64
        var options: VerificationPipeline.Options
        /// The last flush and the UTXO digest after the blocks.
        var summarySeconds: Double
        /// The engines that verified the sequential run's signatures (the verifier's name
        /// when there were none).
        var sequentialBackend: String
    }

    func run() throws {
        let signatureBackend = try signatureBackend()
        // A missing or unreadable input is named before anything is created.
        for file in files {
            do { _ = try InputFile(path: file) } catch {
                throw CommandFailure(.invalid, "\(error)")
            }
        }
        // Stop cleanly (flush, summary) on SIGINT/SIGTERM; a closed stdout must not kill the
        // process before its flush.
        stopCleanlyOnSignals()
        let threadCount = threads ?? activeProcessorCount()
        let reindexDirectory = datadir.hasSuffix("/") ? String(datadir.dropLast()) + ".reindex" : datadir + ".reindex"
        let start = DispatchTime.now().uptimeNanoseconds
        // The chain states are closed when `verify` returns (before a reindex moves directories).
        let outcome = try verify(signatureBackend: signatureBackend, threadCount: threadCount, reindexDirectory: reindexDirectory)
        let (report, summary, startHeight, options) = (outcome.report, outcome.summary, outcome.startHeight, outcome.options)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let complete = report.failure == nil && report.unconnected.isEmpty && !report.interrupted
        if reindex {
            if complete {
                // The rebuilt state replaces the datadir.
                try Self.replace(datadir, with: reindexDirectory)
            } else {
                // Keep the datadir (its block files are the only copy of some blocks).
                try? FileManager.default.removeItem(atPath: reindexDirectory)
                printError("rusty verify-chain: reindex incomplete; \(datadir) is unchanged")
            }
        }
        for reorganization in report.reorganizations {
            printError("rusty verify-chain: reorganisation at height \(reorganization.forkHeight): \(reorganization.disconnected) blocks "
                       + "disconnected (tip \(reorganization.oldHeight) \(reorganization.oldTip.hex)), \(reorganization.connected) connected "
                       + "(tip \(reorganization.newHeight) \(reorganization.newTip.hex))")
        }
        for line in report.gaps + report.unconnected { printError("rusty verify-chain: \(line)") }
        for line in report.passedOver { printError("rusty verify-chain: passed over an invalid block of the datadir's files: \(line)") }
        if report.knownInvalid > 0 {
            printError("rusty verify-chain: passed over \(report.knownInvalid) blocks the datadir's index records as invalid")
        }
        if let failure = report.failure { printError("rusty verify-chain: \(failure)") }
        let perSecond = { (count: Int) in Double(count) / max(seconds, 1e-9) }
        let stages = report.stageSeconds
        if json {
            var output = VerifyChainOutput(
                valid: report.failure == nil, blocks: report.blocks, skipped: report.skipped, startHeight: startHeight,
                height: summary.bestHeight, bestHash: summary.bestHash.hex, transactions: report.transactions,
                inputs: report.inputs, signatures: report.signatures, seconds: seconds, utxoCount: summary.count,
                utxoTotal: summary.total.baseUnits, utxoDigest: summary.digest.hex,
                backend: sequential ? outcome.sequentialBackend : options.backendName, error: Nullable(report.failure),
                mode: sequential ? "sequential" : "pipeline", threads: threadCount, reindex: reindex,
                unconnected: report.unconnected.count, gaps: report.gaps, reorganizations: report.reorganizations.count,
                interrupted: report.interrupted, knownInvalid: report.knownInvalid, passedOver: report.passedOver.count,
                blocksPerSecond: perSecond(report.blocks), transactionsPerSecond: perSecond(report.transactions),
                inputsPerSecond: perSecond(report.inputs), signaturesPerSecond: perSecond(report.signatures))
            if !sequential {
                var withSummary = stages
                withSummary["finalFlushAndDigest"] = outcome.summarySeconds
                output.stages = withSummary
                output.batches = report.batches
                output.batchSize = options.batchSize
                output.drains = report.drains
            }
            try printJSON(output)
        } else {
            var text = """
                verified \(report.blocks) blocks (\(report.skipped) already known) in \(String(format: "%.2f", seconds)) s: height \(startHeight) -> \(summary.bestHeight)\(reindex ? " (reindexed from the datadir's blocks)" : "")
                transactions \(report.transactions), inputs \(report.inputs), signatures \(report.signatures) (\(sequential ? outcome.sequentialBackend : options.backendName), \(threadCount) threads\(sequential ? ", sequential" : ""))
                \(String(format: "%.0f blocks/s, %.0f tx/s, %.0f inputs/s, %.0f signatures/s", perSecond(report.blocks), perSecond(report.transactions), perSecond(report.inputs), perSecond(report.signatures)))
                """
            if !sequential {
                text += "\n" + String(format: "stages (busy s): read %.2f, context-free %.2f, utxo+scripts %.2f, signatures %.2f (%d batches of ~%d), commit %.2f, final flush and digest %.2f; utxo waited %.2f for input, %.2f for signatures",
                                      stages["read"] ?? 0, stages["contextFree"] ?? 0, stages["utxo"] ?? 0, stages["signatures"] ?? 0,
                                      report.batches, options.batchSize, stages["commit"] ?? 0, outcome.summarySeconds, stages["waitInput"] ?? 0,
                                      stages["waitSignatures"] ?? 0)
            }
            text += """

                best block \(summary.bestHash.hex)
                UTXO set: \(summary.count) coins, \(summary.total) RUST, digest \(summary.digest.hex)
                """
            if !report.unconnected.isEmpty { text += "\nnot connected: \(report.unconnected.count) blocks (listed on standard error)" }
            if !report.reorganizations.isEmpty { text += "\nreorganisations: \(report.reorganizations.count)" }
            if report.interrupted { text += "\nstopped by signal \(stopSignal == SIGTERM ? "SIGTERM" : "SIGINT"); the rerun continues from here" }
            print(text)
        }
        // A closed stdout (EPIPE) loses only the summary: the state is flushed.
        fflush(nil)
        if report.failure != nil { throw (report.malformed ? ExitStatus.malformed : ExitStatus.invalid).code }
        if report.interrupted { throw stopStatus.code }
        if !report.unconnected.isEmpty { throw ExitStatus.invalid.code }
    }

    func verify(signatureBackend: Ed25519.Backend, threadCount: Int, reindexDirectory: String) throws -> Outcome {
        var lock: AnyObject?
        defer { withExtendedLifetime(lock) {} }
        let state: ChainState
        let parameters: ConsensusParameters
        var sources = [VerificationPipeline.Source]()
        var knownInvalid = Set<Hash256>()
        do {
            if reindex {
                // The block files alone are enough: the index may be damaged or gone.
                let blockFiles = try ChainState.blockFilePaths(directory: datadir)
                guard !blockFiles.isEmpty else {
                    throw CommandFailure(.invalid, "\(datadir) holds no block files to reindex")
                }
                parameters = try consensusParameters((try? ChainState.storedNetwork(directory: datadir)) ?? network)
                // No other process may write the datadir while it is rebuilt and replaced.
                lock = try ChainState.holdLock(directory: datadir)
                // The files keep the blocks the datadir rejected; its index (when readable) says which.
                knownInvalid = (try? ChainState(directory: datadir, parameters: parameters, cacheMiB: 8, readOnly: true))?.invalidBlocks ?? []
                for path in blockFiles {
                    let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
                    sources.append(.datadirFile(path, end: size))
                }
                if FileManager.default.fileExists(atPath: reindexDirectory) { try FileManager.default.removeItem(atPath: reindexDirectory) }
                state = try ChainState(directory: reindexDirectory, parameters: parameters, cacheMiB: dbcache)
            } else {
                parameters = try consensusParameters(network)
                state = try ChainState(directory: datadir, parameters: parameters, cacheMiB: dbcache)
            }
        } catch let failure as CommandFailure {
            throw failure
        } catch let exit as ExitCode {
            throw exit
        } catch ChainStateError.inUse(let directory) {
            throw CommandFailure(.invalid, "\(directory): in use by another process")
        } catch {
            throw CommandFailure(.invalid, "\(error)")
        }
        if state.replayedBlocks > 0 {
            printError("rusty verify-chain: connected \(state.replayedBlocks) blocks the block files held past the last flush")
        }
        let startHeight = state.tip.height
        let progress = ProgressLine()
        sources += files.map { .file($0) }
        let shouldStop: @Sendable () -> Bool = { stopSignal != 0 }

        // One verifier for the pipeline's batches, the sequential path and the blocks the
        // chain state connects itself (reorganisations).
        var options: VerificationPipeline.Options
        let verifier: any SignatureBatchVerifier
        if backend == "opencl" {
            do {
                guard case .opencl(let devices) = try BackendChoice.opencl.resolve() else { throw BackendUnavailable.noOpenCLDevice }
                verifier = try OpenCLSignatureVerifier(devices: devices)
            } catch {
                throw CommandFailure(.openCLUnavailable, "\(error)")
            }
            options = VerificationPipeline.Options(verifier: verifier, batchSize: batchSize ?? 32_768, contextFreeThreads: threadCount)
        } else {
            verifier = CPUSignatureVerifier(backend: signatureBackend, threads: threadCount)
            options = VerificationPipeline.Options.cpu(backend: signatureBackend, threads: threadCount, batchSize: batchSize)
        }
        state.signatureVerifier = verifier
        let verifiedBefore = state.signaturesVerifiedBy
        options.shouldStop = shouldStop
        options.knownInvalid = knownInvalid
        var report: VerificationPipeline.Report
        if sequential {
            var sequentialVerifier = SequentialVerifier(state: state)
            sequentialVerifier.maxWaitingBytes = options.maxWaitingBytes
            sequentialVerifier.knownInvalid = knownInvalid
            sequentialVerifier.shouldStop = shouldStop
            report = try sequentialVerifier.run(sources) { height, report, elapsed in
                progress.update(String(format: "height %llu  %.0f blocks/s  %.0f tx/s  %.0f inputs/s  %.0f sigs/s  [%@]",
                                       height, Double(report.blocks) / elapsed, Double(report.transactions) / elapsed,
                                       Double(report.inputs) / elapsed, Double(report.signatures) / elapsed, verifier.name))
            }
        } else {
            let pipeline = VerificationPipeline(state: state, options: options)
            report = try pipeline.run(sources) { status in progress.update(Self.progressText(status)) }
            // A reindex passes over a block its own files hold but that breaks a rule (the
            // state now records it as invalid) and runs the files again from there: the
            // connected blocks are skipped as known.
            while reindex && report.failureInDatadirFile, let failure = report.failure {
                report.passedOver.append(failure)
                report.failure = nil
                report.add(try pipeline.run(sources) { status in progress.update(Self.progressText(status)) })
            }
        }
        progress.finish()
        let summaryStart = DispatchTime.now().uptimeNanoseconds
        let summary = try state.utxoSummary() // flushes: the state is at the last valid block
        let summarySeconds = Double(DispatchTime.now().uptimeNanoseconds - summaryStart) / 1e9
        let engines = state.signaturesVerifiedBy.filter { $0.value > verifiedBefore[$0.key, default: 0] }.keys.sorted()
        return Outcome(report: report, summary: summary, startHeight: startHeight, options: options, summarySeconds: summarySeconds,
                       sequentialBackend: engines.isEmpty ? verifier.name : engines.joined(separator: " + "))
    }

    static func progressText(_ status: VerificationPipeline.Progress) -> String {
        let seconds = max(status.seconds, 1e-9)
        var eta = "ETA --"
        if status.fraction > 0.001 {
            let left = Int(status.seconds * (1 - status.fraction) / status.fraction)
            eta = left >= 3600 ? String(format: "ETA %dh%02dm", left / 3600, left / 60 % 60) : String(format: "ETA %dm%02ds", left / 60, left % 60)
        }
        return String(format: "height %llu (verified %llu)  %.0f blocks/s  %.0f tx/s  %.0f inputs/s  %.0f sigs/s verified  %@  [%@ %@]",
                      status.height, status.verifiedHeight, Double(status.blocks) / seconds, Double(status.transactions) / seconds,
                      Double(status.inputs) / seconds, Double(status.verifiedSignatures) / seconds, eta, status.backend,
                      status.signatureStageBusy ? "busy" : "idle")
    }

    /// Moves the rebuilt state into place: datadir -> datadir.reindex-old, rebuilt -> datadir,
    /// then removes the old one (a crash in between leaves both directories, never neither).
    /// Files (and the `quorums` directory of a masternode's key shares) `rusty node` keeps
    /// beside the chain state (DESIGN 9), carried over by a reindex. A list, not "everything
    /// else": a stale database file carried into the rebuilt state would corrupt it.
    static let nodeFiles = ["peers.dat", "banlist", "mempool.dat", "fee_estimates.dat", "wallet.dat", "governance-executions.dat",
                            "quorums", "debug.log", "node-status.json", "rusty.conf", ".cookie"]

    static func replace(_ datadir: String, with rebuilt: String) throws {
        let old = datadir + ".reindex-old"
        let manager = FileManager.default
        if manager.fileExists(atPath: old) { try manager.removeItem(atPath: old) }
        // A node's own files share the directory with the chain state: they stay.
        for name in nodeFiles where manager.fileExists(atPath: datadir + "/" + name) {
            try manager.copyItem(atPath: datadir + "/" + name, toPath: rebuilt + "/" + name)
        }
        try manager.moveItem(atPath: datadir, toPath: old)
        try manager.moveItem(atPath: rebuilt, toPath: datadir)
        try manager.removeItem(atPath: old)
    }
}

/// A usage error naming the flag and its allowed range when `value` is outside it.
func checkCountRange(_ flag: String, _ value: Int, _ range: ClosedRange<Int>, unit: String = "") throws {
    guard range.contains(value) else {
        throw ValidationError("\(flag) must be between \(range.lowerBound) and \(range.upperBound)\(unit), not \(value)")
    }
}
