import ChainGen
import ChainParams
import Consensus
import Foundation
import Primitives

/// Generated chains and scratch paths for the verification tests.
enum Fixtures {
    static let regtest = try! ConsensusParameters(ChainParameters.builtIn("regtest"))

    static func temporaryDirectory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("rusty-verification-\(UUID().uuidString)").path
    }

    /// `count` generated blocks from height 1, and the generator positioned after them.
    static func blocks(_ count: Int, seed: UInt64, transactions: Int = 8) -> ([Block], ChainGenerator) {
        var generator = ChainGenerator(parameters: regtest, seed: seed, transactionsPerBlock: transactions)
        return ((0..<count).map { _ in generator.nextBlock() }, generator)
    }
}
