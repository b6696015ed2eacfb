import Consensus
import Primitives
import Testing
@testable import Wallet

@Suite struct AddressTests {
    /// The worked example of docs/PROTOCOL.md, "Addresses": key hash 00 01 02 ... 1f.
    static let exampleHash = Hash256(bytes: (0..<32).map { UInt8($0) })!
    static let examples = [
        "mainnet": "rc1qqqqsyqcyq5rqwzqfpg9scrgwpugpzysnzs23v9ccrydpk8qarc0s8j5w00",
        "testnet": "trc1qqqqsyqcyq5rqwzqfpg9scrgwpugpzysnzs23v9ccrydpk8qarc0sxtxf7q",
        "regtest": "rcrt1qqqqsyqcyq5rqwzqfpg9scrgwpugpzysnzs23v9ccrydpk8qarc0sgrj9e8",
    ]

    @Test func workedExampleMatchesTheSpecification() throws {
        for (network, text) in Self.examples {
            let address = Address(keyHash: Self.exampleHash, network: network)
            #expect(address.text == text)
            #expect(address.description == text)
            #expect(try Address(parsing: text, network: network) == address)
            // Upper case is the same address (QR codes); mixed case is not.
            #expect(try Address(parsing: text.uppercased(), network: network) == address)
        }
    }

    @Test func roundTripsRandomHashesAndLockScripts() throws {
        var generator = SeededGenerator(seed: 7)
        for _ in 0..<200 {
            let hash = Hash256(bytes: generator.bytes(32))!
            let address = Address(keyHash: hash, network: "regtest")
            #expect(try Address(parsing: address.text, network: "regtest").keyHash == hash)
            #expect(address.lockScript == StandardScript.payToKeyHash(hash))
            #expect(Address.from(lockScript: address.lockScript, network: "regtest") == address)
        }
    }

    @Test func nonStandardScriptsHaveNoAddress() {
        let script = StandardScript.payToKeyHash(Self.exampleHash)
        #expect(Address.from(lockScript: Array(script.dropLast()), network: "regtest") == nil)
        var changed = script
        changed[0] = Opcode.drop.rawValue
        #expect(Address.from(lockScript: changed, network: "regtest") == nil)
        #expect(Address.from(lockScript: [], network: "regtest") == nil)
        #expect(Address.from(lockScript: StandardScript.multisig(required: 1, of: [[UInt8](repeating: 2, count: 32)]), network: "regtest") == nil)
    }

    @Test func everySingleCharacterSubstitutionIsDetected() {
        let text = Self.examples["regtest"]!
        let characters = Array(text)
        let alphabet = Array("qpzry9x8gf2tvdw0s3jn54khce6mua7l")
        // Every position after the prefix, every other alphabet letter: bech32m's BCH code
        // detects any single substitution.
        for position in 5..<characters.count {
            for replacement in alphabet where replacement != characters[position] {
                var changed = characters
                changed[position] = replacement
                #expect(throws: AddressError.badChecksum) { try Address(parsing: String(changed), network: "regtest") }
            }
        }
    }

    @Test func eachCorruptionClassIsNamed() {
        let text = Self.examples["regtest"]!
        #expect(throws: AddressError.wrongNetwork(expected: "rc", found: "rcrt")) { try Address(parsing: text, network: "mainnet") }
        var mixed = Array(text)
        mixed[6] = Character(mixed[6].uppercased())
        #expect(throws: AddressError.mixedCase) { try Address(parsing: String(mixed), network: "regtest") }
        #expect(throws: AddressError.invalidDataCharacter(position: 7)) {
            try Address(parsing: String(text.prefix(7)) + "b" + text.dropFirst(8), network: "regtest")
        }
        #expect(throws: AddressError.missingSeparator) { try Address(parsing: "rcrtqqqq", network: "regtest") }
        // Swapped neighbours.
        var swapped = Array(text)
        swapped.swapAt(20, 22)
        #expect(throws: AddressError.badChecksum) { try Address(parsing: String(swapped), network: "regtest") }
        // A dropped character.
        #expect(throws: AddressError.badChecksum) { try Address(parsing: String(text.prefix(30)) + text.dropFirst(31), network: "regtest") }
        // Valid checksums over the wrong content: a short payload, a version 1, set padding bits.
        let short = Bech32m.encode(prefix: "rcrt", data: [0] + Bech32m.regroup([UInt8](repeating: 9, count: 20), from: 8, to: 5, pad: true)!)
        #expect(throws: AddressError.badLength(20)) { try Address(parsing: short, network: "regtest") }
        let versionOne = Bech32m.encode(prefix: "rcrt", data: [1] + Bech32m.regroup(Self.exampleHash.bytes, from: 8, to: 5, pad: true)!)
        #expect(throws: AddressError.unsupportedVersion(1)) { try Address(parsing: versionOne, network: "regtest") }
        var padded = [UInt8(0)] + Bech32m.regroup(Self.exampleHash.bytes, from: 8, to: 5, pad: true)!
        padded[padded.count - 1] |= 1 // one of the 4 padding bits
        #expect(throws: AddressError.nonZeroPadding) { try Address(parsing: Bech32m.encode(prefix: "rcrt", data: padded), network: "regtest") }
        #expect(throws: AddressError.badLength(0)) { try Address(parsing: Bech32m.encode(prefix: "rcrt", data: []), network: "regtest") }
        #expect(throws: AddressError.tooLong(91)) { try Address(parsing: text + String(repeating: "q", count: 91 - text.count), network: "regtest") }
        #expect(throws: AddressError.missingSeparator) { try Address(parsing: "", network: "regtest") }
    }

    /// BIP 350's published test vectors for the bech32m checksum
    /// (https://github.com/bitcoin/bips/blob/master/bip-0350.mediawiki, "Test vectors").
    @Test func bip350ChecksumVectors() throws {
        let valid = [
            "A1LQFN3A",
            "a1lqfn3a",
            "an83characterlonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11sg7hg6",
            "abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx",
            "11llllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllludsr8",
            "split1checkupstagehandshakeupstreamerranterredcaperredlc445v",
            "?1v759aa",
        ]
        for text in valid {
            let (prefix, data) = try Bech32m.decode(text)
            #expect(Bech32m.encode(prefix: prefix, data: data) == text.lowercased())
        }
        let invalid: [(String, AddressError)] = [
            ("\u{20}1xj0phk", .invalidPrefixCharacter(position: 0)),
            ("\u{7F}1g6xzxy", .invalidPrefixCharacter(position: 0)),
            ("\u{80}1vctc34", .invalidPrefixCharacter(position: 0)),
            ("an84characterslonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11d6pts4", .tooLong(91)),
            ("qyrz8wqd2c9m", .missingSeparator),
            ("1qyrz8wqd2c9m", .emptyPrefix),
            ("y1b0jsk6g", .invalidDataCharacter(position: 2)),
            ("lt1igcx5c0", .invalidDataCharacter(position: 3)),
            ("in1muywd", .tooShortChecksum),
            ("mm1crxm3i", .invalidDataCharacter(position: 8)),
            ("au1s5cgom", .invalidDataCharacter(position: 7)),
            ("M1VUXWEZ", .badChecksum),
            ("16plkw9", .emptyPrefix),
            ("1p2gdwpf", .emptyPrefix),
        ]
        for (text, error) in invalid {
            #expect(throws: error) { try Bech32m.decode(text) }
        }
    }
}
