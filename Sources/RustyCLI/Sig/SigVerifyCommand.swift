import ArgumentParser
import Ed25519
import Foundation
import Primitives

/// `rusty sig verify`: one signature under ZIP-215.
extension SigCommand {
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify one signature under ZIP-215; prints valid or invalid, exit status 0 or 1.")

        @Option(help: "Public key, 64 hex digits.")
        var pk: String

        @Option(help: "Signature, 128 hex digits.")
        var sig: String

        @Argument(help: "Message file, or '-' for standard input.")
        var file: String = "-"

        func run() throws {
            guard let publicKey = HexCoding.decode(pk), publicKey.count == 32 else {
                throw ValidationError("--pk needs 32 bytes as 64 hex digits")
            }
            guard let signature = HexCoding.decode(sig), signature.count == 64 else {
                throw ValidationError("--sig needs 64 bytes as 128 hex digits")
            }
            let valid = Ed25519.verify(signature: signature, message: try readMessage(file), publicKey: publicKey)
            print(valid ? "valid" : "invalid")
            if !valid { throw ExitStatus.invalid.code }
        }
    }
}
