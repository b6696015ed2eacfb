// `rusty mine --rpc` and `rusty mine --stratum`: the flags checked, the source built, events
// printed (text lines or JSON objects) and the exit status chosen. The work itself is the
// MiningClient module's.

import ArgumentParser
import Consensus
import Foundation
import JSONRPC
import MiningClient
import RPCServer

extension MineCommand {
    static let durationRange = 0.0...31_536_000.0
    static let statusIntervalRange = 0.1...86_400.0

    /// One hashrate format for every mode (cgminer's units).
    static func formatRate(_ rate: Double) -> String { MiningEvent.formatRate(rate) }

    /// Exactly one source, and only the flags that belong to it.
    func validateSource() throws {
        let sources = [datadir.map { _ in "--datadir" }, rpc.map { _ in "--rpc" }, stratum.map { _ in "--stratum" }].compactMap { $0 }
        guard sources.count == 1 else {
            throw ValidationError(sources.isEmpty ? "one of --datadir, --rpc or --stratum is required"
                                                  : "\(sources.joined(separator: ", ")) cannot be combined: choose one source")
        }
        if let rpc { _ = try endpoint(rpc: rpc) }
        if let stratum {
            _ = try endpoint(stratum: stratum)
            guard let user, !user.isEmpty else { throw ValidationError("--stratum needs --user ADDRESS[.worker]") }
            guard address == nil, key == nil else { throw ValidationError("--address and --key do not apply to --stratum (the pool pays --user)") }
        } else {
            if user != nil { throw ValidationError("--user applies to --stratum only") }
            if shares != nil { throw ValidationError("--shares applies to --stratum only") }
        }
        if rpcCookieFile != nil && rpc == nil { throw ValidationError("--rpc-cookie-file applies to --rpc only") }
        if datadir != nil && (duration != nil || shares != nil) { throw ValidationError("--duration and --shares apply to --rpc and --stratum") }
        if let duration, !Self.durationRange.contains(duration) {
            throw ValidationError("--duration must be between 0 and \(Int(Self.durationRange.upperBound)) seconds, not \(duration)")
        }
        if let shares { try checkCountRange("--shares", shares, Self.blocksRange) }
        guard Self.statusIntervalRange.contains(statusInterval) else {
            throw ValidationError("--status-interval must be between 0.1 and 86400 seconds, not \(statusInterval)")
        }
    }

    /// `--rpc` or `--stratum` parsed; a bad URL is a usage error naming what is wrong.
    private func endpoint(rpc: String? = nil, stratum: String? = nil) throws -> MiningEndpoint {
        do {
            if let rpc { return try MiningEndpoint.rpc(rpc) }
            return try MiningEndpoint.stratum(stratum ?? "")
        } catch {
            throw ValidationError(error.message)
        }
    }

    func runRemote() throws {
        let parameters = try consensusParameters(network)
        let searcher = try makeSearcher()
        stopCleanlyOnSignals()
        let json = json
        // Events come from the network and search threads: the flag is shared under a lock.
        let outputClosed = OutputClosedFlag()
        let events = MiningEventSink { event in
            if outputClosed.isSet { return }
            if json {
                print(event.json.text())
            } else if let line = event.text {
                print(line)
            }
            if fflush(nil) != 0 && errno == EPIPE { outputClosed.set() }
        }
        let limits = MiningLimits(duration: duration, shares: shares, blocks: blocks, statusInterval: statusInterval)
        // A closed standard output stops the run, as the help says (nobody reads the results).
        let shouldStop: @Sendable () -> Bool = { stopSignal != 0 || outputClosed.isSet }
        printError("rusty mine: \(network), backend \(searcher.name)")
        do {
            if let stratum {
                var configuration = StratumMinerConfiguration(
                    endpoint: try endpoint(stratum: stratum), user: user ?? "", password: password,
                    userAgent: "rusty/\(Rusty.version)", powLimit: parameters.powLimit)
                configuration.maxInFlight = 64
                configuration.maxFutureBlockTime = parameters.maxFutureBlockTime
                _ = try StratumMiner(configuration: configuration, searcher: searcher, events: events).run(limits: limits, shouldStop: shouldStop)
            } else if let rpc {
                var endpoint = try endpoint(rpc: rpc)
                if let rpcCookieFile {
                    do {
                        (endpoint.user, endpoint.password) = try RPCClient.readCookie(path: rpcCookieFile)
                    } catch {
                        throw CommandFailure(.invalid, "\(error)")
                    }
                }
                let configuration = RPCMinerConfiguration(endpoint: endpoint, payoutScript: payoutScript(), powLimit: parameters.powLimit)
                _ = try RPCMiner(configuration: configuration, searcher: searcher, events: events).run(limits: limits, shouldStop: shouldStop)
            }
        } catch let error as MiningRunError {
            throw CommandFailure(.invalid, error.message)
        }
        if outputClosed.isSet { printError("rusty mine: standard output closed; stopped") }
    }
}

/// Set once standard output is found closed (EPIPE).
final class OutputClosedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var closed = false
    var isSet: Bool { lock.withLock { closed } }
    func set() { lock.withLock { closed = true } }
}
