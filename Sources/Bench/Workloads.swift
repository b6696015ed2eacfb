import BLAKE3
import ChainGen
import ChainParams
import ChainState
import Consensus
import Ed25519
import Foundation
import MerkleBackends
import OpenCLRuntime
import Primitives
import ProofOfWorkSearch
import SignatureBackends
import Storage
import Verification

/// The hot-path workloads, one function per section.
enum Workloads {
    static var cores: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    /// SIMD levels to measure: scalar always (the baseline), the others with `--backend simd`.
    static func levels(_ r: Recorder) -> [BLAKE3Level] {
        BLAKE3Level.supported.sorted { $0.rawValue < $1.rawValue }.filter { $0 == .scalar || r.options.runs(.simd) }
    }

    static func openCLDevices(_ r: Recorder) -> [OpenCLDevice] { r.options.runs(.opencl) ? r.options.devices : [] }

    static func temporaryDirectory(_ label: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("rusty-bench-\(label)-\(UUID().uuidString)").path
    }

    static func directorySize(_ path: String) -> Int {
        guard let enumerator = FileManager.default.enumerator(atPath: path) else { return 0 }
        var total = 0
        while let name = enumerator.nextObject() as? String {
            let attributes = try? FileManager.default.attributesOfItem(atPath: path + "/" + name)
            if (attributes?[.type] as? FileAttributeType) == .typeRegular { total += (attributes?[.size] as? Int) ?? 0 }
        }
        return total
    }

    // MARK: blake3

    static func blake3(_ r: Recorder) throws {
        var random = BenchRandom(seed: 3)
        let messages = random.bytes(64 * 1024)
        let key = random.bytes(32)
        var output = [UInt8](repeating: 0, count: 32 * 1024)
        for level in levels(r) {
            try r.rate("one-block compressions", backend: level.description, unit: "compressions/s") { k in
                messages.withUnsafeBytes { m in
                    output.withUnsafeMutableBytes { o in
                        for _ in 0..<k {
                            BLAKE3.hashManySingleBlock(messages: m.baseAddress!, stride: 64, length: 64, count: 1024, key: key,
                                                       output: o.baseAddress!, level: level)
                        }
                    }
                }
                return Double(k * 1024)
            }
        }

        let bulk = random.bytes(r.mode == .tiny ? 64 << 10 : 1 << 20)
        let fileName = "bulk hashing (file, 1 thread)"
        let b3sum = r.options.anchors ? B3Sum.executable() : nil
        let anchor = b3sum == nil ? nil : (name: fileName, backend: "b3sum")
        for level in levels(r) {
            try r.rate("bulk hashing (in memory, 1 thread)", backend: level.description, unit: "GiB/s", scale: 1_073_741_824,
                       anchor: anchor) { k in
                for _ in 0..<k {
                    var hasher = BLAKE3Hasher(level: level)
                    bulk.withUnsafeBytes { hasher.update($0) }
                    _ = hasher.finalize()
                }
                return Double(k * bulk.count)
            }
        }

        // From a file in the page cache, side by side with b3sum when it is installed.
        let fileSize: Int
        switch r.mode {
        case .tiny: fileSize = 1 << 20
        case .quick: fileSize = 64 << 20
        case .full: fileSize = 256 << 20
        }
        let path = temporaryDirectory("b3") + ".bin"
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else { return }
        defer { try? FileManager.default.removeItem(atPath: path) }
        var written = 0
        var chunk = bulk
        while written < fileSize {
            chunk[0] &+= 1
            let piece = Data(chunk.prefix(fileSize - written))
            handle.write(piece)
            written += piece.count
        }
        try handle.close()
        let level = BLAKE3Level.default
        let ownDigest = { () throws -> String in
            let data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
            var hasher = BLAKE3Hasher(level: level)
            data.withUnsafeBytes { hasher.update($0) }
            return hasher.finalize().map { String(format: "%02x", $0) }.joined()
        }
        if let b3sum {
            let theirs = try B3Sum.hash(b3sum, file: path)
            let ours = try ownDigest()
            guard theirs == ours else { throw BenchError.mismatch("b3sum \(theirs) != rusty \(ours)") }
            try r.rate(fileName, backend: "b3sum", unit: "GiB/s", scale: 1_073_741_824) { k in
                for _ in 0..<k { try B3Sum.run(b3sum, file: path) }
                return Double(k * fileSize)
            }
        }
        if level == .scalar || r.options.runs(.simd) {
            try r.rate(fileName, backend: level.description, unit: "GiB/s", scale: 1_073_741_824, anchor: anchor) { k in
                for _ in 0..<k { _ = try ownDigest() }
                return Double(k * fileSize)
            }
        }
    }

    // MARK: pow

    static func pow(_ r: Recorder) throws {
        let header = (0..<BlockHeader.encodedLength).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        let job = PoWJob(header: header, target: .zero)   // never met: every nonce is hashed
        var start: UInt64 = 0
        func range(_ count: Int) -> NonceRange {
            defer { start &+= UInt64(count) }
            return NonceRange(start: start, count: UInt64(count))!
        }
        let name = "hashes"
        try r.rate(name, backend: "scalar", unit: "hashes/s", initial: 1024) { n in
            _ = try ScalarPoWSearch().search(job, range: range(n))
            return Double(n)
        }
        guard r.options.runs(.simd) else { return openCLPoW(r, job: job, range: range) }
        for level in levels(r) {
            try r.rate(name, backend: "simd-\(level)", unit: "hashes/s", initial: 1 << 14) { n in
                _ = try SIMDPoWSearch(threads: 1, level: level).search(job, range: range(n))
                return Double(n)
            }
        }
        if cores > 1 {
            try r.rate(name, backend: "simd-\(BLAKE3Level.default), \(cores) threads", unit: "hashes/s", initial: 1 << 16) { n in
                _ = try SIMDPoWSearch(threads: cores, level: .default).search(job, range: range(n))
                return Double(n)
            }
        }
        openCLPoW(r, job: job, range: range)
    }

    static func openCLPoW(_ r: Recorder, job: PoWJob, range: (Int) -> NonceRange) {
        for device in openCLDevices(r) {
            do {
                let search = try OpenCLPoWSearch(devices: [device])
                try r.rate("hashes", backend: "opencl", device: device.name, unit: "hashes/s", initial: 1 << 16) { n in
                    _ = try search.search(job, range: range(n))
                    return Double(n)
                }
            } catch {
                r.options.progress("bench: pow on \(device.name) failed: \(error)")
            }
        }
    }

    // MARK: merkle

    static func merkle(_ r: Recorder) throws {
        let leafCount: Int
        switch r.mode {
        case .tiny: leafCount = 1024
        case .quick: leafCount = 1 << 16
        case .full: leafCount = 1 << 20
        }
        var random = BenchRandom(seed: 5)
        let leaves = (0..<leafCount).map { _ in Hash256(bytes: random.bytes(32))! }
        let expected = Merkle.root(of: leaves, level: .scalar)
        for level in levels(r) {
            try r.rate("parent nodes (\(leafCount) leaves)", backend: level.description, unit: "nodes/s") { k in
                for _ in 0..<k {
                    guard Merkle.root(of: leaves, level: level) == expected else { throw BenchError.mismatch("Merkle root at \(level)") }
                }
                return Double(k * (leafCount - 1))
            }
        }
        for device in openCLDevices(r) {
            do {
                let backend = try OpenCLMerkleRoot(device: device)
                try r.rate("parent nodes (\(leafCount) leaves)", backend: "opencl", device: device.name, unit: "nodes/s") { k in
                    for _ in 0..<k {
                        guard try backend.root(of: leaves) == expected else { throw BenchError.mismatch("Merkle root on \(device.name)") }
                    }
                    return Double(k * (leafCount - 1))
                }
            } catch let error as BenchError {
                throw error
            } catch {
                r.options.progress("bench: merkle on \(device.name) failed: \(error)")
            }
        }
    }

    // MARK: ed25519

    static func ed25519(_ r: Recorder) throws {
        let batchSizes: [Int]
        switch r.mode {
        case .tiny: batchSizes = [1, 8, 64]
        case .quick: batchSizes = [1, 64, 256, 1024]
        case .full: batchSizes = [1, 8, 64, 256, 1024, 16384]
        }
        let largest = batchSizes.max()!
        var random = BenchRandom(seed: 7)
        let keys = (0..<min(256, largest)).map { _ -> (seed: [UInt8], publicKey: [UInt8]) in
            let seed = random.bytes(32)
            return (seed, Ed25519.publicKey(seed: seed))
        }
        let items = (0..<largest).map { index -> SignatureItem in
            let key = keys[index % keys.count]
            let message = random.bytes(32)
            return SignatureItem(publicKey: key.publicKey, signature: Ed25519.sign(message: message, seed: key.seed, publicKey: key.publicKey),
                                 message: message)
        }
        let single = "single verify"
        let sodium = r.options.anchors ? Sodium() : nil
        let anchor = sodium == nil ? nil : (name: single, backend: "libsodium")
        try r.rate(single, backend: Ed25519.Backend.detected.rawValue, unit: "signatures/s", anchor: anchor) { k in
            for index in 0..<k {
                let item = items[index % items.count]
                guard Ed25519.verify(signature: item.signature, message: item.message, publicKey: item.publicKey) else {
                    throw BenchError.verificationFailed("single verify rejected a valid signature")
                }
            }
            return Double(k)
        }
        if let sodium {
            try r.rate(single, backend: "libsodium", unit: "signatures/s") { k in
                for index in 0..<k {
                    let item = items[index % items.count]
                    guard sodium.verify(item.signature, item.message, publicKey: item.publicKey) else {
                        throw BenchError.verificationFailed("libsodium rejected a valid signature")
                    }
                }
                return Double(k)
            }
        }

        let backends = Ed25519.Backend.allCases.filter { $0 != .auto && $0.isSupported && ($0 == .scalar || r.options.runs(.simd)) }
        for backend in backends {
            for size in batchSizes {
                let batch = Array(items.prefix(size))
                try r.rate("batch \(size)", backend: backend.rawValue, unit: "signatures/s", anchor: anchor) { k in
                    for _ in 0..<k {
                        guard !Ed25519.verifyBatch(batch, backend: backend, threads: 1).contains(false) else {
                            throw BenchError.verificationFailed("batch of \(size) on \(backend)")
                        }
                    }
                    return Double(k * size)
                }
            }
        }
        if cores > 1 && r.options.runs(.simd) {
            let backend = Ed25519.Backend.detected
            try r.rate("batch \(largest)", backend: "\(backend.rawValue), \(cores) threads", unit: "signatures/s", anchor: anchor) { k in
                for _ in 0..<k {
                    guard !Ed25519.verifyBatch(items, backend: backend, threads: cores).contains(false) else {
                        throw BenchError.verificationFailed("batch of \(largest) on \(backend), \(cores) threads")
                    }
                }
                return Double(k * largest)
            }
        }
        for device in openCLDevices(r) {
            do {
                let verifier = try OpenCLSignatureVerifier(devices: [device])
                try r.rate("batch \(largest)", backend: "opencl", device: device.name, unit: "signatures/s", anchor: anchor) { k in
                    for _ in 0..<k {
                        guard try !verifier.verify(items).contains(false) else {
                            throw BenchError.verificationFailed("batch of \(largest) on \(device.name)")
                        }
                    }
                    return Double(k * largest)
                }
            } catch let error as BenchError {
                throw error
            } catch {
                r.options.progress("bench: ed25519 on \(device.name) failed: \(error)")
            }
        }
    }

    // MARK: utxo

    static func regtest() throws -> ConsensusParameters {
        try ConsensusParameters(ChainParameters.builtIn("regtest"))
    }

    /// Builds regtest blocks whose every coin pays one key: empty blocks to maturity, fan-out
    /// blocks (one coinbase into `width` coins each), then blocks of `width` payments.
    struct BlockBuilder {
        let parameters: ConsensusParameters
        private(set) var parent: BlockHeader
        private var recentTimes: [UInt64]
        let seed: [UInt8]
        let publicKey: [UInt8]
        let lock: [UInt8]

        init(parameters: ConsensusParameters) {
            self.parameters = parameters
            let genesis = parameters.chain.genesisBlock()
            parent = genesis.header
            recentTimes = [genesis.header.time]
            seed = BLAKE3.hash(Array("rusty bench block builder".utf8))
            publicKey = Ed25519.publicKey(seed: seed)
            lock = StandardScript.payToKeyHash(StandardScript.keyHash(publicKey))
        }

        /// The next block with `transactions` after its coinbase (which pays `lock`).
        mutating func block(_ transactions: [Transaction], fees: Amount) -> Block {
            let height = parent.height + 1
            let coinbase = Transaction.coinbase(height: height, extraNonce: 0,
                                                outputs: [TxOut(value: parameters.subsidy(height: height).adding(fees)!, lockScript: lock)])
            let time = max(HeaderRules.medianTime(recentTimes) + 1, parameters.genesisTime + height * 150)
            var block = Block(header: BlockHeader(version: HeaderRules.version, height: height, previousHash: parent.hash,
                                                  merkleRoot: .zero, stateRoot: .zero, time: time,
                                                  bits: parameters.requiredBits(parentHeight: parent.height, parentTime: parent.time),
                                                  nonce: 0),
                              transactions: [coinbase] + transactions)
            ChainGenerator.seal(&block)
            parent = block.header
            recentTimes.append(time)
            if recentTimes.count > parameters.medianTimeSpan { recentTimes.removeFirst() }
            return block
        }

        /// A signed transaction spending `inputs` (coins paying `lock`) into `values`.
        func spend(_ inputs: [(outpoint: OutPoint, output: TxOut)], values: [UInt64]) -> Transaction {
            var transaction = Transaction(version: 2, inputs: inputs.map { TxIn(previousOutput: $0.outpoint) },
                                          outputs: values.map { TxOut(value: Amount(baseUnits: $0)!, lockScript: lock) })
            let txid = transaction.txid
            for (index, input) in inputs.enumerated() {
                let sighash = Sighash.compute(txid: txid, inputIndex: UInt32(index), spentOutput: input.output)
                transaction.witnesses[index] = [Ed25519.sign(message: sighash.bytes, seed: seed, publicKey: publicKey), publicKey]
            }
            return transaction
        }
    }

    static func utxo(_ r: Recorder) throws {
        let parameters = try regtest()
        let width = r.mode == .tiny ? 20 : 2000
        let bigBlocks = 1 + r.mode.runs   // the first is the warm-up
        var builder = BlockBuilder(parameters: parameters)
        let directory = temporaryDirectory("utxo")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var state: ChainState? = try ChainState(directory: directory, parameters: parameters, cacheMiB: 2048)
        state!.signatureThreads = cores
        func accept(_ block: Block) throws {
            guard try state!.accept(block) == .connected else { throw BenchError.verificationFailed("block \(block.header.height) not connected") }
        }
        r.options.progress("bench: utxo: building a chain to \(width)-transaction blocks")
        var coinbases = [(outpoint: OutPoint, output: TxOut)]()
        func record(_ block: Block) {
            let coinbase = block.transactions[0]
            coinbases.append((OutPoint(txid: coinbase.txid, index: 0), coinbase.outputs[0]))
        }
        for _ in 0..<Int(parameters.coinbaseMaturity) {
            let block = builder.block([], fees: .zero)
            record(block)
            try accept(block)
        }
        // Fan-outs: coinbase i into `width` coins, one block each.
        let fee: UInt64 = 10_000
        var fanned = [(outpoint: OutPoint, output: TxOut)]()
        for index in 0..<bigBlocks {
            let coin = coinbases[index]
            let share = (coin.output.value.baseUnits - fee) / UInt64(width)
            let fanOut = builder.spend([coin], values: [UInt64](repeating: share, count: width))
            fanned += fanOut.outputs.indices.map { (OutPoint(txid: fanOut.txid, index: UInt32($0)), fanOut.outputs[$0]) }
            let block = builder.block([fanOut], fees: Amount(baseUnits: coin.output.value.baseUnits - share * UInt64(width))!)
            record(block)
            try accept(block)
        }
        try state!.flush()

        // Blocks of `width` payments (one input, two outputs each), connected one by one.
        var connect = [Double](), connectRate = [Double](), flush = [Double](), bytes = [Double]()
        var created = [OutPoint]()
        var transactionCount = 0
        for index in 0..<bigBlocks {
            var payments = [Transaction]()
            for coin in fanned[(index * width)..<((index + 1) * width)] {
                let left = coin.output.value.baseUnits - fee
                payments.append(builder.spend([coin], values: [left / 3, left - left / 3]))
            }
            let block = builder.block(payments, fees: Amount(baseUnits: fee * UInt64(width))!)
            transactionCount = block.transactions.count
            for payment in payments { created += [OutPoint(txid: payment.txid, index: 0), OutPoint(txid: payment.txid, index: 1)] }
            let sizeBefore = directorySize(directory)
            let connectSeconds = try Recorder.time { try accept(block) }
            let flushSeconds = try Recorder.time { try state!.flush() }
            let grown = directorySize(directory) - sizeBefore
            guard index > 0 else { continue }
            connect.append(connectSeconds * 1000)
            connectRate.append(Double(block.transactions.count) / connectSeconds)
            flush.append(flushSeconds * 1000)
            bytes.append(Double(max(0, grown)))
        }
        let backend = "cpu (\(Ed25519.Backend.detected.rawValue), \(cores) threads)"
        r.add("block connect (\(transactionCount) transactions)", backend: backend, unit: "ms", values: connect)
        r.add("block connect transactions", backend: backend, unit: "transactions/s", values: connectRate)
        r.add("flush after block", backend: "rocksdb", unit: "ms", values: flush)
        r.add("bytes written per connected block", backend: "rocksdb", unit: "bytes", values: bytes)

        // Cache lookups.
        let outpoints = created.sorted { $0.storageKey.lexicographicallyPrecedes($1.storageKey) }
        try cacheLookups(r, cache: state!.utxo, outpoints: outpoints, height: builder.parent.height)
        state = nil
        try coldLookups(r, directory: directory, parameters: parameters, outpoints: outpoints)
        try rocksDB(r)
    }

    static func cacheLookups(_ r: Recorder, cache: UTXOCache, outpoints: [OutPoint], height: UInt64) throws {
        try r.rate("cache hit lookups", backend: "cpu", unit: "lookups/s") { k in
            for _ in 0..<k {
                for outpoint in outpoints where try cache.coin(outpoint) == nil {
                    throw BenchError.verificationFailed("a coin is missing from the UTXO set")
                }
            }
            return Double(k * outpoints.count)
        }
        var random = BenchRandom(seed: 13)
        let absent = (0..<min(outpoints.count, 10_000)).map { _ in OutPoint(txid: Hash256(bytes: random.bytes(32))!, index: 0) }
        try r.rate("cache miss lookups (absent coins, RocksDB get)", backend: "rocksdb", unit: "lookups/s") { k in
            for _ in 0..<k {
                for outpoint in absent where try cache.coin(outpoint) != nil { throw BenchError.verificationFailed("a random coin exists") }
            }
            return Double(k * absent.count)
        }
        let synthetic = (0..<(r.mode == .tiny ? 1_000 : 10_000)).map { _ in OutPoint(txid: Hash256(bytes: random.bytes(32))!, index: 1) }
        let coin = Coin(output: TxOut(value: Amount(baseUnits: 5_000)!, lockScript: [UInt8](repeating: 0x51, count: 34)),
                        height: height, isCoinbase: false)
        try r.rate("cache adds and spends", backend: "cpu", unit: "ops/s") { k in
            for _ in 0..<k {
                for outpoint in synthetic { cache.add(outpoint, coin) }
                for outpoint in synthetic { cache.spend(outpoint) }
            }
            return Double(k * 2 * synthetic.count)
        }
    }

    static func coldLookups(_ r: Recorder, directory: String, parameters: ConsensusParameters, outpoints: [OutPoint]) throws {
        // Cold cache: every lookup reads RocksDB (reopened per run).
        var gets = [Double](), multiGets = [Double]()
        for index in 0...r.mode.runs {
            do {
                let reopened = try ChainState(directory: directory, parameters: parameters, cacheMiB: 2048)
                let seconds = try Recorder.time {
                    for outpoint in outpoints where try reopened.utxo.coin(outpoint) == nil {
                        throw BenchError.verificationFailed("a coin is missing after reopening")
                    }
                }
                if index > 0 { gets.append(Double(outpoints.count) / seconds) }
            }
            do {
                let reopened = try ChainState(directory: directory, parameters: parameters, cacheMiB: 2048)
                let seconds = try Recorder.time { try reopened.utxo.prefetch(outpoints) }
                if index > 0 { multiGets.append(Double(outpoints.count) / seconds) }
            }
        }
        r.add("cache miss lookups (stored coins, RocksDB get)", backend: "rocksdb", unit: "lookups/s", values: gets)
        r.add("cache prefetch (stored coins, RocksDB MultiGet)", backend: "rocksdb", unit: "lookups/s", values: multiGets)
    }

    static func rocksDB(_ r: Recorder) throws {
        // RocksDB alone: unsynced batches of puts.
        let rawDirectory = temporaryDirectory("rocksdb")
        defer { try? FileManager.default.removeItem(atPath: rawDirectory) }
        let database = try RocksDB(path: rawDirectory, columnFamilies: ["bench"])
        let family = try database.columnFamily("bench")
        let value = [UInt8](repeating: 0xAB, count: 48)
        var counter: UInt64 = 0
        try r.rate("batched puts (1,000 per unsynced batch)", backend: "rocksdb", unit: "ops/s") { k in
            for _ in 0..<k {
                let batch = RocksDB.WriteBatch()
                for _ in 0..<1_000 {
                    counter &+= 0x9E37_79B9_7F4A_7C15
                    var key = [UInt8](repeating: 0, count: 36)
                    withUnsafeBytes(of: counter) { key.replaceSubrange(0..<8, with: $0) }
                    batch.put(family, key, value)
                }
                try database.write(batch, sync: false)
            }
            return Double(k * 1_000)
        }
    }

    // MARK: verify-chain

    static func verifyChain(_ r: Recorder) throws {
        let parameters = try regtest()
        let (extraBlocks, transactionsPerBlock): (Int, Int)
        switch r.mode {
        case .tiny: (extraBlocks, transactionsPerBlock) = (4, 10)
        case .quick: (extraBlocks, transactionsPerBlock) = (60, 100)
        case .full: (extraBlocks, transactionsPerBlock) = (400, 100)
        }
        r.options.progress("bench: verify-chain: generating \(Int(parameters.coinbaseMaturity) + extraBlocks) blocks")
        var generator = ChainGenerator(parameters: parameters, seed: 17, transactionsPerBlock: transactionsPerBlock)
        var bytes = [UInt8]()
        for _ in 0..<(Int(parameters.coinbaseMaturity) + extraBlocks) {
            bytes += BlockFile.encodeRecord(generator.nextBlock(), magic: parameters.magic)
        }
        let file = temporaryDirectory("chain") + ".blk"
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let expected = generator.utxoDigest().digest

        var runs: [(name: String, device: String?, engine: Ed25519.Backend, options: VerificationPipeline.Options)] = [
            ("scalar", nil, .scalar, .cpu(backend: .scalar, threads: cores)),
        ]
        if r.options.runs(.simd) && Ed25519.Backend.detected != .scalar {
            runs.append((Ed25519.Backend.detected.rawValue, nil, .detected, .cpu(backend: .detected, threads: cores)))
        }
        let devices = openCLDevices(r)
        if !devices.isEmpty {
            do {
                let verifier = try OpenCLSignatureVerifier(devices: devices)
                runs.append(("opencl", devices.map(\.name).joined(separator: ", "), .detected,
                             VerificationPipeline.Options(verifier: { try verifier.verify($0.items) }, backendName: verifier.name,
                                                          batchSize: 32_768, contextFreeThreads: cores)))
            } catch {
                r.options.progress("bench: verify-chain on OpenCL failed: \(error)")
            }
        }
        for run in runs {
            var signatures = [Double](), blocks = [Double](), transactions = [Double]()
            for index in 0...r.mode.runs {
                let directory = temporaryDirectory("verify")
                defer { try? FileManager.default.removeItem(atPath: directory) }
                var report = VerificationPipeline.Report()
                var digest = Hash256.zero
                let seconds: Double
                do {
                    let state = try ChainState(directory: directory, parameters: parameters, cacheMiB: 256)
                    state.signatureBackend = run.engine
                    state.signatureThreads = cores
                    seconds = try Recorder.time {
                        report = try VerificationPipeline(state: state, options: run.options).run([.file(file)])
                        digest = try state.utxoSummary().digest
                    }
                }
                if let failure = report.failure { throw BenchError.verificationFailed("verify-chain (\(run.name)): \(failure)") }
                guard digest == expected else { throw BenchError.mismatch("verify-chain (\(run.name)) UTXO digest") }
                guard index > 0 else { continue }
                signatures.append(Double(report.signatures) / seconds)
                blocks.append(Double(report.blocks) / seconds)
                transactions.append(Double(report.transactions) / seconds)
            }
            let backend = run.device == nil ? "\(run.name), \(cores) threads" : run.name
            let label = run.name == "scalar" ? "scalar" : backend
            r.add("signatures", backend: label, device: run.device, unit: "signatures/s", values: signatures)
            r.add("transactions", backend: label, device: run.device, unit: "transactions/s", values: transactions)
            r.add("blocks", backend: label, device: run.device, unit: "blocks/s", values: blocks)
        }
    }
}
