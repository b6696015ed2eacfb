import DKG
import Ed25519
import Masternodes
import Primitives
import Quorums
import Wire

/// This node's part in one DKG of one quorum type (docs/protocol/quorum-p2p.md section 2),
/// driven by block height: the member's DKG messages, then in the commitment phase its
/// `qcommit` vote, and the other members' votes gathered until `threshold` match, when the
/// final commitment transaction can be built. Messages of a phase this member has not
/// reached yet (its peer connected the phase's first block earlier) wait and are taken in
/// at the phase change.
final class QuorumDKGRound {
    let type: QuorumType
    let quorumHash: Hash256
    let startHeight: UInt64
    /// The selected members in member order (the list at the start height).
    let members: [MasternodeEntry]
    let member: QuorumDKGMember
    private let operatorSeed: [UInt8]
    /// Phase ends this member has passed: 1 contribution, 2 complaint, 3 justification (finished).
    private(set) var closedPhases = 0
    /// Signed messages of a phase not reached yet, one per (command, DKG kind, session, sender).
    private var early: [[UInt8]: QuorumMessage] = [:]
    private(set) var outcome: DKGOutcome?
    private(set) var ownVote: QuorumCommitmentVote?
    /// Member signatures by the commitment hash they sign (member index -> signature).
    private var votes: [Hash256: (payload: QuorumCommitmentPayload, signatures: [Int: [UInt8]])] = [:]
    /// Member indices that signed two different views: their signatures count for none.
    private(set) var equivocators: Set<Int> = []

    /// nil when `ownID` is not among `members` (this node is not selected).
    init?(type: QuorumType, quorumHash: Hash256, startHeight: UInt64, members: [MasternodeEntry], ownID: Hash256,
          keys: OperatorKeys) throws {
        guard members.count >= type.threshold, let index = members.firstIndex(where: { $0.proTxHash == ownID }) else { return nil }
        let session = try DKGSession(quorumType: type.id.rawValue, quorumHash: quorumHash, threshold: type.threshold,
                                     operatorKeys: members.map(\.operatorKey), encryptionKeys: members.map(\.operatorEncryptionKey))
        member = try QuorumDKGMember(quorumType: type.id.rawValue, quorumHash: quorumHash, session: session, member: UInt16(index + 1),
                                     operatorSeed: keys.operatorSeed, encryptionSecret: keys.encryptionSecret)
        self.type = type
        self.quorumHash = quorumHash
        self.startHeight = startHeight
        self.members = members
        operatorSeed = keys.operatorSeed
    }

    var key: QuorumKey { QuorumKey(type: type.id, quorumHash: quorumHash) }
    var result: DKGResult? { outcome?.result }

    /// The messages to broadcast once the chain is at `height`: the contribution at the
    /// start, then whatever each phase end produces (several phases at once after a gap).
    func advance(to height: UInt64) -> [QuorumMessage] {
        guard height >= startHeight else { return [] }
        let offset = height - startHeight, phase = type.schedule.phaseBlocks
        var out = [QuorumMessage]()
        if closedPhases == 0, offset >= phase {
            closedPhases = 1
            out += member.closeContributionPhase()
            out += takeEarlyMessages()
        }
        if closedPhases == 1, offset >= 2 * phase {
            closedPhases = 2
            out += member.closeComplaintPhase()
            out += takeEarlyMessages()
        }
        if closedPhases == 2, offset >= 3 * phase {
            closedPhases = 3
            early = [:]
            outcome = member.finish()
            if let vote = makeVote() {
                ownVote = vote
                out.append(.commitmentVote(vote))
            }
        }
        return out
    }

    /// A DKG message or vote of this quorum from the network.
    func receive(_ message: QuorumMessage) -> QuorumMessageVerdict {
        if case .commitmentVote(let vote) = message { return receive(vote) }
        let verdict = member.receive(message)
        // Possibly early (the sender is a block ahead; its signature is checked before the
        // phase): kept for the next phase, one per sender and kind, so at most 3 per member.
        if verdict == .ignore, closedPhases < 3, let key = Self.earlyKey(message), early[key] == nil { early[key] = message }
        return verdict
    }

    /// Command, then the DKG message's kind, session id and sender (its first 35 bytes).
    private static func earlyKey(_ message: QuorumMessage) -> [UInt8]? {
        switch message {
        case .contribution(let e), .complaint(let e), .justification(let e):
            guard e.dkgMessage.count >= 35 else { return nil }
            return Array(message.command.utf8) + [0] + e.dkgMessage.prefix(35)
        default: return nil
        }
    }

    /// The kept messages of the phase just reached: those taken are returned to be relayed
    /// (the sender's own broadcast went out before this member could pass it on).
    private func takeEarlyMessages() -> [QuorumMessage] {
        let waiting = early
        early = [:]
        var relay = [QuorumMessage]()
        for (key, message) in waiting {
            switch member.receive(message) {
            case .relay: relay.append(message)
            case .ignore where closedPhases < 2: early[key] = message
            default: break
            }
        }
        return relay
    }

    /// The commitment this member's outcome says, unsigned.
    func payload(validMembers: QuorumBitset, groupKey: [UInt8], vvecHash: Hash256) -> QuorumCommitmentPayload {
        QuorumCommitmentPayload(quorumType: type.id, quorumHash: quorumHash, quorumHeight: startHeight, validMembers: validMembers,
                                groupKey: groupKey, verificationVectorHash: vvecHash, signers: QuorumBitset(count: type.size), signatures: [])
    }

    private func makeVote() -> QuorumCommitmentVote? {
        guard let result else { return nil }
        let valid = QuorumBitset(count: type.size, setting: result.qualified.map { Int($0) - 1 })
        let unsigned = payload(validMembers: valid, groupKey: result.groupKey.encoded, vvecHash: result.verificationVectorHash)
        let vote = QuorumCommitmentVote(quorumType: type.id.rawValue, quorumHash: quorumHash, member: member.member,
                                        validMemberCount: type.size, validMemberBits: valid.bytes, groupKey: result.groupKey.encoded,
                                        verificationVectorHash: result.verificationVectorHash,
                                        signature: unsigned.memberSignature(operatorSeed: operatorSeed))
        _ = receive(vote)
        return vote
    }

    /// A member's `qcommit`: its operator signature over the commitment hash of its view.
    func receive(_ vote: QuorumCommitmentVote) -> QuorumMessageVerdict {
        guard vote.quorumType == type.id.rawValue, vote.quorumHash == quorumHash else { return .invalid("qcommit for another quorum") }
        guard vote.member >= 1, Int(vote.member) <= members.count else { return .invalid("qcommit from member \(vote.member), not in the quorum") }
        guard vote.validMemberCount == type.size else { return .invalid("qcommit bitset of \(vote.validMemberCount) bits, expected \(type.size)") }
        let indices = (0..<vote.validMemberCount).filter { vote.validMemberBits[$0 / 8] & (1 << UInt8($0 % 8)) != 0 }
        let unsigned = payload(validMembers: QuorumBitset(count: type.size, setting: indices), groupKey: vote.groupKey,
                               vvecHash: vote.verificationVectorHash)
        let hash = unsigned.commitmentHash
        let index = Int(vote.member) - 1
        guard Ed25519.verify(signature: vote.signature, message: hash.bytes, publicKey: members[index].operatorKey) else {
            return .invalid("qcommit not signed by member \(vote.member)'s operator key")
        }
        if votes[hash]?.signatures[index] != nil || equivocators.contains(index) { return .ignore }
        // One view per member: a second, different vote is equivocation. It is the member's
        // fault, not the relaying peer's: relayed once as evidence, and the member's votes drop.
        if votes.contains(where: { $0.key != hash && $0.value.signatures[index] != nil }) {
            equivocators.insert(index)
            for key in votes.keys { votes[key]?.signatures[index] = nil }
            return .relay
        }
        votes[hash, default: (unsigned, [:])].signatures[index] = vote.signature
        return .relay
    }

    /// The final commitment transaction when `threshold` members signed one view (this
    /// member's own view preferred); nil before.
    func commitmentTransaction() -> Transaction? {
        let ranked = votes.sorted { a, b in
            let ownA = a.value.signatures[Int(member.member) - 1] != nil, ownB = b.value.signatures[Int(member.member) - 1] != nil
            return ownA != ownB ? ownA : a.value.signatures.count > b.value.signatures.count
        }
        guard let best = ranked.first, best.value.signatures.count >= type.threshold, !best.value.payload.isNull else { return nil }
        var payload = best.value.payload
        payload.setSignatures(best.value.signatures)
        return payload.transaction
    }

    /// This member's signing keys once the DKG succeeded.
    func signer() throws -> QuorumSigner? {
        guard let result else { return nil }
        return QuorumSigner(quorumType: type.id.rawValue, quorumHash: quorumHash, member: result.identifier,
                            memberIDs: members.map(\.proTxHash), operatorKeys: members.map(\.operatorKey), operatorSeed: operatorSeed,
                            keyPackage: try result.keyPackage(), publicKeys: try result.publicKeyPackage())
    }

    /// Votes gathered, for `quorum dkgstatus`: signatures per distinct view.
    var voteCounts: [Int] { votes.values.map(\.signatures.count).sorted(by: >) }
}
