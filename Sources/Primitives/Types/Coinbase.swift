extension Transaction {
    /// The first transaction of every block. It spends the null outpoint; its lock time is
    /// the block height, so every coinbase (and so every transaction) has a distinct txid
    /// (the guarantee Bitcoin reached with BIP 30/34 and BIP 54). The input's sequence field
    /// is the miner's extra nonce.
    public static func coinbase(height: UInt64, extraNonce: UInt32, outputs: [TxOut]) -> Transaction {
        Transaction(version: 1,
                    inputs: [TxIn(previousOutput: .null, sequence: extraNonce)],
                    outputs: outputs,
                    lockTime: height)
    }
}

/// Script building blocks shared by every module. The FerrisScript VM itself lives with the
/// consensus rules; these are the byte values fixed in docs/PROTOCOL.md.
public enum Script {
    public static let opReturn: UInt8 = 0x6A
    public static let opPushData1: UInt8 = 0x4C
    public static let opPushData2: UInt8 = 0x4D

    /// Minimal push of `data`: direct (1..75 bytes), PUSHDATA1 or PUSHDATA2.
    public static func push(_ data: [UInt8]) -> [UInt8] {
        switch data.count {
        case 0: return [0x00]
        case 1...75: return [UInt8(data.count)] + data
        case 76...255: return [opPushData1, UInt8(data.count)] + data
        default:
            precondition(data.count <= 0xFFFF, "push larger than PUSHDATA2")
            return [opPushData2, UInt8(data.count & 0xFF), UInt8(data.count >> 8)] + data
        }
    }

    /// Unspendable output carrying data: RETURN followed by one push.
    public static func nullData(_ data: [UInt8]) -> [UInt8] { [opReturn] + push(data) }
}
