import ChainGen
import ChainState
import Consensus
import Ed25519
import Governance
import Masternodes
import Primitives

/// The chain the governance section measures on: a regtest chain state built block by
/// block (each sealed with the extension root the chain state computes), with `count`
/// masternodes whose owner keys it holds, so it can mine proposals and their votes.
final class GovernanceBenchChain {
    let state: ChainState
    let parameters: ConsensusParameters
    private let wallet: [UInt8]
    private let walletScript: [UInt8]
    /// Spendable wallet coins (oldest first), and coinbase coins waiting to mature.
    private var coins: [(OutPoint, TxOut)] = []
    private var immature: [(height: UInt64, outpoint: OutPoint, output: TxOut)] = []
    private(set) var owners: [(proTxHash: Hash256, seed: [UInt8])] = []
    private var random: SeededGenerator
    static let fee: UInt64 = 10_000

    init(directory: String, parameters: ConsensusParameters, seed: UInt64) throws {
        self.parameters = parameters
        state = try ChainState(directory: directory, parameters: parameters, cacheMiB: 256)
        random = SeededGenerator(seed: seed)
        wallet = random.bytes(32)
        walletScript = StandardScript.payToKeyHash(StandardScript.keyHash(Ed25519.publicKey(seed: wallet)))
    }

    var height: UInt64 { state.tip.height }

    /// Builds, seals and connects the next block; returns the seconds its `accept` took.
    @discardableResult
    func mine(_ transactions: [Transaction]) throws -> Double {
        let next = height + 1
        let parent = state.tip.header
        var fees: UInt64 = 0
        for transaction in transactions {
            // A proposal's collateral (output 0) stays locked until its deadline: never spent here.
            for (index, output) in transaction.outputs.enumerated()
            where output.lockScript == walletScript && !(transaction.specialType == .governanceProposal && index == 0) {
                coins.append((OutPoint(txid: transaction.txid, index: UInt32(index)), output))
            }
            fees += transaction.isSpecial && transaction.inputs.isEmpty ? 0 : Self.fee
        }
        let reward = parameters.subsidy(height: next).adding(Amount(baseUnits: fees)!)!
        let coinbase = Transaction.coinbase(height: next, extraNonce: 0, outputs: [TxOut(value: reward, lockScript: walletScript)])
        var block = Block(header: BlockHeader(version: HeaderRules.version, height: next, previousHash: parent.hash, merkleRoot: .zero, stateRoot: .zero,
                                              time: parent.time + 150, bits: parameters.requiredBits(parentHeight: parent.height, parentTime: parent.time),
                                              nonce: 0),
                          transactions: [coinbase] + transactions)
        block.header.merkleRoot = block.computeMerkleRoot()
        block.header.stateRoot = block.computeStateRoot(extensionRoot: try state.extensionRoot(after: block))
        block.header.nonce = ChainGenerator.mine(block.header)
        let seconds = try Recorder.time { try state.accept(block) }
        guard state.tip.hash == block.hash else { throw BenchError.verificationFailed("governance: block \(next) did not connect") }
        immature.append((next, OutPoint(txid: coinbase.txid, index: 0), coinbase.outputs[0]))
        while let first = immature.first, next + 1 - first.height >= parameters.coinbaseMaturity {
            coins.append((first.outpoint, first.output))
            immature.removeFirst()
        }
        return seconds
    }

    /// A signed spend of the oldest wallet coin into `outputs` (change back to the wallet).
    private func spend(to outputs: [TxOut], special: (SpecialTransactionType, [UInt8])? = nil) throws -> Transaction {
        let needed = outputs.reduce(Self.fee) { $0 + $1.value.baseUnits }
        guard let index = coins.firstIndex(where: { $0.1.value.baseUnits >= needed }) else {
            throw BenchError.verificationFailed("governance: no coin of \(needed)")
        }
        let (outpoint, output) = coins.remove(at: index)
        let change = output.value.baseUnits - needed
        let allOutputs = outputs + (change > 0 ? [TxOut(value: Amount(baseUnits: change)!, lockScript: walletScript)] : [])
        var transaction = special.map { Transaction(special: $0.0, payload: $0.1, inputs: [TxIn(previousOutput: outpoint)], outputs: allOutputs) }
            ?? Transaction(version: 2, inputs: [TxIn(previousOutput: outpoint)], outputs: allOutputs, lockTime: 0)
        let sighash = Sighash.compute(txid: transaction.txid, inputIndex: 0, spentOutput: output)
        transaction.witnesses[0] = [Ed25519.sign(message: sighash.bytes, seed: wallet), Ed25519.publicKey(seed: wallet)]
        return transaction
    }

    /// Registers `count` masternodes (internal collateral), at most `perBlock` a block, and
    /// mines until they are valid.
    func registerMasternodes(_ count: Int, perBlock: Int = 1_000) throws {
        let collateral = state.masternodeParameters(atHeight: height + 1).collateral
        let piece = collateral.baseUnits + Self.fee
        // What the fan-out below gets from each coin: all but one piece (fee and change).
        let yield = { (value: UInt64) in value > piece * 2 + Self.fee ? (value - Self.fee) / piece - 1 : 0 }
        while coins.reduce(0, { $0 + yield($1.1.value.baseUnits) }) < UInt64(count) { try mine([]) }
        // Fan out: coins of exactly one registration each.
        var fanOut = [Transaction]()
        var pieces = 0
        while pieces < count {
            guard let big = coins.first(where: { $0.1.value.baseUnits >= piece * 2 + Self.fee }) else { break }
            let n = min(count - pieces, Int((big.1.value.baseUnits - Self.fee) / piece) - 1, 1_000)
            fanOut.append(try spend(to: Array(repeating: TxOut(value: Amount(baseUnits: piece)!, lockScript: walletScript), count: n)))
            pieces += n
        }
        try mine(fanOut)
        var batch = [Transaction]()
        for index in 0..<count {
            let collateralSeed = random.bytes(32), ownerSeed = random.bytes(32), operatorSeed = random.bytes(32)
            let collateralKey = Ed25519.publicKey(seed: collateralSeed)
            var payload = MasternodeRegisterPayload(
                collateral: OutPoint(txid: .zero, index: 0), collateralKey: collateralKey, ownerKey: Ed25519.publicKey(seed: ownerSeed),
                operatorKey: Ed25519.publicKey(seed: operatorSeed), operatorEncryptionKey: random.bytes(32),
                service: ServiceAddress(ipv4: (10, UInt8(truncatingIfNeeded: index >> 16), UInt8(truncatingIfNeeded: index >> 8), UInt8(truncatingIfNeeded: index)),
                                        port: 9999),
                payoutScript: [0x51])
            let output = TxOut(value: collateral, lockScript: StandardScript.payToKeyHash(StandardScript.keyHash(collateralKey)))
            guard let coinIndex = coins.firstIndex(where: { $0.1.value.baseUnits == piece }) else {
                throw BenchError.verificationFailed("governance: fan-out coins ran out")
            }
            let (outpoint, spent) = coins.remove(at: coinIndex)
            let inputs = [TxIn(previousOutput: outpoint)]
            payload.inputsHash = SpecialPayloadCodec.inputsHash(of: payload.transaction(inputs: inputs, outputs: [output]))
            payload.sign(seed: collateralSeed)
            var transaction = payload.transaction(inputs: inputs, outputs: [output])
            let sighash = Sighash.compute(txid: transaction.txid, inputIndex: 0, spentOutput: spent)
            transaction.witnesses[0] = [Ed25519.sign(message: sighash.bytes, seed: wallet), Ed25519.publicKey(seed: wallet)]
            owners.append((transaction.txid, ownerSeed))
            batch.append(transaction)
            if batch.count == perBlock || index == count - 1 {
                try mine(batch)
                batch.removeAll()
            }
        }
        for _ in 0..<state.masternodeParameters.registrationMaturity { try mine([]) }
    }

    /// A proposal transaction (collateral at output 0, to the wallet).
    func proposal(_ parameter: GovernanceParameter, value: UInt64, start: UInt64, voting: UInt64, delay: UInt64) throws -> Transaction {
        guard let governance = state.governanceParameters else { throw BenchError.verificationFailed("governance: regtest has no governance") }
        let payload = GovernanceProposalPayload(parameter: parameter, newValue: value, startHeight: start, deadlineHeight: start + voting,
                                                activationDelay: delay, url: "https://rusty.example/bench", textHash: .zero, collateralIndex: 0)
        return try spend(to: [TxOut(value: governance.collateral, lockScript: walletScript)], special: (.governanceProposal, payload.encoded))
    }

    /// Every masternode's vote on `proposal`: yes, no and abstain in the ratio 6:3:1.
    func votes(on proposal: Hash256) -> [Transaction] {
        owners.enumerated().map { index, owner in
            let outcome: GovernanceVoteOutcome = index % 10 < 6 ? .yes : index % 10 < 9 ? .no : .abstain
            var payload = GovernanceVotePayload(proposalId: proposal, proTxHash: owner.proTxHash, outcome: outcome, sequence: 0)
            payload.sign(seed: owner.seed)
            return payload.transaction
        }
    }
}
