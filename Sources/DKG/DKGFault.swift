import Primitives

/// Why a member is left out of the qualified set. Every fault is decided from signed,
/// broadcast messages only, so all honest members who saw the same messages decide alike
/// (and the proof-of-service layer can penalise it).
public enum DKGFault: Sendable, Equatable, CustomStringConvertible {
    /// No contribution arrived in the contribution phase.
    case noContribution
    /// The commitment vector's length is not the threshold (a longer one would silently
    /// raise the group's threshold: the check Trail of Bits found missing in several DKGs).
    case wrongCommitmentCount(got: Int, expected: Int)
    /// The proof of knowledge of the constant term does not verify.
    case invalidProofOfKnowledge
    /// The contribution addresses an encrypted share to an identifier outside the quorum.
    case shareForNonMember(UInt16)
    /// Two different signed messages of one kind: both encodings are the evidence.
    case equivocation(DKGEquivocation)
    /// A complaint against the member got no justification, or none covering the complainer.
    case unansweredComplaint(complainer: UInt16)
    /// A revealed share does not match the member's commitments.
    case invalidRevealedShare(complainer: UInt16)

    public var description: String {
        switch self {
        case .noContribution: return "no contribution"
        case let .wrongCommitmentCount(got, expected): return "\(got) commitments instead of the threshold \(expected)"
        case .invalidProofOfKnowledge: return "invalid proof of knowledge of the constant term"
        case let .shareForNonMember(recipient): return "encrypted share for identifier \(recipient), not a member"
        case let .equivocation(evidence): return "equivocation: two different signed \(evidence.messageName) messages"
        case let .unansweredComplaint(complainer): return "complaint by member \(complainer) not answered"
        case let .invalidRevealedShare(complainer): return "share revealed for member \(complainer) fails the commitments"
        }
    }
}

/// Two validly signed, different encodings of the same kind of message by one sender in one
/// session: anybody holding the session's member keys can check it.
public struct DKGEquivocation: Sendable, Equatable {
    public let sender: UInt16
    public let messageName: String
    public let first: [UInt8]
    public let second: [UInt8]
}

/// A message refused before it can count for anything (never a fault of its sender: an
/// unsigned or misaddressed message proves nothing about who sent it).
public enum DKGReceiveError: Error, Sendable, Equatable, CustomStringConvertible {
    case wrongSession(Hash256)
    case unknownSender(UInt16)
    case invalidSignature(sender: UInt16)
    case wrongPhase(message: String, phase: DKGPhase)

    public var description: String {
        switch self {
        case let .wrongSession(id): return "DKG message for session \(id), not this one"
        case let .unknownSender(sender): return "DKG message from \(sender), not a member of the quorum"
        case let .invalidSignature(sender): return "DKG message from member \(sender): operator signature does not verify"
        case let .wrongPhase(message, phase): return "\(message) arrived in the \(phase) phase"
        }
    }
}

public enum DKGPhase: Sendable, Equatable, CustomStringConvertible {
    case contribution, complaint, justification, finished

    public var description: String {
        switch self {
        case .contribution: return "contribution"
        case .complaint: return "complaint"
        case .justification: return "justification"
        case .finished: return "finished"
        }
    }
}
