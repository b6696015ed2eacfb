@testable import AddressBook
import TestSupport
import XCTest

final class PeerEndpointTests: XCTestCase {
    func v4(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8, _ port: UInt16 = 8333) -> PeerEndpoint {
        PeerEndpoint(ip: [a, b, c, d], port: port)
    }

    func testParsesValidForms() throws {
        let cases: [(String, String)] = [
            ("1.2.3.4", "1.2.3.4:9000"),
            ("1.2.3.4:5", "1.2.3.4:5"),
            ("255.255.255.255:65535", "255.255.255.255:65535"),
            ("[::1]:5", "[::1]:5"),
            ("::1", "[::1]:9000"),
            ("::", "[::]:9000"),
            ("localhost", "127.0.0.1:9000"),
            ("LocalHost:18444", "127.0.0.1:18444"),
            ("[2001:DB8::1]:8333", "[2001:db8::1]:8333"),
            ("1:2:3:4:5:6:7:8", "[1:2:3:4:5:6:7:8]:9000"),
            ("1:0:0:2:0:0:0:3", "[1:0:0:2::3]:9000"),
            ("1:0:0:2:0:0:3:4", "[1::2:0:0:3:4]:9000"),
            ("2001:db8:0:1:1:1:1:1", "[2001:db8:0:1:1:1:1:1]:9000"),
            ("::ffff:1.2.3.4", "1.2.3.4:9000"),
            ("[::ffff:10.0.0.1]:7", "10.0.0.1:7"),
            ("64:ff9b::192.0.2.33", "[64:ff9b::c000:221]:9000"),
        ]
        for (text, expected) in cases {
            let ep = try XCTUnwrap(PeerEndpoint(parsing: text, defaultPort: 9000), text)
            XCTAssertEqual(ep.description, expected, text)
            XCTAssertEqual(ep.ip.count, 16, text)
        }
        XCTAssertEqual(PeerEndpoint(parsing: "1.2.3.4:5", defaultPort: 1), v4(1, 2, 3, 4, 5))
        XCTAssertTrue(PeerEndpoint(parsing: "1.2.3.4", defaultPort: 1)!.isIPv4)
        XCTAssertFalse(PeerEndpoint(parsing: "::1", defaultPort: 1)!.isIPv4)
    }

    func testRejectsInvalidForms() {
        let bad = [
            "", " ", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.-4", "1.2.3.4:0", "1.2.3.4:65536", "1.2.3.4:99999",
            "1.2.3.4:123456", "1.2.3.4:", "1.2.3.4:-1", "1.2.3.4:+5", "1.2.3.4:0x10", " 1.2.3.4", "1.2.3.4 ",
            "1..3.4", "0001.2.3.4", "a.b.c.d", "١.٢.٣.٤", "1.2.3.٤", "[::1", "::1]", "[::1]5", "[::1]:", "[::1]:0",
            "[1.2.3.4]:5", "1::2::3", ":::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7::8", "::1:2:3:4:5:6:7:8",
            "12345::", "g::1", "fe80::1%eth0", "example.com", "example.com:8333", "localhost:0", "garbage",
            "1.2.3.4/24", "[]", "[]:5", String(repeating: "1", count: 500),
        ]
        for text in bad {
            XCTAssertNil(PeerEndpoint(parsing: text, defaultPort: 9000), "accepted '\(text)'")
        }
    }

    func testRandomTextNeverTrapsAndDescriptionsRoundTrip() {
        var rng = SeededGenerator(testSeed: 0xADD1)
        let alphabet = Array("0123456789abcdefABCDEF:.[]%/ xl")
        for _ in 0..<20_000 {
            let length = Int.random(in: 0...24, using: &rng)
            let text = String((0..<length).map { _ in alphabet.randomElement(using: &rng)! })
            if let ep = PeerEndpoint(parsing: text, defaultPort: 1) {
                XCTAssertEqual(PeerEndpoint(parsing: ep.description, defaultPort: 2), ep, text)
            }
        }
        for _ in 0..<5_000 {
            let ipv4 = Bool.random(using: &rng)
            // Runs of zero groups exercise the "::" compression.
            let ip: [UInt8] = ipv4 ? rng.bytes(4) : (0..<16).map { _ in
                Bool.random(using: &rng) ? 0 : UInt8.random(in: 0...255, using: &rng)
            }
            let ep = PeerEndpoint(ip: ip, port: UInt16.random(in: 1...65535, using: &rng))
            XCTAssertEqual(PeerEndpoint(parsing: ep.description, defaultPort: 1), ep, ep.description)
        }
    }

    func testOddIPLengthsAreNormalisedNotTrapped() {
        XCTAssertEqual(PeerEndpoint(ip: [], port: 1).ip.count, 16)
        XCTAssertEqual(PeerEndpoint(ip: [UInt8](repeating: 7, count: 40), port: 1).ip, [UInt8](repeating: 7, count: 16))
        XCTAssertEqual(PeerEndpoint(ip: [1, 2, 3, 4], port: 1).ip, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 1, 2, 3, 4])
        var endpoint = PeerEndpoint(ip: [1, 2, 3, 4], port: 1)
        endpoint.ip = [9]
        XCTAssertEqual(endpoint.ip, [9] + [UInt8](repeating: 0, count: 15))
        XCTAssertTrue(endpoint.isRoutable)
        XCTAssertEqual(endpoint.networkGroup(localIsDistinct: false), [6, 9, 0, 0, 0])
        endpoint.ip = [8, 8, 4, 4]
        XCTAssertEqual(endpoint.description, "8.8.4.4:1")
    }

    func testRoutability() {
        let notRoutable = [
            "0.0.0.0", "0.1.2.3", "127.0.0.1", "127.255.0.1", "10.1.2.3", "172.16.0.1", "172.31.255.255",
            "192.168.1.1", "100.64.0.1", "100.127.255.1", "169.254.1.1", "198.18.0.1", "198.19.255.1",
            "192.0.2.1", "192.0.0.8", "198.51.100.7", "203.0.113.9", "224.0.0.1", "239.1.1.1", "240.0.0.1",
            "255.255.255.255", "::", "::1", "fc00::1", "fdff::1", "fe80::1", "febf::1", "fec0::1", "ff02::1",
            "2001:db8::1", "2001:10::1", "2001:2f::1", "::1.2.3.4",
        ]
        let routable = [
            "1.2.3.4", "8.8.8.8", "172.15.0.1", "172.32.0.1", "192.169.0.1", "100.63.0.1", "100.128.0.1",
            "169.253.0.1", "198.17.0.1", "198.20.0.1", "192.0.1.1", "198.51.101.1", "203.0.114.1", "223.255.255.1",
            "2001:4860::8888", "2a00:1450::1", "2001:db9::1", "2001:200::1", "2001:30::1", "64:ff9b::1.2.3.4",
        ]
        for text in notRoutable {
            XCTAssertFalse(PeerEndpoint(parsing: text, defaultPort: 1)!.isRoutable, text)
        }
        for text in routable {
            XCTAssertTrue(PeerEndpoint(parsing: text, defaultPort: 1)!.isRoutable, text)
        }
        XCTAssertTrue(PeerEndpoint(parsing: "127.0.0.5", defaultPort: 1)!.isLoopback)
        XCTAssertTrue(PeerEndpoint(parsing: "::1", defaultPort: 1)!.isLoopback)
        XCTAssertFalse(PeerEndpoint(parsing: "::2", defaultPort: 1)!.isLoopback)
        XCTAssertFalse(PeerEndpoint(parsing: "128.0.0.1", defaultPort: 1)!.isLoopback)
    }

    func testNetworkGroups() {
        func group(_ text: String, port: UInt16 = 1, local: Bool = false) -> [UInt8] {
            PeerEndpoint(parsing: text, defaultPort: port)!.networkGroup(localIsDistinct: local)
        }
        // IPv4: /16.
        XCTAssertEqual(group("1.2.3.4"), group("1.2.200.7", port: 9))
        XCTAssertNotEqual(group("1.2.3.4"), group("1.3.3.4"))
        XCTAssertNotEqual(group("1.2.3.4"), group("2.2.3.4"))
        // IPv6: /32.
        XCTAssertEqual(group("2a00:1450::1"), group("2a00:1450:ffff::2"))
        XCTAssertNotEqual(group("2a00:1450::1"), group("2a00:1451::1"))
        // An IPv6 address whose bytes look like an IPv4 group is still another group.
        XCTAssertNotEqual(group("1.2.0.0"), group("102::"))
        // Non-routable: one shared group, unless local addresses are distinct (regtest).
        XCTAssertEqual(group("127.0.0.1"), group("10.0.0.1"))
        XCTAssertEqual(group("127.0.0.1", port: 1), group("127.0.0.1", port: 2))
        XCTAssertNotEqual(group("127.0.0.1", port: 1, local: true), group("127.0.0.1", port: 2, local: true))
        XCTAssertNotEqual(group("127.0.0.1", local: true), group("127.0.0.2", local: true))
        XCTAssertNotEqual(group("127.0.0.1"), group("1.2.3.4"))
        // Routable ones ignore the flag.
        XCTAssertEqual(group("1.2.3.4", local: true), group("1.2.9.9", port: 7, local: true))
    }

    func testOrdering() {
        XCTAssertLessThan(v4(1, 2, 3, 4, 9), v4(1, 2, 3, 5, 1))
        XCTAssertLessThan(v4(1, 2, 3, 4, 1), v4(1, 2, 3, 4, 2))
        XCTAssertFalse(v4(1, 2, 3, 4) < v4(1, 2, 3, 4))
    }
}
