import Ed25519

extension DKGParticipant {
    /// Records a complaint. A complainer that signs two different complaints equivocates:
    /// it is disqualified and its complaints are void (the same rule whichever arrives first).
    /// Returns false when the complaint adds nothing (duplicate or third version).
    @discardableResult
    public mutating func receive(_ message: DKGComplaint) throws(DKGReceiveError) -> Bool {
        try authenticate(message, expectedPhase: .complaint)
        return complaints.record(message)
    }

    /// Complainers (sorted) against each accused member, from non-equivocating complainers only.
    var complainersByAccused: [UInt16: [UInt16]] {
        var result: [UInt16: [UInt16]] = [:]
        for complainer in complaints.senders {
            guard let complaint = complaints.single(from: complainer) else { continue }
            for accusation in complaint.accusations where session.member(accusation.accused) != nil {
                result[accusation.accused, default: []].append(complainer)
            }
        }
        return result
    }

    /// Ends the complaint phase: when this member was accused, returns the signed
    /// justification revealing its share to each complainer. The secret polynomial is
    /// erased afterwards (nothing later needs it).
    public mutating func closeComplaintPhase() throws(DKGReceiveError) -> DKGJustification? {
        guard phase == .complaint else { throw .wrongPhase(message: "closeComplaintPhase", phase: phase) }
        phase = .justification
        defer { polynomial.erase() }
        guard let complainers = complainersByAccused[identifier], !complainers.isEmpty else { return nil }
        let revealed = complainers.map { DKGJustification.RevealedShare(complainer: $0, share: polynomial.evaluate(at: $0)) }
        let justification = DKGJustification(sessionId: session.id, sender: identifier, revealedShares: revealed)
            .signed(seed: operatorSeed)
        justifications.record(justification)
        return justification
    }

    /// Returns false when the justification adds nothing (duplicate or third version).
    @discardableResult
    public mutating func receive(_ message: DKGJustification) throws(DKGReceiveError) -> Bool {
        try authenticate(message, expectedPhase: .justification)
        return justifications.record(message)
    }

    /// Decides every accused member: kept when its justification reveals, for every
    /// complainer, a share that matches its commitments (a complainer adopts the share
    /// revealed to it); otherwise the fault.
    mutating func judgeAccusations(accepted: [UInt16: DKGContribution]) -> [UInt16: DKGFault] {
        var faults: [UInt16: DKGFault] = [:]
        for (accused, complainers) in complainersByAccused.sorted(by: { $0.key < $1.key }) {
            guard let contribution = accepted[accused] else { continue }   // out already
            if let evidence = justifications.equivocation(of: accused) { faults[accused] = .equivocation(evidence); continue }
            let revealed = justifications.single(from: accused)?.revealedShares ?? []
            var adopted: Ed25519.Scalar?
            for complainer in complainers {
                guard let entry = revealed.first(where: { $0.complainer == complainer }) else {
                    faults[accused] = .unansweredComplaint(complainer: complainer); break
                }
                guard FeldmanCommitments.verify(share: entry.share, of: complainer, against: contribution.commitments) else {
                    faults[accused] = .invalidRevealedShare(complainer: complainer); break
                }
                if complainer == identifier { adopted = entry.share }
            }
            if faults[accused] == nil, let adopted { receivedShares[accused] = adopted }
        }
        return faults
    }
}
