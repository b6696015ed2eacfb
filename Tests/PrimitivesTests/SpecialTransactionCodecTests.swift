import Primitives
import Testing

/// PROTOCOL section 16.1: the payload of a special transaction in the encoding.
struct SpecialTransactionCodecTests {
    static let input = TxIn(previousOutput: OutPoint(txid: Hash256(bytes: [UInt8](repeating: 0x11, count: 32))!, index: 1))
    static let output = TxOut(value: Amount(baseUnits: 5_000)!, lockScript: [0x6A, 0x01, 0x02])

    static func special(_ payload: [UInt8]) -> Transaction {
        var transaction = Transaction(special: .masternodeRevoke, payload: payload, inputs: [input], outputs: [output], lockTime: 7)
        transaction.witnesses = [[[0xAA, 0xBB]]]
        return transaction
    }

    /// Section 3's encoding of `special([])` without the payload field, assembled by hand.
    static func base(version: UInt32) -> [UInt8] {
        var writer = ByteWriter()
        writer.write(version)
        writer.write(UInt8(1))
        input.encode(to: &writer)
        writer.write(UInt8(1))
        output.encode(to: &writer)
        writer.write(UInt64(7))
        return writer.bytes
    }

    @Test("a special transaction is version (type << 16 | 1), then the payload after lock_time, then the witnesses")
    func layout() throws {
        let payload: [UInt8] = [1, 2, 3, 4, 5]
        let transaction = Self.special(payload)
        #expect(transaction.version == 0x0004_0001 && transaction.rawSpecialType == 4 && transaction.specialType == .masternodeRevoke)
        let expected = Self.base(version: 0x0004_0001) + [5] + payload + [1, 2, 0xAA, 0xBB]
        #expect(transaction.encoded == expected)
        #expect(transaction.baseEncoding == Self.base(version: 0x0004_0001) + [5] + payload)
        #expect(try Transaction(decoding: expected) == transaction)
        // An empty payload is still present: one zero byte.
        #expect(Self.special([]).baseEncoding == Self.base(version: 0x0004_0001) + [0])
    }

    @Test("the txid covers the payload; the witnesses start after it")
    func txidCoversPayload() throws {
        let one = Self.special([1, 2, 3]), other = Self.special([1, 2, 4])
        #expect(one.txid != other.txid)
        var rewitnessed = one
        rewitnessed.witnesses = [[[0xCC]]]
        #expect(rewitnessed.txid == one.txid && rewitnessed.wtxid != one.wtxid)
        #expect(one.ids.txid == one.txid && one.ids.wtxid == one.wtxid)

        let coinbase = Transaction(inputs: [TxIn(previousOutput: .null)], outputs: [Self.output], lockTime: 1)
        let header = BlockHeader(version: 1, height: 1, previousHash: .zero, merkleRoot: .zero, stateRoot: .zero, time: 0, bits: 0, nonce: 0)
        let bytes = Block(header: header, transactions: [coinbase, one]).encoded
        let (block, spans) = try Block.decodeWithSpans(bytes)
        #expect(block.transactions[1] == one)
        let span = spans[1]
        #expect(Array(bytes[span.start..<span.witnessStart]) == one.baseEncoding)
        #expect(Array(bytes[span.witnessStart..<span.end]) == [1, 2, 0xAA, 0xBB])
        let ids = bytes.withUnsafeBytes { span.ids(in: $0) }
        #expect(ids.txid == one.txid && ids.wtxid == one.wtxid)
    }

    @Test("an ordinary transaction has no payload field: its encoding is unchanged byte for byte")
    func ordinaryUnchanged() throws {
        for version: UInt32 in [1, 2, 0xFFFF] {
            var transaction = Transaction(version: version, inputs: [Self.input], outputs: [Self.output], lockTime: 7)
            transaction.witnesses = [[[0xAA, 0xBB]]]
            #expect(!transaction.isSpecial && transaction.specialType == nil)
            #expect(transaction.encoded == Self.base(version: version) + [1, 2, 0xAA, 0xBB])
            let decoded = try Transaction(decoding: transaction.encoded)
            #expect(decoded == transaction && decoded.payload.isEmpty)
        }
    }

    @Test("payload decoding: truncated, over the limit, and unknown types still decode (the rules refuse them)")
    func payloadDecoding() throws {
        let encoded = Self.special([1, 2, 3]).encoded
        let payloadOffset = Self.base(version: 0x0004_0001).count
        var truncated = Array(encoded.prefix(payloadOffset + 2))
        #expect(throws: DecodingError.self) { try Transaction(decoding: truncated) }
        truncated = Array(encoded.prefix(payloadOffset))
        #expect(throws: DecodingError.self) { try Transaction(decoding: truncated) }
        // A length of 100,001 (0xFD can only say 65,535; 0xFE + u32) is over the limit, before any allocation.
        var oversized = Self.base(version: 0x0004_0001) + [0xFE] + withUnsafeBytes(of: UInt32(EncodingLimits.maxSpecialPayloadBytes + 1).littleEndian, Array.init)
        oversized += [UInt8](repeating: 0, count: 16)
        do {
            _ = try Transaction(decoding: oversized)
            Issue.record("an oversized payload decoded")
        } catch let error as DecodingError {
            guard case .countTooLarge = error else { Issue.record("\(error)"); return }
        }
        // Type 0x7777 decodes (the context-free rule tx-special-type refuses it).
        var unknown = Self.special([9])
        unknown.version = 0x7777_0001
        let decoded = try Transaction(decoding: unknown.encoded)
        #expect(decoded.rawSpecialType == 0x7777 && decoded.specialType == nil && decoded.payload == [9])
    }
}
