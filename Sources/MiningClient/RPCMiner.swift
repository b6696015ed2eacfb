// `rusty mine --rpc`: solo mining against a node. getblocktemplate (with our payout script)
// gives a header, the coinbase and the transactions; the existing `Miner` searches it on
// every device; a solved block goes back by submitblock. A long poll runs beside the search
// on its own connection: when the node answers with a different template (a new tip, or
// enough new fees) the search stops at the end of its round and takes it.

import Foundation
import JSONRPC
import Mining
import Primitives
import ProofOfWorkSearch
import RPCServer

public struct RPCMinerConfiguration: Sendable {
    public var endpoint: MiningEndpoint
    public var payoutScript: [UInt8]
    public var powLimit: UInt256
    public var backoff = ReconnectBackoff()
    /// Seconds a getblocktemplate or submitblock may take (a long poll gets longer).
    public var requestTimeout = 60.0
    /// With no long poll alive (the node offers none, or it is failing), the template is
    /// fetched again this often, so a new tip is never missed for long.
    public var refreshSeconds = 30.0

    public init(endpoint: MiningEndpoint, payoutScript: [UInt8], powLimit: UInt256) {
        self.endpoint = endpoint
        self.payoutScript = payoutScript
        self.powLimit = powLimit
    }
}

public final class RPCMiner: @unchecked Sendable {
    public let configuration: RPCMinerConfiguration
    public let searcher: any PoWSearcher
    public let stats: MiningStats
    let events: MiningEventSink
    private let lock = NSLock()
    private var stopped = false
    private var failure: String?
    /// A template the long poll brought that differs from the one being searched.
    private var newer: RPCWork?
    private var longPoll: (client: RPCClient, task: Task<Void, Never>)?
    /// Whether the long poll is waiting on the node now (not failing, not backing off).
    private var longPollAlive = false
    /// `--blocks`: the work loop stops itself once this many were accepted (no extra block is mined).
    private var blockLimit: Int?

    public init(configuration: RPCMinerConfiguration, searcher: any PoWSearcher, events: MiningEventSink, stats: MiningStats = MiningStats()) {
        self.configuration = configuration
        self.searcher = searcher
        self.events = events
        self.stats = stats
    }

    /// Mines until a limit is reached (`blocks`: accepted blocks) or `shouldStop` turns true.
    public func run(limits: MiningLimits, shouldStop: @escaping @Sendable () -> Bool) throws(MiningRunError) -> StatusSnapshot {
        lock.withLock { blockLimit = limits.blocks }
        return try MiningSupervisor.run(thread: "rpc-mine", stats: stats, limits: limits, events: events, shouldStop: shouldStop,
                                        failure: { lock.withLock { failure } }, stop: { lock.withLock { stopped = true } },
                                        cleanUp: { stopLongPoll() }, work: { [self] in workLoop() })
    }

    private var isStopped: Bool { lock.withLock { stopped } }

    private func makeClient(timeout: Double) -> RPCClient {
        let endpoint = configuration.endpoint
        return RPCClient(host: endpoint.host, port: endpoint.port, user: endpoint.user, password: endpoint.password, timeout: timeout)
    }

    private func workLoop() {
        let client = makeClient(timeout: configuration.requestTimeout)
        let endpoint = configuration.endpoint.description
        let miner = Miner(searcher: searcher, roundSize: 1 << 20)
        var backoff = configuration.backoff
        var attempt = 0
        var next: RPCWork?
        var connected = false
        while !isStopped {
            let work: RPCWork
            do {
                if let taken = next {
                    work = taken
                } else {
                    work = try RPCWork(json: try Self.blocking {
                        try await client.call("getblocktemplate", params: RPCWork.request(payoutScript: self.configuration.payoutScript))
                    })
                }
                next = nil
                if !connected { events.emit(.connect(endpoint: endpoint, noncePrefix: nil)) }
                connected = true
                backoff.succeeded()
                attempt = 0
            } catch let error as RPCTemplateError {
                lock.withLock { failure = "\(error)" }
                return
            } catch let error where Self.isRetryable(error) {
                let reason = Self.describe(error)
                if connected { events.emit(.disconnect(endpoint: endpoint, reason: reason)) }
                connected = false
                attempt += 1
                let delay = backoff.nextDelay()
                events.emit(.reconnect(endpoint: endpoint, attempt: attempt, delay: delay, reason: reason))
                sleep(seconds: delay)
                continue
            } catch {
                lock.withLock { failure = "getblocktemplate failed: \(Self.describe(error))" }
                return
            }
            mine(work, miner: miner, client: client)
            next = lock.withLock { defer { newer = nil }; return newer }
        }
    }

    /// Errors worth waiting out: the node unreachable or restarting, still syncing (-10) or
    /// without peers (-9), warming up (-28). Bad credentials or a refused request end the run.
    static func isRetryable(_ error: any Error) -> Bool {
        if let transport = error as? RPCTransportError { return transport.kind != .unauthorized }
        if let answer = error as? RPCError {
            return [RPCError.clientInInitialDownload, RPCError.clientNotConnected, Self.warmingUpCode].contains(answer.code)
        }
        return false
    }

    /// bitcoind's RPC_IN_WARMUP.
    static let warmingUpCode = -28

    static func describe(_ error: any Error) -> String {
        if let answer = error as? RPCError { return "error \(answer.code): \(answer.message)" }
        return "\(error)"
    }

    /// Searches `work` until a block is found (and submitted), a newer template arrives or a stop.
    private func mine(_ work: RPCWork, miner: Miner, client: RPCClient) {
        let template = work.template
        let difficulty = template.difficulty(powLimit: configuration.powLimit)
        stats.setDifficulty(difficulty)
        events.emit(.work(source: configuration.endpoint.description, height: template.header.height, difficulty: difficulty))
        startLongPoll(after: work)
        let fetched = DispatchTime.now().uptimeNanoseconds
        let refreshAfter = UInt64(max(1, configuration.refreshSeconds) * 1e9)
        var counted = (hashes: miner.hashes, seconds: miner.seconds)
        var rejectedBefore = MiningSupervisor.kernelRejections(searcher)
        let solution: Miner.Solution?
        do {
            solution = try miner.solve(template, clock: { UInt64(Date().timeIntervalSince1970) },
                                       shouldStop: { self.lock.withLock {
                                           // Without a live long poll, nothing reports a new tip: fetch again now and then.
                                           let refresh = !self.longPollAlive && DispatchTime.now().uptimeNanoseconds &- fetched >= refreshAfter
                                           return self.stopped || self.newer != nil || refresh
                                       } }) { hashes, seconds in
                let rejectedNow = MiningSupervisor.kernelRejections(self.searcher)
                if rejectedNow > rejectedBefore { self.stats.hardwareErrors(rejectedNow - rejectedBefore) }
                rejectedBefore = rejectedNow
                let round = (hashes: hashes - counted.hashes, seconds: seconds - counted.seconds)
                self.stats.addHashes(round.hashes, devices: MiningSupervisor.deviceRates(self.searcher, count: round.hashes, seconds: round.seconds))
                counted = (hashes, seconds)
            }
        } catch {
            lock.withLock { failure = "the nonce search failed: \(error)" }
            return
        }
        guard let solution else { return }
        stopLongPoll()
        let block = solution.block
        let sent = DispatchTime.now().uptimeNanoseconds
        do {
            let answer = try Self.blocking {
                try await client.call("submitblock", params: .array([.string(HexCoding.encode(block.encoded))]))
            }
            let latency = Double(DispatchTime.now().uptimeNanoseconds - sent) / 1e6
            if answer.isNull {
                stats.accepted(isBlock: true, latency: latency)
                events.emit(.block(height: block.header.height, hash: solution.hash.hex, accepted: true, reason: nil))
                let accepted = stats.current.blocks
                lock.withLock { if let blockLimit, accepted >= blockLimit { stopped = true } }
            } else {
                let reason = answer.stringValue ?? answer.text()
                stats.rejected(reason: reason, stale: reason == "inconclusive" || reason == "duplicate", latency: latency)
                events.emit(.block(height: block.header.height, hash: solution.hash.hex, accepted: false, reason: reason))
            }
        } catch {
            events.emit(.block(height: block.header.height, hash: solution.hash.hex, accepted: false, reason: "submitblock failed: \(error)"))
            stats.rejected(reason: "submit-failed", stale: false, latency: nil)
        }
    }

    /// Long polls on `work`'s id on a connection of its own; a different answer becomes `newer`.
    /// A failed poll is retried with backoff (while it is down, the work loop refetches on a timer).
    private func startLongPoll(after work: RPCWork) {
        stopLongPoll()
        guard let id = work.longPollID else { return }
        let client = makeClient(timeout: 3_600)
        let script = configuration.payoutScript
        let previous = work.template.header
        let endpoint = configuration.endpoint.description
        let initialBackoff = configuration.backoff
        lock.withLock { longPollAlive = true }
        let task = Task(executorPreference: MiningTaskExecutor.shared) { [self] in
            var backoff = initialBackoff
            var attempt = 0
            while !Task.isCancelled && !isStopped {
                do {
                    let fresh = try RPCWork(json: try await client.call("getblocktemplate", params: RPCWork.request(payoutScript: script, longPollID: id)))
                    backoff.succeeded()
                    attempt = 0
                    lock.withLock { longPollAlive = true }
                    if fresh.longPollID != id || fresh.template.header.previousHash != previous.previousHash {
                        lock.withLock { if !stopped { newer = fresh } }
                        return
                    }
                } catch {
                    if Task.isCancelled || isStopped { return }
                    lock.withLock { longPollAlive = false }
                    attempt += 1
                    let delay = backoff.nextDelay()
                    events.emit(.notice("long poll on \(endpoint) failed (\(Self.describe(error))); retry \(attempt) in \(String(format: "%.1f", delay)) s"))
                    try? await Task.sleep(nanoseconds: UInt64(delay * 1e9))
                }
            }
        }
        lock.withLock { longPoll = (client, task) }
    }

    private func stopLongPoll() {
        guard let running = lock.withLock({ defer { longPoll = nil; longPollAlive = false }; return longPoll }) else { return }
        running.task.cancel()
        let client = running.client
        Task(executorPreference: MiningTaskExecutor.shared) { await client.close() }
    }

    private func sleep(seconds: Double) {
        let until = DispatchTime.now().uptimeNanoseconds + UInt64(max(0, seconds) * 1e9)
        while !isStopped && DispatchTime.now().uptimeNanoseconds < until { usleep(20_000) }
    }

    /// Runs `body` on the concurrency pool and waits for it (the work loop is a plain thread).
    static func blocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        Task(executorPreference: MiningTaskExecutor.shared) {
            do { box.result = .success(try await body()) } catch { box.result = .failure(error) }
            done.signal()
        }
        done.wait()
        guard let result = box.result else { throw MiningRunError("a request ended without a result") }
        return try result.get()
    }
}

/// Carries a task's result to the thread waiting on the semaphore (which orders the accesses).
private final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, any Error>?
}
