// Bitcoin Core's package limits: a transaction with its unconfirmed ancestors, and every
// ancestor with its unconfirmed descendants, stay within a count and a size. They bound every
// walk over the pool's relatives (selection, removal, replacement).

import Foundation
import Primitives

extension Mempool {
    /// Checks `entry` joining the pool (with the staged transactions): its ancestors, itself
    /// included, at most `maxAncestors` transactions and `maxAncestorBytes`; for each ancestor,
    /// its descendants, itself and `entry` included, at most `maxDescendants` and
    /// `maxDescendantBytes`. Transactions in `evicted` (a replacement removes them) do not
    /// count. Returns the ancestors' txids. Call holding `admission`.
    func checkPackageLimits(_ entry: MempoolEntry, staging: Staging, evicted: Set<Hash256>) throws(MempoolRejection) -> Set<Hash256> {
        guard entry.size <= policy.maxAncestorBytes else {
            throw MempoolRejection("too-long-mempool-chain", "exceeds ancestor size limit [limit: \(policy.maxAncestorBytes)]")
        }
        guard entry.size <= policy.maxDescendantBytes else {
            throw MempoolRejection("too-long-mempool-chain",
                                   "exceeds descendant size limit for tx \(entry.txid.hex) [limit: \(policy.maxDescendantBytes)]")
        }
        // The common case: no unconfirmed parent, nothing to walk.
        guard !entry.depends.isEmpty else { return [] }

        var ancestors = Set<Hash256>()
        var pending = entry.depends
        var ancestorBytes = entry.size
        while let next = pending.popLast() {
            guard let member = staging.entry(next) ?? pool[next], ancestors.insert(next).inserted else { continue }
            guard ancestors.count + 1 <= policy.maxAncestors else {
                throw MempoolRejection("too-long-mempool-chain", "too many unconfirmed ancestors [limit: \(policy.maxAncestors)]")
            }
            ancestorBytes += member.size
            guard ancestorBytes <= policy.maxAncestorBytes else {
                throw MempoolRejection("too-long-mempool-chain", "exceeds ancestor size limit [limit: \(policy.maxAncestorBytes)]")
            }
            pending += member.depends
        }

        for ancestor in ancestors {
            // The walk stops as soon as a limit is passed, so it stays bounded whatever the pool holds.
            var count = 1, bytes = entry.size
            var found = [ancestor]
            var seen: Set<Hash256> = [ancestor]
            var index = 0
            while index < found.count {
                let member = found[index]
                index += 1
                guard let memberEntry = staging.entry(member) ?? pool[member] else { continue }
                count += 1
                bytes += memberEntry.size
                guard count <= policy.maxDescendants else {
                    throw MempoolRejection("too-long-mempool-chain", "too many descendants for tx \(ancestor.hex) [limit: \(policy.maxDescendants)]")
                }
                guard bytes <= policy.maxDescendantBytes else {
                    throw MempoolRejection("too-long-mempool-chain",
                                           "exceeds descendant size limit for tx \(ancestor.hex) [limit: \(policy.maxDescendantBytes)]")
                }
                for child in children[member] ?? [] where !evicted.contains(child) && seen.insert(child).inserted { found.append(child) }
                for child in staging.children[member] ?? [] where seen.insert(child).inserted { found.append(child) }
            }
        }
        return ancestors
    }
}
