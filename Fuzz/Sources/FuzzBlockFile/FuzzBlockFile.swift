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
/// In memory (/dev/shm) where there is one: a disk write per input would dominate.
/// Rewritten for every input; removed when the process exits normally.
let path: String = {
    let file = (FileManager.default.fileExists(atPath: "/dev/shm") ? URL(fileURLWithPath: "/dev/shm") : FileManager.default.temporaryDirectory)
        .appendingPathComponent("rusty-fuzz-blockfile-\(getpid()).dat").path
    guard FileManager.default.createFile(atPath: file, contents: nil) else { fuzzFail("cannot create \(file)") }
    atexit { try? FileManager.default.removeItem(atPath: path) }
    return file
}()
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

/// The body of the big leading record of control bit 7, written straight from here (large
/// copies under ASan cost fresh pages each time, which dominated the run time).
let bigBody = Data(repeating: 0xA5, count: chunk - 8)

func same(_ a: [UInt8], _ b: ArraySlice<UInt8>) -> Bool {
    a.count == b.count && a.withUnsafeBytes { x in b.withUnsafeBytes { y in a.isEmpty || memcmp(x.baseAddress!, y.baseAddress!, a.count) == 0 } }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBlockFile(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(fuzzBytes(data, size))
    let control = input.byte()
    // The file is `prefix` (0 or 1 big record of `bigLength` bytes) followed by `rest`.
    var bigLength: Int?
    let limit: Int
    if control & 0x80 != 0 {
        bigLength = chunk - 8 - Int(input.byte())
        limit = EncodingLimits.maxBlockBytes
    } else {
        limit = limits[Int(control & 7)]
    }
    let rest = input.rest
    let prefixLength = bigLength.map { 8 + $0 } ?? 0
    do {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: 0)
        if let bigLength {
            try handle.write(contentsOf: magic + (0..<4).map { UInt8(truncatingIfNeeded: bigLength >> (8 * $0)) })
            try handle.write(contentsOf: bigBody.prefix(bigLength))
        }
        try handle.write(contentsOf: rest)
        try handle.close()
    } catch {
        fuzzFail("cannot write \(path): \(error)")
    }

    // The big record is valid, so the rest parses on its own, shifted by its length.
    var expected = referenceParse(rest, limit: limit)
    expected.records = expected.records.map { ($0.offset + prefixLength, $0.length) }
    expected.error = expected.error.map { error in
        let words = error.split(separator: " ")
        return ([String(words[0]), String(Int(words[1])! + prefixLength)] + words.dropFirst(2).map(String.init)).joined(separator: " ")
    }
    if let bigLength { expected.records.insert((0, bigLength), at: 0) }

    var delivered = 0
    var error: String?
    do {
        try BlockFile.forEachRecord(path: path, magic: magic, maxRecordBytes: limit) { record in
            fuzzCheck(delivered < expected.records.count, "record \(delivered) at \(record.offset) past the expected \(expected.records.count)")
            let want = expected.records[delivered]
            fuzzCheck(record.offset == want.offset && record.bytes.count == want.length,
                      "record \(delivered): offset \(record.offset) length \(record.bytes.count), expected \(want)")
            let matches = want.offset < prefixLength
                ? bigBody.withUnsafeBytes { body in record.bytes.withUnsafeBytes { memcmp(body.baseAddress!, $0.baseAddress!, want.length) == 0 } }
                : same(record.bytes, rest[(want.offset - prefixLength + 8)..<(want.offset - prefixLength + 8 + want.length)])
            fuzzCheck(matches, "record \(delivered) bytes differ")
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
