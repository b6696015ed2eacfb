// The NIO side of a peer connection: bytes to typed messages, and events to the peer manager.

import NIOCore
import Wire

/// Splits the byte stream into messages. The 24-byte header is checked (magic, command, the
/// command's length limit) as soon as it is in, before any of the payload is buffered, so a
/// peer can make this node hold at most one allowed frame; then the checksum, then the strict
/// payload decoding. Any failure is thrown: the handler after it treats that as misbehaviour.
final class WireFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = InboundFrame
    private let magic: [UInt8]
    /// Whether a block was asked of this peer: only then may a `block` frame exceed the
    /// ordinary limit (PROTOCOL 12.1). Asked once per frame, when its header is in.
    private let blockRequested: () -> Bool
    /// The large frame being received was admitted.
    private var largeFrameAdmitted = false

    init(magic: [UInt8], blockRequested: @escaping () -> Bool) {
        self.magic = magic
        self.blockRequested = blockRequested
    }

    func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let headerBytes = buffer.getBytes(at: buffer.readerIndex, length: WireLimits.headerSize) else { return .needMoreData }
        let header = try FrameHeader.parse(headerBytes, magic: magic)
        if Int(header.length) > WireLimits.maxPayload && !largeFrameAdmitted {
            guard blockRequested() else { throw WireError.unrequestedLargeBlock(length: header.length, limit: WireLimits.maxPayload) }
            largeFrameAdmitted = true
        }
        let frameSize = WireLimits.headerSize + Int(header.length)
        guard buffer.readableBytes >= frameSize else { return .needMoreData }
        largeFrameAdmitted = false
        buffer.moveReaderIndex(forwardBy: WireLimits.headerSize)
        let payload = buffer.readBytes(length: Int(header.length)) ?? []
        try header.verify(payload: payload)
        let message = try Message.decode(command: header.command, payload: payload)
        context.fireChannelRead(wrapInboundOut(InboundFrame(message: message, size: frameSize)))
        return .continue
    }

    func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A frame cut short by the close is dropped with the connection.
        buffer.moveReaderIndex(to: buffer.writerIndex)
        return .needMoreData
    }
}

/// A decoded message and the bytes it took on the wire (for the per-peer counters).
struct InboundFrame {
    var message: Message
    var size: Int
}

/// Forwards a connection's events to the peer manager, on the manager's event loop.
final class PeerChannelHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = InboundFrame
    private let manager: PeerManager
    private let id: Int

    init(manager: PeerManager, id: Int) {
        self.manager = manager
        self.id = id
    }

    func channelActive(context: ChannelHandlerContext) {
        manager.channelActive(id)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        manager.received(frame.message, size: frame.size, from: id)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { manager.writable(id) }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        manager.channelError(error, from: id)
    }

    func channelInactive(context: ChannelHandlerContext) {
        manager.channelClosed(id)
        context.fireChannelInactive()
    }
}
