// From `rusty node`'s resolved configuration to what the daemon runs: the P2P settings,
// the signature verifier (the same choice as verify-chain's `--backend`) and the logs.

import AddressBook
import ChainParams
import Ed25519
import Foundation
import Node
import OpenCLRuntime
import Primitives
import RPCServer
import SignatureBackends
import Stratum
import Verification
import Wallet

extension NodeConfiguration {
    /// The daemon's setup; a name it cannot use (no DNS here) or an unavailable backend is an error.
    func nodeSetup() throws -> NodeSetup {
        var p2p = P2PSettings(port: Int(port))
        p2p.listen = listen
        p2p.bind = bind.map { P2PSettings.Listener(host: $0.numericHost ?? $0.host, port: Int($0.port)) }
        p2p.connect = try connect.map(Self.peerEndpoint)
        p2p.addnode = try addnode.map(Self.peerEndpoint)
        p2p.seednode = try seednode.map(Self.peerEndpoint)
        p2p.maxConnections = maxConnections
        p2p.maxOutbound = min(maxOutbound, maxConnections)
        p2p.handshakeTimeout = timeouts.handshake
        p2p.pingInterval = timeouts.pingInterval
        p2p.pingTimeout = timeouts.pingTimeout
        p2p.stallTimeout = timeouts.blockStall
        p2p.banSeconds = timeouts.banDuration
        p2p.minimumChainWork = minimumChainWork ?? .zero
        p2p.allowLocalAddresses = network == .regtest
        p2p.userAgent = "/rusty:\(Rusty.version)/"
        if let trickleInterval {
            p2p.inboundTrickleInterval = trickleInterval
            p2p.outboundTrickleInterval = trickleInterval
        }
        if let feeFilterInterval { p2p.feeFilterInterval = feeFilterInterval }
        p2p.masternodeRelayDelay = Double(masternode.relayDelayMilliseconds) / 1000
        var warnings = [String]()
        if masternode.enabled, let path = masternode.operatorKeyFile {
            do {
                let (keys, warning) = try OperatorKeyFile.load(path)
                p2p.operatorKeys = keys
                if let warning { warnings.append(warning) }
            } catch {
                throw CommandFailure(.invalid, "--masternode: \(error)")
            }
        }
        let parameters = try ChainParameters.builtIn(network.rawValue)
        p2p.fixedSeeds = (parameters.seeds ?? []).compactMap { PeerEndpoint(parsing: $0, defaultPort: port) }

        let threadCount = threads ?? activeProcessorCount()
        let verifier: any SignatureBatchVerifier
        var pipeline: VerificationPipeline.Options
        switch backend {
        case .opencl:
            do {
                guard case .opencl(let devices) = try BackendChoice.opencl.resolve() else { throw BackendUnavailable.noOpenCLDevice }
                verifier = try OpenCLSignatureVerifier(devices: devices)
            } catch {
                throw CommandFailure(.openCLUnavailable, "\(error)")
            }
            pipeline = VerificationPipeline.Options(verifier: verifier, batchSize: 32_768, contextFreeThreads: threadCount)
        default:
            let cpuBackend: Ed25519.Backend
            switch backend {
            case .auto, .simd, .opencl: cpuBackend = .detected
            case .scalar: cpuBackend = .scalar
            case .avx2: cpuBackend = .avx2
            case .avx512ifma: cpuBackend = .avx512ifma
            }
            guard cpuBackend.isSupported else { throw CommandFailure(.invalid, "--backend \(backend.rawValue) is not supported by this CPU") }
            verifier = CPUSignatureVerifier(backend: cpuBackend, threads: threadCount)
            pipeline = .cpu(backend: cpuBackend, threads: threadCount)
        }
        var setup = NodeSetup(network: network.rawValue, directory: networkDirectory, dbcacheMiB: dbcacheMiB, p2p: p2p,
                              pipeline: pipeline, verifier: verifier)
        setup.txindex = txindex
        setup.mempoolPolicy = mempoolPolicy
        setup.persistMempool = persistMempool
        setup.walletEnabled = !disableWallet
        setup.stratum = try stratumSettings()
        setup.startupWarnings = warnings
        if rpc.enabled {
            setup.rpc = try rpcSettings()
            setup.rpcCookieFile = rpc.password == nil ? rpc.cookieFile : nil
        }
        return setup
    }

    /// The pool server's settings; nil unless `stratum` is on.
    func stratumSettings() throws -> StratumServerSettings? {
        guard stratum.enabled, let payout = stratum.payoutAddress else { return nil }
        let address: Address
        do { address = try Address(parsing: payout, network: network.rawValue) } catch {
            throw CommandFailure(.invalid, "stratumaddress '\(payout)': \(error)")
        }
        let difficulty = VariableDifficultySettings(initial: stratum.initialDifficulty, minimum: stratum.minimumDifficulty,
                                                    maximum: stratum.maximumDifficulty, targetSharesPerSecond: stratum.sharesPerSecond)
        var settings = StratumServerSettings(network: network.rawValue, host: stratum.bind.numericHost ?? stratum.bind.host,
                                             port: Int(stratum.bind.port), payoutAddress: payout, payoutScript: address.lockScript,
                                             difficulty: difficulty, maxConnections: stratum.maxConnections)
        settings.maxConnectionsPerIP = stratum.maxConnectionsPerIP
        return settings
    }

    /// The RPC server's settings: listeners, allowed subnets, and credentials (the cookie is added at start).
    func rpcSettings() throws -> RPCServerSettings {
        var credentials = RPCCredentials()
        if let user = rpc.user, let password = rpc.password { credentials.entries.append(.password(user: user, password: password)) }
        for line in rpc.auth { credentials.entries.append(try RPCCredentials.parseRPCAuth(line)) }
        var settings = RPCServerSettings(listeners: rpc.bind.map { RPCServerSettings.Listener(host: $0.numericHost ?? $0.host, port: Int($0.port)) },
                                         credentials: credentials)
        settings.allowed = rpc.allowIP.compactMap(RPCSubnet.init)
        settings.workQueue = rpc.workQueue
        settings.timeoutSeconds = rpc.timeout
        return settings
    }

    /// A peer to dial: an IP literal or `localhost` (names need DNS, which the node does not do).
    static func peerEndpoint(_ endpoint: Endpoint) throws -> PeerEndpoint {
        guard let host = endpoint.numericHost,
              let parsed = PeerEndpoint(parsing: host.contains(":") ? "[\(host)]:\(endpoint.port)" : "\(host):\(endpoint.port)",
                                        defaultPort: endpoint.port)
        else { throw CommandFailure(.invalid, "'\(endpoint.text)': only IP addresses and localhost can be dialled (no DNS lookups)") }
        return parsed
    }
}
