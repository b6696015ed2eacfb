import ChainParams
import Consensus
import FuzzSupport
import Primitives

let parameters = try! ConsensusParameters(ChainParameters.builtIn("regtest"))

/// Block decoding and the context-free rules: canonical round trip, transaction spans that
/// tile the encoding, and the rules giving the same verdict whether the ids are hashed from
/// the block's bytes (the pipeline's path) or from each transaction encoded again.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBlock(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    let block: Block, spans: [TransactionSpan]
    do {
        (block, spans) = try Block.decodeWithSpans(bytes)
    } catch {
        checkDecodingError(error, input: bytes)
        // Both decoding entry points refuse the same way (same kind, same place).
        do {
            _ = try Block(decoding: bytes)
            fuzzFail("Block(decoding:) accepts what decodeWithSpans rejects: \(error)")
        } catch let other {
            fuzzCheck(errorShape(other) == errorShape(error), "decodeWithSpans: \(error); Block(decoding:): \(other)")
        }
        return 0
    }
    fuzzCheck(block.encoded == bytes, "decode→encode is not the identity")
    fuzzCheck((try? Block(decoding: bytes)) == block, "Block(decoding:) and decodeWithSpans disagree")
    checkSpans(block, spans, bytes)
    compareRules(block, bytes, spans)

    // Random bytes almost never carry the right Merkle and state roots, which stops the rules
    // at the first commitment check: recompute both so the per-transaction rules run too.
    var sealed = block
    sealed.header.merkleRoot = sealed.computeMerkleRoot()
    sealed.header.stateRoot = sealed.computeStateRoot()
    let sealedBytes = sealed.encoded
    guard let (again, sealedSpans) = try? Block.decodeWithSpans(sealedBytes) else {
        fuzzFail("a re-encoded block fails to decode")
    }
    fuzzCheck(again == sealed, "a re-encoded block decodes differently")
    compareRules(sealed, sealedBytes, sealedSpans)
    return 0
}

/// Spans must cover the transactions back to back, from after the count to the end.
func checkSpans(_ block: Block, _ spans: [TransactionSpan], _ bytes: [UInt8]) {
    fuzzCheck(spans.count == block.transactions.count, "\(spans.count) spans for \(block.transactions.count) transactions")
    var position = BlockHeader.encodedLength + ByteWriter.compactSizeLength(UInt64(spans.count))
    for (index, span) in spans.enumerated() {
        let transaction = block.transactions[index]
        fuzzCheck(span.start == position && span.start <= span.witnessStart && span.witnessStart <= span.end,
                  "span \(index) \(span) does not follow byte \(position)")
        fuzzCheck(Array(bytes[span.start..<span.end]) == transaction.encoded, "span \(index) is not the transaction's encoding")
        fuzzCheck(Array(bytes[span.start..<span.witnessStart]) == transaction.baseEncoding, "span \(index) base part differs")
        let ids = bytes.withUnsafeBytes { span.ids(in: $0) }
        let direct = transaction.ids
        fuzzCheck(ids.txid == direct.txid && ids.wtxid == direct.wtxid, "span \(index) ids differ")
        position = span.end
    }
    fuzzCheck(position == bytes.count, "spans end at \(position), the block at \(bytes.count)")
}

func compareRules(_ block: Block, _ bytes: [UInt8], _ spans: [TransactionSpan]) {
    let fromBytes = Result { () throws(Rejection) in
        try ContextFreeRules.check(block, encodedSize: bytes.count, parameters: parameters, encoded: bytes, spans: spans)
    }
    let reencoded = Result { () throws(Rejection) in
        try ContextFreeRules.check(block, encodedSize: bytes.count, parameters: parameters)
    }
    switch (fromBytes, reencoded) {
    case let (.success(a), .success(b)):
        fuzzCheck(a.txids == b.txids && a.encodedSize == b.encodedSize, "the two id paths give different txids")
        fuzzCheck(a.witnessRoot == b.witnessRoot, "the two id paths give different witness roots")
        fuzzCheck(a.witnessRoot == Merkle.root(of: block.transactions.map(\.wtxid)), "the witness root is not the wtxids' root")
        fuzzCheck(a.txids == block.transactions.map(\.txid), "checked txids are not the transactions' txids")
        fuzzCheck(Merkle.root(of: a.txids) == block.header.merkleRoot, "accepted with a wrong Merkle root")
        fuzzCheck(Set(a.txids).count == a.txids.count, "accepted duplicate txids")
        fuzzCheck(block.transactions.first?.isCoinbase == true, "accepted without a coinbase first")
        fuzzCheck(block.transactions.dropFirst().allSatisfy { !$0.isCoinbase }, "accepted a second coinbase")
    case let (.failure(a), .failure(b)):
        fuzzCheck(a == b, "different rejections: \(a) vs \(b)")
    default:
        fuzzFail("one id path accepts, the other rejects: \(fromBytes) vs \(reencoded)")
    }
}
