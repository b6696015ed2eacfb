import Masternodes
import Primitives

/// An independent model of PROTOCOL sections 16.3 to 16.5, written from the text and kept
/// deliberately plain (a dictionary of records, a full sort and Merkle pass for the root): it
/// never calls `MasternodeRules`, `ProofOfService` or the list's mutating methods, so a
/// history checked against it tests the rules' effects, not merely their determinism. It
/// applies the effects of transactions the generator built valid; it does not re-judge them.
struct MasternodeModel: Equatable {
    var entries: [Hash256: MasternodeEntry] = [:]
    let parameters: MasternodeParameters

    static func == (lhs: MasternodeModel, rhs: MasternodeModel) -> Bool { lhs.entries == rhs.entries }

    /// 16.3: in block order, a transaction first removes every masternode whose collateral an
    /// input spends, then applies its payload.
    mutating func apply(block transactions: [Transaction], height: UInt64) throws {
        for transaction in transactions {
            for input in transaction.inputs {
                for (id, entry) in entries where entry.collateral == input.previousOutput { entries[id] = nil }
            }
            guard transaction.isSpecial else { continue }
            switch transaction.specialType {
            case .masternodeRegister:
                let payload = try MasternodeRegisterPayload.decode(payload: transaction.payload)
                let txid = transaction.txid
                // A collateral txid of zeros names an output of the registration itself.
                let collateral = payload.collateral.txid == .zero ? OutPoint(txid: txid, index: payload.collateral.index) : payload.collateral
                entries[txid] = MasternodeEntry(proTxHash: txid, collateral: collateral, ownerKey: payload.ownerKey, operatorKey: payload.operatorKey,
                                                operatorEncryptionKey: payload.operatorEncryptionKey, service: payload.service,
                                                payoutScript: payload.payoutScript, registeredHeight: height, updatedHeight: height,
                                                penalty: 0, penaltyHeight: height, bannedHeight: nil, revocationReason: 0)
            case .masternodeUpdateService:
                let payload = try MasternodeUpdateServicePayload.decode(payload: transaction.payload)
                guard var entry = entries[payload.proTxHash] else { throw ModelError.unknown }
                entry.service = payload.service
                entry.updatedHeight = height
                // 16.5: the operator's service update revives a banned masternode.
                if entry.bannedHeight != nil {
                    entry.bannedHeight = nil
                    entry.penalty = 0
                    entry.penaltyHeight = height
                    entry.revocationReason = 0
                }
                entries[payload.proTxHash] = entry
            case .masternodeUpdateRegistrar:
                let payload = try MasternodeUpdateRegistrarPayload.decode(payload: transaction.payload)
                guard var entry = entries[payload.proTxHash] else { throw ModelError.unknown }
                entry.operatorKey = payload.operatorKey
                entry.operatorEncryptionKey = payload.operatorEncryptionKey
                entry.payoutScript = payload.payoutScript
                entry.updatedHeight = height
                entries[payload.proTxHash] = entry
            case .masternodeRevoke:
                let payload = try MasternodeRevokePayload.decode(payload: transaction.payload)
                guard var entry = entries[payload.proTxHash] else { throw ModelError.unknown }
                entry.operatorKey = [UInt8](repeating: 0, count: 32)
                entry.bannedHeight = height
                entry.revocationReason = payload.reason
                entry.updatedHeight = height
                entries[payload.proTxHash] = entry
            case .quorumCommitment, .governanceProposal, .governanceVote:
                continue  // quorum and governance rules, not the list's (sections 17, 18)
            case nil:
                throw ModelError.unknown
            }
        }
    }

    /// 16.5: the penalty in force at `height` plus `points`, saturating; banned above the maximum.
    mutating func penalize(_ id: Hash256, points: UInt32, height: UInt64) {
        guard var entry = entries[id], entry.bannedHeight == nil else { return }
        let elapsed = height > entry.penaltyHeight ? height - entry.penaltyHeight : 0
        let decay = elapsed * UInt64(parameters.penaltyDecayPerBlock)
        let current = decay >= UInt64(entry.penalty) ? 0 : UInt64(entry.penalty) - decay
        entry.penalty = UInt32(min(current + UInt64(points), UInt64(UInt32.max)))
        entry.penaltyHeight = height
        if entry.penalty > parameters.penaltyMax { entry.bannedHeight = height }
        entries[id] = entry
    }

    /// 16.4: the Merkle root of the leaf hashes in id byte order; zero when empty.
    var root: Hash256 {
        Merkle.root(of: entries.values.sorted { $0.proTxHash.bytes.lexicographicallyPrecedes($1.proTxHash.bytes) }.map(\.leafHash))
    }

    enum ModelError: Error { case unknown }
}
