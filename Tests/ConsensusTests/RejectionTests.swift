import Consensus
import Testing

/// The printed form of rejections is output (verify-chain reports it, tests of the CLI match
/// it): the rule's PROTOCOL name, then the place, then the detail.
struct RejectionTests {
    @Test("Rejection and ScriptError print the rule's PROTOCOL name")
    func printedForm() {
        #expect(Rejection(.blockKnownInvalid).description == "block-known-invalid")
        #expect(Rejection(.coinbaseValue, "pays 2", transaction: 0).description == "coinbase-value (tx 0): pays 2")
        #expect(Rejection(.scriptSignature, "signature does not verify", transaction: 3, input: 1).description
                == "script-signature (tx 3, input 1): signature does not verify")
        #expect(ScriptError.falseResult.description == "script-false")
        #expect(ScriptError.cleanStack(2).description == "script-clean-stack: 2 items left")
        #expect(RuleName(rawValue: "tx-sequence-lock") == .txSequenceLock && RuleName.txSequenceLock.rawValue == "tx-sequence-lock")
    }
}
