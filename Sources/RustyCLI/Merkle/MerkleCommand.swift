import ArgumentParser

/// `rusty merkle`: Merkle tree tools.
struct MerkleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merkle",
        abstract: "Merkle trees over txids.",
        subcommands: [Root.self]
    )
}
