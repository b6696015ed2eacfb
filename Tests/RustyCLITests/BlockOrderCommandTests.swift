import ChainGen
import ChainParams
import ChainState
import Consensus
import Foundation
import Primitives
import Testing
import TestSupport

/// Block order (issue #11, item 4): verify-chain connects blocks whatever order the input
/// holds them in, names every block it could not connect and every gap and reorganisation,
/// and pipeline and --sequential agree.
@Suite(.serialized)
struct BlockOrderCommandTests {
    static let modes: [[String]] = [[], ["--sequential"]]

    /// The records of a block file, each with its frame.
    static func records(_ url: URL) throws -> [[UInt8]] {
        let bytes = [UInt8](try Data(contentsOf: url))
        var out = [[UInt8]](), offset = 0
        while offset + 8 <= bytes.count {
            let length = Int(bytes[offset + 4]) | Int(bytes[offset + 5]) << 8 | Int(bytes[offset + 6]) << 16 | Int(bytes[offset + 7]) << 24
            out.append(Array(bytes[offset..<offset + 8 + length]))
            offset += 8 + length
        }
        return out
    }

    static func write(_ records: [[UInt8]], _ url: URL) throws { try Data(records.flatMap { $0 }).write(to: url) }

    @Test("shuffled, reversed, half-swapped and duplicated inputs end at the ordered input's state in both modes")
    func anyOrder() throws {
        let seed = UInt64(Date().timeIntervalSince1970 * 1000) % 1_000_000_007
        print("BlockOrderCommandTests seed \(seed)")
        var random = SeededGenerator(seed: seed)
        let file = Rusty.temporary("order").appendingPathExtension("blk"), reordered = Rusty.temporary("reordered").appendingPathExtension("blk")
        defer { for url in [file, reordered] { try? FileManager.default.removeItem(at: url) } }
        let generated = try Rusty.run(["gen-chain", "--blocks", "300", "--txs-per-block", "4", "--seed", "8", "--out", file.path, "--json"])
        #expect(generated.status == 0, "\(generated.stderr)")
        let records = try Self.records(file)
        #expect(records.count == 300)
        var duplicated = records + records.prefix(40)
        duplicated.shuffle(using: &random)
        let orders: [(String, [[UInt8]])] = [
            ("shuffled", records.shuffled(using: &random)), ("reversed", records.reversed()),
            ("151-300 before 1-150", Array(records[150...] + records[..<150])), ("duplicated and shuffled", duplicated),
        ]
        for (name, order) in orders {
            try Self.write(order, reordered)
            for mode in Self.modes {
                let datadir = Rusty.temporary("order-data")
                defer { try? FileManager.default.removeItem(at: datadir) }
                let result = try Rusty.run(["verify-chain", reordered.path, "--datadir", datadir.path, "--json"] + mode)
                #expect(result.status == 0, "\(name) \(mode): \(result.stderr)")
                #expect(result.json["height"] as? Int == 300 && result.json["blocks"] as? Int == 300, "\(name) \(mode)")
                #expect(result.json["utxoDigest"] as? String == generated.json["utxoDigest"] as? String, "\(name) \(mode)")
                #expect(result.json["unconnected"] as? Int == 0)
            }
        }
    }

    @Test("a gap of 100 blocks: exit 1, the gap and every waiting block named, state at the block before; both modes agree")
    func gap() throws {
        let file = Rusty.temporary("gap").appendingPathExtension("blk"), gapped = Rusty.temporary("gapped").appendingPathExtension("blk")
        defer { for url in [file, gapped] { try? FileManager.default.removeItem(at: url) } }
        let generated = try Rusty.run(["gen-chain", "--blocks", "300", "--txs-per-block", "2", "--seed", "9", "--out", file.path])
        #expect(generated.status == 0, "\(generated.stderr)")
        let records = try Self.records(file)
        try Self.write(Array(records[..<100] + records[200...]), gapped)
        var outputs = [String]()
        for mode in Self.modes {
            let datadir = Rusty.temporary("gap-data")
            defer { try? FileManager.default.removeItem(at: datadir) }
            let result = try Rusty.run(["verify-chain", gapped.path, "--datadir", datadir.path, "--json"] + mode)
            #expect(result.status == 1, "\(mode): \(result.stderr)")
            #expect(result.json["height"] as? Int == 100 && result.json["unconnected"] as? Int == 100, "\(mode)")
            let lines = result.stderr.split(separator: "\n")
            #expect(lines.filter { $0.contains("gap: block 201 ") && $0.contains("needs block 200") && $0.contains("100 blocks wait on it") }.count == 1,
                    "\(mode): \(result.stderr.prefix(600))")
            #expect(lines.filter { $0.contains("not connected: parent") }.count == 100)
            outputs.append(lines.filter { $0.contains("gap:") }.joined())
            // The blocks were not lost from view: given the missing ones, a rerun connects everything.
            let rest = Rusty.temporary("rest").appendingPathExtension("blk")
            defer { try? FileManager.default.removeItem(at: rest) }
            try Self.write(Array(records[100..<200]), rest)
            let completed = try Rusty.run(["verify-chain", rest.path, gapped.path, "--datadir", datadir.path, "--json"] + mode)
            #expect(completed.status == 0 && completed.json["height"] as? Int == 300, "\(mode): \(completed.stderr)")
        }
        #expect(outputs[0] == outputs[1], "pipeline and sequential name the same gap")
    }

    @Test("an invalid block that arrives before its parent is rejected with exit 1, in both modes")
    func invalidBeforeParent() throws {
        let parameters = try ConsensusParameters(ChainParameters.builtIn("regtest"))
        var generator = ChainGenerator(parameters: parameters, seed: 4, transactionsPerBlock: 5)
        var blocks = (0..<106).map { _ in generator.nextBlock() }
        blocks[104].transactions[2].witnesses[0][0][10] ^= 0x20
        ChainGenerator.seal(&blocks[104])
        var order = blocks
        order.swapAt(103, 104) // block 105 (bad) before block 104, its parent
        let file = Rusty.temporary("invalid-early").appendingPathExtension("blk")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(order.flatMap { BlockFile.encodeRecord($0, magic: parameters.magic) }).write(to: file)
        for mode in Self.modes {
            let datadir = Rusty.temporary("invalid-early-data")
            defer { try? FileManager.default.removeItem(at: datadir) }
            let result = try Rusty.run(["verify-chain", file.path, "--datadir", datadir.path, "--json"] + mode)
            #expect(result.status == 1, "\(mode): \(result.stderr)")
            #expect(result.stderr.contains("block 105 (\(blocks[104].hash.hex)) rejected: script-signature"), "\(mode): \(result.stderr)")
            #expect(result.json["height"] as? Int == 104)
        }
    }

    @Test("a heavier branch after the first: the reorganisation is reported, exit 0, both modes")
    func reorganisation() throws {
        let parameters = try ConsensusParameters(ChainParameters.builtIn("regtest"))
        var first = ChainGenerator(parameters: parameters, seed: 11, transactionsPerBlock: 2)
        var second = ChainGenerator(parameters: parameters, seed: 12, transactionsPerBlock: 2)
        let branchA = (0..<20).map { _ in first.nextBlock() }, branchB = (0..<25).map { _ in second.nextBlock() }
        let file = Rusty.temporary("reorg").appendingPathExtension("blk")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data((branchA + branchB).flatMap { BlockFile.encodeRecord($0, magic: parameters.magic) }).write(to: file)
        for mode in Self.modes {
            let datadir = Rusty.temporary("reorg-data")
            defer { try? FileManager.default.removeItem(at: datadir) }
            let result = try Rusty.run(["verify-chain", file.path, "--datadir", datadir.path, "--json"] + mode)
            #expect(result.status == 0, "\(mode): \(result.stderr)")
            #expect(result.json["reorganizations"] as? Int == 1 && result.json["bestHash"] as? String == branchB.last!.hash.hex)
            #expect(result.stderr.contains("reorganisation at height 0: 20 blocks disconnected (tip 20 \(branchA.last!.hash.hex))"),
                    "\(mode): \(result.stderr)")
        }
    }
}
