/// Incremental decoder over a byte stream (the logic the NIO handler and the fuzz target
/// share): feed bytes with `append`, take frames with `next` until it returns nil.
///
/// Each header is checked as soon as its 24 bytes are in, before any of its payload is
/// kept, so once `next` has returned nil the reader holds less than 24 + the pending
/// frame's allowed length (at most 24 + 32,001,000 bytes, a block). The first error is final: the
/// stream has lost its framing, and every later `next` throws it again.
public struct FrameReader {
    public let magic: [UInt8]
    private var buffer: [UInt8] = []
    /// Bytes of `buffer` before this index are consumed.
    private var start = 0
    /// The header of the frame whose payload is still arriving.
    private var pending: FrameHeader?
    private var failure: WireError?

    public init(magic: [UInt8]) { self.magic = magic }

    /// Bytes held and not yet returned as a message.
    public var bufferedBytes: Int { buffer.count - start }

    public mutating func append(_ bytes: some Collection<UInt8>) {
        // After a failure nothing more will be read: keep nothing.
        guard failure == nil else { return }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete message; nil when more bytes are needed.
    public mutating func next() throws(WireError) -> Message? {
        if let failure { throw failure }
        do {
            return try decodeNext()
        } catch {
            failure = error
            buffer = []
            start = 0
            pending = nil
            throw error
        }
    }

    private mutating func decodeNext() throws(WireError) -> Message? {
        if pending == nil {
            guard bufferedBytes >= WireLimits.headerSize else { return nil }
            pending = try FrameHeader.parse(buffer[start..<start + WireLimits.headerSize], magic: magic)
        }
        guard let header = pending else { return nil }
        // The length passed the limit check, so it fits Int and this cannot overflow.
        let length = Int(header.length)
        guard bufferedBytes - WireLimits.headerSize >= length else { return nil }
        let payloadStart = start + WireLimits.headerSize
        let payload = Array(buffer[payloadStart..<payloadStart + length])
        start = payloadStart + length
        pending = nil
        compact()
        try header.verify(payload: payload)
        return try Message.decode(command: header.command, payload: payload)
    }

    /// Drops consumed bytes once they are at least half the buffer, so the copying stays
    /// linear in the bytes read.
    private mutating func compact() {
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= 1 << 16)
            start = 0
        } else if start >= buffer.count / 2 {
            buffer.removeFirst(start)
            start = 0
        }
    }
}
