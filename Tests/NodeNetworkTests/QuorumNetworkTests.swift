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
/// branch mined below a lock by an isolated node is refused, and with one member killed the
/// quorum still signs.
final class QuorumNetworkTests: MempoolNetworkTestCase {
    override class var budget: Double { 480 }
    static let masternodeCount = 7
    /// Regtest's llmq_test schedule (Config/regtest.json): DKGs start every 24 blocks, phases of 2.
    static let dkgInterval = 24, phaseBlocks = 2

    var phaseStarted = Date()
    func phase(_ name: String) {
        print(String(format: "quorum network: %@ took %.1f s", name, Date().timeIntervalSince(phaseStarted)))
        phaseStarted = Date()
    }

    func testQuorumFormsAndChainLocksEveryBlock() throws {
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

        // The DKG starting at 120: blocks one at a time, each reaching every node before the
        // next; from the mining window on, until the commitment is mined.
        let start = Self.dkgInterval * 5
        try mine(miner, start - 1 - 113, funding)
        for _ in (start - 1)..<(start + 4 * Self.phaseBlocks - 1) { try mineAndSpread(miner, everyone, funding, pause: 1.0) }
        phase("DKG (contribution to commitment, paced)")
        var quorumHash: String?
        for _ in 0..<8 where quorumHash == nil {
            try mineAndSpread(miner, everyone, funding, pause: 0.5)
            quorumHash = try miner.rpc("quorum", ["list"])["llmq_test"]?.arrayValue?.first?.stringValue
        }
        let minedQuorum = try XCTUnwrap(quorumHash, "no commitment mined in the window")
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
        _ = try miner.rpc("setnetworkactive", [true])
        try poll(miner, "peers again", "getconnectioncount", timeout: 60) { ($0.int64Value ?? 0) > 0 }
        // The miner learns the lock from its peers and refuses its own longer branch.
        try waitChainLock(miner, height: lockedHeight, hash: lockedHash)
        sleep(2)
        for node in meshed {
            XCTAssertEqual(try node.rpc("getbestblockhash").stringValue, lockedHash, "\(node.name) left the locked tip")
        }
        // The locked chain grows past the branch; the miner follows it.
        let (height, hash) = try mineAndSpread(nodes[nodes.count - 1], everyone, funding, pause: 0)
        for node in everyone { try waitChainLock(node, height: height, hash: hash) }
        phase("longer branch below the lock refused")

        // One member killed: the quorum (threshold 3 of 5) still signs.
        let victim = try XCTUnwrap(members.first)
        victim.kill()
        let alive = everyone.filter { $0 !== victim }
        let (afterHeight, afterHash) = try mineAndSpread(miner, alive, funding, pause: 0)
        for node in alive { try waitChainLock(node, height: afterHeight, hash: afterHash) }
        phase("chain lock with one member killed")
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
