import ArgumentParser
import Ed25519
import Foundation

// Secret seeds for `sig keygen` and `sig sign`: read from a file or standard input into memory
// that is wiped, decoded and printed as hex without branching on the secret digits.

/// Why a secret option is refused, and what to use instead.
func secretArgumentRemoved(_ option: String, replacement: String) -> String {
    "\(option) was removed: a secret on the command line is visible to every local user (ps, /proc/PID/cmdline) " +
        "and kept in shell history. Put the 64 hex digits in a file only you can read and pass \(replacement) FILE, " +
        "or pipe them with \(replacement) -"
}

/// A 32-byte seed in memory allocated here, never in a Swift array (whose copy-on-write
/// copies could not all be wiped); wiped when released.
final class SecretSeed {
    let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: Ed25519.seedLength, alignment: 8)
    init() { bytes.initializeMemory(as: UInt8.self, repeating: 0) }
    deinit {
        Ed25519.wipe(bytes)
        bytes.deallocate()
    }
}

/// A key file holds 64 hex digits and optional whitespace; anything longer is not one.
let maximumKeyFileSize = 4096

/// Reads the seed from `path` ('-': standard input) with read(2) into a buffer that is
/// wiped before it is freed. Warns when others may read the file.
func readSeed(_ path: String, option: String) throws -> SecretSeed {
    let fd = path == "-" ? 0 : open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw ValidationError("\(option) \(path): \(String(cString: strerror(errno)))") }
    defer { if fd != 0 { close(fd) } }
    var info = stat()
    if fd != 0, fstat(fd, &info) == 0 {
        if (info.st_mode & S_IFMT) == S_IFDIR { throw ValidationError("\(option) \(path): is a directory") }
        if info.st_mode & 0o077 != 0 {
            printError("rusty: warning: key file \(path) can be read by other users (mode \(String(info.st_mode & 0o777, radix: 8))); chmod 600 it")
        }
    }
    let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: maximumKeyFileSize + 1, alignment: 8)
    defer {
        Ed25519.wipe(raw)
        raw.deallocate()
    }
    var length = 0
    while length < raw.count {
        let got = read(fd, raw.baseAddress! + length, raw.count - length)
        if got < 0 && errno == EINTR { continue }
        guard got >= 0 else { throw ValidationError("\(option) \(path): \(String(cString: strerror(errno)))") }
        if got == 0 { break }
        length += got
    }
    guard length <= maximumKeyFileSize else { throw ValidationError("\(option) \(path): not a key file (more than \(maximumKeyFileSize) bytes)") }
    let seed = SecretSeed()
    guard decodeSeedHex(UnsafeRawBufferPointer(rebasing: raw[0..<length]), into: seed.bytes) else {
        throw ValidationError("\(option) \(path): expected the 32-byte seed as 64 hex digits")
    }
    return seed
}

/// Decodes exactly 64 hex digits (surrounded by optional ASCII whitespace) into `out`.
/// The digits are secret, so they are decoded without branches or table look-ups on
/// their values; only the final verdict and the whitespace trim branch.
func decodeSeedHex(_ text: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) -> Bool {
    func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 }
    var start = 0, end = text.count
    while start < end && isSpace(text[start]) { start += 1 }
    while end > start && isSpace(text[end - 1]) { end -= 1 }
    guard end - start == 2 * Ed25519.seedLength else { return false }
    // Per character: a mask of all ones when it is a digit / a letter a-f (either case).
    var invalid: UInt8 = 0
    func nibble(_ c: UInt8) -> UInt8 {
        let digit = c ^ 0x30 // 0...9 for '0'...'9'
        let digitMask = UInt8(truncatingIfNeeded: (UInt16(digit) &- 10) >> 8)
        let letter = (c | 0x20) &- 0x61 // 0...5 for 'a'...'f'
        let letterMask = UInt8(truncatingIfNeeded: (UInt16(letter) &- 6) >> 8)
        invalid |= ~(digitMask | letterMask)
        return (digit & digitMask) | ((letter &+ 10) & letterMask)
    }
    for index in 0..<Ed25519.seedLength {
        out[index] = nibble(text[start + 2 * index]) << 4 | nibble(text[start + 2 * index + 1])
    }
    return invalid == 0
}

/// Lower-case hex of `bytes`, appended without an intermediate String.
func appendHex(_ bytes: UnsafeMutableRawBufferPointer, to out: inout [UInt8]) {
    // Branch-free digit: '0' + n, plus 39 more for n >= 10 (to reach 'a').
    func digit(_ nibble: UInt8) -> UInt8 { 0x30 &+ nibble &+ (39 & UInt8(truncatingIfNeeded: (9 &- Int16(nibble)) >> 8)) }
    for byte in bytes {
        out.append(digit(byte >> 4))
        out.append(digit(byte & 15))
    }
}
