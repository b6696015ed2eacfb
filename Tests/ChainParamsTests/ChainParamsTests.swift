import ChainParams
import Foundation
import Primitives
import Testing
import TestSupport

struct ChainParamsTests {
    @Test("built-in networks: mainnet, testnet, regtest, each with a genesis block valid under its own parameters",
          arguments: ["mainnet", "testnet", "regtest"])
    func genesisIsValid(network: String) throws {
        let parameters = try ChainParameters.builtIn(network)
        #expect(parameters.name == network)
        let genesis = parameters.genesisBlock()
        let target = try parameters.genesisBits.target()
        #expect(ProofOfWork.meets(genesis.hash, target: target))
        #expect(!(try parameters.powLimit.target() < target))
        #expect(genesis.header.height == 0 && genesis.header.previousHash == .zero)
        #expect(genesis.transactions.count == 1 && genesis.transactions[0].isCoinbase)
        #expect(genesis.transactions[0].lockTime == 0)
        #expect(genesis.header.merkleRoot == genesis.transactions[0].txid)
        #expect(genesis.header.stateRoot == genesis.computeStateRoot())
        #expect(try Block(decoding: genesis.encoded) == genesis)
        #expect(parameters.magicBytes.count == 4)
        #expect(genesis.transactions[0].outputs[0].value == Amount.coins(500))
    }

    @Test("the Config/ files in the tree are the ones embedded in the binary")
    func embeddedMatchesTree() throws {
        for network in ["mainnet", "testnet", "regtest"] {
            let file = TestPaths.packageRoot.appendingPathComponent("Config/\(network).json")
            #expect(try ChainParameters.load(contentsOf: file) == ChainParameters.builtIn(network))
        }
        #expect(ChainParameters.builtInNetworks == ["mainnet", "regtest", "testnet"])
    }

    @Test("networks differ in magic and ports")
    func distinctNetworks() throws {
        let all = try ["mainnet", "testnet", "regtest"].map(ChainParameters.builtIn)
        #expect(Set(all.map(\.magic)).count == 3)
        #expect(Set(all.map(\.ports.p2p)).count == 3)
        #expect(Set(all.map { $0.genesisBlock().hash }).count == 3)
    }

    @Test("the subsidy schedule issues at most the money supply")
    func subsidySchedule() throws {
        let parameters = try ChainParameters.builtIn("mainnet")
        // Total issuance stays within the money supply.
        var total: UInt64 = 0
        for era in 0..<64 { total += (parameters.subsidy.initialBaseUnits >> UInt64(era)) * parameters.subsidy.halvingInterval }
        #expect(total <= Amount.maxMoney.baseUnits)
    }

    @Test("bad parameter files are rejected with a reason")
    func badFiles() throws {
        let good = try JSONEncoder().encode(try ChainParameters.builtIn("regtest"))
        #expect(throws: ChainParameters.LoadError.self) { try ChainParameters.parse(Data("{".utf8), source: "x") }
        #expect(throws: ChainParameters.LoadError.self) { try ChainParameters.builtIn("moonnet") }
        for (key, value) in [("nonce", "1234567"), ("bits", "\"0x1d800000\""), ("hash", "\"00\"")] {
            var object = try JSONSerialization.jsonObject(with: good) as! [String: Any]
            var genesis = object["genesis"] as! [String: Any]
            genesis[key] = try JSONSerialization.jsonObject(with: Data(value.utf8), options: .fragmentsAllowed)
            object["genesis"] = genesis
            let data = try JSONSerialization.data(withJSONObject: object)
            #expect(throws: ChainParameters.LoadError.self, "genesis.\(key) = \(value)") {
                try ChainParameters.parse(data, source: "test")
            }
        }
        // Spacing and half-life outside their bounds (ASERT's intermediates must not overflow).
        for (path, value) in [("targetSpacingSeconds", "0"), ("targetSpacingSeconds", "604801"),
                              ("targetSpacingSeconds", "18446744073709551615"), ("asert.halfLifeSeconds", "0"),
                              ("asert.halfLifeSeconds", "4294967297")] {
            var object = try JSONSerialization.jsonObject(with: good) as! [String: Any]
            let number = try JSONSerialization.jsonObject(with: Data(value.utf8), options: .fragmentsAllowed)
            if path.hasPrefix("asert.") {
                var asert = object["asert"] as! [String: Any]
                asert["halfLifeSeconds"] = number
                object["asert"] = asert
            } else {
                object[path] = number
            }
            let data = try JSONSerialization.data(withJSONObject: object)
            #expect(throws: ChainParameters.LoadError.self, "\(path) = \(value)") {
                try ChainParameters.parse(data, source: "test")
            }
        }
    }

    @Test("a block size limit, governed or not, above what a block frame carries is refused by name")
    func blockSizeBeyondFrame() throws {
        let regtest = try ChainParameters.builtIn("regtest")
        let frameLimit = UInt64(EncodingLimits.maxRelayableBlockBytes)
        func load(_ parameters: ChainParameters) throws -> ChainParameters {
            try ChainParameters.parse(try JSONEncoder().encode(parameters), source: "test")
        }
        var governed = regtest
        let bounds = try #require(governed.governance.parameters?["maxBlockBytes"])
        governed.governance.parameters?["maxBlockBytes"]?.max = frameLimit
        _ = try load(governed) // exactly the frame's block: accepted
        governed.governance.parameters?["maxBlockBytes"]?.max = frameLimit + 1
        do {
            _ = try load(governed)
            Issue.record("a governed maximum above the block frame loaded")
        } catch let error as ChainParameters.LoadError {
            #expect(error.description.contains("governance.parameters.maxBlockBytes.max \(frameLimit + 1)"))
        }
        #expect(bounds.max <= frameLimit, "the built-in regtest bound fits the frame")
        var plain = regtest
        plain.maxBlockBytes = EncodingLimits.maxRelayableBlockBytes + 1
        #expect(throws: ChainParameters.LoadError.self) { try load(plain) }
    }
}
