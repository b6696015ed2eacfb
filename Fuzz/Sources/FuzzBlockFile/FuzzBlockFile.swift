import ChainState
import Foundation
import FuzzSupport
import Primitives

/// `BlockFile.forEachRecord` on a temporary file, against a reference parse of the same bytes
/// in memory: the same records at the same offsets, then the same error (or none).
///
/// Input: one control byte, then the file. Control bit 7 puts a valid record of almost 4 MiB
/// in front, ending 0...255 bytes before the reader's 4 MiB chunk boundary, so the refill
/// path (compacting the buffer mid-record) sees fuzzed bytes; bits 0-2 pick the record limit.
let magic: [UInt8] = [0xFA, 0x1C, 0xE0, 0xDE]
let chunk = 1 << 22
let path = FileManager.default.temporaryDirectory.appendingPathComponent("rusty-fuzz-blockfile-\(getpid()).dat").path
let limits = [EncodingLimits.maxBlockBytes, 0, 1, 80, 128, 300, 4096, chunk]

struct Expected {
    var records: [(offset: Int, length: Int)] = []
    var error: String?
}

/// The format (magic | length u32 LE | bytes), parsed directly.
func referenceParse(_ file: [UInt8], limit: Int) -> Expected {
    var expected = Expected()
    var position = 0
    while position < file.count {
        let available = file.count - position
        guard available >= 8 else { expected.error = "truncated \(position) 8 \(available)"; break }
        guard Array(file[position..<position + 4]) == magic else { expected.error = "magic \(position)"; break }
        let length = (0..<4).reduce(0) { $0 | Int(file[position + 4 + $1]) << (8 * $1) }
        guard length <= limit else { expected.error = "large \(position) \(length)"; break }
        guard available >= 8 + length else { expected.error = "truncated \(position) \(8 + length) \(available)"; break }
        expected.records.append((position, length))
        position += 8 + length
    }
    return expected
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBlockFile(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(fuzzBytes(data, size))
    let control = input.byte()
    var file = [UInt8]()
    let limit: Int
    if control & 0x80 != 0 {
        let gap = Int(input.byte())
        let length = chunk - 8 - gap
        file = magic + (0..<4).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) } + [UInt8](repeating: 0xA5, count: length)
        limit = EncodingLimits.maxBlockBytes
    } else {
        limit = limits[Int(control & 7)]
    }
    file += input.rest
    guard FileManager.default.createFile(atPath: path, contents: Data(file)) else { fuzzFail("cannot write \(path)") }
    defer { try? FileManager.default.removeItem(atPath: path) }

    let expected = referenceParse(file, limit: limit)
    var delivered = 0
    var error: String?
    do {
        try BlockFile.forEachRecord(path: path, magic: magic, maxRecordBytes: limit) { record in
            fuzzCheck(delivered < expected.records.count, "record \(delivered) at \(record.offset) past the expected \(expected.records.count)")
            let want = expected.records[delivered]
            fuzzCheck(record.offset == want.offset && record.bytes.count == want.length,
                      "record \(delivered): offset \(record.offset) length \(record.bytes.count), expected \(want)")
            fuzzCheck(record.bytes[...] == file[want.offset + 8..<want.offset + 8 + want.length], "record \(delivered) bytes differ")
            delivered += 1
        }
    } catch let readError as BlockFile.ReadError {
        switch readError {
        case let .badMagic(file, offset):
            fuzzCheck(file == path, "error names \(file)"); error = "magic \(offset)"
        case let .truncated(file, offset, needed, available):
            fuzzCheck(file == path, "error names \(file)"); error = "truncated \(offset) \(needed) \(available)"
        case let .tooLarge(file, offset, length):
            fuzzCheck(file == path, "error names \(file)"); error = "large \(offset) \(length)"
        }
    } catch {
        fuzzFail("unexpected error \(error)")
    }
    fuzzCheck(delivered == expected.records.count, "\(delivered) records delivered, \(expected.records.count) expected")
    fuzzCheck(error == expected.error, "error \(error ?? "none"), expected \(expected.error ?? "none")")
    return 0
}
