// The wallet: keys from an encrypted seed (WalletFile.swift), coins found by scanning the
// active chain and followed through tip events, balances, history, and sending.

import ChainState
import Consensus
import Ed25519
import Foundation
import Primitives

/// Balances in base units (bitcoind's `getbalances` "mine" fields).
public struct WalletBalances: Equatable, Sendable {
    /// Confirmed and spendable, plus the change of the wallet's own unconfirmed sends.
    public var trusted: UInt64
    /// Unconfirmed payments from others.
    public var untrustedPending: UInt64
    /// Coinbase outputs not yet mature.
    public var immature: UInt64
}

/// An unspent output of the wallet.
public struct WalletCoin: Equatable, Sendable {
    public var outpoint: OutPoint
    public var output: TxOut
    public var address: Address
    public var label: String?
    /// 0 while unconfirmed.
    public var confirmations: UInt64
    public var isCoinbase: Bool
    /// Spendable now (confirmed and mature, or the change of an own unconfirmed send).
    public var spendable: Bool
    /// Pays one of the wallet's change keys.
    public var isChange: Bool
}

/// One line of `listtransactions`.
public struct WalletTransactionEntry: Equatable, Sendable {
    public enum Category: String, Sendable { case send, receive, generate, immature }
    public var txid: Hash256
    public var category: Category
    public var address: Address?
    public var label: String?
    public var vout: Int
    /// Signed base units: negative for sends.
    public var amount: Int64
    /// Negative, on sends whose every input is the wallet's.
    public var fee: Int64?
    public var confirmations: UInt64
    public var blockHash: Hash256?
    public var blockHeight: UInt64?
    public var blockIndex: Int?
    public var blockTime: UInt64?
    public var time: UInt64
    public var timeReceived: UInt64
    public var comment: String?
    public var commentTo: String?
}

/// What `getwalletinfo` and `rusty wallet info` show.
public struct WalletSummary: Equatable, Sendable {
    public var network: String
    public var path: String
    public var createdAt: UInt64
    public var keypoolSize: Int
    public var keypoolSizeInternal: Int
    public var transactionCount: Int
    /// nil: locked.
    public var unlockedUntil: UInt64?
    public var scannedHeight: UInt64?
    public var scannedHash: Hash256?
    public var kdf: KDFParameters
}

/// A transaction the wallet built, signed and broadcast.
public struct SentTransaction: Sendable {
    public var transaction: Transaction
    public var txid: Hash256
    public var fee: UInt64
    public var recipientValue: UInt64
    public var change: UInt64
}

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

    private let chain: ChainService?
    private let coinbaseMaturity: UInt64
    /// Guards everything below.
    private let lock = NSLock()
    /// One synchronisation (and one send) at a time; taken before `lock`.
    private let syncLock = NSLock()
    private let sendLock = NSLock()
    private var document: WalletDocument
    private var keysByHash: [Hash256: KeyRef] = [:]
    private var publicKeys: [KeyRef: [UInt8]] = [:]
    private var tracked: [Hash256: Tracked] = [:]
    private var spentBy: [OutPoint: Hash256] = [:]
    private var seed: [UInt8]?
    private var unlockedUntil: Date?
    private var dirty = false
    private var followTask: Task<Void, Never>?
    private var syncFailure: String?
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
    private func locked<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    private func index(_ entry: KeyEntry, publicKey: [UInt8]) {
        let ref = KeyRef(internal: entry.internal, index: entry.index)
        keysByHash[StandardScript.keyHash(publicKey)] = ref
        publicKeys[ref] = publicKey
    }

    private func insert(_ item: Tracked) {
        tracked[item.txid] = item
        guard !item.transaction.isCoinbase else { return }
        for input in item.transaction.inputs where isOurs(input.previousOutput) { spentBy[input.previousOutput] = item.txid }
    }

    // MARK: Following the chain

    /// Catches up with the active chain, then follows its tip events until `stop()`.
    public func start() {
        guard let chain else { return }
        let events = chain.tipEvents()
        lock.withLock {
            followTask?.cancel()
            followTask = Task.detached { [weak self] in
                self?.synchronize()
                for await _ in events {
                    guard let self, !Task.isCancelled else { return }
                    self.synchronize()
                }
            }
        }
    }

    /// Stops following the chain and saves.
    public func stop() {
        let task = lock.withLock { defer { followTask = nil }; return followTask }
        task?.cancel()
        syncLock.withLock { lock.withLock { saveIfDirty() } }
    }

    /// Brings the wallet to the chain's current active tip: blocks of a branch that left
    /// the active chain are undone (their transactions dropped, the wallet's own sends kept
    /// as unconfirmed), then every active block above the last scanned one is scanned.
    /// Idempotent; tip events only trigger it.
    public func synchronize() {
        guard let chain else { return }
        syncLock.withLock {
            let snapshot = chain.snapshot
            var height: UInt64 = lock.withLock {
                if let text = document.scannedHash, let hash = Hash256(hex: text), snapshot.activeHeight(of: hash) == nil {
                    // The fork: walk back along the old branch's headers to the active chain.
                    var cursor = hash
                    var fork: UInt64?
                    while let header = snapshot.header(cursor) {
                        if let height = snapshot.activeHeight(of: header.previousHash) { fork = height; break }
                        cursor = header.previousHash
                    }
                    rewind(above: fork)
                    document.scannedHeight = fork
                    document.scannedHash = fork.flatMap { snapshot.hash(atHeight: $0) }?.hex
                    dirty = true
                }
                return document.scannedHeight.map { $0 + 1 } ?? 0
            }
            var failure: String?
            while height <= snapshot.tipHeight {
                guard let hash = snapshot.hash(atHeight: height) else { break }
                let block: Block
                do {
                    guard let bytes = try chain.block(hash) else { failure = "block \(hash) at height \(height) is not stored"; break }
                    block = try Block(decoding: bytes)
                } catch {
                    failure = "block \(hash) at height \(height): \(error)"
                    break
                }
                lock.withLock { apply(block, hash: hash, height: height) }
                height += 1
            }
            lock.withLock {
                syncFailure = failure
                saveIfDirty()
            }
        }
    }

    /// Records the wallet's transactions in an active-chain block (caller holds `lock`).
    private func apply(_ block: Block, hash: Hash256, height: UInt64) {
        // An unconfirmed transaction (ours, or a payment to us back from a reorganisation) whose
        // input this block spends in another transaction can never confirm: drop it.
        let unconfirmed = tracked.values.filter { $0.record.blockHeight == nil }
        if !unconfirmed.isEmpty {
            var spentHere = [OutPoint: Hash256]()
            for transaction in block.transactions.dropFirst() {
                let txid = transaction.txid
                for input in transaction.inputs { spentHere[input.previousOutput] = txid }
            }
            for item in unconfirmed where item.transaction.inputs.contains(where: { spentHere[$0.previousOutput].map { $0 != item.txid } ?? false }) {
                remove(item.txid)
            }
        }
        for (position, transaction) in block.transactions.enumerated() {
            let txid = transaction.txid
            var pays = false
            for output in transaction.outputs {
                guard let ref = owner(output) else { continue }
                pays = true
                // A key beyond the handed-out ones has been used (a restored seed): skip past it.
                if ref.internal, ref.index >= document.nextInternal { document.nextInternal = ref.index + 1 }
                if !ref.internal, ref.index >= document.nextExternal { document.nextExternal = ref.index + 1 }
            }
            let spends = !transaction.isCoinbase && transaction.inputs.contains { isOurs($0.previousOutput) }
            guard pays || spends else { continue }
            if !transaction.isCoinbase {
                // An unconfirmed transaction spending the same coin can never confirm now.
                for input in transaction.inputs {
                    if let other = spentBy[input.previousOutput], other != txid { remove(other) }
                }
            }
            if var existing = tracked[txid] {
                existing.blockHash = hash
                existing.record.blockHash = hash.hex
                existing.record.blockHeight = height
                existing.record.blockTime = block.header.time
                existing.record.blockPosition = position
                tracked[txid] = existing
            } else {
                let record = TransactionRecord(raw: HexCoding.encode(transaction.encoded), blockHash: hash.hex, blockHeight: height,
                                               blockTime: block.header.time, blockPosition: position, receivedAt: block.header.time,
                                               fromMe: spends, comment: nil, commentTo: nil)
                insert(Tracked(transaction: transaction, txid: txid, record: record, blockHash: hash))
            }
        }
        if let seed { WalletFile.topUp(&document, seed: seed).forEach { index($0, publicKey: HexCoding.decode($0.publicKey)!) } }
        document.scannedHash = hash.hex
        document.scannedHeight = height
        dirty = true
    }

    /// Undoes every block above `fork` (nil: all of them): their coinbases are dropped (with
    /// what spends them); every other transaction becomes unconfirmed, as it is back in the
    /// pool (a payment received there stays visible as pending, and the wallet's own sends
    /// spending it keep their change); a later block confirms it again or a conflicting spend
    /// removes it.
    private func rewind(above fork: UInt64?) {
        let undone = tracked.values.filter { item in
            guard let height = item.record.blockHeight else { return false }
            return fork.map { height > $0 } ?? true
        }
        for item in undone where tracked[item.txid] != nil {
            if item.transaction.isCoinbase {
                remove(item.txid)
            } else {
                var kept = item
                kept.blockHash = nil
                kept.record.blockHash = nil; kept.record.blockHeight = nil; kept.record.blockTime = nil; kept.record.blockPosition = nil
                tracked[item.txid] = kept
            }
        }
        // An unconfirmed send survives only while every coin it spends is still the wallet's.
        var changed = true
        while changed {
            changed = false
            for item in tracked.values where item.record.blockHeight == nil && item.record.fromMe {
                if item.transaction.inputs.contains(where: { !isOurs($0.previousOutput) }) { remove(item.txid); changed = true; break }
            }
        }
        dirty = true
    }

    /// Drops a transaction and, recursively, the unconfirmed ones spending its outputs.
    private func remove(_ txid: Hash256) {
        guard let item = tracked.removeValue(forKey: txid) else { return }
        for input in item.transaction.inputs where spentBy[input.previousOutput] == txid { spentBy[input.previousOutput] = nil }
        for index in item.transaction.outputs.indices {
            if let spender = spentBy[OutPoint(txid: txid, index: UInt32(index))] { remove(spender) }
        }
        dirty = true
    }

    private func owner(_ output: TxOut) -> KeyRef? {
        guard let hash = Address.keyHash(lockScript: output.lockScript) else { return nil }
        return keysByHash[hash]
    }

    private func isOurs(_ outpoint: OutPoint) -> Bool {
        guard let item = tracked[outpoint.txid], Int(outpoint.index) < item.transaction.outputs.count else { return false }
        return owner(item.transaction.outputs[Int(outpoint.index)]) != nil
    }

    private func saveIfDirty() {
        guard dirty else { return }
        do {
            try save()
        } catch {
            syncFailure = "cannot save the wallet: \(error)"
        }
    }

    private func save() throws(WalletError) {
        document.transactions = tracked.values.sorted(by: Self.historyOrder).map(\.record)
        try WalletFile.write(document, path: path)
        dirty = false
    }

    /// Chain order, then unconfirmed ones by arrival.
    private static func historyOrder(_ a: Tracked, _ b: Tracked) -> Bool {
        switch (a.record.blockHeight, b.record.blockHeight) {
        case let (x?, y?): return x != y ? x < y : (a.record.blockPosition ?? 0) < (b.record.blockPosition ?? 0)
        case (.some, nil): return true
        case (nil, .some): return false
        case (nil, nil): return a.record.receivedAt != b.record.receivedAt ? a.record.receivedAt < b.record.receivedAt : a.txid < b.txid
        }
    }

    // MARK: Queries

    private var tipHeight: UInt64 { document.scannedHeight ?? 0 }

    private func confirmations(_ item: Tracked) -> UInt64 {
        guard let height = item.record.blockHeight, tipHeight >= height else { return 0 }
        return tipHeight - height + 1
    }

    /// Spendable in the next block: a coinbase needs `coinbaseMaturity` blocks between them.
    private func isMature(_ item: Tracked) -> Bool {
        guard item.transaction.isCoinbase else { return true }
        guard let height = item.record.blockHeight else { return false }
        return tipHeight + 1 - height >= coinbaseMaturity
    }

    private func address(_ ref: KeyRef) -> Address {
        Address(keyHash: StandardScript.keyHash(publicKeys[ref]!), network: network)
    }

    private func allCoins() -> [WalletCoin] {
        var coins = [WalletCoin]()
        for item in tracked.values {
            for (index, output) in item.transaction.outputs.enumerated() {
                let outpoint = OutPoint(txid: item.txid, index: UInt32(index))
                guard let ref = owner(output), spentBy[outpoint] == nil else { continue }
                let confirmations = confirmations(item)
                let spendable = confirmations > 0 ? isMature(item) : item.record.fromMe
                let address = address(ref)
                coins.append(WalletCoin(outpoint: outpoint, output: output, address: address, label: document.labels[address.text],
                                        confirmations: confirmations, isCoinbase: item.transaction.isCoinbase, spendable: spendable,
                                        isChange: ref.internal))
            }
        }
        return coins.sorted { ($0.confirmations, $0.outpoint.txid, $0.outpoint.index) > ($1.confirmations, $1.outpoint.txid, $1.outpoint.index) }
    }

    public var balances: WalletBalances {
        lock.withLock {
            var balances = WalletBalances(trusted: 0, untrustedPending: 0, immature: 0)
            for coin in allCoins() {
                let value = coin.output.value.baseUnits
                if coin.spendable { balances.trusted += value } else if coin.isCoinbase { balances.immature += value } else {
                    balances.untrustedPending += value
                }
            }
            return balances
        }
    }

    /// Unspent, spendable coins with confirmations in the range (bitcoind's listunspent), optionally only to `addresses`.
    public func unspent(minimumConfirmations: UInt64 = 1, maximumConfirmations: UInt64 = 9_999_999,
                        addresses: Set<Address>? = nil) -> [WalletCoin] {
        lock.withLock {
            allCoins().filter { coin in
                coin.spendable && coin.confirmations >= minimumConfirmations && coin.confirmations <= maximumConfirmations
                    && (addresses.map { $0.contains(coin.address) } ?? true)
            }
        }
    }

    /// bitcoind's listtransactions: the most recent `count` entries after skipping `skip`
    /// from the newest, oldest first; `label` nil or "*" for all.
    public func transactions(label: String? = nil, count: Int = 10, skip: Int = 0) -> [WalletTransactionEntry] {
        lock.withLock {
            var entries = [WalletTransactionEntry]()
            for item in tracked.values.sorted(by: Self.historyOrder) { entries += self.entries(item) }
            if let label, label != "*" { entries = entries.filter { $0.label == label } }
            let end = max(0, entries.count - max(0, skip))
            let start = max(0, end - max(0, count))
            return Array(entries[start..<end])
        }
    }

    private func entries(_ item: Tracked) -> [WalletTransactionEntry] {
        let confirmations = confirmations(item)
        func entry(_ category: WalletTransactionEntry.Category, _ vout: Int, _ amount: Int64, _ address: Address?, fee: Int64? = nil) -> WalletTransactionEntry {
            WalletTransactionEntry(txid: item.txid, category: category, address: address, label: address.flatMap { document.labels[$0.text] },
                                   vout: vout, amount: amount, fee: fee, confirmations: confirmations, blockHash: item.blockHash,
                                   blockHeight: item.record.blockHeight, blockIndex: item.record.blockPosition, blockTime: item.record.blockTime,
                                   time: item.record.receivedAt, timeReceived: item.record.receivedAt,
                                   comment: item.record.comment, commentTo: item.record.commentTo)
        }
        var result = [WalletTransactionEntry]()
        if item.record.fromMe {
            // The fee is known when every input is the wallet's.
            var inputTotal: UInt64? = 0
            for input in item.transaction.inputs {
                guard let source = tracked[input.previousOutput.txid], Int(input.previousOutput.index) < source.transaction.outputs.count,
                      owner(source.transaction.outputs[Int(input.previousOutput.index)]) != nil else { inputTotal = nil; break }
                inputTotal = inputTotal.map { $0 + source.transaction.outputs[Int(input.previousOutput.index)].value.baseUnits }
            }
            let outputTotal = item.transaction.outputs.reduce(UInt64(0)) { $0 + $1.value.baseUnits }
            let fee = inputTotal.flatMap { $0 >= outputTotal ? -Int64($0 - outputTotal) : nil }
            for (index, output) in item.transaction.outputs.enumerated() {
                let ref = owner(output)
                if ref?.internal == true { continue } // change
                let address = ref.map(address) ?? Address.from(lockScript: output.lockScript, network: network)
                result.append(entry(.send, index, -Int64(output.value.baseUnits), address, fee: fee))
            }
        }
        for (index, output) in item.transaction.outputs.enumerated() {
            guard let ref = owner(output), !ref.internal else { continue }
            let category: WalletTransactionEntry.Category = item.transaction.isCoinbase ? (isMature(item) ? .generate : .immature) : .receive
            result.append(entry(category, index, Int64(output.value.baseUnits), address(ref)))
        }
        return result
    }

    public var summary: WalletSummary {
        lock.withLock {
            relockIfExpired()
            return WalletSummary(network: network, path: path, createdAt: document.createdAt,
                                 keypoolSize: document.keys.filter { !$0.internal && $0.index >= document.nextExternal }.count,
                                 keypoolSizeInternal: document.keys.filter { $0.internal && $0.index >= document.nextInternal }.count,
                                 transactionCount: tracked.count,
                                 unlockedUntil: unlockedUntil.map { UInt64($0.timeIntervalSince1970) },
                                 scannedHeight: document.scannedHeight, scannedHash: document.scannedHash.flatMap { Hash256(hex: $0) },
                                 kdf: document.kdf)
        }
    }

    /// The wallet's own sends not yet in a block, parents before children: what to submit to
    /// the pool again after a restart (Bitcoin Core rebroadcasts them too).
    public var pendingTransactions: [Transaction] {
        lock.withLock {
            let pending = tracked.values.filter { $0.record.blockHeight == nil && $0.record.fromMe }.sorted(by: Self.historyOrder)
            let byTxid = Dictionary(uniqueKeysWithValues: pending.map { ($0.txid, $0) })
            var emitted = Set<Hash256>()
            var ordered = [Transaction]()
            func visit(_ item: Tracked) {
                guard emitted.insert(item.txid).inserted else { return }
                for input in item.transaction.inputs { if let parent = byTxid[input.previousOutput.txid] { visit(parent) } }
                ordered.append(item.transaction)
            }
            pending.forEach(visit)
            return ordered
        }
    }

    /// Forgets an own send that is in no block (the pool dropped it or never took it), and
    /// its unconfirmed descendants, so its coins can be spent again (bitcoind's
    /// abandontransaction; the caller checks the pool no longer holds it).
    public func abandon(_ txid: Hash256) throws(WalletError) {
        try locked { () throws(WalletError) in
            guard let item = tracked[txid] else { throw .invalidParameter("Invalid or non-wallet transaction id") }
            guard item.record.blockHeight == nil, item.record.fromMe else { throw .invalidParameter("Transaction not eligible for abandonment") }
            remove(txid)
            try save()
        }
    }

    /// Whether `address` is one of the wallet's keys.
    public func owns(_ address: Address) -> Bool { lock.withLock { keysByHash[address.keyHash] != nil } }

    // MARK: Keys

    /// The next unused receiving address (from the pool: works while locked until it runs out).
    public func newAddress(label: String? = nil) throws(WalletError) -> Address {
        try locked { () throws(WalletError) -> Address in
            relockIfExpired()
            if let seed { WalletFile.topUp(&document, seed: seed).forEach { index($0, publicKey: HexCoding.decode($0.publicKey)!) } }
            let ref = KeyRef(internal: false, index: document.nextExternal)
            guard publicKeys[ref] != nil else { throw .keypoolExhausted }
            document.nextExternal += 1
            let address = address(ref)
            if let label { document.labels[address.text] = label }
            try save()
            return address
        }
    }

    public var isLocked: Bool { lock.withLock { relockIfExpired(); return seed == nil } }

    /// Decrypts the seed and keeps it for `seconds` (bitcoind's walletpassphrase); refills the key pool.
    public func unlock(passphrase: String, seconds: UInt64) throws(WalletError) {
        let document = lock.withLock { self.document }
        let seed = try WalletFile.unseal(document, passphrase: passphrase)
        try locked { () throws(WalletError) in
            self.seed = seed
            unlockedUntil = Date(timeIntervalSinceNow: TimeInterval(min(seconds, 100_000_000)))
            let added = WalletFile.topUp(&self.document, seed: seed)
            for entry in added { index(entry, publicKey: HexCoding.decode(entry.publicKey)!) }
            if !added.isEmpty { try save() }
        }
    }

    public func lockNow() { lock.withLock { wipe() } }

    private func relockIfExpired() {
        if let until = unlockedUntil, until <= Date() { wipe() }
    }

    private func wipe() {
        if seed != nil { seed!.withUnsafeMutableBufferPointer { $0.update(repeating: 0) } }
        seed = nil
        unlockedUntil = nil
    }

    /// The Ed25519 secret seed (32 bytes) of one of the wallet's addresses; needs the
    /// passphrase even when unlocked.
    public func exportKey(_ address: Address, passphrase: String) throws(WalletError) -> [UInt8] {
        let (document, ref) = lock.withLock { (self.document, keysByHash[address.keyHash]) }
        let seed = try WalletFile.unseal(document, passphrase: passphrase)
        guard let ref else { throw .unknownAddress(address.text) }
        return WalletFile.secretSeed(seed: seed, internal: ref.internal, index: ref.index)
    }

    /// Whether `passphrase` opens the wallet (without unlocking it).
    public func checkPassphrase(_ passphrase: String) throws(WalletError) {
        let document = lock.withLock { self.document }
        _ = try WalletFile.unseal(document, passphrase: passphrase)
    }

    // MARK: Sending

    /// Builds, signs and hands to `broadcast` a payment of `amount` to `address` at `feeRate`
    /// (base units per 1,000 bytes), then records it. Change goes to a fresh internal key;
    /// the outputs are in random order. Nothing is recorded when `broadcast` throws (its
    /// error is rethrown).
    public func send(to address: Address, amount: Amount, subtractFeeFromAmount: Bool = false, feeRate: UInt64,
                     comment: String? = nil, commentTo: String? = nil,
                     broadcast: (Transaction) throws -> Void) throws -> SentTransaction {
        try sendLock.withLock {
            let (sent, changeIndex) = try locked { () throws(WalletError) in
                try build(to: address, amount: amount, subtractFeeFromAmount: subtractFeeFromAmount, feeRate: feeRate)
            }
            try broadcast(sent.transaction)
            try locked { () throws(WalletError) in
                if let changeIndex, changeIndex >= document.nextInternal { document.nextInternal = changeIndex + 1 }
                let record = TransactionRecord(raw: HexCoding.encode(sent.transaction.encoded), blockHash: nil, blockHeight: nil,
                                               blockTime: nil, blockPosition: nil, receivedAt: UInt64(Date().timeIntervalSince1970),
                                               fromMe: true, comment: comment, commentTo: commentTo)
                if tracked[sent.txid] == nil {
                    insert(Tracked(transaction: sent.transaction, txid: sent.txid, record: record, blockHash: nil))
                }
                try save()
            }
            return sent
        }
    }

    /// The exact encoded size of a P2KH spend with `inputs` inputs, one payment and maybe change.
    static func transactionSize(inputs: Int, withChange: Bool) -> Int {
        let script = [UInt8](repeating: 0, count: 37)
        let outputs = [TxOut](repeating: TxOut(value: .zero, lockScript: script), count: withChange ? 2 : 1)
        let transaction = Transaction(version: 2, inputs: [TxIn](repeating: TxIn(previousOutput: .null), count: inputs), outputs: outputs,
                                      witnesses: [[[UInt8]]](repeating: [[UInt8](repeating: 0, count: Ed25519.signatureLength),
                                                                         [UInt8](repeating: 0, count: Ed25519.publicKeyLength)],
                                                             count: inputs))
        return transaction.encoded.count
    }

    private func build(to address: Address, amount: Amount, subtractFeeFromAmount: Bool,
                       feeRate: UInt64) throws(WalletError) -> (SentTransaction, UInt32?) {
        relockIfExpired()
        guard let seed else { throw .locked }
        guard address.prefix == Address(keyHash: address.keyHash, network: network).prefix else {
            throw .invalidParameter("address \(address.text) is not for \(network)")
        }
        let candidates = allCoins().filter(\.spendable)
        let selection = try CoinSelection.select(values: candidates.map(\.output.value.baseUnits), amount: amount.baseUnits,
                                                 subtractFee: subtractFeeFromAmount, feeRate: feeRate, dust: Self.dustThreshold,
                                                 size: Self.transactionSize)
        guard Self.transactionSize(inputs: selection.inputs.count, withChange: selection.change > 0) <= Self.maxTransactionBytes else {
            throw .invalidParameter("Transaction too large")
        }
        var outputs = [TxOut(value: Amount(baseUnits: selection.recipientValue)!, lockScript: address.lockScript)]
        var changeIndex: UInt32?
        if selection.change > 0 {
            WalletFile.topUp(&document, seed: seed).forEach { index($0, publicKey: HexCoding.decode($0.publicKey)!) }
            let ref = KeyRef(internal: true, index: document.nextInternal)
            outputs.append(TxOut(value: Amount(baseUnits: selection.change)!, lockScript: self.address(ref).lockScript))
            changeIndex = ref.index
        }
        var generator = SystemRandomNumberGenerator()
        outputs.shuffle(using: &generator)
        let spent = selection.inputs.map { candidates[$0] }
        var transaction = Transaction(version: 2, inputs: spent.map { TxIn(previousOutput: $0.outpoint) }, outputs: outputs)
        let txid = transaction.txid
        for (index, coin) in spent.enumerated() {
            guard let ref = keysByHash[coin.address.keyHash] else { throw .corrupt("no key for \(coin.address)") }
            let key = WalletFile.signingKey(seed: seed, internal: ref.internal, index: ref.index)
            let message = Sighash.compute(txid: txid, inputIndex: UInt32(index), spentOutput: coin.output)
            transaction.witnesses[index] = [key.sign(message: message.bytes), key.publicKey]
        }
        return (SentTransaction(transaction: transaction, txid: txid, fee: selection.fee, recipientValue: selection.recipientValue,
                                change: selection.change), changeIndex)
    }
}
