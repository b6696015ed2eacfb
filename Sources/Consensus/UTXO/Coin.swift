import Primitives

/// An unspent output with what the rules need to know about its origin. Its encoding is
/// the chain state's storage format for coins (and the undo data's), kept beside the type.
public struct Coin: Hashable, Sendable {
    public var output: TxOut
    public var height: UInt64
    public var isCoinbase: Bool

    public init(output: TxOut, height: UInt64, isCoinbase: Bool) {
        self.output = output
        self.height = height
        self.isCoinbase = isCoinbase
    }

    /// height u64 | coinbase u8 | value u64 | lock_script (CompactSize + bytes)
    public var encoded: [UInt8] {
        var writer = ByteWriter(capacity: 18 + output.lockScript.count + 3)
        encode(to: &writer)
        return writer.bytes
    }

    public func encode(to writer: inout ByteWriter) {
        writer.write(height)
        writer.write(UInt8(isCoinbase ? 1 : 0))
        output.encode(to: &writer)
    }

    public static func decode(from reader: inout ByteReader) throws -> Coin {
        let height = try reader.readUInt64("height")
        let flagOffset = reader.offset
        let flag = try reader.readUInt8("coinbase")
        guard flag <= 1 else { throw reader.invalid("coinbase", at: flagOffset, "flag \(flag)") }
        return Coin(output: try TxOut.decode(from: &reader), height: height, isCoinbase: flag == 1)
    }

    public init(decoding bytes: [UInt8]) throws {
        var reader = ByteReader(bytes, path: "coin")
        self = try Coin.decode(from: &reader)
        try reader.expectEnd("end")
    }
}

extension TxOut {
    /// Outputs that can never be spent (RETURN scripts) never enter the UTXO set.
    public var isUnspendable: Bool { lockScript.first == Script.opReturn }
}
