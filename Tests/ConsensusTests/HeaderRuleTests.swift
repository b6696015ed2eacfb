import ChainParams
import Consensus
import Primitives
import Testing

struct HeaderRuleTests {
    @Test("header rules directly: previous hash and the median of the last 11")
    func headerRules() throws {
        let parameters = try ConsensusParameters(ChainParameters.builtIn("regtest"))
        let genesis = parameters.chain.genesisBlock().header
        var header = genesis
        header.height = 1
        header.previousHash = genesis.hash
        header.bits = parameters.requiredBits(parentHeight: 0, parentTime: genesis.time)
        header.time = genesis.time + 1
        #expect(throws: Never.self) {
            try HeaderRules.check(header, parentHash: genesis.hash, parentHeight: 0, parentTime: genesis.time,
                                  recentTimes: [genesis.time], now: genesis.time + 100, parameters: parameters)
        }
        #expect(throws: Rejection(.headerPrevHash)) {
            try HeaderRules.check(header, parentHash: .zero, parentHeight: 0, parentTime: genesis.time,
                                  recentTimes: [genesis.time], now: genesis.time + 100, parameters: parameters)
        }
        #expect(HeaderRules.medianTime([5, 1, 9, 3, 7, 2, 8, 4, 6, 11, 10]) == 6)
        // A clock near 2^64: now + 7,200 s saturates instead of wrapping below the header time.
        #expect(throws: Never.self) {
            try HeaderRules.check(header, parentHash: genesis.hash, parentHeight: 0, parentTime: genesis.time,
                                  recentTimes: [genesis.time], now: .max - 10, parameters: parameters)
        }
    }
}
