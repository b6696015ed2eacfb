// A node's getblocktemplate answer (with a payoutscript: the header, the coinbase and the
// transactions) as a `BlockTemplate` the miner can search. The header's roots are checked
// against the transactions: a node (or a proxy) that sent a header not matching its block
// would have us mine something it cannot accept.

import JSONRPC
import Mining
import Primitives

/// A template that cannot be used; the message names the field that is wrong.
public struct RPCTemplateError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "getblocktemplate: \(message)" }
}

/// One getblocktemplate answer, decoded and checked.
public struct RPCWork: Sendable {
    public var template: BlockTemplate
    /// The id a long poll waits on (nil: the node does not long poll).
    public var longPollID: String?

    public init(json: JSON) throws(RPCTemplateError) {
        guard let headerText = json["header"]?.stringValue else {
            throw RPCTemplateError("no header in the answer (the node must support payoutscript)")
        }
        guard let headerBytes = HexCoding.decode(headerText), headerBytes.count == BlockHeader.encodedLength,
              var header = try? BlockHeader(decoding: headerBytes) else {
            throw RPCTemplateError("header must be \(BlockHeader.encodedLength * 2) hex digits of a block header")
        }
        header.nonce = 0
        guard let coinbaseText = json["coinbasetxn"]?["data"]?.stringValue, let coinbaseBytes = HexCoding.decode(coinbaseText) else {
            throw RPCTemplateError("coinbasetxn.data must be a hex string")
        }
        let coinbase: Transaction
        do { coinbase = try Transaction(decoding: coinbaseBytes) } catch {
            throw RPCTemplateError("coinbasetxn.data is not a transaction: \(error)")
        }
        guard coinbase.isCoinbase else { throw RPCTemplateError("coinbasetxn is not a coinbase transaction") }
        guard let entries = json["transactions"]?.arrayValue else { throw RPCTemplateError("transactions must be an array") }
        var transactions = [coinbase]
        transactions.reserveCapacity(entries.count + 1)
        var fees = Amount.zero
        for (index, entry) in entries.enumerated() {
            guard let text = entry["data"]?.stringValue, let bytes = HexCoding.decode(text) else {
                throw RPCTemplateError("transactions[\(index)].data must be a hex string")
            }
            do { transactions.append(try Transaction(decoding: bytes)) } catch {
                throw RPCTemplateError("transactions[\(index)].data is not a transaction: \(error)")
            }
            if let fee = entry["fee"] {
                guard let units = fee.int64Value, units >= 0, let amount = Amount(baseUnits: UInt64(units)),
                      let sum = fees.adding(amount) else {
                    throw RPCTemplateError("transactions[\(index)].fee must be a non-negative amount in base units")
                }
                fees = sum
            }
        }
        let block = Block(header: header, transactions: transactions)
        let merkleRoot = block.computeMerkleRoot()
        guard merkleRoot == header.merkleRoot else {
            throw RPCTemplateError("the header's merkle root \(header.merkleRoot.hex) does not match its transactions' (\(merkleRoot.hex))")
        }
        if let stated = json["merkleroot"]?.stringValue, Hash256(hex: stated) != merkleRoot {
            throw RPCTemplateError("merkleroot \(stated) does not match its transactions' (\(merkleRoot.hex))")
        }
        // The extension root commits to chain state the client does not hold (the masternode
        // list after the block): taken from the answer, zero when a node predating it omits it.
        var extensionRoot = Hash256.zero
        if let stated = json["extensionroot"] {
            guard let text = stated.stringValue, let root = Hash256(hex: text) else {
                throw RPCTemplateError("extensionroot must be 64 hex digits")
            }
            extensionRoot = root
        }
        let stateRoot = block.computeStateRoot(extensionRoot: extensionRoot)
        guard stateRoot == header.stateRoot else {
            throw RPCTemplateError("the header's state root \(header.stateRoot.hex) does not match its transactions' (\(stateRoot.hex))")
        }
        let target: UInt256
        do { target = try CompactTarget(bits: header.bits).target() } catch {
            throw RPCTemplateError("the header's bits 0x\(String(header.bits, radix: 16)) are no valid target: \(error)")
        }
        if let stated = json["target"]?.stringValue, UInt256(hex: stated) != target {
            throw RPCTemplateError("target \(stated) does not match the header's bits (\(target.hex))")
        }
        template = BlockTemplate(header: header, transactions: transactions, target: target,
                                 extraNonce: coinbase.inputs[0].sequence, fees: fees, extensionRoot: extensionRoot)
        longPollID = json["longpollid"]?.stringValue
    }

    /// The getblocktemplate request paying `payoutScript`, long polling on `longPollID` when given.
    public static func request(payoutScript: [UInt8], longPollID: String? = nil) -> JSON {
        var request: JSONObject = ["payoutscript": .string(HexCoding.encode(payoutScript))]
        if let longPollID { request["longpollid"] = .string(longPollID) }
        return .array([.object(request)])
    }
}
