@testable import AddressBook
import Foundation
import TestSupport
import XCTest

/// Random public IPv4 addresses (first octets outside every special range).
func randomRoutable(_ rng: inout SeededGenerator, port: UInt16 = 8333) -> PeerEndpoint {
    let firsts: [UInt8] = [1, 2, 3, 5, 8, 12, 24, 31, 37, 45, 51, 62, 77, 81, 88, 91, 104, 109, 141, 151, 176, 185, 193, 212, 217]
    return PeerEndpoint(ip: [firsts.randomElement(using: &rng)!] + rng.bytes(3), port: port)
}

func announced(_ endpoints: [PeerEndpoint], time: UInt64, services: UInt64 = 1)
    -> [(endpoint: PeerEndpoint, services: UInt64, time: UInt64)] {
    endpoints.map { (endpoint: $0, services: services, time: time) }
}

final class AddressManagerTests: XCTestCase {
    let now: UInt64 = 1_800_000_000
    var key: [UInt8] { (0..<32).map { UInt8($0) } }

    func ep(_ text: String) -> PeerEndpoint { PeerEndpoint(parsing: text, defaultPort: 8333)! }

    func temporaryPath(_ name: String) -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("addrbook-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir.appendingPathComponent(name).path
    }

    func testAddSelectAndMarkGoodMovesToTried() throws {
        var rng = SeededGenerator(testSeed: 1)
        let book = AddressManager(key: key, allowNonRoutable: false)
        let addresses = (0..<10).map { PeerEndpoint(ip: [8, UInt8($0), 8, 1], port: 8333) }
        XCTAssertEqual(book.add(announced(addresses, time: now - 100), source: ep("1.1.1.1"), now: now), 10)
        XCTAssertEqual(book.count, 10)
        XCTAssertEqual(book.newCount, 10)
        XCTAssertEqual(book.triedCount, 0)
        // Known already: not added twice.
        XCTAssertEqual(book.add(announced(addresses, time: now), source: ep("2.2.2.2"), now: now), 0)
        XCTAssertEqual(book.count, 10)

        let chosen = try XCTUnwrap(book.select(now: now, using: &rng))
        XCTAssertTrue(addresses.contains(chosen.endpoint))
        XCTAssertEqual(chosen.source, ep("1.1.1.1"))
        XCTAssertEqual(chosen.services, 1)

        book.markAttempt(chosen.endpoint, now: now)
        XCTAssertEqual(book.info(chosen.endpoint)?.attempts, 1)
        XCTAssertEqual(book.info(chosen.endpoint)?.lastTry, now)
        book.markGood(chosen.endpoint, now: now + 1)
        XCTAssertEqual(book.triedCount, 1)
        XCTAssertEqual(book.newCount, 9)
        XCTAssertEqual(book.isTried(chosen.endpoint), true)
        let info = try XCTUnwrap(book.info(chosen.endpoint))
        XCTAssertEqual(info.lastSuccess, now + 1)
        XCTAssertEqual(info.attempts, 0)
        // Idempotent.
        book.markGood(chosen.endpoint, now: now + 2)
        XCTAssertEqual(book.triedCount, 1)
        XCTAssertEqual(book.count, 10)
        // Unknown addresses are ignored.
        book.markGood(ep("9.9.9.9"), now: now)
        book.markAttempt(ep("9.9.9.9"), now: now)
        XCTAssertFalse(book.contains(ep("9.9.9.9")))
        XCTAssertEqual(book.count, 10)
    }

    func testRefusesNonRoutableUnlessAllowedAndClampsFutureTimes() throws {
        let local = [ep("127.0.0.1:18444"), ep("10.0.0.1"), ep("192.168.1.2")]
        let mainnet = AddressManager(key: key, allowNonRoutable: false)
        XCTAssertEqual(mainnet.add(announced(local, time: now), source: ep("1.1.1.1"), now: now), 0)
        XCTAssertEqual(mainnet.count, 0)
        let regtest = AddressManager(key: key, allowNonRoutable: true)
        XCTAssertEqual(regtest.add(announced(local, time: now), source: ep("127.0.0.1:1"), now: now), 3)
        // Never: the unspecified address and port 0.
        let never = [PeerEndpoint(ip: [0, 0, 0, 0], port: 1), PeerEndpoint(ip: [UInt8](repeating: 0, count: 16), port: 1),
                     PeerEndpoint(ip: [8, 8, 8, 8], port: 0)]
        XCTAssertEqual(regtest.add(announced(never, time: now), source: ep("127.0.0.1:1"), now: now), 0)

        let future = ep("8.8.4.4")
        XCTAssertEqual(mainnet.add(announced([future], time: now + 1_000_000), source: ep("1.1.1.1"), now: now), 1)
        let time = try XCTUnwrap(mainnet.info(future)?.time)
        XCTAssertLessThanOrEqual(time, now)
        XCTAssertGreaterThan(time, now - 6 * 86_400)
        // A slightly-ahead clock is tolerated as is.
        mainnet.add(announced([ep("8.8.4.5")], time: now + 300), source: ep("1.1.1.1"), now: now)
        XCTAssertEqual(mainnet.info(ep("8.8.4.5"))?.time, now + 300)
    }

    func testOneSourceFloodFillsOnlyItsBucketShare() throws {
        var rng = SeededGenerator(testSeed: 2)
        let limits = AddressManager.Limits()
        let book = AddressManager(key: key, allowNonRoutable: false)
        let attacker = ep("66.66.1.1")
        var flood = [PeerEndpoint]()
        for _ in 0..<100_000 { flood.append(randomRoutable(&rng)) }
        for chunk in stride(from: 0, to: flood.count, by: 1000) {
            book.add(announced(Array(flood[chunk..<chunk + 1000]), time: now), source: attacker, now: now)
        }
        let share = limits.newBucketsPerSourceGroup * limits.bucketSize
        XCTAssertLessThanOrEqual(book.count, share)
        XCTAssertGreaterThan(book.count, share / 2, "the flood should fill a good part of its own share")
        let buckets = Set(book.allEntries().map { book.newBucket($0.info.endpoint, source: attacker) })
        XCTAssertLessThanOrEqual(buckets.count, limits.newBucketsPerSourceGroup)
        // Another peer in the attacker's /16 is the same source group: still no more room.
        let before = book.count
        var more = [PeerEndpoint]()
        for _ in 0..<20_000 { more.append(randomRoutable(&rng)) }
        book.add(announced(more, time: now), source: ep("66.66.200.9"), now: now)
        XCTAssertLessThanOrEqual(book.count, share)
        XCTAssertLessThanOrEqual(book.count - before, share - before)

        // Honest peers from other groups still get their addresses in.
        var honest = 0, offered = 0
        for s in 0..<200 {
            let source = PeerEndpoint(ip: [90, UInt8(s), 1, 1], port: 8333)
            let addresses = (0..<5).map { _ in randomRoutable(&rng) }
            offered += addresses.count
            honest += book.add(announced(addresses, time: now), source: source, now: now)
        }
        XCTAssertGreaterThan(Double(honest), 0.85 * Double(offered), "\(honest) of \(offered)")
    }

    func testSelectNeverReturnsAnExcludedGroup() throws {
        var rng = SeededGenerator(testSeed: 3)
        let book = AddressManager(key: key, allowNonRoutable: false)
        var groups = Set<[UInt8]>()
        for g in 0..<20 {
            let addresses = (0..<10).map { PeerEndpoint(ip: [50, UInt8(g), UInt8($0), 7], port: 8333) }
            groups.insert(addresses[0].networkGroup(localIsDistinct: false))
            book.add(announced(addresses, time: now), source: PeerEndpoint(ip: [60, UInt8(g), 0, 1], port: 1), now: now)
        }
        for (i, address) in book.allEntries().enumerated() where i % 3 == 0 { book.markGood(address.info.endpoint, now: now) }
        XCTAssertGreaterThan(book.triedCount, 0)
        let allowed = PeerEndpoint(ip: [50, 7, 0, 0], port: 1).networkGroup(localIsDistinct: false)
        var excluded = groups
        excluded.remove(allowed)
        for _ in 0..<300 {
            let chosen = try XCTUnwrap(book.select(excludingGroups: excluded, now: now + 3600, using: &rng))
            XCTAssertEqual(chosen.endpoint.networkGroup(localIsDistinct: false), allowed)
        }
        XCTAssertNil(book.select(excludingGroups: groups, now: now + 3600, using: &rng))
        // The accept filter (banned, discouraged) is honoured the same way.
        XCTAssertNil(book.select(now: now + 3600, using: &rng, accept: { _ in false }))
        // Groups one at a time, as the outbound loop does: every pick is a new group.
        var used = Set<[UInt8]>()
        while let pick = book.select(excludingGroups: used, now: now + 3600, using: &rng) {
            XCTAssertTrue(used.insert(pick.endpoint.networkGroup(localIsDistinct: false)).inserted)
        }
        XCTAssertEqual(used, groups)
    }

    func testSelectSkipsRecentlyTriedAndPrefersFewerFailures() throws {
        var rng = SeededGenerator(testSeed: 4)
        let book = AddressManager(key: key, allowNonRoutable: false)
        let only = ep("8.8.8.8")
        book.add(announced([only], time: now), source: ep("1.1.1.1"), now: now)
        book.markAttempt(only, now: now)
        XCTAssertNil(book.select(now: now + 30, using: &rng))
        XCTAssertEqual(book.select(now: now + 61, using: &rng)?.endpoint, only)

        // Two addresses, one failed 8 times: the other is chosen far more often.
        let good = ep("9.9.9.9")
        book.add(announced([good], time: now), source: ep("1.1.1.1"), now: now)
        for _ in 0..<7 { book.markAttempt(only, now: now) }
        var goodPicks = 0
        for _ in 0..<400 where book.select(now: now + 7200, using: &rng)?.endpoint == good { goodPicks += 1 }
        XCTAssertGreaterThan(goodPicks, 300)
    }

    func testTriedAndNewBothChosen() throws {
        var rng = SeededGenerator(testSeed: 5)
        let book = AddressManager(key: key, allowNonRoutable: false)
        let addresses = (0..<200).map { _ in randomRoutable(&rng) }
        book.add(announced(addresses, time: now), source: ep("1.1.1.1"), now: now)
        let good = try XCTUnwrap(book.allEntries().first).info.endpoint
        book.markGood(good, now: now)
        XCTAssertEqual(book.triedCount, 1)
        XCTAssertGreaterThan(book.newCount, 150)
        // One tried among ~199 new, yet picked about half the time (tables chosen 50/50).
        var triedPicks = 0
        for _ in 0..<400 where book.select(now: now + 7200, using: &rng)?.endpoint == good { triedPicks += 1 }
        XCTAssertGreaterThan(triedPicks, 120)
        XCTAssertLessThan(triedPicks, 280)
    }

    func testTriedCollisionSendsTheOldEntryBackToNew() throws {
        let limits = AddressManager.Limits(newBuckets: 256, triedBuckets: 1, bucketSize: 1, newBucketsPerSourceGroup: 64)
        let book = AddressManager(key: key, allowNonRoutable: false, limits: limits)
        let a = ep("8.8.8.8"), b = ep("9.9.9.9")
        book.add(announced([a], time: now), source: ep("1.1.1.1"), now: now)
        book.add(announced([b], time: now), source: ep("2.2.2.2"), now: now)
        XCTAssertEqual(book.count, 2)
        book.markGood(a, now: now)
        XCTAssertEqual(book.isTried(a), true)
        book.markGood(b, now: now + 1)
        XCTAssertEqual(book.isTried(b), true)
        XCTAssertEqual(book.isTried(a), false, "the evicted tried entry goes back to new")
        XCTAssertEqual(book.triedCount, 1)
        XCTAssertEqual(book.count, 2)
        XCTAssertEqual(book.info(a)?.lastSuccess, now, "its history goes with it")
    }

    func testCollidingNewSlotKeepsTheBetterEntry() throws {
        // One slot: every address collides.
        let limits = AddressManager.Limits(newBuckets: 1, triedBuckets: 1, bucketSize: 1, newBucketsPerSourceGroup: 1)
        let book = AddressManager(key: key, allowNonRoutable: false, limits: limits)
        let fresh = ep("8.8.8.8")
        XCTAssertEqual(book.add(announced([fresh], time: now), source: ep("1.1.1.1"), now: now), 1)
        XCTAssertEqual(book.add(announced([ep("9.9.9.9")], time: now), source: ep("1.1.1.1"), now: now), 0)
        XCTAssertTrue(book.contains(fresh))
        // Once terrible (failed 3 times without success), a newcomer takes the slot.
        for _ in 0..<3 { book.markAttempt(fresh, now: now) }
        XCTAssertEqual(book.add(announced([ep("9.9.9.9")], time: now + 120), source: ep("1.1.1.1"), now: now + 120), 1)
        XCTAssertFalse(book.contains(fresh))
        XCTAssertEqual(book.count, 1)
        // So does an entry older than maxAge.
        let old = AddressManager(key: key, allowNonRoutable: false, limits: limits)
        old.add(announced([fresh], time: now - 31 * 86_400), source: ep("1.1.1.1"), now: now)
        XCTAssertEqual(old.add(announced([ep("9.9.9.9")], time: now), source: ep("1.1.1.1"), now: now), 1)
        XCTAssertFalse(old.contains(fresh))
    }

    func testTableSizesBoundedUnderRandomFloods() throws {
        var rng = SeededGenerator(testSeed: 6)
        let limits = AddressManager.Limits(newBuckets: 8, triedBuckets: 4, bucketSize: 4, newBucketsPerSourceGroup: 2)
        let book = AddressManager(key: key, allowNonRoutable: false, limits: limits)
        for round in 0..<300 {
            let source = randomRoutable(&rng)
            let addresses = (0..<Int.random(in: 1...60, using: &rng)).map { _ in randomRoutable(&rng) }
            book.add(announced(addresses, time: now - UInt64.random(in: 0...(40 * 86_400), using: &rng)),
                     source: source, now: now + UInt64(round))
            if let pick = book.allEntries().randomElement(using: &rng) {
                if Bool.random(using: &rng) { book.markGood(pick.info.endpoint, now: now + UInt64(round)) }
                else { book.markAttempt(pick.info.endpoint, now: now + UInt64(round)) }
            }
            XCTAssertLessThanOrEqual(book.newCount, 8 * 4)
            XCTAssertLessThanOrEqual(book.triedCount, 4 * 4)
            XCTAssertEqual(book.count, book.newCount + book.triedCount)
            let known = book.allEntries()
            XCTAssertEqual(known.count, book.count)
            XCTAssertEqual(known.filter(\.tried).count, book.triedCount)
        }
        XCTAssertGreaterThan(book.newCount, 16)
        XCTAssertGreaterThan(book.triedCount, 8)
    }

    func testDegenerateLimitsAreClampedNotTrapped() {
        let limits = AddressManager.Limits(newBuckets: 0, triedBuckets: -5, bucketSize: 0, newBucketsPerSourceGroup: 0)
        XCTAssertEqual(limits.newBuckets, 1)
        XCTAssertEqual(limits.triedBuckets, 1)
        XCTAssertEqual(limits.bucketSize, 1)
        XCTAssertEqual(limits.newBucketsPerSourceGroup, 1)
        XCTAssertEqual(AddressManager.Limits(newBuckets: 4, newBucketsPerSourceGroup: 64).newBucketsPerSourceGroup, 4)
        let book = AddressManager(key: [1, 2, 3], allowNonRoutable: false, limits: limits)
        book.add(announced([ep("8.8.8.8"), ep("9.9.9.9")], time: now), source: ep("1.1.1.1"), now: now)
        XCTAssertEqual(book.count, 1)
        book.markGood(ep("8.8.8.8"), now: now)
        book.markGood(ep("9.9.9.9"), now: now)
        XCTAssertLessThanOrEqual(book.count, 2)
    }

    func testConcurrentUseIsSafe() {
        let book = AddressManager(key: key, allowNonRoutable: false)
        let now = self.now
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            var rng = SeededGenerator(seed: UInt64(worker))
            for _ in 0..<300 {
                let addresses = (0..<5).map { _ in randomRoutable(&rng) }
                book.add(announced(addresses, time: now), source: randomRoutable(&rng), now: now)
                if let pick = book.select(now: now, using: &rng) {
                    if Bool.random(using: &rng) { book.markGood(pick.endpoint, now: now) }
                    else { book.markAttempt(pick.endpoint, now: now) }
                }
                _ = book.sample(max: 100, using: &rng)
            }
        }
        XCTAssertEqual(book.count, book.newCount + book.triedCount)
        XCTAssertEqual(book.allEntries().count, book.count)
        XCTAssertGreaterThan(book.count, 5000)
    }

    func testSampleIsBoundedRandomAndKnown() throws {
        var rng = SeededGenerator(testSeed: 7)
        let book = AddressManager(key: key, allowNonRoutable: false)
        let addresses = (0..<1000).map { _ in randomRoutable(&rng) }
        for chunk in stride(from: 0, to: 1000, by: 100) {
            book.add(announced(Array(addresses[chunk..<chunk + 100]), time: now),
                     source: PeerEndpoint(ip: [30, UInt8(chunk / 100), 0, 1], port: 1), now: now)
        }
        let known = book.count
        XCTAssertGreaterThan(known, 900)
        let all = book.sample(max: 1000, using: &rng)
        XCTAssertEqual(all.count, known * 23 / 100)
        XCTAssertEqual(Set(all.map(\.endpoint)).count, all.count)
        XCTAssertTrue(all.allSatisfy { book.contains($0.endpoint) })
        XCTAssertEqual(book.sample(max: 10, using: &rng).count, 10)
        XCTAssertEqual(book.sample(max: -5, using: &rng).count, 0)
        let other = book.sample(max: 1000, using: &rng)
        XCTAssertNotEqual(all.map(\.endpoint), other.map(\.endpoint), "two getaddr answers differ")
        // Terrible (too old) ones are left out when the time is given.
        XCTAssertEqual(book.sample(max: 1000, now: now + 60 * 86_400, using: &rng).count, 0)
        XCTAssertEqual(AddressManager(key: key, allowNonRoutable: false).sample(max: 1000, using: &rng).count, 0)

        // A small table still answers with what it knows: at least 10, or all when fewer.
        for size in [2, 10, 30] {
            let small = AddressManager(key: key, allowNonRoutable: false)
            small.add(announced(Array(addresses.prefix(size)), time: now), source: PeerEndpoint(ip: [30, 9, 9, 1], port: 1), now: now)
            XCTAssertEqual(small.sample(max: 1000, using: &rng).count, min(small.count, 10), "table of \(small.count)")
        }
    }

    // MARK: peers.dat

    func populated(_ rng: inout SeededGenerator) -> AddressManager {
        let book = AddressManager(key: rng.bytes(32), allowNonRoutable: false)
        for _ in 0..<50 {
            let source = randomRoutable(&rng)
            let addresses = (0..<40).map { _ in randomRoutable(&rng, port: UInt16.random(in: 1...65535, using: &rng)) }
            book.add(announced(addresses, time: now - UInt64.random(in: 0...86_400, using: &rng),
                               services: rng.next()), source: source, now: now)
        }
        for entry in book.allEntries() {
            switch UInt8.random(in: 0..<4, using: &rng) {
            case 0: book.markGood(entry.info.endpoint, now: now + 5)
            case 1: book.markAttempt(entry.info.endpoint, now: now + 7)
            default: break
            }
        }
        return book
    }

    func testSaveLoadRoundTrip() throws {
        var rng = SeededGenerator(testSeed: 8)
        let book = populated(&rng)
        XCTAssertGreaterThan(book.triedCount, 100)
        let path = temporaryPath("peers.dat")
        try book.save(to: path)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + ".tmp"))
        let loaded = try AddressManager.load(from: path, allowNonRoutable: false)
        XCTAssertEqual(loaded.key, book.key)
        XCTAssertEqual(loaded.count, book.count)
        XCTAssertEqual(loaded.newCount, book.newCount)
        XCTAssertEqual(loaded.triedCount, book.triedCount)
        let a = book.allEntries(), b = loaded.allEntries()
        XCTAssertEqual(a.map(\.info), b.map(\.info))
        XCTAssertEqual(a.map(\.tried), b.map(\.tried))
        XCTAssertNotNil(loaded.select(now: now + 7200, using: &rng))
        // Overwriting works and stays atomic.
        book.add(announced([ep("8.8.8.8")], time: now), source: ep("1.1.1.1"), now: now)
        try book.save(to: path)
        XCTAssertTrue(try AddressManager.load(from: path, allowNonRoutable: false).contains(ep("8.8.8.8")))
        // An empty table round-trips too.
        let empty = AddressManager(key: key, allowNonRoutable: true)
        try empty.save(to: path)
        XCTAssertEqual(try AddressManager.load(from: path, allowNonRoutable: true).count, 0)
    }

    func testRegtestFileLoadedStrictlyDropsLocalAddresses() throws {
        let book = AddressManager(key: key, allowNonRoutable: true)
        book.add(announced([ep("127.0.0.1:18444"), ep("8.8.8.8")], time: now), source: ep("127.0.0.1:1"), now: now)
        let path = temporaryPath("peers.dat")
        try book.save(to: path)
        XCTAssertEqual(try AddressManager.load(from: path, allowNonRoutable: true).count, 2)
        XCTAssertEqual(try AddressManager.load(from: path, allowNonRoutable: false).count, 1)
    }

    func assertCorrupt(_ bytes: [UInt8], mentions words: [String], file: StaticString = #filePath, line: UInt = #line) {
        let path = temporaryPath("peers.dat")
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        XCTAssertThrowsError(try AddressManager.load(from: path, allowNonRoutable: false), file: file, line: line) { error in
            guard let error = error as? AddressBookFileError else { return XCTFail("\(error)", file: file, line: line) }
            XCTAssertEqual(error.kind, .corrupt, file: file, line: line)
            XCTAssertTrue(error.description.hasPrefix(path), error.description, file: file, line: line)
            for word in words {
                XCTAssertTrue(error.description.contains(word), "'\(error.description)' lacks '\(word)'", file: file, line: line)
            }
        }
    }

    func withChecksum(_ body: [UInt8]) -> [UInt8] {
        body + AddressManager.checksum(body)
    }

    func testCorruptFilesGiveClearErrors() throws {
        var rng = SeededGenerator(testSeed: 9)
        let book = populated(&rng)
        let bytes = book.serialized()
        let body = Array(bytes.dropLast(32))

        assertCorrupt([], mentions: ["truncated"])
        assertCorrupt(Array(bytes.prefix(10)), mentions: ["truncated"])
        assertCorrupt(Array(bytes.dropLast(1)), mentions: ["checksum"])
        assertCorrupt(Array(bytes.dropLast(100)), mentions: ["checksum"])
        var flipped = bytes
        flipped[bytes.count / 2] ^= 0x01
        assertCorrupt(flipped, mentions: ["checksum"])
        var badMagic = body
        badMagic[0] = UInt8(ascii: "X")
        assertCorrupt(withChecksum(badMagic), mentions: ["magic"])
        var badVersion = body
        badVersion[4] = 2
        assertCorrupt(withChecksum(badVersion), mentions: ["version 2"])
        // A valid checksum over a count that disagrees with the length.
        var badCount = body
        badCount[40] &+= 1
        assertCorrupt(withChecksum(badCount), mentions: ["entries"])
        assertCorrupt(withChecksum(Array(body.dropLast(1))), mentions: ["entries"])
        var hugeCount = body
        hugeCount[40...43] = [0xFF, 0xFF, 0xFF, 0xFF]
        assertCorrupt(withChecksum(hugeCount), mentions: ["entries"])
        // A bad table byte in the first record.
        var badTable = body
        badTable[44] = 7
        assertCorrupt(withChecksum(badTable), mentions: ["entry 0", "table"])
        var badSource = body
        badSource[44 + 55] = 9
        assertCorrupt(withChecksum(badSource), mentions: ["entry 0", "source"])
        // Random garbage of many sizes, with and without a valid checksum: errors, never traps.
        for _ in 0..<200 {
            let garbage = rng.bytes(Int.random(in: 0...300, using: &rng))
            assertCorrupt(garbage, mentions: [])
            assertCorrupt(withChecksum(Array("RPDA".utf8) + [1, 0, 0, 0] + garbage), mentions: [])
        }
        // A missing file is "not found", which the node treats as a first start.
        XCTAssertThrowsError(try AddressManager.load(from: temporaryPath("absent"), allowNonRoutable: false)) { error in
            XCTAssertEqual((error as? AddressBookFileError)?.kind, .notFound)
        }
    }
}
