@testable import Consensus
import Primitives
import Testing
import TestSupport

/// The pay-to-key-hash fast path must decide exactly as the general interpreter does:
/// same checks collected, same error, on every witness shape.
struct PayToKeyHashFastPathTests {
    static func outcome(_ body: () throws(ScriptError) -> [SignatureCheck]) -> Result<[SignatureCheck], ScriptError> {
        do { return .success(try body()) } catch { return .failure(error) }
    }

    @Test("fast path == general interpreter on random and adversarial witnesses")
    func differential() {
        var rng = SeededGenerator.logged(77)
        func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) } }
        // A 32-byte key, and a 33-byte one (its hash can be committed to, but it is no key).
        let owners = [bytes(32), bytes(33)]
        let locks = owners.map { StandardScript.payToKeyHash(StandardScript.keyHash($0)) }
        #expect(locks.allSatisfy(ScriptInterpreter.isPayToKeyHash))
        let lock = locks[0]
        let transaction = Transaction(version: 2, inputs: [TxIn(previousOutput: OutPoint(txid: Hash256(bytes: bytes(32))!, index: 3), sequence: 0)],
                                      outputs: [], lockTime: 0)
        // Items that hit every branch: the matching key, keys of other lengths whose hash
        // cannot match, empty and wrong-length signatures, true/false-looking extras.
        let lengths = [0, 1, 31, 32, 33, 63, 64, 65]
        func item() -> [UInt8] {
            switch Int.random(in: 0..<5, using: &rng) {
            case 0: return owners[0]
            case 1: return []
            case 2: return [1]
            default: return bytes(lengths.randomElement(using: &rng)!)
            }
        }
        var outcomes = Set<String>()
        for round in 0..<4000 {
            let which = round % 5 == 4 ? 1 : 0
            let lock = locks[which]
            let context = ScriptContext(transaction: transaction, inputIndex: 0, spentOutput: TxOut(value: Amount.coins(1)!, lockScript: lock))
            var witness = (0..<Int.random(in: 0...4, using: &rng)).map { _ in item() }
            // Bias toward the matching key on top, where the interesting checks start.
            if round % 2 == 0, !witness.isEmpty { witness[witness.count - 1] = owners[which] }
            let fast = Self.outcome { () throws(ScriptError) in try ScriptInterpreter.verifyPayToKeyHash(witness: witness, lockScript: lock, context: context) }
            let general = Self.outcome { () throws(ScriptError) in try ScriptInterpreter.execute(witness: witness, lockScript: lock, context: context) }
            #expect(fast == general, "witness lengths \(witness.map(\.count))")
            switch general {
            case .success: outcomes.insert("success")
            case .failure(let error): outcomes.insert(error.rule.rawValue)
            }
        }
        // The cases exercised include success and every early exit.
        #expect(outcomes.isSuperset(of: ["success", "script-verify", "script-stack-underflow", "script-false", "script-clean-stack",
                                         "script-pubkey-size", "script-sig-size"]), "\(outcomes)")
        // Scripts that differ in one byte from the template take the general path.
        for index in [0, 1, 2, 35, 36] {
            var other = lock
            other[index] ^= 1
            #expect(!ScriptInterpreter.isPayToKeyHash(other))
        }
        #expect(!ScriptInterpreter.isPayToKeyHash(lock + [0x75]))
    }
}
