import Foundation
import FuzzSupport
import Primitives
import Wire

let regtestMagic: [UInt8] = [0xFA, 0x1C, 0xE0, 0xDE]

/// One pass of a FrameReader over `stream` in the given chunk sizes: the messages in
/// order, and the error that ended the stream, if any.
func readStream(_ stream: [UInt8], chunks: (Int) -> Int) -> (messages: [Message], error: WireError?) {
    var reader = FrameReader(magic: regtestMagic)
    var messages = [Message]()
    var offset = 0
    while offset < stream.count {
        let size = min(stream.count - offset, max(1, chunks(stream.count - offset)))
        reader.append(stream[offset..<offset + size])
        offset += size
        do {
            while let message = try reader.next() { messages.append(message) }
        } catch {
            return (messages, error)
        }
        // Drained: what is left is the unfinished frame, never more than one frame may be.
        fuzzCheck(reader.bufferedBytes < WireLimits.headerSize + WireLimits.maxPayload + 1,
                  "reader holds \(reader.bufferedBytes) bytes after draining")
    }
    return (messages, nil)
}

/// Rewrites each frame's checksum to the right one, so the fuzzer reaches payload decoding
/// (it cannot invert BLAKE3). Frames are walked by their length fields; the rest is left.
func fixChecksums(_ stream: inout [UInt8]) {
    var position = 0
    while stream.count - position >= WireLimits.headerSize {
        var length = 0
        for i in 0..<4 { length |= Int(stream[position + 16 + i]) << (8 * i) }
        let payloadStart = position + WireLimits.headerSize
        guard length <= stream.count - payloadStart else { return }
        let checksum = FrameHeader.checksum(of: stream[payloadStart..<payloadStart + length])
        stream.replaceSubrange(position + 20..<position + 24, with: checksum)
        position = payloadStart + length
    }
}

/// Arbitrary bytes through FrameReader in input-chosen splits. Properties: splitting never
/// changes the result (same messages, same error as one append); every decoded message
/// re-encodes to a frame that decodes to the same message; the reader stays bounded.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrame(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(fuzzBytes(data, size))
    let control = input.byte()
    var stream = input.rest
    if control & 1 == 1 { fixChecksums(&stream) }
    // Chunk sizes from a generator seeded by the control byte: 1-byte, small or large splits.
    var rng = SeededGenerator(seed: UInt64(control))
    let maxChunk = [1, 7, 64, 4096][Int(control >> 1) & 3]
    let split = readStream(stream) { _ in Int(rng.next() % UInt64(maxChunk)) + 1 }
    let whole = readStream(stream) { $0 }
    fuzzCheck(split.messages == whole.messages, "splits change the messages")
    fuzzCheck(split.error == whole.error, "splits change the error: \(String(describing: split.error)) vs \(String(describing: whole.error))")
    for message in whole.messages {
        let frame = Frame.encode(message, magic: regtestMagic)
        let again = readStream(frame) { $0 }
        fuzzCheck(again.error == nil && again.messages == [message], "\(message.command) does not survive re-encoding")
    }
    if let error = whole.error {
        // The reason names the failure kind; malformed names a command the header allowed.
        fuzzCheck(!error.reason.isEmpty && !error.description.isEmpty, "empty error text")
    }
    return 0
}

/// `RUSTY_FUZZ_WRITE_SEEDS=DIR` writes the seed corpora of `frame` and `message` into
/// DIR/frame and DIR/message and exits (scripts/fuzz.sh --write-seeds); deterministic.
func writeSeeds() {
    guard let root = ProcessInfo.processInfo.environment["RUSTY_FUZZ_WRITE_SEEDS"] else { return }
    func write(_ target: String, _ name: String, _ bytes: [UInt8]) {
        let directory = URL(fileURLWithPath: root).appendingPathComponent(target)
        try! FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try! Data(bytes).write(to: directory.appendingPathComponent("seed-\(name)"))
    }
    var rng = SeededGenerator(seed: 0x5EED)
    func hash() -> Hash256 { Hash256(bytes: rng.bytes(32))! }
    let header = BlockHeader(version: 1, height: 7, previousHash: hash(), merkleRoot: hash(), stateRoot: hash(),
                             time: 1_700_000_000, bits: 0x207F_FFFF, nonce: 3)
    let transaction = Transaction(
        version: 1, inputs: [TxIn(previousOutput: OutPoint(txid: hash(), index: 1))],
        outputs: [TxOut(value: Amount.coins(5)!, lockScript: [0x01, 0x02])], lockTime: 0, witnesses: [[rng.bytes(64)]])
    let address = NetAddress.ipv4(127, 0, 0, 1, port: 18444, services: WireProtocol.nodeNetwork)
    let messages: [Message] = [
        .version(VersionMessage(services: WireProtocol.nodeNetwork, timestamp: 1_700_000_000, receiver: address,
                                sender: .none, nonce: 0x1234, userAgent: "/rusty:0.1/", bestHeight: 7, relay: true)),
        .verack, .ping(1), .pong(1), .getaddr,
        .addr([TimedAddress(time: 1_700_000_000, address: address)]),
        .inv([InventoryItem(type: .block, hash: header.hash), InventoryItem(type: .transaction, hash: transaction.wtxid)]),
        .getdata([InventoryItem(type: .block, hash: header.hash)]),
        .notfound([InventoryItem(type: .transaction, hash: transaction.wtxid)]),
        .getheaders(locator: [header.hash, header.previousHash], stop: nil),
        .headers([header]), .sendheaders,
        .block(BlockPayload(block: Block(header: header, transactions: [transaction]))),
        .tx(transaction), .mempool, .feefilter(1_000),
    ]
    for message in messages {
        guard let index = Message.knownCommands.firstIndex(of: message.command) else { fuzzFail("unknown \(message.command)") }
        write("message", message.command, [UInt8(index)] + message.encodePayload())
    }
    // Frames: control byte 0x07 (checksums fixed, 1-byte splits), then a few frames each.
    let handshake = messages.prefix(2).flatMap { Frame.encode($0, magic: regtestMagic) }
    write("frame", "handshake", [0x07] + handshake)
    write("frame", "relay", [0x04] + messages[6...].flatMap { Frame.encode($0, magic: regtestMagic) })
    write("frame", "addr-headers", [0x03] + (messages[5...5] + messages[9...10]).flatMap { Frame.encode($0, magic: regtestMagic) })
    exit(0)
}
