// The decoded payload of a special transaction in decoderawtransaction / getrawtransaction /
// getblock answers, under Dash's key names (proRegTx, proUpServTx, proUpRegTx, proUpRevTx, qcTx).

import JSONRPC
import Masternodes
import Primitives
import Quorums

extension ChainJSON {
    /// `type`, `extraPayloadSize`, `extraPayload` and the decoded payload for a special
    /// transaction; an undecodable payload is shown raw with the decoding error.
    static func addSpecialFields(_ transaction: Transaction, to object: inout JSONObject, address: (([UInt8]) -> String?)?) {
        object["type"] = .int(UInt64(transaction.rawSpecialType))
        guard transaction.isSpecial else { return }
        object["extraPayloadSize"] = .int(UInt64(transaction.payload.count))
        object["extraPayload"] = .string(HexCoding.encode(transaction.payload))
        do {
            switch transaction.specialType {
            case .masternodeRegister:
                let p = try MasternodeRegisterPayload.decode(payload: transaction.payload)
                var fields = common(p)
                fields["collateralHash"] = .string(p.collateral.txid.hex)
                fields["collateralIndex"] = .int(UInt64(p.collateral.index))
                fields["collateralKey"] = .string(HexCoding.encode(p.collateralKey))
                fields["ownerKey"] = .string(HexCoding.encode(p.ownerKey))
                fields["operatorKey"] = .string(HexCoding.encode(p.operatorKey))
                fields["operatorEncryptionKey"] = .string(HexCoding.encode(p.operatorEncryptionKey))
                fields["service"] = .string(p.service.description)
                fields["payoutScript"] = scriptPubKey(p.payoutScript, address: address)
                object["proRegTx"] = .object(fields)
            case .masternodeUpdateService:
                let p = try MasternodeUpdateServicePayload.decode(payload: transaction.payload)
                var fields = common(p)
                fields["proTxHash"] = .string(p.proTxHash.hex)
                fields["service"] = .string(p.service.description)
                object["proUpServTx"] = .object(fields)
            case .masternodeUpdateRegistrar:
                let p = try MasternodeUpdateRegistrarPayload.decode(payload: transaction.payload)
                var fields = common(p)
                fields["proTxHash"] = .string(p.proTxHash.hex)
                fields["operatorKey"] = .string(HexCoding.encode(p.operatorKey))
                fields["operatorEncryptionKey"] = .string(HexCoding.encode(p.operatorEncryptionKey))
                fields["payoutScript"] = scriptPubKey(p.payoutScript, address: address)
                object["proUpRegTx"] = .object(fields)
            case .masternodeRevoke:
                let p = try MasternodeRevokePayload.decode(payload: transaction.payload)
                var fields = common(p)
                fields["proTxHash"] = .string(p.proTxHash.hex)
                fields["reason"] = .int(UInt64(p.reason))
                object["proUpRevTx"] = .object(fields)
            case .quorumCommitment:
                let p = try QuorumCommitmentPayload(transaction: transaction)
                object["qcTx"] = .object([
                    "version": .int(UInt64(QuorumCommitmentPayload.version)), "quorumType": .int(UInt64(p.quorumType.rawValue)),
                    "quorumHash": .string(p.quorumHash.hex), "quorumHeight": .int(p.quorumHeight),
                    "validMembers": .array(p.validMembers.setIndices.map { .int(UInt64($0)) }), "groupKey": .string(HexCoding.encode(p.groupKey)),
                    "verificationVectorHash": .string(p.verificationVectorHash.hex),
                    "signers": .array(p.signers.setIndices.map { .int(UInt64($0)) }), "isNull": .bool(p.isNull),
                ])
            case .governanceProposal, .governanceVote:
                break  // the governance payloads' JSON belongs to the governance RPC (PROTOCOL section 18)
            case nil:
                object["payloadError"] = .string("unknown special type \(transaction.rawSpecialType)")
            }
        } catch {
            object["payloadError"] = .string("\(error)")
        }
    }

    private static func common(_ payload: some SpecialPayload) -> JSONObject {
        ["version": .int(UInt64(SpecialPayloadCodec.version)), "inputsHash": .string(payload.inputsHash.hex),
         "signature": .string(HexCoding.encode(payload.signature))]
    }
}
