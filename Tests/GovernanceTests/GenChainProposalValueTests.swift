@testable import ChainGen
import Governance
import Testing

/// gen-chain's proposals must change the value they govern: a no-op would be `gov-value`.
@Suite("gen-chain proposal values")
struct GenChainProposalValueTests {
    @Test("a full step up, else down, else to the bound with room; never the current value")
    func neverNoOp() {
        let bounds = GovernanceBounds(range: 100...1_000, maxStep: 300)
        #expect(bounds.generatedProposalValue(from: 100) == 400)
        #expect(bounds.generatedProposalValue(from: 700) == 1_000)
        #expect(bounds.generatedProposalValue(from: 1_000) == 700, "at the top: down")
        #expect(bounds.generatedProposalValue(from: 800) == 500, "no full step up: a full step down")
        // Narrower than a step: the far bound, from either end.
        let narrow = GovernanceBounds(range: 100...250, maxStep: 300)
        #expect(narrow.generatedProposalValue(from: 100) == 250)
        #expect(narrow.generatedProposalValue(from: 250) == 100)
        #expect(narrow.generatedProposalValue(from: 180) == 250)
        #expect(GovernanceBounds(range: 5...5, maxStep: 3).generatedProposalValue(from: 5) == nil, "nothing to change to")
        #expect(GovernanceBounds(range: 0...UInt64.max, maxStep: 10).generatedProposalValue(from: UInt64.max) == UInt64.max - 10)
        // Every answer is a change the rules allow.
        for range in [UInt64(0)...0, 0...9, 3...40, 10...10_000] {
            for step in [UInt64(1), 7, 50, 20_000] {
                let bounds = GovernanceBounds(range: range, maxStep: step)
                for current in stride(from: range.lowerBound, through: range.upperBound, by: max(1, Int((range.upperBound - range.lowerBound) / 37))) {
                    guard let value = bounds.generatedProposalValue(from: current) else {
                        #expect(range.lowerBound == range.upperBound)
                        continue
                    }
                    #expect(value != current && bounds.allows(value, from: current), "\(range) step \(step) from \(current): \(value)")
                }
            }
        }
    }
}
