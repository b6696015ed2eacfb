import ChainParams
import Primitives

/// The whitelist of parameters governance may change (PROTOCOL section 18.1), by the id a
/// proposal names. A parameter belongs here only when every consumer of it reads the value in
/// force (`GovernedParameters`) instead of the network's file.
public enum GovernanceParameter: UInt16, Sendable, CaseIterable, Hashable, CustomStringConvertible {
    /// The block size limit (the block-size rule, templates).
    case maxBlockBytes = 1
    /// The mempool's minimum relay fee rate, base units per 1,000 bytes.
    case minRelayFeeRate = 2
    /// Confirmations after which a transaction counts as finalized.
    case finalityDepth = 3
    /// The collateral of masternodes registered from the activation on (existing ones keep theirs).
    case masternodeCollateral = 4

    /// The name in Config's `governance.parameters`, in RPC and in logs.
    public var name: String {
        switch self {
        case .maxBlockBytes: return "maxBlockBytes"
        case .minRelayFeeRate: return "minRelayFeeRate"
        case .finalityDepth: return "finalityDepth"
        case .masternodeCollateral: return "masternodeCollateral"
        }
    }

    public var description: String { name }

    public init?(name: String) {
        guard let found = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = found
    }

    /// The value at the chain's start: the network file's own field.
    public func initialValue(_ chain: ChainParameters) -> UInt64 {
        switch self {
        case .maxBlockBytes: return UInt64(clamping: chain.maxBlockBytes)
        case .minRelayFeeRate: return chain.relayPolicy.minRelayFeeRate
        case .finalityDepth: return chain.finalityDepth
        case .masternodeCollateral: return chain.masternodes.collateralBaseUnits ?? 0
        }
    }

    /// The hard limits no network file may exceed (what the value's consumers can represent).
    var absoluteRange: ClosedRange<UInt64> {
        switch self {
        case .maxBlockBytes: return 1...UInt64(EncodingLimits.maxBlockBytes)
        case .minRelayFeeRate: return 0...UInt64(UInt32.max)
        case .finalityDepth: return 1...1_000_000
        case .masternodeCollateral: return 1...Amount.maxMoney.baseUnits
        }
    }
}

/// A governed parameter's bounds and maximum step, checked against its absolute range.
public struct GovernanceBounds: Sendable, Equatable {
    public var range: ClosedRange<UInt64>
    /// The most one proposal may move the value from the one scheduled before it.
    public var maxStep: UInt64

    public init(range: ClosedRange<UInt64>, maxStep: UInt64) {
        self.range = range
        self.maxStep = maxStep
    }

    /// Whether `value` is allowed as a change from `current`.
    public func allows(_ value: UInt64, from current: UInt64) -> Bool {
        range.contains(value) && (value > current ? value - current : current - value) <= maxStep
    }
}

/// The governance numbers of a network (Config/NETWORK.json `governance`), checked once.
public struct GovernanceParameters: Sendable, Equatable {
    /// The exact value of a proposal's collateral output.
    public var collateral: Amount
    public var votingBlocks: ClosedRange<UInt64>
    public var maxStartDelay: UInt64
    public var activationDelay: ClosedRange<UInt64>
    /// The whitelist as this network configures it (a parameter without bounds is off it).
    public var bounds: [GovernanceParameter: GovernanceBounds]
    /// Each parameter's value at the chain's start.
    public var initialValues: [GovernanceParameter: UInt64]

    public struct Invalid: Error, CustomStringConvertible {
        public var field: String
        public var detail: String
        public var description: String { "chain parameters: governance.\(field): \(detail)" }
    }

    public init(collateral: Amount, votingBlocks: ClosedRange<UInt64>, maxStartDelay: UInt64, activationDelay: ClosedRange<UInt64>,
                bounds: [GovernanceParameter: GovernanceBounds], initialValues: [GovernanceParameter: UInt64]) {
        self.collateral = collateral
        self.votingBlocks = votingBlocks
        self.maxStartDelay = maxStartDelay
        self.activationDelay = activationDelay
        self.bounds = bounds
        self.initialValues = initialValues
    }

    public init(_ chain: ChainParameters) throws {
        let g = chain.governance
        func required(_ value: UInt64?, _ field: String) throws -> UInt64 {
            guard let value else { throw Invalid(field: field, detail: "missing") }
            return value
        }
        guard let units = g.collateralBaseUnits, units > 0, let collateral = Amount(baseUnits: units) else {
            throw Invalid(field: "collateralBaseUnits", detail: "missing or out of range")
        }
        let minVoting = try required(g.minVotingBlocks, "minVotingBlocks"), maxVoting = try required(g.maxVotingBlocks, "maxVotingBlocks")
        guard minVoting > 0, minVoting <= maxVoting else { throw Invalid(field: "minVotingBlocks", detail: "must be in 1...maxVotingBlocks") }
        let startDelay = try required(g.maxStartDelay, "maxStartDelay")
        let minActivation = try required(g.minActivationDelay, "minActivationDelay")
        let maxActivation = try required(g.maxActivationDelay, "maxActivationDelay")
        // A change applies after its deadline block, never in it: the tally runs at its end.
        guard minActivation > 0, minActivation <= maxActivation else {
            throw Invalid(field: "minActivationDelay", detail: "must be in 1...maxActivationDelay")
        }
        // Heights stay far from overflow: start + voting + activation fits easily.
        guard startDelay <= 1 << 32, maxVoting <= 1 << 32, maxActivation <= 1 << 32 else {
            throw Invalid(field: "maxVotingBlocks", detail: "delays and windows must be at most 2^32 blocks")
        }
        var bounds = [GovernanceParameter: GovernanceBounds]()
        var initial = [GovernanceParameter: UInt64]()
        for (name, stated) in g.parameters ?? [:] {
            guard let parameter = GovernanceParameter(name: name) else {
                throw Invalid(field: "parameters.\(name)", detail: "not a governable parameter (known: \(GovernanceParameter.allCases.map(\.name)))")
            }
            let absolute = parameter.absoluteRange
            guard stated.min <= stated.max, absolute.contains(stated.min), absolute.contains(stated.max), stated.maxStep > 0 else {
                throw Invalid(field: "parameters.\(name)", detail: "needs min <= max within \(absolute) and a positive maxStep")
            }
            let start = parameter.initialValue(chain)
            guard stated.min <= start, start <= stated.max else {
                throw Invalid(field: "parameters.\(name)", detail: "the network's own value \(start) is outside \(stated.min)...\(stated.max)")
            }
            bounds[parameter] = GovernanceBounds(range: stated.min...stated.max, maxStep: stated.maxStep)
            initial[parameter] = start
        }
        for parameter in GovernanceParameter.allCases where initial[parameter] == nil { initial[parameter] = parameter.initialValue(chain) }
        self.init(collateral: collateral, votingBlocks: minVoting...maxVoting, maxStartDelay: startDelay,
                  activationDelay: minActivation...maxActivation, bounds: bounds, initialValues: initial)
    }
}
