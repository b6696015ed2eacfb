import ChainParams
import Foundation
import Mempool
import Node
import Testing

/// The mempool's settings: the network's relay policy from Config/, bitcoind's option names
/// and units over it, and errors naming the setting.
@Suite struct MempoolConfigurationTests {
    typealias Support = NodeConfigurationTests

    @Test("defaults come from the network's relayPolicy: 300 MB, 336 hours, 25/101 kB packages, 100 orphans, 1,000 per kvB")
    func defaults() throws {
        let configuration = try Support.resolve(flags: ["network": ["regtest"]])
        let policy = configuration.mempoolPolicy
        let relay = try ChainParameters.builtIn("regtest").relayPolicy
        #expect(policy == MempoolPolicy(relay))
        #expect(policy.maxPoolBytes == 300_000_000 && policy.expirySeconds == 336 * 3_600)
        #expect(policy.maxAncestors == 25 && policy.maxAncestorBytes == 101_000)
        #expect(policy.maxDescendants == 25 && policy.maxDescendantBytes == 101_000)
        #expect(policy.minRelayFeeRate == 1_000 && policy.incrementalRelayFeeRate == 1_000)
        #expect(policy.maxOrphans == 100 && policy.orphanExpirySeconds == 1_200 && policy.maxReplacementEvictions == 100)
        #expect(configuration.persistMempool && configuration.trickleInterval == nil && configuration.feeFilterInterval == nil)
        #expect(try ChainParameters.builtIn("regtest").finalityDepth == 6)
        #expect(try ChainParameters.builtIn("mainnet").finalityDepth == 24)
    }

    @Test("flags, the file and the environment set every mempool option in bitcoind's units")
    func options() throws {
        let configuration = try Support.resolve(
            conf: "maxmempool=5\nmempoolexpiry=2\nminrelaytxfee=0.00002\nnopersistmempool=1\n",
            flags: ["incrementalrelayfee": ["0.00003"], "limitancestorcount": ["10"], "limitancestorsize": ["50"],
                    "limitdescendantcount": ["12"], "limitdescendantsize": ["60"], "trickleinterval": ["0.2"], "feefilterinterval": ["3"]],
            environment: ["RUSTY_MAXORPHANTX": "7"])
        let policy = configuration.mempoolPolicy
        #expect(policy.maxPoolBytes == 5_000_000 && policy.expirySeconds == 7_200)
        #expect(policy.minRelayFeeRate == 2_000 && policy.incrementalRelayFeeRate == 3_000)
        #expect(policy.maxAncestors == 10 && policy.maxAncestorBytes == 50_000)
        #expect(policy.maxDescendants == 12 && policy.maxDescendantBytes == 60_000)
        #expect(policy.maxOrphans == 7)
        #expect(!configuration.persistMempool && configuration.trickleInterval == 0.2 && configuration.feeFilterInterval == 3)
    }

    @Test("bad values are refused with the setting named")
    func errors() throws {
        let cases: [([String: [String]], String)] = [
            (["maxmempool": ["0"]], "--maxmempool"),
            (["maxmempool": ["lots"]], "--maxmempool"),
            (["mempoolexpiry": ["-1"]], "--mempoolexpiry"),
            (["minrelaytxfee": ["0.000000001"]], "--minrelaytxfee"),
            (["minrelaytxfee": ["2"]], "--minrelaytxfee"),
            (["incrementalrelayfee": ["abc"]], "--incrementalrelayfee"),
            (["limitancestorcount": ["0"]], "--limitancestorcount"),
            (["limitdescendantsize": ["2000"], "maxmempool": ["1"]], "--maxmempool"),
            (["maxorphantx": ["-5"]], "--maxorphantx"),
            (["trickleinterval": ["0"]], "--trickleinterval"),
        ]
        for (flags, named) in cases {
            let error = Support.error { try Support.resolve(flags: flags) }
            #expect(error?.message.contains(named) == true, "\(flags): \(error?.message ?? "no error")")
        }
    }
}
