// `RPCMiner` against a scripted node (the node's own HTTP JSON-RPC server with test methods):
// templates in, blocks out, and a long poll that replaces a hopeless template.

import Foundation
import JSONRPC
import Logging
@testable import MiningClient
import NIOPosix
import Primitives
import ProofOfWorkSearch
import RPCServer
import Testing

/// A node that serves template "t1" (a target out of reach), answers a long poll on it with
/// "t2" (an easy target) after a moment, and records every submitted block.
final class ScriptedNode: @unchecked Sendable {
    private let lock = NSLock()
    private var current: JSONObject
    private(set) var blocks: [Block] = []
    let second: JSONObject
    /// The first this many getblocktemplate calls are refused as a syncing node refuses them (-10).
    private var syncingAnswers: Int
    var submitted: [Block] { lock.withLock { blocks } }

    init(first: JSONObject, second: JSONObject, syncingAnswers: Int = 0) {
        current = first
        self.second = second
        self.syncingAnswers = syncingAnswers
    }

    func registry() -> RPCRegistry {
        let registry = RPCRegistry()
        registry.register(RPCMethod("getblocktemplate", category: "Test", parameters: [RPCParameter("request", "object", required: false, "")],
                                    help: "A scripted template.") { arguments in
            let request = try arguments.object(0)
            guard request["payoutscript"] == "51" else { throw RPCError.invalidParameter("payoutscript must be 51") }
            let syncing = self.lock.withLock { defer { self.syncingAnswers -= 1 }; return self.syncingAnswers > 0 }
            if syncing { throw RPCError(RPCError.clientInInitialDownload, "the node is in initial sync") }
            guard let id = request["longpollid"]?.stringValue else { return .object(self.lock.withLock { self.current }) }
            if id == "t1" {
                try await Task.sleep(for: .milliseconds(300))
                self.lock.withLock { self.current = self.second }
                return .object(self.second)
            }
            try await Task.sleep(for: .seconds(30))
            return .object(self.lock.withLock { self.current })
        })
        registry.register(RPCMethod("submitblock", category: "Test", parameters: [RPCParameter("hexdata", "hex", "")],
                                    help: "Records the block.") { arguments in
            let block = try Block(decoding: try arguments.hexBytes(0))
            self.lock.withLock { self.blocks.append(block) }
            return self.lock.withLock { self.blocks.count } == 1 ? .null : "inconclusive"
        })
        return registry
    }
}

@Suite("Mining client against a scripted node (RPC)", .serialized)
struct MiningClientRPCTests {
    static func withNode(_ node: ScriptedNode, _ body: (Int) throws -> Void) async throws {
        let settings = RPCServerSettings(listeners: [.init(host: "127.0.0.1", port: 0)],
                                         credentials: RPCCredentials(entries: [.password(user: "miner", password: "pw")]))
        let server = RPCHTTPServer(settings: settings, dispatcher: RPCDispatcher(registry: node.registry()),
                                   group: MultiThreadedEventLoopGroup.singleton, logger: Logger(label: "mining-client-rpc-tests"))
        try await server.start()
        let port = try #require(server.boundAddresses.first.flatMap { $0.split(separator: ":").last }.flatMap { Int($0) })
        defer { Task { await server.stop() } }
        try body(port)
    }

    static func miner(port: Int, events: MiningEventSink) throws -> RPCMiner {
        var configuration = RPCMinerConfiguration(endpoint: MiningEndpoint(host: "127.0.0.1", port: port, user: "miner", password: "pw"),
                                                  payoutScript: [0x51], powLimit: try CompactTarget(bits: 0x207f_ffff).target())
        configuration.backoff = ReconnectBackoff(initialSeconds: 0.05, maximumSeconds: 0.2)
        return RPCMiner(configuration: configuration, searcher: SIMDPoWSearch(threads: 1), events: events)
    }

    @Test("a long poll answer replaces the template being searched; solved blocks go back by submitblock; reasons are counted")
    func longPollSwitches() async throws {
        // t1's target is out of reach (about 2^48 hashes): only t2, from the long poll, can be solved.
        let first = try RPCTemplateTests.answer(previous: "01", bits: 0x1b00_ffff, longPollID: "t1").json
        let second = try RPCTemplateTests.answer(transactions: 2, previous: "02", longPollID: "t2")
        let node = ScriptedNode(first: first, second: second.json)
        let recorder = MiningClientPoolTests.Recorder()
        try await Self.withNode(node) { port in
            let final = try Self.miner(port: port, events: recorder.sink).run(limits: MiningLimits(duration: 60, statusInterval: 5)) {
                node.submitted.count >= 2
            }
            let blocks = node.submitted
            #expect(blocks.count >= 2)
            for block in blocks {
                #expect(block.header.previousHash == second.block.header.previousHash)
                #expect(block.transactions == second.block.transactions)
                #expect(block.computeMerkleRoot() == block.header.merkleRoot)
                #expect(ProofOfWork.meets(block.hash, target: try CompactTarget(bits: block.header.bits).target()))
            }
            #expect(final.counters.accepted == 1 && final.counters.blocks == 1)
            #expect(final.counters.rejectedByReason["inconclusive"] ?? 0 >= 1)
        }
        let works = recorder.events.compactMap { if case .work(_, let height, let difficulty) = $0 { (height, difficulty) } else { nil } }
        #expect(works.first?.1 ?? 0 > 1e6 && works.dropFirst().allSatisfy { $0.1 == 1 })
    }

    @Test("a template whose header does not match its transactions ends the run with an error naming the merkle root")
    func tamperedTemplate() async throws {
        var (first, block) = try RPCTemplateTests.answer(transactions: 1, longPollID: "t1")
        var header = block.header
        header.merkleRoot = Hash256(hex: String(repeating: "11", count: 32))!
        first["header"] = .string(HexCoding.encode(header.encoded))
        let node = ScriptedNode(first: first, second: first)
        try await Self.withNode(node) { port in
            #expect {
                _ = try Self.miner(port: port, events: MiningClientPoolTests.Recorder().sink).run(limits: MiningLimits(duration: 30)) { false }
            } throws: { "\($0)".contains("merkle root") }
            #expect(node.submitted.isEmpty)
        }
    }

    @Test("a node in initial sync (-10) is waited for with backoff, each refusal printed; mining starts once it answers")
    func syncingNodeIsRetried() async throws {
        let (template, _) = try RPCTemplateTests.answer(previous: "03", longPollID: "t9")
        let node = ScriptedNode(first: template, second: template, syncingAnswers: 3)
        let recorder = MiningClientPoolTests.Recorder()
        try await Self.withNode(node) { port in
            let final = try Self.miner(port: port, events: recorder.sink).run(limits: MiningLimits(duration: 60, blocks: 1, statusInterval: 5)) { false }
            #expect(final.counters.blocks == 1)
            #expect(node.submitted.count == 1)
        }
        let retries = recorder.events.compactMap { if case .reconnect(_, let attempt, _, let reason) = $0 { (attempt, reason) } else { nil } }
        #expect(retries.map(\.0) == [1, 2, 3])
        #expect(retries.allSatisfy { $0.1.contains("-10") && $0.1.contains("initial sync") })
    }

    @Test("only a node's in-sync, no-peers and warm-up refusals and lost connections are retried; bad credentials end the run")
    func retryableErrors() {
        #expect(RPCMiner.isRetryable(RPCError(RPCError.clientInInitialDownload, "syncing")))
        #expect(RPCMiner.isRetryable(RPCError(RPCError.clientNotConnected, "no peers")))
        #expect(!RPCMiner.isRetryable(RPCError(RPCError.invalidParameter, "bad payout")))
        #expect(!RPCMiner.isRetryable(RPCError(RPCError.methodNotFoundCode, "no such method")))
        #expect(!RPCMiner.isRetryable(MiningRunError("other")))
    }
}
