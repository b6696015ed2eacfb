// `rusty mine --stratum`: a pool client. The network runs on SwiftNIO's event loop (connect,
// subscribe, authorize, jobs and answers in, shares out, reconnect with backoff); the
// search runs on its own thread in rounds of about half a second over the connection's
// nonce prefix, re-reading the current job between rounds so a clean job takes over at the
// end of the round in progress.

import Foundation
import NIOCore
import NIOPosix
import Primitives
import ProofOfWorkSearch
import Stratum

public struct StratumMinerConfiguration: Sendable {
    public var endpoint: MiningEndpoint
    /// "ADDRESS" or "ADDRESS.worker": authorized, and the worker of every submit.
    public var user: String
    public var password: String
    public var userAgent: String
    /// The network's PoW limit: share difficulty 1.
    public var powLimit: UInt256
    /// Most submissions waiting for an answer; hits beyond are skipped (and counted).
    public var maxInFlight = 64
    /// Longest search round (seconds): how late a new job is picked up at worst.
    public var roundSeconds = 0.5
    /// A round covers at most this many expected shares (a low share target gives short rounds).
    public var sharesPerRound = 8.0
    public var backoff = ReconnectBackoff()
    public var connectTimeoutSeconds = 10.0
    /// A submission unanswered this long closes the connection (then a reconnect).
    public var submitTimeoutSeconds = 30.0
    /// A connection that lived this long resets the reconnect backoff (so does an accepted share).
    public var backoffResetSeconds = 30.0
    /// The chain's limit on a header time ahead of the clock: the time is never rolled past
    /// it (less `timeRollMargin`); the search waits for a new job instead.
    public var maxFutureBlockTime: UInt64 = 7_200
    public var timeRollMargin: UInt64 = 60

    public init(endpoint: MiningEndpoint, user: String, password: String, userAgent: String, powLimit: UInt256) {
        self.endpoint = endpoint
        self.user = user
        self.password = password
        self.userAgent = userAgent
        self.powLimit = powLimit
    }
}

public final class StratumMiner: @unchecked Sendable {
    public let configuration: StratumMinerConfiguration
    public let searcher: any PoWSearcher
    public let stats: MiningStats
    let events: MiningEventSink
    let session: StratumSession
    private let lock = NSLock()
    private var searchFailure: String?

    public init(configuration: StratumMinerConfiguration, searcher: any PoWSearcher, events: MiningEventSink, stats: MiningStats = MiningStats()) {
        self.configuration = configuration
        self.searcher = searcher
        self.stats = stats
        self.events = events
        session = StratumSession(configuration: configuration, stats: stats, events: events)
    }

    /// Mines until a limit is reached or `shouldStop` turns true; returns the final numbers.
    /// Throws when the pool refuses the worker or the search fails.
    public func run(limits: MiningLimits, shouldStop: @escaping @Sendable () -> Bool) throws(MiningRunError) -> StatusSnapshot {
        let networkDone = DispatchSemaphore(value: 0)
        Task(executorPreference: MiningTaskExecutor.shared) { [self] in
            await connectionLoop()
            networkDone.signal()
        }
        return try MiningSupervisor.run(thread: "stratum-search", stats: stats, limits: limits, events: events, shouldStop: shouldStop,
                                        failure: { session.refusalReason ?? lock.withLock { searchFailure } },
                                        stop: { session.stop() }, cleanUp: { networkDone.wait() }, work: { [self] in searchLoop() })
    }

    // MARK: Network

    private func connectionLoop() async {
        let endpoint = configuration.endpoint
        while !session.isStopped {
            let generation = session.beginConnection()
            let reason: String
            do {
                let channel = try await connect(generation: generation)
                // attach closes a channel that connected after stop().
                session.attach(channel, generation: generation)
                try? await channel.closeFuture.get()
                reason = session.detach(generation: generation)
                if session.isStopped { break }
                events.emit(.disconnect(endpoint: endpoint.description, reason: reason))
            } catch {
                reason = "cannot connect: \(Self.describe(error))"
                _ = session.detach(generation: generation)
            }
            if session.isStopped { break }
            let (delay, attempt) = session.nextDelay()
            events.emit(.reconnect(endpoint: endpoint.description, attempt: attempt, delay: delay, reason: reason))
            let until = DispatchTime.now().uptimeNanoseconds + UInt64(delay * 1e9)
            while !session.isStopped && DispatchTime.now().uptimeNanoseconds < until {
                try? await Task.sleep(nanoseconds: 20_000_000)
            }
        }
    }

    private func connect(generation: Int) async throws -> any Channel {
        let session = session
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.nanoseconds(Int64(configuration.connectTimeoutSeconds * 1e9)))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(StratumLineFramer(maxLineBytes: StratumMessage.maxClientLineBytes)))
                    try channel.pipeline.syncOperations.addHandler(StratumMessageHandler(session: session, generation: generation))
                }
            }
        return try await bootstrap.connect(host: configuration.endpoint.host, port: configuration.endpoint.port).get()
    }

    static func describe(_ error: any Error) -> String {
        if let io = error as? IOError { return String(cString: strerror(io.errnoCode)) }
        if let connection = error as? NIOConnectionError {
            if let first = connection.connectionErrors.first { return describe(first.error) }
            if let resolution = connection.dnsAAAAError ?? connection.dnsAError { return "cannot resolve \(connection.host): \(resolution)" }
        }
        return "\(error)"
    }

    // MARK: Search

    /// Where the search is in the current work: the header time and the next suffix.
    /// `exhausted`: every suffix of `time` was searched and the time may not roll yet.
    struct Cursor {
        var sequence = -1
        var time: UInt64 = 0
        var suffix: UInt64 = 0
        var exhausted = false
    }

    /// The cursors of the last few works (a header sent again resumes where it was).
    static let cursorsKept = 8

    private func searchLoop() {
        var cursor = Cursor()
        var cursors: [Int: Cursor] = [:]
        var rate = 0.0
        var rejectedBefore = MiningSupervisor.kernelRejections(searcher)
        while !session.isStopped {
            // No work (between connections), or a block was sent for it: wait for the next job.
            guard let work = session.currentWork, !session.isSolved(work.sequence) else {
                usleep(2_000)
                continue
            }
            if work.sequence != cursor.sequence {
                if cursor.sequence >= 0 { cursors[cursor.sequence] = cursor }
                cursor = cursors.removeValue(forKey: work.sequence) ?? Cursor(sequence: work.sequence, time: work.job.header.time, suffix: 0)
                while cursors.count > Self.cursorsKept, let oldest = cursors.keys.min() { cursors[oldest] = nil }
            }
            if cursor.exhausted {
                guard let time = Self.rolledTime(cursor.time, jobTime: work.job.header.time, now: UInt64(Date().timeIntervalSince1970),
                                                 configuration: configuration) else {
                    usleep(50_000)
                    continue
                }
                cursor = Cursor(sequence: cursor.sequence, time: time, suffix: 0)
            }
            let count = Self.roundSize(rate: rate, target: work.searchTarget, remaining: work.prefix.maxSuffix - cursor.suffix,
                                       configuration: configuration)
            var header = work.job.header
            header.time = cursor.time
            let job = PoWJob(header: header.encoded, target: work.searchTarget)
            guard let range = NonceRange(start: work.prefix.nonce(suffix: cursor.suffix), count: count) else {
                lock.withLock { searchFailure = "no nonce range of \(count) from suffix \(cursor.suffix) in prefix \(work.prefix.hex)" }
                return
            }
            let began = DispatchTime.now().uptimeNanoseconds
            let hits: [PoWHit]
            do { hits = try searcher.search(job, range: range) } catch {
                lock.withLock { searchFailure = "the nonce search failed: \(error)" }
                return
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - began) / 1e9
            if seconds > 0 { rate = Double(count) / seconds }
            stats.addHashes(count, devices: MiningSupervisor.deviceRates(searcher, count: count, seconds: seconds))
            let rejectedNow = MiningSupervisor.kernelRejections(searcher)
            var hardwareErrors = rejectedNow - rejectedBefore
            rejectedBefore = rejectedNow
            for hit in hits {
                // Every hit is checked again here: a backend that miscomputes costs a count, never a bad share.
                guard work.prefix.owns(hit.nonce), let checked = job.check(nonce: hit.nonce), checked.hash == hit.hash else {
                    hardwareErrors += 1
                    continue
                }
                session.submit(work, time: cursor.time, nonce: hit.nonce, hash: checked.hash,
                               isBlock: ProofOfWork.meets(checked.hash, target: work.blockTarget))
            }
            if hardwareErrors > 0 { stats.hardwareErrors(hardwareErrors) }
            // The suffix space of this time is used up: roll the time (never the version), at
            // the next round, once the chain would take it.
            if count > work.prefix.maxSuffix - cursor.suffix {
                cursor.exhausted = true
            } else {
                cursor.suffix += count
            }
        }
    }

    /// The next header time after `time`, or nil while it would pass
    /// max(job time, clock) + maxFutureBlockTime - margin (the pool would refuse its shares).
    static func rolledTime(_ time: UInt64, jobTime: UInt64, now: UInt64, configuration: StratumMinerConfiguration) -> UInt64? {
        let (next, overflow) = time.addingReportingOverflow(1)
        let (ahead, aheadOverflow) = max(jobTime, now).addingReportingOverflow(configuration.maxFutureBlockTime)
        let limit = aheadOverflow ? UInt64.max : ahead - min(ahead, configuration.timeRollMargin)
        return !overflow && next <= limit ? next : nil
    }

    /// Nonces in the next round: about `roundSeconds` at the measured rate, at most
    /// `sharesPerRound` expected shares, at least 256, within the suffixes left (`remaining` + 1).
    static func roundSize(rate: Double, target: UInt256, remaining: UInt64, configuration: StratumMinerConfiguration) -> UInt64 {
        let hashesPerShare = ProofOfWork.work(target: target).approximateDouble
        let byTime = rate > 0 ? rate * configuration.roundSeconds : Double(1 << 16)
        let size = max(256, min(byTime, hashesPerShare * configuration.sharesPerRound, 0x1p48))
        let count = UInt64(size)
        return remaining == UInt64.max ? count : min(count, remaining + 1)
    }
}
