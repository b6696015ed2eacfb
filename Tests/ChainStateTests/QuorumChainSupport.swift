import ChainState
import Consensus
import Ed25519
import Foundation
import Masternodes
import Primitives
import Quorums
import TestSupport

/// A regtest chain for the quorum tests: masternodes registered by the test (so it holds
/// their operator keys), blocks sealed with the extension root the chain state's own
/// builder API gives (the masternode list after the block and the quorum root).
struct QuorumChain {
    static let parameters = MasternodeChainTests.parameters
    static let genesis = MasternodeChainTests.genesis

    private(set) var state: ChainState!
    var history: MasternodeHistory
    var chain: [Block]
    var operators: [Hash256: TestKey] = [:]
    var usedCoins = Set<OutPoint>()
    /// The last block the history built (its wallet coins stay unspent in this chain).
    let fundedTip: Hash256

    var type: QuorumType { state.quorumParameters.sorted[0] }

    /// 112 funding blocks (twelve mature coinbases), then one block registering `masternodes` masternodes.
    init(directory: String, masternodes: Int) throws {
        state = try ChainState(directory: directory, parameters: Self.parameters, cacheMiB: 64)
        history = try MasternodeHistory(parameters: Self.parameters, genesis: Self.genesis, seed: 0x51_C4)
        chain = try MasternodeChainTests.build(&history, on: [], count: 112, actions: 0)
        for block in chain { try state.accept(block) }
        fundedTip = chain.last!.hash
        var random = SeededGenerator(seed: 0x51_C5)
        var registrations = [Transaction]()
        let collateral = state.masternodeParameters.collateral
        for index in 0..<masternodes {
            let keys = TestMasternodeKeys(using: &random)
            let coin = try takeCoin(atLeast: collateral.baseUnits + 10_000)
            let payload = keys.registerPayload(collateral: OutPoint(txid: .zero, index: 0),
                                               service: ServiceAddress(ipv4: (198, 51, 100, UInt8(index + 1)), port: 9999), payoutScript: [0x51])
            let change = Amount(baseUnits: coin.output.value.baseUnits - collateral.baseUnits - 1_000)!
            let registration = TestTransactions.special(payload, signer: keys.collateral, spending: [coin],
                                                        to: [TxOut(value: collateral, lockScript: keys.collateral.lockScript),
                                                             TxOut(value: change, lockScript: [0x51])])
            operators[registration.txid] = keys.operatorKey
            registrations.append(registration)
        }
        try extend(with: registrations)
    }

    /// Closes the chain state and opens it again from `directory`.
    mutating func reopen(directory: String) throws {
        state = nil
        state = try ChainState(directory: directory, parameters: Self.parameters, cacheMiB: 64)
    }

    mutating func takeCoin(atLeast units: UInt64) throws -> TestCoin {
        guard let coin = history.walletCoin(after: fundedTip, atLeast: Amount(baseUnits: units)!, excluding: usedCoins) else {
            throw HistoryBuildError("no wallet coin of \(units) left")
        }
        usedCoins.insert(coin.outpoint)
        return coin
    }

    /// The block on the tip holding `transactions`, committing the state after it.
    func block(_ transactions: [Transaction], extraNonce: UInt32 = 0) throws -> Block {
        let height = state.tip.height + 1
        var list = state.masternodes
        var undo = MasternodeListUndo()
        for transaction in transactions where transaction.specialType != .quorumCommitment {
            try MasternodeRules.apply(transaction, txid: transaction.txid, height: height, to: &list, undo: &undo,
                                      parameters: state.masternodeParameters, coin: { [state] in try state.utxo.coin($0) })
        }
        let checked = try transactions.filter { $0.specialType == .quorumCommitment }.map { try state.checkQuorumCommitment($0) }
        let quorumRoot = state.quorumRootAfter(checked, list: &list)
        return TestBlocks.next(after: state.tip.header, parameters: Self.parameters,
                               coinbaseOutputs: [TxOut(value: Amount(baseUnits: 1)!, lockScript: [0x51])], transactions: transactions,
                               extensionRoot: ExtensionRoot.compute(masternodes: list.root(), quorums: quorumRoot), extraNonce: extraNonce)
    }

    mutating func extend(with transactions: [Transaction] = []) throws {
        let next = try block(transactions)
        guard try state.accept(next) == .connected else { throw HistoryBuildError("block \(next.header.height) did not connect") }
        chain.append(next)
    }

    /// Empty blocks until the tip is at `height`.
    mutating func extend(to height: UInt64) throws {
        while state.tip.height < height { try extend() }
    }

    /// The members of the DKG started at `start` on this chain.
    func members(start: UInt64) throws -> [MasternodeEntry] {
        QuorumSelection.members(list: try state.masternodeList(at: start), quorumHash: state.active[Int(start)].hash, type: type,
                                height: start, parameters: state.masternodeParameters)
    }

    /// The commitment of the DKG started at `start`, `valid` and `signers` by member index.
    func commitment(start: UInt64, valid: [Int], signers: [Int]? = nil, groupSeed: UInt8 = 1) throws -> Transaction {
        let members = try members(start: start)
        var payload = QuorumCommitmentPayload(
            quorumType: type.id, quorumHash: state.active[Int(start)].hash, quorumHeight: start,
            validMembers: QuorumBitset(count: type.size, setting: valid), groupKey: Ed25519.publicKey(seed: [UInt8](repeating: groupSeed, count: 32)),
            verificationVectorHash: Hash256(bytes: [UInt8](repeating: groupSeed, count: 32))!, signers: QuorumBitset(count: type.size), signatures: [])
        var signatures = [Int: [UInt8]]()
        for index in signers ?? valid { signatures[index] = payload.memberSignature(operatorSeed: operators[members[index].proTxHash]!.seed) }
        payload.setSignatures(signatures)
        return payload.transaction
    }

    /// An `mn-revoke` of `id` signed by its operator, paying its fee from a wallet coin.
    mutating func revoke(_ id: Hash256) throws -> Transaction {
        let coin = try takeCoin(atLeast: 10_000)
        return TestTransactions.special(MasternodeRevokePayload(proTxHash: id, reason: 1), signer: operators[id]!, spending: [coin],
                                        to: [TxOut(value: Amount(baseUnits: coin.output.value.baseUnits - 1_000)!, lockScript: [0x51])])
    }
}
