import Ed25519

/// Fixed-size binary encodings for the P2P messages: commitments are identifier (32) ||
/// hiding (32) || binding (32); signature shares are identifier (32) || share (32). Every
/// field is a canonical scalar or point encoding.
extension SigningCommitments {
    public static let encodedLength = 96

    public var encoded: [UInt8] { identifier.bytes + hiding.encoded + binding.encoded }

    public init(encoded bytes: [UInt8]) throws {
        guard bytes.count == Self.encodedLength else {
            throw FROSTError.malformedEncoding(what: "signing commitments", reason: "\(bytes.count) bytes, expected \(Self.encodedLength)")
        }
        let identifier = try Identifier(bytes: Array(bytes[0..<32]))
        let hiding = try FROSTEncoding.point(Array(bytes[32..<64]), "hiding commitment")
        let binding = try FROSTEncoding.point(Array(bytes[64..<96]), "binding commitment")
        try self.init(identifier: identifier, hiding: hiding, binding: binding)
    }
}

extension SignatureShare {
    public static let encodedLength = 64

    public var encoded: [UInt8] { identifier.bytes + share.bytes }

    public init(encoded bytes: [UInt8]) throws {
        guard bytes.count == Self.encodedLength else {
            throw FROSTError.malformedEncoding(what: "signature share", reason: "\(bytes.count) bytes, expected \(Self.encodedLength)")
        }
        let identifier = try Identifier(bytes: Array(bytes[0..<32]))
        guard let share = Ed25519.Scalar(canonical: Array(bytes[32..<64])) else {
            throw FROSTError.malformedEncoding(what: "signature share", reason: "share is not a canonical scalar")
        }
        self.init(identifier: identifier, share: share)
    }
}

enum FROSTEncoding {
    static func point(_ bytes: [UInt8], _ what: String) throws -> Ed25519.Point {
        guard let point = Ed25519.Point(encoded: bytes) else {
            throw FROSTError.malformedEncoding(what: what, reason: "not a canonical curve point")
        }
        return point
    }
}
