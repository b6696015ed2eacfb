// The pool's policy, its entries, and its verdicts.

import ChainParams
import Consensus
import Primitives

/// Relay policy (Bitcoin Core's defaults where the concept exists). Amounts are base units;
/// fee rates are per 1,000 encoded bytes. A network's defaults come from its chain
/// parameters (`init(_:)`, Config/NETWORK.json `relayPolicy`); the node's flags override them.
public struct MempoolPolicy: Sendable, Equatable {
    /// Minimum fee rate to enter the pool and be relayed.
    public var minRelayFeeRate: UInt64
    /// What a replacement pays for its own size on top of the fees it replaces, and the step
    /// by which an eviction raises the pool's minimum fee rate (Core's -incrementalrelayfee).
    public var incrementalRelayFeeRate: UInt64 = 1_000
    /// Largest standard transaction, in encoded bytes.
    public var maxTransactionBytes: Int
    /// Outputs below this value (except data carriers) are dust and non-standard.
    public var dustThreshold: UInt64
    /// The pool's size bound in encoded bytes (-maxmempool): past it the lowest fee-rate
    /// packages are evicted and the minimum fee rate rises.
    public var maxPoolBytes: Int
    /// Largest data-carrier (RETURN) output script, in bytes.
    public var maxDataCarrierBytes: Int
    /// Most keys in a standard bare multisig output.
    public var maxBareMultisigKeys: Int
    /// How many recently rejected txids are remembered (for `gettxstatus` and relay).
    public var rejectionMemory: Int
    /// Most transactions in a package: a transaction and its unconfirmed ancestors, itself
    /// included (Bitcoin Core: 25), and their total encoded bytes (101 kvB).
    public var maxAncestors = 25
    public var maxAncestorBytes = 101_000
    /// The same bounds on a transaction and its in-pool descendants.
    public var maxDescendants = 25
    public var maxDescendantBytes = 101_000
    /// Most transactions one replacement may evict (its conflicts and their descendants).
    public var maxReplacementEvictions = 100
    /// Seconds a transaction may stay in the pool (-mempoolexpiry, 336 hours).
    public var expirySeconds: UInt64 = 336 * 3_600
    /// Orphan transactions (a parent unknown) kept waiting, and for how long.
    public var maxOrphans = 100
    public var orphanExpirySeconds: UInt64 = 20 * 60
    /// Half-life of the minimum fee rate raised by evictions (Core: 12 hours).
    public var minimumFeeHalfLifeSeconds: UInt64 = 12 * 3_600
    /// How long terminal lifecycle states (rejected, expired, replaced, finalized) are remembered.
    public var lifecycleRetentionSeconds: UInt64 = 24 * 3_600

    /// Whether the relay minimum is the governed value in force for the next block (PROTOCOL
    /// section 18) rather than `minRelayFeeRate`: true unless the operator set the rate.
    public var followsGovernedRelayFee = true

    public init(minRelayFeeRate: UInt64 = 1_000, maxTransactionBytes: Int = 100_000, dustThreshold: UInt64 = 546,
                maxPoolBytes: Int = 300_000_000, maxDataCarrierBytes: Int = 83, maxBareMultisigKeys: Int = 3,
                rejectionMemory: Int = 10_000) {
        self.minRelayFeeRate = minRelayFeeRate
        self.maxTransactionBytes = maxTransactionBytes
        self.dustThreshold = dustThreshold
        self.maxPoolBytes = maxPoolBytes
        self.maxDataCarrierBytes = maxDataCarrierBytes
        self.maxBareMultisigKeys = maxBareMultisigKeys
        self.rejectionMemory = rejectionMemory
    }

    /// A network's defaults.
    public init(_ relay: ChainParameters.RelayPolicy) {
        self.init(minRelayFeeRate: relay.minRelayFeeRate, dustThreshold: relay.dustThreshold,
                  maxPoolBytes: relay.maxMempoolMegabytes * 1_000_000)
        incrementalRelayFeeRate = relay.incrementalRelayFeeRate
        expirySeconds = relay.mempoolExpiryHours * 3_600
        maxAncestors = relay.ancestorLimitCount
        maxAncestorBytes = relay.ancestorLimitKilobytes * 1_000
        maxDescendants = relay.descendantLimitCount
        maxDescendantBytes = relay.descendantLimitKilobytes * 1_000
        maxReplacementEvictions = relay.maxReplacementEvictions
        maxOrphans = relay.maxOrphanTransactions
        orphanExpirySeconds = relay.orphanExpirySeconds
    }

    /// The fee `bytes` must pay at `rate` per 1,000 bytes (rounded up, as Core's CFeeRate::GetFee).
    public static func fee(rate: UInt64, bytes: Int) -> UInt64 {
        let product = rate.multipliedFullWidth(by: UInt64(bytes))
        guard product.high == 0 else { return .max }
        let (quotient, remainder) = product.low.quotientAndRemainder(dividingBy: 1_000)
        return remainder == 0 ? quotient : quotient + 1
    }

    /// `fee` per 1,000 bytes over `bytes` (rounded down).
    public static func feeRate(fee: UInt64, bytes: Int) -> UInt64 {
        guard bytes > 0 else { return 0 }
        let product = fee.multipliedFullWidth(by: 1_000)
        guard product.high == 0 else { return .max }
        return product.low / UInt64(bytes)
    }
}

/// One transaction in the pool.
public struct MempoolEntry: Sendable, Equatable {
    public var transaction: Transaction
    public var txid: Hash256
    public var wtxid: Hash256
    /// Encoded bytes (there is no witness discount: size = vsize, weight = 4 x size).
    public var size: Int
    public var fee: Amount
    /// Per 1,000 bytes.
    public var feeRate: UInt64
    /// Unix seconds when it entered the pool.
    public var time: UInt64
    /// Chain height when it entered.
    public var height: UInt64
    /// In-pool parents (txids), in input order without repeats.
    public var depends: [Hash256]
    public var spentOutpoints: [OutPoint]
    /// The masternode resources a special transaction claims (section 16.7); empty otherwise.
    var masternodeClaims: [MasternodeClaim] = []
    /// The key its special payload's signature verified under at admission (the re-check
    /// after a block skips the Ed25519 check while the rules ask for the same key).
    var masternodeSigner: [UInt8]?

    public init(transaction: Transaction, txid: Hash256, wtxid: Hash256, size: Int, fee: Amount, time: UInt64, height: UInt64,
                depends: [Hash256]) {
        self.transaction = transaction
        self.txid = txid
        self.wtxid = wtxid
        self.size = size
        self.fee = fee
        feeRate = MempoolPolicy.feeRate(fee: fee.baseUnits, bytes: size)
        self.time = time
        self.height = height
        self.depends = depends
        spentOutpoints = transaction.inputs.map(\.previousOutput)
    }
}

/// Why a transaction was refused: `rule` in bitcoind's reject-reason style (or a consensus
/// rule name of docs/PROTOCOL.md), a human `detail`, and what kind of refusal it is.
public struct MempoolRejection: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// An input is neither in the chain's UTXO set nor created by the pool (RPC -25).
        case missingInputs
        /// Broke a policy or consensus rule, or conflicts with the pool (RPC -26).
        case invalid
        /// Its outputs are already in the chain (RPC -27).
        case alreadyInChain
        /// Already in the pool (not an error for `sendrawtransaction`).
        case alreadyInPool
    }

    public var rule: String
    public var detail: String
    public var kind: Kind
    /// The transaction breaks a consensus rule whatever the chain state: its sender misbehaved.
    public var isConsensusFailure: Bool

    public init(_ rule: String, _ detail: String = "", kind: Kind = .invalid, isConsensusFailure: Bool = false) {
        self.rule = rule
        self.detail = detail
        self.kind = kind
        self.isConsensusFailure = isConsensusFailure
    }

    /// bitcoind's message shape: "rule (detail)", or the rule alone.
    public var description: String { detail.isEmpty ? rule : "\(rule) (\(detail))" }

    /// The pool's name for a consensus rejection of a transaction in context.
    init(_ rejection: Rejection) {
        let detail = rejection.input.map { "input \($0): " + rejection.detail } ?? rejection.detail
        switch rejection.rule {
        case .txMissingInput:
            self.init("bad-txns-inputs-missingorspent", detail, kind: .missingInputs)
        case .txImmatureCoinbase:
            self.init("bad-txns-premature-spend-of-coinbase", detail)
        case .txLockTime:
            self.init("non-final", detail)
        case .txSequenceLock:
            self.init("non-BIP68-final", detail)
        default:
            // Every other rule fails whatever the chain: amounts, scripts, signatures.
            self.init(rejection.rule.rawValue, detail, isConsensusFailure: true)
        }
    }
}

public enum MempoolResult: Sendable, Equatable {
    case accepted(MempoolEntry)
    case rejected(MempoolRejection)

    public var entry: MempoolEntry? {
        if case .accepted(let entry) = self { return entry }
        return nil
    }

    public var rejection: MempoolRejection? {
        if case .rejected(let rejection) = self { return rejection }
        return nil
    }
}

/// One step of a transaction's life as the pool saw it (for `gettxstatus`).
public struct TransactionEvent: Sendable, Equatable {
    public enum State: String, Sendable {
        /// Passed every check (recorded just before `mempool`).
        case validated
        /// Entered the pool (again, after a reorganisation: `detail` says so).
        case mempool
        /// Entered the block template handed out (getblocktemplate, the miner).
        case pending
        /// In a block connected to the best chain; `detail` is the block hash (hex).
        case included
        /// Its block was disconnected by a reorganisation; it went back to the pool, or to
        /// `rejected` when it no longer fits.
        case disconnected
        case rejected
        /// Replaced by a transaction paying more; `detail` is the replacement's txid (hex).
        case replaced
        /// Older than the pool's expiry.
        case expired
        /// Left the pool for another reason (`detail`): evicted at the size limit, conflicts
        /// with a block, a parent left.
        case removed
    }

    public var state: State
    /// Unix seconds.
    public var time: UInt64
    /// The rule for `rejected` / `removed`, the block hash (hex) for `included`, the
    /// replacement's txid (hex) for `replaced`.
    public var detail: String

    public init(state: State, time: UInt64, detail: String = "") {
        self.state = state
        self.time = time
        self.detail = detail
    }
}
