import Primitives
import Testing
import TestSupport

struct CodecTests {
    @Test("transactions, headers and blocks round-trip (property, 500 random values)")
    func roundTrips() throws {
        var rng = SeededGenerator.logged(0xC0DEC)
        for _ in 0..<500 {
            let tx = rng.transaction()
            #expect(try Transaction(decoding: tx.encoded) == tx)
            let header = rng.header()
            #expect(header.encoded.count == 128)
            #expect(try BlockHeader(decoding: header.encoded) == header)
        }
        for size in [1, 2, 5, 40] {
            let block = rng.block(transactions: size)
            #expect(try Block(decoding: block.encoded) == block)
        }
    }

    @Test("ids hashed from the decoded bytes (spans) equal ids of the re-encoded transactions")
    func spans() throws {
        var rng = SeededGenerator.logged(0x5BA5)
        for size in [1, 2, 7, 60] {
            var block = rng.block(transactions: size)
            // Witness items past 252 bytes take the 3-byte CompactSize form.
            block.transactions[0].witnesses[0].append(rng.bytes(300))
            let bytes = block.encoded
            let (decoded, spans) = try Block.decodeWithSpans(bytes)
            #expect(decoded == block && spans.count == block.transactions.count)
            #expect(spans.first?.start == 128 + 1 && spans.last?.end == bytes.count)
            for (index, span) in spans.enumerated() {
                if index > 0 { #expect(span.start == spans[index - 1].end) }
                let ids = bytes.withUnsafeBytes { span.ids(in: $0) }
                #expect(ids.txid == block.transactions[index].txid && ids.wtxid == block.transactions[index].wtxid)
            }
        }
        // The same errors as plain decoding.
        let bytes = rng.block(transactions: 3).encoded
        #expect(throws: (any Error).self) { try Block.decodeWithSpans(bytes + [0]) }
        #expect(throws: (any Error).self) { try Block.decodeWithSpans(Array(bytes.dropLast())) }
    }

    @Test("header layout matches the design: field offsets and little-endian integers")
    func headerLayout() {
        let header = BlockHeader(version: 0x0403_0201, height: 0x0C0B_0A09_0807_0605, previousHash: Hash256(bytes: [UInt8](repeating: 0xAA, count: 32))!,
                                 merkleRoot: Hash256(bytes: [UInt8](repeating: 0xBB, count: 32))!, stateRoot: Hash256(bytes: [UInt8](repeating: 0xCC, count: 32))!,
                                 time: 0x7877_7675_7473_7271, bits: 0x1D00_FFFF, nonce: 0x8887_8685_8483_8281)
        let bytes = header.encoded
        #expect(Array(bytes[0..<4]) == [1, 2, 3, 4])
        #expect(Array(bytes[4..<12]) == [5, 6, 7, 8, 9, 10, 11, 12])
        #expect(bytes[12..<44].allSatisfy { $0 == 0xAA })
        #expect(bytes[44..<76].allSatisfy { $0 == 0xBB })
        #expect(bytes[76..<108].allSatisfy { $0 == 0xCC })
        #expect(Array(bytes[108..<116]) == [0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78])
        #expect(Array(bytes[116..<120]) == [0xFF, 0xFF, 0x00, 0x1D])
        #expect(Array(bytes[120..<128]) == [0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88])
    }

    @Test("txid excludes witnesses, wtxid includes them")
    func txidAndWtxid() {
        var rng = SeededGenerator.logged(9)
        var tx = rng.transaction()
        let txid = tx.txid, wtxid = tx.wtxid
        tx.witnesses[0].append([1, 2, 3])
        #expect(tx.txid == txid)
        #expect(tx.wtxid != wtxid)
        tx.lockTime &+= 1
        #expect(tx.txid != txid)
    }

    @Test("CompactSize: minimal encodings round-trip at every size boundary")
    func compactSizeBoundaries() throws {
        for value: UInt64 in [0, 1, 0xFC, 0xFD, 0xFFFF, 0x1_0000, 0xFFFF_FFFF, 0x1_0000_0000, .max] {
            var writer = ByteWriter()
            writer.writeCompactSize(value)
            #expect(writer.bytes.count == ByteWriter.compactSizeLength(value))
            var reader = ByteReader(writer.bytes)
            #expect(try reader.readCompactSize("n", limit: .max) == value)
            #expect(reader.isAtEnd)
        }
    }

    @Test("malformed encodings are rejected with the right error, field and offset")
    func malformedCorpus() throws {
        var rng = SeededGenerator.logged(4)
        let tx = Transaction(inputs: [TxIn(previousOutput: OutPoint(txid: rng.hash(), index: 0))],
                             outputs: [TxOut(value: Amount.coins(1)!, lockScript: [0x51])])
        let good = tx.encoded

        // Truncated anywhere: always `truncated`, never a crash.
        for cut in 0..<good.count {
            #expect(throws: DecodingError.self) { try Transaction(decoding: Array(good[0..<cut])) }
        }
        // The input count is checked against the bytes left before any input is read...
        #expect(throws: DecodingError.truncated(field: "Transaction.input_count", offset: 4, needed: 40, available: 34)) {
            try Transaction(decoding: Array(good[0..<39]))
        }
        // ...and a field cut short is named with its path and offset.
        #expect(throws: DecodingError.truncated(field: "Transaction.lock_time", offset: 56, needed: 8, available: 4)) {
            try Transaction(decoding: Array(good[0..<60]))
        }
        // Trailing bytes.
        #expect(throws: DecodingError.trailingBytes(field: "Transaction.end", offset: good.count, count: 1)) {
            try Transaction(decoding: good + [0])
        }
        // Non-minimal input count: 0xFD 0x01 0x00 instead of 0x01.
        let nonMinimal = Array(good[0..<4]) + [0xFD, 0x01, 0x00] + Array(good[5...])
        #expect(throws: DecodingError.nonMinimalCompactSize(field: "Transaction.input_count", offset: 4, value: 1)) {
            try Transaction(decoding: nonMinimal)
        }
        // A count claiming more inputs than the bytes could hold: rejected before allocating.
        let hugeCount = Array(good[0..<4]) + [0xFE, 0xFF, 0xFF, 0x0F, 0x00] + Array(good[5...])
        #expect(throws: DecodingError.self) { try Transaction(decoding: hugeCount) }
        // A count beyond the hard limit.
        let overLimit = Array(good[0..<4]) + [0xFF] + [UInt8](repeating: 0xFF, count: 8)
        #expect(throws: DecodingError.countTooLarge(field: "Transaction.input_count", offset: 4, count: .max, limit: EncodingLimits.maxInputs)) {
            try Transaction(decoding: overLimit)
        }
        // An amount above the money supply.
        var badValue = good
        let valueOffset = 4 + 1 + 40 + 1
        for i in 0..<8 { badValue[valueOffset + i] = 0xFF }
        #expect(throws: DecodingError.invalidValue(field: "Transaction.output[0].value", offset: valueOffset,
                                                   reason: "18446744073709551615 base units exceeds the money supply")) {
            try Transaction(decoding: badValue)
        }
        // A script longer than the limit.
        var writer = ByteWriter()
        writer.write(UInt32(1)); writer.writeCompactSize(1); tx.inputs[0].encode(to: &writer)
        writer.writeCompactSize(1); writer.write(UInt64(0)); writer.writeCompactSize(UInt64(EncodingLimits.maxScriptBytes + 1))
        #expect(throws: DecodingError.countTooLarge(field: "Transaction.output[0].lock_script", offset: writer.bytes.count - 3,
                                                    count: UInt64(EncodingLimits.maxScriptBytes + 1), limit: UInt64(EncodingLimits.maxScriptBytes))) {
            try Transaction(decoding: writer.bytes)
        }
        // A header one byte short, and a block whose transaction count exceeds its bytes.
        let header = rng.header().encoded
        #expect(throws: DecodingError.truncated(field: "BlockHeader.nonce", offset: 120, needed: 8, available: 7)) {
            try BlockHeader(decoding: Array(header[0..<127]))
        }
        #expect(throws: DecodingError.truncated(field: "Block.tx_count", offset: 128, needed: 1000 * 14, available: 0)) {
            try Block(decoding: header + [0xFD, 0xE8, 0x03])
        }
    }

    @Test("random byte strings and mutated valid encodings never crash the decoder")
    func fuzzDecoder() {
        var rng = SeededGenerator.logged(0xF022)
        let block = rng.block(transactions: 3).encoded
        for round in 0..<20_000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = rng.bytes(Int.random(in: 0...400, using: &rng))
            } else {
                bytes = block
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                }
                if Bool.random(using: &rng) { bytes = Array(bytes[0..<Int.random(in: 0...bytes.count, using: &rng)]) }
            }
            _ = try? Block(decoding: bytes)
            _ = try? Transaction(decoding: bytes)
            _ = try? MerkleProof(decoding: bytes)
        }
    }

    @Test("ByteReader: a negative length, and counts whose byte size overflows Int, are errors, not traps")
    func readerLengthEdges() throws {
        var reader = ByteReader([1, 2, 3], path: "t")
        #expect(throws: DecodingError.invalidValue(field: "t.x", offset: 0, reason: "negative length -1")) { try reader.readBytes(-1, "x") }
        // A u64 count of 2^62 + 1 items (the limit allows it) with items of 2 bytes: the needed
        // byte count overflows Int and is reported saturated.
        var huge = ByteReader([0xFF, 1, 0, 0, 0, 0, 0, 0, 0x40], path: "t")
        #expect(throws: DecodingError.truncated(field: "t.n", offset: 0, needed: Int.max, available: 0)) {
            try huge.readCount("n", limit: .max, minimumItemSize: 2)
        }
        // Above Int.max the count is over the (clamped) limit.
        var above = ByteReader([0xFF, 0, 0, 0, 0, 0, 0, 0, 0x80], path: "t")
        #expect(throws: DecodingError.countTooLarge(field: "t.n", offset: 0, count: 1 << 63, limit: UInt64(Int.max))) {
            try above.readCount("n", limit: .max, minimumItemSize: 0)
        }
    }

    @Test("amounts: checked arithmetic at the edges of the money range")
    func amounts() {
        let max = Amount.maxMoney
        #expect(Amount(baseUnits: max.baseUnits + 1) == nil)
        #expect(max.adding(Amount(baseUnits: 1)!) == nil)
        #expect(Amount.zero.subtracting(Amount(baseUnits: 1)!) == nil)
        #expect(Amount.sum([max, .zero]) == max)
        #expect(Amount.sum([max, Amount(baseUnits: 1)!]) == nil)
        #expect(Amount.coins(UInt64.max) == nil)
        #expect(Amount.coins(500)!.description == "500.00000000")
        #expect(Amount(baseUnits: 1)!.description == "0.00000001")
    }
}
