import ChainGen
/// `rusty gen-chain --json`: what was written and the UTXO set the chain should end with.
struct GenChainOutput: Codable, Equatable {
    var network: String
    var blocks: Int
    var height: UInt64
    var transactions: Int
    var inputs: Int
    var signatures: Int
    var bytes: Int
    var utxoCount: Int
    /// Base units.
    var utxoTotal: UInt64
    var utxoDigest: String
    var seconds: Double
    var file: String
    var txsPerBlockRequested: Int
    var spendingBlocks: Int
    /// Rounded to two decimals.
    var meanTxsPerSpendingBlock: Double
    /// Why the chain carries fewer transactions than asked; absent when it does not.
    var note: String?
    /// With --masternodes: the masternode transactions of each kind, and the list's size at the end.
    var masternodes: MasternodeActivity? = nil
    var masternodeListSize: Int? = nil
    /// With --governance: proposals, votes and outcomes.
    var governance: GovernanceActivity? = nil
}
