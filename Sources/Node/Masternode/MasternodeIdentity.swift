// The node's own masternode identity (`--masternode --operator-key-file F`): its operator
// keys and where its registration stands in the chain's list, re-evaluated at each tip.

import Masternodes
import Primitives

/// `masternode status`'s states (Dash's names).
public enum MasternodeState: String, Sendable {
    /// No registration in the list names this operator key.
    case waitingForRegistration = "WAITING_FOR_REGISTRATION"
    /// Registered, not yet `registrationMaturity` blocks old.
    case pending = "PENDING"
    /// Valid: authenticates to peers.
    case ready = "READY"
    /// Banned by proof of service until an update-service revives it.
    case poseBanned = "POSE_BANNED"
    /// The operator revoked itself (the list cleared its operator key).
    case revoked = "REVOKED"
}

/// Where this node's registration stands at one tip.
public struct MasternodeStatus: Sendable, Equatable {
    public var state: MasternodeState
    /// The registration, when the list has one for this operator (or had, for `revoked`).
    public var entry: MasternodeEntry?
    public var operatorKey: [UInt8]
    /// The proof-of-service penalty at the tip (0 without a registration).
    public var penalty: UInt32
    public var tipHeight: UInt64
}

/// Loop-confined in the peer manager. Remembers the registration it found, because a revoke
/// clears the operator key and the list can no longer be searched by it.
public struct MasternodeIdentity: Sendable {
    public let keys: OperatorKeys
    public private(set) var status: MasternodeStatus
    private var knownProTxHash: Hash256?

    public init(keys: OperatorKeys) {
        self.keys = keys
        status = MasternodeStatus(state: .waitingForRegistration, entry: nil, operatorKey: keys.operatorKey, penalty: 0, tipHeight: 0)
    }

    /// The registration's id while READY: what this node signs `mnauth` with.
    public var readyProTxHash: Hash256? { status.state == .ready ? status.entry?.proTxHash : nil }

    /// Re-evaluates against the list after the tip at `tipHeight`; returns true when the state changed.
    @discardableResult
    public mutating func update(list: MasternodeList, tipHeight: UInt64, parameters: MasternodeParameters) -> Bool {
        let previous = status
        var entry = list.byOperatorKey(keys.operatorKey)
        if entry == nil, let known = knownProTxHash, let old = list[known], old.isRevoked { entry = old }
        knownProTxHash = entry?.proTxHash ?? knownProTxHash
        let state: MasternodeState
        switch entry {
        case nil: state = .waitingForRegistration
        case let entry?:
            if entry.isRevoked { state = .revoked }
            else if entry.isBanned { state = .poseBanned }
            else if entry.isValid(at: tipHeight, maturity: parameters.registrationMaturity) { state = .ready }
            else { state = .pending }
        }
        status = MasternodeStatus(state: state, entry: entry, operatorKey: keys.operatorKey,
                                  penalty: entry?.penalty(at: tipHeight, decayPerBlock: parameters.penaltyDecayPerBlock) ?? 0,
                                  tipHeight: tipHeight)
        return previous.state != state || previous.entry?.proTxHash != entry?.proTxHash
    }
}
