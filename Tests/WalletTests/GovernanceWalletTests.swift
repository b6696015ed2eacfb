import ChainParams
import ChainState
import Consensus
import Foundation
import Governance
import Masternodes
import Primitives
import Testing
@testable import Wallet

/// The wallet's governance transactions (PROTOCOL section 18): a proposal's shape and its
/// collateral kept out of sends until the deadline block, and votes signed with the owner key
/// the wallet made for a registration (checked against the payload's own signature rule).
@Suite struct GovernanceWalletTests {
    static let governance = try! GovernanceParameters(WalletFixtures.regtest.chain)

    static func proposal(start: UInt64, deadline: UInt64, url: String = "https://example.org/p") -> GovernanceProposalPayload {
        GovernanceProposalPayload(parameter: .maxBlockBytes, newValue: 5_000_000, startHeight: start, deadlineHeight: deadline,
                                  activationDelay: 2, url: url, textHash: Hash256(bytes: [UInt8](repeating: 9, count: 32))!,
                                  collateralIndex: 7)
    }

    @Test func aProposalLocksItsCollateralUntilTheDeadline() throws {
        var (wallet, chain, miner) = try WalletMasternodeTests.fundedWallet()
        let tip = chain.snapshot.tipHeight
        var broadcast: Transaction?
        let sent = try wallet.submitProposal(Self.proposal(start: tip + 2, deadline: tip + 4), collateralAmount: Self.governance.collateral,
                                             feeRate: 1_000) { broadcast = $0 }
        #expect(broadcast == sent.transaction)
        #expect(sent.transaction.specialType == .governanceProposal)
        let payload = try GovernanceProposalPayload(transaction: sent.transaction)
        // The wallet puts the collateral at output 0, whatever the caller's index said.
        #expect(payload.collateralIndex == 0 && payload.parameter == .maxBlockBytes && payload.deadlineHeight == tip + 4)
        let collateral = sent.transaction.outputs[0]
        #expect(collateral.value == Self.governance.collateral)
        #expect(wallet.owns(Address.from(lockScript: collateral.lockScript, network: "regtest")!))
        #expect(sent.collateral == OutPoint(txid: sent.txid, index: 0))
        #expect(wallet.governanceCollaterals == [OutPoint(txid: sent.txid, index: 0)])

        // Until the deadline block no send spends it: a send needing more than the change alone
        // fails; from the deadline block on the same send takes it.
        let change = sent.transaction.outputs[1].value.baseUnits
        let recipient = Address(keyHash: StandardScript.keyHash([UInt8](repeating: 3, count: 32)), network: "regtest")
        let amount = Amount(baseUnits: change + Self.governance.collateral.baseUnits / 2)!
        #expect(throws: WalletError.insufficientFunds) { try wallet.send(to: recipient, amount: amount, feeRate: 1_000) { _ in } }
        for _ in 0..<3 { try chain.accept(miner.block(paying: WalletFixtures.foreignScript(1))) }
        wallet.synchronize()
        #expect(chain.snapshot.tipHeight == tip + 3)
        #expect(wallet.governanceCollaterals.count == 1)
        try chain.accept(miner.block(paying: WalletFixtures.foreignScript(1)))
        wallet.synchronize()
        #expect(wallet.governanceCollaterals.isEmpty)
        let spend = try wallet.send(to: recipient, amount: amount, feeRate: 1_000) { _ in }
        #expect(spend.transaction.inputs.contains { $0.previousOutput == sent.collateral })
    }

    @Test func aTooLongURLIsRefusedBeforeAnythingIsBuilt() throws {
        let (wallet, chain, _) = try WalletMasternodeTests.fundedWallet()
        let url = String(repeating: "é", count: 101)  // 202 bytes of UTF-8
        #expect(throws: WalletError.self) {
            try wallet.submitProposal(Self.proposal(start: chain.snapshot.tipHeight + 2, deadline: chain.snapshot.tipHeight + 10, url: url),
                                      collateralAmount: Self.governance.collateral, feeRate: 1_000) { _ in }
        }
        #expect(wallet.governanceCollaterals.isEmpty)
    }

    @Test func votesAreSignedWithTheWalletsOwnerKeyOnly() throws {
        let (wallet, _, _) = try WalletMasternodeTests.fundedWallet()
        let registration = try WalletMasternodeTests.register(wallet, collateral: nil, keys: OperatorKeys.generate(), port: 9)
        let ownerKey = try #require(registration.ownerKey)
        #expect(wallet.masternodeOwnerKeys == [ownerKey])
        let proposal = Hash256(bytes: [UInt8](repeating: 4, count: 32))!
        let vote = try wallet.governanceVote(proposal: proposal, proTxHash: registration.txid, ownerKey: ownerKey, outcome: .no, sequence: 3)
        #expect(vote.specialType == .governanceVote && vote.inputs.isEmpty && vote.outputs.isEmpty)
        let payload = try GovernanceVotePayload(transaction: vote)
        #expect(payload.proposalId == proposal && payload.proTxHash == registration.txid && payload.outcome == .no && payload.sequence == 3)
        #expect(payload.signatureVerifies(publicKey: ownerKey))

        // A key the wallet did not make for a registration signs nothing.
        let other = [UInt8](repeating: 0x55, count: 32)
        #expect(throws: WalletError.self) {
            try wallet.governanceVote(proposal: proposal, proTxHash: registration.txid, ownerKey: other, outcome: .yes, sequence: 4)
        }
    }
}
