import ChainGen
import ChainState
import Consensus
import Foundation
import Primitives
import Testing

/// `ChainState.bestHeader` (what snapshots publish as the best header) follows the index.
struct BestHeaderTests {
    @Test("a deferred rejection drops the later blocks from the best header too")
    func bestHeaderAfterDeferredRejection() throws {
        let (blocks, _) = Fixtures.blocks(106, seed: 33, transactions: 6)
        let directory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let state = try ChainState(directory: directory, parameters: Fixtures.regtest)
        for block in blocks.prefix(103) { try state.accept(block) }
        var connections = [DeferredConnection]()
        for block in blocks.suffix(3) {
            let txids = try ContextFreeRules.check(block, encodedSize: block.encoded.count, parameters: Fixtures.regtest).txids
            connections.append(try state.connectDeferred(block, txids: txids))
        }
        #expect(state.bestHeader.hash == blocks[105].hash)
        let location = try #require(connections[1].locations.first)
        _ = try state.rejectDeferred(index: 1, location: location)
        #expect(state.tip.hash == blocks[103].hash && state.bestHeader.hash == blocks[103].hash)
        #expect(ChainService(state).snapshot.bestHeaderHash == blocks[103].hash)
    }
}
