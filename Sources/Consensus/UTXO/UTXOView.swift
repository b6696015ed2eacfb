import Primitives

/// The coins the contextual rules read: the unspent outputs before the block (or the
/// transaction) being checked. The chain state answers from its UTXO cache; a mempool can
/// answer from the chain state plus its pool. Outputs of earlier transactions of the block
/// being connected are not asked for: `ContextualRules` finds those in the block itself.
public protocol UTXOView {
    /// The unspent coin at `outpoint`, or nil when there is none. Throws only when the view
    /// cannot answer (a storage failure); the rules pass such errors through unchanged.
    func coin(_ outpoint: OutPoint) throws -> Coin?
}
