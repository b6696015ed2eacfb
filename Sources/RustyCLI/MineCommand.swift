import ArgumentParser
import ChainState
import Consensus
import Ed25519
import Foundation
import Mining
import OpenCLRuntime
import Primitives
import ProofOfWorkSearch
import Wallet

struct MineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mine",
        abstract: "Mine blocks on a datadir's chain, against a node (--rpc) or in a pool (--stratum), with every selected device.",
        discussion: """
            Builds a block template (coinbase paying the subsidy, with an extra nonce) on the best block, \
            searches the nonce space on the selected OpenCL devices and CPU threads at once (disjoint \
            ranges sized by measured speed), connects each block found (so ASERT retargets as it goes) \
            and shows the hashrate per backend and in total. Each block is on disk (flushed) before it is \
            reported accepted. Ctrl-C stops cleanly after the current round; so does a closed standard output. \
            testnet and mainnet need --address (or --key); regtest pays to a new key when neither is given.

            --rpc http://[user:password@]host:port mines against a node: getblocktemplate (paying --address \
            or --key), a long poll that switches to a newer template at the end of a round, submitblock. \
            --stratum stratum+tcp://host:port --user ADDRESS[.worker] mines in a pool: header-only jobs on the \
            connection's nonce prefix, every share submitted once, reconnecting with backoff. Both print a \
            status line every --status-interval seconds: (interval):rate (avg):rate | A:accepted R:rejected \
            S:stale HW:hardware errors | diff share (or block) difficulty | ping pool latency | per-device rates.
            """
    )

    @Option(help: "Network: regtest, testnet or mainnet.")
    var network = "regtest"

    @Option(help: "Chain state directory (local mode).")
    var datadir: String?

    @Option(help: "Mine against a node's JSON-RPC: http://[user:password@]host:port.")
    var rpc: String?

    @Option(name: .customLong("rpc-cookie-file"), help: "With --rpc: read the RPC user and password from this cookie file.")
    var rpcCookieFile: String?

    @Option(help: "Mine in a Stratum pool: stratum+tcp://host:port.")
    var stratum: String?

    @Option(help: "With --stratum: the worker name, ADDRESS or ADDRESS.worker (a bech32m address of the network).")
    var user: String?

    @Option(help: "With --stratum: the worker's password.")
    var password = "x"

    @Option(help: "With --rpc or --stratum: stop after this many seconds.")
    var duration: Double?

    @Option(help: "With --stratum: stop after this many accepted shares.")
    var shares: Int?

    @Option(name: .customLong("status-interval"), help: "With --rpc or --stratum: seconds between status lines.")
    var statusInterval = 5.0

    @Option(help: "Blocks to mine (default: until interrupted).")
    var blocks: Int?

    @Option(help: "Pay to this address (bech32m, of the network) or key hash (64 hex digits: BLAKE3 of the public key).")
    var address: String?

    @Option(help: "Pay to this Ed25519 public key (64 hex digits).")
    var key: String?

    @Option(help: "auto (OpenCL GPUs plus CPU), opencl, simd or scalar.")
    var backend = "auto"

    @Option(help: "OpenCL devices to use, as indices into `rusty devices` order (comma-separated).")
    var devices: String?

    @Option(name: .customLong("cpu-threads"), help: "CPU SIMD threads (0: none when OpenCL is used; default: all cores).")
    var cpuThreads: Int?

    @Flag(help: "Print one JSON object per line: per block found (local), per event (--rpc, --stratum), and a final summary.")
    var json = false

    static let blocksRange = 1...100_000_000
    static let cpuThreadsRange = 0...1024

    func validate() throws {
        guard ["regtest", "testnet", "mainnet"].contains(network) else { throw ValidationError("--network must be regtest, testnet or mainnet") }
        if let blocks { try checkCountRange("--blocks", blocks, Self.blocksRange) }
        // --stratum pays --user (the pool's business), so no payout is needed there.
        if network != "regtest" && address == nil && key == nil && stratum == nil {
            // A generated key's seed only goes to the terminal: real coins would be easy to lose.
            throw ValidationError("--address is required on \(network) (or --key); only regtest pays to a generated key")
        }
        if let devices { _ = try Self.deviceIndices(devices) }
        if address != nil && key != nil { throw ValidationError("--address and --key cannot be combined") }
        if let address, payoutKeyHash(address) == nil {
            throw ValidationError("--address needs a bech32m address of \(network) or 64 hex digits")
        }
        if let key, HexCoding.decode(key)?.count != 32 { throw ValidationError("--key needs 64 hex digits") }
        if let cpuThreads { try checkCountRange("--cpu-threads", cpuThreads, Self.cpuThreadsRange) }
        guard BackendChoice(rawValue: backend) != nil else { throw ValidationError("unknown --backend '\(backend)' (auto, opencl, simd, scalar)") }
        try validateSource()
    }

    /// `--devices` as distinct indices, in the order given.
    static func deviceIndices(_ list: String) throws -> [Int] {
        var indices = [Int]()
        for part in list.split(separator: ",", omittingEmptySubsequences: false) {
            let text = part.trimmingCharacters(in: .whitespaces)
            guard let index = Int(text), index >= 0 else {
                throw ValidationError("--devices: '\(text)' is not a device index (0, 1, ... as `rusty devices` lists them)")
            }
            guard !indices.contains(index) else { throw ValidationError("--devices: device \(index) is listed twice") }
            indices.append(index)
        }
        return indices
    }

    func payoutScript() -> [UInt8] {
        if let address, let keyHash = payoutKeyHash(address) { return StandardScript.payToKeyHash(keyHash) }
        if let key { return StandardScript.payToKeyHash(StandardScript.keyHash(HexCoding.decode(key)!)) }
        var generator = SystemRandomNumberGenerator()
        let seed = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let publicKey = Ed25519.publicKey(seed: seed)
        printError("rusty mine: warning: no --address; paying to a new key, keep its seed: seed \(HexCoding.encode(seed)) pk \(HexCoding.encode(publicKey))")
        return StandardScript.payToKeyHash(StandardScript.keyHash(publicKey))
    }

    func makeSearcher() throws -> any PoWSearcher {
        let choice = BackendChoice(rawValue: backend)!
        let cores = activeProcessorCount()
        switch choice {
        case .scalar: return ScalarPoWSearch()
        case .simd: return SIMDPoWSearch(threads: cpuThreads.map { max(1, $0) } ?? cores)
        case .opencl, .auto:
            var selected: [OpenCLDevice]
            do {
                let resolved = try choice.resolve { printError("rusty mine: \($0)") }
                guard case .opencl(let found) = resolved else {
                    return SIMDPoWSearch(threads: cpuThreads.map { max(1, $0) } ?? cores)
                }
                selected = found
            } catch {
                throw CommandFailure(.openCLUnavailable, "\(error)")
            }
            if let devices {
                let all = OpenCL.computeDevices()
                var picked = [OpenCLDevice]()
                for index in try Self.deviceIndices(devices) {
                    guard all.indices.contains(index) else {
                        throw ValidationError("--devices: \(index) is not a device index (0...\(all.count - 1): `rusty devices` lists them)")
                    }
                    picked.append(all[index])
                }
                selected = picked
            }
            var members: [any PoWSearcher] = []
            do {
                members.append(try OpenCLPoWSearch(devices: selected))
            } catch {
                if choice == .opencl { throw CommandFailure(.openCLUnavailable, "\(error)") }
                printError("rusty mine: OpenCL failed (\(error)); using the CPU backend (simd)")
            }
            // With GPUs the CPU helps unless told not to; on a CPU-only OpenCL platform the
            // CPU cores are already the OpenCL device.
            let cpu = cpuThreads ?? (selected.allSatisfy(\.isGPULike) ? max(1, cores - 1) : 0)
            if cpu > 0 || members.isEmpty { members.append(SIMDPoWSearch(threads: max(1, cpu))) }
            return members.count == 1 ? members[0] : CombinedPoWSearch(members)
        }
    }

    /// `--address` as a key hash: a bech32m address of the network, or 64 hex digits.
    func payoutKeyHash(_ text: String) -> Hash256? {
        if let parsed = try? Address(parsing: text, network: network) { return parsed.keyHash }
        return HexCoding.decode(text)?.count == 32 ? Hash256(hex: text) : nil
    }

    func run() throws {
        if rpc != nil || stratum != nil { return try runRemote() }
        guard let datadir else { throw ValidationError("one of --datadir, --rpc or --stratum is required") }
        let parameters = try consensusParameters(network)
        // Devices first: a bad --devices index is a usage error that must not create a datadir.
        let searcher = try makeSearcher()
        let state: ChainState
        do {
            state = try ChainState(directory: datadir, parameters: parameters, cacheMiB: 64)
        } catch ChainStateError.inUse(let directory) {
            throw CommandFailure(.invalid, "\(directory): in use by another process")
        } catch {
            throw CommandFailure(.invalid, "\(error)")
        }
        let payout = payoutScript()
        let miner = Miner(searcher: searcher, roundSize: 1 << 20)
        // The miner checks `stopSignal` between rounds; a closed stdout (EPIPE) stops it cleanly.
        stopCleanlyOnSignals()
        let progress = ProgressLine()
        if state.replayedBlocks > 0 {
            printError("rusty mine: connected \(state.replayedBlocks) blocks the block files held past the last flush")
        }
        printError("rusty mine: \(network) at height \(state.tip.height), backend \(searcher.name)")
        var outputClosed = false
        let began = DispatchTime.now().uptimeNanoseconds
        var found = 0
        let clock = { UInt64(Date().timeIntervalSince1970) }
        while blocks.map({ found < $0 }) ?? true, stopSignal == 0 {
            let template = try TemplateBuilder.make(on: state, payout: payout, now: clock())
            let difficulty = template.difficulty(powLimit: parameters.powLimit)
            let solution = try miner.solve(template, clock: clock, shouldStop: { stopSignal != 0 }) { hashes, seconds in
                progress.update(Self.rateLine(miner: miner, searcher: searcher, hashes: hashes, seconds: seconds,
                                              height: template.header.height, difficulty: difficulty, found: found))
            }
            guard let solution else { break }
            do {
                try state.accept(solution.block)
            } catch {
                progress.finish()
                throw CommandFailure(.invalid, "block rejected by the chain state: \(error)")
            }
            do {
                // Durable before it is reported: a kill after the line below loses nothing.
                try state.flush()
            } catch {
                progress.finish()
                throw CommandFailure(.invalid, "block \(solution.block.header.height) could not be stored: \(error)")
            }
            found += 1
            progress.finish()
            if json {
                try printJSON(MinedBlockOutput(height: solution.block.header.height, hash: solution.hash.hex,
                                               nonce: solution.block.header.nonce, bits: String(format: "0x%08x", solution.block.header.bits),
                                               difficulty: difficulty, hashes: solution.hashesTried))
            } else {
                print("accepted block \(solution.block.header.height) \(solution.hash.hex) nonce \(solution.block.header.nonce) "
                      + "bits \(String(format: "0x%08x", solution.block.header.bits)) difficulty \(String(format: "%.4g", difficulty))")
            }
            if fflush(nil) != 0 && errno == EPIPE { outputClosed = true; break }
        }
        try state.flush()
        progress.finish()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - began) / 1e9
        if outputClosed {
            printError("rusty mine: standard output closed; stopped at height \(state.tip.height) (every accepted block is on disk)")
            return
        }
        let rate = miner.seconds > 0 ? Double(miner.hashes) / miner.seconds : 0
        if json {
            try printJSON(MineSummaryOutput(blocks: found, height: state.tip.height, hashes: miner.hashes, seconds: seconds,
                                            hashesPerSecond: rate, backend: searcher.name, interrupted: stopSignal != 0))
        } else {
            print("mined \(found) blocks in \(String(format: "%.1f", seconds)) s, height \(state.tip.height), "
                  + "\(Self.formatRate(rate)) average (\(searcher.name))" + (stopSignal != 0 ? ", stopped by signal" : ""))
        }
    }

    static func rateLine(miner: Miner, searcher: any PoWSearcher, hashes: UInt64, seconds: Double, height: UInt64,
                         difficulty: Double, found: Int) -> String {
        var line = "height \(height)  diff \(String(format: "%.4g", difficulty))  total \(formatRate(seconds > 0 ? Double(hashes) / seconds : 0))"
        if let combined = searcher as? CombinedPoWSearch {
            line += "  [" + combined.memberRates.map { "\($0.name): \(formatRate($0.hashesPerSecond))" }.joined(separator: ", ") + "]"
        }
        return line + "  accepted \(found)"
    }
}
