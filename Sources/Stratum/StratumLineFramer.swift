// Newline framing for Stratum connections, shared by the node's server, `rusty mine` and the
// load generator. It remembers how far it has looked for the newline, so a line trickled in
// one byte per packet costs linear time, not quadratic; and it never holds more than
// `maxLineBytes` of an unfinished line.

import NIOCore

/// One framed line (without its '\n', and without a '\r' before it), or the news that the
/// peer sent a line past the limit; after that the framer drops everything it receives.
public enum StratumFramedLine {
    case line(ByteBuffer)
    case tooLong(limit: Int)
}

public struct StratumLineFramer: ByteToMessageDecoder {
    public typealias InboundOut = StratumFramedLine
    public let maxLineBytes: Int
    /// Bytes after the reader index already known to hold no newline.
    private var scanned = 0
    private var failed = false

    public init(maxLineBytes: Int) { self.maxLineBytes = maxLineBytes }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard !failed else {
            buffer.moveReaderIndex(to: buffer.writerIndex)
            return .needMoreData
        }
        let view = buffer.readableBytesView
        let searchFrom = view.startIndex + min(scanned, view.count)
        guard let newline = view[searchFrom...].firstIndex(of: UInt8(ascii: "\n")) else {
            scanned = view.count
            if view.count > maxLineBytes { fail(context: context, buffer: &buffer) }
            return .needMoreData
        }
        let length = newline - view.startIndex
        guard length <= maxLineBytes, var line = buffer.readSlice(length: length) else {
            fail(context: context, buffer: &buffer)
            return .needMoreData
        }
        buffer.moveReaderIndex(forwardBy: 1)
        scanned = 0
        if line.readableBytesView.last == UInt8(ascii: "\r") { line = line.getSlice(at: line.readerIndex, length: length - 1) ?? line }
        context.fireChannelRead(Self.wrapInboundOut(.line(line)))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // Complete lines still buffered are delivered; an unfinished last line is dropped
        // (a message ends with its newline).
        while try decode(context: context, buffer: &buffer) == .continue {}
        buffer.moveReaderIndex(to: buffer.writerIndex)
        return .needMoreData
    }

    private mutating func fail(context: ChannelHandlerContext, buffer: inout ByteBuffer) {
        failed = true
        buffer.moveReaderIndex(to: buffer.writerIndex)
        context.fireChannelRead(Self.wrapInboundOut(.tooLong(limit: maxLineBytes)))
    }
}
