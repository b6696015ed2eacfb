import Consensus
import Ed25519
import Primitives

/// The payload signatures a block's masternode rules left unverified
/// (`MasternodeRules.applyDeferringSignatures`): each key is the one the rule asked for as
/// the list stood at that point of the block (the collateral key in the payload for a
/// registration, the operator or owner key of the entry for the others). The block's
/// connection verifies them in its signature batch, beside the input signatures, instead
/// of one by one on the serial list stage; a failure rejects the block with
/// `RuleName.specialSignature` at `transactions[i]`, as the immediate check would have.
public struct PayloadSignatureChecks: Sendable {
    /// Key lengths are checked when recorded (a wrong length is rejected at once), so
    /// every check fits a `SignatureBatch`.
    public private(set) var checks: [SignatureCheck] = []
    /// The index in the block of the transaction each check belongs to.
    public private(set) var transactions: [Int] = []

    public init() {}

    public var count: Int { checks.count }
    public var isEmpty: Bool { checks.isEmpty }

    public mutating func append(_ check: SignatureCheck, transaction: Int) {
        checks.append(check)
        transactions.append(transaction)
    }

    /// The first check that does not verify, one by one (the rare path: a block already
    /// being rejected for another reason, to name the rule the immediate check would have).
    public func firstFailure() -> Int? {
        checks.firstIndex { !Ed25519.verify(signature: $0.signature, message: $0.message.bytes, publicKey: $0.publicKey) }
    }

    /// The rejection for a check that failed.
    public func rejection(at index: Int) -> Rejection {
        Self.rejection(transaction: transactions[index])
    }

    /// The rejection for a payload signature of the block's transaction `transaction` that failed.
    public static func rejection(transaction: Int) -> Rejection {
        Rejection(.specialSignature, "the special payload is not signed by the key its type names", transaction: transaction)
    }
}

/// Where `MasternodeRules` sends a payload signature: verified at once (the mempool, the
/// block template, the generator) or recorded for the block's batch.
final class PayloadSignatureCollector {
    var collected = PayloadSignatureChecks()
    /// The block index of the transaction being applied.
    var transaction = 0

    /// Records the check; false when the key or signature cannot be a valid one (a wrong
    /// length), which is rejected at once.
    func record(_ payload: some SpecialPayload, publicKey: [UInt8]) -> Bool {
        guard payload.signature.count == SpecialPayloadCodec.signatureLength, publicKey.count == SpecialPayloadCodec.keyLength else {
            return false
        }
        collected.append(SignatureCheck(publicKey: publicKey, signature: payload.signature, message: payload.signingHash),
                         transaction: transaction)
        return true
    }
}
