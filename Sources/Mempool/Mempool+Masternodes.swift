// Special transactions in the pool (PROTOCOL section 16.7): each must pass the masternode
// rules against the chain's list with the pool's coins, and no two pool transactions may
// claim the same masternode resource (the stronger authority evicts the weaker), so any
// ancestor-closed set of pool transactions applies in one block in any order of parents
// first. After each block the pool's special transactions are checked again against the
// new list.

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
    /// The governed parameter a pool proposal changes (one open proposal per parameter, Mempool+Governance).
    case governanceParameter(UInt16)

    var description: String {
        switch self {
        case .collateral(let outpoint): return "collateral \(outpoint)"
        case .ownerKey: return "owner key"
        case .operatorKey: return "operator key"
        case .encryptionKey: return "operator encryption key"
        case .service(let service): return "service \(service)"
        case .masternode(let id): return "masternode \(id.hex)"
        case .governanceParameter(let id): return "governance parameter \(id)"
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
        case .quorumCommitment, .governanceProposal, .governanceVote:
            return []  // writes no masternode entry (Mempool+Quorums and Mempool+Governance have their own rules)
        }
    }
}

extension MempoolRejection {
    /// The pool's reason for a second claim on a masternode resource.
    public static let masternodeConflictRule = "bad-protx-conflict"

    /// A masternode rule's rejection in the pool: only a malformed payload is the sender's
    /// fault whatever the chain; the other rules depend on the list, which a peer may see
    /// ahead of or behind this node. A quorum commitment's content rules are the sender's
    /// fault too: the payload decides them alone, or (signatures) the list at a start
    /// height whose block `qc-quorum-hash` already pinned to this node's chain.
    init(masternode rejection: Rejection) {
        let contextFree: Set<RuleName> = [.specialPayload, .specialInputsHash, .txSpecialType, .quorumCommitmentShape, .quorumNullContent,
                                          .quorumValidMembers, .quorumSigners, .quorumGroupKey, .quorumSignature]
        self.init(rejection.rule.rawValue, rejection.detail, isConsensusFailure: contextFree.contains(rejection.rule))
    }
}

extension Mempool {
    /// What the masternode checks let a candidate do in the pool.
    struct SpecialAdmission {
        var claims: [MasternodeClaim] = []
        /// Pool special transactions of weaker authority it evicts (with their descendants).
        var overriding: [Hash256] = []
        /// The pool (or staged) transaction whose output a registration names as its
        /// external collateral: a parent of the registration, though not spent by it.
        var collateralParent: Hash256?
        var signer: [UInt8]?
    }

    enum SpecialOutcome {
        case admitted(SpecialAdmission)
        case refused(MempoolRejection)
        /// A staged transaction holds one of its claims: judged after the chunk commits.
        case cut
    }

    /// Authority over a masternode (section 16.7): the collateral key (a spend of the
    /// collateral, or the registration it signs) over the owner key (update-registrar) over
    /// the operator key (update-service, revoke). A stronger pool candidate evicts a weaker
    /// holder of the same claim; an equal or weaker one is refused.
    static func authority(of type: SpecialTransactionType?) -> Int {
        switch type {
        case .masternodeUpdateService, .masternodeRevoke: return 1
        case .masternodeUpdateRegistrar: return 2
        case .masternodeRegister, .quorumCommitment, .governanceProposal, .governanceVote, nil: return 3
        }
    }

    /// The masternode checks of one candidate (special or not): rules against the chain's
    /// list and the pool's coins, then claims against the pool's and the chunk's. Call holding
    /// `admission` and the chain's writer, after the fee checks (a signature check costs more).
    func checkMasternodePolicy(_ candidate: Submitted, _ judge: Judge) -> SpecialOutcome {
        let transaction = candidate.transaction
        var admission = SpecialAdmission()
        // Any transaction spending a collateral a pool special transaction relies on evicts
        // it: the collateral key outranks every other (nothing to look up while no special
        // transaction waits: the common case).
        for input in transaction.inputs where !masternodeClaims.isEmpty || !judge.staging.claims.isEmpty {
            let claim = MasternodeClaim.collateral(input.previousOutput)
            if judge.staging.claims[claim] != nil { return .cut }
            guard let holder = masternodeClaims[claim] else { continue }
            // Spending a pool registration's own output: evicting it would remove the parent.
            if transaction.inputs.contains(where: { $0.previousOutput.txid == holder }) {
                return .refused(MempoolRejection(MempoolRejection.masternodeConflictRule,
                                                 "spends the \(claim) of its own parent \(holder.hex)"))
            }
            if !admission.overriding.contains(holder) { admission.overriding.append(holder) }
        }
        guard transaction.isSpecial, let type = transaction.specialType else { return .admitted(admission) }
        let entry: MasternodeEntry
        do {
            guard let written = try MasternodeRules.change(for: transaction, txid: candidate.txid, height: judge.tipHeight + 1,
                                                           list: judge.state.masternodes, parameters: judge.state.masternodeParameters,
                                                           coin: judge.view.coin) else { return .admitted(admission) }
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
        admission.claims = MasternodeClaim.claims(of: type, writing: entry)
        for claim in admission.claims {
            if judge.staging.claims[claim] != nil { return .cut }
            if let holder = masternodeClaims[claim], !admission.overriding.contains(holder) {
                guard Self.authority(of: type) > Self.authority(of: pool[holder]?.transaction.specialType) else {
                    return .refused(MempoolRejection(MempoolRejection.masternodeConflictRule,
                                                     "the \(claim) is claimed by pool transaction \(holder.hex)"))
                }
                admission.overriding.append(holder)
            }
            if case .collateral(let outpoint) = claim {
                if judge.staging.spenders[outpoint] != nil { return .cut }
                if let spender = spenders[outpoint] {
                    return .refused(MempoolRejection(MempoolRejection.masternodeConflictRule, "its \(claim) is spent by pool transaction \(spender.hex)"))
                }
                let creator = outpoint.txid
                if creator != candidate.txid && (pool[creator] != nil || judge.staging.positions[creator] != nil) {
                    admission.collateralParent = creator
                }
            }
        }
        admission.signer = MasternodeRules.signerKey(of: transaction, list: judge.state.masternodes)
        return .admitted(admission)
    }

    /// The `removed` detail of a special transaction a stronger authority evicted (section 16.7).
    public static let overriddenReason = "overridden by"

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
            for txid in specialTxids {
                guard let entry = pool[txid] else { continue }
                do {
                    // The signature is checked again only when the block changed the key it needs.
                    _ = try MasternodeRules.change(for: entry.transaction, txid: txid, height: state.tip.height + 1, list: state.masternodes,
                                                   parameters: state.masternodeParameters, coin: view.coin,
                                                   verifiedSigner: entry.masternodeSigner)
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
