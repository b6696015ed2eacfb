import Foundation
import Testing
import TestSupport

/// `verify-chain --reindex` on a node's datadir (`ROOT/NETWORK`) rebuilds the chain state but
/// keeps the node's own files beside it (peers.dat, banlist, the wallet, a masternode's
/// quorum shares, debug.log, ...).
struct ReindexNodeFilesTests {
    @Test("a reindex keeps the node's files and ends at the same state")
    func reindexKeepsNodeFiles() throws {
        let root = Rusty.temporary("reindex-node")
        defer { try? FileManager.default.removeItem(at: root) }
        let datadir = root.appendingPathComponent("regtest")
        let chain = root.appendingPathComponent("chain.blk")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        #expect(try Rusty.run(["gen-chain", "--blocks", "120", "--txs-per-block", "3", "--out", chain.path]).status == 0)
        let verified = try Rusty.run(["verify-chain", "--network", "regtest", "--datadir", datadir.path, chain.path])
        #expect(verified.status == 0, "\(verified.stderr)")
        let before = try Rusty.run(["utxo-info", "--datadir", datadir.path, "--json"]).json["digest"] as? String
        var contents = [String: Data]()
        try FileManager.default.createDirectory(at: datadir.appendingPathComponent("quorums"), withIntermediateDirectories: true)
        for name in ["peers.dat", "banlist", "debug.log", "node-status.json", "wallet.dat", "fee_estimates.dat", "mempool.dat",
                     "governance-executions.dat", "quorums/100-ab.share", "quorums/signed-requests.dat"] {
            contents[name] = Data("\(name) \(UUID())".utf8)
            try contents[name]!.write(to: datadir.appendingPathComponent(name))
        }

        let reindex = try Rusty.run(["verify-chain", "--reindex", "--network", "regtest", "--datadir", datadir.path])
        #expect(reindex.status == 0, "\(reindex.stderr)")
        for (name, data) in contents {
            #expect(FileManager.default.contents(atPath: datadir.appendingPathComponent(name).path) == data, "\(name) lost or changed")
        }
        let after = try Rusty.run(["utxo-info", "--datadir", datadir.path, "--json"]).json["digest"] as? String
        #expect(before != nil && after == before)
    }
}
