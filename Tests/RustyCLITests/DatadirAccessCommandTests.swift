import Foundation
import Testing
import TestSupport

/// Datadir access (issue #11, item 6) in mine and verify-chain: a datadir in use is named,
/// read-only commands work beside a writer, a missing input creates nothing, and absurd
/// counts are usage errors naming the flag and its range.
@Suite(.serialized)
struct DatadirAccessCommandTests {
    @Test("a datadir in use by a running mine: writers get 'rusty: DATADIR: in use by another process' and exit 1; utxo-info reads it")
    func lockedDatadir() throws {
        let datadir = Rusty.temporary("locked"), file = Rusty.temporary("locked-chain").appendingPathExtension("blk")
        defer { for url in [datadir, file] { try? FileManager.default.removeItem(at: url) } }
        #expect(try Rusty.run(["gen-chain", "--blocks", "3", "--out", file.path]).status == 0)
        let miner = try Background(["mine", "--datadir", datadir.path, "--backend", "scalar", "--key", String(repeating: "11", count: 32)])
        #expect(Background.waitFor(20) { miner.stdout.contains("accepted block") }, "\(miner.stderr)")
        for arguments in [["verify-chain", file.path, "--datadir", datadir.path], ["verify-chain", "--reindex", "--datadir", datadir.path],
                          ["mine", "--datadir", datadir.path, "--blocks", "1", "--backend", "scalar"]] {
            let result = try Rusty.run(arguments, timeout: 60)
            #expect(result.status == 1 && result.stderr == "rusty: \(datadir.path): in use by another process\n", "\(arguments): \(result.stderr)")
        }
        let info = try Rusty.run(["utxo-info", "--datadir", datadir.path, "--json"], timeout: 60)
        #expect(info.status == 0 && (info.json["height"] as? Int ?? 0) >= 1, "\(info.stderr)")
        miner.stop(SIGINT)
        #expect(miner.process.terminationStatus == 0)
    }

    @Test("a missing input file is named and creates no datadir")
    func missingInput() throws {
        let datadir = Rusty.temporary("never-created"), missing = Rusty.temporary("missing").appendingPathExtension("blk")
        defer { try? FileManager.default.removeItem(at: datadir) }
        for mode in [[], ["--sequential"]] {
            let result = try Rusty.run(["verify-chain", missing.path, "--datadir", datadir.path] + mode)
            #expect(result.status == 1 && result.stderr == "rusty: \(missing.path): No such file or directory\n", "\(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: datadir.path))
        }
        let reindex = try Rusty.run(["verify-chain", "--reindex", "--datadir", datadir.path])
        #expect(reindex.status == 1 && reindex.stderr.contains("holds no block files"), "\(reindex.stderr)")
        #expect(!FileManager.default.fileExists(atPath: datadir.path))
    }

    @Test("out-of-range counts, bad --devices and a missing --address on testnet/mainnet are usage errors naming the flag")
    func usageErrors() throws {
        let datadir = Rusty.temporary("usage")
        defer { try? FileManager.default.removeItem(at: datadir) }
        let cases: [([String], String)] = [
            (["verify-chain", "x.blk", "--threads", "0"], "--threads must be between 1 and 1024"),
            (["verify-chain", "x.blk", "--threads", "100000"], "--threads must be between 1 and 1024"),
            (["verify-chain", "x.blk", "--dbcache", "0"], "--dbcache must be between 1 and 1048576 MiB"),
            (["verify-chain", "x.blk", "--dbcache", "99999999999"], "--dbcache must be between"),
            (["verify-chain", "x.blk", "--batch-size=-5"], "--batch-size must be between 1 and 16777216"),
            (["mine", "--blocks=-1"], "--blocks must be between 1 and 100000000"),
            (["mine", "--cpu-threads=-1"], "--cpu-threads must be between 0 and 1024"),
            (["mine", "--cpu-threads", "5000"], "--cpu-threads must be between 0 and 1024"),
            (["mine", "--devices", "0,0"], "--devices: device 0 is listed twice"),
            (["mine", "--devices", "gpu"], "--devices: 'gpu' is not a device index"),
            (["mine", "--devices=-1"], "--devices: '-1' is not a device index"),
            // An index past the devices present (PoCL provides one everywhere): checked before the datadir is opened.
            (["mine", "--devices", "99", "--backend", "opencl", "--key", String(repeating: "ab", count: 32)], "--devices: 99 is not a device index"),
            (["mine", "--network", "testnet"], "--address is required on testnet"),
            (["mine", "--network", "mainnet"], "--address is required on mainnet"),
        ]
        for (arguments, message) in cases {
            let result = try Rusty.run(arguments + ["--datadir", datadir.path], timeout: 30)
            #expect(result.status == 64 && result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: datadir.path))
    }
}
