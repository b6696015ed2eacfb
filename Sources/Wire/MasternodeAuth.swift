import BLAKE3
import Primitives

/// `mnauth`'s body (section 12.3, masternode authentication): a masternode's proof that it
/// holds the operator key of the registration `proTxHash`, over the challenge the receiver
/// sent on this connection.
public struct MasternodeAuth: Sendable, Equatable {
    public var proTxHash: Hash256
    /// Ed25519 by the operator key over `MasternodeAuth.signedDigest(...)`.
    public var signature: [UInt8]

    public static let signatureLength = 64
    public static let encodedLength = 32 + signatureLength
    /// A challenge is 32 fresh random bytes.
    public static let challengeLength = 32

    static let digestKey = DomainKeys.key(purpose: "mnauth")

    public init(proTxHash: Hash256, signature: [UInt8]) {
        self.proTxHash = proTxHash
        self.signature = signature
    }

    /// keyed_hash(K_mnauth, magic || challenge || proTxHash || signer_dialled u8): what the
    /// operator key signs. The challenge is the receiver's fresh one for this connection, so
    /// the signature proves nothing on any other connection; the magic keeps it to one
    /// network; `signerDialled` (1 when the signing side opened the connection) stops a
    /// peer reflecting a signature back the other way, as Dash's `mnauth` does.
    public static func signedDigest(magic: [UInt8], challenge: [UInt8], proTxHash: Hash256, signerDialled: Bool) -> [UInt8] {
        var writer = ByteWriter(capacity: 4 + challengeLength + 32 + 1)
        writer.write(bytes: magic)
        writer.write(bytes: challenge)
        writer.write(proTxHash)
        writer.write(UInt8(signerDialled ? 1 : 0))
        return BLAKE3.keyedHash(key: digestKey, writer.bytes)
    }

    func encode(to writer: inout ByteWriter) {
        writer.write(proTxHash)
        writer.write(bytes: signature)
    }

    static func decode(from reader: inout ByteReader) throws -> MasternodeAuth {
        MasternodeAuth(proTxHash: try reader.readHash("pro_tx_hash"), signature: try reader.readBytes(signatureLength, "signature"))
    }
}
