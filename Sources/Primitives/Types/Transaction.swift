import BLAKE3

/// Limits that bound decoding before any rule runs; consensus limits proper come from chain parameters.
public enum EncodingLimits {
    public static let maxBlockBytes = 32 * 1024 * 1024
    /// The largest block a `block` frame carries (PROTOCOL section 12). Chain parameters may not
    /// allow bigger blocks, governed or not: such a block could be mined but never relayed.
    public static let maxRelayableBlockBytes = 32_000_000
    public static let maxScriptBytes = 10_000
    public static let maxWitnessItemBytes = 10_000
    public static let maxWitnessItems = 1_000
    public static let maxInputs: UInt64 = 1_000_000
    public static let maxOutputs: UInt64 = 1_000_000
    public static let maxTransactions: UInt64 = 1_000_000
    /// A special transaction's payload (DIP-2 shape); the largest type's rules are far below it.
    public static let maxSpecialPayloadBytes = 100_000
}

/// The type of a special transaction: the high 16 bits of `version` (Dash's DIP-2 shape).
/// Type 0 is an ordinary transaction; a known type carries a payload after `lock_time`,
/// inside the txid. Unknown types are invalid (PROTOCOL.md section 16).
public enum SpecialTransactionType: UInt16, Sendable, CaseIterable, CustomStringConvertible {
    case masternodeRegister = 1
    case masternodeUpdateService = 2
    case masternodeUpdateRegistrar = 3
    case masternodeRevoke = 4
    /// A quorum's final DKG commitment (PROTOCOL section 17.3): no inputs, no outputs.
    case quorumCommitment = 5
    /// A governance proposal (PROTOCOL section 18.2): locks its collateral output until its deadline.
    case governanceProposal = 6
    /// A masternode's governance vote (section 18.3): no inputs, no outputs, signed by the owner key.
    case governanceVote = 7

    public var description: String {
        switch self {
        case .masternodeRegister: return "mn-register"
        case .masternodeUpdateService: return "mn-update-service"
        case .masternodeUpdateRegistrar: return "mn-update-registrar"
        case .masternodeRevoke: return "mn-revoke"
        case .quorumCommitment: return "quorum-commitment"
        case .governanceProposal: return "gov-proposal"
        case .governanceVote: return "gov-vote"
        }
    }
}

/// A reference to one output of an earlier transaction.
public struct OutPoint: Hashable, Sendable, BinaryCodable, CustomStringConvertible {
    public var txid: Hash256
    public var index: UInt32

    public static let encodedLength = 36
    /// The outpoint of a coinbase input: it spends nothing.
    public static let null = OutPoint(txid: .zero, index: .max)

    public init(txid: Hash256, index: UInt32) {
        self.txid = txid
        self.index = index
    }

    public var isNull: Bool { self == .null }
    public var description: String { "\(txid.hex):\(index)" }

    public static func == (lhs: OutPoint, rhs: OutPoint) -> Bool {
        lhs.index == rhs.index && lhs.txid == rhs.txid
    }

    /// The txid is already a uniformly random hash: one word of it plus the index is
    /// enough to spread outpoints (equality still compares everything).
    public func hash(into hasher: inout Hasher) {
        hasher.combine(txid.w0 ^ (UInt64(index) &* 0x9E37_79B9_7F4A_7C15))
    }

    public func encode(to writer: inout ByteWriter) {
        writer.write(txid)
        writer.write(index)
    }

    public static func decode(from reader: inout ByteReader) throws -> OutPoint {
        OutPoint(txid: try reader.readHash("txid"), index: try reader.readUInt32("index"))
    }
}

/// An input: what it spends and its sequence number. Its unlocking data lives in the
/// transaction's witnesses, outside the txid.
public struct TxIn: Hashable, Sendable, BinaryCodable {
    public var previousOutput: OutPoint
    public var sequence: UInt32

    public static let encodedLength = 40
    public static let finalSequence = UInt32.max

    public init(previousOutput: OutPoint, sequence: UInt32 = TxIn.finalSequence) {
        self.previousOutput = previousOutput
        self.sequence = sequence
    }

    public func encode(to writer: inout ByteWriter) {
        previousOutput.encode(to: &writer)
        writer.write(sequence)
    }

    public static func decode(from reader: inout ByteReader) throws -> TxIn {
        let outpoint = try reader.within("prevout") { try OutPoint.decode(from: &$0) }
        return TxIn(previousOutput: outpoint, sequence: try reader.readUInt32("sequence"))
    }
}

/// An output: an amount locked by a FerrisScript.
public struct TxOut: Hashable, Sendable, BinaryCodable {
    public var value: Amount
    public var lockScript: [UInt8]

    /// value (8) + empty script length (1).
    public static let minimumEncodedLength = 9

    public init(value: Amount, lockScript: [UInt8]) {
        self.value = value
        self.lockScript = lockScript
    }

    public func encode(to writer: inout ByteWriter) {
        writer.write(value.baseUnits)
        writer.writeVarBytes(lockScript)
    }

    public static func decode(from reader: inout ByteReader) throws -> TxOut {
        let at = reader.offset
        let units = try reader.readUInt64("value")
        guard let value = Amount(baseUnits: units) else {
            throw reader.invalid("value", at: at, "\(units) base units exceeds the money supply")
        }
        return TxOut(value: value, lockScript: try reader.readVarBytes("lock_script", limit: EncodingLimits.maxScriptBytes))
    }
}

/// A transaction. Serialized as its witness-free part (hashed into the txid) followed by one
/// witness stack per input (included only in the wtxid):
///
///     version u32 | n_in | inputs | n_out | outputs | lock_time u64 | [payload] | witness stacks
///
/// `payload` (CompactSize length + bytes) is present exactly when the high 16 bits of
/// `version` (the special type) are not zero.
public struct Transaction: Hashable, Sendable, BinaryCodable {
    public var version: UInt32
    public var inputs: [TxIn]
    public var outputs: [TxOut]
    public var lockTime: UInt64
    /// One stack of byte strings per input (same count as `inputs`).
    public var witnesses: [[[UInt8]]]
    /// A special transaction's typed payload; always empty when `rawSpecialType` is 0: `init`
    /// drops a payload given with a type-0 version, since the encoding (and so the txid)
    /// would leave it out while `==` would still see it.
    public var payload: [UInt8]

    public init(version: UInt32 = 1, inputs: [TxIn], outputs: [TxOut], lockTime: UInt64 = 0, witnesses: [[[UInt8]]]? = nil,
                payload: [UInt8] = []) {
        self.version = version
        self.inputs = inputs
        self.outputs = outputs
        self.lockTime = lockTime
        self.witnesses = witnesses ?? Array(repeating: [], count: inputs.count)
        self.payload = version >> 16 == 0 ? [] : payload
    }

    /// A special transaction of `type` (low 16 bits of the version: 1).
    public init(special type: SpecialTransactionType, payload: [UInt8], inputs: [TxIn], outputs: [TxOut], lockTime: UInt64 = 0) {
        self.init(version: UInt32(type.rawValue) << 16 | 1, inputs: inputs, outputs: outputs, lockTime: lockTime, payload: payload)
    }

    /// The high 16 bits of `version`: 0 for an ordinary transaction.
    public var rawSpecialType: UInt16 { UInt16(truncatingIfNeeded: version >> 16) }
    /// The special type, when the version names a known one.
    public var specialType: SpecialTransactionType? { SpecialTransactionType(rawValue: rawSpecialType) }
    public var isSpecial: Bool { rawSpecialType != 0 }

    /// A coinbase has exactly one input and it spends the null outpoint.
    public var isCoinbase: Bool { inputs.count == 1 && inputs[0].previousOutput.isNull }

    /// The witness-free encoding: what the txid commits to.
    public var baseEncoding: [UInt8] {
        var writer = ByteWriter()
        encodeBase(to: &writer)
        return writer.bytes
    }

    public var txid: Hash256 { Hash256(bytes: BLAKE3.hash(baseEncoding))! }
    public var wtxid: Hash256 { Hash256(bytes: BLAKE3.hash(encoded))! }

    /// txid and wtxid from one encoding: the witness-free encoding is a prefix of the full
    /// one, so one hasher absorbs it, yields the txid, then absorbs the witnesses for the wtxid.
    public var ids: (txid: Hash256, wtxid: Hash256) {
        var writer = ByteWriter(capacity: 64 + inputs.count * 150 + outputs.count * 48 + payload.count)
        encodeBase(to: &writer)
        let baseLength = writer.bytes.count
        precondition(witnesses.count == inputs.count, "one witness stack per input")
        for stack in witnesses {
            writer.writeCompactSize(UInt64(stack.count))
            for item in stack { writer.writeVarBytes(item) }
        }
        var txid = Hash256.zero, wtxid = Hash256.zero
        writer.bytes.withUnsafeBytes { all in
            Swift.withUnsafeMutableBytes(of: &txid) { txidBytes in
                Swift.withUnsafeMutableBytes(of: &wtxid) { wtxidBytes in
                    BLAKE3.hashPrefixAndWhole(all, prefixLength: baseLength, prefixOutput: txidBytes, wholeOutput: wtxidBytes)
                }
            }
        }
        return (txid, wtxid)
    }

    func encodeBase(to writer: inout ByteWriter) {
        writer.write(version)
        writer.writeCompactSize(UInt64(inputs.count))
        for input in inputs { input.encode(to: &writer) }
        writer.writeCompactSize(UInt64(outputs.count))
        for output in outputs { output.encode(to: &writer) }
        writer.write(lockTime)
        if isSpecial { writer.writeVarBytes(payload) }
    }

    public func encode(to writer: inout ByteWriter) {
        precondition(witnesses.count == inputs.count, "one witness stack per input")
        encodeBase(to: &writer)
        for stack in witnesses {
            writer.writeCompactSize(UInt64(stack.count))
            for item in stack { writer.writeVarBytes(item) }
        }
    }

    public static func decode(from reader: inout ByteReader) throws -> Transaction {
        var witnessStart = 0
        return try decode(from: &reader, witnessStart: &witnessStart)
    }

    /// Decoding that also reports where the witness stacks begin (the end of what the txid covers).
    static func decode(from reader: inout ByteReader, witnessStart: inout Int) throws -> Transaction {
        let version = try reader.readUInt32("version")
        let inputCount = try reader.readCount("input_count", limit: EncodingLimits.maxInputs, minimumItemSize: TxIn.encodedLength)
        var inputs = [TxIn]()
        inputs.reserveCapacity(inputCount)
        for index in 0..<inputCount {
            inputs.append(try reader.within("input", index: index) { try TxIn.decode(from: &$0) })
        }
        let outputCount = try reader.readCount("output_count", limit: EncodingLimits.maxOutputs, minimumItemSize: TxOut.minimumEncodedLength)
        var outputs = [TxOut]()
        outputs.reserveCapacity(outputCount)
        for index in 0..<outputCount {
            outputs.append(try reader.within("output", index: index) { try TxOut.decode(from: &$0) })
        }
        let lockTime = try reader.readUInt64("lock_time")
        var payload = [UInt8]()
        if version >> 16 != 0 {
            payload = try reader.readVarBytes("payload", limit: EncodingLimits.maxSpecialPayloadBytes)
        }
        witnessStart = reader.offset
        var witnesses = [[[UInt8]]]()
        witnesses.reserveCapacity(inputCount)
        for index in 0..<inputCount {
            let stack = try reader.within("witness", index: index) { reader -> [[UInt8]] in
                let itemCount = try reader.readCount("item_count", limit: UInt64(EncodingLimits.maxWitnessItems), minimumItemSize: 1)
                var items = [[UInt8]]()
                items.reserveCapacity(itemCount)
                for item in 0..<itemCount {
                    items.append(try reader.readVarBytes("item", index: item, limit: EncodingLimits.maxWitnessItemBytes))
                }
                return items
            }
            witnesses.append(stack)
        }
        return Transaction(version: version, inputs: inputs, outputs: outputs, lockTime: lockTime, witnesses: witnesses, payload: payload)
    }
}

/// Where one transaction's encoding lies in the bytes it was decoded from. Decoding accepts
/// only the canonical encoding, so these bytes are exactly `encoded` and the ids can be
/// hashed from them without encoding again.
public struct TransactionSpan: Sendable, Equatable {
    public var start: Int
    /// End of the witness-free part (what the txid covers).
    public var witnessStart: Int
    public var end: Int

    /// txid and wtxid of the transaction at this span of `bytes`.
    public func ids(in bytes: UnsafeRawBufferPointer) -> (txid: Hash256, wtxid: Hash256) {
        var txid = Hash256.zero, wtxid = Hash256.zero
        Swift.withUnsafeMutableBytes(of: &txid) { txidBytes in
            Swift.withUnsafeMutableBytes(of: &wtxid) { wtxidBytes in
                BLAKE3.hashPrefixAndWhole(UnsafeRawBufferPointer(rebasing: bytes[start..<end]), prefixLength: witnessStart - start,
                                          prefixOutput: txidBytes, wholeOutput: wtxidBytes)
            }
        }
        return (txid, wtxid)
    }
}
