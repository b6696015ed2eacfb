import Foundation
import JSONRPC
import Masternodes
import Primitives
import XCTest

/// The signed governance execution record on a real network (issue 19, the seed's "Broadcast
/// Execution"; docs/protocol/governance-execution.md): on the quorum network of
/// `QuorumNetworkTests.formQuorum` (seven masternodes, the llmq_test quorum locking every
/// block), a proposal voted 5 yes / 2 no by the masternodes' owner keys closes at its deadline;
/// every masternode, member of the quorum or not, then shows its `execution` with the quorum's
/// recovered signature, verified under the mined quorum's key, and the record's outcome is the
/// tally's. The mining node runs no quorum service: the signed record reaches it as `govexec`,
/// it shows it verified, checks the signature with `quorum verify` as a light client holding
/// the quorum key would, and still shows it after a restart (governance-executions.dat).
/// An extension (the class is final) so that it reuses `formQuorum` and its block helpers.
extension QuorumNetworkTests {
    /// Regtest's whitelist id of maxBlockBytes (Governance.GovernanceParameter, not a dependency of these tests).
    static let maxBlockBytesParameter: UInt16 = 1

    func testGovernanceExecutionIsSignedByTheQuorumAtTheDeadline() throws {
        let formed = try formQuorum()
        let (miner, nodes, funding, everyone) = (formed.miner, formed.nodes, formed.funding, formed.everyone)
        let (lockHeight, lockHash) = try mineAndSpread(miner, everyone, funding, pause: 0)
        for node in everyone { try waitChainLock(node, height: lockHeight, hash: lockHash) }
        phase("chain lock before the proposal")

        // The proposal (collateral and fee from a coinbase of the funding key), mined in the next block.
        let start = lockHeight + 3, deadline = start + 4, delay: UInt64 = 3
        let proposal = try Self.proposal(maxBlockBytes: 5_000_000, start: UInt64(start), deadline: UInt64(deadline), delay: delay,
                                         spending: try miner.coinbaseOutput(height: 10), funding: funding)
        let proposalID = try XCTUnwrap(try miner.rpc("sendrawtransaction", [.string(HexCoding.encode(proposal.encoded))]).stringValue)
        XCTAssertEqual(proposalID, proposal.txid.hex)
        try waitInPool(everyone, proposalID)
        while try Int(XCTUnwrap(miner.rpc("getblockcount").int64Value)) < start - 1 { try mineAndSpread(miner, everyone, funding, pause: 0) }
        XCTAssertEqual(try miner.rpc("gobject", ["get", .string(proposalID)])["execution"], .null, "an open proposal has no execution")

        // Five masternodes vote yes, two no (owner keys in 0600 files), mined in the window's first block.
        for (index, node) in nodes.enumerated() {
            let ownerFile = node.root.appendingPathComponent("owner.key").path
            let owner = TestMasternode(name: node.name, index: UInt8(index + 1)).ownerSeed
            try (HexCoding.encode(owner) + "\n").write(toFile: ownerFile, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: ownerFile)
            let answer = try node.rpc("gobject", ["vote", .string(proposalID), index < 5 ? "yes" : "no", .string(ownerFile)])
            let txid = try XCTUnwrap(answer.arrayValue?.first?["txid"]?.stringValue, "\(node.name): \(answer.text())")
            // Votes wait apart from the fee-paying pool: getmempoolentry finds them, an error until then.
            let end = Date().addingTimeInterval(miner.remaining(30))
            while (try? miner.rpc("getmempoolentry", [.string(txid)])) == nil {
                guard Date() < end else { throw NetworkTestError("\(node.name)'s vote \(txid.prefix(12)) never reached the miner's pool") }
                usleep(100_000)
            }
        }
        // One block at a time to the deadline: signing starts at the deadline tip when the node is not catching up.
        while try Int(XCTUnwrap(miner.rpc("getblockcount").int64Value)) < deadline { try mineAndSpread(miner, everyone, funding, pause: 0) }
        let closed = Date()
        let tally = try miner.rpc("gobject", ["get", .string(proposalID)])
        XCTAssertEqual(tally["status"], "approved", tally.text())
        XCTAssertEqual(tally["yes"], 5)
        XCTAssertEqual(tally["no"], 2)
        XCTAssertEqual(tally["activationHeight"], .int(Int64(deadline) + Int64(delay)))
        phase("proposal voted 5-2 and closed at \(deadline)")

        // Every masternode (members and the two outside the quorum) holds the verified signature.
        var signature: String?, quorumType: JSON = .null, requestID: JSON = .null, messageHash: JSON = .null
        for node in nodes {
            let shown = try poll(node, "a verified execution signature", "gobject", ["get", .string(proposalID)], timeout: 30) {
                $0["execution"]?["verified"] == true
            }
            let execution = try XCTUnwrap(shown["execution"]?.objectValue, node.name)
            XCTAssertEqual(execution["result"], tally["status"], node.name)
            XCTAssertEqual(execution["activationHeight"], tally["activationHeight"], node.name)
            XCTAssertEqual(execution["quorumHash"]?.stringValue, formed.quorumHash, node.name)
            XCTAssertEqual(execution["quorumType"], .int(100), node.name)
            let signed = try XCTUnwrap(execution["signature"]?.stringValue, node.name)
            XCTAssertEqual(signed, signature ?? signed, "\(node.name): one recovered signature per request")
            signature = signed
            (quorumType, requestID, messageHash) = (execution["quorumType"] ?? .null, execution["requestId"] ?? .null, execution["messageHash"] ?? .null)
            XCTAssertEqual(try node.rpc("gobject", ["execution", .string(proposalID)]), .object(execution), node.name)
        }
        print(String(format: "governance execution: verified on every masternode %.2f s after the deadline block spread",
                     Date().timeIntervalSince(closed)))
        let nonMembers = nodes.filter { node in !formed.members.contains { $0 === node } }
        XCTAssertEqual(nonMembers.count, 2, "the check covered masternodes outside the quorum")

        // The miner runs no quorum service: the signed record reaches it as `govexec`, and it
        // keeps it (governance-executions.dat) across a restart.
        let relayed = try poll(miner, "the signed record relayed to a plain node", "gobject", ["execution", .string(proposalID)], timeout: 30) {
            $0["verified"] == true
        }
        XCTAssertEqual(relayed["signature"]?.stringValue, signature)
        XCTAssertEqual(relayed["result"], "approved")
        let sig = try XCTUnwrap(signature)
        XCTAssertEqual(try miner.rpc("quorum", ["verify", quorumType, requestID, messageHash, .string(sig)]), true)
        XCTAssertEqual(try miner.rpc("quorum", ["verify", quorumType, requestID, requestID, .string(sig)]), false)
        try miner.restart()
        try miner.waitRPC()
        XCTAssertEqual(try miner.rpc("gobject", ["execution", .string(proposalID)]), relayed, "the record after a restart")
        XCTAssertFalse(logLines(miner, containing: "signed governance execution records loaded").isEmpty)
        // Restarted without the file, it gets the record again from the masternodes that reconnect to it.
        try miner.stop()
        try FileManager.default.removeItem(at: miner.directory.appendingPathComponent("governance-executions.dat"))
        try miner.start(miner.arguments)
        try miner.waitRPC()
        try poll(miner, "the record sent again at the handshake", "gobject", ["execution", .string(proposalID)], timeout: 60) { $0 == relayed }
        phase("execution signed and verified")
    }

    /// A signed `gov-proposal` setting maxBlockBytes: output 0 the collateral (5 RUST, regtest's),
    /// output 1 the change, both to `funding`; the payload encoded as PROTOCOL 18.2 lays it out.
    static func proposal(maxBlockBytes: UInt64, start: UInt64, deadline: UInt64, delay: UInt64,
                         spending coin: (OutPoint, TxOut), funding: FundingKey) throws -> Transaction {
        let collateral: UInt64 = 500_000_000, fee: UInt64 = 100_000
        guard coin.1.value.baseUnits > collateral + fee, let change = Amount(baseUnits: coin.1.value.baseUnits - collateral - fee), let locked = Amount(baseUnits: collateral) else {
            throw NetworkTestError("coin of \(coin.1.value.baseUnits) base units cannot pay the collateral and fee")
        }
        var payload = ByteWriter()
        payload.writeUInt16(1) // payload version
        payload.writeUInt16(maxBlockBytesParameter)
        for field in [maxBlockBytes, start, deadline, delay] { payload.write(field) }
        payload.writeVarBytes(Array("https://example.org/execution".utf8))
        payload.write(Hash256(bytes: [UInt8](repeating: 0x5A, count: 32)) ?? .zero)
        payload.write(UInt32(0)) // collateral index
        let transaction = Transaction(special: .governanceProposal, payload: payload.bytes,
                                      inputs: [TxIn(previousOutput: coin.0, sequence: TxIn.finalSequence)],
                                      outputs: [TxOut(value: locked, lockScript: funding.lockScript), TxOut(value: change, lockScript: funding.lockScript)])
        return funding.signed(transaction, spent: coin.1)
    }
}
