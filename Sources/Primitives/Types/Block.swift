import BLAKE3

/// A block: header, then a CompactSize transaction count and the transactions in full
/// (witness) encoding.
public struct Block: Hashable, Sendable, BinaryCodable {
    public var header: BlockHeader
    public var transactions: [Transaction]

    /// Smallest possible transaction: version, one-byte counts, lock time.
    static let minimumTransactionLength = 4 + 1 + 1 + 8

    public init(header: BlockHeader, transactions: [Transaction]) {
        self.header = header
        self.transactions = transactions
    }

    public var hash: Hash256 { header.hash }

    public func encode(to writer: inout ByteWriter) {
        header.encode(to: &writer)
        writer.writeCompactSize(UInt64(transactions.count))
        for transaction in transactions { transaction.encode(to: &writer) }
    }

    public static func decode(from reader: inout ByteReader) throws -> Block {
        var spans: [TransactionSpan]? = nil
        return try decode(from: &reader, spans: &spans)
    }

    /// Decodes a whole encoded block and reports where each transaction lies in `bytes`
    /// (for hashing the ids from the bytes already in hand).
    public static func decodeWithSpans(_ bytes: [UInt8]) throws -> (block: Block, spans: [TransactionSpan]) {
        var reader = ByteReader(bytes, path: "Block")
        var spans: [TransactionSpan]? = []
        let block = try decode(from: &reader, spans: &spans)
        try reader.expectEnd("end")
        return (block, spans!)
    }

    static func decode(from reader: inout ByteReader, spans: inout [TransactionSpan]?) throws -> Block {
        if reader.remaining > EncodingLimits.maxBlockBytes {
            throw DecodingError.countTooLarge(field: reader.path.isEmpty ? "block" : reader.path, offset: reader.offset,
                                              count: UInt64(reader.remaining), limit: UInt64(EncodingLimits.maxBlockBytes))
        }
        let header = try reader.within("header") { try BlockHeader.decode(from: &$0) }
        let count = try reader.readCount("tx_count", limit: EncodingLimits.maxTransactions,
                                         minimumItemSize: minimumTransactionLength)
        var transactions = [Transaction]()
        transactions.reserveCapacity(count)
        spans?.reserveCapacity(count)
        for index in 0..<count {
            let start = reader.offset
            var witnessStart = 0
            transactions.append(try reader.within("tx", index: index) { try Transaction.decode(from: &$0, witnessStart: &witnessStart) })
            spans?.append(TransactionSpan(start: start, witnessStart: witnessStart, end: reader.offset))
        }
        return Block(header: header, transactions: transactions)
    }

    /// Merkle root over txids (what `header.merkleRoot` must equal).
    public func computeMerkleRoot(level: BLAKE3Level = .default) -> Hash256 {
        Merkle.root(of: transactions.map(\.txid), level: level)
    }

    /// state_root = keyed_hash(K_state, witness_root || extension_root); the extension root
    /// is all zeros until the masternode, governance and peg state lands.
    public func computeStateRoot(extensionRoot: Hash256 = .zero, level: BLAKE3Level = .default) -> Hash256 {
        let witnessRoot = Merkle.root(of: transactions.map(\.wtxid), level: level)
        return DomainKeys.stateRoot(witnessRoot: witnessRoot, extensionRoot: extensionRoot)
    }
}
