import Bench
import ChainState
import Consensus
import Mempool
import Mining
import Primitives

/// The node's mempool and template builder for `rusty bench`'s mempool section (Bench does
/// not depend on the Mempool and Mining modules).
final class BenchMempoolPool: BenchMempool {
    let pool: Mempool
    let chain: ChainService
    /// Where the benchmark's templates pay (any standard script will do).
    let payout = StandardScript.payToKeyHash(.zero)

    init(chain: ChainService, parameters: ConsensusParameters) {
        self.chain = chain
        // A fixed clock: entry times play no part in acceptance or selection.
        let start = UInt64(parameters.chain.genesisBlock().header.time)
        pool = Mempool(chain: chain, parameters: parameters, policy: MempoolPolicy(parameters.chain.relayPolicy), now: { start })
    }

    static let factory: BenchMempoolFactory = { chain, parameters in BenchMempoolPool(chain: chain, parameters: parameters) }

    func submit(_ transactions: [Transaction]) -> [String?] {
        pool.submit(batch: transactions, source: "bench").map { $0.rejection.map(\.description) }
    }

    func blockTemplate(maxBytes: Int) throws -> Int {
        let (tip, entries) = pool.selection(maxBytes: maxBytes)
        let fees = entries.reduce(Amount.zero) { $0.adding($1.fee) ?? .maxMoney }
        let template = try chain.withWriter { state -> BlockTemplate in
            guard state.tip.hash == tip else { throw BenchError.mismatch("the pool is not on the chain's tip") }
            return try TemplateBuilder.make(on: state, payout: payout, now: state.tip.header.time + 1,
                                            transactions: entries.map(\.transaction),
                                            ids: entries.map { ($0.txid, $0.wtxid) }, fees: fees)
        }
        return template.transactions.count - 1
    }

    var count: Int { pool.count }
}
