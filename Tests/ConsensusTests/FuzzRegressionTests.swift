import Consensus
import Foundation
import Primitives
import Testing

/// Crashes found by the fuzz targets (Fuzz/, scripts/fuzz.sh), reproduced through the public
/// API; each crash input is kept as Fuzz/corpus/<target>/crash-*. Each runs in a child process
/// (an exit test), so a regression shows as a failed test rather than a crashed suite.
struct FuzzRegressionTests {
    /// Fuzz/corpus/script/crash-multisig-17-keys. docs/PROTOCOL.md allows `1 <= m <= n <= 20`
    /// and `StandardScript.multisig` admits 20 keys, but it encoded `n` with `smallNumber`,
    /// whose precondition stops at 16 (a trap; now a one-byte push). The template must build
    /// and spend like any other.
    @Test func multisigTemplateWithSeventeenKeys() async {
        await #expect(processExitsWith: .success) {
            let keys = (1...17).map { [UInt8](repeating: UInt8($0), count: 32) }
            let script = StandardScript.multisig(required: 17, of: keys)
            let transaction = Transaction(
                inputs: [TxIn(previousOutput: OutPoint(txid: .zero, index: 0))],
                outputs: [TxOut(value: Amount(baseUnits: 1)!, lockScript: [])])
            let context = ScriptContext(transaction: transaction, inputIndex: 0,
                                        spentOutput: TxOut(value: Amount(baseUnits: 2)!, lockScript: script))
            let witness = Array(repeating: [UInt8](repeating: 7, count: 64), count: 17)
            let checks = try? ScriptInterpreter.verify(witness: witness, lockScript: script, context: context)
            exit(checks?.count == 17 ? 0 : 1)
        }
    }

    /// Fuzz/corpus/script/crash-checkmultisig-huge-n (and -found, the fuzzer's original).
    /// CHECKMULTISIG converted its key count with `Int(UInt64)`, which trapped for 2^63 and up
    /// (now range-checked as UInt64 first). The witness is attacker data, so one spend of a lock script `CHECKMULTISIG` stops every validating node; the count
    /// must be rejected as `script-multisig-counts` like any other out of 1...20.
    @Test func checkMultisigKeyCountOfEightBytes() async {
        await #expect(processExitsWith: .success) {
            let lockScript: [UInt8] = [0xAE]   // CHECKMULTISIG
            let transaction = Transaction(
                inputs: [TxIn(previousOutput: OutPoint(txid: .zero, index: 0))],
                outputs: [TxOut(value: Amount(baseUnits: 1)!, lockScript: [])])
            let context = ScriptContext(transaction: transaction, inputIndex: 0,
                                        spentOutput: TxOut(value: Amount(baseUnits: 2)!, lockScript: lockScript))
            do {
                _ = try ScriptInterpreter.verify(witness: [[UInt8](repeating: 0xFF, count: 8)], lockScript: lockScript, context: context)
                exit(1)
            } catch {
                exit((error as? ScriptError)?.rule == .scriptMultisigCounts ? 0 : 1)
            }
        }
    }

    /// Fuzz/corpus/script/crash-checkmultisig-huge-m: the same conversion of the required
    /// count `m` trapped the same way.
    @Test func checkMultisigRequiredCountOfEightBytes() async {
        await #expect(processExitsWith: .success) {
            // <32-byte key> 1 CHECKMULTISIG; witness: [empty slot, m = 2^64 - 1].
            let lockScript: [UInt8] = [32] + [UInt8](repeating: 0x42, count: 32) + [0x51, 0xAE]
            let transaction = Transaction(
                inputs: [TxIn(previousOutput: OutPoint(txid: .zero, index: 0))],
                outputs: [TxOut(value: Amount(baseUnits: 1)!, lockScript: [])])
            let context = ScriptContext(transaction: transaction, inputIndex: 0,
                                        spentOutput: TxOut(value: Amount(baseUnits: 2)!, lockScript: lockScript))
            do {
                _ = try ScriptInterpreter.verify(witness: [[], [UInt8](repeating: 0xFF, count: 8)], lockScript: lockScript, context: context)
                exit(1)
            } catch {
                exit((error as? ScriptError)?.rule == .scriptMultisigCounts ? 0 : 1)
            }
        }
    }
}
