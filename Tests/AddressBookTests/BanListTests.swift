@testable import AddressBook
import Foundation
import TestSupport
import XCTest

final class BanListTests: XCTestCase {
    let now: UInt64 = 1_800_000_000

    func ip(_ text: String) -> [UInt8] { PeerEndpoint(parsing: text, defaultPort: 1)!.ip }
    func subnet(_ text: String) -> Subnet { Subnet(parsing: text)! }

    func temporaryPath(_ name: String) -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("banlist-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir.appendingPathComponent(name).path
    }

    func testSubnetParsing() {
        let valid: [(String, String)] = [
            ("1.2.3.4", "1.2.3.4/32"), ("1.2.3.0/24", "1.2.3.0/24"), ("1.2.3.99/24", "1.2.3.0/24"),
            ("0.0.0.0/0", "0.0.0.0/0"), ("10.0.0.0/8", "10.0.0.0/8"), ("2001:db8::/32", "2001:db8::/32"),
            ("2001:db8::1", "2001:db8::1/128"), ("::/0", "::/0"), ("::ffff:1.2.3.0/120", "1.2.3.0/24"),
        ]
        for (text, expected) in valid {
            XCTAssertEqual(Subnet(parsing: text)?.description, expected, text)
            XCTAssertEqual(Subnet(parsing: expected), Subnet(parsing: text), text)
        }
        for text in ["", "1.2.3.4/33", "1.2.3.4/", "/24", "1.2.3.4/24/1", "1.2.3.4/-1", "2001:db8::/129",
                     "1.2.3.4/2a", "1.2.3.4:8333", "[::1]", "localhost", "garbage", "1.2.3.4/0024"] {
            XCTAssertNil(Subnet(parsing: text), text)
        }
        // Out-of-range prefix lengths given directly are clamped, not trapped on.
        XCTAssertEqual(Subnet(ip: ip("1.2.3.4"), prefixLength: 500).prefixLength, 128)
        XCTAssertEqual(Subnet(ip: ip("1.2.3.4"), prefixLength: -3).prefixLength, 0)
    }

    func testBanExpiryAndSubnetMatching() {
        let bans = BanList()
        bans.ban(ip("8.8.8.8"), until: now + 100, reason: "manual", now: now)
        bans.ban(subnet("1.2.3.0/24"), until: now + 1000, reason: "range", now: now)
        bans.ban(subnet("2001:db8::/32"), until: now + 1000, reason: "v6 range", now: now)
        XCTAssertTrue(bans.isBanned(ip("8.8.8.8"), now: now + 99))
        XCTAssertFalse(bans.isBanned(ip("8.8.8.8"), now: now + 100))
        XCTAssertFalse(bans.isBanned(ip("8.8.8.9"), now: now))
        XCTAssertTrue(bans.isBanned(ip("1.2.3.0"), now: now))
        XCTAssertTrue(bans.isBanned(ip("1.2.3.255"), now: now))
        XCTAssertTrue(bans.isBanned([1, 2, 3, 77], now: now))
        XCTAssertFalse(bans.isBanned(ip("1.2.4.1"), now: now))
        XCTAssertTrue(bans.isBanned(ip("2001:db8:ffff::1"), now: now))
        XCTAssertFalse(bans.isBanned(ip("2001:db9::1"), now: now))
        XCTAssertFalse(bans.isBanned(ip("1.2.3.4"), now: now + 1000))

        XCTAssertEqual(bans.entries(now: now).map(\.subnet), ["8.8.8.8/32", "1.2.3.0/24", "2001:db8::/32"])
        let later = bans.entries(now: now + 500)
        XCTAssertEqual(later.count, 2)
        XCTAssertEqual(bans.count, 2, "listing drops the expired ban")
        XCTAssertEqual(later.first?.reason, "range")
        XCTAssertEqual(later.first?.created, now)
        XCTAssertEqual(later.first?.until, now + 1000)

        XCTAssertTrue(bans.unban(subnet("1.2.3.0/24")))
        XCTAssertFalse(bans.unban(subnet("1.2.3.0/24")))
        XCTAssertFalse(bans.unban(subnet("2001:db8::/48")), "only the exact range")
        XCTAssertFalse(bans.isBanned(ip("1.2.3.4"), now: now))
        bans.clear()
        XCTAssertEqual(bans.count, 0)
        XCTAssertFalse(bans.isBanned(ip("2001:db8::1"), now: now))

        // Re-banning replaces, not duplicates.
        bans.ban(ip("8.8.8.8"), until: now + 10, reason: "a", now: now)
        bans.ban(ip("8.8.8.8"), until: now + 20, reason: "b", now: now)
        XCTAssertEqual(bans.entries(now: now).map(\.reason), ["b"])
        // Reasons are bounded.
        bans.ban(ip("9.9.9.9"), until: now + 20, reason: String(repeating: "x", count: 10_000), now: now)
        XCTAssertEqual(bans.entries(now: now).map(\.reason.count).max(), BanList.maxReasonLength)
    }

    func testBanListIsBoundedDroppingSoonestExpiry() {
        var rng = SeededGenerator(testSeed: 10)
        let bans = BanList(limit: 10)
        var untils = [UInt64]()
        for i in 0..<200 {
            let until = now + UInt64.random(in: 1...1_000_000, using: &rng)
            untils.append(until)
            bans.ban([20, 0, UInt8(i / 256), UInt8(i % 256)], until: until, reason: "", now: now)
            XCTAssertLessThanOrEqual(bans.count, 10)
            // The newest ban always stands.
            XCTAssertTrue(bans.isBanned([20, 0, UInt8(i / 256), UInt8(i % 256)], now: now))
        }
        XCTAssertEqual(bans.count, 10)
        // Increasing expiries: exactly the latest ten survive.
        let ordered = BanList(limit: 10)
        for i in 0..<50 { ordered.ban([30, 0, 0, UInt8(i)], until: now + UInt64(i) + 1, reason: "", now: now) }
        XCTAssertEqual(ordered.entries(now: now).map(\.until), (40..<50).map { now + UInt64($0) + 1 })
        // Expired bans make room before any live one is dropped.
        let sweep = BanList(limit: 2)
        sweep.ban(ip("1.1.1.1"), until: now + 10, reason: "", now: now)
        sweep.ban(ip("2.2.2.2"), until: now + 1000, reason: "", now: now)
        sweep.ban(ip("3.3.3.3"), until: now + 500, reason: "", now: now + 20)
        XCTAssertEqual(sweep.entries(now: now + 20).map(\.subnet), ["3.3.3.3/32", "2.2.2.2/32"])
    }

    func testDiscouragementIsBoundedOldestFirst() {
        let bans = BanList(limit: 10, discourageLimit: 100)
        for i in 0..<250 { bans.discourage([40, 0, UInt8(i / 256), UInt8(i % 256)]) }
        XCTAssertEqual(bans.discouragedCount, 100)
        for i in 0..<250 {
            XCTAssertEqual(bans.isDiscouraged([40, 0, UInt8(i / 256), UInt8(i % 256)]), i >= 150, "\(i)")
        }
        // IPv4 given as 4 bytes or mapped 16 bytes is the same address.
        XCTAssertTrue(bans.isDiscouraged(ip("40.0.0.249")))
        // Discouraging is not banning.
        XCTAssertFalse(bans.isBanned(ip("40.0.0.249"), now: now))
        // Long churn keeps the bound.
        for i in 0..<5000 { bans.discourage([41, UInt8(i / 65536), UInt8((i / 256) % 256), UInt8(i % 256)]) }
        XCTAssertEqual(bans.discouragedCount, 100)
        XCTAssertTrue(bans.isDiscouraged([41, 0, UInt8(4999 / 256), UInt8(4999 % 256)]))
    }

    func testPersistenceRoundTrip() throws {
        var rng = SeededGenerator(testSeed: 11)
        let bans = BanList()
        for i in 0..<100 {
            let target = i % 3 == 0 ? subnet("\(i).\(i).0.0/16") : Subnet(address: rng.bytes(16))
            bans.ban(target, until: now + UInt64.random(in: 1...1_000_000, using: &rng), reason: "reason \(i) \"quoted\"", now: now)
        }
        bans.discourage(ip("5.5.5.5"))
        let path = temporaryPath("banlist")
        try bans.save(to: path)
        let loaded = try BanList.load(from: path, limit: 10_000)
        XCTAssertEqual(loaded.entries(now: now), bans.entries(now: now))
        XCTAssertEqual(loaded.count, 100)
        XCTAssertFalse(loaded.isDiscouraged(ip("5.5.5.5")), "discouragement is not persisted")
        // A smaller limit keeps the latest-expiring bans.
        let small = try BanList.load(from: path, limit: 5)
        XCTAssertEqual(small.entries(now: now), Array(bans.entries(now: now).suffix(5)))
    }

    func testCorruptBanlistGivesClearError() throws {
        let path = temporaryPath("banlist")
        func assertCorrupt(_ text: String, mentions word: String, line: UInt = #line) {
            XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(text.utf8)))
            XCTAssertThrowsError(try BanList.load(from: path), line: line) { error in
                guard let error = error as? AddressBookFileError else { return XCTFail("\(error)", line: line) }
                XCTAssertEqual(error.kind, .corrupt, line: line)
                XCTAssertTrue(error.description.hasPrefix(path), line: line)
                XCTAssertTrue(error.description.contains(word), error.description, line: line)
            }
        }
        assertCorrupt("", mentions: "JSON")
        assertCorrupt("garbage", mentions: "JSON")
        assertCorrupt("{\"version\":1,\"bans\":[", mentions: "JSON")
        assertCorrupt("{\"version\":1}", mentions: "JSON")
        assertCorrupt("{\"version\":7,\"bans\":[]}", mentions: "version 7")
        assertCorrupt("{\"version\":1,\"bans\":[{\"subnet\":\"1.2.3.4/99\",\"created\":1,\"until\":2,\"reason\":\"\"}]}",
                      mentions: "ban 0")
        assertCorrupt("{\"version\":1,\"bans\":[{\"subnet\":\"1.2.3.4\",\"created\":-1,\"until\":2,\"reason\":\"\"}]}",
                      mentions: "JSON")
        var rng = SeededGenerator(testSeed: 12)
        for _ in 0..<100 {
            XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(rng.bytes(Int.random(in: 0...200, using: &rng)))))
            XCTAssertThrowsError(try BanList.load(from: path))
        }
        // Bigger than any valid file of this limit: refused before parsing.
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(repeating: 0x20, count: 200_000)))
        XCTAssertThrowsError(try BanList.load(from: path, limit: 10)) { error in
            XCTAssertTrue("\(error)".contains("larger than"), "\(error)")
        }
        XCTAssertThrowsError(try BanList.load(from: temporaryPath("absent"))) { error in
            XCTAssertEqual((error as? AddressBookFileError)?.kind, .notFound)
        }
    }
}
