import ArgumentParser
import Foundation
import Node
import Wallet

/// `rusty wallet`: create and inspect the wallet file the node loads (DATADIR/NETWORK/wallet.dat).
struct WalletCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wallet",
        abstract: "Create and inspect the node's wallet (DATADIR/NETWORK/wallet.dat).",
        discussion: """
            The wallet's seed is encrypted under a passphrase (scrypt, ChaCha20-Poly1305); public keys, \
            labels and history are not. The node loads the wallet at start; use the wallet RPCs \
            (getnewaddress, sendtoaddress, ...) while it runs, and `address` only while it is stopped.
            """,
        subcommands: [WalletCreateCommand.self, WalletInfoCommand.self, WalletAddressCommand.self]
    )
}

struct WalletLocation: ParsableArguments {
    @Option(help: "Data directory root; the wallet is DATADIR/NETWORK/wallet.dat (default: ~/.rusty).")
    var datadir: String?

    @Option(help: "Network: mainnet, testnet, regtest (default: mainnet).")
    var network = "mainnet"

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        guard NodeConfiguration.Network(rawValue: network) != nil else {
            throw ValidationError("unknown network '\(network)' (mainnet, testnet, regtest)")
        }
    }

    var directory: String {
        let root = datadir ?? (FileManager.default.homeDirectoryForCurrentUser.path + "/.rusty")
        return (URL(fileURLWithPath: root).standardizedFileURL.path as NSString).appendingPathComponent(network)
    }
}

/// The wallet's figures as `--json` writes them.
struct WalletInfoOutput: Encodable {
    var path: String
    var network: String
    var encrypted = true
    var created: UInt64
    var kdf: String
    var keypoolSize: Int
    var keypoolSizeInternal: Int
    var transactionCount: Int
    var scannedHeight: UInt64?

    init(_ summary: WalletSummary) {
        path = summary.path
        network = summary.network
        created = summary.createdAt
        kdf = "scrypt N=2^\(summary.kdf.logN) r=\(summary.kdf.r) p=\(summary.kdf.p)"
        keypoolSize = summary.keypoolSize
        keypoolSizeInternal = summary.keypoolSizeInternal
        transactionCount = summary.transactionCount
        scannedHeight = summary.scannedHeight
    }

    var text: String {
        """
        wallet       \(path)
        network      \(network)
        encrypted    yes (\(kdf), ChaCha20-Poly1305)
        created      \(Date(timeIntervalSince1970: TimeInterval(created)).ISO8601Format())
        keypool      \(keypoolSize) receiving, \(keypoolSizeInternal) change addresses unused
        transactions \(transactionCount)
        scanned to   \(scannedHeight.map { "height \($0)" } ?? "nothing yet (the node scans at start)")
        """
    }
}

func walletFailure(_ error: Error) -> CommandFailure {
    if let failure = error as? CommandFailure { return failure }
    return CommandFailure(.invalid, "\(error)")
}

struct WalletCreateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create a new wallet (refuses to overwrite one).",
        discussion: "The passphrase is the first line of --passphrase-file, or else of standard input."
    )

    @OptionGroup var location: WalletLocation

    @Option(help: "A file whose first line is the passphrase (default: read it from standard input).")
    var passphraseFile: String?

    @Option(help: ArgumentHelp("scrypt cost: N = 2^VALUE (default 15; lower only for tests).", visibility: .hidden))
    var kdfLogN: Int = KDFParameters.standard.logN

    func validate() throws {
        guard (4...20).contains(kdfLogN) else { throw ValidationError("--kdf-log-n must be in 4...20") }
    }

    func run() throws {
        do {
            let passphrase = try readPassphrase()
            let kdf = KDFParameters(logN: kdfLogN, r: KDFParameters.standard.r, p: KDFParameters.standard.p)
            let summary = try Wallet.create(directory: location.directory, network: location.network, passphrase: passphrase, kdf: kdf)
            let output = WalletInfoOutput(summary)
            if location.json { try printJSON(output) } else { print("created \(output.path)\n" + output.text) }
        } catch {
            throw walletFailure(error)
        }
    }

    func readPassphrase() throws -> String {
        let text: String
        if let passphraseFile {
            do { text = try String(contentsOfFile: passphraseFile, encoding: .utf8) } catch {
                throw CommandFailure(.invalid, "\(passphraseFile): cannot read the passphrase (\(error.localizedDescription))")
            }
        } else {
            text = readLine(strippingNewline: false) ?? ""
        }
        let line = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        let passphrase = line.hasSuffix("\r") ? String(line.dropLast()) : line
        guard !passphrase.isEmpty else { throw CommandFailure(.invalid, "the passphrase is empty") }
        return passphrase
    }
}

struct WalletInfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Show the wallet's file, network, encryption and key pool.")

    @OptionGroup var location: WalletLocation

    func run() throws {
        do {
            let output = WalletInfoOutput(try Wallet.openOffline(directory: location.directory, network: location.network).summary)
            if location.json { try printJSON(output) } else { print(output.text) }
        } catch {
            throw walletFailure(error)
        }
    }
}

struct WalletAddressCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "address",
        abstract: "Hand out the next receiving address (offline: only while the node is stopped; otherwise use getnewaddress)."
    )

    @OptionGroup var location: WalletLocation

    @Option(help: "A label for the address.")
    var label: String?

    struct Output: Encodable { var address: String; var label: String? }

    func run() throws {
        do {
            let address = try Wallet.openOffline(directory: location.directory, network: location.network).newAddress(label: label)
            if location.json { try printJSON(Output(address: address.text, label: label)) } else { print(address.text) }
        } catch {
            throw walletFailure(error)
        }
    }
}
