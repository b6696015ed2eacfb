import ChainParams
import Primitives

/// The numbers consensus rules need, derived once from the chain parameters.
public struct ConsensusParameters: Sendable {
    public var network: String
    public var powLimit: UInt256
    public var powLimitBits: UInt32
    public var asert: ASERT
    public var genesisHash: Hash256
    public var genesisTarget: UInt256
    public var genesisTime: UInt64
    public var coinbaseMaturity: UInt64
    /// The block size limit of the chain's start (Config); governance may move the limit in
    /// force within its bounds (module Governance, `GovernedParameters`).
    public var maxBlockBytes: Int
    /// The largest limit governance can ever set: the context-free rule's bound (the limit in
    /// force at a block's height is checked when it connects).
    public var maxBlockBytesCeiling: Int
    public var maxFutureBlockTime: UInt64
    public var medianTimeSpan: Int
    public var initialSubsidy: UInt64
    public var halvingInterval: UInt64
    public var magic: [UInt8]
    public var chain: ChainParameters

    public init(_ chain: ChainParameters) throws {
        self.chain = chain
        network = chain.name
        powLimit = try chain.powLimit.target()
        powLimitBits = chain.powLimit.bits
        asert = ASERT(targetSpacing: Int64(clamping: chain.targetSpacingSeconds), halfLife: chain.asert.halfLifeSeconds,
                      powLimit: powLimit, heightOffset: 0)
        let genesis = chain.genesisBlock()
        genesisHash = genesis.hash
        genesisTarget = try chain.genesisBits.target()
        genesisTime = genesis.header.time
        coinbaseMaturity = chain.coinbaseMaturity
        maxBlockBytes = chain.maxBlockBytes
        // Only a network with governance (a proposal collateral) can ever raise the limit.
        let governedMax = chain.governance.collateralBaseUnits == nil ? 0
            : chain.governance.parameters?["maxBlockBytes"].map { Int(clamping: $0.max) } ?? 0
        maxBlockBytesCeiling = min(max(chain.maxBlockBytes, governedMax), EncodingLimits.maxBlockBytes)
        maxFutureBlockTime = chain.maxFutureBlockTimeSeconds
        medianTimeSpan = chain.medianTimeSpan
        initialSubsidy = chain.subsidy.initialBaseUnits
        halvingInterval = chain.subsidy.halvingInterval
        magic = chain.magicBytes
    }

    /// The `bits` a block must carry, given its parent's height and time (ASERT anchored at genesis).
    public func requiredBits(parentHeight: UInt64, parentTime: UInt64) -> UInt32 {
        let timeDelta = Int64(clamping: Int128(parentTime) - Int128(genesisTime))
        let target = asert.nextTarget(anchorTarget: genesisTarget, timeDelta: timeDelta, heightDelta: Int64(clamping: parentHeight))
        return CompactTarget(target: target).bits
    }
}
