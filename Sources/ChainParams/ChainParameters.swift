import Foundation
import Primitives

/// Everything that differs between networks, read from the JSON files of `Config/`
/// (embedded in the binary at build time; a file given at run time overrides them).
public struct ChainParameters: Codable, Sendable, Equatable {
    public var name: String
    /// Four message-start bytes, hex; also the record marker of block files.
    public var magic: String
    public var ports: Ports
    /// Easiest allowed target, compact form ("0x207fffff").
    public var powLimitBits: String
    public var targetSpacingSeconds: UInt64
    public var asert: Asert
    public var subsidy: Subsidy
    public var coinbaseMaturity: UInt64
    public var maxBlockBytes: Int
    public var maxFutureBlockTimeSeconds: UInt64
    public var medianTimeSpan: Int
    public var genesis: Genesis
    /// The network's DNS-free seed nodes (`HOST:PORT`), dialled when the address table is
    /// empty. None of the networks has public nodes yet, so every list is empty for now.
    public var seeds: [String]?
    /// Parameters of later waves, kept as data so they land without a format change.
    public var masternodes: Masternodes
    /// Quorum types (PROTOCOL section 17.1); absent: the network forms no quorums.
    public var quorums: [QuorumType]?
    /// The quorum type whose quorums sign chain locks (one of `quorums`).
    public var chainLockQuorumType: UInt8?
    public var governance: Governance
    public var sidechains: Sidechains
    /// Confirmations after which a transaction's lifecycle says `finalized` (DESIGN 9; until
    /// quorums chain-lock blocks, a depth reorganisations are not expected to reach).
    public var finalityDepth: UInt64
    /// Relay policy defaults for this network (the node's flags override them).
    public var relayPolicy: RelayPolicy

    public struct Ports: Codable, Sendable, Equatable {
        public var p2p: UInt16
        public var rpc: UInt16
        public var stratum: UInt16
    }

    /// The mempool's policy numbers, Bitcoin Core's defaults as the anchor. Fee rates are base
    /// units per 1,000 encoded bytes.
    public struct RelayPolicy: Codable, Sendable, Equatable {
        public var minRelayFeeRate: UInt64
        /// A replacement pays for its own size at this rate on top of what it replaces; an
        /// eviction raises the pool's minimum fee by it.
        public var incrementalRelayFeeRate: UInt64
        public var dustThreshold: UInt64
        public var maxMempoolMegabytes: Int
        public var mempoolExpiryHours: UInt64
        /// Package limits: a transaction with its unconfirmed ancestors, or with its descendants.
        public var ancestorLimitCount: Int
        public var ancestorLimitKilobytes: Int
        public var descendantLimitCount: Int
        public var descendantLimitKilobytes: Int
        /// Most transactions a replacement may evict (its conflicts and their descendants).
        public var maxReplacementEvictions: Int
        public var maxOrphanTransactions: Int
        public var orphanExpirySeconds: UInt64
    }

    public struct Asert: Codable, Sendable, Equatable {
        public var halfLifeSeconds: Int64
    }

    public struct Subsidy: Codable, Sendable, Equatable {
        public var initialBaseUnits: UInt64
        public var halvingInterval: UInt64
    }

    public struct Genesis: Codable, Sendable, Equatable {
        public var version: UInt32
        public var time: UInt64
        public var bits: String
        public var nonce: UInt64
        public var message: String
        /// Expected block hash, checked when the parameters are loaded.
        public var hash: String
    }

    public struct Masternodes: Codable, Sendable, Equatable {
        public var collateralBaseUnits: UInt64?
        public var quorumSize: Int?
        public var quorumThreshold: Int?
        /// Blocks after its registration before a masternode counts as valid.
        public var registrationMaturity: UInt64?
        /// Blocks back from the tip for which the list at any height can be produced exactly.
        public var listHistoryBlocks: UInt64?
        /// Proof of service (PROTOCOL section 16.5): the ban threshold, the penalties and the decay per block.
        public var posePenaltyMax: UInt32?
        public var posePenaltyMissedCommitment: UInt32?
        public var posePenaltyInvalidSignature: UInt32?
        public var posePenaltyDecayPerBlock: UInt32?
    }

    /// One quorum type as the file states it; `QuorumParameters` (module Quorums) checks it.
    public struct QuorumType: Codable, Sendable, Equatable {
        public var id: UInt8
        public var name: String
        public var size: Int
        public var threshold: Int
        /// A DKG starts at every positive height that is a multiple of this.
        public var dkgInterval: UInt64
        /// Blocks in each of the four DKG phases.
        public var phaseBlocks: UInt64
        /// Blocks after the phases in which the final commitment may be mined.
        public var miningWindow: UInt64
        /// How many of the newest healthy quorums of the type serve.
        public var activeCount: Int

        public init(id: UInt8, name: String, size: Int, threshold: Int, dkgInterval: UInt64, phaseBlocks: UInt64,
                    miningWindow: UInt64, activeCount: Int) {
            self.id = id
            self.name = name
            self.size = size
            self.threshold = threshold
            self.dkgInterval = dkgInterval
            self.phaseBlocks = phaseBlocks
            self.miningWindow = miningWindow
            self.activeCount = activeCount
        }
    }

    /// On-chain governance (PROTOCOL section 18); absent numbers: the network has none
    /// (module Governance checks them).
    public struct Governance: Codable, Sendable, Equatable {
        /// The exact value of a proposal's collateral output.
        public var collateralBaseUnits: UInt64?
        /// `deadlineHeight - startHeight` of a proposal: at least / at most this.
        public var minVotingBlocks: UInt64?
        public var maxVotingBlocks: UInt64?
        /// `startHeight` at most this many blocks after the block holding the proposal.
        public var maxStartDelay: UInt64?
        /// Blocks from the deadline to the activation of an approved change.
        public var minActivationDelay: UInt64?
        public var maxActivationDelay: UInt64?
        /// The whitelist: each changeable parameter by name, with its bounds and maximum step.
        public var parameters: [String: ParameterBounds]?

        public init(collateralBaseUnits: UInt64? = nil, minVotingBlocks: UInt64? = nil, maxVotingBlocks: UInt64? = nil,
                    maxStartDelay: UInt64? = nil, minActivationDelay: UInt64? = nil, maxActivationDelay: UInt64? = nil,
                    parameters: [String: ParameterBounds]? = nil) {
            self.collateralBaseUnits = collateralBaseUnits
            self.minVotingBlocks = minVotingBlocks
            self.maxVotingBlocks = maxVotingBlocks
            self.maxStartDelay = maxStartDelay
            self.minActivationDelay = minActivationDelay
            self.maxActivationDelay = maxActivationDelay
            self.parameters = parameters
        }
    }

    /// A governed parameter's range and the most one proposal may move it.
    public struct ParameterBounds: Codable, Sendable, Equatable {
        public var min: UInt64
        public var max: UInt64
        public var maxStep: UInt64

        public init(min: UInt64, max: UInt64, maxStep: UInt64) {
            self.min = min
            self.max = max
            self.maxStep = maxStep
        }
    }

    public struct Sidechains: Codable, Sendable, Equatable {
        public var pegConfirmations: UInt64?
        public var fraudProofWindowBlocks: UInt64?
    }

    public enum LoadError: Error, CustomStringConvertible {
        case unknownNetwork(String, known: [String])
        case malformed(String, String)
        case invalid(String, String)

        public var description: String {
            switch self {
            case let .unknownNetwork(name, known): return "unknown network '\(name)' (known: \(known.joined(separator: ", ")))"
            case let .malformed(source, detail): return "\(source): malformed chain parameters: \(detail)"
            case let .invalid(source, detail): return "\(source): invalid chain parameters: \(detail)"
            }
        }
    }

    /// Names of the networks built into the binary.
    public static var builtInNetworks: [String] {
        EmbeddedConfig.files.keys.map { String($0.dropLast(".json".count)) }.sorted()
    }

    /// The built-in parameters of `network`, validated.
    public static func builtIn(_ network: String) throws -> ChainParameters {
        guard let text = EmbeddedConfig.files["\(network).json"] else {
            throw LoadError.unknownNetwork(network, known: builtInNetworks)
        }
        return try parse(Data(text.utf8), source: "Config/\(network).json")
    }

    /// Parameters from a JSON file, validated.
    public static func load(contentsOf url: URL) throws -> ChainParameters {
        try parse(try Data(contentsOf: url), source: url.path)
    }

    public static func parse(_ data: Data, source: String) throws -> ChainParameters {
        let parameters = try decodeUnvalidated(data, source: source)
        try parameters.validate(source: source)
        return parameters
    }

    /// Decodes without the checks of `validate`, for building a new network's file.
    public static func decodeUnvalidated(_ data: Data, source: String) throws -> ChainParameters {
        do {
            return try JSONDecoder().decode(ChainParameters.self, from: data)
        } catch {
            throw LoadError.malformed(source, "\(error)")
        }
    }

    /// Searches nonces upwards from zero for the first genesis block meeting its target;
    /// used once per network when its file is written.
    public func mineGenesis() throws -> (nonce: UInt64, hash: Hash256) {
        let target: UInt256
        do { target = try genesisBits.target() } catch { throw LoadError.invalid(name, "genesis.bits: \(error)") }
        var block = genesisBlock()
        var header = block.header.encoded
        let midstate = Midstate(header: header)
        for nonce in UInt64(0)... {
            for i in 0..<8 { header[BlockHeader.nonceOffset + i] = UInt8(truncatingIfNeeded: nonce >> (8 * UInt64(i))) }
            let hash = header.withUnsafeBytes { midstate.hash(secondBlock: UnsafeRawBufferPointer(rebasing: $0[64..<128])) }
            if ProofOfWork.meets(hash, target: target) {
                block.header.nonce = nonce
                return (nonce, hash)
            }
        }
        throw LoadError.invalid(name, "no genesis nonce in 64 bits")
    }

    // MARK: Derived values

    public var magicBytes: [UInt8] { HexCoding.decode(magic) ?? [] }
    public var powLimit: CompactTarget { CompactTarget(bits: Self.parseBits(powLimitBits) ?? 0) }
    public var genesisBits: CompactTarget { CompactTarget(bits: Self.parseBits(genesis.bits) ?? 0) }

    static func parseBits(_ text: String) -> UInt32? {
        let digits = text.hasPrefix("0x") ? String(text.dropFirst(2)) : text
        return UInt32(digits, radix: 16)
    }

    /// The genesis block, built from the parameters: a coinbase paying the first subsidy (the
    /// initial amount; the halving schedule is a consensus rule, `ConsensusParameters.subsidy`) to
    /// an unspendable RETURN output that carries the message.
    public func genesisBlock() -> Block {
        let coinbase = Transaction.coinbase(
            height: 0, extraNonce: 0,
            outputs: [TxOut(value: Amount(baseUnits: subsidy.initialBaseUnits) ?? .zero, lockScript: Script.nullData(Array(genesis.message.utf8)))])
        var block = Block(
            header: BlockHeader(version: genesis.version, height: 0, previousHash: .zero, merkleRoot: .zero,
                                stateRoot: .zero, time: genesis.time, bits: genesisBits.bits, nonce: genesis.nonce),
            transactions: [coinbase])
        block.header.merkleRoot = block.computeMerkleRoot()
        block.header.stateRoot = block.computeStateRoot()
        return block
    }

    /// One week between blocks, and about 136 years of half-life: far beyond any sane network.
    public static let maxTargetSpacingSeconds: UInt64 = 7 * 86_400
    public static let maxHalfLifeSeconds: Int64 = 1 << 32

    func validate(source: String) throws {
        func fail(_ detail: String) -> LoadError { .invalid(source, detail) }
        guard magicBytes.count == 4 else { throw fail("magic must be 4 bytes of hex, got '\(magic)'") }
        guard let limitBits = Self.parseBits(powLimitBits) else { throw fail("powLimitBits '\(powLimitBits)' is not hex") }
        let limit: UInt256
        do { limit = try CompactTarget(bits: limitBits).target() } catch { throw fail("powLimitBits: \(error)") }
        guard let bits = Self.parseBits(genesis.bits) else { throw fail("genesis.bits '\(genesis.bits)' is not hex") }
        let target: UInt256
        do { target = try CompactTarget(bits: bits).target() } catch { throw fail("genesis.bits: \(error)") }
        guard !(limit < target) else { throw fail("genesis target is easier than the PoW limit") }
        // Bounded so ASERT's 128-bit intermediates (spacing x height delta x 2^16) cannot overflow.
        guard targetSpacingSeconds > 0, targetSpacingSeconds <= Self.maxTargetSpacingSeconds else {
            throw fail("targetSpacingSeconds must be in 1...\(Self.maxTargetSpacingSeconds)")
        }
        guard asert.halfLifeSeconds > 0, asert.halfLifeSeconds <= Self.maxHalfLifeSeconds else {
            throw fail("asert.halfLifeSeconds must be in 1...\(Self.maxHalfLifeSeconds)")
        }
        guard subsidy.halvingInterval > 0 else { throw fail("subsidy.halvingInterval must be positive") }
        guard Amount(baseUnits: subsidy.initialBaseUnits) != nil else { throw fail("subsidy above the money supply") }
        let relayable = EncodingLimits.maxRelayableBlockBytes
        guard maxBlockBytes > 0, maxBlockBytes <= relayable else {
            throw fail("maxBlockBytes must be in 1...\(relayable), the largest block a block frame carries")
        }
        // Governance must not be able to raise the limit past what peers can receive either.
        if let governedMax = governance.parameters?["maxBlockBytes"]?.max, governedMax > UInt64(relayable) {
            throw fail("governance.parameters.maxBlockBytes.max \(governedMax) exceeds \(relayable), the largest block a block frame carries")
        }
        guard medianTimeSpan > 0, medianTimeSpan % 2 == 1 else { throw fail("medianTimeSpan must be odd and positive") }
        guard finalityDepth > 0 else { throw fail("finalityDepth must be positive") }
        let policy = relayPolicy
        guard policy.maxMempoolMegabytes > 0, policy.mempoolExpiryHours > 0, policy.ancestorLimitCount > 0,
              policy.ancestorLimitKilobytes > 0, policy.descendantLimitCount > 0, policy.descendantLimitKilobytes > 0,
              policy.maxReplacementEvictions > 0, policy.maxOrphanTransactions >= 0 else {
            throw fail("relayPolicy: sizes, counts and the expiry must be positive")
        }
        let block = genesisBlock()
        guard ProofOfWork.meets(block.hash, target: target) else {
            throw fail("genesis block \(block.hash.hex) does not meet its own target \(target.hex)")
        }
        guard block.hash.hex == genesis.hash.lowercased() else {
            throw fail("genesis block hashes to \(block.hash.hex), the file says \(genesis.hash)")
        }
    }
}
