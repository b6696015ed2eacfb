import Consensus
import Foundation
import Primitives
import Testing

/// Crashes found by the fuzz targets (Fuzz/, scripts/fuzz.sh), reproduced through the public
/// API; each crash input is kept as Fuzz/corpus/<target>/crash-*. While a bug is open its test
/// is a known issue; once fixed, `withKnownIssue` fails the test: remove it, and the skip in
/// the fuzz target that names this file.
struct FuzzRegressionTests {
    /// Fuzz/corpus/script/crash-multisig-17-keys. docs/PROTOCOL.md allows `1 <= m <= n <= 20`
    /// and `StandardScript.multisig` admits 20 keys, but it encodes `n` with `smallNumber`,
    /// whose precondition stops at 16: a trap at Sources/Consensus/Script/Templates.swift:36
    /// (smallNumber) from :20 (multisig). The template must build and spend like any other.
    @Test func multisigTemplateWithSeventeenKeys() async {
        await withKnownIssue("StandardScript.multisig traps for 17...20 keys (Templates.swift:36)") {
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
    }

    /// Fuzz/corpus/script/crash-checkmultisig-huge-n (and -found, the fuzzer's original).
    /// CHECKMULTISIG converts its key count with `Int(UInt64)`, which traps for 2^63 and up
    /// (Sources/Consensus/Script/ScriptInterpreter.swift:271). The witness is attacker data,
    /// so one spend of a lock script `CHECKMULTISIG` stops every validating node; the count
    /// must be rejected as `script-multisig-counts` like any other out of 1...20.
    @Test func checkMultisigKeyCountOfEightBytes() async {
        await withKnownIssue("CHECKMULTISIG traps on a key count >= 2^63 (ScriptInterpreter.swift:271)") {
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
                    exit((error as? ScriptError)?.rule == "script-multisig-counts" ? 0 : 1)
                }
            }
        }
    }

    /// Fuzz/corpus/script/crash-checkmultisig-huge-m: the same conversion of the required
    /// count `m` traps at Sources/Consensus/Script/ScriptInterpreter.swift:279.
    @Test func checkMultisigRequiredCountOfEightBytes() async {
        await withKnownIssue("CHECKMULTISIG traps on a required count >= 2^63 (ScriptInterpreter.swift:279)") {
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
                    exit((error as? ScriptError)?.rule == "script-multisig-counts" ? 0 : 1)
                }
            }
        }
    }
}
