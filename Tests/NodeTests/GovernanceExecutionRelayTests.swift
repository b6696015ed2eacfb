import BLAKE3
import ChainState
import Ed25519
import Foundation
import Governance
import Mempool
@testable import Node
import Primitives
import QuorumServices
import Quorums
import Testing

/// `govexec` as a node judges it (the chain's ledger and quorum set decide), the record a
/// masternode pairs with a recovered signature, and governance-executions.dat.
@Suite("Governance execution relay and archive", .serialized)
struct GovernanceExecutionRelayTests {
    /// The snapshots of the generated chain at its first deadline block (proposals closed)
    /// and one block before (the same proposals open).
    static func snapshots() async throws -> (closed: ChainSnapshot, open: ChainSnapshot) {
        let blocks = GovernanceExecutionClosingTests.blocks
        let closed = try RPCTestNode(blocks: blocks)
        let open = try RPCTestNode(blocks: Array(blocks.dropLast()))
        let snapshots = (closed.chain.snapshot, open.chain.snapshot)
        await closed.shutdown()
        await open.shutdown()
        return snapshots
    }

    static let chainLockType = GovernanceExecutionRelayState(parameters: RPCTestNode.regtest).chainLockType!
    static let quorumSeed = [UInt8](repeating: 0x42, count: 32)
    static let quorumHash = Hash256(bytes: [UInt8](repeating: 0x51, count: 32))!

    /// A quorum of the chain-lock type whose group key is `quorumSeed`'s public key.
    static var quorums: QuorumSet {
        QuorumSet(entries: [QuorumEntry(type: chainLockType, quorumHash: quorumHash, quorumHeight: 100, minedHeight: 110, members: [],
                                        validMembers: QuorumBitset(count: 0), groupKey: Ed25519.publicKey(seed: quorumSeed),
                                        verificationVectorHash: .zero)])
    }

    /// `record` signed as the quorum's recovered signature is (plain Ed25519 by the group key over the request's digest).
    static func signed(_ record: GovernanceExecution, type: UInt8 = chainLockType.rawValue, quorumHash: Hash256 = quorumHash,
                       seed: [UInt8] = quorumSeed) -> SignedGovernanceExecution {
        let request = record.request(quorumType: type)
        let signature = Ed25519.sign(message: request.signingDigest(quorumHash: quorumHash), seed: seed)
        return SignedGovernanceExecution(record: record, signature: RecoveredSignature(request: request, quorumHash: quorumHash, signature: signature))
    }

    static func judge(_ execution: SignedGovernanceExecution, _ ledger: GovernanceLedger, quorums: QuorumSet = quorums,
                      type: QuorumTypeID? = chainLockType) -> GovernanceExecutionVerdict {
        GovernanceExecutionRelayState.judge(execution, governance: ledger, quorums: quorums, chainLockType: type)
    }

    @Test("verdicts: accepted on the chain that closed it; waiting while open; not ours for another outcome or quorum; invalid when provably bad")
    func verdicts() async throws {
        let snapshots = try await Self.snapshots()
        let (closed, open) = (snapshots.closed.governance, snapshots.open.governance)
        let record = try #require(QuorumNodeService.executionsClosed(by: snapshots.closed).first)
        let good = Self.signed(record)
        #expect(Self.judge(good, closed) == .accepted)
        #expect(Self.judge(good, open) == .waiting)
        #expect(Self.judge(good, GovernanceLedger()) == .waiting)

        // Another outcome of the same proposal, correctly signed: this chain closed it otherwise.
        let other = GovernanceExecution(proposalId: record.proposalId, result: record.result == .slashed ? .rejected : .slashed,
                                        activationHeight: nil)
        guard case .notOurs = Self.judge(Self.signed(other), closed) else { Issue.record("another outcome was not refused"); return }
        // A quorum this chain does not have, and a network without chain locks.
        let unknown = Hash256(bytes: [UInt8](repeating: 0x52, count: 32))!
        guard case .notOurs = Self.judge(Self.signed(record, quorumHash: unknown), closed) else { Issue.record("unknown quorum"); return }
        guard case .notOurs = Self.judge(good, closed, type: nil) else { Issue.record("no chain-lock type"); return }

        // Provably bad whatever the chain: a bad signature (checked before the proposal, so
        // even a record that would wait), another quorum type, a signature for another request.
        let forged = Self.signed(record, seed: [UInt8](repeating: 0x43, count: 32))
        guard case .invalid = Self.judge(forged, closed) else { Issue.record("a forged signature was not invalid"); return }
        guard case .invalid = Self.judge(forged, open) else { Issue.record("a forged signature waited"); return }
        guard case .invalid = Self.judge(Self.signed(record, type: Self.chainLockType.rawValue &+ 1), closed) else {
            Issue.record("another quorum type was not invalid"); return
        }
        var swapped = good
        swapped.signature = Self.signed(other).signature
        guard case .invalid = Self.judge(swapped, closed) else { Issue.record("a signature of another record was not invalid"); return }
    }

    @Test("a recovered signature is paired with the closed record whose request and message it answers, and no other")
    func pairing() async throws {
        let snapshot = try await Self.snapshots().closed
        let records = QuorumNodeService.executionsClosed(by: snapshot)
        #expect(!records.isEmpty)
        for record in records {
            let signature = Self.signed(record).signature
            #expect(QuorumNodeService.executionRecord(answering: signature, in: snapshot) == record)
            var otherMessage = signature
            otherMessage.request = SigningRequest(quorumType: signature.quorumType, requestID: signature.requestID, messageHash: Hash256(bytes: [UInt8](repeating: 1, count: 32))!)
            #expect(QuorumNodeService.executionRecord(answering: otherMessage, in: snapshot) == nil)
        }
    }

    static func govexecCount(_ peer: RelayTestPeer) -> Int {
        peer.messages.filter { if case .govexec = $0 { return true } else { return false } }.count
    }

    @Test("over P2P: a record waits for its proposal to close, is then kept and relayed once, and sent to a new connection; another outcome is dropped, a forged one disconnects its sender",
          .timeLimit(.minutes(5)))
    func relay() async throws {
        let snapshots = try await Self.snapshots()
        let record = try #require(QuorumNodeService.executionsClosed(by: snapshots.closed).first)
        let (closed, open, quorums) = (snapshots.closed.governance, snapshots.open.governance, Self.quorums)
        let node = try RelayTestNode()
        try await node.start()
        let manager = node.manager
        try await manager.onLoop { manager.governanceExecutions.chainView = { _ in (open, quorums) } }
        do {
            let sender = try await RelayTestPeer.handshaken(with: node)
            let other = try await RelayTestPeer.handshaken(with: node)
            let good = Self.signed(record)

            // The proposal is still open on this node: the record waits, neither kept nor relayed.
            sender.send(.govexec(good))
            #expect(await sender.roundTrip())
            #expect(try await manager.governanceExecution(proposalId: record.proposalId) == nil)
            #expect(try await manager.onLoop { manager.governanceExecutions.waiting.count } == 1)
            // Its deadline block arrives: judged again, kept and relayed to the peer that did not send it.
            try await manager.onLoop {
                manager.governanceExecutions.chainView = { _ in (closed, quorums) }
                manager.governanceExecutions.waitingCheckedAt = nil
                manager.retryWaitingGovernanceExecutions()
            }
            #expect(await other.waitFor { $0 == .govexec(good) } != nil)
            #expect(try await manager.governanceExecution(proposalId: record.proposalId) == good)
            // Sent again by either side: nothing new goes out.
            sender.send(.govexec(good))
            other.send(.govexec(good))
            #expect(await sender.roundTrip())
            #expect(await other.roundTrip())
            #expect(Self.govexecCount(sender) == 0 && Self.govexecCount(other) == 1)
            // A connection made later is sent the kept record at its handshake.
            let late = try await RelayTestPeer.handshaken(with: node)
            #expect(await late.waitFor { $0 == .govexec(good) } != nil)

            // Another outcome of the proposal, correctly signed: not this chain's; dropped, no penalty.
            let otherOutcome = GovernanceExecution(proposalId: record.proposalId, result: record.result == .slashed ? .rejected : .slashed,
                                                   activationHeight: nil)
            sender.send(.govexec(Self.signed(otherOutcome)))
            #expect(await sender.roundTrip())
            #expect(!sender.isClosed)
            #expect(try await manager.governanceExecution(proposalId: record.proposalId) == good)
            // A forged signature: the sender is disconnected, nothing relayed.
            sender.send(.govexec(Self.signed(record, seed: [UInt8](repeating: 0x43, count: 32))))
            #expect(try await eventually { sender.isClosed })
            #expect(await other.roundTrip())
            #expect(Self.govexecCount(other) == 1)
        } catch {
            await node.shutdown()
            throw error
        }
        await node.shutdown()
    }

    @Test("governance-executions.dat: one record per proposal, kept across a reload (0600); a damaged file is refused naming the problem")
    func archive() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rusty-govexec-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = GovernanceExecutionArchive.path(datadir: directory)
        #expect(try GovernanceExecutionArchive.load(path: path).executions.isEmpty)

        let first = Hash256(bytes: [UInt8](repeating: 1, count: 32))!, second = Hash256(bytes: [UInt8](repeating: 2, count: 32))!
        let approved = Self.signed(GovernanceExecution(proposalId: first, result: .approved, activationHeight: 300))
        let slashed = Self.signed(GovernanceExecution(proposalId: second, result: .slashed, activationHeight: nil))
        var archive = GovernanceExecutionArchive(path: path)
        #expect(try archive.keep(approved))
        #expect(try !archive.keep(approved))
        #expect(try archive.keep(slashed))
        #expect(try GovernanceExecutionArchive.load(path: path).executions == [first: approved, second: slashed])
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == 0o600)
        // A reorganisation changed the first proposal's outcome: its record is replaced.
        let rejected = Self.signed(GovernanceExecution(proposalId: first, result: .rejected, activationHeight: nil))
        #expect(try archive.keep(rejected))
        let reloaded = try GovernanceExecutionArchive.load(path: path)
        #expect(reloaded.executions == [first: rejected, second: slashed])
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(bytes.count == 8 + 4 + 8 + 2 * SignedGovernanceExecution.encodedLength + 32)

        func problem(_ damaged: [UInt8]) -> String? {
            try? Data(damaged).write(to: URL(fileURLWithPath: path))
            do { _ = try GovernanceExecutionArchive.load(path: path); return nil } catch let error as PoolFileError {
                return error.problem
            } catch { return "\(error)" }
        }
        var flipped = bytes
        flipped[40] ^= 1
        #expect(problem(flipped)?.hasPrefix("checksum mismatch") == true)
        #expect(problem(Array(bytes.prefix(30)))?.hasPrefix("truncated") == true)
        var magic = bytes
        magic[0] = UInt8(ascii: "X")
        #expect(problem(magic)?.hasPrefix("bad magic") == true)
        // A count that does not match, under a valid checksum.
        var body = Array(bytes.dropLast(32))
        body[12] = 3
        #expect(problem(body + BLAKE3.hash(body))?.hasPrefix("count 3") == true)
        var version = Array(bytes.dropLast(32))
        version[8] = 9
        #expect(problem(version + BLAKE3.hash(version))?.hasPrefix("unsupported version 9") == true)
        // A record that does not decode (result 7), under a valid checksum.
        var record = Array(bytes.dropLast(32))
        record[20 + 32] = 7
        #expect(problem(record + BLAKE3.hash(record))?.hasPrefix("malformed") == true)
    }
}
