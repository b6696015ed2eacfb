// Special transactions in the pool (PROTOCOL section 16.7): each must pass the masternode
// rules against the chain's list with the pool's coins, and no two pool transactions may
// claim the same masternode resource, so any set of pool transactions a template takes
// applies in a block in any order. After each block the pool's special transactions are
// checked again against the new list.

import ChainState
import Consensus
import Masternodes
import Primitives

/// A masternode resource a pool special transaction claims (PROTOCOL section 16.7).
enum MasternodeClaim: Hashable, Sendable, CustomStringConvertible {
    case collateral(OutPoint)
    case ownerKey([UInt8])
    case operatorKey([UInt8])
    case encryptionKey([UInt8])
    case service(ServiceAddress)
    /// The masternode an update or revoke is about.
    case masternode(Hash256)

    var description: String {
        switch self {
        case .collateral(let outpoint): return "collateral \(outpoint)"
        case .ownerKey: return "owner key"
        case .operatorKey: return "operator key"
        case .encryptionKey: return "operator encryption key"
        case .service(let service): return "service \(service)"
        case .masternode(let id): return "masternode \(id.hex)"
        }
    }

    /// What a special transaction of `type` that writes `entry` claims: what a registration
    /// names, what an update changes, and always the masternode and its collateral (a pool
    /// spend of the collateral would remove the masternode under it).
    static func claims(of type: SpecialTransactionType, writing entry: MasternodeEntry) -> [MasternodeClaim] {
        switch type {
        case .masternodeRegister:
            return [.collateral(entry.collateral), .ownerKey(entry.ownerKey), .operatorKey(entry.operatorKey),
                    .encryptionKey(entry.operatorEncryptionKey), .service(entry.service), .masternode(entry.proTxHash)]
        case .masternodeUpdateService:
            return [.masternode(entry.proTxHash), .collateral(entry.collateral), .service(entry.service)]
        case .masternodeUpdateRegistrar:
            return [.masternode(entry.proTxHash), .collateral(entry.collateral), .operatorKey(entry.operatorKey),
                    .encryptionKey(entry.operatorEncryptionKey)]
        case .masternodeRevoke:
            return [.masternode(entry.proTxHash), .collateral(entry.collateral)]
        }
    }
}

extension MempoolRejection {
    /// The pool's reason for a second claim on a masternode resource.
    public static let masternodeConflictRule = "bad-protx-conflict"

    /// A masternode rule's rejection in the pool: only a malformed payload is the sender's
    /// fault whatever the chain; the other rules depend on the list, which a peer may see
    /// ahead of or behind this node.
    init(masternode rejection: Rejection) {
        let contextFree: Set<RuleName> = [.specialPayload, .specialInputsHash, .txSpecialType]
        self.init(rejection.rule.rawValue, rejection.detail, isConsensusFailure: contextFree.contains(rejection.rule))
    }
}

extension Mempool {
    enum SpecialOutcome {
        case claims([MasternodeClaim])
        case refused(MempoolRejection)
        /// A staged transaction holds one of its claims: judged after the chunk commits.
        case cut
    }

    /// The masternode checks of one candidate (special or not): rules against the chain's
    /// list and the pool's coins, then claims against the pool's and the chunk's. Call holding
    /// `admission` and the chain's writer.
    func checkMasternodePolicy(_ candidate: Submitted, _ judge: Judge) -> SpecialOutcome {
        let transaction = candidate.transaction
        // Any transaction: no spend of a collateral a pool special transaction relies on.
        for input in transaction.inputs {
            let claim = MasternodeClaim.collateral(input.previousOutput)
            if judge.staging.claims[claim] != nil { return .cut }
            if let holder = masternodeClaims[claim] {
                return .refused(MempoolRejection(MempoolRejection.masternodeConflictRule,
                                                 "spends the \(claim) of pool transaction \(holder.hex)"))
            }
        }
        guard transaction.isSpecial, let type = transaction.specialType else { return .claims([]) }
        let entry: MasternodeEntry
        do {
            guard let written = try MasternodeRules.change(for: transaction, txid: candidate.txid, height: judge.tipHeight + 1,
                                                           list: judge.state.masternodes, parameters: judge.state.masternodeParameters,
                                                           coin: judge.view.coin) else { return .claims([]) }
            entry = written
        } catch let rejection as Rejection {
            return .refused(MempoolRejection(masternode: rejection))
        } catch {
            return .refused(MempoolRejection("chain-state-error", "\(error)"))
        }
        // A block applies collateral spends before the payload: a transaction spending its
        // own masternode's (or registration's) collateral would fail there.
        if transaction.inputs.contains(where: { $0.previousOutput == entry.collateral }) {
            let rule: RuleName = type == .masternodeRegister ? .masternodeCollateralMissing : .masternodeUnknown
            return .refused(MempoolRejection(masternode: Rejection(rule, "the transaction spends the collateral \(entry.collateral)")))
        }
        let claims = MasternodeClaim.claims(of: type, writing: entry)
        for claim in claims {
            if judge.staging.claims[claim] != nil { return .cut }
            if let holder = masternodeClaims[claim] {
                return .refused(MempoolRejection(MempoolRejection.masternodeConflictRule, "the \(claim) is claimed by pool transaction \(holder.hex)"))
            }
            if case .collateral(let outpoint) = claim {
                if judge.staging.spenders[outpoint] != nil { return .cut }
                if let spender = spenders[outpoint] {
                    return .refused(MempoolRejection(MempoolRejection.masternodeConflictRule, "its \(claim) is spent by pool transaction \(spender.hex)"))
                }
            }
        }
        return .claims(claims)
    }

    /// Section 16.7: in v1 a special transaction neither replaces nor is replaced.
    func checkNoSpecialReplacement(_ transaction: Transaction, evicting evicted: [Hash256]) throws(MempoolRejection) {
        if transaction.isSpecial || evicted.contains(where: specialTxids.contains) {
            throw MempoolRejection("txn-mempool-conflict", "special transactions neither replace nor are replaced")
        }
    }

    func indexClaims(of entry: MempoolEntry) {
        for claim in entry.masternodeClaims { masternodeClaims[claim] = entry.txid }
        if !entry.masternodeClaims.isEmpty { specialTxids.insert(entry.txid) }
    }

    func unindexClaims(of entry: MempoolEntry) {
        for claim in entry.masternodeClaims where masternodeClaims[claim] == entry.txid { masternodeClaims[claim] = nil }
        specialTxids.remove(entry.txid)
    }

    /// After a block: the pool's special transactions checked again against the new list
    /// (the block may have registered the same key, spent a collateral, banned or revoked a
    /// masternode); those that fail leave with their descendants. Skipped when the chain has
    /// moved past `tip` already: the next tip event checks against the newest list.
    /// Call holding `admission` (not `lock`).
    func evictFailingSpecialTransactions(tip: Hash256, time: UInt64) {
        guard !specialTxids.isEmpty else { return }
        let failing = chain.withWriter { state -> [(Hash256, Rejection)] in
            guard state.tip.hash == tip else { return [] }
            let view = StagedView(utxo: state.utxo, mempool: self, staging: Staging(), height: state.tip.height + 1)
            var failing = [(Hash256, Rejection)]()
            for txid in specialTxids.sorted(by: { (arrival[$0] ?? 0) < (arrival[$1] ?? 0) }) {
                guard let entry = pool[txid] else { continue }
                do {
                    _ = try MasternodeRules.change(for: entry.transaction, txid: txid, height: state.tip.height + 1, list: state.masternodes,
                                                   parameters: state.masternodeParameters, coin: view.coin)
                } catch let rejection as Rejection {
                    failing.append((txid, rejection))
                } catch {
                    // A storage failure is not the transaction's fault: it stays.
                    continue
                }
            }
            return failing
        }
        guard !failing.isEmpty else { return }
        let removed = lock.withLock {
            failing.flatMap { txid, rejection in
                removeWithDescendants(txid, as: .removed, detail: rejection.rule.rawValue, time: time)
            }
        }
        for entry in removed { feeEstimator.removed(txid: entry.txid) }
    }
}
