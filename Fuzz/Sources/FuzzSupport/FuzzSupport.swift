import CFuzzer
import Foundation
import Primitives

/// The fuzz input as a stream of choices. Reads past the end yield zeros, so every input,
/// however short, is a complete program; libFuzzer's comparison tracing then steers the bytes.
public struct FuzzInput {
    public let bytes: [UInt8]
    public private(set) var index = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var isExhausted: Bool { index >= bytes.count }
    public var rest: [UInt8] { index < bytes.count ? Array(bytes[index...]) : [] }

    public mutating func byte() -> UInt8 {
        guard index < bytes.count else { return 0 }
        defer { index += 1 }
        return bytes[index]
    }

    public mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in byte() } }

    /// A value in `0..<bound` (bound at most 256).
    public mutating func below(_ bound: Int) -> Int { Int(byte()) % bound }

    public mutating func bool() -> Bool { byte() & 1 == 1 }

    public mutating func uint16() -> UInt16 { UInt16(byte()) | UInt16(byte()) << 8 }

    public mutating func uint32() -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(byte()) << (8 * $1) } }

    public mutating func uint64() -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(byte()) << (8 * $1) } }
}

/// The input libFuzzer hands over, as an array.
public func fuzzBytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    guard let data, size > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: size))
}

/// A violated property: trap with the reason so libFuzzer saves the input as a crash.
public func fuzzCheck(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
                      file: StaticString = #fileID, line: UInt = #line) {
    if !condition() { fuzzFail(message(), file: file, line: line) }
}

public func fuzzFail(_ message: String, file: StaticString = #fileID, line: UInt = #line) -> Never {
    FileHandle.standardError.write(Data("fuzz property violated at \(file):\(line): \(message)\n".utf8))
    fatalError(message, file: file, line: line)
}

/// What a rejected encoding reports must describe the input it came from: the offset lies in
/// the input and the numbers agree with the case (the CLI prints them to locate bad blocks).
public func checkDecodingError(_ error: any Error, input: [UInt8]) {
    let inputCount = input.count
    guard let error = error as? DecodingError else { fuzzFail("decoding threw \(type(of: error)), not DecodingError: \(error)") }
    switch error {
    case let .truncated(_, offset, needed, available):
        fuzzCheck(offset >= 0 && offset + available <= inputCount, "truncated: offset \(offset) + available \(available) outside \(inputCount) bytes")
        fuzzCheck(needed > available, "truncated but \(needed) needed <= \(available) available")
    case let .trailingBytes(_, offset, count):
        fuzzCheck(count > 0 && offset + count == inputCount, "trailing \(count) bytes at \(offset) of \(inputCount)")
    case let .nonMinimalCompactSize(_, offset, value):
        fuzzCheck(offset >= 0 && offset < inputCount, "non-minimal size at \(offset) of \(inputCount)")
        // The prefix byte at `offset` fixes the width; the value must fit a shorter form.
        let minimum: UInt64 = [0xFD: 0xFD, 0xFE: 0x1_0000, 0xFF: 0x1_0000_0000][input[offset]] ?? 0
        fuzzCheck(value < minimum, "value \(value) after prefix 0x\(String(input[offset], radix: 16)) reported non-minimal")
    case let .countTooLarge(_, offset, count, limit):
        fuzzCheck(count > limit, "count \(count) within limit \(limit) rejected")
        fuzzCheck(offset >= 0 && offset < inputCount, "count at \(offset) of \(inputCount)")
    case let .invalidValue(_, offset, _):
        fuzzCheck(offset >= 0 && offset < inputCount, "invalid value at \(offset) of \(inputCount)")
    }
}

/// Runs libFuzzer on the target's LLVMFuzzerTestOneInput, with the usual command line
/// (corpus folders, -max_total_time=N, ...).
public func runFuzzer() -> Never {
    exit(rusty_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv))
}

/// A rejection's kind and offset with the field name left out (paths differ by context).
public func errorShape(_ error: any Error, shift: Int = 0) -> String {
    guard let error = error as? DecodingError else { return "\(type(of: error))" }
    switch error {
    case let .truncated(_, offset, needed, available): return "truncated \(offset + shift) \(needed) \(available)"
    case let .trailingBytes(_, offset, count): return "trailing \(offset + shift) \(count)"
    case let .nonMinimalCompactSize(_, offset, value): return "non-minimal \(offset + shift) \(value)"
    case let .countTooLarge(_, offset, count, limit): return "too large \(offset + shift) \(count) \(limit)"
    case let .invalidValue(_, offset, reason): return "invalid \(offset + shift) \(reason)"
    }
}
