// Fee estimation: estimatesmartfee (bitcoind's shape) from the pool's fee estimator.

import JSONRPC
import Mempool

extension NodeRPCContext {
    func registerFees(in registry: RPCRegistry) {
        registry.register(RPCMethod(
            "estimatesmartfee", category: "Util",
            parameters: [
                RPCParameter("conf_target", "number", "Confirmation target in blocks (1 - 1008)"),
                RPCParameter("estimate_mode", "string", required: false,
                             "\"economical\", \"conservative\" (default) or \"unset\": conservative answers from longer history"),
            ],
            help: "The fee rate (coins per 1,000 bytes) expected to confirm within conf_target blocks, learnt from recent "
                + "blocks: {\"feerate\", \"blocks\"} (blocks: the target the answer is for), or {\"errors\": [...], \"blocks\": 0} "
                + "without enough data. Never below the pool's minimum fee rate."
        ) { args in
            let target = try args.int(0)
            guard (1...Int64(FeeEstimator.maxTarget)).contains(target) else {
                throw RPCError.invalidParameter("Invalid conf_target, must be between 1 and \(FeeEstimator.maxTarget)")
            }
            let conservative = try Self.estimateMode(args.optionalString(1))
            guard let estimate = self.mempool.feeEstimator.estimate(targetBlocks: Int(target), conservative: conservative) else {
                return .object(["errors": .array(["Insufficient data or no feerate found"]), "blocks": 0])
            }
            // bitcoind never advises less than what the pool (and so its peers) would take.
            let floor = max(self.mempool.minimumFeeRate, self.mempool.minRelayFeeRate)
            return .object(["feerate": .decimal(max(estimate.feeRate, floor)), "blocks": .int(estimate.blocks)])
        })
    }

    /// bitcoind's estimate_mode: true for conservative (its default, "unset"), false for economical.
    static func estimateMode(_ text: String?) throws(RPCError) -> Bool {
        switch text?.lowercased() {
        case nil, "unset", "conservative": return true
        case "economical": return false
        default:
            throw RPCError.invalidParameter("Invalid estimate_mode parameter, must be one of: \"unset\" \"economical\" \"conservative\"")
        }
    }
}
