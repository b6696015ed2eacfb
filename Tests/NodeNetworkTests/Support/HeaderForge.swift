import Foundation
import Primitives
import TestSupport
import Wire

/// Headers a hostile peer sends: random ones (no proof of work, connecting to nothing) and
/// valid-PoW chains mined here at the regtest limit (0x207fffff: about every other nonce
/// meets it, so mining a header costs two hashes).
enum HeaderForge {
    static let regtestBits: UInt32 = 0x207fffff

    /// `count` headers, each the child of the one before, the first a child of a random
    /// hash: a chain that connects to nothing the node knows.
    static func unconnectingChain(count: Int, using generator: inout SeededGenerator) -> [BlockHeader] {
        var headers = [BlockHeader]()
        headers.reserveCapacity(count)
        var previous = randomHash(&generator)
        let height = UInt64.random(in: 10_000...1_000_000, using: &generator)
        for index in 0..<count {
            let header = BlockHeader(version: 1, height: height + UInt64(index), previousHash: previous,
                                     merkleRoot: randomHash(&generator), stateRoot: randomHash(&generator),
                                     time: 1_767_225_600 + UInt64(index) * 150, bits: regtestBits,
                                     nonce: UInt64.random(in: 0...UInt64.max, using: &generator))
            headers.append(header)
            previous = header.hash
        }
        return headers
    }

    /// `count` headers forked from `parent` (height `parentHeight`, time `parentTime`), each
    /// meeting its own target: the cheapest chain a node must still check.
    static func minedChain(count: Int, parent: Hash256, parentHeight: UInt64, parentTime: UInt64,
                           using generator: inout SeededGenerator) throws -> [BlockHeader] {
        let target = try CompactTarget(bits: regtestBits).target()
        var headers = [BlockHeader]()
        headers.reserveCapacity(count)
        var previous = parent
        for index in 1...count {
            var header = BlockHeader(version: 1, height: parentHeight + UInt64(index), previousHash: previous,
                                     merkleRoot: randomHash(&generator), stateRoot: randomHash(&generator),
                                     time: parentTime + UInt64(index) * 150, bits: regtestBits, nonce: 0)
            while !ProofOfWork.meets(header.hash, target: target) { header.nonce += 1 }
            headers.append(header)
            previous = header.hash
        }
        return headers
    }

    static func randomHash(_ generator: inout SeededGenerator) -> Hash256 {
        Hash256(bytes: (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })!
    }

    /// Random routable IPv4 addresses (1.0.0.0-223.255.255.255 less 10/8, 127/8, 172/12 and 192.168/16).
    static func randomAddresses(count: Int, using generator: inout SeededGenerator) -> [TimedAddress] {
        let now = UInt64(Date().timeIntervalSince1970)
        return (0..<count).map { _ in
            var a: UInt8
            repeat { a = UInt8.random(in: 1...223, using: &generator) } while a == 10 || a == 127 || a == 172 || a == 192
            let address = NetAddress.ipv4(a, UInt8.random(in: 0...255, using: &generator), UInt8.random(in: 0...255, using: &generator),
                                          UInt8.random(in: 1...254, using: &generator), port: 29373, services: WireProtocol.nodeNetwork)
            return TimedAddress(time: now - UInt64.random(in: 0...3_600, using: &generator), address: address)
        }
    }
}
