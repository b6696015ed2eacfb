// The wallet: its state, creating and opening it. Keys come from an encrypted seed
// (WalletFile.swift); following the chain, queries, and keys and sending are in the
// Wallet+*.swift files; the public result types in WalletTypes.swift.

import ChainState
import Consensus
import Ed25519
import Foundation
import Primitives

public final class Wallet: @unchecked Sendable {
    public let network: String
    /// `<directory>/wallet.dat`.
    public let path: String
    /// Bitcoin Core's dust limit for the smallest output the pool relays.
    public static let dustThreshold: UInt64 = 546
    /// Bitcoin Core's standard size limit: larger transactions are not relayed.
    public static let maxTransactionBytes = 100_000

    struct KeyRef: Hashable { var `internal`: Bool; var index: UInt32 }

    struct Tracked {
        var transaction: Transaction
        var txid: Hash256
        var record: TransactionRecord
        var blockHash: Hash256?
    }

    let chain: ChainService?
    let coinbaseMaturity: UInt64
    /// Guards everything below.
    let lock = NSLock()
    /// One synchronisation (and one send) at a time; taken before `lock`.
    let syncLock = NSLock()
    let sendLock = NSLock()
    var document: WalletDocument
    var keysByHash: [Hash256: KeyRef] = [:]
    var publicKeys: [KeyRef: [UInt8]] = [:]
    var tracked: [Hash256: Tracked] = [:]
    var spentBy: [OutPoint: Hash256] = [:]
    var seed: [UInt8]?
    var unlockedUntil: Date?
    var dirty = false
    var followTask: Task<Void, Never>?
    var syncFailure: String?
    /// The last failure to read the chain or save while synchronising (nil when the last one worked).
    public var lastSyncError: String? { lock.withLock { syncFailure } }

    // MARK: Creating and opening

    public static func exists(directory: String) -> Bool { FileManager.default.fileExists(atPath: WalletFile.path(directory: directory)) }

    /// Writes a new wallet (a random seed sealed under `passphrase`, a full key pool);
    /// refuses to overwrite one. `directory` is `<datadir>/<network>` and is created.
    @discardableResult
    public static func create(directory: String, network: String, passphrase: String,
                              kdf: KDFParameters = .standard) throws(WalletError) -> WalletSummary {
        let path = WalletFile.path(directory: directory)
        guard !FileManager.default.fileExists(atPath: path) else { throw .alreadyExists(path) }
        guard !passphrase.isEmpty else { throw .invalidParameter("the passphrase must not be empty") }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .io("cannot create \(directory): \(error.localizedDescription)")
        }
        let document = try WalletFile.create(network: network, passphrase: passphrase, kdf: kdf, now: UInt64(Date().timeIntervalSince1970))
        try WalletFile.write(document, path: path)
        return try Wallet(document: document, path: path, chain: nil, coinbaseMaturity: 0).summary
    }

    /// The wallet in `directory` without a chain (for `rusty wallet info` / `address`).
    public static func openOffline(directory: String, network: String) throws(WalletError) -> Wallet {
        let path = WalletFile.path(directory: directory)
        return try Wallet(document: try WalletFile.read(path: path), path: path, chain: nil, coinbaseMaturity: 0, network: network)
    }

    /// The node's wallet: nil when `directory` has none. Call `start()` to follow the chain.
    public static func openIfPresent(directory: String, network: String, chain: ChainService) throws(WalletError) -> Wallet? {
        guard exists(directory: directory) else { return nil }
        return try open(directory: directory, network: network, chain: chain)
    }

    public static func open(directory: String, network: String, chain: ChainService) throws(WalletError) -> Wallet {
        let path = WalletFile.path(directory: directory)
        let maturity = chain.withWriter { $0.parameters.coinbaseMaturity }
        return try Wallet(document: try WalletFile.read(path: path), path: path, chain: chain, coinbaseMaturity: maturity, network: network)
    }

    private init(document: WalletDocument, path: String, chain: ChainService?, coinbaseMaturity: UInt64,
                 network: String? = nil) throws(WalletError) {
        if let network, network != document.network {
            throw .corrupt("\(path) belongs to network \(document.network), not \(network)")
        }
        self.network = document.network
        self.path = path
        self.chain = chain
        self.coinbaseMaturity = coinbaseMaturity
        self.document = document
        // Indices come from disk: bounded so that no index arithmetic can overflow.
        let maxIndex: UInt32 = 1 << 31
        guard document.nextExternal < maxIndex, document.nextInternal < maxIndex else { throw .corrupt("key index out of range") }
        for entry in document.keys {
            guard entry.index < maxIndex else { throw .corrupt("key index \(entry.index) out of range") }
            guard let publicKey = HexCoding.decode(entry.publicKey), publicKey.count == Ed25519.publicKeyLength else {
                throw .corrupt("public key \(entry.index) is not 32 bytes of hex")
            }
            index(entry, publicKey: publicKey)
        }
        for record in document.transactions {
            guard let raw = HexCoding.decode(record.raw), let transaction = try? Transaction(decoding: raw) else {
                throw .corrupt("a stored transaction does not decode")
            }
            let blockHash = try record.blockHash.map { text throws(WalletError) -> Hash256 in
                guard let hash = Hash256(hex: text) else { throw .corrupt("block hash \(text)") }
                return hash
            }
            insert(Tracked(transaction: transaction, txid: transaction.txid, record: record, blockHash: blockHash))
        }
        if let text = document.scannedHash, Hash256(hex: text) == nil { throw .corrupt("scanned tip \(text)") }
    }

    /// `lock.withLock` for bodies with typed throws (NSLock's is untyped `rethrows`).
    func locked<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    func index(_ entry: KeyEntry, publicKey: [UInt8]) {
        let ref = KeyRef(internal: entry.internal, index: entry.index)
        keysByHash[StandardScript.keyHash(publicKey)] = ref
        publicKeys[ref] = publicKey
    }

    func insert(_ item: Tracked) {
        tracked[item.txid] = item
        guard !item.transaction.isCoinbase, item.record.replacedBy == nil else { return }
        for input in item.transaction.inputs where isOurs(input.previousOutput) { spentBy[input.previousOutput] = item.txid }
    }
}
