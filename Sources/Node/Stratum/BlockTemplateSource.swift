// Block templates on the current tip with the mempool's selection: one implementation for
// getblocktemplate, generatetoaddress and the Stratum pool.

import ChainState
import Consensus
import Foundation
import Logging
import Mempool
import Mining
import Primitives

struct BlockTemplateSource: Sendable {
    let chain: ChainService
    let mempool: Mempool
    let parameters: ConsensusParameters
    let logger: Logger

    /// Bytes kept out of the pool's selection for the header, the transaction count and the coinbase.
    static let coinbaseReserve = 1_000
    /// How long a template waits for the pool to apply the newest block before going without pool transactions.
    static let poolCatchUpNanoseconds: UInt64 = 2_000_000_000

    /// Whether the node is catching up: blocks behind the best header by more than the one
    /// just announced (a template would be stale at once). One rule for getblocktemplate
    /// and the pool; a single header ahead is the normal moment before its block arrives.
    static func catchingUp(_ snapshot: ChainSnapshot) -> Bool {
        snapshot.bestHeaderHeight > snapshot.tipHeight + 1
    }

    struct BuildError: Error, CustomStringConvertible {
        let description: String
    }

    /// A template on the current tip paying `payout`, with the pool's selection when the pool
    /// is up to date with that tip (it follows tip events a moment after the chain publishes
    /// them; a selection from an older tip could repeat transactions the newest block holds).
    func make(payout: [UInt8]) async throws(BuildError) -> (template: BlockTemplate, entries: [MempoolEntry]) {
        let started = DispatchTime.now().uptimeNanoseconds
        while true {
            // The block size limit in force for the next block (PROTOCOL section 18).
            let (tip, entries) = mempool.selection(maxBytes: mempool.parametersInForce.maxBlockBytes - Self.coinbaseReserve)
            let waited = DispatchTime.now().uptimeNanoseconds - started
            let usable = waited < Self.poolCatchUpNanoseconds ? entries : []
            if usable.count < entries.count {
                logger.warning("block template without pool transactions: the mempool has not caught up with the tip")
            }
            let fees = usable.reduce(Amount.zero) { $0.adding($1.fee) ?? .maxMoney }
            let built: BlockTemplate?
            do {
                built = try chain.withWriter { state -> BlockTemplate? in
                    guard state.tip.hash == tip || usable.isEmpty else { return nil }
                    return try TemplateBuilder.make(on: state, payout: payout, now: UInt64(Date().timeIntervalSince1970),
                                                    transactions: usable.map(\.transaction), ids: usable.map { ($0.txid, $0.wtxid) },
                                                    fees: fees)
                }
            } catch {
                throw BuildError(description: "could not build a block template: \(error)")
            }
            if let built {
                // Special transactions the masternode rules reject on this tip stay out.
                let dropped = Set(built.dropped)
                return (built, dropped.isEmpty ? usable : usable.filter { !dropped.contains($0.txid) })
            }
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
    }
}
