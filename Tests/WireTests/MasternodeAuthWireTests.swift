import Primitives
import TestSupport
import Wire
import XCTest

/// The masternode authentication messages (`mnchallenge`, `mnauth`): exact sizes, strict
/// decoding, and a signed digest that depends on everything it must.
final class MasternodeAuthWireTests: XCTestCase {
    let challenge = [UInt8](repeating: 0xC1, count: 32)
    let proTxHash = Hash256(bytes: [UInt8](repeating: 0x7E, count: 32))!

    func testChallengeAndAuthRoundTrip() throws {
        let auth = MasternodeAuth(proTxHash: proTxHash, signature: (0..<64).map { UInt8($0) })
        for message in [Message.mnchallenge(challenge), .mnauth(auth)] {
            let payload = message.encodePayload()
            XCTAssertEqual(payload.count, WireLimits.maxPayload(forCommand: message.command))
            XCTAssertEqual(try Message.decode(command: message.command, payload: payload), message)
            XCTAssertEqual(readAll(Frame.encode(message, magic: regtest)).messages, [message])
        }
        XCTAssertEqual(Message.mnauth(auth).encodePayload(), proTxHash.bytes + auth.signature)
    }

    func testWrongLengthsAreMalformed() {
        XCTAssertTrue(decodeReason("mnchallenge", Array(challenge.dropLast())).contains("challenge"))
        XCTAssertTrue(decodeReason("mnchallenge", []).contains("challenge"))
        XCTAssertTrue(decodeReason("mnauth", [UInt8](repeating: 1, count: 95)).contains("signature"))
        XCTAssertTrue(decodeReason("mnauth", [UInt8](repeating: 1, count: 31)).contains("pro_tx_hash"))
        // One byte too many: over the command's limit, refused before decoding.
        XCTAssertEqual(decodeError("mnchallenge", challenge + [0]), .oversized(command: "mnchallenge", length: 33, limit: 32))
        XCTAssertEqual(decodeError("mnauth", [UInt8](repeating: 1, count: 97)), .oversized(command: "mnauth", length: 97, limit: 96))
    }

    func testOversizedFrameIsRefusedByItsHeader() {
        let frame = rawFrame("mnauth", payload: [], length: 1_000)
        XCTAssertEqual(readAll(frame).error, .oversized(command: "mnauth", length: 1_000, limit: 96))
    }

    func testDigestBindsMagicChallengeIdentityAndDirection() {
        let base = MasternodeAuth.signedDigest(magic: regtest, challenge: challenge, proTxHash: proTxHash, signerDialled: true)
        XCTAssertEqual(base.count, 32)
        XCTAssertEqual(base, MasternodeAuth.signedDigest(magic: regtest, challenge: challenge, proTxHash: proTxHash, signerDialled: true))
        var otherChallenge = challenge
        otherChallenge[31] ^= 1
        let variants = [
            MasternodeAuth.signedDigest(magic: [0xF9, 0xBE, 0xB4, 0xD9], challenge: challenge, proTxHash: proTxHash, signerDialled: true),
            MasternodeAuth.signedDigest(magic: regtest, challenge: otherChallenge, proTxHash: proTxHash, signerDialled: true),
            MasternodeAuth.signedDigest(magic: regtest, challenge: challenge, proTxHash: .zero, signerDialled: true),
            MasternodeAuth.signedDigest(magic: regtest, challenge: challenge, proTxHash: proTxHash, signerDialled: false),
        ]
        for variant in variants { XCTAssertNotEqual(variant, base) }
        XCTAssertEqual(Set(variants).count, variants.count)
    }

    private func decodeReason(_ command: String, _ payload: [UInt8]) -> String {
        if case .malformed(let failed, let reason) = decodeError(command, payload), failed == command { return reason }
        return "not malformed"
    }
}
