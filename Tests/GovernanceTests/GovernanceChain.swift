// A regtest chain state for governance tests: mature wallet coins, registered masternodes
// with known keys, and builders for proposals, votes and blocks sealed with the extension
// root the chain state computes for them.

import ChainParams
import ChainState
import Consensus
import Foundation
import Governance
import Masternodes
import Primitives
import TestSupport

final class GovernanceChain {
    static let parameters = try! ConsensusParameters(ChainParameters.builtIn("regtest"))
    static let fee = Amount(baseUnits: 1_000)!

    let directory: String
    /// Implicitly unwrapped so `reopen` can release it before opening the datadir again.
    private(set) var state: ChainState!
    /// The active chain's blocks from height 1.
    private(set) var blocks: [Block] = []
    private var txids: [[Hash256]] = []
    let wallet: TestKey
    /// Registered masternodes' keys, by proTxHash.
    private(set) var masternodeKeys: [Hash256: TestMasternodeKeys] = [:]
    private(set) var proTxHashes: [Hash256] = []
    private var spent = Set<OutPoint>()
    private var extraNonce: UInt32 = 0
    var random: SeededGenerator

    var governance: GovernanceParameters { state.governanceParameters! }
    var height: UInt64 { state.tip.height }

    /// A chain with `masternodes` mature masternodes (0: none) and wallet coins to spend.
    init(masternodes count: Int, seed: UInt64 = 1, directory: String? = nil) throws {
        self.directory = directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("rusty-gov-\(UUID().uuidString)").path
        state = try ChainState(directory: self.directory, parameters: Self.parameters, cacheMiB: 64)
        random = SeededGenerator(seed: seed)
        wallet = TestKey(using: &random)
        for _ in 0..<(Self.parameters.coinbaseMaturity + 3) { try mine([]) }
        try fund(40, value: Amount(baseUnits: 4_000_000_000)!)
        if count > 0 { try registerMasternodes(count) }
    }

    /// A chain state over the first `height` blocks of `other` (a branch point), with its keys.
    init(prefixOf other: GovernanceChain, height: UInt64) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("rusty-gov-\(UUID().uuidString)").path
        state = try ChainState(directory: directory, parameters: Self.parameters, cacheMiB: 64)
        wallet = other.wallet
        random = SeededGenerator(seed: UInt64(height) &* 7919 &+ 1)
        masternodeKeys = other.masternodeKeys
        extraNonce = other.extraNonce &+ 1_000
        for block in other.blocks.prefix(Int(height)) { try accept(block) }
        proTxHashes = other.proTxHashes.filter { state.masternodes[$0] != nil }
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }

    /// Opens the datadir again: after a flush, or without one (as if the process was killed,
    /// so the blocks since the last flush are replayed).
    func reopen(flush: Bool) throws {
        if flush { try state.flush() }
        state = nil
        state = try ChainState(directory: directory, parameters: Self.parameters, cacheMiB: 64)
    }

    // MARK: - Blocks

    /// The next block holding `transactions`, sealed with the extension root the chain state
    /// computes for it (a zero root when a rule rejects it: the rule still names the rejection).
    func block(_ transactions: [Transaction], coinbaseExtra: UInt64 = 0) -> Block {
        extraNonce &+= 1
        let reward = Self.parameters.subsidy(height: height + 1)
        var block = TestBlocks.next(after: state.tip.header, parameters: Self.parameters,
                                    coinbaseOutputs: [TxOut(value: reward, lockScript: wallet.lockScript)],
                                    transactions: transactions, extensionRoot: .zero, extraNonce: extraNonce)
        if let root = try? state.extensionRoot(after: block) { TestBlocks.seal(&block, extensionRoot: root) }
        return block
    }

    @discardableResult
    func mine(_ transactions: [Transaction]) throws -> Block {
        let block = block(transactions)
        try accept(block)
        return block
    }

    func accept(_ block: Block) throws {
        let result = try state.accept(block)
        guard result == .connected else { throw GovernanceChainError("block \(block.header.height) was \(result)") }
        blocks = Array(blocks.prefix(Int(block.header.height) - 1)) + [block]
        txids = Array(txids.prefix(Int(block.header.height) - 1)) + [block.transactions.map(\.txid)]
        for transaction in block.transactions.dropFirst() { for input in transaction.inputs { spent.insert(input.previousOutput) } }
    }

    // MARK: - Coins

    /// The smallest (or `largest`) unspent, mature wallet coin worth at least `value`, not handed out before.
    func coin(atLeast value: Amount, largest: Bool = false) throws -> TestCoin {
        let next = height + 1
        var best: TestCoin?
        for (block, ids) in zip(blocks, txids) {
            for (index, transaction) in block.transactions.enumerated() {
                if index == 0 && next - block.header.height < Self.parameters.coinbaseMaturity { continue }
                for (position, output) in transaction.outputs.enumerated() where output.lockScript == wallet.lockScript && output.value >= value {
                    guard best.map({ largest ? $0.output.value < output.value : output.value < $0.output.value }) ?? true else { continue }
                    let outpoint = OutPoint(txid: ids[index], index: UInt32(position))
                    guard !spent.contains(outpoint), state.governance.lockedCollateral(outpoint) == nil,
                          (try? state.utxo.coin(outpoint)) != nil else { continue }
                    best = TestCoin(outpoint: outpoint, output: output, key: wallet)
                }
            }
        }
        guard let best else { throw GovernanceChainError("no wallet coin of \(value)") }
        spent.insert(best.outpoint)
        return best
    }

    /// Splits coins into `count` outputs of `value` each (mined), for many transactions in one block.
    func fund(_ count: Int, value: Amount) throws {
        var left = count
        while left > 0 {
            // The largest coin: the fewest blocks.
            let source = try coin(atLeast: Amount(baseUnits: value.baseUnits * 2 + Self.fee.baseUnits)!, largest: true)
            let pieces = min(left, Int((source.output.value.baseUnits - Self.fee.baseUnits) / value.baseUnits) - 1, 2_000)
            let change = source.output.value.baseUnits - Self.fee.baseUnits - value.baseUnits * UInt64(pieces)
            let outputs = Array(repeating: TxOut(value: value, lockScript: wallet.lockScript), count: pieces)
                + [TxOut(value: Amount(baseUnits: change)!, lockScript: wallet.lockScript)]
            try mine([TestTransactions.spend([source], to: outputs)])
            left -= pieces
        }
    }

    // MARK: - Masternodes

    /// Registers `count` masternodes (collateral inside each registration) and mines until they are mature.
    func registerMasternodes(_ count: Int) throws {
        let collateral = state.masternodeParameters(atHeight: height + 1).collateral
        try fund(count, value: Amount(baseUnits: collateral.baseUnits + Self.fee.baseUnits)!)
        var registrations = [Transaction]()
        for _ in 0..<count {
            let keys = TestMasternodeKeys(using: &random)
            let number = proTxHashes.count + 1  // grows as each registration is recorded below
            let service = ServiceAddress(ipv4: (10, UInt8(truncatingIfNeeded: number >> 8), UInt8(truncatingIfNeeded: number), 1), port: 9999)
            let payload = keys.registerPayload(collateral: OutPoint(txid: .zero, index: 0), service: service, payoutScript: [0x51])
            let coin = try self.coin(atLeast: Amount(baseUnits: collateral.baseUnits + Self.fee.baseUnits)!)
            let transaction = TestTransactions.special(payload, signer: keys.collateral, spending: [coin],
                                                       to: [TxOut(value: collateral, lockScript: keys.collateral.lockScript)])
            masternodeKeys[transaction.txid] = keys
            proTxHashes.append(transaction.txid)
            registrations.append(transaction)
        }
        try mine(registrations)
        for _ in 0..<state.masternodeParameters.registrationMaturity { try mine([]) }
    }

    /// An `mn-revoke` of masternode `index` (signed by its operator): it is banned from the block on.
    func revoke(_ index: Int) throws -> Transaction {
        let id = proTxHashes[index]
        let keys = try require(masternodeKeys[id], "keys of \(id.hex)")
        let coin = try self.coin(atLeast: Amount(baseUnits: Self.fee.baseUnits * 2)!)
        return TestTransactions.special(MasternodeRevokePayload(proTxHash: id, reason: 1), signer: keys.operatorKey, spending: [coin],
                                        to: [TxOut(value: Amount(baseUnits: coin.output.value.baseUnits - Self.fee.baseUnits)!, lockScript: wallet.lockScript)])
    }

    // MARK: - Governance

    /// A proposal spending a wallet coin, the collateral (to the wallet) at output `collateralIndex`.
    func proposal(_ parameter: GovernanceParameter, _ value: UInt64, start: UInt64? = nil, voting: UInt64? = nil, delay: UInt64? = nil,
                  collateral: Amount? = nil, collateralIndex: UInt32 = 0, parameterId: UInt16? = nil) throws -> Transaction {
        let amount = collateral ?? governance.collateral
        let coin = try self.coin(atLeast: Amount(baseUnits: max(amount.baseUnits, governance.collateral.baseUnits) * 2)!)
        let startHeight = start ?? height + 1
        var payload = GovernanceProposalPayload(parameter: parameter, newValue: value, startHeight: startHeight,
                                                deadlineHeight: startHeight + (voting ?? governance.votingBlocks.lowerBound),
                                                activationDelay: delay ?? governance.activationDelay.lowerBound,
                                                url: "https://rusty.example/p", textHash: Hash256(bytes: [UInt8](repeating: 0x5A, count: 32))!,
                                                collateralIndex: collateralIndex)
        if let parameterId { payload.parameterId = parameterId }
        let change = TxOut(value: Amount(baseUnits: coin.output.value.baseUnits - amount.baseUnits - Self.fee.baseUnits)!, lockScript: wallet.lockScript)
        let locked = TxOut(value: amount, lockScript: wallet.lockScript)
        let outputs = collateralIndex == 0 ? [locked, change] : [change, locked]
        return TestTransactions.signed(payload.transaction(inputs: [TxIn(previousOutput: coin.outpoint)], outputs: outputs), spending: [coin])
    }

    /// Masternode `index`'s vote (owner-signed), its sequence one above its counted vote's unless given.
    func vote(_ index: Int, on proposal: Hash256, _ outcome: GovernanceVoteOutcome, sequence: UInt32? = nil,
              signer: TestKey? = nil) -> Transaction {
        let id = proTxHashes[index]
        let next = sequence ?? state.governance.vote(of: id, on: proposal).map { $0.sequence + 1 } ?? 0
        var payload = GovernanceVotePayload(proposalId: proposal, proTxHash: id, outcome: outcome, sequence: next)
        payload.sign(seed: (signer ?? masternodeKeys[id]!.owner).seed)
        return payload.transaction
    }

    /// A spend of a proposal's collateral (output `index` of `proposal`) back to the wallet.
    func spendCollateral(of proposal: Transaction, index: UInt32 = 0) -> Transaction {
        let output = proposal.outputs[Int(index)]
        let coin = TestCoin(outpoint: OutPoint(txid: proposal.txid, index: index), output: output, key: wallet)
        return TestTransactions.spend([coin], to: [TxOut(value: Amount(baseUnits: output.value.baseUnits - Self.fee.baseUnits)!, lockScript: wallet.lockScript)])
    }

    /// Mines empty blocks until the tip is at `target`.
    func mine(to target: UInt64) throws {
        while height < target { try mine([]) }
    }
}

struct GovernanceChainError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// `#require`-like unwrap for non-test contexts.
func require<T>(_ value: T?, _ what: String = "value") throws -> T {
    guard let value else { throw GovernanceChainError("missing \(what)") }
    return value
}
