import Consensus
import Primitives

/// The chain state's entry to `ContextualRules` (which live in Consensus), with what the
/// rules call inconsistent input reported as a corrupt database. The closure form is the
/// API from before the rules moved, kept for callers written against it (the fuzz harness).
public enum BlockConnector {
    public typealias Context = ContextualRules.Context

    public static func connect<View: UTXOView>(_ block: Block, txids: [Hash256], context: Context, parameters: ConsensusParameters,
                                               view: View) throws -> BlockDelta {
        do {
            return try ContextualRules.connect(block, txids: txids, context: context, parameters: parameters, view: view)
        } catch let error as InconsistentInput {
            throw ChainStateError.corruptDatabase(error.detail)
        }
    }

    public static func connect(_ block: Block, txids: [Hash256], context: Context, parameters: ConsensusParameters,
                               lookup: (OutPoint) throws -> Coin?) throws -> BlockDelta {
        try withoutActuallyEscaping(lookup) { lookup in
            try connect(block, txids: txids, context: context, parameters: parameters, view: LookupView(lookup: lookup))
        }
    }

    /// A closure as a view; it never outlives the call it was made for.
    private struct LookupView: UTXOView {
        let lookup: (OutPoint) throws -> Coin?

        func coin(_ outpoint: OutPoint) throws -> Coin? { try lookup(outpoint) }
    }
}
