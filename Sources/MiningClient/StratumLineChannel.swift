// The pool connection's channel handler: lines framed by the shared `StratumLineFramer`
// (bounded at `StratumMessage.maxClientLineBytes`: a pool that sends a longer one is cut off,
// it is broken or hostile), each parsed into a `StratumMessage` and handed to the session on
// the event loop. Also the subscribe answer's parsing, shared with the load generator.

import JSONRPC
import NIOCore
import Stratum

/// Parses each framed line and passes it to the session; a line that is no message is reported and skipped.
final class StratumMessageHandler: ChannelInboundHandler {
    typealias InboundIn = StratumFramedLine
    let session: StratumSession
    let generation: Int

    init(session: StratumSession, generation: Int) {
        self.session = session
        self.generation = generation
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .line(let line):
            do {
                let message = try StratumMessage(line: line.readableBytesView)
                session.handle(message, generation: generation)
            } catch {
                session.malformed("\(error)", generation: generation)
            }
        case .tooLong(let limit):
            session.noteCloseReason("the pool sent a line longer than \(limit) bytes", generation: generation)
            context.close(promise: nil)
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

/// The `mining.subscribe` result: [subscriptions, extranonce1 hex, extranonce2_size].
enum StratumSubscribeAnswer {
    struct Unusable: Error, CustomStringConvertible {
        var description: String
    }

    /// The connection's nonce prefix, when extranonce1 is hex and extranonce2_size fits it.
    static func prefix(_ result: JSON) throws(Unusable) -> NoncePrefix {
        guard let items = result.arrayValue, items.count >= 3, let text = items[1].stringValue, let found = NoncePrefix(hex: text) else {
            throw Unusable(description: "the mining.subscribe answer has no usable extranonce1 (expected [subscriptions, hex prefix, size]): \(result.text())")
        }
        guard let size = items[2].int64Value, size == found.suffixByteCount else {
            throw Unusable(description: "the mining.subscribe answer's extranonce2_size \(items[2].text()) does not fit a \(found.byteCount)-byte prefix")
        }
        return found
    }
}
