import ChainGen
import ChainParams
import Consensus
import Foundation
import Masternodes
import Primitives
import Testing
import TestSupport

/// `rusty gen-chain --masternodes N`: every masternode transaction type, a list the chain
/// commits to in its headers, and a chain `rusty verify-chain` accepts.
@Suite(.serialized)
struct GenChainMasternodeTests {
    static let parameters = try! ConsensusParameters(ChainParameters.builtIn("regtest"))

    @Test("the generator registers N masternodes both ways, then updates, revokes, revives and spends collateral; deterministic")
    func everyTypeAndDeterministic() throws {
        func generate() throws -> (ChainGenerator, [Block]) {
            var generator = ChainGenerator(parameters: Self.parameters, seed: 3, transactionsPerBlock: 5)
            generator.enableMasternodes(count: 40, parameters: try MasternodeParameters(Self.parameters.chain))
            let blocks = (0..<160).map { _ in generator.nextBlock() }
            return (generator, blocks)
        }
        let (generator, blocks) = try generate()
        let activity = try #require(generator.masternodeActivity)
        #expect(activity.registrations >= 40 && activity.internalCollateral > 0 && activity.externalCollateral > 0, "\(activity)")
        #expect(activity.updateServices > 0 && activity.updateRegistrars > 0 && activity.revokes > 0 && activity.collateralSpends > 0, "\(activity)")
        // Spent collateral deregisters and a replacement registers: the list stays near N.
        #expect(generator.masternodeCount == activity.registrations - activity.collateralSpends)
        #expect(generator.masternodeCount >= 30, "\(generator.masternodeCount)")

        // Replaying the blocks through the rules gives the extension root every header commits to.
        var list = MasternodeList()
        let masternodeParameters = try MasternodeParameters(Self.parameters.chain)
        var coins = [OutPoint: Coin]()
        var specials = 0
        for block in blocks {
            let txids = block.transactions.map(\.txid)
            for (index, transaction) in block.transactions.enumerated() {
                for input in transaction.inputs where !transaction.isCoinbase { coins[input.previousOutput] = nil }
                for (vout, output) in transaction.outputs.enumerated() {
                    coins[OutPoint(txid: txids[index], index: UInt32(vout))] = Coin(output: output, height: block.header.height, isCoinbase: index == 0)
                }
                if transaction.isSpecial { specials += 1 }
            }
            _ = try MasternodeRules.apply(block, txids: txids, height: block.header.height, to: &list, parameters: masternodeParameters,
                                          coin: { coins[$0] })
            let expected = block.computeStateRoot(extensionRoot: ExtensionRoot.compute(masternodes: list.root()))
            #expect(block.header.stateRoot == expected, "height \(block.header.height)")
        }
        #expect(list.count == generator.masternodeCount)
        #expect(specials == activity.registrations + activity.updateServices + activity.updateRegistrars + activity.revokes)
        // Before the first registration the roots are the old ones (extension root zero).
        #expect(blocks.prefix(100).allSatisfy { $0.header.stateRoot == $0.computeStateRoot() })

        let (_, again) = try generate()
        #expect(again.map(\.header.hash) == blocks.map(\.header.hash))
    }

    @Test("without updates the generator registers N masternodes, then its blocks carry the ordinary mix alone")
    func registrationsOnly() throws {
        var generator = ChainGenerator(parameters: Self.parameters, seed: 3, transactionsPerBlock: 5)
        generator.enableMasternodes(count: 40, parameters: try MasternodeParameters(Self.parameters.chain), updates: false)
        var plain = ChainGenerator(parameters: Self.parameters, seed: 3, transactionsPerBlock: 5)
        let blocks = (0..<160).map { _ in generator.nextBlock() }
        let plainBlocks = (0..<160).map { _ in plain.nextBlock() }
        let activity = try #require(generator.masternodeActivity)
        #expect(activity.registrations == 40 && activity.internalCollateral == 20 && activity.externalCollateral == 20, "\(activity)")
        #expect(activity.updateServices + activity.updateRegistrars + activity.revokes + activity.collateralSpends == 0, "\(activity)")
        #expect(generator.masternodeCount == 40)
        // After the last registration: no special transaction, and as many transactions a block as without masternodes.
        let last = try #require(blocks.lastIndex { $0.transactions.contains(where: \.isSpecial) })
        #expect(last < 150, "registrations still running at block \(last)")
        for index in (last + 2)..<blocks.count {
            #expect(blocks[index].transactions.count == plainBlocks[index].transactions.count, "block \(index)")
            #expect(blocks[index].transactions.count == 6, "block \(index)")
        }
    }

    @Test("gen-chain --masternodes: the summary counts each type and the list; verify-chain accepts the chain")
    func commandAndVerifyChain() throws {
        let file = ChainCommandTests.temporary("mn-chain").appendingPathExtension("blk")
        let datadir = ChainCommandTests.temporary("mn-data")
        defer { try? FileManager.default.removeItem(at: file); try? FileManager.default.removeItem(at: datadir) }
        let generated = try runProcess(TestPaths.rustyExecutable, ["gen-chain", "--blocks", "140", "--txs-per-block", "5", "--seed", "4",
                                                                   "--masternodes", "30", "--out", file.path, "--json"])
        #expect(generated.status == 0, "\(generated.stderrText)")
        let summary = try ChainCommandTests.json(generated)
        let activity = try #require(summary["masternodes"] as? [String: Any])
        #expect((activity["registrations"] as? Int ?? 0) >= 30, "\(summary)")
        let listSize = try #require(summary["masternodeListSize"] as? Int)
        #expect(listSize == (activity["registrations"] as! Int) - (activity["collateralSpends"] as! Int))

        let verified = try runProcess(TestPaths.rustyExecutable, ["verify-chain", file.path, "--datadir", datadir.path, "--json"])
        #expect(verified.status == 0, "\(verified.stderrText)")
        #expect(try ChainCommandTests.json(verified)["utxoDigest"] as? String == summary["utxoDigest"] as? String)

        // Without --masternodes the summary has no masternode fields (existing output unchanged).
        let plain = try runProcess(TestPaths.rustyExecutable, ["gen-chain", "--blocks", "3", "--out", "/dev/null", "--json"])
        #expect(plain.status == 0 && !plain.stdoutText.contains("masternode"), "\(plain.stdoutText)")
        let bad = try runProcess(TestPaths.rustyExecutable, ["gen-chain", "--blocks", "3", "--out", "/dev/null", "--masternodes", "-1"])
        #expect(bad.status == 64 && bad.stderrText.contains("--masternodes"), "\(bad.stderrText)")
        let orphan = try runProcess(TestPaths.rustyExecutable, ["gen-chain", "--blocks", "3", "--out", "/dev/null", "--masternode-activity", "none"])
        #expect(orphan.status == 64 && orphan.stderrText.contains("--masternode-activity"), "\(orphan.stderrText)")
        let unknown = try runProcess(TestPaths.rustyExecutable, ["gen-chain", "--blocks", "3", "--out", "/dev/null", "--masternodes", "3",
                                                                 "--masternode-activity", "some"])
        #expect(unknown.status == 64 && unknown.stderrText.contains("masternode-activity"), "\(unknown.stderrText)")
    }

    @Test("masternode keygen writes a 0600 key file that loads to the printed keys, and never overwrites")
    func keygen() throws {
        let file = ChainCommandTests.temporary("operator").appendingPathExtension("json")
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try runProcess(TestPaths.rustyExecutable, ["masternode", "keygen", "--out", file.path, "--json"])
        #expect(result.status == 0, "\(result.stderrText)")
        let printed = try ChainCommandTests.json(result)
        let keys = try OperatorKeys.load(path: file.path)
        #expect(printed["operatorKey"] as? String == HexCoding.encode(keys.operatorKey))
        #expect(printed["encryptionKey"] as? String == HexCoding.encode(keys.encryptionKey))
        let attributes = try FileManager.default.attributesOfItem(atPath: file.path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let again = try runProcess(TestPaths.rustyExecutable, ["masternode", "keygen", "--out", file.path])
        #expect(again.status == 1 && again.stderrText.contains("not overwriting"), "\(again.stderrText)")
        #expect(try OperatorKeys.load(path: file.path).operatorKey == keys.operatorKey)
    }
}
