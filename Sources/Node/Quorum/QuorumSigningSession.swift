import Ed25519
import FROST
import Primitives
import Wire

/// One member's side of one FROST signing request (docs/protocol/quorum-p2p.md section 3).
///
/// Attempt k: every member broadcasts fresh nonce commitments (qsigcommit); when the
/// collection window closes, the coordinator (the first member by keyed_hash(requestId ||
/// proTxHash) among those that committed, skipping the coordinators of earlier attempts)
/// sends the signing package (qsigpkg); each member signs it once (qsigshare); the
/// coordinator (and every member holding the package) checks every share, names a bad one
/// (and moves to attempt k+1 without its sender); the coordinator aggregates and broadcasts
/// the recovered signature (qrecsig). A coordinator that stalls is passed over by `timeout()`. A nonce pair signs at most one package: the
/// nonces are consumed by signing, and each attempt draws new ones.
final class QuorumSigningSession {
    let signer: QuorumSigner
    let topic: QuorumSigningTopic
    /// The 32 bytes the group key signs (SigningRequest.signingDigest for the quorum).
    let message: [UInt8]
    /// Attempts are bounded: a stalled or lying member can cost at most this many rounds.
    static let maxAttempts: UInt8 = 8

    private(set) var attempt: UInt8 = 0
    private(set) var recovered: QuorumRecoveredSignature?
    /// Members whose share failed verification here (identifiable abort).
    private(set) var excluded: Set<UInt16> = []
    /// Members that sent two different commitments for one attempt (equivocation): their
    /// commitments are dropped, so they are in no package and coordinate nothing, and their
    /// later commitments are not taken. The second version is evidence, relayed once.
    private(set) var equivocators: Set<UInt16> = []
    private var nonces: SigningNonces?
    /// The attempt `nonces` were drawn for and their public commitments.
    private var noncesAttempt: UInt8?
    private var ownCommitments: SigningCommitments?
    private var commitments: [UInt8: [UInt16: SigningCommitments]] = [:]
    private var collectionClosed: Set<UInt8> = []
    /// The coordinators already tried, by attempt.
    private var coordinators: [UInt8: UInt16] = [:]
    /// As coordinator: the package of the current attempt and the shares received for it.
    private var package: (attempt: UInt8, frost: SigningPackage, hash: Hash256)?
    private var shares: [UInt16: SignatureShare] = [:]
    /// The packages of this request's coordinators, by hash: with them every member checks
    /// the (relayed) shares itself, so a bad share is proof every member acts on alike.
    private var packages: [Hash256: (attempt: UInt8, frost: SigningPackage)] = [:]
    /// Members this node found faulty in earlier requests of the quorum: left out of the
    /// packages it builds (not of the coordinator choice, which must agree everywhere).
    let avoided: Set<UInt16>

    init(signer: QuorumSigner, topic: QuorumSigningTopic, message: [UInt8], avoided: Set<UInt16> = []) {
        self.signer = signer
        self.avoided = avoided
        self.topic = topic
        self.message = message
    }

    /// Round one of attempt 0: this member's commitments.
    func start() -> [QuorumSigningEvent] { commit(attempt: 0) }

    private func commit(attempt next: UInt8) -> [QuorumSigningEvent] {
        guard recovered == nil, next < Self.maxAttempts, noncesAttempt.map({ $0 < next }) ?? true else { return [] }
        attempt = next
        let fresh = SigningNonces(keyPackage: signer.keyPackage)
        let own = fresh.commitments
        nonces = consume fresh
        noncesAttempt = next
        ownCommitments = own
        commitments[next, default: [:]][signer.member] = own
        let message = signer.signed(QuorumNonceCommitment(topic: topic, member: signer.member, attempt: next, commitments: own.encoded))
        return [.broadcast(.nonceCommitment(message))]
    }

    /// A member's commitments. Commitments for the next attempt from at least n - t + 1
    /// other members move this member there too (one member alone cannot: it could spend
    /// every attempt of every request). Otherwise only this member's own timeout, or proof
    /// that the current attempt failed (a bad share), moves it on.
    func receive(_ message: QuorumNonceCommitment) throws(QuorumSigningRejection) -> [QuorumSigningEvent] {
        try checkSender(message, member: message.member)
        guard let decoded = try? SigningCommitments(encoded: message.commitments),
              decoded.identifier == (try? Identifier(message.member)) else {
            throw QuorumSigningRejection(reason: "member \(message.member)'s commitments are malformed or carry another identifier")
        }
        guard message.attempt < Self.maxAttempts else { throw QuorumSigningRejection(reason: "attempt \(message.attempt) past the limit") }
        guard !equivocators.contains(message.member) else { return [] }
        if let previous = commitments[message.attempt]?[message.member], previous != decoded {
            // Not the relaying peer's fault: every honest node that saw both versions says so.
            equivocators.insert(message.member)
            for attempt in commitments.keys { commitments[attempt]?[message.member] = nil }
            return [.equivocation(member: message.member)]
        }
        commitments[message.attempt, default: [:]][message.member] = decoded
        var events = [QuorumSigningEvent]()
        if message.attempt == attempt + 1, movedOn(to: message.attempt) { events += commit(attempt: message.attempt) }
        return events + coordinateIfReady()
    }

    private func movedOn(to next: UInt8) -> Bool {
        let others = (commitments[next] ?? [:]).keys.filter { $0 != signer.member }.count
        return others >= signer.operatorKeys.count - signer.threshold + 1
    }

    /// Ends the collection window of the current attempt (the node's timer; or when every
    /// member has committed): the coordinator then sends the package.
    func closeCollection() -> [QuorumSigningEvent] {
        collectionClosed.insert(attempt)
        return coordinateIfReady()
    }

    /// The current coordinator stalled: move on to the next attempt (and coordinator).
    func timeout() -> [QuorumSigningEvent] {
        if coordinators[attempt] == nil, let coordinator = coordinator(for: attempt) { coordinators[attempt] = coordinator }
        return commit(attempt: attempt &+ 1)
    }

    /// The coordinator of `attempt` in this member's view: the first committer by rank that
    /// did not coordinate an earlier attempt and is not known faulty in this request (an
    /// equivocator, or the sender of a bad share: every member sees the same evidence).
    func coordinator(for attempt: UInt8) -> UInt16? {
        if let known = coordinators[attempt] { return known }
        let earlier = Set(coordinators.filter { $0.key < attempt }.values)
        let committers = (commitments[attempt] ?? [:]).keys.filter { !earlier.contains($0) && !equivocators.contains($0) && !excluded.contains($0) }
        return signer.coordinatorOrder(committers, requestID: topic.requestID).first
    }

    private func coordinateIfReady() -> [QuorumSigningEvent] {
        let all = commitments[attempt] ?? [:]
        guard recovered == nil, package?.attempt != attempt,
              collectionClosed.contains(attempt) || all.count == signer.operatorKeys.count,
              coordinator(for: attempt) == signer.member else { return [] }
        coordinators[attempt] = signer.member
        // The coordinator signs too; the others by rank, as many as the threshold needs.
        let usable = all.keys.filter { !excluded.contains($0) && $0 != signer.member }
        // Members found faulty in earlier requests come last: used only when the others are too few.
        let others = signer.coordinatorOrder(usable.filter { !avoided.contains($0) }, requestID: topic.requestID)
            + signer.coordinatorOrder(usable.filter { avoided.contains($0) }, requestID: topic.requestID)
        let chosen = ([signer.member] + others).prefix(signer.threshold).compactMap { all[$0] }.sorted { $0.identifier < $1.identifier }
        guard chosen.count >= signer.threshold, let frost = try? SigningPackage(commitments: chosen, message: message) else { return [] }
        let wire = signer.signed(QuorumSigningPackageMessage(topic: topic, coordinator: signer.member, attempt: attempt,
                                                             commitments: chosen.map(\.encoded)))
        package = (attempt, frost, wire.packageHash)
        packages[wire.packageHash] = (attempt, frost)
        shares = [:]
        return [.broadcast(.signingPackage(wire))] + signOwn(frost, packageHash: wire.packageHash, attempt: attempt)
    }

    /// A coordinator's package: signed once with this attempt's nonces.
    func receive(_ message: QuorumSigningPackageMessage) throws(QuorumSigningRejection) -> [QuorumSigningEvent] {
        try checkSender(message, member: message.coordinator)
        let commitments: [SigningCommitments]
        let frost: SigningPackage
        do {
            commitments = try message.commitments.map { try SigningCommitments(encoded: $0) }
            frost = try SigningPackage(commitments: commitments, message: self.message)
        } catch { throw QuorumSigningRejection(reason: "coordinator \(message.coordinator)'s package is invalid: \(error)") }
        guard commitments.allSatisfy({ signer.memberNumber(of: $0.identifier) != nil }),
              commitments.count >= signer.threshold else {
            throw QuorumSigningRejection(reason: "coordinator \(message.coordinator)'s package names non-members or too few signers")
        }
        guard message.attempt == attempt, coordinator(for: attempt) == message.coordinator else { return [] }
        coordinators[attempt] = message.coordinator
        packages[message.packageHash] = (message.attempt, frost)
        return signOwn(frost, packageHash: message.packageHash, attempt: message.attempt)
    }

    private func signOwn(_ frost: SigningPackage, packageHash: Hash256, attempt: UInt8) -> [QuorumSigningEvent] {
        guard noncesAttempt == attempt, let own = ownCommitments, frost.commitment(of: own.identifier) == own,
              let taken = nonces.take() else { return [] }
        noncesAttempt = nil
        ownCommitments = nil
        guard let share = try? FROSTSigner.sign(package: frost, nonces: taken, keyPackage: signer.keyPackage) else { return [] }
        let wire = signer.signed(QuorumSignatureShareMessage(topic: topic, member: signer.member, attempt: attempt,
                                                             packageHash: packageHash, share: share.share.bytes))
        if package?.hash == packageHash { return collect(share, from: signer.member) }
        return [.broadcast(.signatureShare(wire))]
    }

    /// A member's share: the coordinator collects it; every member holding the package checks
    /// it. The share is signed by its member's operator key and names the package, so a bad one
    /// proves the member at fault: it is excluded, and the attempt (which cannot recover) is left.
    func receive(_ message: QuorumSignatureShareMessage) throws(QuorumSigningRejection) -> [QuorumSigningEvent] {
        try checkSender(message, member: message.member)
        guard let scalar = Ed25519.Scalar(canonical: message.share), let id = try? Identifier(message.member) else {
            throw QuorumSigningRejection(reason: "member \(message.member)'s share is not a canonical scalar")
        }
        let share = SignatureShare(identifier: id, share: scalar)
        if let package, package.hash == message.packageHash, package.attempt == message.attempt { return collect(share, from: message.member) }
        guard recovered == nil, !excluded.contains(message.member), let known = packages[message.packageHash],
              known.attempt == message.attempt, known.frost.commitment(of: id) != nil, !isValid(share, in: known.frost) else { return [] }
        excluded.insert(message.member)
        return [.badShare(member: message.member)] + (known.attempt == attempt ? commit(attempt: attempt &+ 1) : [])
    }

    private func isValid(_ share: SignatureShare, in package: SigningPackage) -> Bool {
        guard let verifying = signer.publicKeys.verifyingShares[share.identifier] else { return false }
        return (try? FROSTAggregator.verify(share: share, verifyingShare: verifying, package: package,
                                            verifyingKey: signer.publicKeys.verifyingKey)) ?? false
    }

    private func collect(_ share: SignatureShare, from member: UInt16) -> [QuorumSigningEvent] {
        guard let package, recovered == nil, package.frost.commitment(of: share.identifier) != nil else { return [] }
        guard isValid(share, in: package.frost) else {
            // Identifiable abort: name the member, leave it out, and start the next attempt.
            excluded.insert(member)
            self.package = nil
            return [.badShare(member: member)] + commit(attempt: attempt &+ 1)
        }
        shares[member] = share
        guard shares.count == package.frost.commitments.count,
              let signature = try? FROSTAggregator.aggregate(package: package.frost, shares: Array(shares.values),
                                                            publicKeyPackage: signer.publicKeys) else { return [] }
        let result = QuorumRecoveredSignature(topic: topic, signature: signature)
        recovered = result
        return [.recovered(result), .broadcast(.recoveredSignature(result))]
    }

    /// A recovered signature from the network, checked under the group key.
    func receive(_ message: QuorumRecoveredSignature) throws(QuorumSigningRejection) -> [QuorumSigningEvent] {
        guard Ed25519.verify(signature: message.signature, message: self.message, publicKey: signer.publicKeys.verifyingKey.encoded) else {
            throw QuorumSigningRejection(reason: "recovered signature does not verify under the group key")
        }
        guard recovered == nil else { return [] }
        recovered = message
        return [.recovered(message)]
    }

    private func checkSender<M: QuorumSignedMessage>(_ message: M, member: UInt16) throws(QuorumSigningRejection) {
        guard message.topic == topic else { throw QuorumSigningRejection(reason: "message for another request") }
        guard signer.isSigned(message, by: member) else {
            throw QuorumSigningRejection(reason: "\(M.command) not signed by member \(member)'s operator key")
        }
    }
}
