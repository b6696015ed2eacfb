import FuzzSupport
import Primitives

/// Transaction decoding. Decoding is documented as canonical (docs/PROTOCOL.md): whatever
/// decodes must encode back to exactly the input, and the ids hashed from one encoding pass
/// must equal the ones hashed separately.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTransaction(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    let transaction: Transaction
    do {
        transaction = try Transaction(decoding: bytes)
    } catch {
        checkDecodingError(error, input: bytes)
        // Inside a one-transaction block the same bytes fail the same way, 129 bytes later
        // (once there are enough bytes for the block's count check to pass).
        if bytes.count >= 14 {
            let block = [UInt8](repeating: 0, count: BlockHeader.encodedLength) + [1] + bytes
            do {
                _ = try Block.decodeWithSpans(block)
                fuzzFail("a block accepts a transaction that alone is rejected: \(error)")
            } catch let blockError {
                let shifted = errorShape(error, shift: BlockHeader.encodedLength + 1)
                fuzzCheck(errorShape(blockError) == shifted, "alone: \(shifted); in a block: \(errorShape(blockError))")
            }
        }
        return 0
    }
    fuzzCheck(transaction.encoded == bytes, "decode→encode is not the identity")
    fuzzCheck(transaction.witnesses.count == transaction.inputs.count, "one witness stack per input")
    let base = transaction.baseEncoding
    fuzzCheck(bytes.starts(with: base), "the witness-free encoding is not a prefix of the full one")
    let ids = transaction.ids
    fuzzCheck(ids.txid == transaction.txid && ids.wtxid == transaction.wtxid, "ids differ from txid/wtxid")
    // A transaction is also a valid block body item: its span inside a one-transaction block.
    var block = [UInt8](repeating: 0, count: BlockHeader.encodedLength)
    block.append(1)
    block += bytes
    do {
        let (decoded, spans) = try Block.decodeWithSpans(block)
        fuzzCheck(decoded.transactions == [transaction], "the transaction decodes differently inside a block")
        let spanIDs = block.withUnsafeBytes { spans[0].ids(in: $0) }
        fuzzCheck(spanIDs.txid == ids.txid && spanIDs.wtxid == ids.wtxid, "span ids differ from the transaction's")
        fuzzCheck(spans[0].witnessStart - spans[0].start == base.count, "span's witness start is not the base length")
    } catch {
        fuzzFail("a valid transaction in a one-transaction block fails to decode: \(error)")
    }
    return 0
}
