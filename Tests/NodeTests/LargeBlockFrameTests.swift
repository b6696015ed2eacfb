import Foundation
import NIOCore
import NIOEmbedded
import Primitives
import Testing
import Wire
@testable import Node

/// PROTOCOL 12.1: a `block` frame above the ordinary 4,001,000-byte limit is buffered only
/// from a peer a block was asked of; otherwise the connection ends at the frame's header.
@Suite("Large block frames", .serialized)
struct LargeBlockFrameTests {
    static let magic = RelayTestNode.regtest.magic

    /// The 24-byte header of a `block` frame announcing `length` payload bytes.
    static func header(length: UInt32) -> [UInt8] {
        FrameHeader(magic: magic, command: "block", length: length, checksum: [0, 0, 0, 0]).encoded
    }

    /// A channel with the node's frame decoder, its block-requested answer read from `requested`.
    static func channel(_ requested: RequestedFlag) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(WireFrameDecoder(magic: magic) { requested.value }))
        return channel
    }

    final class RequestedFlag: @unchecked Sendable {
        var value: Bool
        init(_ value: Bool) { self.value = value }
    }

    @Test("the decoder refuses a large block frame at its header unless a block was requested; an admitted frame stays admitted")
    func decoder() throws {
        let refused = RequestedFlag(false)
        let closed = try Self.channel(refused)
        #expect(throws: WireError.unrequestedLargeBlock(length: 5_000_000, limit: WireLimits.maxPayload)) {
            try closed.writeInbound(ByteBuffer(bytes: Self.header(length: 5_000_000)))
        }
        _ = try? closed.finish()

        // At the ordinary limit the flag is not consulted: such a frame is always read.
        let ordinary = RequestedFlag(false)
        let small = try Self.channel(ordinary)
        try small.writeInbound(ByteBuffer(bytes: Self.header(length: UInt32(WireLimits.maxPayload))))
        #expect(try small.readInbound(as: InboundFrame.self) == nil)
        _ = try? small.finish()

        // Requested: the frame is admitted at its header and stays admitted while it arrives,
        // even if the request is released meanwhile.
        let requested = RequestedFlag(true)
        let admitted = try Self.channel(requested)
        try admitted.writeInbound(ByteBuffer(bytes: Self.header(length: 5_000_000)))
        requested.value = false
        try admitted.writeInbound(ByteBuffer(bytes: [UInt8](repeating: 0, count: 1_000_000)))
        // The whole payload in: its (zero) checksum is wrong, which ends the frame as an error of its own.
        #expect(throws: WireError.badChecksum(command: "block")) {
            try admitted.writeInbound(ByteBuffer(bytes: [UInt8](repeating: 0, count: 4_000_000)))
        }
        _ = try? admitted.finish()
    }

    @Test("a peer no block was asked of that announces a 5 MB block frame is disconnected; others stay", .timeLimit(.minutes(5)))
    func unrequestedPeerIsDisconnected() async throws {
        let node = try RelayTestNode()
        try await node.start()
        do {
            let honest = try await RelayTestPeer.handshaken(with: node)
            let flooder = try await RelayTestPeer.handshaken(with: node)
            flooder.channel.writeAndFlush(flooder.channel.allocator.buffer(bytes: Self.header(length: 5_000_000)), promise: nil)
            #expect(try await eventually { flooder.isClosed })
            #expect(await honest.roundTrip())
            #expect(!honest.isClosed)
        } catch {
            await node.shutdown()
            throw error
        }
        await node.shutdown()
    }
}
