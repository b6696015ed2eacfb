import ArgumentParser

/// `rusty sig`: Ed25519 keys, signatures and batch verification (ZIP-215 rules).
struct SigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sig",
        abstract: "Ed25519 keys, signing and ZIP-215 verification.",
        subcommands: [Keygen.self, Sign.self, Verify.self, VerifyBatch.self]
    )
}
