import ArgumentParser
import Foundation
import MerkleBackends
import OpenCLRuntime
import Primitives

/// `rusty merkle root`: the Merkle root of a txid list.
extension MerkleCommand {
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
