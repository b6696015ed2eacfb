import Governance
import Masternodes
import Primitives
import Testing
import TestSupport

/// The tally rule of PROTOCOL section 18.5 at its edges: the 10% margin rounds up and
/// exactly 10% suffices, ties and abstentions, voters registered or banned during the window,
/// changed votes.
struct GovernanceTallyTests {
    static func tally(yes: Int, no: Int, abstain: Int = 0, valid: Int) -> GovernanceTally {
        GovernanceTally(outcomes: Array(repeating: GovernanceVoteOutcome.yes, count: yes) + Array(repeating: .no, count: no)
                            + Array(repeating: .abstain, count: abstain), validMasternodes: valid)
    }

    @Test("threshold = ceil(10% of valid masternodes): 0, 1 for 1...10, 2 for 11...20, 500 for 5,000")
    func threshold() {
        #expect(GovernanceTally.threshold(validMasternodes: 0) == 0)
        for valid in UInt32(1)...10 { #expect(GovernanceTally.threshold(validMasternodes: valid) == 1) }
        #expect(GovernanceTally.threshold(validMasternodes: 11) == 2)
        #expect(GovernanceTally.threshold(validMasternodes: 20) == 2)
        #expect(GovernanceTally.threshold(validMasternodes: 5_000) == 500)
        #expect(GovernanceTally.threshold(validMasternodes: 5_001) == 501)
        #expect(GovernanceTally.threshold(validMasternodes: .max) == UInt32.max / 10 + 1)
    }

    @Test("exactly 10% margin approves or slashes; one vote less rejects")
    func exactlyTenPercent() {
        #expect(Self.tally(yes: 12, no: 10, valid: 20).result == .approved)   // margin 2 = 10% of 20
        #expect(Self.tally(yes: 11, no: 10, valid: 20).result == .rejected)
        #expect(Self.tally(yes: 10, no: 12, valid: 20).result == .slashed)
        #expect(Self.tally(yes: 10, no: 11, valid: 20).result == .rejected)
        // 21 valid: 10% is 2.1, rounded up to 3.
        #expect(Self.tally(yes: 3, no: 0, valid: 21).result == .approved)
        #expect(Self.tally(yes: 2, no: 0, valid: 21).result == .rejected)
        #expect(Self.tally(yes: 0, no: 3, valid: 21).result == .slashed)
    }

    @Test("ties and abstentions: a tie never approves or slashes; abstentions count for neither side")
    func tiesAndAbstentions() {
        #expect(Self.tally(yes: 5, no: 5, abstain: 10, valid: 20).result == .rejected)
        #expect(Self.tally(yes: 0, no: 0, abstain: 20, valid: 20).result == .rejected)
        #expect(Self.tally(yes: 0, no: 0, valid: 0).result == .rejected)
        let counted = Self.tally(yes: 2, no: 0, abstain: 18, valid: 20)
        #expect(counted.result == .approved && counted.abstain == 18)
        #expect(!Self.tally(yes: 1, no: 0, abstain: 19, valid: 20).approved)
    }

    static func entry(_ byte: UInt8, registered: UInt64, banned: UInt64? = nil) -> MasternodeEntry {
        MasternodeEntry(proTxHash: Hash256(bytes: [UInt8](repeating: byte, count: 32))!, collateral: OutPoint(txid: .zero, index: UInt32(byte)),
                        ownerKey: [UInt8](repeating: byte, count: 32), operatorKey: [UInt8](repeating: byte &+ 100, count: 32),
                        operatorEncryptionKey: [UInt8](repeating: byte &+ 200, count: 32),
                        service: ServiceAddress(ipv4: (10, 0, 0, byte), port: 9999), payoutScript: [0x51], registeredHeight: registered,
                        bannedHeight: banned)
    }

    @Test("voters banned or registered during the window: only the last vote of masternodes valid at the deadline counts; changed votes replace")
    func validityAtDeadline() {
        let proposalId = Hash256(bytes: [UInt8](repeating: 0xEE, count: 32))!
        let payload = GovernanceProposalPayload(parameter: .finalityDepth, newValue: 9, startHeight: 10, deadlineHeight: 20, activationDelay: 1,
                                                url: "", textHash: .zero, collateralIndex: 0)
        var ledger = GovernanceLedger()
        var undo = GovernanceLedgerUndo()
        ledger.setProposal(GovernanceProposal(id: proposalId, payload: payload, height: 5), undo: &undo)
        // 10 masternodes: 1...8 fine, 9 banned at 15 (after voting), 10 registered at 19 (immature at 20 with maturity 2).
        var list = MasternodeList()
        var listUndo = MasternodeListUndo()
        for byte in UInt8(1)...8 { list.set(Self.entry(byte, registered: 1), undo: &listUndo) }
        list.set(Self.entry(9, registered: 1, banned: 15), undo: &listUndo)
        list.set(Self.entry(10, registered: 19), undo: &listUndo)
        func vote(_ byte: UInt8, _ outcome: GovernanceVoteOutcome, sequence: UInt32, height: UInt64) {
            ledger.setVote(GovernanceVoteRecord(proposalId: proposalId, proTxHash: Hash256(bytes: [UInt8](repeating: byte, count: 32))!,
                                                outcome: outcome, sequence: sequence, height: height, txid: .zero), undo: &undo)
        }
        vote(1, .yes, sequence: 0, height: 11)
        vote(2, .no, sequence: 0, height: 11)
        vote(9, .yes, sequence: 0, height: 12)     // banned later: not counted
        vote(10, .yes, sequence: 0, height: 19)    // immature at the deadline: not counted
        vote(2, .yes, sequence: 1, height: 18)     // changed: the last vote counts
        vote(3, .abstain, sequence: 0, height: 20)
        let tally = GovernanceRules.tally(of: proposalId, ledger: ledger, list: list, height: 20, maturity: 2)
        #expect(tally == GovernanceTally(yes: 2, no: 0, abstain: 1, validMasternodes: 8))
        #expect(tally.result == .approved)
        #expect(ledger.voteCount(of: proposalId) == 5)
        // Reverting restores the empty ledger exactly.
        ledger.revert(undo)
        #expect(ledger.isEmpty && ledger.voteCount(of: proposalId) == 0 && ledger.root() == .zero)
    }
}
