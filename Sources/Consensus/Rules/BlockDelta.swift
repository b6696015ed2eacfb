import Primitives

/// Where a deferred signature check came from, so a failed batch names the exact input.
public struct CheckLocation: Hashable, Sendable {
    public var blockHash: Hash256
    public var height: UInt64
    public var transaction: Int
    public var input: Int
    /// The check is the transaction's special payload signature (`input` is then 0): a
    /// failure is `RuleName.specialSignature`, not an input's script signature.
    public var isPayload = false

    @usableFromInline
    init(blockHash: Hash256, height: UInt64, transaction: Int, input: Int) {
        self.blockHash = blockHash
        self.height = height
        self.transaction = transaction
        self.input = input
    }

    /// The location of transaction `transaction`'s payload signature.
    public static func payload(blockHash: Hash256, height: UInt64, transaction: Int) -> CheckLocation {
        var location = CheckLocation(blockHash: blockHash, height: height, transaction: transaction, input: 0)
        location.isPayload = true
        return location
    }
}

/// The effect of connecting one block on the UTXO set, and what it leaves to verify.
public struct BlockDelta: Sendable {
    /// Coins spent, in block order: the undo data.
    public var spent: [(OutPoint, Coin)] = []
    /// Coins created (unspendable outputs excluded), net of those spent within the block.
    public var created: [(OutPoint, Coin)] = []
    public var checks: [SignatureCheck] = []
    public var checkLocations: [CheckLocation] = []
    public var fees = Amount.zero
    public var inputCount = 0

    @inlinable
    public init() {}
}

/// What the rules were handed is inconsistent in a way no valid chain state produces (a
/// coin from above the block's height, a txid list that does not match the block): damage
/// or a caller bug, reported as such and never as a rule of the block.
public struct InconsistentInput: Error, Equatable, Sendable, CustomStringConvertible {
    public var detail: String

    public init(_ detail: String) { self.detail = detail }

    public var description: String { detail }
}
