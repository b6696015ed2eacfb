import Foundation

/// One Ed25519 vector from Tests/Vectors with the verdict ZIP-215 gives it
/// (docs/PROTOCOL.md section 8). Shared by the CPU and OpenCL signature tests.
public struct SignatureVectorCase: CustomStringConvertible, Sendable {
    public var source: String
    public var publicKey: [UInt8]
    public var signature: [UInt8]
    public var message: [UInt8]
    public var valid: Bool
    /// The signer's seed, for the files that give it (RFC 8032, sign.input).
    public var seed: [UInt8]?
    public var description: String { source }
}

/// The bytes of a vector file's hex field (a malformed vector file stops the run).
public func hexBytes(_ hex: String) -> [UInt8] {
    guard let bytes = HexCoding.decode(hex) else { fatalError("not hex: \(hex.prefix(80))") }
    return bytes
}

public enum Ed25519Vectors {
    static func json(_ name: String) throws -> Any { try JSONSerialization.jsonObject(with: TestPaths.vector(name)) }

    /// RFC 8032 section 7.1 (5 cases, all valid).
    public static func rfc8032() throws -> [SignatureVectorCase] {
        let root = try json("ed25519_rfc8032_section7_1.json") as! [String: Any]
        return (root["tests"] as! [[String: Any]]).map { test in
            SignatureVectorCase(source: "RFC 8032 \(test["name"]!)", publicKey: hexBytes(test["public_key"] as! String),
                                signature: hexBytes(test["signature"] as! String), message: hexBytes(test["message"] as! String),
                                valid: true, seed: hexBytes(test["secret_key"] as! String))
        }
    }

    /// SUPERCOP's sign.input: `seed||pk : pk : msg : sig||msg :` (1024 cases, all valid).
    public static func signInput() throws -> [SignatureVectorCase] {
        let text = String(decoding: try TestPaths.vector("ed25519_sign.input"), as: UTF8.self)
        return text.split(separator: "\n").enumerated().map { line, row in
            let fields = row.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            return SignatureVectorCase(source: "sign.input line \(line + 1)", publicKey: hexBytes(fields[1]),
                                       signature: Array(hexBytes(fields[3]).prefix(64)), message: hexBytes(fields[2]),
                                       valid: true, seed: Array(hexBytes(fields[0]).prefix(32)))
        }
    }

    /// ZIP-215's small-order cases (196, all valid under ZIP-215), message "Zcash".
    public static func zip215() throws -> [SignatureVectorCase] {
        (try json("ed25519_zip215_small_order.json") as! [[String: Any]]).enumerated().map { index, test in
            SignatureVectorCase(source: "zip215 #\(index)", publicKey: hexBytes(test["vk_bytes"] as! String),
                                signature: hexBytes(test["sig_bytes"] as! String), message: Array("Zcash".utf8),
                                valid: test["valid_zip215"] as! Bool)
        }
    }

    /// ed25519-speccheck (12): the ZIP-215 row is V V V V V V X X X V V V.
    public static func speccheck() throws -> [SignatureVectorCase] {
        let verdicts = [true, true, true, true, true, true, false, false, false, true, true, true]
        return (try json("ed25519_speccheck_cases.json") as! [[String: Any]]).enumerated().map { index, test in
            SignatureVectorCase(source: "speccheck #\(index)", publicKey: hexBytes(test["pub_key"] as! String),
                                signature: hexBytes(test["signature"] as! String), message: hexBytes(test["message"] as! String),
                                valid: verdicts[index])
        }
    }

    /// C2SP CCTV (914): ZIP-215 accepts all except `reencoded_k` cases not also `low_order_A`.
    public static func cctv() throws -> [SignatureVectorCase] {
        (try json("cctv_ed25519vectors.json") as! [[String: Any]]).map { test in
            let flags = Set((test["flags"] as? [String]) ?? [])
            return SignatureVectorCase(source: "cctv #\(test["number"]!)", publicKey: hexBytes(test["key"] as! String),
                                       signature: hexBytes(test["sig"] as! String), message: Array((test["msg"] as! String).utf8),
                                       valid: !(flags.contains("reencoded_k") && !flags.contains("low_order_A")))
        }
    }

    /// Where ZIP-215 differs from Wycheproof's strict verdicts: tcId 151, whose R is y = 1
    /// with the sign bit set ("negative zero"), decodes to (0, 1) under ZIP-215 and verifies.
    public static let wycheproofZip215Differences: [Int: Bool] = [151: true]

    /// Wycheproof (151). Signatures of the wrong length stay in and must come back invalid.
    public static func wycheproof() throws -> [SignatureVectorCase] {
        let root = try json("wycheproof_ed25519_test.json") as! [String: Any]
        var out = [SignatureVectorCase]()
        for group in root["testGroups"] as! [[String: Any]] {
            let publicKey = hexBytes((group["publicKey"] as! [String: Any])["pk"] as! String)
            for test in group["tests"] as! [[String: Any]] {
                let id = test["tcId"] as! Int
                let strict = (test["result"] as! String) == "valid"
                out.append(SignatureVectorCase(source: "wycheproof tcId \(id) (\(test["comment"] as! String))", publicKey: publicKey,
                                               signature: hexBytes(test["sig"] as! String), message: hexBytes(test["msg"] as! String),
                                               valid: wycheproofZip215Differences[id] ?? strict))
            }
        }
        return out
    }

    public static func all() throws -> [SignatureVectorCase] {
        try rfc8032() + signInput() + zip215() + speccheck() + cctv() + wycheproof()
    }
}
