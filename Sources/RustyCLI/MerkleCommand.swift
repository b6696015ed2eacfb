import ArgumentParser
import Foundation
import MerkleBackends
import OpenCLRuntime
import Primitives

/// `rusty merkle`: Merkle tree tools.
struct MerkleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merkle",
        abstract: "Merkle trees over txids.",
        subcommands: [Root.self]
    )

    struct Root: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the Merkle root of a list of txids (one 64-digit hex txid per line).",
            discussion: """
                Blank lines are skipped; any other line that is not a txid is malformed input (exit 2). The root of one txid is that txid; of none, 64 zeros. \
                Backends: opencl (the merkle_level kernel), simd (the best BLAKE3 SIMD level), \
                scalar (portable), auto (opencl when a GPU exists, else simd).
                """
        )

        @Option(help: "auto, opencl, simd or scalar.")
        var backend: String = "auto"

        @Flag(help: "Print the leaf count, time and speed on standard error.")
        var stats = false

        @Argument(help: "File of txids, or '-' for standard input.")
        var file: String = "-"

        func validate() throws {
            guard BackendChoice(rawValue: backend) != nil else {
                throw ValidationError("unknown --backend '\(backend)' (auto, opencl, simd, scalar)")
            }
        }

        func run() throws {
            let leaves: [Hash256]
            do {
                leaves = try readTxids(InputFile(path: file))
            } catch let error as TxidListError {
                throw CommandFailure(.malformed, "\(error)")
            }
            let computer = try makeBackend(BackendChoice(rawValue: backend)!, command: "merkle root", MerkleRootBackends.make)
            let began = DispatchTime.now().uptimeNanoseconds
            let root: Hash256
            do {
                root = try computer.root(of: leaves)
            } catch {
                throw CommandFailure(.invalid, "merkle root: \(error)")
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - began) / 1e9
            print(root.hex)
            if stats {
                let nodes = max(leaves.count - 1, 0)
                printError(String(format: "rusty merkle root: %d leaves, %d nodes in %.4f s (%.2f M nodes/s), backend ",
                                  leaves.count, nodes, seconds, Double(nodes) / max(seconds, 1e-9) / 1e6) + computer.name)
            }
        }
    }
}

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
