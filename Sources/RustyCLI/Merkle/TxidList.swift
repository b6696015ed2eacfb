import Foundation
import Primitives

/// A txid list line that is not a txid; the message names the file and line.
struct TxidListError: Error, CustomStringConvertible {
    let name: String
    let line: Int
    let text: String
    var description: String {
        let shown = text.count > 80 ? String(text.prefix(80)) + "..." : text
        return "\(name == "-" ? "<stdin>" : name):\(line): expected a txid of 64 hex digits, got '\(shown)'"
    }
}

func readTxids(_ input: InputFile) throws -> [Hash256] {
    let bytes = try input.readAll()
    var leaves = [Hash256]()
    leaves.reserveCapacity(bytes.count / 65)
    var lineNumber = 0
    for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
        lineNumber += 1
        var slice = line[...]
        while let last = slice.last, last == UInt8(ascii: "\r") || last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") {
            slice = slice.dropLast()
        }
        while let first = slice.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") { slice = slice.dropFirst() }
        if slice.isEmpty { continue }
        let text = String(decoding: slice, as: UTF8.self)
        guard slice.count == 64, let hash = Hash256(hex: text) else {
            throw TxidListError(name: input.name, line: lineNumber, text: text)
        }
        leaves.append(hash)
    }
    return leaves
}
