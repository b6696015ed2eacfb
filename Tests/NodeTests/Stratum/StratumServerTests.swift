import Foundation
import JSONRPC
import Primitives
import Stratum
import Testing
@testable import Node

/// The pool server over real loopback connections: the message order, every share verdict,
/// a block found through a share, and getstratuminfo's counts.
extension StratumSocketSuites {
@Suite(.serialized, .timeLimit(.minutes(5))) struct StratumServerTests {
    /// A share difficulty below the regtest PoW limit's 1: about half the hashes are blocks, a
    /// sixth shares only, a third too weak.
    static let difficulty = 0.75

    /// Subscribes and authorizes `worker`; returns the prefix and the first job (after set_difficulty).
    static func start(_ client: LineClient, worker: String) throws -> (prefix: NoncePrefix, job: StratumJob, shareTarget: UInt256) {
        let subscribed = try client.call(StratumMethod.subscribe, ["test-miner/1.0"])
        #expect(subscribed.error == nil)
        let answer = try #require(subscribed.result.arrayValue)
        #expect(answer.count == 3 && answer[2] == .int(6))
        let prefix = try #require(answer[1].stringValue.flatMap(NoncePrefix.init(hex:)))
        #expect(prefix.byteCount == 2)
        let authorized = try client.call(StratumMethod.authorize, [.string(worker), "x"])
        #expect(authorized.result == true && authorized.error == nil)
        let setDifficulty = try client.nextNotification()
        #expect(setDifficulty.method == StratumMethod.setDifficulty)
        let level = try #require(setDifficulty.params.first?.doubleValue)
        #expect(level == difficulty)
        let notify = try client.nextNotification()
        #expect(notify.method == StratumMethod.notify)
        let job = try StratumJob(notifyParams: notify.params)
        #expect(job.cleanJobs)
        return (prefix, job, ShareDifficulty.target(difficulty: level, powLimit: RPCTestNode.regtest.powLimit))
    }

    static func submit(_ client: LineClient, worker: String, job: String, time: UInt64,
                       nonce: UInt64) throws -> (result: JSON, error: StratumError?) {
        try client.call(StratumMethod.submit, ShareSubmission(worker: worker, jobID: job, time: time, nonce: nonce).params)
    }

    @Test("subscribe, authorize, set_difficulty, notify; shares accepted or refused with their codes; a block share extends the chain")
    func shareVerdicts() async throws {
        let pool = try await StratumTestPool(difficulty: Self.difficulty)
        do {
            let client = try pool.connect()
            let worker = StratumTestPool.miner.text + ".rig1"
            // Before subscribing: 25.
            let early = try Self.submit(client, worker: worker, job: "1", time: 0, nonce: 0)
            #expect(early.error?.code == 25)
            // A user name that is not an address of the network: 24.
            let badName = try client.call(StratumMethod.authorize, ["not-an-address.rig", "x"])
            #expect(badName.error?.code == 24)
            let (prefix, job, shareTarget) = try Self.start(client, worker: worker)
            let time = job.header.time

            let good = try ShareSearch.find(.shareOnly, job: job, prefix: prefix, shareTarget: shareTarget)
            #expect(try Self.submit(client, worker: worker, job: job.id, time: time, nonce: good).result == true)
            #expect(try Self.submit(client, worker: worker, job: job.id, time: time, nonce: good).error?.code == 22)
            let unknown = try Self.submit(client, worker: worker, job: "ffffff", time: time, nonce: good)
            #expect(unknown.error == StratumError(.jobNotFound, "job not found"))
            let weak = try ShareSearch.find(.lowDifficulty, job: job, prefix: prefix, shareTarget: shareTarget)
            #expect(try Self.submit(client, worker: worker, job: job.id, time: time, nonce: weak).error?.code == 23)
            let foreign = try #require(NoncePrefix(value: (prefix.value + 1) & 0xFFFF, byteCount: 2)).nonce(suffix: 5)
            #expect(try Self.submit(client, worker: worker, job: job.id, time: time, nonce: foreign).error?.code == 20)
            #expect(try Self.submit(client, worker: worker, job: job.id, time: time - 1, nonce: good).error?.code == 20)
            let stranger = StratumTestPool.miner.text + ".other"
            #expect(try Self.submit(client, worker: stranger, job: job.id, time: time, nonce: good).error?.code == 24)
            let malformed = try client.call(StratumMethod.submit, [.string(worker), .string(job.id), "12", "zz"])
            #expect(malformed.error?.code == 20)
            // The worker is checked before the rest of the params (PROTOCOL 15.2's order).
            #expect(try client.call(StratumMethod.submit, [.string(stranger), .string(job.id), "12", "zz"]).error?.code == 24)

            // A share meeting the block target: accepted, the chain's tip, and a clean job on it.
            let solving = try ShareSearch.find(.block, job: job, prefix: prefix, shareTarget: shareTarget, from: 1_000)
            var solved = job.header
            solved.nonce = solving
            #expect(try Self.submit(client, worker: worker, job: job.id, time: time, nonce: solving).result == true)
            #expect(pool.node.chain.snapshot.tipHash == solved.hash)
            let next = try client.nextNotification()
            #expect(next.method == StratumMethod.notify)
            let nextJob = try StratumJob(notifyParams: next.params)
            #expect(nextJob.cleanJobs && nextJob.header.previousHash == solved.hash && nextJob.id != job.id)
            // The old job's shares are stale now.
            let late = try ShareSearch.find(.shareOnly, job: job, prefix: prefix, shareTarget: shareTarget, from: 2_000)
            #expect(try Self.submit(client, worker: worker, job: job.id, time: time, nonce: late).error == StratumError(.jobNotFound, "stale share"))

            let info = try await pool.info()
            #expect(info["enabled"] == true && info["connections"] == .int(1) && info["port"] == .int(pool.pool.port))
            #expect(info["payoutaddress"] == .string(StratumTestPool.payout.text))
            let totals = try #require(info["totals"])
            #expect(totals["accepted"] == .int(2) && totals["blocks"] == .int(1))
            #expect(totals["acceptedwork"]?.doubleValue == 2 * Self.difficulty)
            let rejected = try #require(totals["rejected"])
            let expected: [ShareRejection: Int] = [.notSubscribed: 1, .duplicate: 1, .unknownJob: 1, .lowDifficulty: 1, .invalid: 3,
                                                   .unauthorized: 2, .stale: 1]
            for kind in ShareRejection.allCases {
                #expect(rejected[kind.rawValue] == .int(expected[kind] ?? 0), "\(kind)")
            }
            let workers = try #require(info["workers"]?.arrayValue)
            #expect(workers.count == 1)
            #expect(workers.first?["name"] == .string(worker) && workers.first?["accepted"] == .int(2) && workers.first?["blocks"] == .int(1))
            #expect(workers.first?["rejected"]?["stale"] == .int(1) && workers.first?["rejected"]?["invalid"] == .int(3))
            #expect(workers.first?["connections"] == .int(1))
            #expect((workers.first?["hashrate"]?.doubleValue ?? 0) > 0)
            let sessions = try #require(info["sessions"]?.arrayValue)
            #expect(sessions.first?["prefix"] == .string(prefix.hex) && sessions.first?["useragent"] == "test-miner/1.0")
            #expect(sessions.first?["workers"] == .array([.string(worker)]) && sessions.first?["accepted"] == .int(2))
            #expect(info["job"]?["previousblockhash"] == .string(solved.hash.hex) && info["job"]?["clean"] == true)
            let metrics = String(decoding: pool.node.context.metrics.exposition(), as: UTF8.self)
            #expect(metrics.contains("rusty_stratum_shares_total{result=\"accepted\"} 2"), "\(metrics)")
            #expect(metrics.contains("rusty_stratum_shares_total{result=\"stale\"} 1"))
            #expect(metrics.contains("rusty_stratum_blocks_total 1") && metrics.contains("rusty_stratum_connections 1"))
        }
        await pool.shutdown()
    }

    @Test("connections get distinct prefixes; malformed JSON, unknown methods and a huge line get errors; others keep being served")
    func badInput() async throws {
        let pool = try await StratumTestPool(difficulty: Self.difficulty)
        do {
            let first = try pool.connect()
            let second = try pool.connect()
            let a = try first.call(StratumMethod.subscribe, [])
            let b = try second.call(StratumMethod.subscribe, [])
            #expect(a.result.arrayValue?[1] != b.result.arrayValue?[1])

            first.sendRaw(Array("{\"id\": 1, \"method\": \n".utf8))
            let malformed = try #require(try first.readMessage())
            guard case .response(let id, _, let error) = malformed else { Issue.record("not a response: \(malformed)"); return }
            #expect(id == .null && error?.code == 20 && error?.message.contains("malformed JSON") == true)
            let unknown = try first.call("mining.dance", [])
            #expect(unknown.error == StratumError(.other, "unknown method mining.dance"))
            let configure = try first.call(StratumMethod.configure, [["version-rolling"], ["version-rolling.mask": "ffffffff"]])
            #expect(configure.result == ["version-rolling": false])
            #expect(try first.call(StratumMethod.extranonceSubscribe, []).result == false)

            // One byte past the limit: the server has read every byte when it refuses the line,
            // so its close is an orderly one (unread bytes would make it a reset).
            first.sendRaw([UInt8](repeating: 0x41, count: StratumMessage.maxServerLineBytes + 1))
            let tooLong = try #require(try first.readMessage())
            #expect(tooLong == .response(id: .null, result: .null, error: StratumError(.other, "line too long")))
            #expect(first.isClosedByServer())

            // The other connection still works, and a worker authorized there gets jobs.
            let authorized = try second.call(StratumMethod.authorize, [.string(StratumTestPool.miner.text), ""])
            #expect(authorized.result == true)
            #expect(try second.nextNotification().method == StratumMethod.setDifficulty)
            #expect(try second.nextNotification().method == StratumMethod.notify)
        }
        await pool.shutdown()
    }

    @Test("50 bad messages in a row close the connection")
    func badMessageLimit() async throws {
        let pool = try await StratumTestPool(difficulty: Self.difficulty)
        do {
            let client = try pool.connect()
            client.sendRaw(Array(String(repeating: "nonsense\n", count: 50).utf8))
            #expect(client.isClosedByServer())
        }
        await pool.shutdown()
    }

    @Test("a connection that never authorizes is closed after the idle timeout; past the connection limit a connection is refused")
    func idleAndLimit() async throws {
        let pool = try await StratumTestPool(difficulty: Self.difficulty, maxConnections: 2) { settings in
            settings.idleTimeout = 0.3
            settings.tickInterval = 0.05
        }
        do {
            let idle = try pool.connect()
            let working = try pool.connect()
            _ = try working.call(StratumMethod.subscribe, [])
            _ = try working.call(StratumMethod.authorize, [.string(StratumTestPool.miner.text), ""])
            let refused = try pool.connect()
            #expect(refused.isClosedByServer())
            #expect(idle.isClosedByServer())
            // The working connection stays; its prefix slot and the freed one serve a new connection.
            #expect(try await pool.waitForConnections(1))
            let later = try pool.connect()
            #expect(try later.call(StratumMethod.subscribe, []).error == nil)
        }
        await pool.shutdown()
    }
}
}
