import Ed25519

extension DKGParticipant {
    /// Ends the run: decides the qualified set Q, then (when |Q| >= threshold) the group key,
    /// the verification vector and shares, and this member's signing share. Secrets held for
    /// the run are dropped.
    public mutating func finish() throws(DKGReceiveError) -> DKGOutcome {
        guard phase == .justification else { throw .wrongPhase(message: "finish", phase: phase) }
        phase = .finished
        defer { receivedShares = [:]; Ed25519.wipe(&operatorSeed); Ed25519.wipe(&encryptionSecret) }

        var faults: [UInt16: DKGFault] = [:]
        var accepted: [UInt16: DKGContribution] = [:]
        for member in session.identifiers {
            if let evidence = contributions.equivocation(of: member) {
                faults[member] = .equivocation(evidence)
            } else if let fault = contributionFaults[member] {
                faults[member] = fault
            } else if let evidence = complaints.equivocation(of: member) ?? justifications.equivocation(of: member) {
                faults[member] = .equivocation(evidence)
            } else if let message = contributions.single(from: member) {
                accepted[member] = message
            } else {
                faults[member] = .noContribution
            }
        }
        for (member, fault) in judgeAccusations(accepted: accepted) { faults[member] = fault; accepted[member] = nil }

        let qualified = accepted.keys.sorted()
        // Every accepted sender's share to us checked out or was adopted from its justification
        // (else we complained and, unanswered, it would be out); a gap means no usable share.
        guard qualified.count >= session.threshold,
              qualified.allSatisfy({ receivedShares[$0] != nil })
        else { return .failure(DKGFailure(qualified: qualified, threshold: session.threshold, faults: faults)) }

        var signingShare = Ed25519.Scalar.zero
        for member in qualified { signingShare = signingShare + (receivedShares[member] ?? .zero) }
        let ones = [Ed25519.Scalar](repeating: .one, count: qualified.count)
        let vector = (0..<session.threshold).map { k in
            Ed25519.Point.multiScalar(ones, qualified.map { accepted[$0]?.commitments[k] ?? .identity })
        }
        let verificationShares = session.identifiers.map { FeldmanCommitments.evaluate(vector, at: $0) }
        return .success(DKGResult(session: session, identifier: identifier, qualified: qualified, groupKey: vector[0],
                                  verificationVector: vector, verificationVectorHash: DKGResult.hash(verificationVector: vector),
                                  verificationShares: verificationShares, signingShare: signingShare, faults: faults))
    }
}
