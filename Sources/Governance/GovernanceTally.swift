/// The count of a proposal at its deadline (PROTOCOL section 18.5): the last vote of each
/// masternode valid at the deadline. With `threshold` = ceil(validMasternodes / 10):
/// approved iff yes > no and yes - no >= threshold; slashed (collateral burned) iff
/// no > yes and no - yes >= threshold; otherwise rejected (collateral unlocked).
public struct GovernanceTally: Sendable, Hashable {
    public var yes: UInt32
    public var no: UInt32
    public var abstain: UInt32
    public var validMasternodes: UInt32

    public init(yes: UInt32, no: UInt32, abstain: UInt32, validMasternodes: UInt32) {
        self.yes = yes
        self.no = no
        self.abstain = abstain
        self.validMasternodes = validMasternodes
    }

    /// Counts `outcomes` (one per valid voter) against `validMasternodes`.
    public init(outcomes: some Sequence<GovernanceVoteOutcome>, validMasternodes: Int) {
        var yes: UInt32 = 0, no: UInt32 = 0, abstain: UInt32 = 0
        for outcome in outcomes {
            switch outcome {
            case .yes: yes &+= 1
            case .no: no &+= 1
            case .abstain: abstain &+= 1
            }
        }
        self.init(yes: yes, no: no, abstain: abstain, validMasternodes: UInt32(clamping: validMasternodes))
    }

    /// 10% of the valid masternodes, rounded up (exactly 10% suffices).
    public static func threshold(validMasternodes: UInt32) -> UInt32 {
        validMasternodes / 10 + (validMasternodes % 10 == 0 ? 0 : 1)
    }

    public var threshold: UInt32 { Self.threshold(validMasternodes: validMasternodes) }
    public var approved: Bool { yes > no && yes - no >= threshold }
    public var slashed: Bool { no > yes && no - yes >= threshold }
    public var result: GovernanceResult { approved ? .approved : slashed ? .slashed : .rejected }
}

/// How a proposal ended.
public enum GovernanceResult: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// The change executes at the activation height; the collateral unlocks.
    case approved = 1
    /// Not approved; the collateral unlocks.
    case rejected = 2
    /// Rejected by a margin of 10%: the collateral is burned.
    case slashed = 3

    public var description: String {
        switch self {
        case .approved: return "approved"
        case .rejected: return "rejected"
        case .slashed: return "slashed"
        }
    }
}
