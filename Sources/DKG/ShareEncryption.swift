import Crypto
import Ed25519
import Foundation
import Primitives

/// f_i(j) sealed to recipient j's X25519 operator encryption key with HPKE (RFC 9180, base
/// mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305). `info` carries the
/// session id and the AAD carries (sender, recipient), so a ciphertext opens only in the run,
/// from the sender and for the recipient it was made for (no replay into another session or
/// to another member).
public struct EncryptedShare: Sendable, Equatable {
    public static let encapsulatedKeyLength = 32
    public static let ciphertextLength = 32 + 16   // scalar + Poly1305 tag
    public static let encodedLength = 2 + encapsulatedKeyLength + ciphertextLength

    public let recipient: UInt16
    public let encapsulatedKey: [UInt8]
    public let ciphertext: [UInt8]

    public init(recipient: UInt16, encapsulatedKey: [UInt8], ciphertext: [UInt8]) {
        self.recipient = recipient
        self.encapsulatedKey = encapsulatedKey
        self.ciphertext = ciphertext
    }
}

enum ShareEncryption {
    static var ciphersuite: HPKE.Ciphersuite { .Curve25519_SHA256_ChachaPoly }
    static let infoLabel = Array("RustyCoin v1 dkg share".utf8)

    enum OpenFailure: Error, Equatable { case undecryptable, notAScalar }

    static func info(session: Hash256) -> Data { Data(infoLabel + session.bytes) }

    static func aad(sender: UInt16, recipient: UInt16) -> Data {
        Data([UInt8(truncatingIfNeeded: sender), UInt8(truncatingIfNeeded: sender >> 8),
              UInt8(truncatingIfNeeded: recipient), UInt8(truncatingIfNeeded: recipient >> 8)])
    }

    static func seal(_ share: Ed25519.Scalar, to recipientKey: [UInt8], session: Hash256,
                     sender: UInt16, recipient: UInt16) throws -> EncryptedShare {
        let key = try Curve25519.KeyAgreement.PublicKey(rawRepresentation: recipientKey)
        var context = try HPKE.Sender(recipientKey: key, ciphersuite: ciphersuite, info: info(session: session))
        let ciphertext = try context.seal(share.bytes, authenticating: aad(sender: sender, recipient: recipient))
        return EncryptedShare(recipient: recipient, encapsulatedKey: Array(context.encapsulatedKey), ciphertext: Array(ciphertext))
    }

    static func open(_ share: EncryptedShare, with key: Curve25519.KeyAgreement.PrivateKey, session: Hash256,
                     sender: UInt16) -> Result<Ed25519.Scalar, OpenFailure> {
        guard var context = try? HPKE.Recipient(privateKey: key, ciphersuite: ciphersuite, info: info(session: session),
                                                encapsulatedKey: Data(share.encapsulatedKey)),
              var plaintext = try? Array(context.open(share.ciphertext, authenticating: aad(sender: sender, recipient: share.recipient)))
        else { return .failure(.undecryptable) }
        defer { Ed25519.wipe(&plaintext) }
        guard let scalar = Ed25519.Scalar(canonical: plaintext) else { return .failure(.notAScalar) }
        return .success(scalar)
    }
}
