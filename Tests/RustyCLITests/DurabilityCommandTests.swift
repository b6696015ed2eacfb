import ChainGen
import ChainParams
import ChainState
import Consensus
import Foundation
import Primitives
import Testing
import TestSupport

/// Durable acceptance (issue #11, item 3): what `mine` and `verify-chain` report is on disk
/// after SIGKILL at any moment; start-up replays the block files past the last flush;
/// `--reindex` rebuilds from the block files alone; SIGINT/SIGTERM flush and exit 130/143.
@Suite(.serialized)
struct DurabilityCommandTests {
    static func seed() -> UInt64 {
        let seed = UInt64(Date().timeIntervalSince1970 * 1000) % 1_000_000_007
        print("DurabilityCommandTests seed \(seed)")
        return seed
    }

    /// Removes the database of a datadir (keeping `blocks/`), the way a damaged index is lost.
    static func deleteIndex(_ datadir: URL) throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: datadir.path) where name != "blocks" {
            try FileManager.default.removeItem(at: datadir.appendingPathComponent(name))
        }
    }

    static func info(_ datadir: URL) throws -> [String: Any] {
        let result = try Rusty.run(["utxo-info", "--datadir", datadir.path, "--json"], timeout: 60)
        #expect(result.status == 0, "\(result.stderr)")
        return result.json
    }

    @Test("SIGKILL of mine at random moments: after each, the height is the last block reported (or the one after, durable but not yet printed); reindex without the index gives the same state")
    func mineKilled() throws {
        var random = SeededGenerator(seed: Self.seed())
        let datadir = Rusty.temporary("mine-kill"), copy = Rusty.temporary("mine-kill-copy")
        defer { try? FileManager.default.removeItem(at: datadir); try? FileManager.default.removeItem(at: copy) }
        var height = 0
        for round in 0..<4 {
            let miner = try Background(["mine", "--datadir", datadir.path, "--backend", "scalar", "--key", String(repeating: "5a", count: 32)])
            // Kill once it mines (or at a random moment of start-up in some rounds).
            _ = Background.waitFor(10) { round == 0 || miner.stdout.contains("accepted block") }
            usleep(UInt32.random(in: 0...400_000, using: &random))
            miner.stop(SIGKILL)
            let reported = miner.stdout.split(separator: "\n").compactMap { line -> Int? in
                let words = line.split(separator: " ")
                return words.count > 2 && words[0] == "accepted" ? Int(words[2]) : nil
            }
            // The restart starts from the last flush plus the replay of a block stored but not
            // flushed when the kill came (at most the one being accepted, never reported).
            var start = height
            if let line = miner.stderr.split(separator: "\n").first(where: { $0.hasPrefix("rusty mine: regtest at height ") }),
               let value = Int(line.split(separator: " ")[5].trimmingCharacters(in: .punctuationCharacters)) {
                #expect(value == height || value == height + 1, "round \(round): restarted at \(value) after \(height)")
                start = value
            }
            #expect(reported == Array(reported.indices.map { start + 1 + $0 }), "round \(round): continues at \(start + 1): \(reported.prefix(3))")
            let last = reported.last ?? start
            let info = try Rusty.run(["utxo-info", "--datadir", datadir.path, "--json"], timeout: 60)
            // Killed while the datadir was being created: nothing was reported, nothing committed.
            if info.status != 0 && height == 0 && reported.isEmpty && info.stderr.contains("holds no chain state") { continue }
            #expect(info.status == 0, "\(info.stderr)")
            let now = info.json["height"] as? Int ?? -1
            #expect(now == last || now == last + 1, "round \(round): height \(now) after reporting \(last)")
            height = now
        }
        #expect(height > 0)
        // A restart (an open for writing, here with an empty input) replays the last block if
        // its flush was cut short; then the state holds every block of the files.
        let empty = Rusty.temporary("empty").appendingPathExtension("blk")
        defer { try? FileManager.default.removeItem(at: empty) }
        try Data().write(to: empty)
        let restart = try Rusty.run(["verify-chain", empty.path, "--datadir", datadir.path, "--json"])
        #expect(restart.status == 0, "\(restart.stderr)")
        height = restart.json["height"] as? Int ?? -1
        let digest = try Self.info(datadir)["digest"] as? String
        // A clean rebuild from the block files alone reaches the same block and digest.
        try FileManager.default.copyItem(at: datadir, to: copy)
        try Self.deleteIndex(copy)
        let reindexed = try Rusty.run(["verify-chain", "--reindex", "--datadir", copy.path, "--json"])
        #expect(reindexed.status == 0, "\(reindexed.stderr)")
        #expect(reindexed.json["height"] as? Int == height && reindexed.json["utxoDigest"] as? String == digest, "\(reindexed.stdout) \(reindexed.stderr)")
    }

    @Test("SIGKILL of verify-chain at random moments, pipeline and sequential: flushed height never drops, the rerun replays and ends at gen-chain's digest; reindex without the index too")
    func verifyKilled() throws {
        var random = SeededGenerator(seed: Self.seed())
        let file = Rusty.temporary("kill-chain").appendingPathExtension("blk")
        let datadir = Rusty.temporary("kill-data"), copy = Rusty.temporary("kill-copy")
        defer { for url in [file, datadir, copy] { try? FileManager.default.removeItem(at: url) } }
        let generated = try Rusty.run(["gen-chain", "--blocks", "300", "--txs-per-block", "10", "--seed", "21", "--out", file.path, "--json"])
        #expect(generated.status == 0, "\(generated.stderr)")
        let expected = generated.json["utxoDigest"] as? String
        var flushed = 0
        for round in 0..<5 {
            let mode = round % 2 == 0 ? [] : ["--sequential"]
            let run = try Background(["verify-chain", file.path, "--datadir", datadir.path, "--dbcache", "1"] + mode)
            _ = Background.waitFor(10) { FileManager.default.fileExists(atPath: datadir.path + "/CURRENT") }
            usleep(UInt32.random(in: 0...500_000, using: &random))
            run.stop(SIGKILL)
            let info = try Rusty.run(["utxo-info", "--datadir", datadir.path, "--json"], timeout: 60)
            // Killed while the datadir was being created: nothing committed yet, nothing reported.
            if info.status != 0 && flushed == 0 && info.stderr.contains("holds no chain state") { continue }
            #expect(info.status == 0, "round \(round): \(info.stderr)")
            let height = info.json["height"] as? Int ?? -1
            #expect(height >= flushed, "round \(round): flushed height \(height) after \(flushed)")
            flushed = height
        }
        let resumed = try Rusty.run(["verify-chain", file.path, "--datadir", datadir.path, "--json"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.json["utxoDigest"] as? String == expected && resumed.json["height"] as? Int == 300)
        #expect((resumed.json["startHeight"] as? Int ?? -1) >= flushed)

        try FileManager.default.copyItem(at: datadir, to: copy)
        try Self.deleteIndex(copy)
        let reindexed = try Rusty.run(["verify-chain", "--reindex", "--datadir", copy.path, "--json"])
        #expect(reindexed.status == 0, "\(reindexed.stderr)")
        #expect(reindexed.json["utxoDigest"] as? String == expected && reindexed.json["height"] as? Int == 300)
        #expect(try Self.info(copy)["digest"] as? String == expected)
    }

    @Test("SIGINT and SIGTERM during verify-chain: exit 130/143 with the summary so far (flushed); the rerun continues to gen-chain's digest",
          arguments: [(SIGINT, ["--sequential"]), (SIGTERM, []), (SIGINT, [])])
    func interrupted(signal: Int32, mode: [String]) throws {
        var random = SeededGenerator(seed: Self.seed())
        let file = Rusty.temporary("int-chain").appendingPathExtension("blk"), datadir = Rusty.temporary("int-data")
        defer { for url in [file, datadir] { try? FileManager.default.removeItem(at: url) } }
        let generated = try Rusty.run(["gen-chain", "--blocks", "400", "--txs-per-block", "20", "--seed", "3", "--out", file.path, "--json"])
        #expect(generated.status == 0, "\(generated.stderr)")
        let run = try Background(["verify-chain", file.path, "--datadir", datadir.path, "--backend", "scalar", "--threads", "1", "--json"] + mode)
        _ = Background.waitFor(10) { FileManager.default.fileExists(atPath: datadir.path + "/CURRENT") }
        // Early enough that a fast machine is still verifying (the run takes about a second or more).
        usleep(UInt32.random(in: 20_000...150_000, using: &random))
        run.stop(signal)
        #expect(run.process.terminationReason == .exit && run.process.terminationStatus == 128 + signal, "\(run.stderr)")
        let line = run.stdout.split(separator: "\n").last.map(String.init) ?? ""
        let summary = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
        #expect(summary["interrupted"] as? Bool == true, "\(run.stdout)")
        let stoppedAt = summary["height"] as? Int ?? -1
        #expect(stoppedAt >= 0 && stoppedAt < 400, "stopped mid-run: \(stoppedAt)")
        // What the summary reported is on disk.
        #expect(try Self.info(datadir)["height"] as? Int == stoppedAt)
        let rerun = try Rusty.run(["verify-chain", file.path, "--datadir", datadir.path, "--json"] + mode)
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(rerun.json["startHeight"] as? Int == stoppedAt && rerun.json["height"] as? Int == 400)
        #expect(rerun.json["utxoDigest"] as? String == generated.json["utxoDigest"] as? String)
    }

    @Test("reindex of a datadir whose files hold a rejected block: passed over (known from the index, or judged again without it), both modes; a plain run refuses an index-less datadir")
    func reindexWithRejectedBlock() throws {
        let parameters = try ConsensusParameters(ChainParameters.builtIn("regtest"))
        var generator = ChainGenerator(parameters: parameters, seed: 5, transactionsPerBlock: 4)
        var blocks = (0..<110).map { _ in generator.nextBlock() }
        blocks[104].transactions[1].witnesses[0][0][3] ^= 0x10
        ChainGenerator.seal(&blocks[104])
        let file = Rusty.temporary("rejected").appendingPathExtension("blk"), datadir = Rusty.temporary("rejected-data")
        defer { for url in [file, datadir] { try? FileManager.default.removeItem(at: url) } }
        try Data(blocks.flatMap { BlockFile.encodeRecord($0, magic: parameters.magic) }).write(to: file)
        let first = try Rusty.run(["verify-chain", file.path, "--datadir", datadir.path, "--json"])
        #expect(first.status == 1 && first.json["height"] as? Int == 104, "\(first.stderr)")
        let digest = try Self.info(datadir)["digest"] as? String
        var stored = [Int]()
        try BlockFile.forEachRecord(path: datadir.path + "/blocks/blk00000.dat", magic: parameters.magic) { record in
            stored.append(Int((try? Block(decoding: record.bytes))?.header.height ?? 0))
        }
        #expect(stored.last == 105, "the rejected block is kept in the block files: \(stored.suffix(5))")
        for mode in [[], ["--sequential"]] {
            // On a copy: a reindex replaces the datadir with one holding only valid blocks.
            let copy = Rusty.temporary("rejected-copy")
            defer { try? FileManager.default.removeItem(at: copy) }
            try FileManager.default.copyItem(at: datadir, to: copy)
            let reindexed = try Rusty.run(["verify-chain", "--reindex", "--datadir", copy.path, "--json"] + mode)
            #expect(reindexed.status == 0, "\(mode): \(reindexed.stderr)")
            #expect(reindexed.json["knownInvalid"] as? Int == 1 && reindexed.json["height"] as? Int == 104, "\(first.stderr) \(reindexed.stdout)")
            #expect(reindexed.json["utxoDigest"] as? String == digest)
        }
        // Without the index the block is judged again: rejected and passed over, both modes.
        try Self.deleteIndex(datadir)
        let before = try Data(contentsOf: datadir.appendingPathComponent("blocks/blk00000.dat"))
        // A plain run would start a new state beside those blocks: refused, nothing changed.
        let plain = try Rusty.run(["verify-chain", file.path, "--datadir", datadir.path])
        #expect(plain.status == 1 && plain.stderr.contains("holds block files but no chain database; rebuild it with verify-chain --reindex"),
                "\(plain.stderr)")
        #expect(try Data(contentsOf: datadir.appendingPathComponent("blocks/blk00000.dat")) == before)
        for mode in [[], ["--sequential"]] {
            let copy = Rusty.temporary("rejected-blind")
            defer { try? FileManager.default.removeItem(at: copy) }
            try FileManager.default.copyItem(at: datadir, to: copy)
            let blind = try Rusty.run(["verify-chain", "--reindex", "--datadir", copy.path, "--json"] + mode)
            #expect(blind.status == 0, "\(mode): \(blind.stderr)")
            #expect(blind.stderr.contains("passed over an invalid block of the datadir's files: ")
                    && blind.stderr.contains("block 105 (\(blocks[104].hash.hex)) rejected: script-signature"), "\(mode): \(blind.stderr)")
            #expect(blind.json["passedOver"] as? Int == 1 && blind.json["height"] as? Int == 104 && blind.json["blocks"] as? Int == 104)
            #expect(blind.json["utxoDigest"] as? String == digest)
            #expect(!FileManager.default.fileExists(atPath: copy.path + ".reindex"))
        }
    }

    @Test("mine stopped by a closed stdout (SIGPIPE/EPIPE) keeps every block: the height is at least what was read")
    func closedStdout() throws {
        let datadir = Rusty.temporary("mine-pipe")
        defer { try? FileManager.default.removeItem(at: datadir) }
        let process = Process()
        process.executableURL = TestPaths.rustyExecutable
        process.arguments = ["mine", "--datadir", datadir.path, "--backend", "scalar", "--key", String(repeating: "77", count: 32)]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Read three lines, then close the reading end, as `rusty mine | head -3` does.
        var text = ""
        let reader = pipe.fileHandleForReading
        while text.split(separator: "\n").count < 3, let chunk = try reader.read(upToCount: 1), !chunk.isEmpty {
            text += String(decoding: chunk, as: UTF8.self)
        }
        try reader.close()
        let exited = Rusty.waitBounded(process, seconds: 30)
        #expect(exited && process.terminationReason == .exit && process.terminationStatus == 0)
        let height = try Self.info(datadir)["height"] as? Int ?? -1
        #expect(height >= 3, "read \(text)")
    }
}
