import DKG
import Primitives
import Wire

/// One member's DKG for one quorum over P2P (docs/protocol/quorum-p2p.md section 2): wraps
/// the DKG state machine, turning its signed messages into qcontrib / qcomplaint / qjustify
/// envelopes and back. The node calls the `close` methods as block heights cross the phase
/// boundaries of the quorum type's schedule; what they return is broadcast.
final class QuorumDKGMember {
    let quorumType: UInt8
    let quorumHash: Hash256
    private var participant: DKGParticipant
    private(set) var outcome: DKGOutcome?

    init(quorumType: UInt8, quorumHash: Hash256, session: DKGSession, member: UInt16, operatorSeed: [UInt8],
         encryptionSecret: [UInt8]) throws {
        var generator = SystemRandomNumberGenerator()
        participant = try DKGParticipant(session: session, identifier: member, operatorSeed: operatorSeed,
                                         encryptionSecret: encryptionSecret, using: &generator)
        self.quorumType = quorumType
        self.quorumHash = quorumHash
    }

    var session: DKGSession { participant.session }
    var member: UInt16 { participant.identifier }
    var phase: DKGPhase { participant.phase }

    private func envelope(_ message: some DKGMessage) -> QuorumDKGEnvelope {
        QuorumDKGEnvelope(quorumType: quorumType, quorumHash: quorumHash, dkgMessage: message.encoded)
    }

    /// This member's contribution, for the contribution phase.
    var contribution: QuorumMessage { .contribution(envelope(participant.contribution)) }

    /// Takes in a DKG message of this quorum. `ignore` for one of another phase (late or
    /// early: honest timing differs by a block; its signature was checked first) and for one
    /// that adds nothing (a duplicate, or an equivocator's third version), `invalid` when its
    /// sender is at fault.
    func receive(_ message: QuorumMessage) -> QuorumMessageVerdict {
        guard message.quorumType == quorumType, message.quorumHash == quorumHash else {
            return .invalid("\(message.command) wraps this quorum's DKG message under another quorum")
        }
        do {
            let new: Bool
            switch message {
            case .contribution(let e): new = try participant.receive(try DKGContribution(decoding: e.dkgMessage))
            case .complaint(let e): new = try participant.receive(try DKGComplaint(decoding: e.dkgMessage))
            case .justification(let e): new = try participant.receive(try DKGJustification(decoding: e.dkgMessage))
            default: return .ignore
            }
            return new ? .relay : .ignore
        } catch let error as DKGReceiveError {
            if case .wrongPhase = error { return .ignore }
            return .invalid("\(error)")
        } catch {
            return .invalid("malformed DKG message: \(error)")
        }
    }

    /// End of the contribution phase: a complaint when a share to us was missing or wrong.
    func closeContributionPhase() -> [QuorumMessage] {
        guard let complaint = try? participant.closeContributionPhase() else { return [] }
        return [.complaint(envelope(complaint))]
    }

    /// End of the complaint phase: a justification when this member was accused.
    func closeComplaintPhase() -> [QuorumMessage] {
        guard let justification = try? participant.closeComplaintPhase() else { return [] }
        return [.justification(envelope(justification))]
    }

    /// End of the justification phase: the outcome, the same at every honest member.
    func finish() -> DKGOutcome? {
        if outcome == nil, let finished = try? participant.finish() { outcome = finished }
        return outcome
    }
}
