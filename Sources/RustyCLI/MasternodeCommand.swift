import ArgumentParser
import Foundation
import Masternodes

/// `rusty masternode`: the operator's side of a masternode, offline.
struct MasternodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "masternode",
        abstract: "Masternode operator tools.",
        subcommands: [MasternodeKeygenCommand.self]
    )
}

/// `rusty masternode keygen --out FILE`: fresh operator keys (Ed25519 operator key and X25519
/// encryption key) in a key file readable by its owner only, for
/// `rusty node --masternode --operator-key-file FILE`; prints the public keys to register.
struct MasternodeKeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Write fresh masternode operator keys to a file (mode 0600, never overwritten) and print the public keys.",
        discussion: "The public keys go into `protx register` (operator_pubkey, encryption_pubkey); the file stays on the masternode."
    )

    @Option(help: "Key file to create (refused if it exists).")
    var out: String

    @Flag(help: "Print JSON.")
    var json = false

    struct Output: Encodable {
        var file: String
        var operatorKey: String
        var encryptionKey: String
    }

    func run() throws {
        let keys = OperatorKeys.generate()
        do {
            try keys.write(to: out)
        } catch {
            throw CommandFailure(.invalid, "\(error)")
        }
        let operatorKey = keys.operatorKey.map { String(format: "%02x", $0) }.joined()
        let encryptionKey = keys.encryptionKey.map { String(format: "%02x", $0) }.joined()
        if json {
            print(try jsonText(Output(file: out, operatorKey: operatorKey, encryptionKey: encryptionKey)))
        } else {
            print("""
                wrote operator keys to \(out) (mode 0600)
                operator key:   \(operatorKey)
                encryption key: \(encryptionKey)
                """)
        }
    }
}
