import Foundation
import Node
import Primitives
import Testing
import Wallet

/// The pool server's settings: off by default, the network's port, flags and rusty.conf in
/// bitcoind's style, and errors naming the setting.
@Suite struct StratumConfigurationTests {
    typealias Support = NodeConfigurationTests
    static let keyHash = Hash256(bytes: [UInt8](repeating: 0x33, count: 32))!
    static let address = Address(keyHash: Self.keyHash, network: "regtest").text

    @Test("defaults: off, the network's stratum port, 0.0.0.0, difficulty 1024 in [1, 1e15], 3 shares a second, 10,000 connections, 64 per IP")
    func defaults() throws {
        let stratum = try Support.resolve(flags: ["network": ["regtest"]]).stratum
        #expect(!stratum.enabled && stratum.port == 23373 && stratum.bind.host == "0.0.0.0" && stratum.bind.port == 23373)
        #expect(stratum.payoutAddress == nil)
        #expect(stratum.initialDifficulty == 1024 && stratum.minimumDifficulty == 1 && stratum.maximumDifficulty == 1e15)
        #expect(stratum.sharesPerSecond == 3 && stratum.maxConnections == 10_000 && stratum.maxConnectionsPerIP == 64)
        #expect(try Support.resolve(flags: [:]).stratum.port == 3373)
    }

    @Test("flags and the file set every stratum option; min = max pins the difficulty")
    func options() throws {
        let stratum = try Support.resolve(
            conf: "regtest=1\nstratum=1\nstratumaddress=\(Self.address)\nstratumport=4000\n",
            flags: ["stratumbind": ["127.0.0.1"], "stratummindifficulty": ["0.25"],
                    "stratummaxdifficulty": ["0.25"], "stratumsharerate": ["10"], "stratummaxconnections": ["3"],
                    "stratummaxconnectionsperip": ["2"]]).stratum
        #expect(stratum.enabled && stratum.payoutAddress == Self.address)
        #expect(stratum.port == 4000 && stratum.bind.host == "127.0.0.1" && stratum.bind.port == 4000)
        #expect(stratum.initialDifficulty == 0.25 && stratum.minimumDifficulty == 0.25 && stratum.maximumDifficulty == 0.25)
        #expect(stratum.sharesPerSecond == 10 && stratum.maxConnections == 3 && stratum.maxConnectionsPerIP == 2)
        let given = try Support.resolve(flags: ["network": ["regtest"], "stratumdifficulty": ["0.5"], "stratummindifficulty": ["0.001"]])
        #expect(given.stratum.initialDifficulty == 0.5 && given.stratum.minimumDifficulty == 0.001)
    }

    @Test("bad values are refused with the setting named")
    func errors() throws {
        let regtest = ["network": ["regtest"]]
        let cases: [([String: [String]], String)] = [
            (["stratum": ["1"]], "stratumaddress"),
            (["stratum": ["1"], "stratumaddress": ["rc1notanaddress"]], "--stratumaddress"),
            (["stratumaddress": [Address(keyHash: Self.keyHash, network: "mainnet").text]], "--stratumaddress"),
            (["stratumport": ["70000"]], "--stratumport"),
            (["stratumbind": ["pool.example.org"]], "--stratumbind"),
            (["stratumdifficulty": ["0"]], "--stratumdifficulty"),
            (["stratumdifficulty": ["nan"]], "--stratumdifficulty"),
            (["stratummindifficulty": ["-1"]], "--stratummindifficulty"),
            (["stratummindifficulty": ["10"], "stratummaxdifficulty": ["5"]], "--stratummindifficulty"),
            (["stratumsharerate": ["0"]], "--stratumsharerate"),
            (["stratumdifficulty": ["0.5"]], "--stratumdifficulty"),
            (["stratummaxconnections": ["65537"]], "--stratummaxconnections"),
            (["stratummaxconnections": ["0"]], "--stratummaxconnections"),
            (["stratummaxconnectionsperip": ["0"]], "--stratummaxconnectionsperip"),
        ]
        for (flags, named) in cases {
            let error = Support.error { try Support.resolve(flags: flags.merging(regtest) { $1 }) }
            #expect(error?.message.contains(named) == true, "\(flags): \(error?.message ?? "no error")")
        }
    }
}
