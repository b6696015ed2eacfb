import Foundation
import JSONRPC
import Primitives
import Stratum
import Testing
@testable import Node
#if canImport(Glibc)
import Glibc
#endif

/// Variable difficulty over the wire, and a miner that does not read its answers.
extension StratumSocketSuites {
@Suite(.serialized, .timeLimit(.minutes(5))) struct StratumFlowTests {
    static func authorize(_ client: LineClient) throws {
        _ = try client.call(StratumMethod.subscribe, [])
        #expect(try client.call(StratumMethod.authorize, [.string(StratumTestPool.miner.text + ".vardiff"), ""]).result == true)
    }

    @Test("shares far too fast: set_difficulty with the harder difficulty, then the same template as a new job, not clean")
    func retargetUp() async throws {
        let pool = try await StratumTestPool(difficulty: 0.75) { settings in
            settings.difficulty = VariableDifficultySettings(initial: 0.75, minimum: 0.75, maximum: 3, targetSharesPerSecond: 0.01)
        }
        do {
            let client = try pool.connect()
            try Self.authorize(client)
            #expect(try client.nextNotification().params.first?.doubleValue == 0.75)
            let job = try StratumJob(notifyParams: try client.nextNotification().params)
            let prefix = try #require(pool.pool.allSessions.first?.prefix)
            let shareTarget = ShareDifficulty.target(difficulty: 0.75, powLimit: RPCTestNode.regtest.powLimit)
            let nonce = try ShareSearch.find(.shareOnly, job: job, prefix: prefix, shareTarget: shareTarget)
            let worker = StratumTestPool.miner.text + ".vardiff"
            let share = ShareSubmission(worker: worker, jobID: job.id, time: job.header.time, nonce: nonce)
            #expect(try client.call(StratumMethod.submit, share.params).result == true)
            let retarget = try client.nextNotification()
            #expect(retarget.method == StratumMethod.setDifficulty && retarget.params.first?.doubleValue == 3)
            let next = try StratumJob(notifyParams: try client.nextNotification().params)
            #expect(!next.cleanJobs && next.header == job.header && next.id != job.id)
            // The first job keeps the target it was sent with; the new job needs the new one.
            let harder = ShareDifficulty.target(difficulty: 3, powLimit: RPCTestNode.regtest.powLimit)
            let between = try ShareSearch.find(.shareOnly, job: job, prefix: prefix, shareTarget: shareTarget, from: 10_000, weakerThan: harder)
            let onOld = ShareSubmission(worker: worker, jobID: job.id, time: job.header.time, nonce: between)
            #expect(try client.call(StratumMethod.submit, onOld.params).result == true)
            let another = try ShareSearch.find(.shareOnly, job: job, prefix: prefix, shareTarget: shareTarget, from: 20_000, weakerThan: harder)
            let onNew = ShareSubmission(worker: worker, jobID: next.id, time: job.header.time, nonce: another)
            #expect(try client.call(StratumMethod.submit, onNew.params).error?.code == 23)
            let info = try await pool.info()
            #expect(info["workers"]?.arrayValue?.first?["difficulty"]?.doubleValue == 3)
            #expect(info["sessions"]?.arrayValue?.first?["difficulty"]?.doubleValue == 3)
        }
        await pool.shutdown()
    }

    @Test("a miner that finds nothing gets easier work from the housekeeping tick")
    func retargetDownWhenQuiet() async throws {
        let pool = try await StratumTestPool(difficulty: 4) { settings in
            settings.difficulty = VariableDifficultySettings(initial: 4, minimum: 1, maximum: 4, targetSharesPerSecond: 1, windowSeconds: 0.1)
            settings.tickInterval = 0.05
        }
        do {
            let client = try pool.connect()
            try Self.authorize(client)
            #expect(try client.nextNotification().params.first?.doubleValue == 4)
            #expect(try client.nextNotification().method == StratumMethod.notify)
            let eased = try client.nextNotification()
            #expect(eased.method == StratumMethod.setDifficulty && eased.params.first?.doubleValue == 1)
            let job = try StratumJob(notifyParams: try client.nextNotification().params)
            #expect(!job.cleanJobs)
        }
        await pool.shutdown()
    }

    @Test("a miner that does not read is closed once a bounded amount is waiting; the pool keeps serving others")
    func slowReader() async throws {
        let pool = try await StratumTestPool(difficulty: 0.75) { settings in settings.maxPendingBytes = 64 * 1024 }
        do {
            let reader = try pool.connect()
            let slow = try pool.connect(receiveBufferBytes: 4_096)
            slow.sendUnreadAnswerFlood()
            #expect(slow.isClosedByServer())
            #expect(try reader.call(StratumMethod.subscribe, []).error == nil)
            #expect(try await pool.waitForConnections(1))
        }
        await pool.shutdown()
    }
}
}
