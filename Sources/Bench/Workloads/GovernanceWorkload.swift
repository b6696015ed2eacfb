import Foundation
import Governance
import Primitives

/// `rusty bench` section governance: the time the tally adds to the block that closes a
/// proposal (PROTOCOL section 18.5). A regtest chain with N masternodes (5,000 in quick and
/// full) mines three proposals, every masternode votes on each (6 yes : 3 no : 1 abstain),
/// and their deadlines fall two blocks apart: the connect time (`accept`) of each closing
/// block beside that of the empty block after it, which closes nothing, and the time the
/// closing block spent in its governance stage (tally, closing, burn, root: what the tally
/// adds). The tally alone (the count over the ledger and the list) is measured too.
enum GovernanceWorkload: BenchWorkload {
    static let section = BenchSectionName.governance

    static func masternodes(_ mode: BenchMode) -> Int { mode == .tiny ? 200 : 5_000 }

    static func run(_ r: Recorder) throws {
        let count = masternodes(r.mode)
        let directory = temporaryDirectory("governance")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        r.options.progress("bench: governance: registering \(count) masternodes")
        let chain = try GovernanceBenchChain(directory: directory, parameters: try regtest(), seed: 0x676F_76)
        try chain.registerMasternodes(count)
        let start = chain.height + 2
        let proposals = try [(GovernanceParameter.maxBlockBytes, UInt64(3_000_000), UInt64(4)), (.minRelayFeeRate, 2_000, 6), (.finalityDepth, 12, 8)]
            .map { try chain.proposal($0.0, value: $0.1, start: start, voting: $0.2, delay: 10) }
        try chain.mine(proposals)
        try chain.mine([])
        r.options.progress("bench: governance: \(count) votes on each of \(proposals.count) proposals")
        for proposal in proposals { try chain.mine(chain.votes(on: proposal.txid)) }
        guard chain.height < start + 4 else { throw BenchError.verificationFailed("governance: votes ran past the first deadline") }
        while chain.height < start + 3 { try chain.mine([]) }
        // The tally alone, over the ledger before the first deadline.
        let maturity = chain.state.masternodeParameters.registrationMaturity
        var tallies = [Double]()
        for _ in 0..<5 {
            tallies.append(Recorder.time {
                _ = GovernanceRules.tally(of: proposals[0].txid, ledger: chain.state.governance, list: chain.state.masternodes,
                                          height: start + 4, maturity: maturity)
            })
        }
        var closing = [Double](), plain = [Double](), governance = [Double]()
        for _ in proposals {
            closing.append(try chain.mine([]))
            governance.append(chain.state.lastGovernanceSeconds)
            plain.append(try chain.mine([]))
        }
        for proposal in proposals {
            guard let closed = chain.state.governance.proposal(proposal.txid)?.closing,
                  Int(closed.tally.yes + closed.tally.no + closed.tally.abstain) == count, closed.result == .approved else {
                throw BenchError.verificationFailed("governance: proposal \(proposal.txid.hex) did not close approved with \(count) votes")
            }
        }
        let label = "\(count) masternode votes"
        let ms = { (values: [Double]) in values.map { $0 * 1_000 } }
        r.add("connect of the block closing a proposal, \(label)", backend: "scalar", unit: "ms", values: ms(closing))
        r.add("connect of the next block (nothing to close)", backend: "scalar", unit: "ms", values: ms(plain))
        r.add("time the tally adds to the closing block (its governance stage), \(label)", backend: "scalar", unit: "ms", values: ms(governance))
        r.add("tally alone (count over ledger and list), \(label)", backend: "scalar", unit: "ms", values: ms(tallies))
    }
}
