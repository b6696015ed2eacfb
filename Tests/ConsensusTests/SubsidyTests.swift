import ChainParams
import Consensus
import Primitives
import Testing

struct SubsidyTests {
    @Test("subsidy halves every interval and reaches zero")
    func subsidySchedule() throws {
        let parameters = try ConsensusParameters(ChainParameters.builtIn("mainnet"))
        #expect(parameters.subsidy(height: 0) == Amount.coins(500))
        #expect(parameters.subsidy(height: 209_999) == Amount.coins(500))
        #expect(parameters.subsidy(height: 210_000) == Amount.coins(250))
        #expect(parameters.subsidy(height: 420_000) == Amount.coins(125))
        #expect(parameters.subsidy(height: 210_000 * 63) == Amount(baseUnits: 50_000_000_000 >> 63))
        #expect(parameters.subsidy(height: 210_000 * 64) == .zero)
        #expect(parameters.subsidy(height: .max) == .zero)
        // Genesis pays the first subsidy.
        #expect(parameters.chain.genesisBlock().transactions[0].outputs[0].value == parameters.subsidy(height: 0))
    }
}
