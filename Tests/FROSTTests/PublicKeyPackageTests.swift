import Ed25519
import FROST
import Testing

@Suite struct PublicKeyPackageTests {
    /// (0, -1), of order 2: a canonical encoding the strict decoder accepts as a point.
    static let orderTwo = Ed25519.Point(encoded: [0xEC] + [UInt8](repeating: 0xFF, count: 30) + [0x7F])!

    @Test func aTorsionedVerifyingShareIsNamed() throws {
        let key = Ed25519.Point.base(times: Ed25519.Scalar(7))
        let good = Ed25519.Point.base(times: Ed25519.Scalar(3))
        var shares = [try Identifier(1): good, try Identifier(2): good + Self.orderTwo, try Identifier(3): good]
        #expect(throws: FROSTError.invalidVerifyingShare(try Identifier(2))) {
            try PublicKeyPackage(verifyingShares: shares, verifyingKey: key, minSigners: 2)
        }
        shares[try Identifier(2)] = good
        #expect(try PublicKeyPackage(verifyingShares: shares, verifyingKey: key, minSigners: 2).maxSigners == 3)
        #expect(throws: FROSTError.invalidGroupKey) {
            try PublicKeyPackage(verifyingShares: shares, verifyingKey: key + Self.orderTwo, minSigners: 2)
        }
    }
}
