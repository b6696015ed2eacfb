import ArgumentParser
import Ed25519
import Foundation
import Primitives

/// `rusty sig sign`: a signature of a file under a seed read from a file, never the command line.
extension SigCommand {
    struct Sign: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sign a file (or standard input); prints the 64-byte signature in hex.",
            discussion: """
                The secret key is read from --key-file (64 hex digits; surrounding whitespace is ignored), or from \
                standard input with --key-file -, never from the command line, where any local user can read it \
                (ps, /proc/PID/cmdline) and shell history keeps it. A key file others can read gets a warning.
                """)

        // Optional only so that validate() can explain a leftover --key before asking for this.
        @Option(name: .customLong("key-file"), help: "File holding the 32-byte seed (secret key) as 64 hex digits, or '-' for standard input (required).")
        var keyFile: String?

        // Removed: kept hidden only to explain the change to old scripts.
        @Option(name: .customLong("key"), help: .hidden)
        var keyOnCommandLine: String?

        @Argument(help: "Message file, or '-' for standard input.")
        var file: String = "-"

        func validate() throws {
            if keyOnCommandLine != nil { throw ValidationError(secretArgumentRemoved("--key", replacement: "--key-file")) }
            if keyFile == nil { throw ValidationError("missing --key-file FILE (or --key-file - to read the key from standard input)") }
            if keyFile == "-" && file == "-" {
                throw ValidationError("--key-file - reads the key from standard input, so the message must be a file")
            }
        }

        func run() throws {
            let key: Ed25519.SigningKey
            do {
                let seed = try readSeed(keyFile!, option: "--key-file")
                key = Ed25519.SigningKey(seed: UnsafeRawBufferPointer(seed.bytes))
            } // `seed` is wiped here; the signing key wipes itself when released.
            let message = try readMessage(file)
            print(HexCoding.encode(key.sign(message: message)))
        }
    }
}
