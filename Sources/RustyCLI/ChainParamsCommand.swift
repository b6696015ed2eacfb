import ArgumentParser
import ChainParams
import Foundation
import Primitives

/// `rusty chain-params`: the parameters of a network, as built into the binary or from a file.
struct ChainParamsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chain-params",
        abstract: "Print a network's chain parameters and genesis block."
    )

    @Option(name: .long, help: "Network: mainnet, testnet or regtest.")
    var network: String = "mainnet"

    @Option(name: .long, help: "Read parameters from this JSON file instead of the built-in ones.")
    var file: String?

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    @Flag(name: .customLong("mine-genesis"), help: "Find the genesis nonce for --file (when writing a new network's parameters).")
    var mineGenesis = false

    func run() throws {
        if mineGenesis {
            guard let file else { throw ValidationError("--mine-genesis needs --file") }
            let parameters: ChainParameters
            do {
                parameters = try ChainParameters.decodeUnvalidated(Data(InputFile(path: file).readAll()), source: file)
            } catch let error as FileError {
                throw error
            } catch {
                throw CommandFailure(.malformed, "\(error)")
            }
            let (nonce, hash) = try parameters.mineGenesis()
            print("nonce \(nonce)\nhash \(hash.hex)")
            return
        }
        let parameters: ChainParameters
        if let file {
            // Read here so an unreadable file is `PATH: strerror`, not a Foundation error.
            let bytes = try InputFile(path: file).readAll()
            do {
                parameters = try ChainParameters.parse(Data(bytes), source: file)
            } catch {
                throw CommandFailure(.invalid, "\(error)")
            }
        } else {
            do {
                parameters = try ChainParameters.builtIn(network)
            } catch {
                throw ValidationError("\(error)")
            }
        }
        if json {
            try printJSON(ChainParamsOutput(parameters), pretty: true)
            return
        }
        let genesis = parameters.genesisBlock()
        let limit = (try? parameters.powLimit.target().hex) ?? "invalid"
        print("""
            network:              \(parameters.name)
            magic:                \(parameters.magic)
            ports:                p2p \(parameters.ports.p2p), rpc \(parameters.ports.rpc), stratum \(parameters.ports.stratum)
            PoW limit:            \(parameters.powLimitBits) (target \(limit))
            target spacing:       \(parameters.targetSpacingSeconds) s (ASERT half-life \(parameters.asert.halfLifeSeconds) s)
            subsidy:              \(Amount(baseUnits: parameters.subsidy.initialBaseUnits)!) RUST, halving every \(parameters.subsidy.halvingInterval) blocks
            coinbase maturity:    \(parameters.coinbaseMaturity) blocks
            max block size:       \(parameters.maxBlockBytes) bytes
            max future time:      \(parameters.maxFutureBlockTimeSeconds) s, median of last \(parameters.medianTimeSpan)
            genesis hash:         \(genesis.hash.hex)
            genesis merkle root:  \(genesis.header.merkleRoot.hex)
            genesis time, bits:   \(genesis.header.time), \(parameters.genesis.bits)
            genesis nonce:        \(genesis.header.nonce)
            genesis message:      \(parameters.genesis.message)
            """)
    }
}
