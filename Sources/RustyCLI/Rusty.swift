import ArgumentParser

@main
struct Rusty: ParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "rusty",
        abstract: "Rusty Coin engine: hashing, signatures, chain parameters and device information.",
        discussion: """
            Exit status: 0 on success, 1 when an input could not be processed (the message names it), \
            64 on a usage error.
            """,
        version: version,
        subcommands: [
            HashCommand.self, SigCommand.self, PowCommand.self, MerkleCommand.self, DevicesCommand.self, ChainParamsCommand.self,
            GenChainCommand.self, VerifyChainCommand.self, UTXOInfoCommand.self, MineCommand.self, BenchCommand.self,
        ]
    )
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
