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

    /// `txid`'s lifecycle: the pool's account of it (Mempool.status), else the block holding
    /// it on the active chain (transaction index) with its depth; nil when neither knows it.
    func lifecycle(of txid: Hash256) throws(RPCError) -> TransactionStatus? {
        if let status = mempool.status(txid: txid) {
            // Included in a block no longer active (the pool has not heard of the switch yet):
            // the index may know where it is now.
            // A refusal of a copy of a transaction the active chain holds (one the pool never saw
            // confirmed, e.g. from a chain loaded from files): the chain's account wins.
            let mayBeInChain = (status.state == .included && status.blockHeight == nil) || status.state == .rejected
            if mayBeInChain, let found = try indexedStatus(txid) {
                return TransactionStatus(state: found.state, blockHash: found.blockHash, blockHeight: found.blockHeight,
                                         confirmations: found.confirmations, entryTime: status.entryTime, history: status.history)
            }
            return followingChainLock(status)
        }
        return try indexedStatus(txid)
    }

    /// From the transaction index alone: included, confirmed or finalized by depth.
    func indexedStatus(_ txid: Hash256) throws(RPCError) -> TransactionStatus? {
        guard let txIndex else { return nil }
        let snapshot = chain.snapshot
        let location: (blockHash: Hash256, height: UInt64)?
        do { location = try txIndex.location(of: txid) } catch {
            throw RPCError(RPCError.databaseError, "transaction index: \(error)")
        }
        guard let location, snapshot.activeHeight(of: location.blockHash) == location.height, snapshot.tipHeight >= location.height else {
            return nil
        }
        let confirmations = snapshot.tipHeight - location.height + 1
        let locked = Self.isChainLocked(location.blockHash, height: location.height, in: snapshot)
        return TransactionStatus(state: Self.blockState(confirmations: confirmations, finalityDepth: mempool.finalityDepth, chainLocked: locked),
                                 blockHash: location.blockHash, blockHeight: location.height, confirmations: confirmations)
    }

    /// included at the tip (1 confirmation), confirmed below it, finalized at `finalityDepth`
    /// or when the block is chain-locked (`chainLocked`: at or below the best lock on the active chain).
    static func blockState(confirmations: UInt64, finalityDepth: UInt64, chainLocked: Bool = false) -> TransactionStatus.State {
        if confirmations >= max(finalityDepth, 1) || (chainLocked && confirmations > 0) { return .finalized }
        return confirmations > 1 ? .confirmed : .included
    }

    /// Whether the active chain's block `hash` at `height` is at or below its best chain lock:
    /// the node never reorganises below a lock, so such a block is final whatever its depth.
    static func isChainLocked(_ hash: Hash256?, height: UInt64?, in snapshot: ChainSnapshot) -> Bool {
        guard let hash, let height, let locked = snapshot.chainLockedHeight, height <= locked else { return false }
        return snapshot.hash(atHeight: height) == hash
    }

    /// The pool's included or confirmed account, finalized when a chain lock covers its block.
    func followingChainLock(_ status: TransactionStatus) -> TransactionStatus {
        guard status.state == .included || status.state == .confirmed,
              Self.isChainLocked(status.blockHash, height: status.blockHeight, in: chain.snapshot) else { return status }
        var final = status
        final.state = .finalized
        return final
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
