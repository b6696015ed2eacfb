import ChainState
import Foundation
@testable import Mempool
import Primitives
import Testing

/// mempool.dat: saved, loaded into a fresh pool over the same chain, and every way a file
/// can be unusable.
@Suite(.serialized)
struct MempoolPersistenceTests {
    static let coinbaseValue: UInt64 = 50_000_000_000

    static func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("rusty-mempool-\(UUID().uuidString).dat").path
    }

    /// A parent, its child, a grandchild and an unrelated spend, entered at distinct times.
    static func fill(_ pool: Mempool, chain: TestChain, clock: NodeClock) throws -> [Transaction] {
        let parent = chain.spend([chain.coinbase(height: 1)], to: [chain.pay(20_000_000_000), chain.pay(coinbaseValue - 20_000_010_000)])
        let child = chain.spend([TestChain.output(parent, 0)], to: [chain.pay(19_999_990_000)])
        let grandchild = chain.spend([TestChain.output(child, 0)], to: [chain.pay(19_999_980_000)])
        let unrelated = chain.spend([chain.coinbase(height: 2)], to: [chain.pay(coinbaseValue - 10_000)])
        var time: UInt64 = 1_000_000
        for transaction in [parent, unrelated, child, grandchild] {
            clock.setMockTime(time)
            #expect(pool.submit(transaction, source: "test").entry != nil)
            time += 100
        }
        return [parent, unrelated, child, grandchild]
    }

    @Test("a saved pool loads into a fresh pool with the same transactions, order and entry times")
    func roundTrip() throws {
        let chain = try TestChain(blocks: 105)
        let clock = NodeClock()
        let pool = Mempool(chain: chain.chain, parameters: chain.parameters, now: { clock.now })
        _ = try Self.fill(pool, chain: chain, clock: clock)
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try pool.save(to: path) == 4)
        let permissions = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(permissions == 0o600)
        #expect(!FileManager.default.fileExists(atPath: path + ".tmp"))

        clock.setMockTime(1_100_000)
        let fresh = Mempool(chain: chain.chain, parameters: chain.parameters, now: { clock.now })
        let report = try fresh.load(from: path)
        #expect(report == MempoolLoadReport(accepted: 4))
        let original = pool.entries(), loaded = fresh.entries()
        #expect(loaded.map(\.txid) == original.map(\.txid))
        #expect(loaded.map(\.time) == [1_000_000, 1_000_100, 1_000_200, 1_000_300])
        #expect(loaded.map(\.time) == original.map(\.time) && loaded.map(\.fee) == original.map(\.fee))
        #expect(fresh.history(txid: original[0].txid).last?.state == .mempool)

        // Loading again finds them all there already.
        #expect(try fresh.load(from: path) == MempoolLoadReport(alreadyPresent: 4))
        // An empty pool saves an empty file that loads nothing.
        let empty = Mempool(chain: chain.chain, parameters: chain.parameters, now: { clock.now })
        #expect(try empty.save(to: path) == 0)
        #expect(try fresh.load(from: path) == MempoolLoadReport())
    }

    @Test("entries older than the expiry are skipped, and what a block made invalid is reported failed")
    func expiredAndInvalid() throws {
        let chain = try TestChain(blocks: 105)
        let clock = NodeClock()
        let pool = Mempool(chain: chain.chain, parameters: chain.parameters, now: { clock.now })
        let transactions = try Self.fill(pool, chain: chain, clock: clock)
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try pool.save(to: path)

        // The expiry counts from each entry's own time: at 1,000,150 + expiry the first two
        // (1,000,000 and 1,000,100) are expired, the child (1,000,200) and grandchild are not,
        // but without their parent they no longer have their inputs.
        let expiry = MempoolPolicy().expirySeconds
        clock.setMockTime(1_000_150 + expiry)
        let late = Mempool(chain: chain.chain, parameters: chain.parameters, now: { clock.now })
        #expect(try late.load(from: path) == MempoolLoadReport(failed: 2, expired: 2))
        #expect(late.count == 0)
        #expect(late.history(txid: transactions[2].txid).last?.detail == "bad-txns-inputs-missingorspent")
        // The pool's own rule: an entry exactly `expiry` old stays, one second older goes
        // (the unrelated spend entered at 1,000,100; its children fail without the parent).
        clock.setMockTime(1_000_100 + expiry)
        let boundary = Mempool(chain: chain.chain, parameters: chain.parameters, now: { clock.now })
        #expect(try boundary.load(from: path) == MempoolLoadReport(accepted: 1, failed: 2, expired: 1))
        #expect(boundary.entries().map(\.txid) == [transactions[1].txid])
        clock.setMockTime(1_000_101 + expiry)
        let past = Mempool(chain: chain.chain, parameters: chain.parameters, now: { clock.now })
        #expect(try past.load(from: path) == MempoolLoadReport(failed: 2, expired: 2))

        // A block spends the parent's coin another way: the parent and its descendants fail.
        clock.setMockTime(1_000_500)
        let conflict = chain.spend([chain.coinbase(height: 1)], to: [chain.pay(Self.coinbaseValue - 50_000)])
        try chain.mine([conflict], fees: Amount(baseUnits: 50_000)!)
        let after = Mempool(chain: chain.chain, parameters: chain.parameters, now: { clock.now })
        #expect(try after.load(from: path) == MempoolLoadReport(accepted: 1, failed: 3))
        #expect(after.entries().map(\.txid) == [transactions[1].txid])
    }

    @Test("a missing file loads nothing and is not an error")
    func missingFile() throws {
        let chain = try TestChain(blocks: 5)
        let pool = Mempool(chain: chain.chain, parameters: chain.parameters)
        #expect(try pool.load(from: Self.temporaryPath()) == MempoolLoadReport())
    }

    @Test("every class of damaged file is refused with its problem named, and nothing is loaded")
    func corruptFiles() throws {
        let chain = try TestChain(blocks: 105)
        let clock = NodeClock()
        let pool = Mempool(chain: chain.chain, parameters: chain.parameters, now: { clock.now })
        _ = try Self.fill(pool, chain: chain, clock: clock)
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try pool.save(to: path)
        let good = try #require(FileManager.default.contents(atPath: path)).map { $0 }

        func resealed(_ body: [UInt8]) -> [UInt8] { body + PoolFiles.checksum(body) }
        let body = Array(good.dropLast(32))
        var badMagic = good
        badMagic[3] ^= 0x20
        var badVersion = good
        badVersion[8] = 2
        var flipped = good
        flipped[good.count / 2] ^= 0x01
        var hugeCount = body
        hugeCount.replaceSubrange(12..<20, with: [0xFF, 0xFF, 0xFF, 0x7F, 0, 0, 0, 0])
        var moreThanThere = body
        moreThanThere[12] += 1 // five entries announced, four present
        var fewer = body
        fewer[12] -= 1 // three announced: bytes left over
        // The first transaction's input count (after its CompactSize length and its version)
        // made an 8-byte CompactSize: far more inputs than its bytes hold.
        var badTransaction = body
        let transactionStart = 20 + 8 + (body[28] < 0xFD ? 1 : 3)
        #expect(badTransaction[transactionStart + 4] == 1)
        badTransaction[transactionStart + 4] = 0xFF
        let cases: [(String, [UInt8], String)] = [
            ("empty", [], "truncated"),
            ("bad magic", badMagic, "bad magic"),
            ("unknown version", badVersion, "unsupported version 2"),
            ("checksum", flipped, "checksum mismatch"),
            ("truncated", Array(good.prefix(good.count - 50)), "checksum mismatch"),
            ("count beyond the file", resealed(hugeCount), "more entries than the file"),
            ("an entry missing", resealed(moreThanThere), "truncated or malformed"),
            ("bytes left over", resealed(fewer), "bytes after the last entry"),
            ("undecodable transaction", resealed(badTransaction), "entry 0"),
        ]
        for (name, bytes, message) in cases {
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let fresh = Mempool(chain: chain.chain, parameters: chain.parameters, now: { clock.now })
            do {
                let report = try fresh.load(from: path)
                Issue.record("\(name): loaded \(report)")
            } catch let error as PoolFileError {
                #expect(error.description.contains(message), "\(name): \(error)")
                #expect(error.path == path)
            }
            #expect(fresh.count == 0, "\(name) loaded transactions")
        }
    }
}
