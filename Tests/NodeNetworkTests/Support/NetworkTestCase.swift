import Foundation
import XCTest

/// Base of the network tests: each test gets a `NodeNetwork` with its own time budget, and
/// tearDown kills its nodes and removes their datadirs whatever happened, printing the end
/// of every debug.log when the test failed. Subclasses make their chain once per class.
class NetworkTestCase: XCTestCase {
    /// Seconds one test may take, every wait included.
    class var budget: Double { 180 }

    private(set) var network: NodeNetwork!

    override func setUpWithError() throws {
        try super.setUpWithError()
        let label = name.filter { $0.isLetter || $0.isNumber }.suffix(40)
        network = try NodeNetwork(String(label), budget: Self.budget)
    }

    override func tearDown() {
        // hasSucceeded is only true once the run has stopped, which is after tearDown.
        let failed = (testRun?.totalFailureCount ?? 1) > 0
        network?.tearDown(printingLogs: failed)
        network = nil
        super.tearDown()
    }

    /// Lines of `node`'s debug.log that contain every one of `fragments`.
    func logLines(_ node: TestNode, containing fragments: String...) -> [Substring] {
        node.logLines.filter { line in fragments.allSatisfy { line.contains($0) } }
    }

    /// Polls `node`'s debug.log (bounded by the test's time) for a line matching `match`.
    func waitForLog(_ node: TestNode, timeout: Double, poll: Double = 0.1, _ match: (Substring) -> Bool) -> Substring? {
        let end = Date().addingTimeInterval(node.remaining(timeout))
        while true {
            if let line = node.logLines.first(where: match) { return line }
            if Date() >= end { return nil }
            usleep(UInt32(poll * 1e6))
        }
    }

    /// Fails unless `node`'s UTXO set (utxo-info, node stopped) is the chain's reference.
    func assertChainState(_ node: TestNode, height: Int, tipHash: String, digest: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let info = try node.utxoInfo()
        XCTAssertEqual((info["height"] as? NSNumber)?.intValue, height, "\(node.name) utxo-info height", file: file, line: line)
        XCTAssertEqual(info["bestHash"] as? String, tipHash, "\(node.name) utxo-info best block", file: file, line: line)
        XCTAssertEqual(info["digest"] as? String, digest, "\(node.name) UTXO digest vs verify-chain's", file: file, line: line)
    }
}

/// A fixture made in `class setUp` (where nothing can throw): the value, or why there is none.
struct ClassFixture<Value: Sendable>: Sendable {
    private let result: Result<Value, NetworkTestError>

    init(_ make: () throws -> Value) {
        do { result = .success(try make()) } catch { result = .failure(NetworkTestError("class fixture: \(error)")) }
    }

    func get() throws -> Value { try result.get() }
    var value: Value? { try? result.get() }
}
