/// A snapshot of a pipeline run, for a progress line (one per block).
public struct VerificationProgress: Sendable {
    public var height: UInt64
    public var verifiedHeight: UInt64
    public var blocks: Int
    public var transactions: Int
    public var inputs: Int
    /// Signatures collected by the UTXO stage, and those verified so far.
    public var signatures: Int
    public var verifiedSignatures: Int
    public var seconds: Double
    /// Fraction of the input consumed, 0...1 (for an ETA).
    public var fraction: Double
    public var backend: String
    public var signatureStageBusy: Bool
}
