import Verification
import Primitives
import Testing

/// The bounded waiting room verify-chain keeps blocks in until their parent connects.
struct WaitingBlocksTests {
    static func hash(_ byte: UInt8) -> Hash256 { Hash256(bytes: [UInt8](repeating: byte, count: 32))! }

    @Test("blocks wait by parent, come back with it, count their descendants, and stop fitting at the byte bound")
    func parkAndRelease() {
        var waiting = WaitingBlocks<String>(maxBytes: 100)
        #expect(waiting.isEmpty)
        // A chain 1 <- 2 <- 3 and a sibling 2' of 2, all before 1 arrives.
        let kept = [waiting.park("3", hash: Self.hash(3), parent: Self.hash(2), bytes: 30),
                    waiting.park("2", hash: Self.hash(2), parent: Self.hash(1), bytes: 30),
                    waiting.park("2'", hash: Self.hash(22), parent: Self.hash(1), bytes: 30),
                    waiting.park("4", hash: Self.hash(4), parent: Self.hash(3), bytes: 30)]
        #expect(kept == [true, true, true, false], "over 100 bytes: not kept")
        #expect(waiting.count == 3 && waiting.bytes == 90 && waiting.contains(Self.hash(2)) && !waiting.contains(Self.hash(4)))
        #expect(waiting.descendantCount(of: Self.hash(1)) == 3)
        #expect(waiting.groups().filter { !waiting.contains($0.parent) }.map(\.parent) == [Self.hash(1)], "one gap: block 1")
        let first = waiting.release(childrenOf: Self.hash(1)), again = waiting.release(childrenOf: Self.hash(1))
        let second = waiting.release(childrenOf: Self.hash(2))
        #expect(Set(first) == ["2", "2'"] && again.isEmpty && second == ["3"])
        #expect(waiting.isEmpty && waiting.bytes == 0 && waiting.all().isEmpty)
    }
}
