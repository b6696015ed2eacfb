import Crypto
@testable import DKG
import Ed25519
import FROST
import Foundation
import TestSupport

/// How a simulated member misbehaves (honest members follow the protocol).
enum Behavior: Equatable, CustomStringConvertible {
    case honest
    /// Sends no contribution (and nothing after).
    case silent
    /// Encrypts a wrong share to these members, then justifies with the true shares.
    case badShares(to: [UInt16])
    /// Wrong shares to these members, and reveals wrong shares again when accused.
    case badSharesBadJustification(to: [UInt16])
    /// Wrong shares to these members, and stays silent when accused.
    case badSharesNoJustification(to: [UInt16])
    /// Proof of knowledge response off by one.
    case badProof
    /// One commitment too many (a raised threshold) or too few.
    case commitmentCount(delta: Int)
    /// Two different, validly signed contributions.
    case doubleContribution
    /// Complains about these honest members although their shares were right.
    case falseComplaint(against: [UInt16])

    var description: String {
        switch self {
        case .honest: return "honest"
        case .silent: return "silent"
        case let .badShares(to): return "badShares\(to)"
        case let .badSharesBadJustification(to): return "badSharesBadJustification\(to)"
        case let .badSharesNoJustification(to): return "badSharesNoJustification\(to)"
        case .badProof: return "badProof"
        case let .commitmentCount(delta): return "commitmentCount\(delta)"
        case .doubleContribution: return "doubleContribution"
        case let .falseComplaint(against): return "falseComplaint\(against)"
        }
    }

    /// Whether honest members must leave this member out of Q.
    var isDisqualified: Bool {
        switch self {
        case .honest, .falseComplaint, .badShares: return false
        default: return true
        }
    }
}

struct MemberSecrets {
    let seed: [UInt8]
    let encryptionSecret: [UInt8]
}

/// n members, all simulated in one process over a perfect broadcast channel.
struct DKGSimulation {
    let session: DKGSession
    let secrets: [MemberSecrets]
    let behaviors: [Behavior]
    var participants: [DKGParticipant]

    init(threshold: Int, behaviors: [Behavior], using generator: inout SeededGenerator) throws {
        var secrets: [MemberSecrets] = []
        for _ in behaviors {
            let seed = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let encryption = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
            secrets.append(MemberSecrets(seed: seed, encryptionSecret: encryption))
        }
        let encryptionKeys = try secrets.map {
            Array(try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: $0.encryptionSecret).publicKey.rawRepresentation)
        }
        let quorumHash = Hash256(bytes: (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })!
        session = try DKGSession(quorumType: 1, quorumHash: quorumHash, threshold: threshold,
                                 operatorKeys: secrets.map { Ed25519.publicKey(seed: $0.seed) }, encryptionKeys: encryptionKeys)
        self.secrets = secrets
        self.behaviors = behaviors
        var participants: [DKGParticipant] = []
        for (index, secret) in secrets.enumerated() {
            participants.append(try DKGParticipant(session: session, identifier: UInt16(index + 1), operatorSeed: secret.seed,
                                                   encryptionSecret: secret.encryptionSecret, using: &generator))
        }
        self.participants = participants
    }

    var honestIndices: [Int] { behaviors.indices.filter { behaviors[$0] == .honest } }
    /// Misbehaving members that still receive every broadcast (by default none do).
    var extraReceivers: [Int] = []
    var receivers: [Int] { honestIndices + extraReceivers }

    /// Runs every phase; returns each member's outcome (index = identifier - 1).
    mutating func run(using generator: inout SeededGenerator) throws -> [DKGOutcome] {
        var contributions: [DKGContribution] = []
        for (index, behavior) in behaviors.enumerated() {
            contributions += try outgoingContributions(of: index, behavior, using: &generator)
        }
        for index in receivers { for message in contributions { try participants[index].receive(message) } }

        var complaints: [DKGComplaint] = []
        for index in participants.indices {
            let own = try participants[index].closeContributionPhase()
            switch behaviors[index] {
            case .silent: break
            case let .falseComplaint(against):
                let accusations = against.sorted().map { DKGComplaint.Accusation(accused: $0, reason: .shareFailsCommitments) }
                complaints.append(sign(DKGComplaint(sessionId: session.id, sender: UInt16(index + 1), accusations: accusations), index))
            default: if let own { complaints.append(own) }
            }
        }
        for index in receivers { for message in complaints { try participants[index].receive(message) } }

        var justifications: [DKGJustification] = []
        for index in participants.indices {
            // Malicious members did not receive the complaints: build their justification here.
            switch behaviors[index] {
            case .silent, .badSharesNoJustification: _ = try participants[index].closeComplaintPhase()
            case .badShares, .badSharesBadJustification:
                _ = try participants[index].closeComplaintPhase()
                if let message = try justification(of: index, from: complaints, using: &generator) { justifications.append(message) }
            default: if let own = try participants[index].closeComplaintPhase() { justifications.append(own) }
            }
        }
        for index in receivers { for message in justifications { try participants[index].receive(message) } }
        return try participants.indices.map { try participants[$0].finish() }
    }

    func sign<M: DKGMessage>(_ message: M, _ index: Int) -> M { message.signed(seed: secrets[index].seed) }

    func outgoingContributions(of index: Int, _ behavior: Behavior, using generator: inout SeededGenerator) throws -> [DKGContribution] {
        let own = participants[index].contribution
        let sender = UInt16(index + 1)
        func rebuilt(commitments: [Ed25519.Point]? = nil, proof: ProofOfKnowledge? = nil, shares: [EncryptedShare]? = nil) -> DKGContribution {
            sign(DKGContribution(sessionId: session.id, sender: sender, commitments: commitments ?? own.commitments,
                                 proofOfKnowledge: proof ?? own.proofOfKnowledge, encryptedShares: shares ?? own.encryptedShares), index)
        }
        switch behavior {
        case .honest, .falseComplaint: return [own]
        case .silent: return []
        case let .badShares(victims), let .badSharesBadJustification(victims), let .badSharesNoJustification(victims):
            let shares = try own.encryptedShares.map { share in
                guard victims.contains(share.recipient) else { return share }
                return try ShareEncryption.seal(randomScalar(using: &generator), to: session.members[Int(share.recipient) - 1].encryptionKey,
                                                session: session.id, sender: sender, recipient: share.recipient)
            }
            return [rebuilt(shares: shares)]
        case .badProof:
            let proof = own.proofOfKnowledge
            return [rebuilt(proof: ProofOfKnowledge(commitment: proof.commitment, response: proof.response + .one))]
        case let .commitmentCount(delta):
            let commitments = delta > 0 ? own.commitments + [Ed25519.Point.base(times: randomScalar(using: &generator))]
                                        : Array(own.commitments.dropLast(-delta))
            return [rebuilt(commitments: commitments)]
        case .doubleContribution:
            let twin = try DKGParticipant(session: session, identifier: sender, operatorSeed: secrets[index].seed,
                                          encryptionSecret: secrets[index].encryptionSecret, using: &generator)
            return [own, twin.contribution]
        }
    }

    /// The justification a bad-share sender broadcasts: the true shares (badShares: it then
    /// keeps its place) or fresh wrong ones (badSharesBadJustification).
    func justification(of index: Int, from complaints: [DKGComplaint], using generator: inout SeededGenerator) throws -> DKGJustification? {
        let sender = UInt16(index + 1)
        let complainers = complaints.filter { $0.accusations.contains { $0.accused == sender } }.map(\.sender).sorted()
        guard !complainers.isEmpty else { return nil }
        let revealed = complainers.map { complainer -> DKGJustification.RevealedShare in
            if case .badShares = behaviors[index] {
                return .init(complainer: complainer, share: truePolynomialShare(of: index, for: complainer))
            }
            return .init(complainer: complainer, share: randomScalar(using: &generator))
        }
        return sign(DKGJustification(sessionId: session.id, sender: sender, revealedShares: revealed), index)
    }

    /// f_sender(complainer) recomputed from the member's own (honest) encrypted share list.
    func truePolynomialShare(of index: Int, for complainer: UInt16) -> Ed25519.Scalar {
        let own = participants[index].contribution
        let secret = try! Curve25519.KeyAgreement.PrivateKey(rawRepresentation: secrets[Int(complainer) - 1].encryptionSecret)
        guard let share = own.share(for: complainer),
              case let .success(value) = ShareEncryption.open(share, with: secret, session: session.id, sender: own.sender)
        else { return .zero }
        return value
    }
}

/// Lagrange interpolation at 0 (FROST's coefficients) of (identifier, share) pairs: the group
/// secret when the pairs are `threshold` shares of one polynomial.
func interpolateAtZero(_ shares: [(UInt16, Ed25519.Scalar)]) throws -> Ed25519.Scalar {
    let identifiers = try shares.map { try Identifier($0.0) }
    var secret = Ed25519.Scalar.zero
    for (identifier, (_, share)) in zip(identifiers, shares) {
        secret = secret + share * (try Polynomial.interpolatingValue(for: identifier, in: identifiers))
    }
    return secret
}
