import Consensus
import Mempool
import Primitives
import Testing

/// Relay policy's output templates and the names consensus rejections get in the pool.
struct StandardnessTests {
    static let keys = (1...4).map { [UInt8](repeating: UInt8($0), count: 32) }

    @Test("each StandardScript template is recognised exactly; anything else is non-standard")
    func outputTemplates() {
        let keyHash = StandardScript.keyHash(Self.keys[0])
        #expect(OutputTemplate(StandardScript.payToKeyHash(keyHash)) == .payToKeyHash)
        #expect(OutputTemplate(StandardScript.multisig(required: 2, of: Array(Self.keys[0..<3]))) == .multisig)
        // Bare multisig beyond the policy's key count.
        #expect(OutputTemplate(StandardScript.multisig(required: 2, of: Self.keys)) == .nonStandard)
        #expect(OutputTemplate(StandardScript.multisig(required: 2, of: Self.keys), maxMultisigKeys: 4) == .multisig)
        for refundAfter: UInt64 in [0, 5, 16, 17, 300, 1_700_000_000, .max] {
            let script = StandardScript.hashTimeLock(hashLock: keyHash, recipient: Self.keys[1], refund: Self.keys[2], refundAfter: refundAfter)
            #expect(OutputTemplate(script) == .hashTimeLock, "refundAfter \(refundAfter)")
        }
        #expect(OutputTemplate(Script.nullData([1, 2, 3])) == .nullData)
        #expect(OutputTemplate(Script.nullData([UInt8](repeating: 0, count: 81))) == .nonStandard)
        // One byte off each template, and scripts that do not parse.
        var damaged = StandardScript.payToKeyHash(keyHash)
        damaged[damaged.count - 1] = Opcode.checkSigVerify.rawValue
        #expect(OutputTemplate(damaged) == .nonStandard)
        #expect(OutputTemplate(StandardScript.payToKeyHash(keyHash) + [Opcode.drop.rawValue]) == .nonStandard)
        #expect(OutputTemplate([0x51]) == .nonStandard && OutputTemplate([]) == .nonStandard && OutputTemplate([0x4C]) == .nonStandard)
        #expect(OutputTemplate([Script.opReturn, Opcode.dup.rawValue]) == .nonStandard)
    }

    @Test("fee arithmetic rounds the required fee up and the rate down, without overflow")
    func feeArithmetic() {
        #expect(MempoolPolicy.fee(rate: 1_000, bytes: 250) == 250)
        #expect(MempoolPolicy.fee(rate: 1_001, bytes: 999) == 1_000)
        #expect(MempoolPolicy.fee(rate: .max, bytes: 1_000_000) == .max)
        #expect(MempoolPolicy.feeRate(fee: 999, bytes: 1_000) == 999 && MempoolPolicy.feeRate(fee: 1, bytes: 3) == 333)
        #expect(MempoolPolicy.feeRate(fee: .max, bytes: 10) == .max && MempoolPolicy.feeRate(fee: 5, bytes: 0) == 0)
    }
}
