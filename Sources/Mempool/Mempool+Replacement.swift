// Full replace-by-fee (every transaction is replaceable): Bitcoin Core's replacement rules,
// with its reject reasons. docs/PROTOCOL.md (Relay policy) states them.

import Foundation
import Primitives

extension Mempool {
    /// What replacing `conflicts` evicts: them and their in-pool descendants (txids), at most
    /// `maxReplacementEvictions` (Core's rule 5; the walk stops once past it). Call holding `admission`.
    func replacementSet(of conflicts: [Hash256], replacement: Hash256) throws(MempoolRejection) -> [Hash256] {
        var found = [Hash256]()
        var seen = Set<Hash256>()
        for conflict in conflicts where seen.insert(conflict).inserted {
            found.append(conflict)
        }
        var index = 0
        while found.count <= policy.maxReplacementEvictions {
            guard index < found.count else { return found }
            for child in children[found[index]] ?? [] where seen.insert(child).inserted { found.append(child) }
            index += 1
        }
        throw MempoolRejection("too many potential replacements",
                               "rejecting replacement \(replacement.hex); too many potential replacements " +
                               "(\(found.count) > \(policy.maxReplacementEvictions))")
    }

    /// The replacement rules for `entry`, which spends outputs that `conflicts` (pool
    /// transactions) spend; `evicted` is `replacementSet(of: conflicts)`, `ancestors` its
    /// in-pool and staged ancestors. Call holding `admission`.
    func checkReplacement(_ entry: MempoolEntry, conflicts: [Hash256], evicted: [Hash256], ancestors: Set<Hash256>,
                          staging: Staging) throws(MempoolRejection) {
        let txid = entry.txid.hex
        // It cannot both spend a transaction's output and evict that transaction.
        if let conflict = conflicts.first(where: ancestors.contains) {
            throw MempoolRejection("bad-txns-spends-conflicting-tx", "\(txid) spends conflicting transaction \(conflict.hex)")
        }
        // Rule 6: a better fee rate than every transaction it directly replaces.
        for conflict in conflicts {
            guard let replaced = pool[conflict] else { continue }
            guard entry.feeRate > replaced.feeRate else {
                throw MempoolRejection("insufficient fee", "rejecting replacement \(txid); new feerate \(entry.feeRate) <= " +
                                       "old feerate \(replaced.feeRate) of \(conflict.hex)")
            }
        }
        // Rule 2: no unconfirmed input that no replaced transaction spent (the replacement
        // could otherwise pay less per byte than what it evicts once its parents count).
        var parentsOfConflicts = Set<Hash256>()
        for conflict in conflicts {
            for outpoint in pool[conflict]?.spentOutpoints ?? [] { parentsOfConflicts.insert(outpoint.txid) }
        }
        for (index, input) in entry.transaction.inputs.enumerated() {
            let parent = input.previousOutput.txid
            if !parentsOfConflicts.contains(parent) && (pool[parent] != nil || staging.positions[parent] != nil) {
                throw MempoolRejection("replacement-adds-unconfirmed", "replacement \(txid) adds unconfirmed input, idx \(index)")
            }
        }
        // Rule 3: at least the fees of everything evicted.
        var evictedFees: UInt64 = 0
        for member in evicted {
            let (sum, overflow) = evictedFees.addingReportingOverflow(pool[member]?.fee.baseUnits ?? 0)
            evictedFees = overflow ? .max : sum
        }
        let fee = entry.fee.baseUnits
        guard fee >= evictedFees else {
            throw MempoolRejection("insufficient fee", "rejecting replacement \(txid), less fees than conflicting txs; \(fee) < \(evictedFees)")
        }
        // Rule 4: the additional fee pays for relaying its own bytes.
        let additional = fee - evictedFees
        let relayFee = MempoolPolicy.fee(rate: policy.incrementalRelayFeeRate, bytes: entry.size)
        guard additional >= relayFee else {
            throw MempoolRejection("insufficient fee",
                                   "rejecting replacement \(txid), not enough additional fees to relay; \(additional) < \(relayFee)")
        }
    }
}
