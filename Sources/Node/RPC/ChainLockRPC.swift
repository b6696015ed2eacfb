// Chain-lock methods (docs/protocol/chainlocks.md): getbestchainlock, submitchainlock.

import ChainState
import JSONRPC
import Primitives
import QuorumServices

extension NodeRPCContext {
    func registerChainLocks(in registry: RPCRegistry) {
        registry.register(RPCMethod(
            "getbestchainlock", category: "Blockchain",
            help: "The best chain lock this node accepted: {height, blockhash, quorumhash, signature (hex), known_block (whether "
                + "the block index holds the block: a lock is taken for a known header, one learnt before a restart may name a "
                + "header not fetched again yet)}. Error -32603 when none is known (as Dash)."
        ) { _ in
            let snapshot = self.chain.snapshot
            guard let lock = snapshot.chainLock else { throw RPCError(RPCError.internalErrorCode, "Unable to find any chain lock") }
            return Self.chainLockJSON(lock, knownBlock: snapshot.header(lock.blockHash) != nil)
        })

        registry.register(RPCMethod(
            "submitchainlock", category: "Blockchain",
            parameters: [RPCParameter("hexdata", "hex", "A clsig payload: height u64 LE | blockhash | quorumhash | signature (136 bytes)")],
            help: "Checks a chain lock against the active chain-lock quorums and, when it is the new best lock, relays it. Returns "
                + "\"accepted\", \"duplicate\" (the best lock covers that block already) or \"pending\" (its block is not known yet: "
                + "kept until it arrives). Error -22 when the hex is not a clsig, -25 when the lock is refused (the reason named)."
        ) { args in
            let bytes = try args.hexBytes(0)
            let lock: ChainLock
            do { lock = try ChainLock.decode(bytes) } catch { throw RPCError(RPCError.deserializationError, "clsig decode failed: \(error)") }
            do {
                switch try await self.peers.submitChainLock(lock) {
                case .accepted: return "accepted"
                case .duplicate: return "duplicate"
                case .unknownBlock: return "pending"
                }
            } catch let error as ChainLockError {
                throw RPCError(RPCError.verifyError, "chain lock refused: \(error)")
            } catch {
                throw RPCError(RPCError.miscError, "chain lock not stored: \(error)")
            }
        })
    }

    static func chainLockJSON(_ lock: ChainLock, knownBlock: Bool) -> JSON {
        [
            "height": .int(lock.height), "blockhash": .string(lock.blockHash.hex), "quorumhash": .string(lock.quorumHash.hex),
            "signature": .string(HexCoding.encode(lock.signature)), "known_block": .bool(knownBlock),
        ]
    }
}
