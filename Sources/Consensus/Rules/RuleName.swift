/// Every consensus rule, by the stable name rejections report (`rawValue`). The raw values
/// are exactly the rule names of docs/PROTOCOL.md section 10 and section 9's script-rule
/// table (`RuleCoverageTests` checks both ways); nothing else in the sources spells a rule
/// name, so a new rule is a new case here and a line in the spec.
public enum RuleName: String, CaseIterable, Sendable {
    // Context-free (the block alone).
    case blockSize = "block-size"
    case headerBits = "header-bits"
    case headerPow = "header-pow"
    case blockNoTransactions = "block-no-transactions"
    case blockFirstNotCoinbase = "block-first-not-coinbase"
    case blockExtraCoinbase = "block-extra-coinbase"
    case txNoInputs = "tx-no-inputs"
    case txNoOutputs = "tx-no-outputs"
    case txOutputOverflow = "tx-output-overflow"
    case txNullPrevout = "tx-null-prevout"
    case txDuplicateInput = "tx-duplicate-input"
    case txCoinbaseWitnessSize = "tx-coinbase-witness-size"
    case txSpecialType = "tx-special-type"
    case blockDuplicateTxid = "block-duplicate-txid"
    case blockMerkleRoot = "block-merkle-root"
    case blockStateRoot = "block-state-root"

    // The block in the tree.
    case blockKnownInvalid = "block-known-invalid"
    case blockInvalidParent = "block-invalid-parent"

    // The header given its parent.
    case headerVersion = "header-version"
    case headerPrevHash = "header-prev-hash"
    case headerHeight = "header-height"
    case headerBitsAsert = "header-bits-asert"
    case headerTimeTooOld = "header-time-too-old"
    case headerTimeTooNew = "header-time-too-new"

    // Transactions in context (the UTXO view).
    case coinbaseHeight = "coinbase-height"
    case txLockTime = "tx-lock-time"
    case txMissingInput = "tx-missing-input"
    case txDoubleSpend = "tx-double-spend"
    case txImmatureCoinbase = "tx-immature-coinbase"
    case txSequenceLock = "tx-sequence-lock"
    case txInputOverflow = "tx-input-overflow"
    case txOutputsExceedInputs = "tx-outputs-exceed-inputs"
    case blockFeeOverflow = "block-fee-overflow"
    case coinbaseValue = "coinbase-value"
    case scriptSignature = "script-signature"

    // Special transactions and the masternode list (section 16), in block order.
    case specialPayload = "special-payload"
    case specialInputsHash = "special-inputs-hash"
    case specialSignature = "special-signature"
    case masternodeCollateralMissing = "mn-collateral-missing"
    case masternodeCollateralAmount = "mn-collateral-amount"
    case masternodeCollateralScript = "mn-collateral-script"
    case masternodeCollateralUsed = "mn-collateral-used"
    case masternodeDuplicateKey = "mn-duplicate-key"
    case masternodeDuplicateService = "mn-duplicate-service"
    case masternodeService = "mn-service"
    case masternodePayoutScript = "mn-payout-script"
    case masternodeUnknown = "mn-unknown"
    case masternodeBanned = "mn-banned"

    // Scripts (section 9; raised through `ScriptError.rule`).
    case scriptSize = "script-size"
    case scriptTruncatedPush = "script-truncated-push"
    case scriptMinimalPush = "script-minimal-push"
    case scriptBadOpcode = "script-bad-opcode"
    case scriptOpCount = "script-op-count"
    case scriptStackSize = "script-stack-size"
    case scriptPushSize = "script-push-size"
    case scriptStackUnderflow = "script-stack-underflow"
    case scriptUnbalancedConditional = "script-unbalanced-conditional"
    case scriptReturn = "script-return"
    case scriptVerify = "script-verify"
    case scriptNumber = "script-number"
    case scriptPubkeySize = "script-pubkey-size"
    case scriptSigSize = "script-sig-size"
    case scriptMultisigCounts = "script-multisig-counts"
    case scriptMultisigTooFew = "script-multisig-too-few"
    case scriptLocktime = "script-locktime"
    case scriptLocktimeType = "script-locktime-type"
    case scriptSequenceLock = "script-sequence-lock"
    case scriptFinalSequence = "script-final-sequence"
    case scriptFalse = "script-false"
    case scriptCleanStack = "script-clean-stack"
    case scriptWitnessSize = "script-witness-size"
}
