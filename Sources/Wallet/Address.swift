// Addresses: a P2KH key hash in bech32m text (BIP 350's checksum), docs/PROTOCOL.md
// section "Addresses".

import Consensus
import Primitives

/// What is wrong with an address or a bech32m string.
public enum AddressError: Error, Equatable, Sendable, CustomStringConvertible {
    case mixedCase
    case tooLong(Int)
    case missingSeparator
    case emptyPrefix
    case invalidPrefixCharacter(position: Int)
    case invalidDataCharacter(position: Int)
    case tooShortChecksum
    case badChecksum
    case wrongNetwork(expected: String, found: String)
    case unknownNetwork(String)
    case unsupportedVersion(UInt8)
    case badLength(Int)
    case nonZeroPadding

    public var description: String {
        switch self {
        case .mixedCase: return "address mixes upper and lower case"
        case .tooLong(let count): return "address is \(count) characters long, more than \(Bech32m.maxLength)"
        case .missingSeparator: return "address has no '1' separator"
        case .emptyPrefix: return "address has an empty network prefix"
        case .invalidPrefixCharacter(let position): return "invalid character in the network prefix at position \(position)"
        case .invalidDataCharacter(let position): return "invalid bech32 character at position \(position)"
        case .tooShortChecksum: return "address is too short to hold a checksum"
        case .badChecksum: return "address checksum is wrong (a mistyped character?)"
        case let .wrongNetwork(expected, found): return "address is for prefix '\(found)', this network uses '\(expected)'"
        case .unknownNetwork(let name): return "no address prefix for network '\(name)'"
        case .unsupportedVersion(let version): return "unsupported address version \(version)"
        case .badLength(let count): return "address holds \(count) bytes, a key hash is 32"
        case .nonZeroPadding: return "address has non-zero padding bits"
        }
    }
}

/// Bech32m (BIP 350): a human-readable prefix, the separator '1', 5-bit data in a 32-letter
/// alphabet and a 6-character BCH checksum over both, with the constant 0x2bc830a3.
public enum Bech32m {
    public static let alphabet = Array("qpzry9x8gf2tvdw0s3jn54khce6mua7l".utf8)
    public static let checksumConstant: UInt32 = 0x2bc8_30a3
    /// BIP 173's limit on the whole string.
    public static let maxLength = 90
    private static let reverseAlphabet: [Int8] = {
        var table = [Int8](repeating: -1, count: 128)
        for (index, character) in alphabet.enumerated() { table[Int(character)] = Int8(index) }
        return table
    }()

    static func polymod(_ values: [UInt8]) -> UInt32 {
        let generator: [UInt32] = [0x3b6a_57b2, 0x2650_8e6d, 0x1ea1_19fa, 0x3d42_33dd, 0x2a14_62b3]
        var checksum: UInt32 = 1
        for value in values {
            let top = checksum >> 25
            checksum = (checksum & 0x1ff_ffff) << 5 ^ UInt32(value)
            for bit in 0..<5 where (top >> bit) & 1 == 1 { checksum ^= generator[bit] }
        }
        return checksum
    }

    /// The prefix as the checksum sees it: each character's high 3 bits, a zero, then the low 5 bits.
    static func expand(_ prefix: [UInt8]) -> [UInt8] { prefix.map { $0 >> 5 } + [0] + prefix.map { $0 & 31 } }

    /// The string for a lower-case prefix and 5-bit values.
    public static func encode(prefix: String, data: [UInt8]) -> String {
        let hrp = Array(prefix.utf8)
        let mod = polymod(expand(hrp) + data + [0, 0, 0, 0, 0, 0]) ^ checksumConstant
        let checksum = (0..<6).map { UInt8((mod >> (5 * (5 - $0))) & 31) }
        return String(decoding: hrp + [UInt8(ascii: "1")] + (data + checksum).map { alphabet[Int($0)] }, as: UTF8.self)
    }

    /// The lower-case prefix and the 5-bit values (checksum removed) of a valid bech32m string.
    public static func decode(_ text: String) throws(AddressError) -> (prefix: String, data: [UInt8]) {
        let characters = Array(text.utf8)
        guard characters.count <= maxLength else { throw .tooLong(characters.count) }
        var hasLower = false, hasUpper = false
        for (position, character) in characters.enumerated() {
            guard character >= 33 && character <= 126 else { throw .invalidPrefixCharacter(position: position) }
            if character >= UInt8(ascii: "a") && character <= UInt8(ascii: "z") { hasLower = true }
            if character >= UInt8(ascii: "A") && character <= UInt8(ascii: "Z") { hasUpper = true }
        }
        if hasLower && hasUpper { throw .mixedCase }
        let lower = characters.map { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") ? $0 + 32 : $0 }
        guard let separator = lower.lastIndex(of: UInt8(ascii: "1")) else { throw .missingSeparator }
        guard separator > 0 else { throw .emptyPrefix }
        let hrp = Array(lower[..<separator])
        var values = [UInt8]()
        for position in (separator + 1)..<lower.count {
            let value = reverseAlphabet[Int(lower[position])]
            guard value >= 0 else { throw .invalidDataCharacter(position: position) }
            values.append(UInt8(value))
        }
        guard values.count >= 6 else { throw .tooShortChecksum }
        guard polymod(expand(hrp) + values) == checksumConstant else { throw .badChecksum }
        return (String(decoding: hrp, as: UTF8.self), Array(values.dropLast(6)))
    }

    /// Regroups bits (8 -> 5 when encoding, padding with zeros; 5 -> 8 when decoding, where
    /// the leftover must be fewer than `from` bits and all zero). Nil on bad padding.
    static func regroup(_ values: [UInt8], from: Int, to: Int, pad: Bool) -> [UInt8]? {
        var accumulator: UInt32 = 0, bits = 0
        var out = [UInt8]()
        let mask = UInt32(1 << to) - 1
        for value in values {
            accumulator = accumulator << from | UInt32(value)
            bits += from
            while bits >= to {
                bits -= to
                out.append(UInt8((accumulator >> UInt32(bits)) & mask))
            }
            accumulator &= UInt32(1 << bits) - 1
        }
        if pad {
            if bits > 0 { out.append(UInt8((accumulator << UInt32(to - bits)) & mask)) }
        } else if bits >= from || accumulator != 0 {
            return nil
        }
        return out
    }
}

/// A pay-to-key-hash address: the BLAKE3 hash of an Ed25519 public key, for one network.
/// Text: bech32m with the network's prefix, data = version 0 then the 32-byte hash in 5-bit groups.
public struct Address: Hashable, Sendable, CustomStringConvertible {
    public let keyHash: Hash256
    /// The bech32m prefix ("rc", "trc", "rcrt").
    public let prefix: String
    public static let version: UInt8 = 0

    /// The prefix of each built-in network; nil for others.
    public static func prefix(network: String) -> String? {
        switch network {
        case "mainnet": return "rc"
        case "testnet": return "trc"
        case "regtest": return "rcrt"
        default: return nil
        }
    }

    /// An unknown network name is used itself as the prefix (lower-cased), so custom
    /// networks still get distinct, valid addresses.
    public init(keyHash: Hash256, network: String) {
        self.keyHash = keyHash
        prefix = Address.prefix(network: network) ?? network.lowercased()
    }

    public init(parsing text: String, network: String) throws(AddressError) {
        let expected = Address.prefix(network: network) ?? network.lowercased()
        let (found, data) = try Bech32m.decode(text)
        guard found == expected else { throw .wrongNetwork(expected: expected, found: found) }
        guard let version = data.first else { throw .badLength(0) }
        guard version == Address.version else { throw .unsupportedVersion(version) }
        guard let bytes = Bech32m.regroup(Array(data.dropFirst()), from: 5, to: 8, pad: false) else { throw .nonZeroPadding }
        guard let hash = Hash256(bytes: bytes) else { throw .badLength(bytes.count) }
        keyHash = hash
        prefix = expected
    }

    public var text: String {
        Bech32m.encode(prefix: prefix, data: [Address.version] + Bech32m.regroup(keyHash.bytes, from: 8, to: 5, pad: true)!)
    }

    public var description: String { text }

    /// The standard output script paying this address.
    public var lockScript: [UInt8] { StandardScript.payToKeyHash(keyHash) }

    /// The address of a standard P2KH output script; nil for any other script.
    public static func from(lockScript: [UInt8], network: String) -> Address? {
        guard let hash = keyHash(lockScript: lockScript) else { return nil }
        return Address(keyHash: hash, network: network)
    }

    /// The key hash of a standard P2KH output script; nil for any other script.
    public static func keyHash(lockScript: [UInt8]) -> Hash256? {
        // DUP BLAKE3 PUSH32 <hash> EQUALVERIFY CHECKSIG
        guard lockScript.count == 37, let hash = Hash256(bytes: Array(lockScript[3..<35])),
              StandardScript.payToKeyHash(hash) == lockScript else { return nil }
        return hash
    }
}
