import ChainState
import Consensus
import Foundation
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

    /// A template from its parts (e.g. a node's getblocktemplate answer, checked by the caller).
    public init(header: BlockHeader, transactions: [Transaction], target: UInt256, extraNonce: UInt32, fees: Amount = .zero) {
        self.header = header
        self.transactions = transactions
        self.target = target
        self.extraNonce = extraNonce
        self.fees = fees
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
        header.stateRoot = block.computeStateRoot()
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
    /// the roots do not hash every transaction again.
    public static func make(on state: ChainState, payout: [UInt8], now: UInt64, extraNonce: UInt32 = 0,
                            transactions: [Transaction] = [], ids: [(txid: Hash256, wtxid: Hash256)]? = nil,
                            fees: Amount = .zero) throws -> BlockTemplate {
        let parameters = state.parameters
        let parent = state.tip
        let height = parent.height + 1
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
        if let ids, ids.count == transactions.count {
            let coinbaseIDs = coinbase.ids
            block.header.merkleRoot = Merkle.root(of: [coinbaseIDs.txid] + ids.map(\.txid))
            let witnessRoot = Merkle.root(of: [coinbaseIDs.wtxid] + ids.map(\.wtxid))
            block.header.stateRoot = DomainKeys.stateRoot(witnessRoot: witnessRoot, extensionRoot: .zero)
        } else {
            block.header.merkleRoot = block.computeMerkleRoot()
            block.header.stateRoot = block.computeStateRoot()
        }
        return BlockTemplate(header: block.header, transactions: block.transactions,
                             target: try CompactTarget(bits: bits).target(), extraNonce: extraNonce, fees: fees)
    }
}

public enum TemplateError: Error, CustomStringConvertible {
    case feesOutOfRange(Amount)

    public var description: String {
        switch self {
        case .feesOutOfRange(let fees): return "fees \(fees) plus the subsidy exceed the money range"
        }
    }
}
