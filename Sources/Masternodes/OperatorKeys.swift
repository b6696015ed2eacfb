import Crypto
import Ed25519
import Foundation
import Primitives

/// A masternode operator's secrets: the Ed25519 operator key (signs proof of service,
/// `mn-update-service`, `mn-revoke`, P2P authentication) and the X25519 encryption key (DKG
/// shares are encrypted to it). Stored as a JSON file readable by its owner only:
///
///     {"operator_secret": "<64 hex: Ed25519 seed>", "encryption_secret": "<64 hex: X25519 private key>"}
public struct OperatorKeys: Sendable {
    public let operatorSeed: [UInt8]
    public let encryptionSecret: [UInt8]
    public let operatorKey: [UInt8]
    public let encryptionKey: [UInt8]

    public enum LoadError: Error, CustomStringConvertible {
        case unreadable(path: String, reason: String)
        case malformed(path: String, reason: String)

        public var description: String {
            switch self {
            case let .unreadable(path, reason): return "operator key file \(path): \(reason)"
            case let .malformed(path, reason): return "operator key file \(path): \(reason)"
            }
        }
    }

    public init(operatorSeed: [UInt8], encryptionSecret: [UInt8]) throws {
        guard operatorSeed.count == 32 else { throw LoadError.malformed(path: "", reason: "operator_secret must be 32 bytes") }
        let agreement: Curve25519.KeyAgreement.PrivateKey
        do { agreement = try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: encryptionSecret) } catch {
            throw LoadError.malformed(path: "", reason: "encryption_secret must be a 32-byte X25519 private key")
        }
        self.operatorSeed = operatorSeed
        self.encryptionSecret = encryptionSecret
        operatorKey = Ed25519.publicKey(seed: operatorSeed)
        encryptionKey = Array(agreement.publicKey.rawRepresentation)
    }

    /// Fresh keys from the operating system's CSPRNG.
    public static func generate() -> OperatorKeys {
        var seed = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for index in seed.indices { seed[index] = UInt8.random(in: .min ... .max, using: &generator) }
        let encryption = Array(Curve25519.KeyAgreement.PrivateKey().rawRepresentation)
        return try! OperatorKeys(operatorSeed: seed, encryptionSecret: encryption) // Both lengths are fixed above.
    }

    public func sign(_ message: [UInt8]) -> [UInt8] { Ed25519.sign(message: message, seed: operatorSeed) }

    public var fileContents: String {
        "{\"operator_secret\": \"\(HexCoding.encode(operatorSeed))\", \"encryption_secret\": \"\(HexCoding.encode(encryptionSecret))\"}\n"
    }

    /// Writes the file with mode 0600; refuses to overwrite an existing file.
    public func write(to path: String) throws {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw LoadError.unreadable(path: path, reason: "exists already; not overwriting a key file")
        }
        guard FileManager.default.createFile(atPath: path, contents: Data(fileContents.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw LoadError.unreadable(path: path, reason: "cannot be created")
        }
    }

    public static func load(path: String) throws -> OperatorKeys {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw LoadError.unreadable(path: path, reason: "cannot be read (\(error.localizedDescription))")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw LoadError.malformed(path: path, reason: "not a JSON object")
        }
        func field(_ name: String) throws -> [UInt8] {
            guard let text = object[name] as? String, let bytes = HexCoding.decode(text), bytes.count == 32 else {
                throw LoadError.malformed(path: path, reason: "\(name) must be 64 hex digits")
            }
            return bytes
        }
        do {
            return try OperatorKeys(operatorSeed: try field("operator_secret"), encryptionSecret: try field("encryption_secret"))
        } catch let LoadError.malformed(_, reason) {
            throw LoadError.malformed(path: path, reason: reason)
        }
    }
}
