import Primitives
import QuorumServices
import TestSupport
import Wire
import XCTest

/// `clsig`: exact size, strict decoding with named fields, the header-only size refusal.
final class ChainLockWireTests: XCTestCase {
    let lock = TestLockQuorum(4).lock(height: 321, blockHash: Hash256(bytes: [UInt8](repeating: 0xB1, count: 32))!, quorumType: 100)

    func testRoundTripAndLayout() throws {
        let message = Message.clsig(lock)
        let payload = message.encodePayload()
        XCTAssertEqual(payload.count, 136)
        XCTAssertEqual(WireLimits.maxPayload(forCommand: "clsig"), 136)
        XCTAssertEqual(payload, [65, 1, 0, 0, 0, 0, 0, 0] + lock.blockHash.bytes + lock.quorumHash.bytes + lock.signature)
        XCTAssertEqual(try Message.decode(command: "clsig", payload: payload), message)
        XCTAssertEqual(readAll(Frame.encode(message, magic: regtest)).messages, [message])
    }

    func testWrongLengthsAreMalformedNamingTheField() {
        let payload = Message.clsig(lock).encodePayload()
        XCTAssertTrue(decodeReason("clsig", Array(payload.dropLast())).contains("clsig.signature"))
        XCTAssertTrue(decodeReason("clsig", Array(payload.prefix(50))).contains("clsig.quorum_hash"))
        XCTAssertTrue(decodeReason("clsig", []).contains("clsig.height"))
        XCTAssertEqual(decodeError("clsig", payload + [0]), .oversized(command: "clsig", length: 137, limit: 136))
    }

    func testOversizedFrameIsRefusedByItsHeader() {
        XCTAssertEqual(readAll(rawFrame("clsig", payload: [], length: 5_000)).error, .oversized(command: "clsig", length: 5_000, limit: 136))
    }

    private func decodeReason(_ command: String, _ payload: [UInt8]) -> String {
        if case .malformed(let failed, let reason) = decodeError(command, payload), failed == command { return reason }
        return "not malformed"
    }
}
