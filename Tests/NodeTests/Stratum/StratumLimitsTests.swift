import Foundation
import JSONRPC
import Primitives
import Stratum
import Testing
@testable import Node

/// The pool's limits over loopback: workers per connection, connections per IP, the
/// subscribe-and-authorize deadline, and a close that does not wait for a peer that never reads.
extension StratumSocketSuites {
@Suite(.serialized, .timeLimit(.minutes(5))) struct StratumLimitsTests {
    static let difficulty = 0.75

    @Test("eight workers per connection; the ninth gets 24 naming the limit, the first eight stay authorized")
    func workersPerConnection() async throws {
        let pool = try await StratumTestPool(difficulty: Self.difficulty)
        do {
            let client = try pool.connect()
            _ = try client.call(StratumMethod.subscribe, [])
            for index in 0..<8 {
                let answer = try client.call(StratumMethod.authorize, [.string(StratumTestPool.miner.text + ".w\(index)"), ""])
                #expect(answer.result == true)
            }
            let ninth = try client.call(StratumMethod.authorize, [.string(StratumTestPool.miner.text + ".w8"), ""])
            #expect(ninth.error == StratumError(.unauthorizedWorker, "at most 8 workers per connection"))
            // Authorizing a name again is not a new worker.
            #expect(try client.call(StratumMethod.authorize, [.string(StratumTestPool.miner.text + ".w3"), ""]).result == true)
            let info = try await pool.info()
            #expect(info["sessions"]?.arrayValue?.first?["workers"]?.arrayValue?.count == 8)
        }
        await pool.shutdown()
    }

    @Test("past the per-IP cap a connection is refused; a closed one frees its address's slot")
    func perAddressCap() async throws {
        let pool = try await StratumTestPool(difficulty: Self.difficulty) { settings in settings.maxConnectionsPerIP = 2 }
        do {
            let first = try pool.connect()
            let second = try pool.connect()
            #expect(try first.call(StratumMethod.subscribe, []).error == nil)
            #expect(try second.call(StratumMethod.subscribe, []).error == nil)
            let third = try pool.connect()
            #expect(third.isClosedByServer())
            #expect(try await pool.waitForConnections(2))
            _ = try first.call(StratumMethod.authorize, ["not-an-address", ""])
            first.sendRaw([UInt8](repeating: 0x41, count: StratumMessage.maxServerLineBytes + 1))
            #expect(first.isClosedByServer())
            #expect(try await pool.waitForConnections(1))
            let fourth = try pool.connect()
            #expect(try fourth.call(StratumMethod.subscribe, []).error == nil)
            // A flood of refused connections is one warning line (per ten seconds), with a count.
            for _ in 0..<20 { #expect(try pool.connect().isClosedByServer()) }
            let refusals = pool.logged.all.filter { $0.contains("refused") }
            #expect(refusals.count == 1 && refusals.first?.contains("stratummaxconnectionsperip") == true, "\(refusals)")
        }
        await pool.shutdown()
    }

    @Test("a connection that authorizes but never subscribes is closed after the idle timeout; one that does both stays")
    func authorizedButNotSubscribed() async throws {
        let pool = try await StratumTestPool(difficulty: Self.difficulty) { settings in
            settings.idleTimeout = 0.3
            settings.tickInterval = 0.05
        }
        do {
            let lazy = try pool.connect()
            #expect(try lazy.call(StratumMethod.authorize, [.string(StratumTestPool.miner.text), ""]).result == true)
            let working = try pool.connect()
            _ = try working.call(StratumMethod.subscribe, [])
            _ = try working.call(StratumMethod.authorize, [.string(StratumTestPool.miner.text + ".rig"), ""])
            #expect(lazy.isClosedByServer())
            #expect(try await pool.waitForConnections(1))
            #expect(try working.call(StratumMethod.configure, [[], [:]]).error == nil)
        }
        await pool.shutdown()
    }

    @Test("a close waiting behind answers the peer never reads happens anyway after the grace time")
    func hardCloseOfNonReader() async throws {
        // The high water mark is out of reach, so only the grace timer can close the connection.
        let pool = try await StratumTestPool(difficulty: Self.difficulty) { settings in
            settings.maxPendingBytes = 1 << 30
            settings.closeGraceSeconds = 0.3
        }
        do {
            let slow = try pool.connect(receiveBufferBytes: 4_096)
            slow.sendUnreadAnswerFlood()
            slow.sendRaw([UInt8](repeating: 0x41, count: StratumMessage.maxServerLineBytes + 1))
            // Never reading, the client still sees the server forget the connection.
            #expect(try await pool.waitForConnections(0))
        }
        await pool.shutdown()
    }

    @Test("the pool remembers shares per template across connections, and forgets templates of an older tip")
    func poolWideShareMemory() async throws {
        // The template loop builds the first template, then sleeps past the test: only this test publishes.
        let pool = try await StratumTestPool(difficulty: Self.difficulty) { settings in settings.tipPollNanoseconds = 60_000_000_000 }
        do {
            let current = try #require(pool.pool.currentTemplate)
            let key = StratumPool.ShareKey(time: 7, nonce: 9)
            #expect(pool.pool.shareMemory(key, serial: current.serial, remember: false) == .new)
            #expect(pool.pool.shareMemory(key, serial: current.serial, remember: true) == .new)
            #expect(pool.pool.shareMemory(key, serial: current.serial, remember: true) == .duplicate)
            // A fee refresh on the same tip keeps the older template's shares.
            let refreshed = PoolTemplate(serial: pool.pool.nextTemplateSerial(), template: current.template, transactionCount: 0,
                                         fees: 0, created: 0, clean: false)
            pool.pool.publish(refreshed)
            #expect(pool.pool.shareMemory(key, serial: current.serial, remember: false) == .duplicate)
            var moved = current.template
            moved.header.previousHash = Hash256(bytes: [UInt8](repeating: 0x33, count: 32))!
            let newTip = PoolTemplate(serial: pool.pool.nextTemplateSerial(), template: moved, transactionCount: 0, fees: 0,
                                      created: 0, clean: true)
            pool.pool.publish(newTip)
            #expect(pool.pool.shareMemory(key, serial: current.serial, remember: false) == .forgotten)
            #expect(pool.pool.shareMemory(key, serial: newTip.serial, remember: false) == .new)
        }
        await pool.shutdown()
    }

    @Test("a block share that misses the share target is credited at the block's difficulty")
    func blockCredit() async throws {
        let pool = try await StratumTestPool(difficulty: 1e6)
        do {
            let client = try pool.connect()
            _ = try client.call(StratumMethod.subscribe, [])
            let worker = StratumTestPool.miner.text
            _ = try client.call(StratumMethod.authorize, [.string(worker), ""])
            #expect(try client.nextNotification().method == StratumMethod.setDifficulty)
            let job = try StratumJob(notifyParams: try client.nextNotification().params)
            let prefix = try #require(pool.pool.allSessions.first?.prefix)
            let shareTarget = ShareDifficulty.target(difficulty: 1e6, powLimit: RPCTestNode.regtest.powLimit)
            let nonce = try ShareSearch.find(.block, job: job, prefix: prefix, shareTarget: shareTarget)
            let share = ShareSubmission(worker: worker, jobID: job.id, time: job.header.time, nonce: nonce)
            #expect(try client.call(StratumMethod.submit, share.params).result == true)
            let blockDifficulty = ShareDifficulty.difficulty(target: try job.header.compactTarget.target(),
                                                             powLimit: RPCTestNode.regtest.powLimit)
            let totals = try #require(try await pool.info()["totals"])
            #expect(totals["blocks"] == .int(1) && totals["acceptedwork"]?.doubleValue == blockDifficulty)
            #expect(blockDifficulty < 2)
        }
        await pool.shutdown()
    }

    @Test("jobs follow the templates in order: clean only when the previous block changes, never an older template after a newer one")
    func jobOrderAndClean() async throws {
        let pool = try await StratumTestPool(difficulty: Self.difficulty) { settings in settings.tipPollNanoseconds = 60_000_000_000 }
        do {
            let client = try pool.connect()
            _ = try client.call(StratumMethod.subscribe, [])
            _ = try client.call(StratumMethod.authorize, [.string(StratumTestPool.miner.text), ""])
            #expect(try client.nextNotification().method == StratumMethod.setDifficulty)
            let first = try StratumJob(notifyParams: try client.nextNotification().params)
            #expect(first.cleanJobs)
            let current = try #require(pool.pool.currentTemplate)
            let session = try #require(pool.pool.allSessions.first)
            // A template built on a new tip but flagged as a fee refresh still goes out clean.
            var moved = current.template
            moved.header.previousHash = Hash256(bytes: [UInt8](repeating: 0x44, count: 32))!
            let newTip = PoolTemplate(serial: pool.pool.nextTemplateSerial(), template: moved, transactionCount: 0, fees: 0,
                                      created: 0, clean: false)
            pool.pool.publish(newTip)
            let second = try StratumJob(notifyParams: try client.nextNotification().params)
            #expect(second.cleanJobs && second.header.previousHash == moved.header.previousHash)
            // The older template arriving late is skipped; a fee refresh on the same tip is not clean.
            try await session.eventLoop.submit { session.deliver(current) }.get()
            var richer = moved
            richer.header.time += 1
            let refresh = PoolTemplate(serial: pool.pool.nextTemplateSerial(), template: richer, transactionCount: 0, fees: 0,
                                       created: 0, clean: true)
            pool.pool.publish(refresh)
            let third = try StratumJob(notifyParams: try client.nextNotification().params)
            #expect(!third.cleanJobs && third.header.time == richer.header.time)
        }
        await pool.shutdown()
    }

    @Test("a connection's handler leaving the pipeline frees its session and prefix, once")
    func freedOnHandlerRemoval() async throws {
        let pool = try await StratumTestPool(difficulty: Self.difficulty)
        do {
            let client = try pool.connect()
            _ = try client.call(StratumMethod.subscribe, [])
            #expect(try await pool.waitForConnections(1))
            let session = try #require(pool.pool.allSessions.first)
            let handler = try await session.channel.pipeline.handler(type: StratumConnectionHandler.self).get()
            try await session.channel.pipeline.removeHandler(handler).get()
            #expect(try await pool.waitForConnections(0))
            // Closing the connection later does not free it a second time.
            try await session.channel.close()
            let other = try pool.connect()
            #expect(try other.call(StratumMethod.subscribe, []).error == nil)
            #expect(try await pool.waitForConnections(1))
        }
        await pool.shutdown()
    }
}
}
