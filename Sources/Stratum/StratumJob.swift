// Header-only jobs (DESIGN section 9): the 128-byte header is the whole job. The server gives
// each connection a distinct nonce prefix (its extranonce), so miners never rebuild a coinbase
// or a Merkle root and no two connections search the same nonces.

import BLAKE3
import JSONRPC
import Primitives

/// A connection's share of the 64-bit nonce space: the top `byteCount` bytes of the nonce
/// (as an integer; the header stores it little-endian) are fixed to `value`.
public struct NoncePrefix: Sendable, Hashable, CustomStringConvertible {
    public let value: UInt64
    public let byteCount: Int

    /// Two bytes: 65,536 connections per node, 2^48 nonces per job and header time each
    /// (about half an hour for a machine of eight 20 GH/s GPUs before it rolls the time).
    public static let defaultByteCount = 2

    public init?(value: UInt64, byteCount: Int) {
        guard (1...7).contains(byteCount), value >> UInt64(8 * byteCount) == 0 else { return nil }
        self.value = value
        self.byteCount = byteCount
    }

    /// The subscribe answer's extranonce1: the prefix as big-endian hex.
    public init?(hex: String) {
        guard let bytes = HexCoding.decode(hex), (1...7).contains(bytes.count) else { return nil }
        self.init(value: bytes.reduce(0) { $0 << 8 | UInt64($1) }, byteCount: bytes.count)
    }

    public var hex: String {
        HexCoding.encode((0..<byteCount).map { UInt8(truncatingIfNeeded: value >> UInt64(8 * (byteCount - 1 - $0))) })
    }

    /// Bits left to the miner (the subscribe answer's extranonce2_size is this over 8).
    public var suffixBits: Int { 64 - 8 * byteCount }
    /// Bytes left to the miner.
    public var suffixByteCount: Int { 8 - byteCount }
    /// The largest suffix.
    public var maxSuffix: UInt64 { UInt64.max >> UInt64(8 * byteCount) }

    /// The nonce with this prefix and `suffix` (which must fit the suffix bits).
    public func nonce(suffix: UInt64) -> UInt64 { value << UInt64(suffixBits) | (suffix & maxSuffix) }

    public func owns(_ nonce: UInt64) -> Bool { nonce >> UInt64(suffixBits) == value }

    public var description: String { hex }
}

/// One job: a header with every field set but the nonce (zero) and, possibly, a later time.
public struct StratumJob: Sendable, Equatable {
    public var id: String
    public var header: BlockHeader
    /// True when earlier jobs are void (a new previous block): miners drop them at once.
    public var cleanJobs: Bool

    public init(id: String, header: BlockHeader, cleanJobs: Bool) {
        var header = header
        header.nonce = 0
        self.id = id
        self.header = header
        self.cleanJobs = cleanJobs
    }

    /// The midstate input sent beside the header: BLAKE3's chaining value after the header's
    /// first 64 bytes, which neither the nonce nor the time changes (little-endian words).
    public var midstateBytes: [UInt8] { header.midstate.bytes }

    /// `mining.notify` params: [job_id, header (256 hex digits, nonce zero), midstate (64 hex
    /// digits), clean_jobs].
    public var notifyParams: [JSON] {
        [.string(id), .string(HexCoding.encode(header.encoded)), .string(HexCoding.encode(midstateBytes)), .bool(cleanJobs)]
    }

    /// A job from `mining.notify` params; the midstate must match the header (a miner that
    /// gets them inconsistent would search for nothing).
    public init(notifyParams params: [JSON]) throws(StratumDecodingError) {
        guard params.count >= 4 else { throw StratumDecodingError("mining.notify needs 4 params, got \(params.count)") }
        guard let id = params[0].stringValue, !id.isEmpty, id.utf8.count <= 64 else {
            throw StratumDecodingError("mining.notify: job id must be a string of 1 to 64 bytes")
        }
        guard let text = params[1].stringValue, let bytes = HexCoding.decode(text), bytes.count == BlockHeader.encodedLength,
              let header = try? BlockHeader(decoding: bytes) else {
            throw StratumDecodingError("mining.notify: header must be 256 hex digits")
        }
        guard let midstate = params[2].stringValue.flatMap(HexCoding.decode), midstate == header.midstate.bytes else {
            throw StratumDecodingError("mining.notify: midstate does not match the header")
        }
        guard let clean = params[3].boolValue else { throw StratumDecodingError("mining.notify: clean_jobs must be a boolean") }
        self.init(id: id, header: header, cleanJobs: clean)
    }
}

/// A share as `mining.submit` carries it: [worker, job_id, time (16 hex digits, big-endian),
/// nonce (16 hex digits, big-endian, starting with the connection's prefix)].
public struct ShareSubmission: Sendable, Hashable {
    public var worker: String
    public var jobID: String
    public var time: UInt64
    public var nonce: UInt64

    public init(worker: String, jobID: String, time: UInt64, nonce: UInt64) {
        self.worker = worker
        self.jobID = jobID
        self.time = time
        self.nonce = nonce
    }

    public var params: [JSON] {
        [.string(worker), .string(jobID), .string(Self.hex64(time)), .string(Self.hex64(nonce))]
    }

    public init(params: [JSON]) throws(StratumDecodingError) {
        guard params.count >= 4 else { throw StratumDecodingError("mining.submit needs 4 params [worker, job_id, time, nonce], got \(params.count)") }
        guard let worker = params[0].stringValue, worker.utf8.count <= 256 else {
            throw StratumDecodingError("mining.submit: worker must be a string of at most 256 bytes")
        }
        guard let jobID = params[1].stringValue, jobID.utf8.count <= 64 else {
            throw StratumDecodingError("mining.submit: job id must be a string of at most 64 bytes")
        }
        guard let time = params[2].stringValue.flatMap(Self.parseHex64) else {
            throw StratumDecodingError("mining.submit: time must be 16 hex digits")
        }
        guard let nonce = params[3].stringValue.flatMap(Self.parseHex64) else {
            throw StratumDecodingError("mining.submit: nonce must be 16 hex digits")
        }
        self.init(worker: worker, jobID: jobID, time: time, nonce: nonce)
    }

    public static func hex64(_ value: UInt64) -> String {
        HexCoding.encode((0..<8).map { UInt8(truncatingIfNeeded: value >> UInt64(8 * (7 - $0))) })
    }

    static func parseHex64(_ text: String) -> UInt64? {
        guard text.utf8.count == 16, let bytes = HexCoding.decode(text) else { return nil }
        return bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }
}
