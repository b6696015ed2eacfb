import ChainGen
import ChainState
import Consensus
import Ed25519
import Foundation
import Primitives
import SignatureBackends
import Synchronization

/// The pool as the mempool section drives it. Bench does not depend on the Mempool and
/// Mining modules: `rusty bench` supplies this through `BenchOptions.mempool`.
public protocol BenchMempool: AnyObject {
    /// Submits transactions arriving together, in order: per transaction nil when accepted,
    /// else the rejection (bitcoind's reject reason and detail).
    func submit(_ transactions: [Transaction]) -> [String?]
    /// getblocktemplate's work: the selection within `maxBytes` and a block template on the
    /// tip holding it; returns how many transactions the template holds after the coinbase.
    func blockTemplate(maxBytes: Int) throws -> Int
    /// Transactions in the pool.
    var count: Int { get }
}

/// A fresh, empty pool on `chain` (which the pool only reads).
public typealias BenchMempoolFactory = @Sendable (ChainService, ConsensusParameters) -> any BenchMempool

/// `rusty bench` section mempool: acceptance throughput of simple payments (one input, two
/// outputs) per signature backend, with the share of the time spent outside signature
/// verification, and getblocktemplate's selection on a full pool.
enum MempoolWorkload: BenchWorkload {
    static let section = BenchSectionName.mempool
    /// Transactions submitted together (a relay or sendrawtransaction burst).
    static let burst = 1_000
    /// Chains of unconfirmed payments in the template's pool: packages for the selection to weigh.
    static let templateChainDepth = 4

    /// Transactions accepted per run, and in the template's pool.
    static func sizes(_ r: Recorder) -> (acceptance: Int, pool: Int) {
        if let asked = r.options.mempoolTransactions { return (max(1, asked), max(1, asked)) }
        switch r.mode {
        case .tiny: return (100, 200)
        case .quick: return (5_000, 20_000)
        case .full: return (20_000, 100_000)
        }
    }

    static func run(_ r: Recorder) throws {
        guard let makePool = r.options.mempool else {
            throw BenchError.verificationFailed("the mempool section needs a pool (BenchOptions.mempool)")
        }
        let parameters = try regtest()
        let relay = parameters.chain.relayPolicy
        let (acceptanceCount, poolCount) = sizes(r)
        let chainCount = (poolCount + templateChainDepth - 1) / templateChainDepth
        let neededCoins = max(acceptanceCount, chainCount)

        let directory = temporaryDirectory("mempool")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let state = try ChainState(directory: directory, parameters: parameters, cacheMiB: 512)
        state.signatureThreads = cores
        r.options.progress("bench: mempool: building a chain with \(neededCoins) spendable coins")
        // The generator fans matured coins out until a block has 3 x transactionsPerBlock
        // coins to spend: a few blocks after maturity. Some coins are not single-key: margin.
        var generator = ChainGenerator(parameters: parameters, seed: 29, transactionsPerBlock: max(10, neededCoins / 2))
        let heightLimit = parameters.coinbaseMaturity + 100
        while generator.spendableSingleKeyCoinCount < neededCoins {
            guard generator.height < heightLimit else {
                throw BenchError.verificationFailed("the chain generator made only \(generator.spendableSingleKeyCoinCount) coins by height \(heightLimit)")
            }
            let block = generator.nextBlock()
            guard try state.accept(block) == .connected else {
                throw BenchError.verificationFailed("generated block \(block.header.height) was not connected")
            }
        }
        let chain = ChainService(state)
        let coins = generator.spendableSingleKeyCoins
        let rates = relay.minRelayFeeRate...max(relay.minRelayFeeRate, 1) * 20
        func payments(_ count: Int, depth: Int, seed: UInt64) throws -> [Transaction] {
            var stream = try TransactionStream(coins: coins, options: .init(chainDepth: depth, feeRates: rates,
                                                                             dustThreshold: relay.dustThreshold, seed: seed))
            guard stream.capacity >= count else {
                throw BenchError.verificationFailed("\(stream.usableCoinCount) usable coins make \(stream.capacity) transactions, not \(count)")
            }
            return (0..<count).compactMap { _ in stream.next()?.transaction }
        }
        r.options.progress("bench: mempool: signing \(acceptanceCount + poolCount) payments")
        let simple = try payments(acceptanceCount, depth: 1, seed: 1)
        let packaged = try payments(poolCount, depth: templateChainDepth, seed: 2)
        try acceptance(r, chain: chain, parameters: parameters, transactions: simple, makePool: makePool)
        try template(r, chain: chain, parameters: parameters, transactions: packaged, makePool: makePool)
    }

    /// Seconds after which an acceptance run stops submitting (its rate is over what it
    /// submitted): the slow engines (OpenCL under one-signature launches) stay bounded.
    static func runBudget(_ r: Recorder) -> Double {
        switch r.mode {
        case .tiny: return 2
        case .quick: return 5
        case .full: return 20
        }
    }

    /// Submits `transactions` in bursts until done or `budget` seconds passed; throws unless
    /// every one submitted is accepted. Returns how many were submitted.
    @discardableResult
    static func fill(_ pool: any BenchMempool, _ transactions: [Transaction], label: String, budget: Double = .infinity) throws -> Int {
        let start = Recorder.now()
        var submitted = 0
        while submitted < transactions.count && Double(Recorder.now() - start) / 1e9 < budget {
            let verdicts = pool.submit(Array(transactions[submitted..<min(transactions.count, submitted + burst)]))
            if let index = verdicts.firstIndex(where: { $0 != nil }) {
                throw BenchError.verificationFailed("mempool (\(label)): transaction \(submitted + index) rejected: \(verdicts[index] ?? "")")
            }
            submitted += verdicts.count
        }
        guard pool.count == submitted else {
            throw BenchError.mismatch("mempool (\(label)): \(pool.count) transactions in the pool, \(submitted) accepted")
        }
        return submitted
    }

    static func acceptance(_ r: Recorder, chain: ChainService, parameters: ConsensusParameters, transactions: [Transaction],
                           makePool: BenchMempoolFactory) throws {
        var engines: [(label: String, device: String?, verifier: any SignatureBatchVerifier)] = [
            ("scalar", nil, CPUSignatureVerifier(backend: .scalar, threads: cores)),
        ]
        if r.options.runs(.simd) && Ed25519.Backend.detected != .scalar {
            engines.append(("\(Ed25519.Backend.detected.rawValue), \(cores) threads", nil, CPUSignatureVerifier(backend: .detected, threads: cores)))
        }
        let devices = openCLDevices(r)
        if !devices.isEmpty {
            do {
                engines.append(("opencl", devices.map(\.name).joined(separator: ", "), try OpenCLSignatureVerifier(devices: devices)))
            } catch {
                r.options.progress("bench: mempool on OpenCL failed: \(error)")
            }
        }
        let name = "acceptance, simple payments"
        for engine in engines {
            let timed = TimedVerifier(engine.verifier)
            chain.withWriter { $0.signatureVerifier = timed }
            var rates = [Double](), perCore = [Double](), outside = [Double]()
            for run in 0...r.mode.runs {
                let pool = makePool(chain, parameters)
                _ = timed.take()
                var submitted = 0
                let seconds = try Recorder.time { submitted = try fill(pool, transactions, label: engine.label, budget: runBudget(r)) }
                let verifying = Double(timed.take().nanoseconds) / 1e9
                guard run > 0 else { continue } // the warm-up
                if submitted < transactions.count {
                    r.options.progress("bench: mempool: \(engine.label): \(submitted) of \(transactions.count) transactions within the run's \(Int(runBudget(r))) s")
                }
                rates.append(Double(submitted) / seconds)
                perCore.append(Double(submitted) / seconds / Double(cores))
                // Never 0: the figures are rates and shares of a measured time.
                outside.append(max(0.01, 100 * (seconds - verifying) / seconds))
            }
            r.add(name, backend: engine.label, device: engine.device, unit: "transactions/s", values: rates)
            r.add(name + ", per core", backend: engine.label, device: engine.device, unit: "transactions/s per core", values: perCore)
            r.add(name + ", time outside signature verification", backend: engine.label, device: engine.device, unit: "%", values: outside)
        }
    }

    static func template(_ r: Recorder, chain: ChainService, parameters: ConsensusParameters, transactions: [Transaction],
                         makePool: BenchMempoolFactory) throws {
        chain.withWriter { $0.signatureVerifier = CPUSignatureVerifier(backend: .detected, threads: cores) }
        let pool = makePool(chain, parameters)
        r.options.progress("bench: mempool: filling a pool with \(transactions.count) transactions")
        try fill(pool, transactions, label: "template pool")
        // What the node keeps out of the selection for the header and the coinbase.
        let maxBytes = parameters.maxBlockBytes - 1_000
        var selected = 0
        var values = [Double]()
        for run in 0...r.mode.runs {
            let seconds = try Recorder.time { selected = try pool.blockTemplate(maxBytes: maxBytes) }
            if run > 0 { values.append(seconds * 1_000) }
        }
        guard selected > 0 else { throw BenchError.mismatch("mempool: the template holds no transactions") }
        r.add("getblocktemplate, \(transactions.count)-transaction pool (chains of \(templateChainDepth)), \(selected) selected",
              backend: "cpu", unit: "ms", values: values)
    }
}

/// A verifier that adds up the time its engine spends (the acceptance's signature share).
final class TimedVerifier: SignatureBatchVerifier, Sendable {
    let engine: any SignatureBatchVerifier
    private let spent = Mutex<(nanoseconds: UInt64, signatures: Int)>((0, 0))

    init(_ engine: any SignatureBatchVerifier) { self.engine = engine }

    var name: String { engine.name }

    func verify(_ batch: SignatureBatch) throws -> [Bool] {
        let start = DispatchTime.now().uptimeNanoseconds
        defer {
            let elapsed = DispatchTime.now().uptimeNanoseconds - start
            spent.withLock { $0 = ($0.nanoseconds + elapsed, $0.signatures + batch.count) }
        }
        return try engine.verify(batch)
    }

    /// The time and signatures since the last call.
    func take() -> (nanoseconds: UInt64, signatures: Int) {
        spent.withLock { total in
            defer { total = (0, 0) }
            return total
        }
    }
}
