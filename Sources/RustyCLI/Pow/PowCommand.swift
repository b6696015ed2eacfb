import ArgumentParser

/// `rusty pow`: proof-of-work tools.
struct PowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pow",
        abstract: "Proof-of-work search over a header's nonce field.",
        subcommands: [Search.self]
    )
}
