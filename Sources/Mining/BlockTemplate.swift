import ChainState
import Consensus
import Foundation
import Masternodes
import Primitives

/// A block waiting for a nonce: everything but the proof of work. The work interface is
/// template in, solved header out, so a network node or a Stratum server can feed the same
/// search code later.
public struct BlockTemplate: Sendable {
    public var header: BlockHeader
    public var transactions: [Transaction]
    public var target: UInt256
    public var extraNonce: UInt32
    /// Fees of the transactions after the coinbase (which claims them with the subsidy).
    public var fees: Amount = .zero
    /// The extension root the header's state root commits to (the masternode list after the
    /// block; zero while the list is empty). The coinbase cannot change it.
    public var extensionRoot: Hash256
    /// Txids of transactions given to the builder and left out: a special transaction that
    /// failed the masternode rules on this tip, and anything spending its outputs.
    public var dropped: [Hash256] = []

    /// A template from its parts (e.g. a node's getblocktemplate answer, checked by the caller).
    public init(header: BlockHeader, transactions: [Transaction], target: UInt256, extraNonce: UInt32, fees: Amount = .zero,
                extensionRoot: Hash256 = .zero) {
        self.header = header
        self.transactions = transactions
        self.target = target
        self.extraNonce = extraNonce
        self.fees = fees
        self.extensionRoot = extensionRoot
    }

    /// The block once `nonce` solves it.
    public func block(nonce: UInt64) -> Block {
        var header = header
        header.nonce = nonce
        return Block(header: header, transactions: transactions)
    }

    /// A fresh coinbase with another extra nonce (new Merkle root, new midstate), for when a
    /// header's nonce and time space is used up.
    public mutating func rollExtraNonce() {
        extraNonce &+= 1
        transactions[0].inputs[0].sequence = extraNonce
        let block = Block(header: header, transactions: transactions)
        header.merkleRoot = block.computeMerkleRoot()
        header.stateRoot = block.computeStateRoot(extensionRoot: extensionRoot)
    }

    /// Moves the header time forward (never below the original: the template was valid).
    public mutating func roll(time: UInt64) {
        if time > header.time { header.time = time }
    }

    /// Difficulty relative to the PoW limit (1.0 at the limit), as miners show it.
    public func difficulty(powLimit: UInt256) -> Double {
        powLimit.approximateDouble / max(target.approximateDouble, 1)
    }

}

/// Builds templates on top of a chain state's best block.
public enum TemplateBuilder {
    /// A template paying the subsidy plus `fees` to `payout`; `now` is the wall clock in
    /// seconds. `transactions` (parents before children, e.g. from the mempool's selection
    /// on this tip) follow the coinbase; `fees` must be theirs (the chain checks the sum).
    /// `ids`: the transactions' (txid, wtxid) when the caller knows them (a mempool does), so
    /// the roots do not hash every transaction again. Special transactions that fail the
    /// masternode rules in this block are dropped with their descendants (`dropped`, and
    /// their fees come off), and the header commits to the masternode list after the block.
    public static func make(on state: ChainState, payout: [UInt8], now: UInt64, extraNonce: UInt32 = 0,
                            transactions given: [Transaction] = [], ids givenIDs: [(txid: Hash256, wtxid: Hash256)]? = nil,
                            fees givenFees: Amount = .zero) throws -> BlockTemplate {
        let parameters = state.parameters
        let parent = state.tip
        let height = parent.height + 1
        let quorumSelection = TemplateQuorums.select(on: state, transactions: given, ids: givenIDs?.count == given.count ? givenIDs : nil)
        let (given, givenIDs) = (quorumSelection.transactions, quorumSelection.ids)
        let selection = try TemplateMasternodes.select(on: state, height: height, transactions: given,
                                                       txids: givenIDs?.map(\.txid) ?? given.map(\.txid))
        var transactions = selection.kept.map { given[$0] }
        var ids = givenIDs.map { all in selection.kept.map { all[$0] } } ?? transactions.map(\.ids)
        guard let fees = givenFees.subtracting(selection.droppedFees) else { throw TemplateError.feesOutOfRange(givenFees) }
        var droppedVotes = [Hash256]()
        let extensionRoot = try TemplateQuorums.extensionRoot(on: state, commitments: quorumSelection.commitments, list: selection.list) { list in
            try TemplateGovernance.root(on: state, height: height, transactions: &transactions, ids: &ids, list: list, dropped: &droppedVotes)
        }
        guard let reward = parameters.subsidy(height: height).adding(fees) else {
            throw TemplateError.feesOutOfRange(fees)
        }
        let coinbase = Transaction.coinbase(height: height, extraNonce: extraNonce,
                                            outputs: [TxOut(value: reward, lockScript: payout)])
        let bits = parameters.requiredBits(parentHeight: parent.height, parentTime: parent.header.time)
        let time = max(state.medianTimePast(parent) + 1, now)
        var block = Block(header: BlockHeader(version: HeaderRules.version, height: height, previousHash: parent.hash,
                                              merkleRoot: .zero, stateRoot: .zero, time: time, bits: bits, nonce: 0),
                          transactions: [coinbase] + transactions)
        let coinbaseIDs = coinbase.ids
        block.header.merkleRoot = Merkle.root(of: [coinbaseIDs.txid] + ids.map(\.txid))
        let witnessRoot = Merkle.root(of: [coinbaseIDs.wtxid] + ids.map(\.wtxid))
        block.header.stateRoot = DomainKeys.stateRoot(witnessRoot: witnessRoot, extensionRoot: extensionRoot)
        var template = BlockTemplate(header: block.header, transactions: block.transactions, target: try CompactTarget(bits: bits).target(),
                                     extraNonce: extraNonce, fees: fees, extensionRoot: extensionRoot)
        template.dropped = quorumSelection.dropped + selection.dropped + droppedVotes
        return template
    }
}

public enum TemplateError: Error, CustomStringConvertible {
    case feesOutOfRange(Amount)
    /// A transaction to drop spends a coin neither the chain nor the template holds.
    case unknownInput(OutPoint)

    public var description: String {
        switch self {
        case .feesOutOfRange(let fees): return "fees \(fees) plus the subsidy exceed the money range"
        case .unknownInput(let outpoint): return "a template transaction spends \(outpoint), which is not unspent"
        }
    }
}
