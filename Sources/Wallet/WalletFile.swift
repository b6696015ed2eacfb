// wallet.dat: the encrypted seed, the public key pool, labels and the transaction history.
//
// Format (version 1): the 8 bytes "RUSTYWLT", a little-endian u32 format version, then one
// UTF-8 JSON document (`WalletDocument`). Only the 32-byte seed is secret: it is sealed with
// ChaCha20-Poly1305 (stored as nonce 12 | ciphertext 32 | tag 16, hex) under a 32-byte key
// from scrypt(passphrase, salt, N = 2^logN, r, p), and the associated data binds the format
// version, network and KDF parameters, so a wrong passphrase or an edited parameter fails
// the tag and never yields a key. Public data (public keys, the next unused index, labels,
// the history, the scanned tip) is plain, as in Bitcoin Core, so a locked wallet can hand
// out addresses and follow the chain. The file is replaced atomically (temporary file,
// fsync, rename) with mode 0600.

import BLAKE3
import Crypto
import _CryptoExtras
import Ed25519
import Foundation
import Primitives

/// Why a wallet operation failed; `description` is the user-facing message.
public enum WalletError: Error, Equatable, Sendable, CustomStringConvertible {
    case alreadyExists(String)
    case notFound(String)
    case corrupt(String)
    case io(String)
    case incorrectPassphrase
    case locked
    case keypoolExhausted
    case insufficientFunds
    case amountTooSmall(String)
    case invalidAmount(String)
    case invalidParameter(String)
    case unknownAddress(String)

    public var description: String {
        switch self {
        case .alreadyExists(let path): return "wallet \(path) already exists"
        case .notFound(let path): return "no wallet at \(path)"
        case .corrupt(let detail): return "wallet file is corrupt: \(detail)"
        case .io(let detail): return "wallet file: \(detail)"
        case .incorrectPassphrase: return "The wallet passphrase entered was incorrect."
        case .locked: return "Error: Please enter the wallet passphrase with walletpassphrase first."
        case .keypoolExhausted: return "Error: Keypool ran out, please call walletpassphrase to refill it first"
        case .insufficientFunds: return "Insufficient funds"
        case .amountTooSmall(let detail): return detail
        case .invalidAmount(let detail): return detail
        case .invalidParameter(let detail): return detail
        case .unknownAddress(let address): return "Address \(address) does not refer to a key of this wallet"
        }
    }
}

/// scrypt's cost parameters (N = 2^logN).
public struct KDFParameters: Codable, Sendable, Equatable {
    public var logN: Int
    public var r: Int
    public var p: Int
    /// N = 2^15, r = 8, p = 1: about 32 MiB and a few tens of milliseconds.
    public static let standard = KDFParameters(logN: 15, r: 8, p: 1)
    /// Cheap parameters for tests.
    public static let testing = KDFParameters(logN: 4, r: 8, p: 1)
    public init(logN: Int, r: Int, p: Int) { self.logN = logN; self.r = r; self.p = p }

    /// Bounds a file's parameters (they come from disk): at most 1 GiB of scrypt memory (128 r N).
    var isSane: Bool {
        (1...20).contains(logN) && (1...32).contains(r) && (1...16).contains(p) && 128 * r << logN <= 1 << 30
    }
}

/// One key of the pool: external keys receive payments, internal ones take change.
struct KeyEntry: Codable, Equatable {
    var index: UInt32
    var `internal`: Bool
    var publicKey: String
}

/// A transaction that pays or spends the wallet, with where it is confirmed.
struct TransactionRecord: Codable {
    var raw: String
    var blockHash: String?
    var blockHeight: UInt64?
    var blockTime: UInt64?
    var blockPosition: Int?
    var receivedAt: UInt64
    /// Created and broadcast by this wallet (its change is trusted while unconfirmed).
    var fromMe: Bool
    var comment: String?
    var commentTo: String?
    /// Set on a send the wallet replaced by fee (bumpfee): the replacement's txid (hex). A
    /// replaced send spends nothing and pays nothing as far as the balance goes.
    var replacedBy: String? = nil
    /// On a replacement: the txid (hex) of the send it replaced.
    var replaces: String? = nil
}

struct WalletDocument: Codable {
    var network: String
    var createdAt: UInt64
    var kdf: KDFParameters
    var salt: String
    var sealedSeed: String
    var keys: [KeyEntry]
    var nextExternal: UInt32
    var nextInternal: UInt32
    var labels: [String: String]
    var scannedHash: String?
    var scannedHeight: UInt64?
    var transactions: [TransactionRecord]
    /// Collateral outpoints ("txid:index") of masternodes the wallet made: kept out of sends.
    var masternodeCollaterals: [String]? = nil
    /// External key indices the wallet made masternode owner keys of.
    var masternodeOwnerKeys: [UInt32]? = nil
    /// Collaterals of the wallet's governance proposals ("txid:index@deadline"): kept out of
    /// sends until the deadline block.
    var governanceCollaterals: [String]? = nil
}

enum WalletFile {
    static let magic = Array("RUSTYWLT".utf8)
    static let formatVersion: UInt32 = 1
    static let fileName = "wallet.dat"
    /// Keys generated ahead of use on each branch, so addresses and change work while locked.
    static let keypoolSize: UInt32 = 100

    static func path(directory: String) -> String { (directory as NSString).appendingPathComponent(fileName) }

    // MARK: Secrets

    /// The key of `index` on a branch: keyed BLAKE3 of the seed over a domain string, the
    /// branch byte (0 external, 1 internal) and the index (u32 LE), as an Ed25519 secret seed.
    static func secretSeed(seed: [UInt8], internal: Bool, index: UInt32) -> [UInt8] {
        var message = Array("RustyCoin v1 wallet key".utf8)
        message.append(`internal` ? 1 : 0)
        withUnsafeBytes(of: index.littleEndian) { message += $0 }
        return BLAKE3.keyedHash(key: seed, message)
    }

    static func signingKey(seed: [UInt8], internal: Bool, index: UInt32) -> Ed25519.SigningKey {
        Ed25519.SigningKey(seed: secretSeed(seed: seed, internal: `internal`, index: index))
    }

    static func associatedData(network: String, kdf: KDFParameters, salt: String) -> [UInt8] {
        Array("RUSTYWLT \(formatVersion) \(network) scrypt \(kdf.logN) \(kdf.r) \(kdf.p) \(salt)".utf8)
    }

    static func encryptionKey(passphrase: String, salt: [UInt8], kdf: KDFParameters) throws(WalletError) -> SymmetricKey {
        guard kdf.isSane else { throw .corrupt("scrypt parameters out of range: logN \(kdf.logN) r \(kdf.r) p \(kdf.p)") }
        do {
            return try KDF.Scrypt.deriveKey(from: Array(passphrase.utf8), salt: salt, outputByteCount: 32,
                                            rounds: 1 << kdf.logN, blockSize: kdf.r, parallelism: kdf.p)
        } catch {
            throw .io("scrypt failed: \(error)")
        }
    }

    static func seal(seed: [UInt8], passphrase: String, network: String, kdf: KDFParameters) throws(WalletError) -> (salt: String, sealed: String) {
        var generator = SystemRandomNumberGenerator()
        let salt = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let saltHex = HexCoding.encode(salt)
        let key = try encryptionKey(passphrase: passphrase, salt: salt, kdf: kdf)
        do {
            let box = try ChaChaPoly.seal(seed, using: key, authenticating: associatedData(network: network, kdf: kdf, salt: saltHex))
            return (saltHex, HexCoding.encode(box.combined))
        } catch {
            throw .io("encryption failed: \(error)")
        }
    }

    /// The seed, or `.incorrectPassphrase` when the tag does not authenticate.
    static func unseal(_ document: WalletDocument, passphrase: String) throws(WalletError) -> [UInt8] {
        guard let salt = HexCoding.decode(document.salt), let combined = HexCoding.decode(document.sealedSeed) else {
            throw .corrupt("salt or sealed seed is not hex")
        }
        let key = try encryptionKey(passphrase: passphrase, salt: salt, kdf: document.kdf)
        let box: ChaChaPoly.SealedBox
        do { box = try ChaChaPoly.SealedBox(combined: combined) } catch { throw .corrupt("sealed seed has \(combined.count) bytes") }
        let seed: [UInt8]
        do {
            seed = Array(try ChaChaPoly.open(box, using: key,
                                             authenticating: associatedData(network: document.network, kdf: document.kdf, salt: document.salt)))
        } catch {
            throw .incorrectPassphrase
        }
        guard seed.count == 32 else { throw .corrupt("seed has \(seed.count) bytes") }
        // Every public key of the pool must come from this seed: the pool is stored in the clear
        // and hands out addresses while the wallet is locked, so an edited key would otherwise
        // receive payments the wallet can never spend (or someone else can).
        for key in document.keys
            where HexCoding.encode(signingKey(seed: seed, internal: key.internal, index: key.index).publicKey) != key.publicKey {
            throw .corrupt("key \(key.internal ? "change" : "receiving") #\(key.index) of the pool does not belong to the sealed seed")
        }
        return seed
    }

    /// A new document: a random seed sealed under `passphrase`, and a full key pool.
    static func create(network: String, passphrase: String, kdf: KDFParameters, now: UInt64) throws(WalletError) -> WalletDocument {
        var generator = SystemRandomNumberGenerator()
        let seed = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let (salt, sealed) = try seal(seed: seed, passphrase: passphrase, network: network, kdf: kdf)
        var document = WalletDocument(network: network, createdAt: now, kdf: kdf, salt: salt, sealedSeed: sealed, keys: [],
                                      nextExternal: 0, nextInternal: 0, labels: [:], scannedHash: nil, scannedHeight: nil,
                                      transactions: [])
        topUp(&document, seed: seed)
        return document
    }

    /// Generates keys until each branch has `keypoolSize` unused ones.
    @discardableResult
    static func topUp(_ document: inout WalletDocument, seed: [UInt8]) -> [KeyEntry] {
        var added = [KeyEntry]()
        for branch in [false, true] {
            let next = branch ? document.nextInternal : document.nextExternal
            let existing = document.keys.filter { $0.internal == branch }.map(\.index).max().map { $0 + 1 } ?? 0
            var index = existing
            while index < next + keypoolSize {
                let entry = KeyEntry(index: index, internal: branch,
                                     publicKey: HexCoding.encode(signingKey(seed: seed, internal: branch, index: index).publicKey))
                document.keys.append(entry)
                added.append(entry)
                index += 1
            }
        }
        return added
    }

    // MARK: Reading and writing

    static func read(path: String) throws(WalletError) -> WalletDocument {
        guard FileManager.default.fileExists(atPath: path) else { throw .notFound(path) }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch { throw .io("cannot read \(path): \(error.localizedDescription)") }
        let bytes = [UInt8](data)
        guard bytes.count >= 12, Array(bytes[0..<8]) == magic else { throw .corrupt("\(path) does not start with RUSTYWLT") }
        let version = UInt32(bytes[8]) | UInt32(bytes[9]) << 8 | UInt32(bytes[10]) << 16 | UInt32(bytes[11]) << 24
        guard version == formatVersion else { throw .corrupt("format version \(version), this build reads \(formatVersion)") }
        do {
            return try JSONDecoder().decode(WalletDocument.self, from: Data(bytes[12...]))
        } catch {
            throw .corrupt("\(path): \(error)")
        }
    }

    static func write(_ document: WalletDocument, path: String) throws(WalletError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let body: Data
        do { body = try encoder.encode(document) } catch { throw .io("cannot encode: \(error)") }
        var bytes = magic
        withUnsafeBytes(of: formatVersion.littleEndian) { bytes += $0 }
        bytes += body
        try writeAtomically(bytes, path: path)
    }

    /// Temporary file (0600), fsync, rename over `path`, fsync the directory.
    static func writeAtomically(_ bytes: [UInt8], path: String) throws(WalletError) {
        let temporary = path + ".tmp"
        unlink(temporary) // a leftover keeps its mode through O_TRUNC
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard descriptor >= 0 else { throw .io("cannot create \(temporary): \(String(cString: strerror(errno)))") }
        var written = 0
        let ok = bytes.withUnsafeBytes { buffer -> Bool in
            while written < buffer.count {
                let result = Foundation.write(descriptor, buffer.baseAddress! + written, buffer.count - written)
                if result < 0 { if errno == EINTR { continue }; return false }
                written += result
            }
            return fsync(descriptor) == 0
        }
        let failure = String(cString: strerror(errno))
        close(descriptor)
        guard ok else { unlink(temporary); throw .io("cannot write \(temporary): \(failure)") }
        guard rename(temporary, path) == 0 else { throw .io("cannot rename \(temporary): \(String(cString: strerror(errno)))") }
        let directory = open((path as NSString).deletingLastPathComponent, O_RDONLY)
        if directory >= 0 { fsync(directory); close(directory) }
    }
}
