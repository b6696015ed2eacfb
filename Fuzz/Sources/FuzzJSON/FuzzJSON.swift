import FuzzSupport
import JSONRPC

/// The RPC server's JSON parser on arbitrary bytes (every authorised client's request body
/// reaches it). It must never trap; what parses must serialise back to a document that parses to the same value,
/// compact and pretty; and a document nested deeper than the bound is an error, never a crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    guard let value = try? JSONParser.parse(bytes, maxDepth: 64) else { return 0 }
    let compact = value.serialized()
    fuzzCheck((try? JSONParser.parse(compact, maxDepth: 64)) == value, "compact re-serialisation parses differently")
    fuzzCheck((try? JSONParser.parse(value.serialized(pretty: true), maxDepth: 64)) == value, "pretty re-serialisation parses differently")
    fuzzCheck(value.serialized() == compact, "serialisation is not deterministic")
    if let text = value.numberText {
        // Fixed-point conversion of any parsed number never traps (nil when out of range).
        _ = JSONNumber.fixedPointUnits(text, scale: 8)
        _ = JSONNumber.integer(text)
    }
    return 0
}
