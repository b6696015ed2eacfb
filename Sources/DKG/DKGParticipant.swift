import Crypto
import Ed25519
import Primitives

/// One member's side of a Pedersen DKG (FROST KeyGen with Feldman commitments, proofs of
/// knowledge and HPKE-encrypted shares) as a state machine driven by the node:
///
///     contribution --closeContributionPhase()--> complaint --closeComplaintPhase()-->
///     justification --finish()--> finished
///
/// Messages of the current phase go to `receive`; the node broadcasts what the `close`
/// calls return. Given the same messages, every honest member reaches the same outcome.
/// Deterministic given `generator` except for HPKE's ephemeral keys (swift-crypto draws them)
/// and the proof-of-knowledge nonce, which is hedged with OS randomness.
public struct DKGParticipant: Sendable {
    public let session: DKGSession
    public let identifier: UInt16
    public internal(set) var phase: DKGPhase = .contribution
    /// This member's own signed contribution, to broadcast in the contribution phase.
    public let contribution: DKGContribution

    var operatorSeed: [UInt8]
    var encryptionSecret: [UInt8]
    var polynomial: SecretPolynomial
    var contributions = MessageLog<DKGContribution>()
    /// Faults found in a (single) contribution when it arrived.
    var contributionFaults: [UInt16: DKGFault] = [:]
    var complaints = MessageLog<DKGComplaint>()
    var justifications = MessageLog<DKGJustification>()
    /// f_i(identifier) from each sender i whose share checked out (own share included).
    var receivedShares: [UInt16: Ed25519.Scalar] = [:]

    public enum SetupError: Error, Equatable, CustomStringConvertible {
        case notAMember(UInt16)
        case keysDoNotMatchSession(UInt16)
        case encryptionFailed(recipient: UInt16)

        public var description: String {
            switch self {
            case let .notAMember(id): return "DKG: identifier \(id) is not a member of the session"
            case let .keysDoNotMatchSession(id): return "DKG: the operator keys given are not member \(id)'s keys in the session"
            case let .encryptionFailed(recipient): return "DKG: HPKE encryption of the share for member \(recipient) failed"
            }
        }
    }

    /// Draws the secret polynomial and builds the signed contribution.
    public init(session: DKGSession, identifier: UInt16, operatorSeed: [UInt8], encryptionSecret: [UInt8],
                using generator: inout some RandomNumberGenerator) throws {
        guard let keys = session.member(identifier) else { throw SetupError.notAMember(identifier) }
        guard operatorSeed.count == 32, Ed25519.publicKey(seed: operatorSeed) == keys.operatorKey,
              let secret = try? Curve25519.KeyAgreement.PrivateKey(rawRepresentation: encryptionSecret),
              Array(secret.publicKey.rawRepresentation) == keys.encryptionKey
        else { throw SetupError.keysDoNotMatchSession(identifier) }
        self.session = session
        self.identifier = identifier
        self.operatorSeed = operatorSeed
        self.encryptionSecret = encryptionSecret
        polynomial = SecretPolynomial(threshold: session.threshold, using: &generator)
        let commitments = polynomial.commitments
        let proof = ProofOfKnowledge.prove(secret: polynomial.coefficients[0], constantCommitment: commitments[0],
                                           session: session.id, sender: identifier, using: &generator)
        var shares: [EncryptedShare] = []
        shares.reserveCapacity(session.memberCount - 1)
        for member in session.members where member.identifier != identifier {
            do {
                shares.append(try ShareEncryption.seal(polynomial.evaluate(at: member.identifier), to: member.encryptionKey,
                                                       session: session.id, sender: identifier, recipient: member.identifier))
            } catch { throw SetupError.encryptionFailed(recipient: member.identifier) }
        }
        contribution = DKGContribution(sessionId: session.id, sender: identifier, commitments: commitments,
                                       proofOfKnowledge: proof, encryptedShares: shares).signed(seed: operatorSeed)
        contributions.record(contribution)
        receivedShares[identifier] = polynomial.evaluate(at: identifier)
    }

    /// Checks session, sender and signature, then the phase: what every message must pass
    /// before it counts. The signature comes first, so `wrongPhase` (which callers may buffer
    /// for later) is only ever said of a message its sender really signed.
    func authenticate(_ message: some DKGMessage, expectedPhase: DKGPhase) throws(DKGReceiveError) {
        guard message.sessionId == session.id else { throw .wrongSession(message.sessionId) }
        guard let keys = session.member(message.sender) else { throw .unknownSender(message.sender) }
        guard message.hasValidSignature(operatorKey: keys.operatorKey) else { throw .invalidSignature(sender: message.sender) }
        guard phase == expectedPhase else { throw .wrongPhase(message: type(of: message).name, phase: phase) }
    }

    /// Records a contribution. A second, different one from the same sender is equivocation;
    /// a malformed one is a fault of its sender. Returns false when the message adds nothing
    /// (a duplicate, or a third version: two already prove equivocation), so it is not relayed.
    @discardableResult
    public mutating func receive(_ message: DKGContribution) throws(DKGReceiveError) -> Bool {
        try authenticate(message, expectedPhase: .contribution)
        guard contributions.record(message) else { return false }
        guard contributions.single(from: message.sender) != nil else { return true }
        if let fault = structuralFault(of: message) { contributionFaults[message.sender] = fault }
        return true
    }

    /// The checks that need no secret: commitment count, proof of knowledge, share recipients.
    func structuralFault(of message: DKGContribution) -> DKGFault? {
        guard message.commitments.count == session.threshold else {
            return .wrongCommitmentCount(got: message.commitments.count, expected: session.threshold)
        }
        guard message.proofOfKnowledge.verify(constantCommitment: message.commitments[0], session: session.id,
                                              sender: message.sender) else { return .invalidProofOfKnowledge }
        if let stray = message.encryptedShares.first(where: { session.member($0.recipient) == nil }) {
            return .shareForNonMember(stray.recipient)
        }
        return nil
    }

    /// The senders whose one contribution passed the structural checks so far.
    var acceptedContributions: [DKGContribution] {
        contributions.senders.compactMap { sender in
            contributionFaults[sender] == nil ? contributions.single(from: sender) : nil
        }
    }

    /// Ends the contribution phase: decrypts and checks this member's share from every
    /// accepted contribution; returns the signed complaint to broadcast, if any share was
    /// missing, undecryptable or wrong.
    public mutating func closeContributionPhase() throws(DKGReceiveError) -> DKGComplaint? {
        guard phase == .contribution else { throw .wrongPhase(message: "closeContributionPhase", phase: phase) }
        phase = .complaint
        var accusations: [DKGComplaint.Accusation] = []
        let secret = try? Curve25519.KeyAgreement.PrivateKey(rawRepresentation: encryptionSecret)
        var opened: [(sender: UInt16, share: Ed25519.Scalar, commitments: [Ed25519.Point])] = []
        for message in acceptedContributions where message.sender != identifier {
            guard let encrypted = message.share(for: identifier) else {
                accusations.append(.init(accused: message.sender, reason: .missingShare)); continue
            }
            guard let secret, case let .success(share) = ShareEncryption.open(encrypted, with: secret, session: session.id,
                                                                             sender: message.sender) else {
                accusations.append(.init(accused: message.sender, reason: .undecryptableShare)); continue
            }
            opened.append((message.sender, share, message.commitments))
        }
        // One batched Feldman check for all shares; one by one only when it fails (to find whom to accuse).
        let allValid = FeldmanCommitments.verifyBatch(opened, of: identifier)
        for (sender, share, commitments) in opened {
            guard allValid || FeldmanCommitments.verify(share: share, of: identifier, against: commitments) else {
                accusations.append(.init(accused: sender, reason: .shareFailsCommitments)); continue
            }
            receivedShares[sender] = share
        }
        accusations.sort { $0.accused < $1.accused }
        guard !accusations.isEmpty else { return nil }
        let complaint = DKGComplaint(sessionId: session.id, sender: identifier, accusations: accusations).signed(seed: operatorSeed)
        complaints.record(complaint)
        return complaint
    }
}
