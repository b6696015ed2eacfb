// The masternode's quorum service in the node: created at start for `--masternode`, fed
// every tip and the relay timer, its messages sent through the quorum relay, its
// commitments into the mempool, its recovered chain-lock signatures into the chain state.

import ChainState
import Foundation
import Masternodes
import Primitives
import QuorumServices
import Quorums
import Wire

extension PeerManager {
    /// Starts the quorum service when this node is a masternode of a network with quorum
    /// types; `submit` puts a commitment transaction into the node's mempool and relays it.
    /// Call before `start()`.
    public func startQuorums(datadir: String, submit: @escaping @Sendable (Transaction) -> Void) {
        guard let keys = masternodeIdentity?.keys, let masternodeParameters,
              let parameters = try? QuorumParameters(self.parameters.chain), !parameters.types.isEmpty else { return }
        let service = QuorumNodeService(parameters: parameters, masternodeParameters: masternodeParameters, keys: keys, datadir: datadir,
                                        logger: logger)
        service.broadcast = { [unowned self] message in self.broadcastQuorumMessage(message) }
        service.fetchList = { [unowned self] height, done in
            self.chainQueue.async {
                let list = try? self.chain.withWriter { try $0.masternodeList(at: height) }
                self.loop.execute { done(list) }
            }
        }
        service.submit = submit
        service.chainLockRecovered = { [unowned self] lock in
            guard self.chainLocks.note(lock.id, knownBy: nil) else { return }
            self.logger.info("chain lock at height \(lock.height) recovered by quorum \(lock.quorumHash.hex)")
            self.checkChainLock(lock, from: nil)
        }
        service.executionRecovered = { [unowned self] execution in self.checkGovernanceExecution(execution, from: nil) }
        quorumService = service
        quorumRelay.handler = service
    }

    /// At every tip change (after the masternode standing is updated).
    func quorumsFollowTip() {
        quorumService?.follow(chain.snapshot, ownID: masternodeIdentity?.readyProTxHash)
    }

    /// Runs `body` with the quorum service on the loop; nil when the node has none.
    func withQuorumService<T: Sendable>(_ body: @escaping @Sendable (QuorumNodeService) -> T) async throws -> T? {
        try await onLoop { self.quorumService.map(body) }
    }
}
