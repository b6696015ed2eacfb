import Foundation
import Primitives

/// Block files: a stream of records `magic (4) | length u32 LE | block bytes`.
public enum BlockFile {
    public struct Record: Sendable {
        public var offset: Int
        public var bytes: [UInt8]
    }

    public enum ReadError: Error, CustomStringConvertible {
        case badMagic(file: String, offset: Int)
        case truncated(file: String, offset: Int, needed: Int, available: Int)
        case tooLarge(file: String, offset: Int, length: UInt32)

        /// Where the bad record starts.
        public var offset: Int {
            switch self {
            case let .badMagic(_, offset), let .truncated(_, offset, _, _), let .tooLarge(_, offset, _): return offset
            }
        }

        public var description: String {
            switch self {
            case let .badMagic(file, offset): return "\(file): record at byte \(offset) does not start with the network magic"
            case let .truncated(file, offset, needed, available):
                return "\(file): record at byte \(offset) is truncated (needs \(needed) bytes, \(available) left)"
            case let .tooLarge(file, offset, length): return "\(file): record at byte \(offset) claims \(length) bytes"
            }
        }
    }

    /// A block file that could not be opened: `PATH: strerror` (never a Foundation error domain).
    public struct OpenError: Error, CustomStringConvertible {
        public var path: String
        public var reason: String
        init(path: String, code: Int32) {
            self.path = path
            reason = String(cString: strerror(code))
        }
        public var description: String { "\(path): \(reason)" }
    }

    public static func encodeRecord(_ block: Block, magic: [UInt8]) -> [UInt8] {
        let bytes = block.encoded
        var writer = ByteWriter(capacity: bytes.count + 8)
        writer.write(bytes: magic)
        writer.write(UInt32(bytes.count))
        writer.write(bytes: bytes)
        return writer.bytes
    }

    /// Streams the records of a file without holding it whole; stops with an error at the
    /// first malformed record (everything before it has been delivered). Reads from byte
    /// `start` up to byte `end` (default: the end of the file), so a file another writer is
    /// still appending to is read only as far as it was complete.
    public static func forEachRecord(path: String, magic: [UInt8], maxRecordBytes: Int = EncodingLimits.maxBlockBytes,
                                     start: Int = 0, end: Int? = nil, _ body: (Record) throws -> Void) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw OpenError(path: path, code: errno) }
        defer { try? handle.close() }
        if start > 0 { try handle.seek(toOffset: UInt64(start)) }
        var buffer = [UInt8]()
        var bufferStart = start   // file offset of buffer[0]
        var position = 0      // index into buffer of the next record
        var atEnd = false
        func fill(_ needed: Int) throws {
            while buffer.count - position < needed && !atEnd {
                var want = max(1 << 22, needed)
                if let end { want = min(want, max(0, end - (bufferStart + buffer.count))) }
                let chunk = want == 0 ? Data() : (try handle.read(upToCount: want) ?? Data())
                if chunk.isEmpty { atEnd = true; break }
                if position > 0 {
                    buffer.removeFirst(position)
                    bufferStart += position
                    position = 0
                }
                buffer.append(contentsOf: chunk)
            }
        }
        while true {
            try fill(8)
            let available = buffer.count - position
            if available == 0 { return }
            let offset = bufferStart + position
            guard available >= 8 else { throw ReadError.truncated(file: path, offset: offset, needed: 8, available: available) }
            guard Array(buffer[position..<position + 4]) == magic else { throw ReadError.badMagic(file: path, offset: offset) }
            let length = UInt32(buffer[position + 4]) | UInt32(buffer[position + 5]) << 8 | UInt32(buffer[position + 6]) << 16
                | UInt32(buffer[position + 7]) << 24
            guard length <= UInt32(maxRecordBytes) else { throw ReadError.tooLarge(file: path, offset: offset, length: length) }
            try fill(8 + Int(length))
            guard buffer.count - position >= 8 + Int(length) else {
                throw ReadError.truncated(file: path, offset: offset, needed: 8 + Int(length), available: buffer.count - position)
            }
            try body(Record(offset: offset, bytes: Array(buffer[position + 8..<position + 8 + Int(length)])))
            position += 8 + Int(length)
        }
    }
}
