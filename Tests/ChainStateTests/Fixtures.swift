import ChainGen
import ChainParams
import ChainState
import Consensus
import Foundation
import Primitives

enum Fixtures {
    static let regtest = try! ConsensusParameters(ChainParameters.builtIn("regtest"))

    static func temporaryDirectory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("rusty-chain-\(UUID().uuidString)").path
    }

    /// A chain state fed `count` generated blocks; returns it with the generator positioned after them.
    static func chain(blocks count: Int, seed: UInt64 = 1, transactions: Int = 8, cacheMiB: Int = 64) throws
        -> (ChainState, ChainGenerator, String) {
        let directory = temporaryDirectory()
        let state = try ChainState(directory: directory, parameters: regtest, cacheMiB: cacheMiB)
        var generator = ChainGenerator(parameters: regtest, seed: seed, transactionsPerBlock: transactions)
        for _ in 0..<count { try state.accept(generator.nextBlock()) }
        return (state, generator, directory)
    }

    static func blocks(_ count: Int, seed: UInt64, transactions: Int = 8) -> ([Block], ChainGenerator) {
        var generator = ChainGenerator(parameters: regtest, seed: seed, transactionsPerBlock: transactions)
        return ((0..<count).map { _ in generator.nextBlock() }, generator)
    }
}
