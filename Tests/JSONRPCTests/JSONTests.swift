import JSONRPC
import Testing

@Suite("JSON values, parser and writer")
struct JSONTests {
    @Test("documents round-trip through the writer and the parser, compact and pretty, key order kept")
    func roundTrip() throws {
        var generator = SplitMix(seed: 0x5eed)
        for _ in 0..<500 {
            let value = Self.randomJSON(&generator, depth: 0)
            #expect(try JSONParser.parse(value.serialized()) == value)
            #expect(try JSONParser.parse(value.serialized(pretty: true)) == value)
        }
        let ordered: JSON = ["z": 1, "a": 2, "m": 3]
        #expect(ordered.text() == #"{"z":1,"a":2,"m":3}"#)
    }

    @Test("an object from distinct keys keeps their order and equals one built member by member")
    func uniqueKeys() {
        let pairs: [(String, JSON)] = (0..<1_000).map { ("k\($0)", .int(Int64($0))) }
        let built = JSONObject(uniqueKeysWithValues: pairs)
        var assigned = JSONObject()
        for (key, value) in pairs { assigned[key] = value }
        #expect(built == assigned && built.keys == pairs.map(\.0) && built["k999"] == .int(999))
    }

    @Test("numbers keep their exact text; amounts parse as fixed point without binary rounding")
    func numbers() throws {
        #expect(try JSONParser.parse("0.00001000") == .number("0.00001000"))
        #expect(JSONNumber.fixedPointUnits("0.1", scale: 8) == 10_000_000)
        #expect(JSONNumber.fixedPointUnits("20999999.97690000", scale: 8) == 2_099_999_997_690_000)
        #expect(JSONNumber.fixedPointUnits("1e-8", scale: 8) == 1)
        #expect(JSONNumber.fixedPointUnits("1e-9", scale: 8) == nil)
        #expect(JSONNumber.fixedPointUnits("0.000000001", scale: 8) == nil)
        #expect(JSONNumber.fixedPointUnits("0.0000000010", scale: 8) == nil)
        #expect(JSONNumber.fixedPointUnits("0.000000010", scale: 8) == 1)
        #expect(JSONNumber.fixedPointUnits("-2.5", scale: 8) == -250_000_000)
        #expect(JSONNumber.fixedPointUnits("1e300", scale: 8) == nil)
        #expect(JSONNumber.fixedPointUnits("92233720368.54775808", scale: 8) == nil)
        #expect(JSON.decimal(1) == .number("0.00000001"))
        #expect(JSON.decimal(123_456_789_012) == .number("1234.56789012"))
        #expect(JSON.number("5.0").int64Value == 5)
        #expect(JSON.number("5.5").int64Value == nil)
        #expect(JSON.number("1e2").int64Value == 100)
        #expect(JSON.double(0.5) == .number("0.5"))
        #expect(JSON.double(.infinity) == .null)
    }

    @Test("strings: escapes, surrogate pairs, control characters and invalid UTF-8")
    func strings() throws {
        #expect(try JSONParser.parse(#""a\"b\\c\/d\n\u00e9\ud83d\ude00""#) == .string("a\"b\\c/d\né😀"))
        #expect(JSON.string("x\u{1}y\n").text() == #""x\u0001y\n""#)
        for bad in [#""\ud83d""#, #""\ude00""#, #""\x""#, "\"a\u{1}\"", #""abc"#, "\"\\u12\""] {
            #expect(throws: JSONParseError.self, "\(bad)") { try JSONParser.parse(bad) }
        }
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0xFF, 0x22]) }
    }

    @Test("malformed documents are errors naming the offset; nesting is bounded")
    func malformed() throws {
        for bad in ["", "{", "[1,]", "{\"a\"}", "{\"a\":1,}", "01", "1.", "-", "1e", "tru", "nul", "[1 2]", "{} x", "+1", ".5", "NaN"] {
            #expect(throws: JSONParseError.self, "\(bad)") { try JSONParser.parse(bad) }
        }
        let error = #expect(throws: JSONParseError.self) { try JSONParser.parse("[1, 2, x]") }
        #expect(error?.offset == 7)
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        let nesting = #expect(throws: JSONParseError.self) { try JSONParser.parse(deep) }
        #expect(nesting?.reason.contains("nesting") == true)
        #expect(try JSONParser.parse(String(repeating: "[", count: 64) + String(repeating: "]", count: 64), maxDepth: 64) != .null)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(String(repeating: "[", count: 65) + String(repeating: "]", count: 65), maxDepth: 64) }
    }

    static func randomJSON(_ generator: inout SplitMix, depth: Int) -> JSON {
        let choice = depth > 3 ? Int(generator.next() % 4) : Int(generator.next() % 6)
        switch choice {
        case 0: return .null
        case 1: return .bool(generator.next() & 1 == 0)
        case 2:
            let texts = ["0", "-1", "12345678901234567890", "0.5", "-0.00000001", "1e10", "2.5E-3", "-0"]
            return .number(texts[Int(generator.next() % UInt64(texts.count))])
        case 3:
            let scalars = (0..<Int(generator.next() % 8)).map { _ in
                Character(Unicode.Scalar([0x41, 0x22, 0x5C, 0x0A, 0x01, 0xE9, 0x1F600, 0x7F][Int(generator.next() % 8)])!)
            }
            return .string(String(scalars))
        case 4: return .array((0..<Int(generator.next() % 4)).map { _ in randomJSON(&generator, depth: depth + 1) })
        default:
            var object = JSONObject()
            for index in 0..<Int(generator.next() % 4) { object["k\(index)\(generator.next() % 3)"] = randomJSON(&generator, depth: depth + 1) }
            return .object(object)
        }
    }
}

/// A small deterministic generator (SplitMix64), so failures reproduce.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
