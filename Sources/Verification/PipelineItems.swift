import ChainState
import Consensus
import Primitives

// The items passed between the pipeline's stages.

/// Read stage -> context-free stage.
enum ReadItem: Sendable {
    case chunk([BlockSource.Record])
    case failure(String)
}

/// Context-free stage -> UTXO stage.
enum Parsed: Sendable {
    /// `checked` is nil when a context-free rule failed (the block then goes through `accept`,
    /// which reports the rule).
    case block(Block, checked: ContextFreeRules.Checked?, record: BlockSource.Record)
    /// A record that does not decode, with the record (for `Report.rejected`).
    case malformed(String, record: BlockSource.Record)
    case readFailure(String)
}

/// UTXO stage -> signature stage.
enum SignatureWork: Sendable {
    case block(DeferredConnection)
    case drain
    case end
}

/// Signature stage -> commit (on the UTXO stage's thread).
enum SignatureResult: Sendable {
    /// The next `count` deferred blocks verified (with `signatures` signatures).
    case verified(count: Int, signatures: Int)
    /// Deferred block `index` (counted from the oldest unconfirmed) has a bad signature.
    case failed(index: Int, location: CheckLocation)
    case drained
}
