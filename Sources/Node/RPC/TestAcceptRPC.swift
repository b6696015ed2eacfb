// testmempoolaccept: each raw transaction checked against the chain and the pool, adding
// nothing, with bitcoind's package rules for several at once.

import JSONRPC
import Mempool
import Primitives

extension NodeRPCContext {
    /// bitcoind's limit on one testmempoolaccept call (its package limit).
    static let maxPackageCount = 25

    func testAccept(_ raw: [JSON], maxFeeRate: UInt64) throws(RPCError) -> JSON {
        guard (1...Self.maxPackageCount).contains(raw.count) else {
            throw RPCError.invalidParameter("Array must contain between 1 and \(Self.maxPackageCount) transactions.")
        }
        var transactions = [Transaction]()
        for item in raw {
            guard let text = item.stringValue, let bytes = HexCoding.decode(text) else {
                throw RPCError(RPCError.deserializationError, "TX decode failed: not a hex string")
            }
            transactions.append(try Self.decodeTransaction(bytes))
        }
        let ids = transactions.map(\.ids)
        if let packageError = Self.packageError(transactions, txids: ids.map(\.txid)) {
            return .array(ids.map { .object(["txid": .string($0.txid.hex), "wtxid": .string($0.wtxid.hex), "package-error": .string(packageError)]) })
        }
        let packageTxids = Set(ids.map(\.txid))
        var results = [JSON]()
        for (transaction, (txid, wtxid)) in zip(transactions, ids) {
            var result: JSONObject = ["txid": .string(txid.hex), "wtxid": .string(wtxid.hex)]
            // Its parent in the package is not in the pool: the pool cannot judge it alone.
            if transaction.inputs.contains(where: { packageTxids.contains($0.previousOutput.txid) }) {
                results.append(.object(result))
                continue
            }
            switch mempool.test(transaction) {
            case .accepted(let entry) where maxFeeRate > 0 && entry.feeRate > maxFeeRate:
                result["allowed"] = false
                result["reject-reason"] = "max-fee-exceeded"
            case .accepted(let entry):
                result["allowed"] = true
                result["vsize"] = .int(entry.size)
                result["fees"] = .object([
                    "base": .decimal(entry.fee.baseUnits),
                    "effective-feerate": .decimal(entry.feeRate),
                    "effective-includes": .array([.string(wtxid.hex)]),
                ])
            case .rejected(let rejection):
                result["allowed"] = false
                result["reject-reason"] = .string(rejection.rule)
                if !rejection.detail.isEmpty { result["reject-details"] = .string(rejection.description) }
            }
            results.append(.object(result))
        }
        return .array(results)
    }

    /// bitcoind's package well-formedness: no duplicates, parents before children, no two
    /// transactions spending the same coin. nil when well formed.
    static func packageError(_ transactions: [Transaction], txids: [Hash256]) -> String? {
        guard transactions.count > 1 else { return nil }
        guard Set(txids).count == txids.count else { return "package-contains-duplicates" }
        var later = Set(txids)
        var spent = Set<OutPoint>()
        for (transaction, txid) in zip(transactions, txids) {
            later.remove(txid)
            for input in transaction.inputs {
                if later.contains(input.previousOutput.txid) { return "package-not-sorted" }
                guard spent.insert(input.previousOutput).inserted else { return "conflict-in-package" }
            }
        }
        return nil
    }
}
