// Module RustyCLI: the `rusty` command line. It owns argument parsing, one file per command
// (a parent command's folder holds its configuration and one file per subcommand), the
// human output, the `--json` documents (one Codable type each, written by printJSON), the
// error format and the exit table. It must not hold engine logic: hashing, validation,
// verification and storage live in the library modules it calls, so the commands stay thin.

import ArgumentParser

@main
struct Rusty: ParsableCommand {
    static let version = "0.1.0"
    /// The commit this binary was built from (Plugins/EmbedGitCommitPlugin; "unknown" without git).
    static let commit = BuildCommit.hash

    static let configuration = CommandConfiguration(
        commandName: "rusty",
        abstract: "Rusty Coin engine: hashing, signatures, chain parameters and device information.",
        discussion: """
            Errors go to standard error as `rusty: MESSAGE`; a file error is `rusty: PATH: REASON`. \
            Output paths are written in place (a FIFO, device or symlink is written through); `-` is \
            standard output.

            Exit status (the same for every command):
            \(ExitStatus.table)
            """,
        version: "rusty \(version) (commit \(commit))",
        subcommands: [
            HashCommand.self, SigCommand.self, PowCommand.self, MerkleCommand.self, DevicesCommand.self, ChainParamsCommand.self,
            GenChainCommand.self, GenTxsCommand.self, VerifyChainCommand.self, UTXOInfoCommand.self, MineCommand.self, BenchCommand.self, NodeCommand.self,
            RPCCommand.self, WalletCommand.self, MasternodeCommand.self,
        ]
    )

    /// Usage errors found while parsing read like every other error.
    static var _errorPrefix: String { "rusty: " }

    static func main() { runMain() }
}

/// Writes a line to standard error (progress, notices, errors never go to standard output).
func printError(_ message: String) {
    var stderr = StandardError()
    print(message, to: &stderr)
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        var string = string
        string.withUTF8 { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = fputsWrite(buffer.baseAddress! + offset, buffer.count - offset)
                if written <= 0 { return }
                offset += written
            }
        }
    }
}
