import ChainState
import Foundation
import Primitives

/// Where blocks come from: the one reader behind both verification modes.
public enum BlockSource {
    /// A block file (records `magic | length | block`).
    case file(String)
    /// A block file of a datadir (`--reindex`), read up to byte `end` (its size when the run
    /// began); a record cut short there is where a crash stopped an append, not an error.
    case datadirFile(String, end: Int)
    /// The best chain stored in another chain state, from height 1 (re-verification).
    case stored(ChainState, label: String)
    /// Blocks pushed by another thread while the run goes on (a node's download); the run
    /// ends when the stream is finished and drained, or closed. Progress counts its bytes,
    /// but its total is unknown (the fraction stays 0).
    case stream(BlockStream)

    /// One record as read, with what messages call it.
    struct Record: Sendable {
        var file: String
        /// Byte offset in `file`, or the height of a stored block.
        var offset: Int
        var bytes: [UInt8]
        var stored: Bool
        /// Its share of the input, for progress (bytes of a file, one per stored block).
        var units: Int
        /// From a `.datadirFile` source.
        var fromDatadir = false
        /// From a `.stream`: `file` is its label, `offset` the block's number in it (from 1).
        var streamed = false
        /// Who supplied it (a stream's peer), for the caller to act on a rejection.
        var origin: String? = nil

        /// How a record is named in messages.
        var name: String {
            if streamed { return "\(file): block \(offset) of the stream" + (origin.map { " (from \($0))" } ?? "") }
            return stored ? "\(file): stored block at height \(offset)" : "\(file): record at byte \(offset)"
        }
        /// How a record that does not decode is named.
        var malformedName: String { stored || streamed ? name : "\(file): block record at byte \(offset)" }

        /// A stream's block as a record.
        init(stream: BlockStream, _ taken: BlockStream.Taken) {
            self.init(file: stream.label, offset: taken.number, bytes: taken.bytes, stored: false, units: taken.bytes.count,
                      streamed: true, origin: taken.origin)
        }

        init(file: String, offset: Int, bytes: [UInt8], stored: Bool, units: Int, fromDatadir: Bool = false, streamed: Bool = false,
             origin: String? = nil) {
            (self.file, self.offset, self.bytes, self.stored, self.units) = (file, offset, bytes, stored, units)
            (self.fromDatadir, self.streamed, self.origin) = (fromDatadir, streamed, origin)
        }
    }

    /// A stored block that could not be read, named by label and height.
    struct StoredReadError: Error, CustomStringConvertible { var description: String }

    /// Calls `body` with each record in order; stops at the first malformed one (thrown).
    func forEachRecord(magic: [UInt8], _ body: (Record) throws -> Void) throws {
        switch self {
        case .file(let path):
            try BlockFile.forEachRecord(path: path, magic: magic) { record in
                try body(Record(file: path, offset: record.offset, bytes: record.bytes, stored: false, units: record.bytes.count + 8))
            }
        case let .datadirFile(path, end):
            do {
                try BlockFile.forEachRecord(path: path, magic: magic, end: end) { record in
                    try body(Record(file: path, offset: record.offset, bytes: record.bytes, stored: false, units: record.bytes.count + 8,
                                    fromDatadir: true))
                }
            } catch BlockFile.ReadError.truncated {
                // A torn last record (an append a crash interrupted, past the last flush) ends the file.
            }
        case let .stored(stored, label):
            for node in stored.active.dropFirst() {
                let bytes: [UInt8]
                do { bytes = try stored.storedBlockBytes(node.hash) } catch {
                    throw StoredReadError(description: "\(label): stored block at height \(node.height): \(error)")
                }
                try body(Record(file: label, offset: Int(node.height), bytes: bytes, stored: true, units: 1))
            }
        case .stream(let stream):
            // One at a time: the sequential verifier takes no chunks.
            while let taken = stream.take(maxCount: 1, maxBytes: .max).first { try body(Record(stream: stream, taken)) }
        }
    }

    /// The input's size in record units (for the progress fraction).
    static func totalUnits(_ sources: [BlockSource]) -> Int {
        sources.reduce(0) { total, source in
            switch source {
            case .file(let path):
                return total + ((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0)
            case .datadirFile(_, let end):
                return total + end
            case .stored(let state, _):
                return total + Int(state.tip.height)
            case .stream:
                return total
            }
        }
    }
}
