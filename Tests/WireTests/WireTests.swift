import BLAKE3
import Primitives
import TestSupport
import Wire
import XCTest

let regtest: [UInt8] = [0xFA, 0x1C, 0xE0, 0xDE]

/// A frame built by hand, with any field wrong on purpose. The checksum defaults to the right one.
func rawFrame(magic: [UInt8] = regtest, command: [UInt8], length: UInt32? = nil, checksum: [UInt8]? = nil,
              payload: [UInt8]) -> [UInt8] {
    let padded = command + [UInt8](repeating: 0, count: max(0, 12 - command.count))
    let length = length ?? UInt32(payload.count)
    let lengthBytes = (0..<4).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) }
    return magic + padded + lengthBytes + (checksum ?? Array(BLAKE3.hash(payload).prefix(4))) + payload
}

func rawFrame(_ command: String, payload: [UInt8], length: UInt32? = nil, checksum: [UInt8]? = nil) -> [UInt8] {
    rawFrame(command: Array(command.utf8), length: length, checksum: checksum, payload: payload)
}

/// What a fresh FrameReader makes of `bytes` fed at once: the messages, then the error if any.
func readAll(_ bytes: [UInt8]) -> (messages: [Message], error: WireError?) {
    var reader = FrameReader(magic: regtest)
    reader.append(bytes)
    var messages = [Message]()
    do {
        while let message = try reader.next() { messages.append(message) }
        return (messages, nil)
    } catch {
        return (messages, error)
    }
}

func decodeError(_ command: String, _ payload: [UInt8]) -> WireError? {
    do {
        _ = try Message.decode(command: command, payload: payload)
        return nil
    } catch {
        return error
    }
}

func compactSize(_ value: UInt64) -> [UInt8] {
    var writer = ByteWriter()
    writer.writeCompactSize(value)
    return writer.bytes
}

final class WireTests: XCTestCase {
    // MARK: round trips

    func testEveryMessageRoundTripsThroughPayloadAndFrame() throws {
        var rng = SeededGenerator(testSeed: 0x3172E)
        for _ in 0..<20 {
            for kind in Message.knownCommands.indices {
                let message = rng.message(kind: kind)
                XCTAssertEqual(message.command, Message.knownCommands[kind])
                let payload = message.encodePayload()
                XCTAssertLessThanOrEqual(payload.count, WireLimits.maxPayload(forCommand: message.command), message.command)
                XCTAssertEqual(try Message.decode(command: message.command, payload: payload), message)
                let frame = Frame.encode(message, magic: regtest)
                XCTAssertEqual(frame.count, WireLimits.headerSize + payload.count)
                let header = try FrameHeader.parse(frame.prefix(24), magic: regtest)
                XCTAssertEqual(header.command, message.command)
                XCTAssertEqual(Int(header.length), payload.count)
                XCTAssertNoThrow(try header.verify(payload: frame.dropFirst(24)))
                let (messages, error) = readAll(frame)
                XCTAssertNil(error)
                XCTAssertEqual(messages, [message])
            }
        }
    }

    func testLargestMessagesFitTheirLimits() throws {
        var rng = SeededGenerator(testSeed: 0x11A1)
        let largest: [Message] = [
            .addr((0..<WireLimits.maxAddresses).map { _ in TimedAddress(time: rng.next(), address: rng.netAddress()) }),
            .inv(rng.inventory(WireLimits.maxInventory)),
            .getdata(rng.inventory(WireLimits.maxGetData)),
            .getheaders(locator: (0..<WireLimits.maxLocator).map { _ in rng.hash256() }, stop: rng.hash256()),
            .headers((0..<WireLimits.maxHeaders).map { _ in rng.wireHeader() }),
            .version(VersionMessage(services: 1, timestamp: 0, receiver: .none, sender: .none, nonce: 0,
                                    userAgent: String(repeating: "x", count: WireLimits.maxUserAgent), bestHeight: 0, relay: true)),
        ]
        for message in largest {
            let (messages, error) = readAll(Frame.encode(message, magic: regtest))
            XCTAssertNil(error, message.command)
            XCTAssertEqual(messages, [message])
        }
    }

    // MARK: known answers

    // Checksums computed independently of this code with the b3sum tool:
    //   printf '' | b3sum                                  -> af1349b9f5f9...
    //   printf '\xef\xcd\xab\x89\x67\x45\x23\x01' | b3sum  -> 02eb35850746...
    // The same frames are in docs/PROTOCOL.md section 12.7.
    static let verackFrame = "fa1ce0de" + "76657261636b000000000000" + "00000000" + "af1349b9"
    static let pingFrame = "fa1ce0de" + "70696e670000000000000000" + "08000000" + "02eb3585" + "efcdab8967452301"

    func testKnownAnswerFrames() throws {
        XCTAssertEqual(HexCoding.encode(Frame.encode(.verack, magic: regtest)), Self.verackFrame)
        XCTAssertEqual(HexCoding.encode(Frame.encode(.ping(0x0123_4567_89AB_CDEF), magic: regtest)), Self.pingFrame)
        let stream = HexCoding.decode(Self.verackFrame + Self.pingFrame)!
        let (messages, error) = readAll(stream)
        XCTAssertNil(error)
        XCTAssertEqual(messages, [.verack, .ping(0x0123_4567_89AB_CDEF)])
    }

    // MARK: frame header rejections

    func testBadMagic() {
        let frame = Frame.encode(.verack, magic: [0x52, 0x55, 0x53, 0x54])
        XCTAssertEqual(readAll(frame).error, .badMagic(expected: regtest, got: [0x52, 0x55, 0x53, 0x54]))
        XCTAssertEqual(WireError.badMagic(expected: regtest, got: [1, 2, 3, 4]).reason, "bad-magic")
    }

    func testBadCommandBytes() {
        let bad: [[UInt8]] = [
            [],                                              // empty (all NUL)
            Array("pi ng".utf8),                             // space is below 0x21
            Array("ping".utf8) + [0x7F],                     // DEL
            Array("ping".utf8) + [0x80],                     // not ASCII
            Array("ping".utf8) + [0, 0x78],                  // non-NUL after the padding starts
            [0] + Array("ping".utf8),                        // padding first
        ]
        for command in bad {
            let frame = rawFrame(command: command, payload: [])
            let padded = command + [UInt8](repeating: 0, count: 12 - command.count)
            XCTAssertEqual(readAll(frame).error, .badCommand(padded), HexCoding.encode(command))
        }
        // Twelve printable bytes, no padding at all, is a valid (unknown) command.
        let full = rawFrame(command: Array("abcdefghijkl".utf8), payload: [1, 2, 3])
        XCTAssertEqual(readAll(full).messages, [.unknown(command: "abcdefghijkl")])
    }

    func testOversizedPerCommandFromTheHeaderAlone() throws {
        let cases: [(String, Int)] = [
            ("version", 1_000), ("verack", 0), ("getaddr", 0), ("sendheaders", 0), ("mempool", 0),
            ("ping", 8), ("pong", 8), ("feefilter", 8), ("addr", 34_009), ("inv", 1_800_009),
            ("getdata", 36_009), ("notfound", 36_009), ("getheaders", 3_277), ("headers", 256_009),
            ("block", 32_001_000), ("tx", 4_001_000), ("someday", 4_001_000),
        ]
        for (command, limit) in cases {
            XCTAssertEqual(WireLimits.maxPayload(forCommand: command), limit, command)
            // One byte over: refused with only the 24 header bytes in hand.
            let header = Array(rawFrame(command, payload: [], length: UInt32(limit + 1)).prefix(24))
            XCTAssertThrowsError(try FrameHeader.parse(header, magic: regtest)) {
                XCTAssertEqual($0 as? WireError, .oversized(command: command, length: UInt32(limit + 1), limit: limit))
            }
            // Exactly the limit passes the header check.
            let atLimit = Array(rawFrame(command, payload: [], length: UInt32(limit)).prefix(24))
            XCTAssertEqual(try FrameHeader.parse(atLimit, magic: regtest).length, UInt32(limit))
        }
    }

    func testFourGiBLengthRejectedWithoutBufferingPayload() {
        var reader = FrameReader(magic: regtest)
        let header = Array(rawFrame("block", payload: [], length: UInt32.max).prefix(24))
        reader.append(header.prefix(23))
        XCTAssertNil(try reader.next())
        XCTAssertEqual(reader.bufferedBytes, 23)
        reader.append(header.suffix(1))
        XCTAssertThrowsError(try reader.next()) {
            XCTAssertEqual($0 as? WireError, .oversized(command: "block", length: UInt32.max, limit: WireLimits.maxBlockPayload))
        }
        // The failure is final: nothing more is kept, and the same error comes back.
        reader.append([UInt8](repeating: 0, count: 1_000))
        XCTAssertEqual(reader.bufferedBytes, 0)
        XCTAssertThrowsError(try reader.next()) { XCTAssertEqual(($0 as? WireError)?.reason, "oversized") }
    }

    func testBadChecksum() {
        let payload: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8]
        var checksum = Array(BLAKE3.hash(payload).prefix(4))
        checksum[3] ^= 1
        XCTAssertEqual(readAll(rawFrame("ping", payload: payload, checksum: checksum)).error, .badChecksum(command: "ping"))
        // An unknown command's checksum is checked too.
        XCTAssertEqual(readAll(rawFrame("later", payload: payload, checksum: checksum)).error, .badChecksum(command: "later"))
    }

    func testHeaderOfWrongSizeIsAnErrorNotATrap() {
        XCTAssertThrowsError(try FrameHeader.parse([UInt8](repeating: 0, count: 23), magic: regtest))
        XCTAssertThrowsError(try FrameHeader.parse([UInt8](repeating: 0, count: 25), magic: regtest))
    }

    // MARK: payload rejections

    func testTruncatedPayloadInsideAFrame() throws {
        var rng = SeededGenerator(testSeed: 0x7A0C)
        for kind in Message.knownCommands.indices {
            let message = rng.message(kind: kind)
            let payload = message.encodePayload()
            guard !payload.isEmpty else { continue }
            // A frame whose length and checksum agree with a payload cut short by one byte.
            let cut = Array(payload.dropLast())
            let error = readAll(rawFrame(message.command, payload: cut)).error
            if message.command == "block", cut.count >= 128 {
                continue // only the header is the frame layer's business
            }
            // Every message here is self-delimiting, so one byte short is always truncated.
            XCTAssertEqual(error?.reason, "malformed-\(message.command)", "\(message.command): \(String(describing: error))")
        }
        // A frame still arriving is not an error: the reader waits.
        let frame = Frame.encode(.ping(7), magic: regtest)
        XCTAssertNil(readAll(Array(frame.dropLast())).error)
        XCTAssertEqual(readAll(Array(frame.dropLast())).messages, [])
    }

    func testTrailingBytesAreMalformed() {
        let withExtra: [(String, [UInt8])] = [
            ("getheaders", Message.getheaders(locator: [], stop: nil).encodePayload() + [0]),
            ("inv", Message.inv([]).encodePayload() + [0]),
            ("addr", Message.addr([]).encodePayload() + [0]),
            ("headers", Message.headers([]).encodePayload() + [0]),
        ]
        for (command, payload) in withExtra {
            let error = decodeError(command, payload)
            XCTAssertEqual(error?.reason, "malformed-\(command)")
            XCTAssertTrue(String(describing: error).contains("trailing"), String(describing: error))
            XCTAssertEqual(readAll(rawFrame(command, payload: payload)).error, error)
        }
        // Empty messages and u64 messages have exact limits: the extra byte is refused by the header.
        XCTAssertEqual(decodeError("verack", [0]), .oversized(command: "verack", length: 1, limit: 0))
        XCTAssertEqual(readAll(rawFrame("pong", payload: [UInt8](repeating: 0, count: 9))).error,
                       .oversized(command: "pong", length: 9, limit: 8))
    }

    func testNonMinimalCompactSize() {
        // Zero items written as 0xFD 0x00 0x00, and 1 item written in 3 bytes.
        XCTAssertEqual(decodeError("inv", [0xFD, 0, 0])?.reason, "malformed-inv")
        let item = InventoryItem(type: .block, hash: .zero)
        let oneItem = Message.inv([item]).encodePayload()
        XCTAssertNil(decodeError("inv", oneItem))
        let error = decodeError("inv", [0xFD, 1, 0] + oneItem.dropFirst())
        XCTAssertTrue(String(describing: error).contains("non-minimal"), String(describing: error))
        var userAgent = [UInt8](repeating: 0, count: 4 + 8 + 8 + 26 + 26 + 8)
        userAgent += [0xFD, 1, 0, 0x41] + [UInt8](repeating: 0, count: 9)
        XCTAssertEqual(decodeError("version", userAgent)?.reason, "malformed-version")
    }

    func testCountsAboveLimitsRejectedBeforeAllocation() {
        // Each claims one item more than allowed, followed by nothing: refused on the count
        // itself (and the payloads are tiny, so nothing near the claim was allocated).
        let cases: [(String, Int, [UInt8])] = [
            ("inv", WireLimits.maxInventory, []), ("getdata", WireLimits.maxGetData, []),
            ("notfound", WireLimits.maxGetData, []), ("addr", WireLimits.maxAddresses, []),
            ("headers", WireLimits.maxHeaders, []), ("getheaders", WireLimits.maxLocator, [1, 0, 0, 0]),
        ]
        for (command, limit, prefix) in cases {
            let over = decodeError(command, prefix + compactSize(UInt64(limit + 1)))
            XCTAssertEqual(over?.reason, "malformed-\(command)")
            XCTAssertTrue(String(describing: over).contains("exceeds the limit of \(limit)"), String(describing: over))
            // At the limit but with the items missing: refused as truncated, before reserving them.
            let short = decodeError(command, prefix + compactSize(UInt64(limit)))
            XCTAssertTrue(String(describing: short).contains("truncated"), String(describing: short))
        }
        // A count that needs more than 64 bits of items still fails cleanly.
        XCTAssertEqual(decodeError("inv", [0xFF] + [UInt8](repeating: 0xFF, count: 8))?.reason, "malformed-inv")
    }

    func version(relay: UInt8 = 1, userAgent: [UInt8] = Array("/rusty/".utf8)) -> [UInt8] {
        var writer = ByteWriter()
        writer.write(UInt32(1)); writer.write(UInt64(1)); writer.write(UInt64(1_700_000_000))
        writer.write(bytes: [UInt8](repeating: 0, count: 52))
        writer.write(UInt64(42))
        writer.writeVarBytes(userAgent)
        writer.write(UInt64(10))
        writer.write(relay)
        return writer.bytes
    }

    func testVersionFieldRules() throws {
        guard case .version(let decoded) = try Message.decode(command: "version", payload: version()) else {
            return XCTFail("not a version")
        }
        XCTAssertEqual(decoded.nonce, 42)
        XCTAssertEqual(decoded.userAgent, "/rusty/")
        XCTAssertTrue(decoded.relay)
        XCTAssertNil(decodeError("version", version(relay: 0)))
        let relay2 = decodeError("version", version(relay: 2))
        XCTAssertTrue(String(describing: relay2).contains("relay"), String(describing: relay2))
        XCTAssertNil(decodeError("version", version(userAgent: [UInt8](repeating: 0x61, count: 256))))
        let long = decodeError("version", version(userAgent: [UInt8](repeating: 0x61, count: 257)))
        XCTAssertTrue(String(describing: long).contains("user_agent"), String(describing: long))
        // Invalid UTF-8 would not re-encode to the same bytes.
        XCTAssertEqual(decodeError("version", version(userAgent: [0x61, 0xC3]))?.reason, "malformed-version")
        XCTAssertEqual(decodeError("version", version(userAgent: [0xFF]))?.reason, "malformed-version")
    }

    func testInventoryTypes() {
        for type: UInt32 in [0, 4, 0x8000_0001] {
            let payload = [1] + (0..<4).map { UInt8(truncatingIfNeeded: type >> (8 * $0)) } + [UInt8](repeating: 0, count: 32)
            for command in ["inv", "getdata", "notfound"] {
                let error = decodeError(command, payload)
                XCTAssertTrue(String(describing: error).contains("unknown inventory type \(type)"), String(describing: error))
            }
        }
        let tx = [1, 1, 0, 0, 0] + [UInt8](repeating: 7, count: 32)
        XCTAssertEqual(try Message.decode(command: "inv", payload: tx),
                       .inv([InventoryItem(type: .transaction, hash: Hash256(bytes: [UInt8](repeating: 7, count: 32))!)]))
    }

    /// Type 3 asks for a transaction by txid (an orphan's parent): it round-trips in getdata
    /// and notfound with its type and hash bytes in place.
    func testTransactionByTxidInventory() throws {
        let hash = Hash256(bytes: (0..<32).map { UInt8($0) })!
        let item = InventoryItem(type: .transactionByTxid, hash: hash)
        let payload = [1, 3, 0, 0, 0] + (0..<32).map { UInt8($0) }
        for message in [Message.getdata([item]), .notfound([item])] {
            XCTAssertEqual(message.encodePayload(), payload)
            XCTAssertEqual(try Message.decode(command: message.command, payload: payload), message)
        }
        XCTAssertEqual(InventoryType(rawValue: 3), .transactionByTxid)
        XCTAssertNotEqual(InventoryItem(type: .transaction, hash: hash), item)
    }

    func testBlockPayloadNeedsAFullHeader() throws {
        var rng = SeededGenerator(testSeed: 0xB10C)
        let header = rng.wireHeader().encoded
        XCTAssertEqual(decodeError("block", Array(header.prefix(127)))?.reason, "malformed-block")
        XCTAssertEqual(decodeError("block", [])?.reason, "malformed-block")
        // The header alone is enough here; the body is the verification pipeline's to judge.
        guard case .block(let payload) = try Message.decode(command: "block", payload: header + [9, 9]) else {
            return XCTFail("not a block")
        }
        XCTAssertEqual(payload.header.encoded, header)
        XCTAssertEqual(payload.hash, payload.header.hash)
        XCTAssertEqual(payload.bytes, header + [9, 9])
    }

    func testGetHeadersStopAndVersion() throws {
        let zeroStop = [1, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 32)
        XCTAssertEqual(try Message.decode(command: "getheaders", payload: zeroStop), .getheaders(locator: [], stop: nil))
        XCTAssertEqual(Message.getheaders(locator: [], stop: .zero).encodePayload(), zeroStop)
        // Messages after the handshake use the negotiated version, 1 in this protocol.
        let version2 = [2, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 32)
        XCTAssertEqual(decodeError("getheaders", version2)?.reason, "malformed-getheaders")
    }

    func testUnknownCommandsAreIgnored() {
        let (messages, error) = readAll(rawFrame("wtxidrelay", payload: [1, 2, 3]) + Frame.encode(.verack, magic: regtest))
        XCTAssertNil(error)
        XCTAssertEqual(messages, [.unknown(command: "wtxidrelay"), .verack])
        XCTAssertEqual(Message.unknown(command: "wtxidrelay").command, "wtxidrelay")
    }

    func testErrorDescriptions() {
        XCTAssertEqual(WireError.badChecksum(command: "tx").description, "bad checksum on tx payload")
        XCTAssertEqual(WireError.badCommand([0x20]).reason, "bad-command")
        XCTAssertEqual(WireError.oversized(command: "inv", length: 5, limit: 4).description,
                       "oversized inv payload: 5 bytes announced, at most 4 allowed")
        XCTAssertEqual(WireError.malformed(command: "addr", reason: "x").reason, "malformed-addr")
        XCTAssertEqual(WireError.badChecksum(command: "tx").reason, "bad-checksum")
        XCTAssertTrue(WireError.badMagic(expected: regtest, got: [0, 0, 0, 1]).description.contains("00000001"))
    }

    func testNetAddressForms() throws {
        let v4 = NetAddress.ipv4(192, 168, 1, 20, port: 8333, services: WireProtocol.nodeNetwork)
        XCTAssertEqual(v4.ip, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 192, 168, 1, 20])
        XCTAssertEqual(v4.ipv4Bytes, [192, 168, 1, 20])
        XCTAssertEqual(v4.description, "192.168.1.20:8333")
        let v6 = NetAddress(services: 0, ip: [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1], port: 1)
        XCTAssertNil(v6.ipv4Bytes)
        XCTAssertEqual(v6.description, "[2001:db8:0:0:0:0:0:1]:1")
        // Port is little-endian on the wire.
        let payload = Message.addr([TimedAddress(time: 1, address: v4)]).encodePayload()
        XCTAssertEqual(Array(payload.suffix(2)), [0x8D, 0x20])
    }

    // MARK: FrameReader

    func testReaderGivesTheSameMessagesWhateverTheSplits() throws {
        var rng = SeededGenerator(testSeed: 0x5B117)
        let messages = (0..<60).map { _ in rng.anyMessage() }
        let stream = messages.flatMap { Frame.encode($0, magic: regtest) }
        // Byte by byte.
        var reader = FrameReader(magic: regtest)
        var got = [Message]()
        for byte in stream {
            reader.append([byte])
            while let message = try reader.next() { got.append(message) }
        }
        XCTAssertEqual(got, messages)
        XCTAssertEqual(reader.bufferedBytes, 0)
        // Random chunks, several times.
        for _ in 0..<10 {
            var reader = FrameReader(magic: regtest)
            var got = [Message]()
            var offset = 0
            while offset < stream.count {
                let size = min(stream.count - offset, rng.int(1...(rng.next() & 1 == 0 ? 30 : 5_000)))
                reader.append(stream[offset..<offset + size])
                offset += size
                while let message = try reader.next() { got.append(message) }
            }
            XCTAssertEqual(got, messages)
            XCTAssertEqual(reader.bufferedBytes, 0)
        }
    }

    func testReaderNeverHoldsMoreThanTheFrameAllows() throws {
        var rng = SeededGenerator(testSeed: 0xB0B)
        // A stream of valid frames, checked after every chunk once drained.
        let messages = (0..<40).map { _ in rng.anyMessage() }
        let frames = messages.map { Frame.encode($0, magic: regtest) }
        let stream = frames.flatMap { $0 }
        var reader = FrameReader(magic: regtest)
        var offset = 0
        var frameEnds = [Int]()
        var end = 0
        for frame in frames { end += frame.count; frameEnds.append(end) }
        var consumed = 0
        while offset < stream.count {
            let size = min(stream.count - offset, rng.int(1...700))
            reader.append(stream[offset..<offset + size])
            offset += size
            while try reader.next() != nil { consumed += 1 }
            // What is held is exactly the unfinished part of the current frame.
            let start = consumed == 0 ? 0 : frameEnds[consumed - 1]
            XCTAssertEqual(reader.bufferedBytes, offset - start)
            XCTAssertLessThan(reader.bufferedBytes, frames[min(consumed, frames.count - 1)].count + (consumed == frames.count ? 1 : 0))
        }
        XCTAssertEqual(consumed, messages.count)
        // A header announcing the largest block: the reader holds the header and what has
        // arrived, and the limit is what a frame may reach at most.
        var big = FrameReader(magic: regtest)
        big.append(rawFrame("block", payload: [], length: UInt32(WireLimits.maxPayload)).prefix(24))
        big.append([UInt8](repeating: 0, count: 100))
        XCTAssertNil(try big.next())
        XCTAssertEqual(big.bufferedBytes, 124)
        XCTAssertLessThanOrEqual(big.bufferedBytes, WireLimits.headerSize + WireLimits.maxPayload)
    }

    func testReaderStopsAtTheFirstBadFrame() {
        let stream = Frame.encode(.ping(1), magic: regtest) + rawFrame("pong", payload: [1]) + Frame.encode(.verack, magic: regtest)
        let (messages, error) = readAll(stream)
        XCTAssertEqual(messages, [.ping(1)])
        XCTAssertEqual(error?.reason, "malformed-pong")
    }
}
