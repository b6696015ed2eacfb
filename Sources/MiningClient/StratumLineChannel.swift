// The pool connection's channel handlers: lines bounded at `StratumMessage.maxClientLineBytes`
// (a pool that sends a longer one is cut off: it is broken or hostile), each parsed into a
// `StratumMessage` and handed to the session on the event loop.

import NIOCore
import Stratum

/// A line longer than the client reads.
struct StratumLineTooLong: Error, CustomStringConvertible {
    var limit: Int
    var description: String { "the pool sent a line longer than \(limit) bytes" }
}

/// Splits the byte stream at '\n' (a '\r' before it is dropped); refuses lines over `maxLength`.
final class StratumLineDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer
    let maxLength: Int

    init(maxLength: Int = StratumMessage.maxClientLineBytes) { self.maxLength = maxLength }

    func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let newline = buffer.readableBytesView.firstIndex(of: 0x0A) else {
            if buffer.readableBytes > maxLength { throw StratumLineTooLong(limit: maxLength) }
            return .needMoreData
        }
        let length = newline - buffer.readerIndex
        guard length <= maxLength else { throw StratumLineTooLong(limit: maxLength) }
        guard var line = buffer.readSlice(length: length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 1)
        if line.readableBytesView.last == 0x0D { line = line.getSlice(at: line.readerIndex, length: line.readableBytes - 1) ?? line }
        context.fireChannelRead(wrapInboundOut(line))
        return .continue
    }

    func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}

/// Parses each line and passes it to the session; a line that is no message is reported and skipped.
final class StratumMessageHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let session: StratumSession
    let generation: Int

    init(session: StratumSession, generation: Int) {
        self.session = session
        self.generation = generation
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let line = unwrapInboundIn(data)
        do {
            let message = try StratumMessage(line: line.readableBytesView)
            session.handle(message, generation: generation)
        } catch {
            session.malformed("\(error)", generation: generation)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        session.noteCloseReason("\(error)", generation: generation)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        session.noteCloseReason("the pool closed the connection", generation: generation)
        context.fireChannelInactive()
    }
}
