import Foundation
import JSONRPC
import TestSupport
import XCTest

/// A flood of low-fee transactions into a node with a 1 MB pool: the pool stays within its
/// bound by evicting the cheapest packages, its minimum fee rises, the flood's tail is refused
/// with "mempool min fee not met", and an honest transaction paying more still enters and
/// reaches the node's peer.
final class MempoolFloodTests: MempoolNetworkTestCase {
    override class var budget: Double { 420 }
    nonisolated(unsafe) static var fixture: ClassFixture<ChainFixture>?
    static let blocks = 300, transactionsPerBlock = 20, seed: UInt64 = 0xf100_d001

    override class func setUp() {
        super.setUp()
        fixture = ClassFixture {
            try ChainFixture.make("flood", blocks: blocks, transactionsPerBlock: transactionsPerBlock, seed: seed)
        }
    }

    override class func tearDown() {
        fixture?.value?.remove()
        fixture = nil
        super.tearDown()
    }

    /// `rusty gen-txs` over the fixture's chain: hex transactions, in acceptance order.
    func generate(count: Int, depth: Int, feeRate: ClosedRange<Int>, into directory: URL) throws -> [String] {
        let file = directory.appendingPathComponent("txs-\(count)-\(feeRate.lowerBound).hex")
        let result = try runProcess(TestPaths.rustyExecutable,
                                    ["gen-txs", "--network", "regtest", "--blocks", String(Self.blocks),
                                     "--txs-per-block", String(Self.transactionsPerBlock), "--seed", String(Self.seed),
                                     "--count", String(count), "--chain-depth", String(depth),
                                     "--min-fee-rate", String(feeRate.lowerBound), "--max-fee-rate", String(feeRate.upperBound),
                                     "--out", file.path], timeout: 240)
        XCTAssertEqual(result.status, 0, "rusty gen-txs: \(result.stderrText)")
        return try String(contentsOf: file, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    /// sendrawtransaction for each of `transactions`, as JSON-RPC batches of 500; the error
    /// messages of the refusals.
    func sendAll(_ node: TestNode, _ transactions: [String]) throws -> [String] {
        var refusals = [String]()
        for start in stride(from: 0, to: transactions.count, by: 500) {
            let requests: [JSON] = transactions[start..<min(transactions.count, start + 500)].enumerated().map { index, hex in
                ["jsonrpc": "1.0", "id": .int(Int64(start + index)), "method": "sendrawtransaction", "params": [.string(hex)]]
            }
            let connection = try RawHTTPConnection(port: node.rpcPort, timeout: node.remaining(60))
            connection.send(RawHTTPConnection.post(body: JSON.array(requests).serialized(), authorization: try node.cookieAuthorization()))
            guard let response = connection.readResponse(), let answers = response.json?.arrayValue else {
                throw NetworkTestError("\(node.name): no batch answer")
            }
            XCTAssertEqual(answers.count, requests.count)
            for answer in answers {
                if let message = answer["error"]?["message"]?.stringValue { refusals.append(message) }
            }
        }
        return refusals
    }

    func testALowFeeFloodFillsTheBoundRaisesTheMinimumFeeAndHonestTransactionsStillRelay() throws {
        let chain = try XCTUnwrap(Self.fixture).get()
        let a = try network.makeNode("a", from: chain.template), b = try network.makeNode("b", from: chain.template)
        try a.start(["--listen", "--maxmempool", "1"] + Self.fastRelay)
        try a.waitListening()
        try b.start(["--connect", a.endpoint] + Self.fastRelay)
        for node in [a, b] { try node.waitRPC() }
        try waitHeight([a, b], chain.height)
        try poll(b, "B connected", "getconnectioncount") { $0 == 1 }

        // About 1.5 MB at 1,000-1,500 per kvB in chains of three, then three at 50,000 per kvB
        // spending a coin the flood does not touch (gen-txs takes coins in order).
        let flood = try generate(count: 6_000, depth: 3, feeRate: 1_000...1_500, into: a.root)
        let honest = Array(try generate(count: 6_003, depth: 3, feeRate: 50_000...50_000, into: a.root).suffix(3))
        let refusals = try sendAll(a, flood)
        let info = try a.rpc("getmempoolinfo")
        let bytes = try XCTUnwrap(info["bytes"]?.int64Value)
        XCTAssertLessThanOrEqual(bytes, 1_000_000, "the pool stays within --maxmempool")
        XCTAssertGreaterThan(bytes, 900_000, "the flood filled it")
        XCTAssertEqual(info["maxmempool"], .int(1_000_000))
        let minimum = try XCTUnwrap(info["mempoolminfee"]?.doubleValue)
        XCTAssertGreaterThan(minimum, 0.00001, "the minimum fee rose above the relay minimum: \(info.text())")
        XCTAssertTrue(refusals.contains { $0.hasPrefix("mempool min fee not met") || $0.hasPrefix("mempool full") },
                      "some of the flood was refused: \(Set(refusals).prefix(5))")
        XCTAssertFalse(refusals.contains { $0.contains("chain-state-error") })

        let txids = try honest.map { try XCTUnwrap(try a.rpc("sendrawtransaction", [.string($0)]).stringValue) }
        try waitInPool([a, b], txids[2])
        try waitStatus([b], txids[0], "in B's pool") { $0["state"] == "mempool" }
        XCTAssertLessThanOrEqual(try XCTUnwrap(a.rpc("getmempoolinfo")["bytes"]?.int64Value), 1_000_000)
    }
}
