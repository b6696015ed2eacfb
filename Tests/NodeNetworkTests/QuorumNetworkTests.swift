import ChainParams
import Ed25519
import Foundation
import JSONRPC
import Masternodes
import Consensus
import Primitives
import TestSupport
import Wallet
import XCTest

/// Seven regtest masternodes and a mining node (real processes, a full mesh on loopback):
/// the llmq_test quorum (5 members, threshold 3) forms by block height in the DKG after the
/// masternodes mature, its commitment is mined, every new block gets a chain lock, a longer
/// branch mined below a lock by an isolated node reaches the masternodes and is refused, a
/// restarted member signs again (with two others killed the lock needs it), and dead members
/// selected for a later DKG are left out and penalised.
final class QuorumNetworkTests: MempoolNetworkTestCase {
    override class var budget: Double { 600 }
    static let masternodeCount = 7
    /// Regtest's llmq_test schedule (Config/regtest.json): DKGs start every 24 blocks, phases of 2.
    static let dkgInterval = 24, phaseBlocks = 2

    var phaseStarted = Date()

    override func setUpWithError() throws {
        try super.setUpWithError()
        phaseStarted = Date() // XCTest makes every test's instance up front
    }
    func phase(_ name: String) {
        print(String(format: "quorum network: %@ took %.1f s", name, Date().timeIntervalSince(phaseStarted)))
        phaseStarted = Date()
    }

    /// What `formQuorum` leaves: the mining node, the masternodes, the quorum's members and hash.
    struct Formed {
        let miner: TestNode
        let nodes: [TestNode]
        let members: [TestNode]
        let quorumHash: String
        let funding: FundingKey
        var everyone: [TestNode] { [miner] + nodes }
    }

    /// Seven masternodes registered and meshed; the DKG at 120 run block by block until its
    /// commitment is mined.
    func formQuorum() throws -> Formed {
        let parameters = try MasternodeParameters(ChainParameters.builtIn("regtest"))
        let funding = FundingKey()
        let miner = try network.makeNode("a")
        let nodes = try (1...Self.masternodeCount).map { try network.makeNode("m\($0)") }
        var masternodes = (1...Self.masternodeCount).map { TestMasternode(name: "m\($0)", index: UInt8($0)) }

        try miner.start(["--listen"] + Self.fastRelay)
        try miner.waitListening()
        try miner.waitRPC()
        try mine(miner, 110, funding)
        for index in masternodes.indices {
            let (coin, spent) = try miner.coinbaseOutput(height: index + 1)
            let registration = try masternodes[index].registration(
                spending: coin, spent, funding: funding, collateral: parameters.collateral,
                service: ServiceAddress(ipv4: (127, 0, 0, 1), port: UInt16(nodes[index].port)))
            _ = try miner.rpc("sendrawtransaction", [.string(HexCoding.encode(registration.encoded))])
            masternodes[index].proTxHash = registration.txid
        }
        try mine(miner, 3, funding) // registered at 111, ready from 113
        for (index, node) in nodes.enumerated() {
            let keyFile = node.root.appendingPathComponent("operator.json").path
            try masternodes[index].operatorKeys.write(to: keyFile)
            let earlier = [miner] + nodes[..<index]
            try node.start(["--listen", "--masternode", "--operator-key-file", keyFile] + earlier.flatMap { ["--connect", $0.endpoint] }
                           + Self.fastRelay)
        }
        let everyone = [miner] + nodes
        for node in everyone { try node.waitRPC() }
        try waitHeight(everyone, 113)
        for node in nodes { try poll(node, "masternode READY", "masternode", ["status"]) { $0["state"]?.stringValue == "READY" } }
        for node in everyone {
            try poll(node, "\(Self.masternodeCount) authenticated masternode peers", "getpeerinfo") { peers in
                (peers.arrayValue?.compactMap { $0["masternode"]?.stringValue }.count ?? 0) >= Self.masternodeCount - (node === miner ? 0 : 1)
            }
        }
        phase("setup (7 masternodes registered and authenticated)")

        let start = Self.dkgInterval * 5
        let minedQuorum = try XCTUnwrap(try runDKG(start: start, miner: miner, nodes: everyone, funding: funding),
                                        "no commitment mined in the window")
        let info = try miner.rpc("quorum", ["info", 100, .string(minedQuorum)])
        XCTAssertEqual(info["quorumHeight"], .int(start))
        XCTAssertEqual(info["active"], true)
        XCTAssertEqual(info["members"]?.arrayValue?.filter { $0["valid"] == true }.count, 5)
        let members = try nodes.filter { node in
            let shares = try node.rpc("quorum", ["dkgstatus"])["shares"]?.arrayValue ?? []
            return shares.contains { $0["quorumHash"]?.stringValue == minedQuorum && $0["serving"] == true }
        }
        XCTAssertEqual(members.count, 5, "members serving the quorum \(minedQuorum)")
        phase("commitment mined")
        return Formed(miner: miner, nodes: nodes, members: members, quorumHash: minedQuorum, funding: funding)
    }

    /// Runs the DKG starting at `start`: blocks up to it at once, then one at a time (each
    /// reaching every node, then a pause for the phase's messages) through the commitment
    /// phase, then through the mining window until the commitment is mined. Returns the
    /// quorum's hash, nil when no commitment was mined.
    func runDKG(start: Int, miner: TestNode, nodes: [TestNode], funding: FundingKey) throws -> String? {
        let height = Int(try XCTUnwrap(try miner.rpc("getblockcount").int64Value))
        try mine(miner, start - 1 - height, funding)
        for _ in (start - 1)..<(start + 4 * Self.phaseBlocks - 1) { try mineAndSpread(miner, nodes, funding, pause: 1.0) }
        let quorumHash = try XCTUnwrap(try miner.rpc("getblockhash", [.int(start)]).stringValue)
        for _ in 0..<8 {
            try mineAndSpread(miner, nodes, funding, pause: 0.5)
            let active = try miner.rpc("quorum", ["list"])["llmq_test"]?.arrayValue?.compactMap(\.stringValue) ?? []
            if active.contains(quorumHash) { return quorumHash }
        }
        return nil
    }

    func testQuorumFormsAndChainLocksEveryBlock() throws {
        let formed = try formQuorum()
        let (miner, nodes, members, funding, everyone) = (formed.miner, formed.nodes, formed.members, formed.funding, formed.everyone)

        // Every new block is chain-locked on every node.
        var latencies = [Double]()
        for _ in 0..<3 {
            let (height, hash) = try mineAndSpread(miner, everyone, funding, pause: 0)
            let mined = Date()
            for node in everyone { try waitChainLock(node, height: height, hash: hash) }
            latencies.append(Date().timeIntervalSince(mined))
        }
        print("quorum network: chain lock on every node \(latencies.map { String(format: "%.2f", $0) }) s after the block spread")
        phase("chain locks on 3 blocks")

        // The signing service by RPC: every member asked to sign; any member returns the
        // recovered signature, which verifies at a node outside the quorum (and not for another message).
        let requestID = String(repeating: "ab", count: 32), message = String(repeating: "cd", count: 32)
        for node in nodes {
            let isMember = members.contains { $0 === node }
            do {
                let answer = try node.rpc("quorum", ["sign", 100, .string(requestID), .string(message)])
                XCTAssertTrue(isMember, "\(node.name) signed outside the quorum")
                XCTAssertEqual(answer["quorumHash"]?.stringValue, formed.quorumHash)
            } catch {
                XCTAssertFalse(isMember, "\(node.name): \(error)")
            }
        }
        var signature: String?
        for _ in 0..<100 where signature == nil {
            signature = (try? members[1].rpc("quorum", ["getrecsig", 100, .string(requestID), .string(message)]))?["sig"]?.stringValue
            if signature == nil { usleep(100_000) }
        }
        let sig = try XCTUnwrap(signature, "no recovered signature within 10 s")
        XCTAssertEqual(try miner.rpc("quorum", ["verify", 100, .string(requestID), .string(message), .string(sig)]), true)
        XCTAssertEqual(try miner.rpc("quorum", ["verify", 100, .string(requestID), .string(requestID), .string(sig)]), false)
        phase("quorum sign / getrecsig / verify")

        // A branch below the lock: the miner, isolated, mines 3 blocks while a masternode mines
        // (and the quorum locks) one; reconnected, the masternodes keep the locked tip.
        _ = try miner.rpc("setnetworkactive", [false])
        try poll(miner, "no peers", "getconnectioncount") { $0 == 0 }
        let meshed = Array(nodes)
        let (lockedHeight, lockedHash) = try mineAndSpread(nodes[nodes.count - 1], meshed, funding, pause: 0)
        for node in meshed { try waitChainLock(node, height: lockedHeight, hash: lockedHash) }
        // Paid elsewhere: the same coinbase on the same parent would be the locked block itself.
        let elsewhere = Address(keyHash: StandardScript.keyHash(Ed25519.publicKey(seed: [UInt8](repeating: 0x33, count: 32))), network: "regtest")
        let branch = try XCTUnwrap(try miner.rpc("generatetoaddress", [3, .string(elsewhere.text)]).arrayValue)
        XCTAssertNotEqual(branch.first?.stringValue, lockedHash)
        XCTAssertEqual(try miner.rpc("getblockcount"), .int(lockedHeight + 2))
        // A masternode is handed the whole branch before the miner reconnects, so what follows
        // shows it refusing the heavier branch, not missing it (once the miner learns the lock
        // it leaves the branch, and a peer asking it later would only see the locked chain).
        for hash in branch.compactMap(\.stringValue) {
            let raw = try miner.rpc("getblock", [.string(hash), 0])
            _ = try? meshed[0].rpc("submitblock", [raw])
        }
        _ = try miner.rpc("setnetworkactive", [true])
        try poll(miner, "peers again", "getconnectioncount", timeout: 60) { ($0.int64Value ?? 0) > 0 }
        // The miner learns the lock from its peers and refuses its own longer branch.
        try waitChainLock(miner, height: lockedHeight, hash: lockedHash)
        sleep(2)
        for node in meshed {
            XCTAssertEqual(try node.rpc("getbestblockhash").stringValue, lockedHash, "\(node.name) left the locked tip")
            // The refused branch is not asked for again and again (once per announcement).
            let syncs = logLines(node, containing: "headers in sync at height \(lockedHeight)").count
            XCTAssertLessThan(syncs, 20, "\(node.name) re-synced headers with the miner \(syncs) times")
        }
        // The masternode holds the heavier branch it refused.
        let branchTip = try XCTUnwrap(branch.last?.stringValue)
        XCTAssertNotNil(try? meshed[0].rpc("getblockheader", [.string(branchTip)]), "\(meshed[0].name) does not hold the miner's branch")
        // The locked chain grows past the branch; the miner follows it.
        let (height, hash) = try mineAndSpread(nodes[nodes.count - 1], everyone, funding, pause: 0)
        for node in everyone { try waitChainLock(node, height: height, hash: hash) }
        phase("longer branch below the lock refused")

        // A member restarted keeps its share (datadir/quorums) and serves again.
        let restarted = members[members.count - 1]
        try restarted.restart()
        try restarted.waitRPC()
        let shares = try restarted.rpc("quorum", ["dkgstatus"])["shares"]?.arrayValue ?? []
        XCTAssertTrue(shares.contains { $0["quorumHash"]?.stringValue == formed.quorumHash && $0["serving"] == true }, "\(shares)")
        XCTAssertFalse(logLines(restarted, containing: "quorum shares loaded").isEmpty)
        try poll(restarted, "at the tip", "getbestblockhash") { $0.stringValue == (try? miner.rpc("getbestblockhash").stringValue) }

        // Two members other than the restarted one killed: the quorum (threshold 3 of 5) still
        // signs, which needs the restarted member's share.
        let victims = Array(members.prefix(2))
        XCTAssertFalse(victims.contains { $0 === restarted })
        let victimIDs = try victims.map { try XCTUnwrap(try $0.rpc("masternode", ["status"])["proTxHash"]?.stringValue) }
        for victim in victims { victim.kill() }
        let alive = everyone.filter { node in !victims.contains { $0 === node } }
        let (afterHeight, afterHash) = try mineAndSpread(miner, alive, funding, pause: 0)
        for node in alive { try waitChainLock(node, height: afterHeight, hash: afterHash) }
        phase("restart keeps the share; chain lock with two members killed needs the restarted one")

        // The next DKGs go on without the dead members: a selected one is left out of the
        // commitment and takes the missed-commitment penalty (proof of service). Selection
        // follows block hashes, so DKGs run until a dead member is selected (each misses it
        // with probability 1/21; three in a row, about 1 in 10,000).
        var penalised: String?
        for round in 6...8 where penalised == nil {
            let next = try XCTUnwrap(try runDKG(start: Self.dkgInterval * round, miner: miner, nodes: alive, funding: funding))
            let selected = try miner.rpc("quorum", ["info", 100, .string(next)])["members"]?.arrayValue ?? []
            for member in selected {
                let id = try XCTUnwrap(member["proTxHash"]?.stringValue)
                XCTAssertEqual(member["valid"], .bool(!victimIDs.contains(id)), "member \(id) of \(next)")
                if victimIDs.contains(id) {
                    let penalty = try miner.rpc("protx", ["info", .string(id)])["posePenalty"]?.int64Value ?? -1
                    XCTAssertGreaterThan(penalty, 0, "the dead member \(id) missed the commitment unpunished")
                    penalised = id
                }
            }
            XCTAssertEqual(try miner.rpc("quorum", ["list"])["llmq_test"]?.arrayValue?.count, 2)
            phase("DKG at \(Self.dkgInterval * round) without the dead members (one selected: \(penalised != nil))")
        }
        XCTAssertNotNil(penalised, "no dead member selected in three DKGs")
    }

    /// Three of the five members taken down (their operators revoke them, then the nodes
    /// stop): the quorum cannot sign, is unhealthy (fewer valid members than its threshold)
    /// and the rotation at the next DKG start removes it; the DKG there forms a quorum of the
    /// remaining masternodes and chain locks resume.
    func testTooManyMembersGoneRotatesTheQuorumOut() throws {
        let formed = try formQuorum()
        let miner = formed.miner
        let memberIDs = try miner.rpc("quorum", ["info", 100, .string(formed.quorumHash)])["members"]?.arrayValue?
            .compactMap { $0["proTxHash"]?.stringValue } ?? []
        let gone = Array(formed.members.prefix(3))
        for (offset, node) in gone.enumerated() {
            let status = try node.rpc("masternode", ["status"])
            let id = try XCTUnwrap(status["proTxHash"]?.stringValue.flatMap(HexCoding.decode).flatMap { Hash256(bytes: $0) })
            XCTAssertTrue(memberIDs.contains(id.hex))
            let index = try XCTUnwrap(formed.nodes.firstIndex { $0 === node })
            let keys = TestMasternode(name: node.name, index: UInt8(index + 1)).operatorKeys
            let (coin, spent) = try miner.coinbaseOutput(height: 8 + offset)
            let revoke = try Self.revocation(of: id, spending: coin, spent, funding: formed.funding, operatorSeed: keys.operatorSeed)
            _ = try miner.rpc("sendrawtransaction", [.string(HexCoding.encode(revoke.encoded))])
        }
        for node in gone { node.kill() }
        let alive = formed.everyone.filter { node in !gone.contains { $0 === node } }
        let (height, _) = try mineAndSpread(miner, alive, formed.funding, pause: 0)
        XCTAssertEqual(try miner.rpc("getmasternodecount")["revoked"], 3)
        // Still active until the next DKG start, but two members cannot sign.
        XCTAssertEqual(try miner.rpc("quorum", ["list"])["llmq_test"]?.arrayValue?.first?.stringValue, formed.quorumHash)
        sleep(3)
        XCTAssertNotEqual((try? miner.rpc("getbestchainlock"))?["height"], .int(height), "two of five members signed a chain lock")
        phase("three members revoked and stopped")

        let start = Self.dkgInterval * 6
        let next = try XCTUnwrap(try runDKG(start: start, miner: miner, nodes: alive, funding: formed.funding), "no quorum formed at \(start)")
        XCTAssertThrowsError(try miner.rpc("quorum", ["info", 100, .string(formed.quorumHash)]), "the unhealthy quorum is still in the set")
        XCTAssertEqual(try miner.rpc("quorum", ["list"])["llmq_test"]?.arrayValue?.compactMap(\.stringValue), [next])
        let info = try miner.rpc("quorum", ["info", 100, .string(next)])
        XCTAssertEqual(info["members"]?.arrayValue?.count, 4, "the four masternodes left: \(info.text())")
        let (lockHeight, lockHash) = try mineAndSpread(miner, alive, formed.funding, pause: 0)
        for node in alive { try waitChainLock(node, height: lockHeight, hash: lockHash) }
        // Its surviving members delete their shares of it once its mining window is below the
        // chain lock (the next tip after the lock): no reorganisation can bring it back.
        try mineAndSpread(miner, alive, formed.funding, pause: 0)
        for node in formed.members.dropFirst(3) {
            let shares = try node.rpc("quorum", ["dkgstatus"])["shares"]?.arrayValue ?? []
            XCTAssertFalse(shares.contains { $0["quorumHash"]?.stringValue == formed.quorumHash }, "\(node.name) kept the share")
            let file = node.directory.appendingPathComponent("quorums/100-\(formed.quorumHash).share").path
            XCTAssertFalse(FileManager.default.fileExists(atPath: file), file)
        }
        phase("rotated out at \(start); the new quorum locks")
    }

    /// An `mn-revoke` of `id` signed by its operator, its fee paid from `coin` (a coinbase of `funding`).
    static func revocation(of id: Hash256, spending coin: OutPoint, _ spent: TxOut, funding: FundingKey, operatorSeed: [UInt8]) throws -> Transaction {
        let fee: UInt64 = 100_000
        guard let change = Amount(baseUnits: spent.value.baseUnits - fee) else { throw NetworkTestError("coin too small for the fee") }
        var payload = MasternodeRevokePayload(proTxHash: id, reason: 0)
        let outputs = [TxOut(value: change, lockScript: funding.lockScript)]
        let inputs = [TxIn(previousOutput: coin, sequence: TxIn.finalSequence)]
        payload.inputsHash = SpecialPayloadCodec.inputsHash(of: payload.transaction(inputs: inputs, outputs: outputs))
        payload.sign(seed: operatorSeed)
        return funding.signed(payload.transaction(inputs: inputs, outputs: outputs), spent: spent)
    }

    /// scripts/quorum-latency.sh: with QUORUM_LATENCY_ROUNDS=N, N blocks mined one at a time;
    /// per node and block, the time from the block becoming its tip to the chain lock being
    /// accepted (both from the node's own log, one clock); median and p90 over all of them.
    func testChainLockLatency() throws {
        guard let rounds = ProcessInfo.processInfo.environment["QUORUM_LATENCY_ROUNDS"].flatMap(Int.init), rounds > 0 else {
            throw XCTSkip("set QUORUM_LATENCY_ROUNDS (scripts/quorum-latency.sh)")
        }
        let formed = try formQuorum()
        var latencies = [Double]()
        for _ in 0..<rounds {
            let (height, hash) = try mineAndSpread(formed.miner, formed.everyone, formed.funding, pause: 0)
            for node in formed.everyone {
                try waitChainLock(node, height: height, hash: hash)
                let tip = try logTime(node, "new tip: height \(height) \(hash)")
                let lock = try logTime(node, "chain lock at height \(height) on \(hash)")
                latencies.append(lock.timeIntervalSince(tip) * 1000)
            }
        }
        let sorted = latencies.sorted()
        let median = sorted[sorted.count / 2], p90 = sorted[min(sorted.count - 1, sorted.count * 9 / 10)]
        print(String(format: "chain-lock latency: %d blocks x %d nodes: median %.1f ms, p90 %.1f ms, max %.1f ms",
                     rounds, formed.everyone.count, median, p90, sorted.last ?? 0))
    }

    /// When `node` logged a line containing `fragment` (its debug.log timestamp).
    func logTime(_ node: TestNode, _ fragment: String) throws -> Date {
        let line = try XCTUnwrap(waitForLog(node, timeout: 20) { $0.contains(fragment) }, "\(node.name) never logged \(fragment)")
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return try XCTUnwrap(formatter.date(from: String(line.prefix(24))), "\(node.name): no timestamp in \(line)")
    }

    func mine(_ node: TestNode, _ count: Int, _ funding: FundingKey) throws {
        guard count > 0 else { return }
        XCTAssertEqual(try node.rpc("generatetoaddress", [.int(count), .string(funding.address)]).arrayValue?.count, count)
    }

    /// Mines one block at `miner`, waits until every node has it, then `pause` seconds (the
    /// DKG messages of the new phase travel). Returns its height and hash.
    @discardableResult
    func mineAndSpread(_ miner: TestNode, _ nodes: [TestNode], _ funding: FundingKey, pause: Double) throws -> (Int, String) {
        let hash = try XCTUnwrap(try miner.rpc("generatetoaddress", [1, .string(funding.address)]).arrayValue?.first?.stringValue)
        let height = Int(try XCTUnwrap(try miner.rpc("getblockcount").int64Value))
        for node in nodes { try poll(node, "block \(height)", "getbestblockhash") { $0.stringValue == hash } }
        if pause > 0 { usleep(UInt32(pause * 1_000_000)) }
        return (height, hash)
    }

    func waitChainLock(_ node: TestNode, height: Int, hash: String) throws {
        let end = Date().addingTimeInterval(node.remaining(30))
        while Date() < end {
            if let lock = try? node.rpc("getbestchainlock"), lock["height"] == .int(height) {
                XCTAssertEqual(lock["blockhash"]?.stringValue, hash, "\(node.name)")
                return
            }
            usleep(100_000)
        }
        throw NetworkTestError("\(node.name): no chain lock at height \(height)")
    }
}
