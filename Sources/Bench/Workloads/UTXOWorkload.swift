import ChainGen
import ChainState
import Consensus
import Ed25519
import Foundation
import Primitives
import Storage

/// `rusty bench` section utxo: block connection, flushes and UTXO lookups of the chain state, and raw RocksDB.
enum UTXOWorkload: BenchWorkload {
    static let section = BenchSectionName.utxo

    static func run(_ r: Recorder) throws {
        let parameters = try regtest()
        let width = r.mode == .tiny ? 20 : 2000
        let bigBlocks = 1 + r.mode.runs   // the first is the warm-up
        var generator = ChainGenerator(parameters: parameters, seed: 1, transactionsPerBlock: width)
        let directory = temporaryDirectory("utxo")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var state: ChainState? = try ChainState(directory: directory, parameters: parameters, cacheMiB: 2048)
        state!.signatureThreads = cores
        func accept(_ block: Block) throws {
            guard try state!.accept(block) == .connected else { throw BenchError.verificationFailed("block \(block.header.height) not connected") }
        }
        r.options.progress("bench: utxo: building a chain to \(width)-transaction blocks")
        // The chain generator's blocks: empty until coinbases mature, then fanning coins out
        // until a block carries `width` transactions (a few blocks).
        while true {
            let block = generator.nextBlock()
            try accept(block)
            if block.transactions.count > width { break }
            guard generator.height < parameters.coinbaseMaturity + 100 else {
                throw BenchError.verificationFailed("the chain generator never reached \(width)-transaction blocks")
            }
        }
        try state!.flush()

        // Blocks of `width` transactions, connected one by one.
        var connect = [Double](), connectRate = [Double](), flush = [Double](), bytes = [Double]()
        var created = [OutPoint]()
        var transactionCount = 0
        for index in 0..<bigBlocks {
            let block = generator.nextBlock()
            transactionCount = block.transactions.count
            for transaction in block.transactions.dropFirst() {
                created += transaction.outputs.indices.map { OutPoint(txid: transaction.txid, index: UInt32($0)) }
            }
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
        // The measured blocks' outputs that are still unspent (later blocks spend some).
        let outpoints = created.filter { generator.utxo[$0] != nil }
            .sorted { $0.storageKey.lexicographicallyPrecedes($1.storageKey) }
        try cacheLookups(r, cache: state!.utxo, outpoints: outpoints, height: generator.height)
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
}
