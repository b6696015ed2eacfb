// `StratumMiner` against a scripted pool written here (SwiftNIO on 127.0.0.1, an ephemeral
// port): every share the client sends is checked with `ShareCheck.check` the way the node's
// server checks it, and the pool's script drives job switches, refusals and dropped connections.

import Foundation
import JSONRPC
@testable import MiningClient
import NIOCore
import NIOPosix
import Primitives
import ProofOfWorkSearch
import Stratum
import Testing

/// A pool that follows a script and records what it got.
final class ScriptedPool: @unchecked Sendable {
    struct Script {
        /// The nonce prefix of each connection, in order (the last one repeats).
        var prefixes: [UInt64] = [0x1234]
        var difficulty = 65_536.0
        var refuseAuthorize = false
        /// The first connection's authorize is answered with error 20 (a busy pool), later ones normally.
        var busyFirstAuthorize = false
        /// Error codes answered to the submissions with these indices (0-based, over all connections).
        var errors: [Int: StratumErrorCode] = [:]
        /// After this many submissions, a clean job "b" replaces job "a".
        var switchAfter: Int?
        /// The first connection is closed by the pool after this many submissions.
        var dropAfter: Int?
        /// After this many submissions, a new difficulty and job "a2" (job "a"'s header again, not clean).
        var retargetAfter: Int?
        var retargetDifficulty = 262_144.0
        /// The jobs' block target; the default is far out of reach (every hit is a share, none a block).
        var blockBits: UInt32 = 0x1d00_ffff
        /// A block found on job "a" makes job "b" (clean) the current one, as a new tip would.
        var switchAfterBlock = false
        /// After this many submissions (and after the switch to "b"), job "a3": job "a"'s header again, clean.
        var returnAfter: Int?
        /// The first connection answers no submission after this many.
        var silentAfter: Int?
        /// Every connection is closed right after the first job (a pool that never lets a miner work).
        var dropAfterJob = false
    }

    struct Received {
        var connection: Int
        var submission: ShareSubmission
        var check: Result<GoodShare, ShareFailure>
    }

    let script: Script
    let powLimit: UInt256
    let jobs: [String: StratumJob]
    private let lock = NSLock()
    private(set) var received: [Received] = []
    private(set) var connections = 0
    private var currentJob = "a"
    private var switched = false
    private var retargeted = false
    private var returned = false
    /// The share difficulty in force when each job was sent (jobs are checked against it).
    private var jobDifficulty: [String: Double] = [:]
    private var difficulty: Double
    private var channels: [any Channel] = []
    private var server: (any Channel)?
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    init(script: Script) throws {
        self.script = script
        difficulty = script.difficulty
        powLimit = try CompactTarget(bits: 0x207f_ffff).target()
        let now = UInt64(Date().timeIntervalSince1970)
        func header(_ fill: String) -> BlockHeader {
            BlockHeader(version: 1, height: 9, previousHash: Hash256(hex: String(repeating: fill, count: 32))!,
                        merkleRoot: Hash256(hex: String(repeating: "cd", count: 32))!, stateRoot: .zero, time: now, bits: script.blockBits, nonce: 0)
        }
        jobs = ["a": StratumJob(id: "a", header: header("0a"), cleanJobs: true), "b": StratumJob(id: "b", header: header("0b"), cleanJobs: true),
                "a2": StratumJob(id: "a2", header: header("0a"), cleanJobs: false), "a3": StratumJob(id: "a3", header: header("0a"), cleanJobs: true)]
    }

    var all: [Received] { lock.withLock { received } }
    var connectionCount: Int { lock.withLock { connections } }

    func start() throws -> Int {
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let index = self.lock.withLock { self.connections += 1; self.channels.append(channel); return self.connections }
                    try channel.pipeline.syncOperations.addHandler(PoolConnection(pool: self, index: index))
                }
            }
        let channel = try bootstrap.bind(host: "127.0.0.1", port: 0).wait()
        server = channel
        return channel.localAddress?.port ?? 0
    }

    func stop() {
        try? server?.close().wait()
        for channel in lock.withLock({ channels }) { try? channel.close().wait() }
        try? group.syncShutdownGracefully()
    }

    func shareTarget(job: String) -> UInt256 {
        ShareDifficulty.target(difficulty: jobDifficulty[job] ?? .infinity, powLimit: powLimit)
    }

    /// `job` as sent now, under the difficulty in force (lock held).
    private func notify(_ job: String) -> StratumMessage {
        jobDifficulty[job] = difficulty
        return .notification(method: StratumMethod.notify, params: jobs[job]!.notifyParams)
    }

    func prefix(connection: Int) -> NoncePrefix {
        NoncePrefix(value: script.prefixes[min(connection, script.prefixes.count) - 1], byteCount: 2)!
    }

    /// The answers to one line from connection `index`, and whether to close it after them.
    func answer(_ message: StratumMessage, connection index: Int) -> (lines: [StratumMessage], close: Bool) {
        guard case .request(let id, let method, let params) = message else { return ([], false) }
        return lock.withLock {
            switch method {
            case StratumMethod.subscribe:
                let prefix = prefix(connection: index)
                return ([.response(id: id, result: [[["mining.notify", "1"]], .string(prefix.hex), .int(prefix.suffixByteCount)], error: nil)], false)
            case StratumMethod.authorize:
                if script.busyFirstAuthorize && index == 1 {
                    return ([.response(id: id, result: .null, error: StratumError(.other, "the pool is busy"))], false)
                }
                if script.refuseAuthorize {
                    return ([.response(id: id, result: .null, error: StratumError(.unauthorizedWorker, "no such address"))], false)
                }
                return ([.response(id: id, result: true, error: nil),
                         .notification(method: StratumMethod.setDifficulty, params: [.double(difficulty)]), notify(currentJob)], script.dropAfterJob)
            case StratumMethod.submit:
                guard let submission = try? ShareSubmission(params: params), let job = jobs[submission.jobID] else {
                    return ([.response(id: id, result: .null, error: StratumError(.other, "bad submit"))], false)
                }
                let check = ShareCheck.check(submission, job: job.header, prefix: prefix(connection: index), shareTarget: shareTarget(job: job.id),
                                             blockTarget: (try? CompactTarget(bits: job.header.bits).target()) ?? .zero,
                                             now: UInt64(Date().timeIntervalSince1970), maxFutureBlockTime: 7200)
                let number = received.count
                received.append(Received(connection: index, submission: submission, check: check))
                if index == 1, let after = script.silentAfter, received.count > after { return ([], false) }
                var lines: [StratumMessage]
                if let code = script.errors[number] {
                    lines = [.response(id: id, result: .null, error: StratumError(code, "scripted \(code)"))]
                } else if case .failure(let failure) = check {
                    lines = [.response(id: id, result: .null, error: failure.error)]
                } else {
                    lines = [.response(id: id, result: true, error: nil)]
                }
                let isBlock = (try? check.get())?.isBlock == true
                if let after = script.switchAfter, received.count >= after, !switched {
                    switched = true
                    currentJob = "b"
                    lines.append(notify("b"))
                }
                if script.switchAfterBlock, isBlock, submission.jobID == "a", !switched {
                    switched = true
                    currentJob = "b"
                    lines.append(notify("b"))
                }
                if let after = script.returnAfter, switched, received.count >= after, !returned {
                    returned = true
                    currentJob = "a3"
                    lines.append(notify("a3"))
                }
                if let after = script.retargetAfter, received.count >= after, !retargeted {
                    retargeted = true
                    difficulty = script.retargetDifficulty
                    currentJob = "a2"
                    lines += [.notification(method: StratumMethod.setDifficulty, params: [.double(difficulty)]), notify("a2")]
                }
                let drop = index == 1 && script.dropAfter.map { received.count >= $0 } == true
                return (lines, drop)
            default:
                return ([.response(id: id, result: .null, error: StratumError(.other, "unknown method \(method)"))], false)
            }
        }
    }
}

/// One pool connection: lines in, the script's answers out.
final class PoolConnection: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let pool: ScriptedPool
    let index: Int
    private var pending: [UInt8] = []

    init(pool: ScriptedPool, index: Int) {
        self.pool = pool
        self.index = index
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        pending += unwrapInboundIn(data).readableBytesView
        while let newline = pending.firstIndex(of: 0x0A) {
            let line = Array(pending[..<newline])
            pending.removeSubrange(...newline)
            guard let message = try? StratumMessage(line: line) else { continue }
            let (answers, close) = pool.answer(message, connection: index)
            for answer in answers { context.write(wrapOutboundOut(context.channel.allocator.buffer(bytes: answer.line)), promise: nil) }
            context.flush()
            if close {
                context.close(promise: nil)
                return
            }
        }
    }
}

@Suite("Mining client against a scripted pool", .serialized)
struct MiningClientPoolTests {
    /// A pool following `script`, and a miner (one CPU thread) pointed at it whose events are recorded.
    static func start(_ script: ScriptedPool.Script,
                      configure: (inout StratumMinerConfiguration) -> Void = { _ in }) throws -> (ScriptedPool, StratumMiner, Recorder) {
        let pool = try ScriptedPool(script: script)
        let recorder = Recorder()
        return (pool, try miner(port: try pool.start(), events: recorder.sink, configure: configure), recorder)
    }

    static func miner(port: Int, events: MiningEventSink,
                      configure: (inout StratumMinerConfiguration) -> Void = { _ in }) throws -> StratumMiner {
        var configuration = StratumMinerConfiguration(endpoint: MiningEndpoint(host: "127.0.0.1", port: port), user: "rcrt1worker.rig",
                                                      password: "x", userAgent: "rusty/test", powLimit: try CompactTarget(bits: 0x207f_ffff).target())
        configuration.backoff = ReconnectBackoff(initialSeconds: 0.1, maximumSeconds: 0.5)
        configure(&configuration)
        return StratumMiner(configuration: configuration, searcher: SIMDPoWSearch(threads: 1), events: events)
    }

    /// Events as they came, for assertions.
    final class Recorder: @unchecked Sendable {
        private let lock = NSLock()
        private var list: [MiningEvent] = []
        var sink: MiningEventSink { MiningEventSink { event in self.lock.withLock { self.list.append(event) } } }
        var events: [MiningEvent] { lock.withLock { list } }
    }

    /// Checks what every connection got: valid shares inside its prefix, none sent twice.
    static func expectValidAndDistinct(_ received: [ScriptedPool.Received], pool: ScriptedPool) {
        var seen = Set<String>()
        for entry in received {
            if case .failure(let failure) = entry.check { Issue.record("an invalid share was sent: \(failure)") }
            #expect(pool.prefix(connection: entry.connection).owns(entry.submission.nonce))
            #expect(entry.submission.worker == "rcrt1worker.rig")
            let key = "\(entry.submission.jobID)/\(entry.submission.time)/\(entry.submission.nonce)"
            #expect(!seen.contains(key), "share \(key) was sent twice")
            seen.insert(key)
        }
    }

    @Test("shares are valid, inside the prefix and distinct; a clean job switches work; 21/22/23 are counted")
    func sharesAndJobSwitch() throws {
        let (pool, miner, recorder) = try Self.start(.init(errors: [1: .jobNotFound, 2: .duplicateShare, 3: .lowDifficultyShare], switchAfter: 6))
        defer { pool.stop() }
        // Until the pool has five shares of the new job (shares of the old one may be in flight at the switch).
        let final = try miner.run(limits: MiningLimits(duration: 60, statusInterval: 0.02)) { pool.all.filter { $0.submission.jobID == "b" }.count >= 5 }
        let received = pool.all
        Self.expectValidAndDistinct(received, pool: pool)
        #expect(final.counters.accepted >= 8)
        #expect(final.counters.stale == 1)
        #expect(final.counters.rejected == 2)
        #expect(final.counters.rejectedByReason["duplicate"] == 1 && final.counters.rejectedByReason["low-difficulty"] == 1)
        #expect(final.counters.hardwareErrors == 0)
        #expect(final.difficulty == 65_536)
        // Once a share of the new job was sent, no share of the old one follows.
        let firstB = try #require(received.firstIndex { $0.submission.jobID == "b" })
        #expect(firstB >= 6)
        #expect(received[firstB...].allSatisfy { $0.submission.jobID == "b" })
        #expect(received.allSatisfy { $0.connection == 1 })
        let events = recorder.events
        #expect(events.contains { if case .connect(_, "1234") = $0 { true } else { false } })
        #expect(events.contains { if case .summary = $0 { true } else { false } })
        #expect(events.contains { if case .share(_, _, false, let reason?, _) = $0 { reason.hasPrefix("stale") } else { false } })
    }

    @Test("once a block is sent for a job, no more shares of it are sent (they would be stale); the next job is mined")
    func blockEndsTheJob() throws {
        // Block target at the regtest limit: every share is a block.
        let (pool, miner, recorder) = try Self.start(.init(blockBits: 0x207f_ffff, switchAfterBlock: true))
        defer { pool.stop() }
        let final = try miner.run(limits: MiningLimits(duration: 60, blocks: 2, statusInterval: 5)) { false }
        let received = pool.all
        Self.expectValidAndDistinct(received, pool: pool)
        #expect(received.map(\.submission.jobID) == ["a", "b"])
        #expect(received.allSatisfy { (try? $0.check.get())?.isBlock == true })
        #expect(final.counters.blocks == 2 && final.counters.accepted == 2 && final.counters.stale == 0)
        #expect(recorder.events.filter { if case .block(_, _, true, _) = $0 { true } else { false } }.count == 2)
    }

    @Test("a new difficulty with the same header goes on where the search was; shares meet the job's own target")
    func retarget() throws {
        let (pool, miner, recorder) = try Self.start(.init(retargetAfter: 4))
        defer { pool.stop() }
        let final = try miner.run(limits: MiningLimits(duration: 60, statusInterval: 5)) { pool.all.filter { $0.submission.jobID == "a2" }.count >= 3 }
        let received = pool.all
        Self.expectValidAndDistinct(received, pool: pool)
        // Job "a2" is job "a"'s header: a search started over would find a's shares again.
        let firstJob = Set(received.filter { $0.submission.jobID == "a" }.map { "\($0.submission.time)/\($0.submission.nonce)" })
        #expect(received.filter { $0.submission.jobID == "a2" }.allSatisfy { !firstJob.contains("\($0.submission.time)/\($0.submission.nonce)") })
        #expect(final.difficulty == 262_144)
        #expect(final.counters.rejected == 0 && final.counters.stale == 0)
        #expect(recorder.events.contains { if case .difficulty(262_144) = $0 { true } else { false } })
    }

    @Test("a dropped connection is reconnected with backoff and no share is sent again")
    func reconnects() throws {
        // The same prefix and job on both connections: resuming the job must not repeat a share.
        let (pool, miner, recorder) = try Self.start(.init(dropAfter: 5))
        defer { pool.stop() }
        let final = try miner.run(limits: MiningLimits(duration: 60, shares: 12, statusInterval: 5)) { false }
        let received = pool.all
        Self.expectValidAndDistinct(received, pool: pool)
        #expect(pool.connectionCount >= 2)
        #expect(received.contains { $0.connection >= 2 })
        #expect(final.counters.accepted >= 12)
        let events = recorder.events
        #expect(events.contains { if case .disconnect = $0 { true } else { false } })
        #expect(events.contains { if case .reconnect(_, 1, let delay, _) = $0 { delay > 0 && delay <= 0.12 } else { false } })
    }

    @Test("a refused authorize ends the run with an error naming the worker")
    func refusedAuthorize() throws {
        let (pool, miner, _) = try Self.start(.init(refuseAuthorize: true))
        defer { pool.stop() }
        #expect {
            _ = try miner.run(limits: MiningLimits(duration: 30)) { false }
        } throws: { error in
            "\(error)".contains("refused worker 'rcrt1worker.rig'") && "\(error)".contains("no such address")
        }
        #expect(pool.connectionCount == 1)
    }

    @Test("with the share difficulty above the block's, a hit that is only a block is still found and submitted")
    func blockBelowShareDifficulty() throws {
        // Share difficulty 1e12 (out of reach in a test); block target at the regtest limit.
        let (pool, miner, _) = try Self.start(.init(difficulty: 1e12, blockBits: 0x207f_ffff, switchAfterBlock: true))
        defer { pool.stop() }
        let final = try miner.run(limits: MiningLimits(duration: 60, blocks: 2, statusInterval: 5)) { false }
        let received = pool.all
        Self.expectValidAndDistinct(received, pool: pool)
        #expect(received.count == 2 && received.allSatisfy { (try? $0.check.get())?.isBlock == true })
        #expect(final.counters.blocks == 2 && final.counters.accepted == 2)
    }

    @Test("a header sent again under a new id (jobs a, b, a3) resumes its search: no share of it is found or sent twice")
    func headerReturns() throws {
        let (pool, miner, _) = try Self.start(.init(switchAfter: 4, returnAfter: 8))
        defer { pool.stop() }
        let final = try miner.run(limits: MiningLimits(duration: 60, statusInterval: 5)) { pool.all.filter { $0.submission.jobID == "a3" }.count >= 4 }
        let received = pool.all
        Self.expectValidAndDistinct(received, pool: pool)
        let firstJob = Set(received.filter { $0.submission.jobID == "a" }.map { "\($0.submission.time)/\($0.submission.nonce)" })
        #expect(!firstJob.isEmpty)
        #expect(received.filter { $0.submission.jobID == "a3" }.allSatisfy { !firstJob.contains("\($0.submission.time)/\($0.submission.nonce)") })
        #expect(final.counters.rejected == 0)
    }

    @Test("a pool that stops answering submissions is left after the timeout and reconnected")
    func unansweredSubmissions() throws {
        let (pool, miner, recorder) = try Self.start(.init(silentAfter: 3)) { $0.submitTimeoutSeconds = 0.5; $0.maxInFlight = 4 }
        defer { pool.stop() }
        let final = try miner.run(limits: MiningLimits(duration: 60, statusInterval: 5)) { pool.all.contains { $0.connection >= 2 } }
        Self.expectValidAndDistinct(pool.all, pool: pool)
        #expect(pool.connectionCount >= 2)
        #expect(recorder.events.contains { if case .disconnect(_, let reason) = $0 { reason.contains("no answer to a submission") } else { false } })
        #expect(final.counters.accepted >= 3)
    }

    @Test("a pool that drops every connection after its job is retried ever more slowly (the backoff is not reset by a job)")
    func backoffGrows() throws {
        let (pool, miner, recorder) = try Self.start(.init(dropAfterJob: true)) { $0.backoff = ReconnectBackoff(initialSeconds: 0.05, maximumSeconds: 5) }
        defer { pool.stop() }
        _ = try miner.run(limits: MiningLimits(duration: 30, statusInterval: 5)) { pool.connectionCount >= 5 }
        let delays = recorder.events.compactMap { if case .reconnect(_, let attempt, let delay, _) = $0 { (attempt, delay) } else { nil } }
        #expect(delays.count >= 4)
        #expect(delays.map(\.0).prefix(4) == [1, 2, 3, 4])
        // 0.05, 0.1, 0.2, 0.4 s (+-20%).
        #expect(delays.count >= 4 && delays[3].1 >= 0.3)
    }

    @Test("a connection that completes after stop() is closed at once (shutdown never waits on it)")
    func connectionAfterStopIsClosed() throws {
        let pool = try ScriptedPool(script: .init())
        let port = try pool.start()
        defer { pool.stop() }
        let configuration = StratumMinerConfiguration(endpoint: MiningEndpoint(host: "127.0.0.1", port: port), user: "rcrt1worker.rig",
                                                      password: "x", userAgent: "rusty/test", powLimit: pool.powLimit)
        let session = StratumSession(configuration: configuration, stats: MiningStats(), events: Recorder().sink)
        let generation = session.beginConnection()
        let channel = try ClientBootstrap(group: pool.group).connect(host: "127.0.0.1", port: port).wait()
        session.stop()
        session.attach(channel, generation: generation)
        // Closed by attach: the close completes without anyone else closing it.
        let closed = DispatchSemaphore(value: 0)
        channel.closeFuture.whenComplete { _ in closed.signal() }
        #expect(closed.wait(timeout: .now() + 5) == .success)
        channel.close(promise: nil)
    }

    @Test("an authorize refused with another error than 24 (a busy pool) is retried on a new connection")
    func busyPoolIsRetried() throws {
        let (pool, miner, recorder) = try Self.start(.init(busyFirstAuthorize: true))
        defer { pool.stop() }
        let final = try miner.run(limits: MiningLimits(duration: 60, shares: 2, statusInterval: 5)) { false }
        #expect(pool.connectionCount >= 2 && final.counters.accepted >= 2)
        #expect(recorder.events.contains { if case .disconnect(_, let reason) = $0 { reason.contains("the pool is busy") } else { false } })
    }
}
