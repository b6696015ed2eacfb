import ChainState
import Foundation
import Logging
import Masternodes
import Primitives
import QuorumServices
import Quorums
import Wire

/// A masternode's quorum work (docs/protocol/quorum-p2p.md): at each tip it starts the DKGs
/// it is selected for (from the list at each type's DKG start), moves them through their
/// phases by height, submits the final commitment in the mining window, keeps the shares of
/// the quorums it formed (on disk), signs with the active ones, and turns the chain-lock
/// quorum's recovered signatures into chain locks. Confined to the peer manager's loop.
final class QuorumNodeService: QuorumMessageHandler, @unchecked Sendable {
    let parameters: QuorumParameters
    let masternodeParameters: MasternodeParameters
    let keys: OperatorKeys
    let datadir: String
    let logger: Logger
    private(set) var signing: QuorumSigningService!

    /// Hooks to the node (set by the peer manager).
    var broadcast: (QuorumMessage) -> Void = { _ in }
    var fetchList: (UInt64, @escaping @Sendable (MasternodeList?) -> Void) -> Void = { _, done in done(nil) }
    var submit: (Transaction) -> Void = { _ in }
    var chainLockRecovered: (ChainLock) -> Void = { _ in }
    /// A recovered signature of a governance execution record (GovernanceExecutionSigner.swift).
    var executionRecovered: (SignedGovernanceExecution) -> Void = { _ in }
    var now: () -> Double = { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    private(set) var rounds: [QuorumKey: QuorumDKGRound] = [:]
    /// DKGs whose member list is being read.
    private var starting: Set<QuorumKey> = []
    /// This node's shares, of every quorum it formed that may still serve.
    private(set) var signers: [QuorumKey: QuorumSigner] = [:]
    private var submittedAt: [QuorumKey: UInt64] = [:]
    /// What this member started signing (one message per request id, so one block per height).
    let record: QuorumSignedRecord
    /// Set when the record was found damaged at start: no signing until the tip reaches this
    /// height (`damagedRecordWindow` blocks), by when every lock this member may have signed is
    /// long settled.
    private var signingRefusedBelow: UInt64?
    static let damagedRecordWindow: UInt64 = 100
    /// DKG messages of quorums this node has not started (its peers connected the start
    /// block first), bounded, taken in when the round starts.
    private var unstarted: [(key: QuorumKey, message: QuorumMessage, bytes: Int, sender: Hash256, hash: Hash256)] = []
    private var unstartedBytes = 0
    private var unstartedBytesBySender: [Hash256: Int] = [:]
    private var unstartedHashes: Set<Hash256> = []
    /// A few DKGs' worth of traffic (a 400-member contribution is 45 KB).
    static let maxUnstartedBytes = 16 << 20
    /// What one delivering masternode can make this node hold (a full 400-member DKG's
    /// contributions are 18 MB, but they come from many peers).
    static let maxUnstartedBytesPerSender = 4 << 20
    private var snapshot: ChainSnapshot?

    init(parameters: QuorumParameters, masternodeParameters: MasternodeParameters, keys: OperatorKeys, datadir: String, logger: Logger) {
        self.parameters = parameters
        self.masternodeParameters = masternodeParameters
        self.keys = keys
        self.datadir = datadir
        self.logger = logger
        record = QuorumSignedRecord(datadir: datadir)
        if let damage = record.damage { logger.error("quorum signing refused for \(Self.damagedRecordWindow) blocks: \(damage)") }
        signing = QuorumSigningService(groupKey: { [unowned self] id in self.activeGroupKey(id) }, digest: Self.digest, record: record)
        let loaded = QuorumShareFile.loadAll(datadir: datadir, operatorSeed: keys.operatorSeed)
        for problem in loaded.problems { logger.warning("\(problem)") }
        for signer in loaded.signers {
            signers[QuorumKey(type: QuorumTypeID(rawValue: signer.quorumType), quorumHash: signer.quorumHash)] = signer
        }
        if !loaded.signers.isEmpty { logger.info("\(loaded.signers.count) quorum shares loaded from \(QuorumShareFile.directory(datadir: datadir))") }
    }

    static func digest(_ topic: QuorumSigningTopic) -> [UInt8] {
        SigningRequest(quorumType: topic.quorumType, requestID: SigningRequestID(topic.requestID), messageHash: topic.messageHash)
            .signingDigest(quorumHash: topic.quorumHash)
    }

    private func activeGroupKey(_ id: QuorumID) -> [UInt8]? {
        guard let snapshot, let type = parameters[QuorumTypeID(rawValue: id.type)] else { return nil }
        return snapshot.quorums.active(type: type).first { $0.quorumHash == id.hash }?.groupKey
    }

    // MARK: - Messages

    func receive(_ message: QuorumMessage, from sender: Hash256) -> QuorumMessageVerdict {
        switch message {
        case .contribution, .complaint, .justification, .commitmentVote:
            let key = QuorumKey(type: QuorumTypeID(rawValue: message.quorumType), quorumHash: message.quorumHash)
            if let round = rounds[key] { return round.receive(message) }
            if parameters[key.type] != nil { keepUnstarted(message, key: key, from: sender) }
            return .ignore
        default:
            let (verdict, events) = signing.receive(message, now: now())
            handle(events)
            return verdict
        }
    }

    /// Keeps a DKG message of a quorum not started here (it cannot be checked before the
    /// member list is read). Each delivering masternode has its own share of the bound, so one
    /// that floods pushes out only its own messages; past the total bound the sender holding
    /// the most loses its oldest.
    private func keepUnstarted(_ message: QuorumMessage, key: QuorumKey, from sender: Hash256) {
        let hash = message.relayHash
        guard !unstartedHashes.contains(hash) else { return }
        let bytes = message.payload.count
        unstarted.append((key, message, bytes, sender, hash))
        unstartedHashes.insert(hash)
        unstartedBytes += bytes
        unstartedBytesBySender[sender, default: 0] += bytes
        while unstartedBytes > Self.maxUnstartedBytes || (unstartedBytesBySender[sender] ?? 0) > Self.maxUnstartedBytesPerSender {
            let victim = (unstartedBytesBySender[sender] ?? 0) > Self.maxUnstartedBytesPerSender
                ? sender : unstartedBytesBySender.max { $0.value < $1.value }?.key
            guard let index = unstarted.firstIndex(where: { $0.sender == victim }) else { break }
            dropUnstarted(at: index)
        }
    }

    private func dropUnstarted(at index: Int) {
        let entry = unstarted.remove(at: index)
        unstartedHashes.remove(entry.hash)
        unstartedBytes -= entry.bytes
        unstartedBytesBySender[entry.sender, default: 0] -= entry.bytes
        if unstartedBytesBySender[entry.sender] == 0 { unstartedBytesBySender[entry.sender] = nil }
    }

    /// The timer: signing sessions' collection windows and coordinator timeouts.
    func tick() { handle(signing.tick(now: now())) }

    private func handle(_ events: [QuorumSigningEvent]) {
        for event in events {
            switch event {
            case .broadcast(let message): broadcast(message)
            case .recovered(let signature): recovered(signature)
            case .badShare(let member): logger.warning("quorum signing: member \(member) sent a bad signature share; left out")
            case .equivocation(let member): logger.warning("quorum signing: member \(member) sent two different commitments for one attempt; left out")
            }
        }
    }

    private func recovered(_ signature: QuorumRecoveredSignature) {
        let topic = signature.topic
        guard let type = parameters.chainLockType, topic.quorumType == type.rawValue, let snapshot else { return }
        if let height = snapshot.height(of: topic.messageHash), ChainLock.requestID(height: height).hash == topic.requestID {
            return chainLockRecovered(ChainLock(height: height, blockHash: topic.messageHash, quorumHash: topic.quorumHash,
                                                signature: signature.signature))
        }
        if let record = Self.executionRecord(answering: signature, in: snapshot) {
            executionRecovered(SignedGovernanceExecution(record: record, signature: signature))
        }
    }

    // MARK: - Tip

    /// At each tip: memberships, DKGs, commitments, the chain lock of the new block.
    func follow(_ snapshot: ChainSnapshot, ownID: Hash256?) {
        self.snapshot = snapshot
        updateMemberships(snapshot)
        // Catching up (initial download, a long reorganization): past DKGs and old blocks are not this node's to act on.
        guard snapshot.bestHeaderHeight <= snapshot.tipHeight + 1 else { return }
        for type in parameters.sorted { driveDKG(of: type, snapshot: snapshot, ownID: ownID) }
        waitOutDamagedRecord(tip: snapshot.tipHeight)
        signChainLock(snapshot)
        signGovernanceExecutions(snapshot)
    }

    /// A damaged record cannot say which blocks this member signed: it signs nothing for
    /// `damagedRecordWindow` blocks (the record refuses), then starts a fresh record.
    private func waitOutDamagedRecord(tip: UInt64) {
        guard record.damage != nil else { return }
        guard let end = signingRefusedBelow else {
            signingRefusedBelow = tip &+ Self.damagedRecordWindow
            return
        }
        if tip >= end {
            record.acceptDamage()
            logger.warning("quorum signing resumes at height \(tip): the damaged record of signed requests will be replaced")
        }
    }

    private func updateMemberships(_ snapshot: ChainSnapshot) {
        var serving = [QuorumID: QuorumSigner]()
        for (key, signer) in signers {
            guard let type = parameters[key.type] else { continue }
            let active = snapshot.quorums.active(type: type).first { $0.quorumHash == key.quorumHash }
            if let active, active.groupKey == signer.publicKeys.verifyingKey.encoded {
                serving[QuorumID(type: key.type.rawValue, hash: key.quorumHash)] = signer
                continue
            }
            // Neither active nor still minable, below the chain lock (no reorganisation can bring
            // the commitment back): its share is of no further use. Kept while catching up, and
            // while the quorum's start block is unknown (a resync, another branch).
            guard snapshot.bestHeaderHeight <= snapshot.tipHeight + 1, rounds[key] == nil,
                  let start = snapshot.height(of: key.quorumHash),
                  snapshot.hash(atHeight: start) == key.quorumHash else { continue }
            let windowEnd = type.schedule.miningWindow(dkgStart: start).upperBound
            // Without a lock: once a type's whole active set has rotated since (dkgInterval x activeCount).
            let rotation = type.schedule.dkgInterval.multipliedReportingOverflow(by: UInt64(type.activeCount))
            let sum = windowEnd.addingReportingOverflow(rotation.partialValue)
            let settled = rotation.overflow || sum.overflow ? UInt64.max : sum.partialValue
            if windowEnd <= (snapshot.chainLockedHeight ?? 0) || snapshot.tipHeight >= settled {
                signers[key] = nil
                QuorumShareFile.remove(datadir: datadir, type: key.type.rawValue, quorumHash: key.quorumHash)
                logger.info("quorum \(type.name) \(key.quorumHash.hex) no longer active: its share is deleted")
            }
        }
        signing.memberships = serving
    }

    private func driveDKG(of type: QuorumType, snapshot: ChainSnapshot, ownID: Hash256?) {
        let height = snapshot.tipHeight
        // Rounds that ended (or whose start block a reorganization replaced).
        for (key, round) in rounds where key.type == type.id {
            let window = type.schedule.miningWindow(dkgStart: round.startHeight)
            if height >= window.upperBound || snapshot.hash(atHeight: round.startHeight) != round.quorumHash || snapshot.quorums.contains(type: key.type, quorumHash: key.quorumHash) {
                rounds[key] = nil
            }
        }
        if let start = type.schedule.dkgStart(containing: height), height - start < type.schedule.phaseBlocks,
           let quorumHash = snapshot.hash(atHeight: start), let ownID {
            let key = QuorumKey(type: type.id, quorumHash: quorumHash)
            if rounds[key] == nil, !starting.contains(key), signers[key] == nil {
                starting.insert(key)
                fetchList(start) { [weak self] list in self?.startRound(key, type: type, start: start, list: list, ownID: ownID) }
            }
        }
        for (key, round) in rounds where key.type == type.id { step(round, key: key, height: height, snapshot: snapshot) }
    }

    private func startRound(_ key: QuorumKey, type: QuorumType, start: UInt64, list: MasternodeList?, ownID: Hash256) {
        starting.remove(key)
        guard let list else { return logger.warning("quorum \(type.name) at \(start): the masternode list at the DKG start is not available") }
        let members = QuorumSelection.members(list: list, quorumHash: key.quorumHash, type: type, height: start, parameters: masternodeParameters)
        let round: QuorumDKGRound
        do {
            guard let selected = try QuorumDKGRound(type: type, quorumHash: key.quorumHash, startHeight: start, members: members,
                                                    ownID: ownID, keys: keys) else { return }
            round = selected
        } catch {
            return logger.warning("quorum \(type.name) at \(start): cannot take part in the DKG: \(error)")
        }
        rounds[key] = round
        logger.info("quorum \(type.name) \(key.quorumHash.hex) at \(start): DKG member \(round.member.member) of \(members.count)")
        broadcast(round.member.contribution)
        let held = unstarted.filter { $0.key == key }
        while let index = unstarted.firstIndex(where: { $0.key == key }) { dropUnstarted(at: index) }
        // Taken in now: what passes is relayed (it arrived before this node could judge it).
        for entry in held where round.receive(entry.message) == .relay { broadcast(entry.message) }
        if let snapshot { step(round, key: key, height: snapshot.tipHeight, snapshot: snapshot) }
    }

    private func step(_ round: QuorumDKGRound, key: QuorumKey, height: UInt64, snapshot: ChainSnapshot) {
        let hadOutcome = round.outcome != nil
        for message in round.advance(to: height) { broadcast(message) }
        if !hadOutcome, let outcome = round.outcome {
            switch outcome {
            case .success(let result):
                logger.info("quorum \(round.type.name) \(key.quorumHash.hex): DKG succeeded, \(result.qualified.count) qualified, group key \(HexCoding.encode(result.groupKey.encoded))")
                do {
                    if let signer = try round.signer() {
                        try QuorumShareFile.save(signer, datadir: datadir)
                        signers[key] = signer
                    }
                } catch { logger.error("quorum \(key.quorumHash.hex): cannot keep the share: \(error)") }
            case .failure(let failure):
                logger.warning("quorum \(round.type.name) \(key.quorumHash.hex): \(failure)")
            }
        }
        // The mempool checks a commitment against the next block's height.
        let window = round.type.schedule.miningWindow(dkgStart: round.startHeight)
        guard window.contains(height + 1), submittedAt[key] != height, let transaction = round.commitmentTransaction() else { return }
        submittedAt[key] = height
        logger.info("quorum \(round.type.name) \(key.quorumHash.hex): commitment \(transaction.txid.hex) submitted")
        submit(transaction)
    }

    // MARK: - Signing

    /// Members of the chain-lock quorum responsible for the tip's height sign the tip (once per height).
    private func signChainLock(_ snapshot: ChainSnapshot) {
        guard let typeID = parameters.chainLockType, let type = parameters[typeID] else { return }
        let height = snapshot.tipHeight, hash = snapshot.tipHash
        if let locked = snapshot.chainLock, locked.height >= height { return }
        let requestID = ChainLock.requestID(height: height)
        let active = snapshot.quorums.active(type: type).map(\.quorumHash)
        guard let responsible = QuorumChoice.responsible(for: requestID, among: active),
              signing.memberships[QuorumID(type: typeID.rawValue, hash: responsible)] != nil else { return }
        // The record (on disk before the first commitment) refuses a second block at this height.
        do {
            handle(try signing.sign(QuorumSigningTopic(quorumType: typeID.rawValue, quorumHash: responsible, requestID: requestID.hash,
                                                       messageHash: hash), now: now()))
        } catch {
            logger.info("no chain lock signed for \(hash.hex) at \(height): \(error)")
        }
    }

    /// How far from the tip `quorum sign` refuses chain-lock request ids.
    static let chainLockIDWindow: UInt64 = 1_000

    /// Whether `requestID` is the chain-lock request id of a height near the tip: such a
    /// request signed by `quorum sign` would be a valid lock for whatever block it names.
    static func isChainLockRequest(_ request: SigningRequest, tip: UInt64, parameters: QuorumParameters) -> Bool {
        guard let type = parameters.chainLockType, request.quorumType == type.rawValue else { return false }
        let low = tip > Self.chainLockIDWindow ? tip - Self.chainLockIDWindow : 0
        return (low...(tip &+ Self.chainLockIDWindow)).contains { ChainLock.requestID(height: $0) == request.requestID }
    }

    /// `quorum sign`: starts signing `request` when this node is in its responsible quorum;
    /// returns that quorum (nil: no active quorum, or this node is not in it), or why it refuses.
    func sign(_ request: SigningRequest) -> Result<Hash256?, QuorumSignedRecord.Refusal> {
        guard let snapshot, let type = parameters[QuorumTypeID(rawValue: request.quorumType)],
              let responsible = QuorumChoice.responsible(for: request.requestID, among: snapshot.quorums.active(type: type).map(\.quorumHash)),
              signing.memberships[QuorumID(type: request.quorumType, hash: responsible)] != nil else { return .success(nil) }
        if Self.isChainLockRequest(request, tip: snapshot.tipHeight, parameters: parameters) {
            return .failure(.init(reason: "request \(request.requestID) is a chain-lock request id: only the node's own chain-lock signing uses it"))
        }
        do {
            handle(try signing.sign(QuorumSigningTopic(quorumType: request.quorumType, quorumHash: responsible, requestID: request.requestID.hash,
                                                       messageHash: request.messageHash), now: now()))
        } catch { return .failure(error) }
        return .success(responsible)
    }
}

/// What `quorum dkgstatus` reports of one DKG this node takes part in.
struct QuorumDKGStatus: Sendable {
    var type: String
    var quorumHash: Hash256
    var startHeight: UInt64
    var member: UInt16
    var memberCount: Int
    /// contribution, complaint, justification, finished.
    var phase: String
    /// succeeded, failed, or nil while running.
    var outcome: String?
    /// Member signatures gathered per distinct commitment, most first.
    var votes: [Int]
}

extension QuorumNodeService {
    var dkgStatus: [QuorumDKGStatus] {
        rounds.values.sorted { ($0.type.id, $0.startHeight) < ($1.type.id, $1.startHeight) }.map { round in
            let phases = ["contribution", "complaint", "justification", "finished"]
            let outcome = round.outcome.map { $0.result != nil ? "succeeded" : "failed" }
            return QuorumDKGStatus(type: round.type.name, quorumHash: round.quorumHash, startHeight: round.startHeight,
                                   member: round.member.member, memberCount: round.members.count, phase: phases[round.closedPhases],
                                   outcome: outcome, votes: round.voteCounts)
        }
    }

    /// Quorums this node holds a share of, and whether each signs now (active).
    var shares: [(key: QuorumKey, member: UInt16, serving: Bool)] {
        signers.sorted { $0.key < $1.key }.map { key, signer in
            (key, signer.member, signing.memberships[QuorumID(type: key.type.rawValue, hash: key.quorumHash)] != nil)
        }
    }

    /// A recovered signature this node holds for (type, request id, message hash), by any quorum.
    func recoveredSignature(type: UInt8, requestID: Hash256, messageHash: Hash256) -> QuorumRecoveredSignature? {
        signing.recovered.first { $0.key.quorumType == type && $0.key.requestID == requestID && $0.key.messageHash == messageHash }?.value
    }
}
