// One transaction of a batch judged against chain, pool and the batch's staged transactions
// (every check but signatures), and the staging area itself.

import ChainState
import Consensus
import Ed25519
import Foundation
import Masternodes
import Primitives

extension Mempool {
    /// A chunk's transactions that passed every check but signatures, not yet in the pool.
    /// Staged transactions never conflict with each other, and none touches what another
    /// would evict (such a transaction waits for the next chunk, see `StageOutcome.cut`), so
    /// committing them in order equals accepting them one by one.
    final class Staging {
        struct Item {
            var entry: MempoolEntry
            /// Position in the batch.
            var index: Int
            /// Pool transactions it replaces (direct conflicts; their descendants go with them).
            var conflicts: [Hash256]
            /// Pool special transactions of weaker authority it evicts (section 16.7; with descendants).
            var overriding: [Hash256] = []
        }

        var items: [Item] = []
        /// txid -> position in `items`.
        var positions: [Hash256: Int] = [:]
        var spenders: [OutPoint: Hash256] = [:]
        /// Masternode resources staged special transactions claim (section 16.7).
        var claims: [MasternodeClaim: Hash256] = [:]
        /// Staged children of pool or staged transactions.
        var children: [Hash256: [Hash256]] = [:]
        /// Pool transactions staged replacements evict (with descendants).
        var evicting: Set<Hash256> = []
        /// Pool transactions that staged transactions spend.
        var poolParents: Set<Hash256> = []
        /// Well-formed signature checks, as one batch, and each one's slot in `signatureOwners`.
        var signatures = SignatureBatch()
        var checks: [SignatureCheck] = []
        var batchSlots: [Int] = []
        /// For every collected check: its staged transaction (position in `items`) and input.
        var signatureOwners: [(item: Int, input: Int)] = []

        func entry(_ txid: Hash256) -> MempoolEntry? { positions[txid].map { items[$0].entry } }

        func add(_ item: Item, check: TransactionCheck, poolDepends: [Hash256], evicted: [Hash256]) {
            let position = items.count
            let txid = item.entry.txid
            items.append(item)
            positions[txid] = position
            for outpoint in item.entry.spentOutpoints { spenders[outpoint] = txid }
            for claim in item.entry.masternodeClaims { claims[claim] = txid }
            for parent in item.entry.depends { children[parent, default: []].append(txid) }
            poolParents.formUnion(poolDepends)
            evicting.formUnion(evicted)
            for (check, input) in zip(check.checks, check.checkInputs) {
                let slot = signatureOwners.count
                signatureOwners.append((position, input))
                // Scripts collect only 32-byte keys and 64-byte signatures; anything else fails.
                if check.message.withUnsafeBytes({ signatures.append(publicKey: check.publicKey, signature: check.signature, message: $0) }) {
                    checks.append(check)
                    batchSlots.append(slot)
                }
            }
        }
    }

    /// The coins a candidate spends: outputs of staged transactions, of pool transactions,
    /// then the chain's UTXO set. Reads the pool in place (no copy): use holding `admission`.
    struct StagedView: UTXOView {
        let utxo: UTXOCache
        let mempool: Mempool
        let staging: Staging
        let height: UInt64

        func coin(_ outpoint: OutPoint) throws -> Coin? {
            if let creator = staging.entry(outpoint.txid)?.transaction ?? mempool.pool[outpoint.txid]?.transaction {
                let outputs = creator.outputs
                guard Int(outpoint.index) < outputs.count, !outputs[Int(outpoint.index)].isUnspendable else { return nil }
                return Coin(output: outputs[Int(outpoint.index)], height: height, isCoinbase: false)
            }
            return try utxo.coin(outpoint)
        }
    }

    /// What judging one chunk needs, gathered once under the chain's writer.
    struct Judge {
        let state: ChainState
        let context: ContextualRules.Context
        let view: StagedView
        let staging: Staging
        let options: AdmissionOptions
        let minimumFeeRate: UInt64
        /// The relay minimum for the next block (`minRelayFeeRate`).
        let relayFeeRate: UInt64
        let tipHeight: UInt64
    }

    enum StageOutcome {
        case staged
        case rejected(Admission)
        /// Its verdict depends on a staged transaction's (it conflicts with one, spends or
        /// conflicts with what one evicts, repeats one): judge it after the chunk commits.
        case cut
    }

    /// Every check but signatures, in Bitcoin Core's order; stages the transaction when it
    /// passes. Call holding `admission` and the chain's writer.
    func stage(_ candidate: Submitted, index: Int, time: UInt64, _ judge: Judge) -> StageOutcome {
        let transaction = candidate.transaction
        let txid = candidate.txid
        let staging = judge.staging
        func refuse(_ rejection: MempoolRejection) -> StageOutcome { .rejected(Admission(result: .rejected(rejection))) }

        if let pooled = pool[txid] {
            return refuse(MempoolRejection(pooled.wtxid == candidate.wtxid ? "txn-already-in-mempool" : "txn-same-nonwitness-data-in-mempool",
                                           kind: .alreadyInPool))
        }
        if staging.positions[txid] != nil { return .cut }
        var conflicts = [Hash256]()
        for (inputIndex, input) in transaction.inputs.enumerated() {
            let outpoint = input.previousOutput
            if staging.spenders[outpoint] != nil || staging.evicting.contains(outpoint.txid) { return .cut }
            guard let spender = spenders[outpoint] else { continue }
            if staging.evicting.contains(spender) { return .cut }
            guard judge.options.replace else {
                return refuse(MempoolRejection("txn-mempool-conflict", "input \(inputIndex) spends \(outpoint), already spent by \(spender.hex)"))
            }
            if !conflicts.contains(spender) { conflicts.append(spender) }
        }

        // The contextual rules against the tip, as the next block would apply them.
        let check: TransactionCheck
        do {
            check = try ContextualRules.checkTransaction(transaction, txid: txid, context: judge.context, parameters: parameters,
                                                         view: judge.view)
        } catch let rejection as Rejection {
            guard rejection.rule == .txMissingInput else { return refuse(MempoolRejection(rejection)) }
            // A confirmed transaction's inputs are spent: only then can its outputs be in the
            // UTXO set, so the lookups (disk reads for a new transaction) are made only here.
            for (outputIndex, output) in transaction.outputs.enumerated() where !output.isUnspendable {
                if (try? judge.state.utxo.coin(OutPoint(txid: txid, index: UInt32(outputIndex)))) ?? nil != nil {
                    return refuse(MempoolRejection("txn-already-known", "its outputs are in the UTXO set", kind: .alreadyInChain))
                }
            }
            return .rejected(Admission(result: .rejected(MempoolRejection(rejection)), missingParents: missingParents(of: transaction, judge)))
        } catch {
            // A storage failure or an inconsistent view: nothing the sender did.
            return refuse(MempoolRejection("chain-state-error", "\(error)"))
        }

        let fee = check.fee.baseUnits
        let relayFee = MempoolPolicy.fee(rate: judge.relayFeeRate, bytes: candidate.size)
        guard fee >= relayFee else { return refuse(MempoolRejection("min relay fee not met", "\(fee) < \(relayFee)")) }
        let poolFee = MempoolPolicy.fee(rate: judge.minimumFeeRate, bytes: candidate.size)
        guard fee >= poolFee else { return refuse(MempoolRejection("mempool min fee not met", "\(fee) < \(poolFee)")) }

        // Special transactions: the masternode rules and one claim per resource (section 16.7),
        // after the fees so an unpaid transaction costs no signature check.
        var special: SpecialAdmission
        switch checkMasternodePolicy(candidate, judge) {
        case .admitted(let admitted): special = admitted
        case .refused(let rejection): return refuse(rejection)
        case .cut: return .cut
        }
        // Governance: locked collaterals, and a proposal's rules and parameter claim.
        switch checkGovernancePolicy(candidate, judge) {
        case .admitted(let admitted): special.claims += admitted.claims
        case .refused(let rejection): return refuse(rejection)
        case .cut: return .cut
        }

        var depends = [Hash256]()
        var poolDepends = [Hash256]()
        for input in transaction.inputs where !depends.contains(input.previousOutput.txid) {
            let parent = input.previousOutput.txid
            if staging.positions[parent] != nil {
                depends.append(parent)
            } else if pool[parent] != nil {
                depends.append(parent)
                poolDepends.append(parent)
            }
        }
        if let parent = special.collateralParent, !depends.contains(parent) {
            depends.append(parent)
            if staging.positions[parent] == nil { poolDepends.append(parent) }
        }
        var entry = MempoolEntry(transaction: transaction, txid: txid, wtxid: candidate.wtxid, size: candidate.size, fee: check.fee,
                                 time: time, height: judge.tipHeight, depends: depends)
        entry.masternodeClaims = special.claims
        entry.masternodeSigner = special.signer

        var evicted = [Hash256]()
        var overridden = [Hash256]()
        do throws(MempoolRejection) {
            if !conflicts.isEmpty {
                evicted = try replacementSet(of: conflicts, replacement: txid)
                try checkNoSpecialReplacement(transaction, evicting: evicted)
                // A staged transaction spends what this one would evict, or another replacement evicts it too.
                if evicted.contains(where: { staging.poolParents.contains($0) || staging.evicting.contains($0) }) { return .cut }
            }
            if !special.overriding.isEmpty {
                overridden = try replacementSet(of: special.overriding, replacement: txid)
                if overridden.contains(where: { staging.poolParents.contains($0) || staging.evicting.contains($0) }) { return .cut }
            }
            let ancestors = try checkPackageLimits(entry, staging: staging, evicted: Set(evicted + overridden))
            if let ancestor = overridden.first(where: ancestors.contains) {
                throw MempoolRejection(MempoolRejection.masternodeConflictRule,
                                       "it would evict its own ancestor \(ancestor.hex), a weaker claim on the same masternode")
            }
            if !conflicts.isEmpty {
                try checkReplacement(entry, conflicts: conflicts, evicted: evicted, ancestors: ancestors, staging: staging)
            }
        } catch {
            return refuse(error)
        }
        staging.add(Staging.Item(entry: entry, index: index, conflicts: conflicts, overriding: special.overriding), check: check,
                    poolDepends: poolDepends, evicted: evicted + overridden)
        return .staged
    }

    /// The txids of `transaction`'s inputs that neither the chain, the pool nor the batch
    /// holds (the parents to ask the sender for), without repeats.
    private func missingParents(of transaction: Transaction, _ judge: Judge) -> [Hash256] {
        var missing = [Hash256]()
        for input in transaction.inputs where !missing.contains(input.previousOutput.txid) {
            let parent = input.previousOutput.txid
            guard pool[parent] == nil, judge.staging.positions[parent] == nil else { continue }
            if (try? judge.view.coin(input.previousOutput)) ?? nil == nil { missing.append(parent) }
        }
        return missing
    }
}
