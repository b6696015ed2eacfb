import BLAKE3
import Primitives

/// The standard lock scripts and the witnesses that spend them.
public enum StandardScript {
    /// Pay to key hash: DUP BLAKE3 <BLAKE3(pk)> EQUALVERIFY CHECKSIG. Witness: [sig, pk].
    public static func payToKeyHash(_ keyHash: Hash256) -> [UInt8] {
        [Opcode.dup.rawValue, Opcode.blake3.rawValue] + Script.push(keyHash.bytes)
            + [Opcode.equalVerify.rawValue, Opcode.checkSig.rawValue]
    }

    public static func keyHash(_ publicKey: [UInt8]) -> Hash256 { Hash256(bytes: BLAKE3.hash(publicKey))! }

    /// m-of-n multisig: <m> <pk1> ... <pkn> <n> CHECKMULTISIG. Witness: one slot per key in
    /// key order, empty where that key does not sign.
    public static func multisig(required m: Int, of keys: [[UInt8]]) -> [UInt8] {
        precondition(m >= 1 && m <= keys.count && keys.count <= ScriptInterpreter.maxMultisigKeys)
        // number(): 17...20 keys need a one-byte push, not OP_n.
        var script = number(UInt64(m))
        for key in keys { script += Script.push(key) }
        return script + number(UInt64(keys.count)) + [Opcode.checkMultiSig.rawValue]
    }

    /// Hash time-locked contract: the recipient spends with the preimage of `hashLock`,
    /// the refund key after absolute lock time `refundAfter`.
    ///     IF BLAKE3 <hash> EQUALVERIFY <recipient> ELSE <time> CHECKLOCKTIMEVERIFY DROP <refund> ENDIF CHECKSIG
    /// Witness: [sig, preimage, 0x01] to claim, [sig, empty] to refund.
    public static func hashTimeLock(hashLock: Hash256, recipient: [UInt8], refund: [UInt8], refundAfter: UInt64) -> [UInt8] {
        [Opcode.if.rawValue, Opcode.blake3.rawValue] + Script.push(hashLock.bytes) + [Opcode.equalVerify.rawValue]
            + Script.push(recipient)
            + [Opcode.else.rawValue] + number(refundAfter) + [Opcode.checkLockTimeVerify.rawValue, Opcode.drop.rawValue]
            + Script.push(refund)
            + [Opcode.endIf.rawValue, Opcode.checkSig.rawValue]
    }

    static func smallNumber(_ value: Int) -> [UInt8] {
        precondition(value >= 1 && value <= 16)
        return [Opcode.op1.rawValue + UInt8(value - 1)]
    }

    /// Minimal push of an unsigned number (OP_1...OP_16 for small values).
    public static func number(_ value: UInt64) -> [UInt8] {
        if value == 0 { return [Opcode.pushEmpty.rawValue] }
        if value <= 16 { return smallNumber(Int(value)) }
        var bytes = [UInt8]()
        var v = value
        while v > 0 { bytes.append(UInt8(v & 0xFF)); v >>= 8 }
        return Script.push(bytes)
    }
}
