import Ed25519
import Foundation
import Testing
import TestSupport

/// A vector: the triple and the verdict ZIP-215 must give.
struct Expected: CustomStringConvertible {
    var source: String
    var item: SignatureItem
    var valid: Bool
    var description: String { source }
}

func bytes(_ hex: String) -> [UInt8] {
    var out = [UInt8]()
    var index = hex.startIndex
    while index < hex.endIndex {
        let next = hex.index(index, offsetBy: 2)
        out.append(UInt8(hex[index..<next], radix: 16)!)
        index = next
    }
    return out
}

enum Vectors {
    static func json(_ name: String) throws -> Any { try JSONSerialization.jsonObject(with: TestPaths.vector(name)) }

    /// RFC 8032 section 7.1: also checks key derivation and deterministic signing.
    static func rfc8032() throws -> [(seed: [UInt8], expected: Expected)] {
        let root = try json("ed25519_rfc8032_section7_1.json") as! [String: Any]
        return (root["tests"] as! [[String: Any]]).map { test in
            let item = SignatureItem(publicKey: bytes(test["public_key"] as! String), signature: bytes(test["signature"] as! String),
                                     message: bytes(test["message"] as! String))
            return (bytes(test["secret_key"] as! String), Expected(source: "RFC 8032 \(test["name"]!)", item: item, valid: true))
        }
    }

    /// SUPERCOP's sign.input: `seed||pk : pk : msg : sig||msg :`.
    static func signInput() throws -> [(seed: [UInt8], expected: Expected)] {
        let text = String(decoding: try TestPaths.vector("ed25519_sign.input"), as: UTF8.self)
        return text.split(separator: "\n").enumerated().map { line, row in
            let fields = row.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            let message = bytes(fields[2])
            let item = SignatureItem(publicKey: bytes(fields[1]), signature: Array(bytes(fields[3]).prefix(64)), message: message)
            return (Array(bytes(fields[0]).prefix(32)), Expected(source: "sign.input line \(line + 1)", item: item, valid: true))
        }
    }

    /// ZIP-215's small-order cases: all valid under ZIP-215, message "Zcash".
    static func zip215() throws -> [Expected] {
        (try json("ed25519_zip215_small_order.json") as! [[String: Any]]).enumerated().map { index, test in
            Expected(source: "zip215 #\(index)",
                     item: SignatureItem(publicKey: bytes(test["vk_bytes"] as! String), signature: bytes(test["sig_bytes"] as! String),
                                         message: Array("Zcash".utf8)),
                     valid: test["valid_zip215"] as! Bool)
        }
    }

    /// ed25519-speccheck: the ZIP-215 row is V V V V V V X X X V V V.
    static func speccheck() throws -> [Expected] {
        let verdicts = [true, true, true, true, true, true, false, false, false, true, true, true]
        return (try json("ed25519_speccheck_cases.json") as! [[String: Any]]).enumerated().map { index, test in
            Expected(source: "speccheck #\(index)",
                     item: SignatureItem(publicKey: bytes(test["pub_key"] as! String), signature: bytes(test["signature"] as! String),
                                         message: bytes(test["message"] as! String)),
                     valid: verdicts[index])
        }
    }

    /// C2SP CCTV: ZIP-215 accepts all except `reencoded_k` cases not also `low_order_A`.
    static func cctv() throws -> [Expected] {
        (try json("cctv_ed25519vectors.json") as! [[String: Any]]).map { test in
            let flags = Set((test["flags"] as? [String]) ?? [])
            return Expected(source: "cctv #\(test["number"]!)",
                            item: SignatureItem(publicKey: bytes(test["key"] as! String), signature: bytes(test["sig"] as! String),
                                                message: Array((test["msg"] as! String).utf8)),
                            valid: !(flags.contains("reencoded_k") && !flags.contains("low_order_A")))
        }
    }

    /// Wycheproof's verdicts are for strict RFC 8032 verification; under ZIP-215 the cases
    /// listed here differ (reasons in docs/PROTOCOL.md, section "Signatures").
    static let wycheproofZip215Differences: [Int: Bool] = [
        // R is y = 1 with the sign bit of x set ("negative zero"). RFC 8032 decoding rejects
        // it; ZIP-215 decodes it to the point (0, 1) and the equation holds, so it is valid.
        151: true,
    ]

    /// Wycheproof (151 cases). Signatures of the wrong length are kept as items: the API
    /// reports them invalid.
    static func wycheproof() throws -> [Expected] {
        let root = try json("wycheproof_ed25519_test.json") as! [String: Any]
        var out = [Expected]()
        for group in root["testGroups"] as! [[String: Any]] {
            let publicKey = bytes((group["publicKey"] as! [String: Any])["pk"] as! String)
            for test in group["tests"] as! [[String: Any]] {
                let id = test["tcId"] as! Int
                let strict = (test["result"] as! String) == "valid"
                out.append(Expected(source: "wycheproof tcId \(id) (\(test["comment"] as! String))",
                                    item: SignatureItem(publicKey: publicKey, signature: bytes(test["sig"] as! String),
                                                        message: bytes(test["msg"] as! String)),
                                    valid: wycheproofZip215Differences[id] ?? strict))
            }
        }
        return out
    }

    static func all() throws -> [Expected] {
        try rfc8032().map(\.expected) + signInput().map(\.expected) + zip215() + speccheck() + cctv() + wycheproof()
    }
}

struct VectorTests {
    @Test("RFC 8032 section 7.1 and SUPERCOP sign.input: key derivation, deterministic signatures, verification")
    func signing() throws {
        let cases = try Vectors.rfc8032() + Vectors.signInput()
        #expect(cases.count == 5 + 1024)
        for (seed, expected) in cases {
            #expect(Ed25519.publicKey(seed: seed) == expected.item.publicKey, "\(expected)")
            #expect(Ed25519.sign(message: expected.item.message, seed: seed) == expected.item.signature, "\(expected)")
            #expect(Ed25519.verify(signature: expected.item.signature, message: expected.item.message, publicKey: expected.item.publicKey), "\(expected)")
        }
    }

    @Test("every vector file: single verification gives the ZIP-215 verdict",
          arguments: ["zip215", "speccheck", "cctv", "wycheproof"])
    func singleVerdicts(file: String) throws {
        let cases: [Expected]
        switch file {
        case "zip215": cases = try Vectors.zip215(); #expect(cases.count == 196)
        case "speccheck": cases = try Vectors.speccheck(); #expect(cases.count == 12)
        case "cctv": cases = try Vectors.cctv(); #expect(cases.count == 914)
        default: cases = try Vectors.wycheproof(); #expect(cases.count == 151)
        }
        for expected in cases {
            let verdict = Ed25519.verify(signature: expected.item.signature, message: expected.item.message, publicKey: expected.item.publicKey)
            #expect(verdict == expected.valid, "\(expected)")
        }
    }

    @Test("CCTV: exactly the 88 reencoded_k vectors without low_order_A are rejected")
    func cctvRejectionCount() throws {
        #expect(try Vectors.cctv().filter { !$0.valid }.count == 88)
    }
}
