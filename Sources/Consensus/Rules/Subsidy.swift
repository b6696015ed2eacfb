import Primitives

extension ConsensusParameters {
    /// Block subsidy at `height` (the most `coinbase-value` allows besides fees): the initial
    /// amount halved once per interval, zero from the 64th halving on.
    public func subsidy(height: UInt64) -> Amount {
        let halvings = height / halvingInterval
        guard halvings < 64 else { return .zero }
        return Amount(baseUnits: initialSubsidy >> halvings) ?? .zero
    }
}
