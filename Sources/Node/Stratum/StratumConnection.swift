// The NIO side of a miner connection: newline framing bounded at the server's line limit,
// and the handler that feeds lines to the connection's StratumSession and closes the
// connection on too many bad messages, an overlong line or a reader that does not read.

import Foundation
import NIOCore
import Stratum

/// One framed line, or the news that a line went past the limit.
enum StratumLine {
    case line(ByteBuffer)
    case tooLong
}

/// Splits the byte stream at '\n' (a '\r' before it is dropped); never buffers more than
/// `maxLineBytes` of an unfinished line.
struct StratumLineDecoder: ByteToMessageDecoder {
    typealias InboundOut = StratumLine
    let maxLineBytes: Int
    private var failed = false

    init(maxLineBytes: Int) { self.maxLineBytes = maxLineBytes }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard !failed else {
            buffer.moveReaderIndex(to: buffer.writerIndex)
            return .needMoreData
        }
        let view = buffer.readableBytesView
        guard let newline = view.firstIndex(of: UInt8(ascii: "\n")) else {
            if buffer.readableBytes > maxLineBytes {
                failed = true
                buffer.moveReaderIndex(to: buffer.writerIndex)
                context.fireChannelRead(Self.wrapInboundOut(.tooLong))
            }
            return .needMoreData
        }
        let length = newline - view.startIndex
        guard length <= maxLineBytes, var line = buffer.readSlice(length: length) else {
            failed = true
            buffer.moveReaderIndex(to: buffer.writerIndex)
            context.fireChannelRead(Self.wrapInboundOut(.tooLong))
            return .needMoreData
        }
        buffer.moveReaderIndex(forwardBy: 1)
        if line.readableBytesView.last == UInt8(ascii: "\r") { line = line.getSlice(at: line.readerIndex, length: length - 1) ?? line }
        context.fireChannelRead(Self.wrapInboundOut(.line(line)))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // An unfinished last line is dropped: a message ends with its newline.
        buffer.moveReaderIndex(to: buffer.writerIndex)
        return .needMoreData
    }
}

/// Confined to its channel's event loop (NIO calls it there; the pool hops there), hence unchecked.
final class StratumConnectionHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = StratumLine
    let session: StratumSession

    init(session: StratumSession) { self.session = session }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        session.flushDeferred = true
        switch Self.unwrapInboundIn(data) {
        case .tooLong:
            session.send([.response(id: .null, result: .null, error: StratumError(.other, "line too long"))])
            session.pool.logger.info("stratum: closing \(session.peer): a line longer than \(StratumMessage.maxServerLineBytes) bytes")
            session.closeAfterWrites()
        case .line(let buffer):
            let bytes = buffer.readableBytesView
            // Blank lines (keep-alives of some miners) are not messages.
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return }
            let keep: Bool
            do {
                keep = session.receive(try StratumMessage(line: bytes))
            } catch {
                keep = session.badLine(error.reason)
            }
            if !keep {
                session.pool.logger.info("stratum: closing \(session.peer): \(session.pool.settings.maxConsecutiveBadMessages) bad messages in a row")
                session.closeAfterWrites()
            }
        }
    }

    /// The end of a read burst: one flush for all its answers.
    func channelReadComplete(context: ChannelHandlerContext) {
        session.flushDeferred = false
        context.flush()
        context.fireChannelReadComplete()
    }

    /// Past the high water mark (`maxPendingBytes` unflushed) the miner is not reading: close
    /// rather than buffer without bound.
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if !context.channel.isWritable {
            session.pool.logger.info("stratum: closing \(session.peer): more than \(session.pool.settings.maxPendingBytes) bytes unread")
            context.close(promise: nil)
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        session.pool.close(session)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
