import Ed25519
import Primitives
import Wire

/// A quorum as the signing messages name it.
struct QuorumID: Hashable, Sendable {
    let type: UInt8
    let hash: Hash256
}

/// The node's signing sessions (docs/protocol/quorum-p2p.md section 3): routes signing
/// messages to the session of their request, runs the collection window and coordinator
/// timeouts, and keeps recovered signatures. A member signs only requests it was asked to
/// sign itself (`sign`): commitments for a request it has not seen wait (bounded) and join
/// the session when it starts, so no member can make others sign what they did not approve.
final class QuorumSigningService {
    /// Quorums this node is a member of, with its keys.
    var memberships: [QuorumID: QuorumSigner] = [:]
    /// The group key of any active quorum (to check recovered signatures of quorums this
    /// node is not in).
    let groupKey: (QuorumID) -> [UInt8]?
    /// The 32 bytes a quorum's key signs for a topic (SigningRequest.signingDigest).
    let digest: (QuorumSigningTopic) -> [UInt8]
    let collectionWindow: Double
    let attemptTimeout: Double
    /// What this member started signing: one message per (type, request id), kept on disk.
    let record: QuorumSignedRecord

    private(set) var recovered: [QuorumSigningTopic: QuorumRecoveredSignature] = [:]
    /// Members of each quorum this node saw send a bad share or equivocate (its local standing
    /// of them): put last in the packages it builds. Logged; no peer is penalised for them.
    private(set) var faulty: [QuorumID: Set<UInt16>] = [:]
    private var sessions: [QuorumSigningTopic: (session: QuorumSigningSession, attemptStarted: Double, closed: Bool, created: Double)] = [:]
    /// Commitments for requests this node has not been asked to sign (yet), with when the first came.
    private var waiting: [QuorumSigningTopic: (commitments: [QuorumNonceCommitment], since: Double)] = [:]
    static let maxWaitingTopics = 1_000
    static let maxRecovered = 10_000

    init(groupKey: @escaping (QuorumID) -> [UInt8]?, digest: @escaping (QuorumSigningTopic) -> [UInt8],
         collectionWindow: Double = 0.25, attemptTimeout: Double = 2, record: QuorumSignedRecord = QuorumSignedRecord(datadir: nil)) {
        self.record = record
        self.groupKey = groupKey
        self.digest = digest
        self.collectionWindow = collectionWindow
        self.attemptTimeout = attemptTimeout
    }

    /// Starts signing `topic` when this node is a member of its quorum; the events are to
    /// be broadcast. Signing a running or recovered topic again is a no-op. Refused: another
    /// message under a (type, request id) this member started signing (the conflict rule), a
    /// topic whose session ended unrecovered (a restart would draw new attempt-0 nonces, which
    /// the members still running it would take for equivocation), and any request the record
    /// cannot keep on disk first.
    func sign(_ topic: QuorumSigningTopic, now: Double) throws(QuorumSignedRecord.Refusal) -> [QuorumSigningEvent] {
        let id = QuorumID(type: topic.quorumType, hash: topic.quorumHash)
        guard recovered[topic] == nil, sessions[topic] == nil, let signer = memberships[id] else { return [] }
        let request = QuorumSignedRecord.Request(type: topic.quorumType, requestID: topic.requestID)
        if record.messageHash(of: request) == topic.messageHash {
            throw QuorumSignedRecord.Refusal(reason: "request \(topic.requestID.hex) was signed before and its session ended without a signature")
        }
        try record.record(request, message: topic.messageHash)
        let session = QuorumSigningSession(signer: signer, topic: topic, message: digest(topic), avoided: faulty[id] ?? [])
        sessions[topic] = (session, now, false, now)
        var events = session.start()
        for commitment in waiting.removeValue(forKey: topic)?.commitments ?? [] { events += (try? session.receive(commitment)) ?? [] }
        return note(events, topic: topic, now: now)
    }

    /// A signing message from the network: the verdict for relay and what to broadcast.
    func receive(_ message: QuorumMessage, now: Double) -> (verdict: QuorumMessageVerdict, events: [QuorumSigningEvent]) {
        let id = QuorumID(type: message.quorumType, hash: message.quorumHash)
        if case .recoveredSignature(let signature) = message { return receive(signature, quorum: id) }
        // Not our quorum: its members' traffic is not ours to check, so not ours to relay
        // (members reach each other directly; only the recovered signature spreads).
        guard let signer = memberships[id] else { return (.ignore, []) }
        do {
            switch message {
            case .nonceCommitment(let m):
                guard let entry = sessions[m.topic] else { return (wait(m, signer: signer, now: now), []) }
                // A known equivocator's further versions add nothing (the evidence went out once).
                guard !entry.session.equivocators.contains(m.member) else { return (.ignore, []) }
                return (.relay, note(try entry.session.receive(m), topic: m.topic, now: now))
            case .signingPackage(let m):
                guard let entry = sessions[m.topic] else { return (.ignore, []) }
                return (.relay, note(try entry.session.receive(m), topic: m.topic, now: now))
            case .signatureShare(let m):
                guard let entry = sessions[m.topic] else { return (.ignore, []) }
                return (.relay, note(try entry.session.receive(m), topic: m.topic, now: now))
            default:
                return (.ignore, [])
            }
        } catch {
            return (.invalid("\(error)"), [])
        }
    }

    private func receive(_ signature: QuorumRecoveredSignature, quorum: QuorumID) -> (verdict: QuorumMessageVerdict, events: [QuorumSigningEvent]) {
        guard recovered[signature.topic] == nil else { return (.ignore, []) }
        guard let key = groupKey(quorum) ?? memberships[quorum]?.publicKeys.verifyingKey.encoded else { return (.ignore, []) }
        guard Ed25519.verify(signature: signature.signature, message: digest(signature.topic), publicKey: key) else {
            return (.invalid("recovered signature does not verify under the quorum's group key"), [])
        }
        store(signature)
        sessions[signature.topic] = nil
        return (.relay, [.recovered(signature)])
    }

    /// Keeps a correctly signed commitment for a request this node was not asked to sign (yet):
    /// one per (member, attempt) per request, attempts below the limit. Relayed only when kept:
    /// past the bounds, or a member's other version, it adds nothing here.
    private func wait(_ commitment: QuorumNonceCommitment, signer: QuorumSigner, now: Double) -> QuorumMessageVerdict {
        guard signer.isSigned(commitment, by: commitment.member) else {
            return .invalid("qsigcommit not signed by member \(commitment.member)'s operator key")
        }
        guard commitment.attempt < QuorumSigningSession.maxAttempts else { return .invalid("qsigcommit attempt \(commitment.attempt) past the limit") }
        if waiting[commitment.topic] == nil, waiting.count >= Self.maxWaitingTopics { return .ignore }
        let kept = waiting[commitment.topic]?.commitments ?? []
        guard !kept.contains(where: { $0.member == commitment.member && $0.attempt == commitment.attempt }) else { return .ignore }
        waiting[commitment.topic, default: ([], now)].commitments.append(commitment)
        return .relay
    }

    /// Timers: closes collection windows, passes over stalled coordinators.
    func tick(now: Double) -> [QuorumSigningEvent] {
        expire(now: now)
        var events = [QuorumSigningEvent]()
        for (topic, entry) in sessions {
            if !entry.closed, now - entry.attemptStarted >= collectionWindow {
                sessions[topic]?.closed = true
                events += note(entry.session.closeCollection(), topic: topic, now: now)
            } else if entry.closed, now - entry.attemptStarted >= attemptTimeout {
                sessions[topic]?.attemptStarted = now
                sessions[topic]?.closed = false
                events += note(entry.session.timeout(), topic: topic, now: now)
            }
        }
        return events
    }

    /// How long a session (or commitments for a request this node was not asked to sign)
    /// is kept: every attempt's window and timeout, twice over. A request that did not
    /// recover by then never will (its attempts are spent, or too few members answered).
    var maxAge: Double { 2 * Double(QuorumSigningSession.maxAttempts) * (collectionWindow + attemptTimeout) }

    private func expire(now: Double) {
        sessions = sessions.filter { now - $0.value.created < maxAge }
        waiting = waiting.filter { now - $0.value.since < maxAge }
    }

    var sessionCount: Int { sessions.count }

    /// Keeps what the session recovered; a new attempt restarts its clocks.
    private func note(_ events: [QuorumSigningEvent], topic: QuorumSigningTopic, now: Double) -> [QuorumSigningEvent] {
        for event in events {
            switch event {
            case .recovered(let signature):
                store(signature)
                sessions[topic] = nil
            case .badShare(let member), .equivocation(let member):
                faulty[QuorumID(type: topic.quorumType, hash: topic.quorumHash), default: []].insert(member)
            case .broadcast(.nonceCommitment):
                sessions[topic]?.attemptStarted = now
                sessions[topic]?.closed = false
            default: break
            }
        }
        return events
    }

    private func store(_ signature: QuorumRecoveredSignature) {
        if recovered.count >= Self.maxRecovered, let any = recovered.keys.first { recovered[any] = nil }
        recovered[signature.topic] = signature
    }
}
