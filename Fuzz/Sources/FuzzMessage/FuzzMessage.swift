import FuzzSupport
import Primitives
import Wire

let regtestMagic: [UInt8] = [0xFA, 0x1C, 0xE0, 0xDE]

/// Message payload decoding. The first byte picks a command of this version, the rest is its
/// payload. Decoding is strict (one canonical encoding), so whatever decodes must encode
/// back to exactly the payload; whatever fails must fail as that command, and the frame
/// reader must reach the same verdict on the same payload in a frame.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMessage(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(fuzzBytes(data, size))
    let command = Message.knownCommands[input.below(Message.knownCommands.count)]
    let payload = input.rest
    let result: Result<Message, WireError>
    do {
        let message = try Message.decode(command: command, payload: payload)
        fuzzCheck(message.command == command, "\(command) decoded as \(message.command)")
        fuzzCheck(message.encodePayload() == payload, "\(command): decode→encode is not the identity")
        result = .success(message)
    } catch {
        switch error {
        case .malformed(let named, _), .oversized(let named, _, _):
            fuzzCheck(named == command, "a \(command) payload failed as \(named): \(error)")
        default:
            fuzzFail("payload decoding threw a frame-level error: \(error)")
        }
        result = .failure(error)
    }
    // The same payload, framed: the same message or the same error.
    let frame = FrameHeader(magic: regtestMagic, command: command, length: UInt32(clamping: payload.count),
                            checksum: FrameHeader.checksum(of: payload)).encoded + payload
    var reader = FrameReader(magic: regtestMagic)
    reader.append(frame)
    do {
        guard let message = try reader.next() else { fuzzFail("\(command): a whole frame reads as incomplete") }
        fuzzCheck(result == .success(message), "\(command): the frame reader disagrees with decode")
        fuzzCheck(reader.bufferedBytes == 0, "bytes left after one frame")
    } catch {
        fuzzCheck(result == .failure(error), "\(command): the frame reader fails with \(error), decode with \(result)")
    }
    return 0
}
