import ChainState
import Consensus
import Foundation
import Masternodes
import Primitives
import Testing
import TestSupport
import Verification

/// verify-chain's deferred path: a payload signature rides the block's signature batch; a
/// wrong one of every type is found there and reported as special-signature at its
/// transaction, and the list is reverted with the blocks dropped.
@Suite(.serialized)
struct MasternodePipelineSignatureTests {
    @Test("a wrong payload signature of each type is special-signature in the pipeline; the list is that of the block before")
    func pipelineRejectsEachType() throws {
        var (blocks, history) = try MasternodePipelineTests.history(blocks: 125, seed: 0x6D6E_1D)
        let expected = try TestBlocks.recomputeMasternodes(blocks, parameters: MasternodeParameters(Fixtures.regtest.chain)).list
        #expect(expected.count >= 3)
        for action: MasternodeHistory.Action in [.registerInternal, .updateService, .updateRegistrar, .revoke] {
            let (bad, _) = try history.blockWithBadPayloadSignature(on: blocks.last!.header, action)
            for batchSize in [1, 64] {
                let directory = Fixtures.temporaryDirectory()
                defer { try? FileManager.default.removeItem(atPath: directory) }
                let (state, report) = try MasternodePipelineTests.verify(blocks + [bad], batchSize: batchSize, into: directory)
                let failure = report.failure ?? "no failure"
                #expect(failure.contains(RuleName.specialSignature.rawValue) && failure.contains("tx 1"), "\(action): \(failure)")
                #expect(state.tip.hash == blocks.last!.hash, "\(action)")
                #expect(state.masternodes == expected, "\(action)")
                try state.flush()
            }
        }
    }
}
