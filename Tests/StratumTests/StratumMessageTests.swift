import JSONRPC
import Primitives
import Stratum
import Testing

@Suite("Stratum messages")
struct StratumMessageTests {
    @Test("requests, notifications and responses round-trip through a line")
    func roundTrip() throws {
        let messages: [StratumMessage] = [
            .request(id: .int(7), method: StratumMethod.subscribe, params: [.string("rusty/1.0")]),
            .notification(method: StratumMethod.setDifficulty, params: [.double(1024)]),
            .response(id: .int(7), result: .bool(true), error: nil),
            .response(id: .string("x"), result: .null, error: StratumError(.duplicateShare, "duplicate share")),
        ]
        for message in messages {
            let line = message.line
            #expect(line.last == 0x0A)
            #expect(try StratumMessage(line: line.dropLast()) == message)
        }
    }

    @Test("bad lines name what is wrong", arguments: [
        ("{\"id\":1,\"method\":", "malformed JSON"),
        ("[1,2]", "JSON object"),
        ("{\"id\":[1],\"method\":\"x\"}", "id must be"),
        ("{\"id\":1,\"method\":5}", "method must be a string"),
        ("{\"id\":1,\"method\":\"x\",\"params\":{}}", "params must be an array"),
        ("{\"id\":1}", "needs a method"),
        ("{\"id\":1,\"result\":null,\"error\":\"bad\"}", "error must be"),
    ])
    func malformed(text: String, reason: String) {
        #expect {
            try StratumMessage(line: Array(text.utf8))
        } throws: { error in
            (error as? StratumDecodingError)?.reason.contains(reason) == true
        }
    }

    @Test("an object error {code, message} is read like the array form")
    func objectError() throws {
        let message = try StratumMessage(line: Array("{\"id\":3,\"result\":null,\"error\":{\"code\":23,\"message\":\"low\"}}".utf8))
        #expect(message == .response(id: .int(3), result: .null, error: StratumError(code: 23, message: "low")))
    }
}

@Suite("Header-only jobs")
struct StratumJobTests {
    static let header = BlockHeader(version: 1, height: 12, previousHash: Hash256(hex: String(repeating: "ab", count: 32))!,
                                    merkleRoot: Hash256(hex: String(repeating: "01", count: 32))!,
                                    stateRoot: Hash256(hex: String(repeating: "02", count: 32))!,
                                    time: 1_767_225_700, bits: 0x207f_ffff, nonce: 99)

    @Test("a nonce prefix owns exactly its share of the nonce space")
    func prefix() throws {
        let prefix = try #require(NoncePrefix(value: 0x01a2, byteCount: 2))
        #expect(prefix.hex == "01a2")
        #expect(NoncePrefix(hex: "01a2") == prefix)
        #expect(prefix.suffixBits == 48 && prefix.maxSuffix == (1 << 48) - 1)
        #expect(prefix.nonce(suffix: 5) == 0x01a2_0000_0000_0005)
        #expect(prefix.owns(prefix.nonce(suffix: prefix.maxSuffix)))
        #expect(!prefix.owns(0x01a3_0000_0000_0000))
        #expect(NoncePrefix(value: 0x1_0000, byteCount: 2) == nil)
        #expect(NoncePrefix(value: 0, byteCount: 8) == nil)
        #expect(NoncePrefix(hex: "zz") == nil)
    }

    @Test("notify params carry the header without its nonce and the matching midstate")
    func notify() throws {
        let job = StratumJob(id: "1f", header: Self.header, cleanJobs: true)
        #expect(job.header.nonce == 0)
        let decoded = try StratumJob(notifyParams: job.notifyParams)
        #expect(decoded == job)
        var forged = job.notifyParams
        forged[2] = .string(String(repeating: "00", count: 32))
        #expect(throws: StratumDecodingError.self) { try StratumJob(notifyParams: forged) }
        forged = job.notifyParams
        forged[1] = .string("00")
        #expect(throws: StratumDecodingError.self) { try StratumJob(notifyParams: forged) }
    }

    @Test("submit params round-trip and refuse bad hex")
    func submit() throws {
        let share = ShareSubmission(worker: "rcrt1x.rig", jobID: "2a", time: 1_767_225_701, nonce: 0x01a2_0000_0000_0bad)
        #expect(try ShareSubmission(params: share.params) == share)
        #expect(share.params[3] == .string("01a2000000000bad"))
        for bad: [JSON] in [[.string("w"), .string("1"), .string("12"), .string("01a2000000000bad")],
                            [.string("w"), .string("1"), .string(ShareSubmission.hex64(5)), .int(5)],
                            [.string("w"), .string("1")]] {
            #expect(throws: StratumDecodingError.self) { try ShareSubmission(params: bad) }
        }
    }
}

@Suite("Share difficulty and checks")
struct ShareCheckTests {
    static let powLimit = try! CompactTarget(bits: 0x207f_ffff).target()

    @Test("difficulty 1 is the PoW limit; higher difficulty, proportionally smaller target")
    func targets() {
        let one = ShareDifficulty.target(difficulty: 1, powLimit: Self.powLimit)
        // Through a double, the limit keeps its leading 53 bits.
        #expect(one <= Self.powLimit && (Self.powLimit >> 200) == (one >> 200))
        let thousand = ShareDifficulty.target(difficulty: 1024, powLimit: Self.powLimit)
        #expect(thousand == one >> 10)
        #expect(abs(ShareDifficulty.difficulty(target: thousand, powLimit: Self.powLimit) - 1024) < 1e-9)
        #expect(ShareDifficulty.target(difficulty: 1e-30, powLimit: Self.powLimit) == .max)
        #expect(ShareDifficulty.target(difficulty: 1e300, powLimit: Self.powLimit) == UInt256(1))
        #expect(ShareDifficulty.target(difficulty: .nan, powLimit: Self.powLimit) == Self.powLimit)
        #expect(ShareDifficulty.target(difficulty: -3, powLimit: Self.powLimit) == Self.powLimit)
        var previous = UInt256.max
        for exponent in stride(from: -2.0, through: 40, by: 0.37) {
            let target = ShareDifficulty.target(difficulty: Double.pow2(exponent), powLimit: Self.powLimit)
            #expect(target <= previous)
            previous = target
        }
    }

    @Test("a share is checked for its prefix, its time, and its hash against both targets")
    func check() throws {
        let prefix = try #require(NoncePrefix(value: 0x0007, byteCount: 2))
        let job = StratumJobTests.header
        let shareTarget = ShareDifficulty.target(difficulty: 4, powLimit: Self.powLimit)
        let blockTarget = ShareDifficulty.target(difficulty: 64, powLimit: Self.powLimit)
        let now = job.time + 10
        func check(_ nonce: UInt64, time: UInt64? = nil) -> Result<GoodShare, ShareFailure> {
            ShareCheck.check(ShareSubmission(worker: "w", jobID: "1", time: time ?? job.time, nonce: nonce), job: job, prefix: prefix,
                             shareTarget: shareTarget, blockTarget: blockTarget, now: now, maxFutureBlockTime: 7200)
        }
        var kinds = [String: Int]()
        for suffix: UInt64 in 0..<512 {
            switch check(prefix.nonce(suffix: suffix)) {
            case .success(let share):
                var header = job
                header.nonce = prefix.nonce(suffix: suffix)
                #expect(share.hash == header.hash)
                #expect(ProofOfWork.meets(share.hash, target: shareTarget))
                #expect(share.isBlock == ProofOfWork.meets(share.hash, target: blockTarget))
                kinds[share.isBlock ? "block" : "share", default: 0] += 1
            case .failure(let failure):
                #expect(failure.kind == .lowDifficulty)
                kinds["low", default: 0] += 1
            }
        }
        // The regtest limit is about 2^255: 1 hash in 8 meets difficulty 4, 1 in 128 difficulty 64.
        #expect((32...128).contains((kinds["block"] ?? 0) + (kinds["share"] ?? 0)))
        #expect((1...16).contains(kinds["block"] ?? 0))
        #expect(try #require(check(0x0008_0000_0000_0000).failureKind) == .invalid)
        #expect(try #require(check(prefix.nonce(suffix: 1), time: job.time - 1).failureKind) == .invalid)
        #expect(try #require(check(prefix.nonce(suffix: 1), time: now + 7201).failureKind) == .invalid)
        #expect(check(prefix.nonce(suffix: 1), time: now + 7200).failureKind != .invalid)
    }
}

@Suite("Variable difficulty")
struct VariableDifficultyTests {
    let settings = VariableDifficultySettings(initial: 1024, minimum: 1, maximum: 1e12, targetSharesPerSecond: 2, windowSeconds: 5)

    @Test("a fast miner is raised at once, a steady one is left alone, a quiet one lowered")
    func retargets() throws {
        var fast = VariableDifficulty(settings: settings, now: 0)
        var raised: Double?
        for share in 1...40 { raised = fast.recordShare(at: Double(share) * 0.001) ?? raised }
        // 40 shares in 40 ms is 1,000 a second, 500 times the target rate: one step of 500.
        #expect(abs(try #require(raised) - 1024 * 500) < 1e-6)
        var flood = VariableDifficulty(settings: settings, now: 0)
        raised = nil
        for share in 1...40 { raised = flood.recordShare(at: Double(share) * 1e-7) ?? raised }
        #expect(try #require(raised) == 1024 * VariableDifficulty.maxStepUp)

        var steady = VariableDifficulty(settings: settings, now: 0)
        for share in 1...100 { #expect(steady.recordShare(at: Double(share) * 0.5) == nil) }
        #expect(steady.difficulty == 1024)

        var quiet = VariableDifficulty(settings: settings, now: 0)
        #expect(quiet.idle(at: 10) == nil)
        #expect(quiet.idle(at: 15) == 256)
        #expect(quiet.idle(at: 30) == 64)
    }

    @Test("retargets stay inside the bounds")
    func bounds() {
        var low = VariableDifficulty(settings: VariableDifficultySettings(initial: 2, minimum: 1, maximum: 8), now: 0)
        #expect(low.idle(at: 100) == 1)
        #expect(low.idle(at: 200) == nil)
        var high = VariableDifficulty(settings: VariableDifficultySettings(initial: 4, minimum: 1, maximum: 8), now: 0)
        var last: Double?
        for share in 1...1000 { last = high.recordShare(at: Double(share) * 0.001) ?? last }
        #expect(last == 8 && high.difficulty == 8)
    }
}

extension Result where Failure == ShareFailure {
    var failureKind: ShareRejection? { if case .failure(let failure) = self { failure.kind } else { nil } }
}

extension Double {
    static func pow2(_ exponent: Double) -> Double { Foundation.pow(2, exponent) }
}

import Foundation
