// Module ProofOfWorkSearch: searching a header's nonce range for hashes that meet a target,
// on the scalar reference, the CPU SIMD search and OpenCL devices, alone or combined. It
// must not build templates or judge blocks (Mining and Consensus do); every hit a backend
// reports is checked on the host.

import BLAKE3
import Foundation
import OpenCLRuntime
import Primitives

/// A nonce that meets the target and the header hash it gives.
public struct PoWHit: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let nonce: UInt64
    public let hash: Hash256

    public init(nonce: UInt64, hash: Hash256) {
        self.nonce = nonce
        self.hash = hash
    }

    public static func < (lhs: PoWHit, rhs: PoWHit) -> Bool { lhs.nonce < rhs.nonce }
    public var description: String { "\(nonce) \(hash.hex)" }
}

/// `count` consecutive nonces from `start`, never past 2^64 - 1 (no wrap-around).
public struct NonceRange: Sendable, Equatable, CustomStringConvertible {
    public let start: UInt64
    public let count: UInt64

    /// Nil when the range would run past 2^64 - 1.
    public init?(start: UInt64, count: UInt64) {
        if count > 0 && start > UInt64.max - (count - 1) { return nil }
        self.start = start
        self.count = count
    }

    /// The last nonce, nil for an empty range.
    public var last: UInt64? { count == 0 ? nil : start + (count - 1) }

    public func contains(_ nonce: UInt64) -> Bool { nonce >= start && nonce - start < count }

    public var description: String { count == 0 ? "[] (empty)" : "[\(start), \(last!)]" }
}

/// One search: the header's midstate, its second 64-byte block (the nonce field is
/// replaced by each nonce tried) and the 256-bit target.
public struct PoWJob: Sendable {
    public let midstate: Midstate
    /// Header bytes 64..127; bytes 56..63 (the nonce) are overwritten per nonce.
    public let secondBlock: [UInt8]
    public let target: UInt256

    /// Offset of the nonce inside the second block (header offset 120).
    public static let nonceOffset = BlockHeader.nonceOffset - 64

    public init(header: [UInt8], target: UInt256) {
        precondition(header.count == BlockHeader.encodedLength, "a header is 128 bytes")
        midstate = Midstate(header: header)
        secondBlock = Array(header[64..<128])
        self.target = target
    }

    /// The header hash with `nonce` in the nonce field (the readable per-nonce path).
    public func hash(nonce: UInt64) -> Hash256 {
        var block = secondBlock
        Self.setNonce(nonce, in: &block)
        return block.withUnsafeBytes { midstate.hash(secondBlock: $0) }
    }

    /// The hit for `nonce`, or nil when its hash is above the target.
    public func check(nonce: UInt64) -> PoWHit? {
        let hash = hash(nonce: nonce)
        return ProofOfWork.meets(hash, target: target) ? PoWHit(nonce: nonce, hash: hash) : nil
    }

    static func setNonce(_ nonce: UInt64, in block: inout [UInt8]) {
        for i in 0..<8 { block[nonceOffset + i] = UInt8(truncatingIfNeeded: nonce >> UInt64(8 * i)) }
    }

    /// The target as big-endian 32-bit digits, most significant first (the kernel's form).
    public var targetWords: [UInt32] {
        let bytes = target.bigEndianBytes
        return (0..<8).map { i in
            UInt32(bytes[4 * i]) << 24 | UInt32(bytes[4 * i + 1]) << 16 | UInt32(bytes[4 * i + 2]) << 8 | UInt32(bytes[4 * i + 3])
        }
    }
}

/// A PoW search backend: every nonce of `range` whose header hash meets the target,
/// sorted by nonce. `progress` (when given) receives the number of nonces finished so far.
public protocol PoWSearcher: Sendable {
    var name: String { get }
    func search(_ job: PoWJob, range: NonceRange, progress: (@Sendable (UInt64) -> Void)?) throws -> [PoWHit]
}

extension PoWSearcher {
    public func search(_ job: PoWJob, range: NonceRange) throws -> [PoWHit] {
        try search(job, range: range, progress: nil)
    }
}

/// The backend for a resolved `--backend` choice.
public enum PoWSearchBackends {
    public static func make(_ resolved: BackendChoice.Resolved) throws -> any PoWSearcher {
        switch resolved {
        case .scalar: return ScalarPoWSearch()
        case .simd: return SIMDPoWSearch()
        case .opencl(let devices): return try OpenCLPoWSearch(devices: devices)
        }
    }
}

/// The reference: `Midstate.hash` per nonce, one thread, `ProofOfWork.meets` on each hash.
public struct ScalarPoWSearch: PoWSearcher {
    public init() {}
    public var name: String { "scalar" }

    public func search(_ job: PoWJob, range: NonceRange, progress: (@Sendable (UInt64) -> Void)?) throws -> [PoWHit] {
        var hits = [PoWHit]()
        var block = job.secondBlock
        var nonce = range.start
        var done: UInt64 = 0
        while done < range.count {
            PoWJob.setNonce(nonce, in: &block)
            let hash = block.withUnsafeBytes { job.midstate.hash(secondBlock: $0) }
            if ProofOfWork.meets(hash, target: job.target) { hits.append(PoWHit(nonce: nonce, hash: hash)) }
            done += 1
            nonce &+= 1
            if done & 0xFFFFF == 0 { progress?(done) }
        }
        progress?(done)
        return hits
    }
}
