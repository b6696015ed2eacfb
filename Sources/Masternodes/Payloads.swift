import BLAKE3
import Ed25519
import Primitives

/// A special transaction's typed payload (PROTOCOL section 16.2). Every payload starts with
/// `version u16` (1), binds itself to the transaction's inputs through `inputsHash` (so a
/// signed payload cannot be replayed in another transaction: those inputs can be spent once)
/// and ends with a 64-byte Ed25519 signature over `signingHash`: everything before the
/// signature, keyed by the type.
public protocol SpecialPayload: Sendable, Hashable {
    static var type: SpecialTransactionType { get }
    var inputsHash: Hash256 { get set }
    var signature: [UInt8] { get set }
    /// The fields after `version` and before `inputsHash`.
    func encodeFields(to writer: inout ByteWriter)
    /// Reads the fields `encodeFields` wrote, with `inputsHash` and `signature` left empty.
    static func decodeFields(from reader: inout ByteReader) throws -> Self
}

public enum SpecialPayloadCodec {
    public static let version: UInt16 = 1
    public static let signatureLength = 64
    public static let keyLength = 32
    /// Payout scripts in payloads: at most this many bytes.
    public static let maxPayoutScriptBytes = 100
    static let signingKey = DomainKeys.key(purpose: "special payload")
    static let inputsKey = DomainKeys.key(purpose: "special inputs")

    /// keyed_hash(K_special inputs, the transaction's input outpoints in order).
    public static func inputsHash(of transaction: Transaction) -> Hash256 {
        var writer = ByteWriter(capacity: transaction.inputs.count * OutPoint.encodedLength)
        for input in transaction.inputs { input.previousOutput.encode(to: &writer) }
        return Hash256(bytes: BLAKE3.keyedHash(key: inputsKey, writer.bytes))!
    }
}

extension SpecialPayload {
    /// `version | fields | inputsHash`: what the signature signs (with the type).
    public var unsignedEncoding: [UInt8] {
        var writer = ByteWriter()
        writer.writeUInt16(SpecialPayloadCodec.version)
        encodeFields(to: &writer)
        writer.write(inputsHash)
        return writer.bytes
    }

    public var encoded: [UInt8] { unsignedEncoding + signature }

    /// keyed_hash(K_special payload, type u16 || unsigned encoding).
    public var signingHash: Hash256 {
        var writer = ByteWriter()
        writer.writeUInt16(Self.type.rawValue)
        writer.write(bytes: unsignedEncoding)
        return Hash256(bytes: BLAKE3.keyedHash(key: SpecialPayloadCodec.signingKey, writer.bytes))!
    }

    /// Signs with the key of `seed` (the key the type's rules require).
    public mutating func sign(seed: [UInt8]) {
        signature = Ed25519.sign(message: signingHash.bytes, seed: seed)
    }

    public func signatureVerifies(publicKey: [UInt8]) -> Bool {
        signature.count == SpecialPayloadCodec.signatureLength && publicKey.count == SpecialPayloadCodec.keyLength
            && Ed25519.verify(signature: signature, message: signingHash.bytes, publicKey: publicKey)
    }

    /// Decodes a whole payload; every byte must belong to it.
    public static func decode(payload bytes: [UInt8]) throws -> Self {
        var reader = ByteReader(bytes, path: "payload")
        let version = try reader.readUInt16("version")
        guard version == SpecialPayloadCodec.version else {
            throw reader.invalid("version", at: 0, "payload version \(version), expected \(SpecialPayloadCodec.version)")
        }
        var payload = try decodeFields(from: &reader)
        payload.inputsHash = try reader.readHash("inputs_hash")
        payload.signature = try reader.readBytes(SpecialPayloadCodec.signatureLength, "signature")
        try reader.expectEnd("end")
        return payload
    }

    /// The special transaction carrying this payload.
    public func transaction(inputs: [TxIn], outputs: [TxOut], lockTime: UInt64 = 0) -> Transaction {
        Transaction(special: Self.type, payload: encoded, inputs: inputs, outputs: outputs, lockTime: lockTime)
    }
}

/// `mn-register`: locks a collateral output and names the masternode's keys and service.
/// Signed by the collateral's key (the key whose hash the collateral's pay-to-key-hash
/// script names), so nobody registers someone else's coins.
public struct MasternodeRegisterPayload: SpecialPayload {
    public static let type = SpecialTransactionType.masternodeRegister
    /// The collateral; a null txid means output `index` of this transaction.
    public var collateral: OutPoint
    public var collateralKey: [UInt8]
    public var ownerKey: [UInt8]
    public var operatorKey: [UInt8]
    /// X25519 public key the DKG encrypts shares to.
    public var operatorEncryptionKey: [UInt8]
    public var service: ServiceAddress
    public var payoutScript: [UInt8]
    public var inputsHash: Hash256 = .zero
    public var signature: [UInt8] = []

    public init(collateral: OutPoint, collateralKey: [UInt8], ownerKey: [UInt8], operatorKey: [UInt8], operatorEncryptionKey: [UInt8],
                service: ServiceAddress, payoutScript: [UInt8], inputsHash: Hash256 = .zero, signature: [UInt8] = []) {
        self.collateral = collateral
        self.collateralKey = collateralKey
        self.ownerKey = ownerKey
        self.operatorKey = operatorKey
        self.operatorEncryptionKey = operatorEncryptionKey
        self.service = service
        self.payoutScript = payoutScript
        self.inputsHash = inputsHash
        self.signature = signature
    }

    /// The collateral outpoint once the transaction's id is known.
    public func collateralOutPoint(txid: Hash256) -> OutPoint {
        collateral.txid == .zero ? OutPoint(txid: txid, index: collateral.index) : collateral
    }

    public func encodeFields(to writer: inout ByteWriter) {
        collateral.encode(to: &writer)
        writer.write(bytes: collateralKey)
        writer.write(bytes: ownerKey)
        writer.write(bytes: operatorKey)
        writer.write(bytes: operatorEncryptionKey)
        service.encode(to: &writer)
        writer.writeVarBytes(payoutScript)
    }

    public static func decodeFields(from reader: inout ByteReader) throws -> Self {
        let collateral = try reader.within("collateral") { try OutPoint.decode(from: &$0) }
        let keyLength = SpecialPayloadCodec.keyLength
        return Self(collateral: collateral,
                    collateralKey: try reader.readBytes(keyLength, "collateral_key"),
                    ownerKey: try reader.readBytes(keyLength, "owner_key"),
                    operatorKey: try reader.readBytes(keyLength, "operator_key"),
                    operatorEncryptionKey: try reader.readBytes(keyLength, "operator_encryption_key"),
                    service: try reader.within("service") { try ServiceAddress.decode(from: &$0) },
                    payoutScript: try reader.readVarBytes("payout_script", limit: SpecialPayloadCodec.maxPayoutScriptBytes))
    }
}

/// `mn-update-service`: a new service address, signed by the operator key. It also revives a
/// masternode banned by proof of service.
public struct MasternodeUpdateServicePayload: SpecialPayload {
    public static let type = SpecialTransactionType.masternodeUpdateService
    public var proTxHash: Hash256
    public var service: ServiceAddress
    public var inputsHash: Hash256 = .zero
    public var signature: [UInt8] = []

    public init(proTxHash: Hash256, service: ServiceAddress, inputsHash: Hash256 = .zero, signature: [UInt8] = []) {
        self.proTxHash = proTxHash
        self.service = service
        self.inputsHash = inputsHash
        self.signature = signature
    }

    public func encodeFields(to writer: inout ByteWriter) {
        writer.write(proTxHash)
        service.encode(to: &writer)
    }

    public static func decodeFields(from reader: inout ByteReader) throws -> Self {
        Self(proTxHash: try reader.readHash("pro_tx_hash"), service: try reader.within("service") { try ServiceAddress.decode(from: &$0) })
    }
}

/// `mn-update-registrar` (update keys): new operator keys and payout, signed by the owner key.
public struct MasternodeUpdateRegistrarPayload: SpecialPayload {
    public static let type = SpecialTransactionType.masternodeUpdateRegistrar
    public var proTxHash: Hash256
    public var operatorKey: [UInt8]
    public var operatorEncryptionKey: [UInt8]
    public var payoutScript: [UInt8]
    public var inputsHash: Hash256 = .zero
    public var signature: [UInt8] = []

    public init(proTxHash: Hash256, operatorKey: [UInt8], operatorEncryptionKey: [UInt8], payoutScript: [UInt8],
                inputsHash: Hash256 = .zero, signature: [UInt8] = []) {
        self.proTxHash = proTxHash
        self.operatorKey = operatorKey
        self.operatorEncryptionKey = operatorEncryptionKey
        self.payoutScript = payoutScript
        self.inputsHash = inputsHash
        self.signature = signature
    }

    public func encodeFields(to writer: inout ByteWriter) {
        writer.write(proTxHash)
        writer.write(bytes: operatorKey)
        writer.write(bytes: operatorEncryptionKey)
        writer.writeVarBytes(payoutScript)
    }

    public static func decodeFields(from reader: inout ByteReader) throws -> Self {
        Self(proTxHash: try reader.readHash("pro_tx_hash"),
             operatorKey: try reader.readBytes(SpecialPayloadCodec.keyLength, "operator_key"),
             operatorEncryptionKey: try reader.readBytes(SpecialPayloadCodec.keyLength, "operator_encryption_key"),
             payoutScript: try reader.readVarBytes("payout_script", limit: SpecialPayloadCodec.maxPayoutScriptBytes))
    }
}

/// `mn-revoke`: the operator gives up its role (the operator key is cleared and the
/// masternode stops counting until the owner names a new operator and it updates its service).
public struct MasternodeRevokePayload: SpecialPayload {
    public static let type = SpecialTransactionType.masternodeRevoke
    public var proTxHash: Hash256
    /// 0 unspecified, 1 termination of service, 2 compromised keys, 3 change of keys (Dash's reasons).
    public var reason: UInt16
    public var inputsHash: Hash256 = .zero
    public var signature: [UInt8] = []

    public static let maxReason: UInt16 = 3

    public init(proTxHash: Hash256, reason: UInt16, inputsHash: Hash256 = .zero, signature: [UInt8] = []) {
        self.proTxHash = proTxHash
        self.reason = reason
        self.inputsHash = inputsHash
        self.signature = signature
    }

    public func encodeFields(to writer: inout ByteWriter) {
        writer.write(proTxHash)
        writer.writeUInt16(reason)
    }

    public static func decodeFields(from reader: inout ByteReader) throws -> Self {
        let proTxHash = try reader.readHash("pro_tx_hash")
        let at = reader.offset
        let reason = try reader.readUInt16("reason")
        guard reason <= maxReason else { throw reader.invalid("reason", at: at, "reason \(reason) above \(maxReason)") }
        return Self(proTxHash: proTxHash, reason: reason)
    }
}

extension ByteWriter {
    public mutating func writeUInt16(_ value: UInt16) {
        write(UInt8(value & 0xFF))
        write(UInt8(value >> 8))
    }
}

extension ByteReader {
    public mutating func readUInt16(_ field: String) throws -> UInt16 {
        let bytes = try readBytes(2, field)
        return UInt16(bytes[0]) | UInt16(bytes[1]) << 8
    }
}
