// The NIO side of a miner connection: the handler that takes the lines of the shared
// StratumLineFramer to the connection's StratumSession, closes the connection on too many
// bad messages, an overlong line or a reader that does not read, and frees the session when
// it leaves the pipeline (always called, unlike channelInactive).

import Foundation
import NIOCore
import Stratum

/// Confined to its channel's event loop (NIO calls it there; the pool hops there), hence unchecked.
final class StratumConnectionHandler: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = StratumFramedLine
    let session: StratumSession

    init(session: StratumSession) { self.session = session }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Lines still buffered when the connection closes (the framer hands them over at
        // the end) or after it was told to close are neither answered nor counted.
        guard context.channel.isActive, !session.isClosing else { return }
        session.flushDeferred = true
        switch Self.unwrapInboundIn(data) {
        case .tooLong(let limit):
            session.send([.response(id: .null, result: .null, error: StratumError(.other, "line too long"))])
            session.pool.logger.info("stratum: closing \(session.peer): a line longer than \(limit) bytes")
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

    /// Called for every handler added, whether or not the channel ever became active; the
    /// pool ignores a second close of the same session.
    func handlerRemoved(context: ChannelHandlerContext) {
        session.pool.close(session)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
