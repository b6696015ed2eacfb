import NIOCore
import NIOEmbedded
import Stratum
import Testing

@Suite("Stratum line framing")
struct StratumLineFramerTests {
    func lines(_ chunks: [String], limit: Int = 32) throws -> [String] {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(StratumLineFramer(maxLineBytes: limit)))
        var out = [String]()
        for chunk in chunks {
            try channel.writeInbound(ByteBuffer(string: chunk))
            while let framed = try channel.readInbound(as: StratumFramedLine.self) {
                switch framed {
                case .line(let buffer): out.append(String(buffer: buffer))
                case .tooLong(let limit): out.append("<too long: \(limit)>")
                }
            }
        }
        _ = try? channel.finish()
        return out
    }

    @Test("lines split at newlines, CR dropped, across any packet boundaries")
    func split() throws {
        #expect(try lines(["a\nbb\r\n", "c", "c", "\n\n"]) == ["a", "bb", "cc", ""])
        let text = "{\"id\":1}\n{\"id\":2}\r\nxyz\n"
        #expect(try lines(text.map { String($0) }) == ["{\"id\":1}", "{\"id\":2}", "xyz"])
    }

    @Test("a line past the limit is reported once and everything after it dropped")
    func tooLong() throws {
        #expect(try lines([String(repeating: "x", count: 33)]) == ["<too long: 32>"])
        #expect(try lines([String(repeating: "x", count: 20), String(repeating: "y", count: 20) + "\nok\n"]) == ["<too long: 32>"])
        #expect(try lines([String(repeating: "x", count: 32) + "\nok\n"]) == [String(repeating: "x", count: 32), "ok"])
        #expect(try lines([String(repeating: "x", count: 33) + "\nok\n"]) == ["<too long: 32>"])
    }

    @Test("a line trickled one byte at a time is found once, in linear time")
    func trickle() throws {
        let long = String(repeating: "z", count: 16_000)
        #expect(try lines(long.map { String($0) } + ["\n"], limit: 16_384) == [long])
    }
}
