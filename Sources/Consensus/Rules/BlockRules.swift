import Primitives

/// Checks that need nothing but the block itself (they run in parallel in bulk
/// verification). The transaction ids and the witness root are computed once and returned
/// for later stages: the state root also commits to the chain state's extension root
/// (the masternode list after the block), so it is checked when the block is connected
/// (`checkStateRoot(_:witnessRoot:extensionRoot:)`).
public enum ContextFreeRules {
    public struct Checked: Sendable {
        public var txids: [Hash256]
        public var encodedSize: Int
        /// Merkle root of the witness ids: half of the header's state root.
        public var witnessRoot: Hash256
    }

    /// `encoded` and `spans` (from `Block.decodeWithSpans`), when given, let the ids be hashed
    /// from the block's own bytes instead of encoding every transaction again.
    /// The Merkle and state roots come from `Merkle.root(of:)` (the CPU backend, which cannot fail).
    public static func check(_ block: Block, encodedSize: Int, parameters: ConsensusParameters,
                             encoded: [UInt8]? = nil, spans: [TransactionSpan]? = nil) throws(Rejection) -> Checked {
        let (txids, wtxids) = try checkTransactions(block, encodedSize: encodedSize, parameters: parameters, encoded: encoded, spans: spans)
        guard Merkle.root(of: txids) == block.header.merkleRoot else { throw Rejection(.blockMerkleRoot) }
        return Checked(txids: txids, encodedSize: encodedSize, witnessRoot: Merkle.root(of: wtxids))
    }

    /// The same rules with the roots from `merkle` (e.g. an OpenCL backend). Throws a
    /// `Rejection`, or the backend's own error when it could not compute a root.
    public static func check(_ block: Block, encodedSize: Int, parameters: ConsensusParameters,
                             encoded: [UInt8]? = nil, spans: [TransactionSpan]? = nil,
                             merkle: any MerkleRootBackend) throws -> Checked {
        let (txids, wtxids) = try checkTransactions(block, encodedSize: encodedSize, parameters: parameters, encoded: encoded, spans: spans)
        guard try merkle.root(of: txids) == block.header.merkleRoot else { throw Rejection(.blockMerkleRoot) }
        return Checked(txids: txids, encodedSize: encodedSize, witnessRoot: try merkle.root(of: wtxids))
    }

    /// Every rule before the roots; returns the transaction ids and witness ids.
    static func checkTransactions(_ block: Block, encodedSize: Int, parameters: ConsensusParameters,
                                  encoded: [UInt8]?, spans: [TransactionSpan]?) throws(Rejection) -> ([Hash256], [Hash256]) {
        try checkBlockSize(encodedSize, limit: parameters.maxBlockBytesCeiling)
        try checkProofOfWork(block.header, parameters: parameters)
        guard let coinbase = block.transactions.first else { throw Rejection(.blockNoTransactions) }
        guard coinbase.isCoinbase else { throw Rejection(.blockFirstNotCoinbase, transaction: 0) }
        var txids = [Hash256]()
        txids.reserveCapacity(block.transactions.count)
        var wtxids = [Hash256]()
        wtxids.reserveCapacity(block.transactions.count)
        var seen = Set<Hash256>(minimumCapacity: block.transactions.count)
        for (index, transaction) in block.transactions.enumerated() {
            if index > 0 && transaction.isCoinbase { throw Rejection(.blockExtraCoinbase, transaction: index) }
            do { try TransactionRules.checkContextFree(transaction, isCoinbase: index == 0) } catch { throw error.at(transaction: index) }
            let (txid, wtxid): (Hash256, Hash256)
            // Spans describe `encoded` transaction by transaction; any other count is not used.
            if let encoded, let spans, spans.count == block.transactions.count, spans[index].start >= 0, spans[index].end <= encoded.count,
               spans[index].start <= spans[index].witnessStart, spans[index].witnessStart <= spans[index].end {
                (txid, wtxid) = encoded.withUnsafeBytes { spans[index].ids(in: $0) }
            } else {
                (txid, wtxid) = transaction.ids
            }
            guard seen.insert(txid).inserted else { throw Rejection(.blockDuplicateTxid, txid.hex, transaction: index) }
            txids.append(txid)
            wtxids.append(wtxid)
        }
        return (txids, wtxids)
    }

    /// The size rule against `limit`: the ceiling here, the limit in force at the block's
    /// height when it connects (PROTOCOL section 18.6).
    public static func checkBlockSize(_ encodedSize: Int, limit: Int) throws(Rejection) {
        guard encodedSize <= limit else { throw Rejection(.blockSize, "\(encodedSize) bytes, limit \(limit)") }
    }

    /// The header's state root against the block's witness root and the extension root of
    /// the chain state after the block (zero while that state is empty).
    public static func checkStateRoot(_ header: BlockHeader, witnessRoot: Hash256, extensionRoot: Hash256) throws(Rejection) {
        let stateRoot = DomainKeys.stateRoot(witnessRoot: witnessRoot, extensionRoot: extensionRoot)
        guard stateRoot == header.stateRoot else {
            throw Rejection(.blockStateRoot, extensionRoot == .zero ? "" : "with extension root \(extensionRoot.hex)")
        }
    }

    public static func checkProofOfWork(_ header: BlockHeader, parameters: ConsensusParameters) throws(Rejection) {
        let target: UInt256
        do { target = try header.compactTarget.target() } catch { throw Rejection(.headerBits, "\(error)") }
        guard !(parameters.powLimit < target) else { throw Rejection(.headerBits, "target above the PoW limit") }
        guard ProofOfWork.meets(header.hash, target: target) else { throw Rejection(.headerPow, "hash above target") }
    }
}

/// Rules about one header given its parent and the chain before it.
public enum HeaderRules {
    public static let version: UInt32 = 1

    /// `recentTimes`: times of the parent and up to `medianTimeSpan - 1` blocks before it.
    public static func check(_ header: BlockHeader, parentHash: Hash256, parentHeight: UInt64, parentTime: UInt64,
                             recentTimes: [UInt64], now: UInt64, parameters: ConsensusParameters) throws(Rejection) {
        guard header.version >= version else { throw Rejection(.headerVersion, "version \(header.version)") }
        guard header.previousHash == parentHash else { throw Rejection(.headerPrevHash) }
        guard header.height == parentHeight &+ 1, parentHeight < UInt64.max else {
            throw Rejection(.headerHeight, "height \(header.height), parent \(parentHeight)")
        }
        let required = parameters.requiredBits(parentHeight: parentHeight, parentTime: parentTime)
        guard header.bits == required else {
            throw Rejection(.headerBitsAsert, "bits \(CompactTarget(bits: header.bits)), ASERT requires \(CompactTarget(bits: required))")
        }
        let median = medianTime(recentTimes)
        guard header.time > median else { throw Rejection(.headerTimeTooOld, "time \(header.time) <= median \(median)") }
        // Saturating: a clock near 2^64 must not wrap the bound to a small value.
        let (latest, overflow) = now.addingReportingOverflow(parameters.maxFutureBlockTime)
        guard overflow || header.time <= latest else {
            throw Rejection(.headerTimeTooNew, "time \(header.time) more than \(parameters.maxFutureBlockTime) s ahead of \(now)")
        }
    }

    /// Median of the given times (the median-time-past of the last 11 blocks).
    public static func medianTime(_ times: [UInt64]) -> UInt64 {
        guard !times.isEmpty else { return 0 }
        let sorted = times.sorted()
        return sorted[sorted.count / 2]
    }
}
