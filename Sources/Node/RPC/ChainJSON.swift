// The JSON forms of chain objects (headers, blocks, transactions, lock scripts) in
// bitcoind's field names, shared by the blockchain, raw-transaction, mempool and wallet methods.

import Consensus
import JSONRPC
import Mempool
import Primitives

enum ChainJSON {
    // MARK: Scripts

    /// bitcoind's name for a lock script's template: "pubkeyhash", "multisig", "htlc",
    /// "nulldata" or "nonstandard" (the mempool's classifier, without its relay limits on
    /// multisig keys and carrier size: the type describes the script, not its standardness).
    static func scriptType(_ script: [UInt8]) -> String {
        OutputTemplate(script, maxDataCarrierBytes: EncodingLimits.maxScriptBytes, maxMultisigKeys: ScriptInterpreter.maxMultisigKeys).rawValue
    }

    /// bitcoind-style assembly: opcodes by name, pushes as hex, small numbers as digits.
    /// Bytes that do not parse end with "[error]" as bitcoind's ScriptToAsmStr does.
    static func assembly(_ script: [UInt8]) -> String {
        var words = [String]()
        var i = 0
        while i < script.count {
            let byte = script[i]
            i += 1
            var length: Int?
            switch byte {
            case 0x01...0x4B: length = Int(byte)
            case Opcode.pushData1.rawValue:
                guard i + 1 <= script.count else { return (words + ["[error]"]).joined(separator: " ") }
                length = Int(script[i]); i += 1
            case Opcode.pushData2.rawValue:
                guard i + 2 <= script.count else { return (words + ["[error]"]).joined(separator: " ") }
                length = Int(script[i]) | Int(script[i + 1]) << 8; i += 2
            default: break
            }
            if let length {
                guard length <= script.count - i else { return (words + ["[error]"]).joined(separator: " ") }
                words.append(HexCoding.encode(script[i..<i + length]))
                i += length
            } else if byte == Opcode.pushEmpty.rawValue {
                words.append("0")
            } else if (Opcode.op1.rawValue...Opcode.op16.rawValue).contains(byte) {
                words.append(String(byte - Opcode.op1.rawValue + 1))
            } else if let op = Opcode(rawValue: byte) {
                words.append(opcodeName(op))
            } else {
                words.append("OP_UNKNOWN")
            }
        }
        return words.joined(separator: " ")
    }

    static func opcodeName(_ op: Opcode) -> String {
        switch op {
        case .pushEmpty: "0"
        case .pushData1: "OP_PUSHDATA1"
        case .pushData2: "OP_PUSHDATA2"
        case .op1: "1"
        case .op16: "16"
        case .if: "OP_IF"
        case .notIf: "OP_NOTIF"
        case .else: "OP_ELSE"
        case .endIf: "OP_ENDIF"
        case .verify: "OP_VERIFY"
        case .return: "OP_RETURN"
        case .drop: "OP_DROP"
        case .dup: "OP_DUP"
        case .equal: "OP_EQUAL"
        case .equalVerify: "OP_EQUALVERIFY"
        case .blake3: "OP_BLAKE3"
        case .checkSig: "OP_CHECKSIG"
        case .checkSigVerify: "OP_CHECKSIGVERIFY"
        case .checkMultiSig: "OP_CHECKMULTISIG"
        case .checkMultiSigVerify: "OP_CHECKMULTISIGVERIFY"
        case .checkLockTimeVerify: "OP_CHECKLOCKTIMEVERIFY"
        case .checkSequenceVerify: "OP_CHECKSEQUENCEVERIFY"
        }
    }

    /// A lock script as bitcoind's `scriptPubKey` object: asm, hex, type, and the address
    /// of a standard script when `address` knows one.
    static func scriptPubKey(_ script: [UInt8], address: (([UInt8]) -> String?)? = nil) -> JSON {
        var object: JSONObject = ["asm": .string(assembly(script)), "hex": .string(HexCoding.encode(script)),
                                  "type": .string(scriptType(script))]
        if let text = address?(script) { object["address"] = .string(text) }
        return .object(object)
    }

    // MARK: Transactions

    /// bitcoind's decoded transaction (decoderawtransaction, getrawtransaction verbose,
    /// getblock verbosity 2): txid, hash, size, version, locktime, vin, vout. With the coins
    /// its inputs spent (`spent`), also `fee`.
    static func transaction(_ transaction: Transaction, address: (([UInt8]) -> String?)? = nil,
                            spent: [OutPoint: Coin]? = nil) -> JSONObject {
        let (txid, wtxid) = transaction.ids
        var object = JSONObject()
        object["txid"] = .string(txid.hex)
        object["hash"] = .string(wtxid.hex)
        object["version"] = .int(transaction.version)
        let size = transaction.encoded.count
        object["size"] = .int(size)
        // No witness discount on this chain: vsize is the size, weight four times it (as the pool counts).
        object["vsize"] = .int(size)
        object["weight"] = .int(4 * size)
        object["locktime"] = .int(transaction.lockTime)
        addSpecialFields(transaction, to: &object, address: address)
        var inputs = [JSON]()
        for (index, input) in transaction.inputs.enumerated() {
            var entry = JSONObject()
            let witness = index < transaction.witnesses.count ? transaction.witnesses[index] : []
            if transaction.isCoinbase {
                // No scriptSig here: the coinbase's free-form data is its witness, if any.
                entry["coinbase"] = .string(HexCoding.encode(witness.joined()))
            } else {
                entry["txid"] = .string(input.previousOutput.txid.hex)
                entry["vout"] = .int(input.previousOutput.index)
            }
            if !witness.isEmpty { entry["txinwitness"] = .array(witness.map { .string(HexCoding.encode($0)) }) }
            entry["sequence"] = .int(input.sequence)
            inputs.append(.object(entry))
        }
        object["vin"] = .array(inputs)
        object["vout"] = .array(transaction.outputs.enumerated().map { index, output in
            ["value": .decimal(output.value.baseUnits), "n": .int(index), "scriptPubKey": scriptPubKey(output.lockScript, address: address)]
        })
        if let spent, !transaction.isCoinbase, let fee = fee(of: transaction, spent: spent) {
            object["fee"] = .decimal(fee.baseUnits)
        }
        return object
    }

    /// Adds each input's `prevout` (generated, height, value, scriptPubKey) from the coins
    /// the transaction spent (getblock verbosity 3, getrawtransaction verbosity 2).
    static func addPrevouts(_ object: inout JSONObject, _ transaction: Transaction, spent: [OutPoint: Coin],
                            address: (([UInt8]) -> String?)?) {
        guard !transaction.isCoinbase, let inputs = object["vin"]?.arrayValue else { return }
        object["vin"] = .array(zip(inputs, transaction.inputs).map { entry, input in
            guard var fields = entry.objectValue, let coin = spent[input.previousOutput] else { return entry }
            fields["prevout"] = ["generated": .bool(coin.isCoinbase), "height": .int(coin.height),
                                 "value": .decimal(coin.output.value.baseUnits),
                                 "scriptPubKey": scriptPubKey(coin.output.lockScript, address: address)]
            return .object(fields)
        })
    }

    /// Inputs minus outputs, when every input's coin is known and the sums make sense.
    /// Every coin `block` spends: the undo record's (coins from earlier blocks) and the outputs
    /// of its own earlier transactions, which the undo record leaves out (they never reached the
    /// UTXO set). nil when the block was never connected (no undo record).
    static func coinsSpent(by block: Block, undo: [OutPoint: Coin]?) -> [OutPoint: Coin]? {
        guard var coins = undo else { return nil }
        let created = Dictionary(block.transactions.enumerated().map { ($1.txid, $0) }, uniquingKeysWith: { first, _ in first })
        for transaction in block.transactions.dropFirst() {
            for input in transaction.inputs where coins[input.previousOutput] == nil {
                guard let source = created[input.previousOutput.txid] else { continue }
                let outputs = block.transactions[source].outputs
                guard Int(input.previousOutput.index) < outputs.count else { continue }
                coins[input.previousOutput] = Coin(output: outputs[Int(input.previousOutput.index)], height: block.header.height,
                                                   isCoinbase: source == 0)
            }
        }
        return coins
    }

    static func fee(of transaction: Transaction, spent: [OutPoint: Coin]) -> Amount? {
        var inputs = [Amount]()
        for input in transaction.inputs {
            guard let coin = spent[input.previousOutput] else { return nil }
            inputs.append(coin.output.value)
        }
        guard let paid = Amount.sum(inputs), let out = Amount.sum(transaction.outputs.map(\.value)) else { return nil }
        return paid.subtracting(out)
    }

    // MARK: Headers and work

    /// Difficulty as bitcoind shows it: how many times harder than the network's easiest
    /// target (the PoW limit) the block's target is.
    static func difficulty(bits: UInt32, powLimit: UInt256) -> Double {
        guard let target = try? CompactTarget(bits: bits).target() else { return 0 }
        return powLimit.approximateDouble / max(target.approximateDouble, 1)
    }


    /// 8 hex digits, as bitcoind writes `bits` and `versionHex`.
    static func hex32(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }

    /// bitcoind's network names for this node's networks.
    static func chainName(_ network: String) -> String {
        switch network {
        case "mainnet": "main"
        case "testnet": "test"
        default: network
        }
    }
}
