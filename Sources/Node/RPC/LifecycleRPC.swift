// gettxstatus: where a transaction is in its lifecycle (DESIGN 9), from the pool's record and,
// for transactions the pool never saw, from the chain (the transaction index).

import ChainState
import JSONRPC
import Mempool
import Primitives

extension NodeRPCContext {
    func registerLifecycle(in registry: RPCRegistry) {
        registry.register(RPCMethod(
            "gettxstatus", category: "Rawtransactions",
            parameters: [RPCParameter("txid", "string", "The transaction id")],
            help: "Where a transaction is in its lifecycle: {txid, state (validated, mempool, pending, included, confirmed, "
                + "finalized, rejected, expired, replaced, removed), time (entered the mempool), confirmations, blockhash and "
                + "blockheight (in a block), replaced_by (replaced), reject-reason (rejected, removed), history [{state, time, "
                + "blockhash (included), replaced_by (replaced), reason (rejected, removed, disconnected)}]}. "
                + "Error -5 when neither the pool nor the chain knows it."
        ) { args in
            let txid = try Self.hashArgument(args, 0)
            guard let status = try self.lifecycle(of: txid) else {
                throw RPCError.notFound("No such mempool or blockchain transaction")
            }
            return Self.statusJSON(txid, status)
        })
    }

    /// `txid`'s lifecycle: the pool's account of it, else the block holding it on the active
    /// chain (transaction index) with its depth; nil when neither knows it.
    func lifecycle(of txid: Hash256) throws(RPCError) -> TransactionStatus? {
        let history = mempool.history(txid: txid)
        if let entry = mempool.entry(txid: txid) {
            let pending = history.last?.state == .pending
            return TransactionStatus(state: pending ? .pending : .mempool, entryTime: entry.time, history: history)
        }
        let entryTime = history.last(where: { $0.state == .mempool })?.time
        if let (blockHash, height) = try confirmation(of: txid, history: history) {
            let tipHeight = chain.snapshot.tipHeight
            let confirmations = tipHeight >= height ? tipHeight - height + 1 : 0
            return TransactionStatus(state: Self.blockState(confirmations: confirmations, finalityDepth: mempool.finalityDepth),
                                     blockHash: blockHash, blockHeight: height, confirmations: confirmations, entryTime: entryTime,
                                     history: history)
        }
        guard let last = history.last else {
            // Refused before any record of it was kept, or the record was forgotten.
            guard let (rejection, _) = mempool.rejection(txid: txid) else { return nil }
            return TransactionStatus(state: .rejected, rule: rejection.rule)
        }
        switch last.state {
        case .replaced:
            return TransactionStatus(state: .replaced, replacedBy: Hash256(hex: last.detail), entryTime: entryTime, history: history)
        case .expired:
            return TransactionStatus(state: .expired, entryTime: entryTime, history: history)
        case .rejected:
            let rule = mempool.rejection(txid: txid)?.rejection.rule ?? last.detail
            return TransactionStatus(state: .rejected, rule: rule, entryTime: entryTime, history: history)
        case .removed, .disconnected:
            return TransactionStatus(state: .removed, rule: last.detail.isEmpty ? nil : last.detail, entryTime: entryTime, history: history)
        case .validated:
            return TransactionStatus(state: .validated, entryTime: entryTime, history: history)
        default:
            // Left the pool by a block no longer on the active chain, and not back in the pool.
            return TransactionStatus(state: .removed, rule: "block-disconnected", entryTime: entryTime, history: history)
        }
    }

    /// included at the tip (1 confirmation), confirmed below it, finalized at `finalityDepth`.
    static func blockState(confirmations: UInt64, finalityDepth: UInt64) -> TransactionStatus.State {
        if confirmations >= max(finalityDepth, 1) { return .finalized }
        return confirmations > 1 ? .confirmed : .included
    }

    /// The block on the active chain holding `txid`: from the transaction index when the node
    /// keeps one, else from the pool's record of the block that included it (while
    /// remembered); either is checked against the active chain.
    func confirmation(of txid: Hash256, history: [TransactionEvent]) throws(RPCError) -> (Hash256, UInt64)? {
        let snapshot = chain.snapshot
        if let txIndex {
            do {
                if let location = try txIndex.location(of: txid), snapshot.activeHeight(of: location.blockHash) == location.height {
                    return (location.blockHash, location.height)
                }
            } catch {
                throw RPCError(RPCError.databaseError, "transaction index: \(error)")
            }
        }
        if let included = history.last(where: { $0.state == .included }), let blockHash = Hash256(hex: included.detail),
           let height = snapshot.activeHeight(of: blockHash) {
            // Not when it went back to the pool or elsewhere after that block.
            if let last = history.last, last.state == .included || last.state == .pending || last.state == .mempool {
                return (blockHash, height)
            }
        }
        return nil
    }

    static func statusJSON(_ txid: Hash256, _ status: TransactionStatus) -> JSON {
        var result: JSONObject = ["txid": .string(txid.hex), "state": .string(status.state.rawValue)]
        if let blockHash = status.blockHash {
            result["confirmations"] = .int(status.confirmations)
            result["blockhash"] = .string(blockHash.hex)
            if let height = status.blockHeight { result["blockheight"] = .int(height) }
        }
        if let replacement = status.replacedBy { result["replaced_by"] = .string(replacement.hex) }
        if let rule = status.rule { result["reject-reason"] = .string(rule) }
        if let time = status.entryTime { result["time"] = .int(time) }
        result["history"] = .array(status.history.map(Self.eventJSON))
        return .object(result)
    }

    /// One step of the history; its detail under the name of what it is for that state.
    static func eventJSON(_ event: TransactionEvent) -> JSON {
        var item: JSONObject = ["state": .string(event.state.rawValue), "time": .int(event.time)]
        if !event.detail.isEmpty {
            switch event.state {
            case .included: item["blockhash"] = .string(event.detail)
            case .replaced: item["replaced_by"] = .string(event.detail)
            default: item["reason"] = .string(event.detail)
            }
        }
        return .object(item)
    }
}
