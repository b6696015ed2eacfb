import Ed25519
import Foundation
import Primitives

/// A line of a verify-batch file that is not a signature; the message names the line.
struct BatchParseError: Error, CustomStringConvertible {
    var line: Int
    var reason: String
    var description: String { "line \(line): \(reason)" }
}

/// Parses JSONL: one object per non-empty line with hex fields pk (32 bytes), sig (64) and msg.
func parseBatchFile(_ data: [UInt8]) throws(BatchParseError) -> [SignatureItem] {
    var items = [SignatureItem]()
    let decoder = JSONDecoder()
    var lineNumber = 0
    for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
        lineNumber += 1
        let trimmed = line.drop { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
        if trimmed.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
        guard let object = try? decoder.decode(SignatureLine.self, from: Data(line)) else {
            throw BatchParseError(line: lineNumber, reason: "not a JSON object")
        }
        func field(_ name: String, _ text: String?, length: Int?) throws(BatchParseError) -> [UInt8] {
            guard let text else {
                throw BatchParseError(line: lineNumber, reason: "missing string field '\(name)'")
            }
            guard let bytes = HexCoding.decode(text) else {
                throw BatchParseError(line: lineNumber, reason: "field '\(name)' is not hex")
            }
            if let length, bytes.count != length {
                throw BatchParseError(line: lineNumber, reason: "field '\(name)' has \(bytes.count) bytes, expected \(length)")
            }
            return bytes
        }
        items.append(SignatureItem(publicKey: try field("pk", object.pk, length: 32),
                                   signature: try field("sig", object.sig, length: 64),
                                   message: try field("msg", object.msg, length: nil)))
    }
    return items
}
