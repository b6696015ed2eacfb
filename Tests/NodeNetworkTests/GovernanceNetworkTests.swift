import ChainParams
import Ed25519
import Foundation
import JSONRPC
import Masternodes
import Primitives
import TestSupport
import Wallet
import XCTest

/// Governance on a regtest network (PROTOCOL section 18): node a (wallet, miner), node b
/// (validating only, later isolated) and three masternode nodes that vote with their owner
/// keys. A proposal raising the block size passes by votes: a block above the old limit is
/// refused one block before the activation height and accepted from it on every node; a
/// spam proposal voted down has its collateral burned on every node; then b's longer branch,
/// which never saw the votes, reorganises every node back across the activation height and
/// the old limit and the burned collateral come back exactly.
final class GovernanceNetworkTests: MempoolNetworkTestCase {
    override class var budget: Double { 480 }

    static let oldLimit = 4_000_000
    static let newLimit = 8_000_000

    func testAProposalRaisesTheBlockSizeAndASpamProposalIsBurned() throws {
        let started = Date()
        func phase(_ name: String) { print("[governance] \(name) at \(String(format: "%.1f", Date().timeIntervalSince(started))) s") }
        let parameters = try MasternodeParameters(ChainParameters.builtIn("regtest"))
        let funding = FundingKey()
        let a = try network.makeNode("a"), b = try network.makeNode("b")
        let nodes = try (1...3).map { try network.makeNode("m\($0)") }
        var masternodes = (1...3).map { TestMasternode(name: "m\($0)", index: UInt8($0)) }

        // a mines the registrations' coins to the test's key and its wallet's coins.
        try makeWallet(a)
        try a.start(["--listen"] + Self.fastRelay)
        try a.waitListening()
        try a.waitRPC()
        let walletAddress = try XCTUnwrap(try a.rpc("getnewaddress").stringValue)
        try a.rpc("generatetoaddress", [3, .string(funding.address)])
        try a.rpc("generatetoaddress", [105, .string(walletAddress)])
        for index in masternodes.indices {
            let (coin, spent) = try a.coinbaseOutput(height: index + 1)
            let registration = try masternodes[index].registration(
                spending: coin, spent, funding: funding, collateral: parameters.collateral,
                service: ServiceAddress(ipv4: (127, 0, 0, 1), port: UInt16(nodes[index].port)))
            XCTAssertEqual(try a.rpc("sendrawtransaction", [.string(HexCoding.encode(registration.encoded))]).stringValue, registration.txid.hex)
            masternodes[index].proTxHash = registration.txid
        }
        let readyHeight = 109 + Int(parameters.registrationMaturity)
        try a.rpc("generatetoaddress", [.int(readyHeight - 108), .string(walletAddress)])
        try poll(a, "the wallet at \(readyHeight)", "getwalletinfo") { $0["lastprocessedblock"]?["height"] == .int(readyHeight) }
        try a.rpc("walletpassphrase", [.string(Self.passphrase), 3_600])

        try b.start(["--listen", "--connect", a.endpoint] + Self.fastRelay)
        var ownerKeyFiles = [String]()
        for (index, node) in nodes.enumerated() {
            let keyFile = node.root.appendingPathComponent("operator.json").path
            try masternodes[index].operatorKeys.write(to: keyFile)
            // The owner key stays with the masternode's operator in this test: a 0600 file of its seed in hex.
            let ownerFile = node.root.appendingPathComponent("owner.key").path
            try (HexCoding.encode(masternodes[index].ownerSeed) + "\n").write(toFile: ownerFile, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: ownerFile)
            ownerKeyFiles.append(ownerFile)
            try node.start(["--listen", "--masternode", "--operator-key-file", keyFile, "--connect", a.endpoint] + Self.fastRelay)
        }
        let connected = [a] + nodes, everyone = [a, b] + nodes
        for node in everyone { try node.waitRPC() }
        try waitHeight(everyone, readyHeight)
        phase("network up, three masternodes registered")

        let info = try a.rpc("getgovernanceinfo")
        let minVoting = try XCTUnwrap(info["votingBlocks"]?["min"]?.int64Value)
        XCTAssertEqual(info["collateral"]?.doubleValue, 5)
        XCTAssertEqual(try blockSizeLimit(a), Self.oldLimit)

        // Two proposals in one block: the block size (passes) and a spam one (voted down).
        let start = readyHeight + 3, deadline = start + Int(minVoting) + 1, delay = 3
        let textHash = HexCoding.encode([UInt8](repeating: 0x5A, count: 32))
        let raise = try XCTUnwrap(try a.rpc("gobject", ["submit", "maxBlockBytes", .int(Self.newLimit), .int(start), .int(deadline), .int(delay),
                                                       "https://example.org/raise", .string(textHash)]).stringValue)
        let spam = try XCTUnwrap(try a.rpc("gobject", ["submit", "finalityDepth", 7, .int(start), .int(deadline), .int(delay),
                                                      "https://example.org/spam", .string(textHash)]).stringValue)
        let spamCollateral = try XCTUnwrap(try a.rpc("gobject", ["get", .string(spam)])["collateral"]?.stringValue)
        try waitInPool(everyone, raise)
        try waitInPool(everyone, spam)
        try a.rpc("generatetoaddress", [1, .string(walletAddress)])
        let proposalHeight = readyHeight + 1
        try waitHeight(everyone, proposalHeight)
        for node in everyone {
            let open = try node.rpc("gobject", ["list", "open"]).arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
            XCTAssertEqual(Set(open), [raise, spam], node.name)
        }

        // b leaves before any vote: its branch will have the proposals and no votes.
        XCTAssertEqual(try b.rpc("setnetworkactive", [false]), false)
        try poll(b, "b alone", "getconnectioncount") { $0 == 0 }
        phase("proposals mined at \(proposalHeight), b isolated")

        // A vote in the pool before the window opens is refused; m1 first votes no on the raise
        // (mined), then yes in a later block: the later vote replaces the earlier.
        XCTAssertThrowsError(try nodes[0].rpc("gobject", ["vote", .string(raise), "no", .string(ownerKeyFiles[0])])) {
            XCTAssertEqual(self.code($0), -26)
        }
        try a.rpc("generatetoaddress", [.int(start - 1 - proposalHeight), .string(walletAddress)])
        try waitHeight(connected, start - 1)
        let firstVote = try vote(nodes[0], raise, "no", ownerKeyFiles[0])
        try waitVoteInPool(connected, firstVote)
        try a.rpc("generatetoaddress", [1, .string(walletAddress)])
        try waitHeight(connected, start)
        XCTAssertEqual(try a.rpc("gobject", ["get", .string(raise)])["no"], 1)
        var votes = [String]()
        for (node, file) in zip(nodes, ownerKeyFiles) {
            votes.append(try vote(node, raise, "yes", file))
            votes.append(try vote(node, spam, "no", file))
        }
        for txid in votes { try waitVoteInPool([a], txid) }
        try a.rpc("generatetoaddress", [.int(deadline - start), .string(walletAddress)])
        try waitHeight(connected, deadline)
        phase("votes mined, deadline \(deadline) reached")

        // The tally on every node: the raise approved, the spam slashed and its collateral gone.
        var activation = 0
        for node in connected {
            let approved = try node.rpc("gobject", ["get", .string(raise)])
            XCTAssertEqual(approved["status"], "approved", "\(node.name): \(approved.text())")
            XCTAssertEqual(approved["yes"], 3, node.name)
            XCTAssertEqual(approved["no"], 0, node.name)
            activation = Int(try XCTUnwrap(approved["activationHeight"]?.int64Value))
            let slashed = try node.rpc("gobject", ["get", .string(spam)])
            XCTAssertEqual(slashed["status"], "slashed", "\(node.name): \(slashed.text())")
            XCTAssertEqual(try node.rpc("gettxout", try outpointArguments(spamCollateral) + [false]), .null, "\(node.name): the burned collateral")
            XCTAssertEqual(try node.rpc("gobject", ["votes", .string(raise)]).arrayValue?.count, 3, node.name)
        }
        XCTAssertEqual(activation, deadline + delay)
        // The proposer's wallet no longer counts the burned collateral as a coin.
        try poll(a, "a's wallet drops the burned collateral", "listunspent", [0]) { !self.lists($0, spamCollateral) }

        // One block before the activation the old limit holds; from it the new one, on every node.
        try a.rpc("generatetoaddress", [.int(activation - 2 - deadline), .string(walletAddress)])
        try waitHeight(connected, activation - 2)
        XCTAssertEqual(try blockSizeLimit(a), Self.oldLimit)
        let early = try oversizedBlock(a, bytes: Self.oldLimit + 50_000, payout: funding.lockScript)
        let refusal = try a.rpc("submitblock", [.string(HexCoding.encode(early.encoded))])
        XCTAssertNotEqual(refusal, .null, "a block of \(early.encoded.count) bytes at height \(activation - 1) was accepted")
        try a.rpc("generatetoaddress", [1, .string(walletAddress)])
        try waitHeight(connected, activation - 1)
        for node in connected { XCTAssertEqual(try blockSizeLimit(node), Self.newLimit, node.name) }
        let large = try oversizedBlock(a, bytes: Self.oldLimit + 50_000, payout: funding.lockScript)
        XCTAssertEqual(try a.rpc("submitblock", [.string(HexCoding.encode(large.encoded))]), .null)
        for node in connected { try poll(node, "the large block", "getbestblockhash", timeout: 90) { $0 == .string(large.hash.hex) } }
        phase("a block of \(large.encoded.count) bytes accepted at \(activation) on every node")

        // b's branch (no votes) grows past the others; every node reorganises onto it.
        let branchTip = activation + 2
        try b.rpc("generatetoaddress", [.int(branchTip - proposalHeight), .string(funding.address)])
        let bTip = try b.rpc("getbestblockhash")
        XCTAssertEqual(try b.rpc("setnetworkactive", [true]), true)
        for node in everyone { try poll(node, "b's branch", "getbestblockhash", timeout: 120) { $0 == bTip } }
        for node in everyone {
            XCTAssertEqual(try blockSizeLimit(node), Self.oldLimit, node.name)
            let undone = try node.rpc("gobject", ["get", .string(raise)])
            XCTAssertEqual(undone["status"], "rejected", "\(node.name): \(undone.text())")
            XCTAssertEqual(undone["yes"], 0, node.name)
            XCTAssertNotEqual(try node.rpc("gettxout", try outpointArguments(spamCollateral) + [false]), .null, "\(node.name): the collateral is back")
        }
        try poll(a, "a's wallet lists the collateral again", "listunspent", [0]) { self.lists($0, spamCollateral) }
        let after = try oversizedBlock(a, bytes: Self.oldLimit + 50_000, payout: funding.lockScript)
        XCTAssertNotEqual(try a.rpc("submitblock", [.string(HexCoding.encode(after.encoded))]), .null)
        phase("reorganised onto b's branch: the old limit is back")
    }

    /// Votes wait apart from the fee-paying pool (not in getrawmempool): getmempoolentry finds them.
    func waitVoteInPool(_ nodes: [TestNode], _ txid: String) throws {
        for node in nodes {
            let end = Date().addingTimeInterval(node.remaining(60))
            while (try? node.rpc("getmempoolentry", [.string(txid)])) == nil {
                guard Date() < end else { throw NetworkTestError("\(node.name): vote \(txid.prefix(12)) never reached the pool") }
                usleep(100_000)
            }
        }
    }

    func vote(_ node: TestNode, _ proposal: String, _ outcome: String, _ ownerKeyFile: String) throws -> String {
        let answer = try node.rpc("gobject", ["vote", .string(proposal), .string(outcome), .string(ownerKeyFile)])
        let txids = answer.arrayValue?.compactMap { $0["txid"]?.stringValue } ?? []
        guard txids.count == 1, let txid = txids.first else { throw NetworkTestError("\(node.name): gobject vote answered \(answer.text())") }
        return txid
    }

    /// The block size limit in force for the node's next block.
    func blockSizeLimit(_ node: TestNode) throws -> Int? {
        (try node.rpc("getblockchaininfo"))["parameters"]?["maxBlockBytes"]?.int64Value.map(Int.init)
    }

    /// Whether a listunspent answer holds the coin "txid:n".
    func lists(_ unspent: JSON, _ outpoint: String) -> Bool {
        unspent.arrayValue?.contains { coin in
            "\(coin["txid"]?.stringValue ?? ""):\(coin["vout"]?.int64Value ?? -1)" == outpoint
        } ?? false
    }

    func outpointArguments(_ text: String) throws -> [JSON] {
        guard let outpoint = Wallet.parseOutPoint(text) else { throw NetworkTestError("'\(text)' is not txid:n") }
        return [.string(outpoint.txid.hex), .int(Int64(outpoint.index))]
    }

    /// A valid next block for `node` of at least `bytes` bytes: its template (pool transactions
    /// included) with the coinbase padded by zero-value data outputs, then mined.
    func oversizedBlock(_ node: TestNode, bytes: Int, payout: [UInt8]) throws -> Block {
        let template = try node.rpc("getblocktemplate", [.object(["payoutscript": .string(HexCoding.encode(payout))])])
        guard let headerHex = template["header"]?.stringValue, let headerBytes = HexCoding.decode(headerHex),
              let coinbaseHex = template["coinbasetxn"]?["data"]?.stringValue, let coinbaseBytes = HexCoding.decode(coinbaseHex),
              let rootHex = template["extensionroot"]?.stringValue, let extensionRoot = Hash256(hex: rootHex) else {
            throw NetworkTestError("\(node.name): getblocktemplate lacks header, coinbasetxn or extensionroot: \(template.text().prefix(400))")
        }
        var header = try BlockHeader(decoding: headerBytes)
        var coinbase = try Transaction(decoding: coinbaseBytes)
        let pooled = try (template["transactions"]?.arrayValue ?? []).map { entry -> Transaction in
            guard let hex = entry["data"]?.stringValue, let data = HexCoding.decode(hex) else { throw NetworkTestError("template transaction without data") }
            return try Transaction(decoding: data)
        }
        let padding = 9_000
        let base = Block(header: header, transactions: [coinbase] + pooled).encoded.count
        let count = max(0, (bytes - base) / padding + 1)
        coinbase.outputs += (0..<count).map { _ in TxOut(value: .zero, lockScript: [0x6a] + [UInt8](repeating: 0, count: padding - 1)) }
        var block = Block(header: header, transactions: [coinbase] + pooled)
        header.merkleRoot = block.computeMerkleRoot()
        header.stateRoot = block.computeStateRoot(extensionRoot: extensionRoot)
        let target = try CompactTarget(bits: header.bits).target()
        while !ProofOfWork.meets(header.hash, target: target) { header.nonce += 1 }
        block.header = header
        return block
    }
}
