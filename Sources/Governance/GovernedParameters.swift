import Primitives

/// An approved change of one parameter, in force from `activationHeight` on.
public struct ExecutedChange: Sendable, Hashable {
    public var proposalId: Hash256
    public var parameter: GovernanceParameter
    public var value: UInt64
    /// The height of the first block the new value applies to.
    public var activationHeight: UInt64
    /// The deadline of the proposal that approved it (orders changes activating together).
    public var deadlineHeight: UInt64

    public init(proposalId: Hash256, parameter: GovernanceParameter, value: UInt64, activationHeight: UInt64, deadlineHeight: UInt64) {
        self.proposalId = proposalId
        self.parameter = parameter
        self.value = value
        self.activationHeight = activationHeight
        self.deadlineHeight = deadlineHeight
    }

    /// Application order: by activation height, then deadline, then id (PROTOCOL section 18.6).
    static func precedes(_ a: ExecutedChange, _ b: ExecutedChange) -> Bool {
        if a.activationHeight != b.activationHeight { return a.activationHeight < b.activationHeight }
        if a.deadlineHeight != b.deadlineHeight { return a.deadlineHeight < b.deadlineHeight }
        return a.proposalId < b.proposalId
    }
}

/// The value of every whitelisted parameter for a block at one height: the network's start
/// values overlaid, in order, by the executed changes active at that height.
public struct GovernedParameters: Sendable, Equatable {
    public private(set) var values: [GovernanceParameter: UInt64]

    public init(values: [GovernanceParameter: UInt64]) {
        self.values = values
    }

    /// The values at `height` given the start values and every executed change.
    public init(initial: [GovernanceParameter: UInt64], changes: [ExecutedChange], height: UInt64) {
        var values = initial
        for change in changes.sorted(by: ExecutedChange.precedes) where change.activationHeight <= height {
            values[change.parameter] = change.value
        }
        self.init(values: values)
    }

    public subscript(parameter: GovernanceParameter) -> UInt64 { values[parameter] ?? 0 }

    public var maxBlockBytes: Int { Int(clamping: self[.maxBlockBytes]) }
    public var minRelayFeeRate: UInt64 { self[.minRelayFeeRate] }
    public var finalityDepth: UInt64 { self[.finalityDepth] }
    /// The collateral a masternode registered at this height must lock.
    public var masternodeCollateral: Amount { Amount(baseUnits: self[.masternodeCollateral]) ?? .zero }
}
