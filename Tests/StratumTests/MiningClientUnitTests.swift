import JSONRPC
import Mining
@testable import MiningClient
import Primitives
import Stratum
import Testing

@Suite("Mining client: URLs, status lines, RPC templates")
struct MiningClientUnitTests {
    @Test("RPC and Stratum URLs give host, port and credentials")
    func goodURLs() throws {
        #expect(try MiningEndpoint.rpc("http://127.0.0.1:18443") == MiningEndpoint(host: "127.0.0.1", port: 18443))
        #expect(try MiningEndpoint.rpc("http://alice:s3cr:et@node.local:8332/")
                == MiningEndpoint(host: "node.local", port: 8332, user: "alice", password: "s3cr:et"))
        #expect(try MiningEndpoint.rpc("HTTP://[::1]:8332") == MiningEndpoint(host: "::1", port: 8332))
        #expect(try MiningEndpoint.stratum("stratum+tcp://pool.example:3333") == MiningEndpoint(host: "pool.example", port: 3333))
        #expect(MiningEndpoint(host: "::1", port: 1).description == "[::1]:1")
    }

    @Test("bad URLs name what is wrong", arguments: [
        ("127.0.0.1:8332", true, "has no scheme"),
        ("https://h:1", true, "scheme must be http"),
        ("http://h", true, "has no port"),
        ("http://:80", true, "has no host"),
        ("http://h:0", true, "port '0' is not a number"),
        ("http://h:99999", true, "port '99999'"),
        ("http://h:x1", true, "port 'x1'"),
        ("http://h:1/wallet/x", true, "path, query or fragment"),
        ("http://@h:1", true, "user name before '@' is empty"),
        ("http://h o:1", true, "characters a host name cannot have"),
        ("http://[::1:1", true, "without a closing ']'"),
        ("stratum+tcp://u:p@h:1", false, "credentials do not belong"),
        ("stratum+udp://h:1", false, "scheme must be stratum+tcp"),
        ("stratum+tcp://h", false, "has no port"),
    ])
    func badURLs(text: String, rpc: Bool, message: String) {
        #expect {
            _ = rpc ? try MiningEndpoint.rpc(text) : try MiningEndpoint.stratum(text)
        } throws: { error in
            "\(error)".contains(message) && "\(error)".contains(text)
        }
    }

    static func snapshot() -> StatusSnapshot {
        var counters = MiningCounters()
        counters.accepted = 120
        counters.rejected = 2
        counters.stale = 1
        counters.rejectedByReason = ["duplicate": 2, "stale": 1]
        return StatusSnapshot(intervalSeconds: 5.02, intervalRate: 12_340_000, averageRate: 12_100_000, hashes: 1_000_000,
                              counters: counters, difficulty: 32_000, latencyLast: 1.5, latencyAverage: 1.24,
                              devices: [("gpu0", 8_000_000), ("simd(avx2, 4 threads)", 4_340_000)])
    }

    @Test("the status line reads like cgminer's")
    func statusLine() {
        #expect(MiningEvent.statusLine(Self.snapshot())
                == "(5s):12.3 MH/s (avg):12.1 MH/s | A:120 R:2 S:1 HW:0 | diff 3.2e+04 | ping 1.2 ms | gpu0: 8.0 MH/s, simd(avx2, 4 threads): 4.3 MH/s")
        var quiet = Self.snapshot()
        quiet.devices = []
        quiet.latencyAverage = nil
        quiet.intervalRate = 999
        #expect(MiningEvent.statusLine(quiet).hasPrefix("(5s):999.0 H/s (avg):12.1 MH/s"))
        #expect(MiningEvent.statusLine(quiet).hasSuffix("| ping -"))
        var skipping = Self.snapshot()
        skipping.counters.skipped = 3
        #expect(MiningEvent.statusLine(skipping).contains("| A:120 R:2 S:1 HW:0 K:3 | diff"))
        #expect(MiningEvent.formatRate(2.5e12) == "2.5 TH/s")
        #expect(MiningEvent.formatRate(-1) == "0.0 H/s")
        #expect(MiningEvent.formatRate(.nan) == "0.0 H/s")
    }

    @Test("JSON events carry an event field and the status numbers")
    func jsonEvents() throws {
        let status = MiningEvent.status(Self.snapshot()).json
        #expect(status["event"] == "status")
        #expect(status["accepted"]?.int64Value == 120)
        #expect(status["stale"]?.int64Value == 1)
        #expect(status["rejectedby"]?["duplicate"]?.int64Value == 2)
        #expect(status["devices"]?.arrayValue?.count == 2)
        #expect(MiningEvent.difficulty(4).json["event"] == "difficulty")
        #expect(MiningEvent.share(job: "j", nonce: 1, accepted: false, reason: "stale: old", latency: 2).json["nonce"] == "0000000000000001")
        #expect(MiningEvent.share(job: "j", nonce: 1, accepted: true, reason: nil, latency: 2).text == nil)
        #expect(MiningEvent.block(height: 5, hash: "ab", accepted: false, reason: "bad-pow").text == "block 5 ab rejected: bad-pow")
        // Each line is valid JSON on its own.
        #expect(try JSONParser.parse(status.serialized()) == status)
    }

    @Test("Stratum error codes are counted by kind")
    func rejectionKinds() {
        #expect(StratumSession.rejectionKind(code: 21) == "stale")
        #expect(StratumSession.rejectionKind(code: 21, message: "stale share") == "stale")
        // A job the pool does not know is no stale work: counted under R, not S.
        #expect(StratumSession.rejectionKind(code: 21, message: "job not found") == "unknown-job")
        #expect(StratumSession.rejectionKind(code: 22) == "duplicate")
        #expect(StratumSession.rejectionKind(code: 23) == "low-difficulty")
        #expect(StratumSession.rejectionKind(code: 20) == "invalid")
        #expect(StratumSession.rejectionKind(code: 99) == "error-99")
    }

    @Test("remembered shares are found again, by header whatever the job id; the oldest headers are forgotten past the bound")
    func submittedShares() {
        func header(_ index: Int, time: UInt64 = 5) -> [UInt8] {
            WorkKey.headerBytes(BlockHeader(version: 1, height: UInt64(index), previousHash: .zero, merkleRoot: .zero, stateRoot: .zero,
                                            time: time, bits: 0x207f_ffff, nonce: 9))
        }
        // The header's own time and nonce are the miner's: they do not make another header.
        #expect(header(0, time: 5) == header(0, time: 6))
        var shares = SubmittedShares()
        let first = ShareKey(header: header(0), time: 1, nonce: 2)
        shares.insert(first)
        #expect(shares.contains(first))
        #expect(!shares.contains(ShareKey(header: header(0), time: 1, nonce: 3)))
        #expect(!shares.contains(ShareKey(header: header(1), time: 1, nonce: 2)))
        for index in 1...SubmittedShares.headersKept { shares.insert(ShareKey(header: header(index), time: 1, nonce: 2)) }
        #expect(!shares.contains(first))
        #expect(shares.contains(ShareKey(header: header(SubmittedShares.headersKept), time: 1, nonce: 2)))
    }

    @Test("the header time rolls only up to max(job time, clock) + maxFutureBlockTime - margin")
    func timeRollLimit() {
        var configuration = StratumMinerConfiguration(endpoint: MiningEndpoint(host: "h", port: 1), user: "u", password: "p",
                                                      userAgent: "t", powLimit: .zero)
        configuration.maxFutureBlockTime = 7_200
        configuration.timeRollMargin = 60
        let now: UInt64 = 1_000_000
        #expect(StratumMiner.rolledTime(now, jobTime: now, now: now, configuration: configuration) == now + 1)
        #expect(StratumMiner.rolledTime(now + 7_139, jobTime: now, now: now, configuration: configuration) == now + 7_140)
        #expect(StratumMiner.rolledTime(now + 7_140, jobTime: now, now: now, configuration: configuration) == nil)
        // The clock moved on: rolling may go on.
        #expect(StratumMiner.rolledTime(now + 7_140, jobTime: now, now: now + 10, configuration: configuration) == now + 7_141)
        // A job time ahead of the clock counts from the job's time; no overflow near the top.
        #expect(StratumMiner.rolledTime(now + 7_140, jobTime: now + 100, now: now, configuration: configuration) == now + 7_141)
        #expect(StratumMiner.rolledTime(.max, jobTime: .max, now: now, configuration: configuration) == nil)
    }

    @Test("a round holds a bounded number of expected shares, about half a second, and never passes the suffix space")
    func roundSizes() throws {
        let powLimit = try CompactTarget(bits: 0x207f_ffff).target()
        let configuration = StratumMinerConfiguration(endpoint: MiningEndpoint(host: "h", port: 1), user: "u", password: "p",
                                                      userAgent: "t", powLimit: powLimit)
        let easy = ShareDifficulty.target(difficulty: 1024, powLimit: powLimit) // about 2048 hashes per share
        let size = StratumMiner.roundSize(rate: 1e9, target: easy, remaining: .max, configuration: configuration)
        #expect(size >= 8 * 2000 && size <= 8 * 2100)
        let hard = ShareDifficulty.target(difficulty: 1e12, powLimit: powLimit)
        #expect(StratumMiner.roundSize(rate: 1e8, target: hard, remaining: .max, configuration: configuration) == 50_000_000)
        #expect(StratumMiner.roundSize(rate: 1e8, target: hard, remaining: 99, configuration: configuration) == 100)
        #expect(StratumMiner.roundSize(rate: 1, target: hard, remaining: .max, configuration: configuration) == 256)
    }
}


@Suite("Mining client: getblocktemplate answers")
struct RPCTemplateTests {
    static func answer(transactions: Int = 0, previous: String = "ab", bits: UInt32 = 0x207f_ffff,
                       longPollID: String = "abc-0") throws -> (json: JSONObject, block: Block) {
        let coinbase = Transaction.coinbase(height: 7, extraNonce: 3, outputs: [TxOut(value: Amount(baseUnits: 5_000)!, lockScript: [0x51])])
        var spends = [Transaction]()
        for index in 0..<transactions {
            spends.append(Transaction.coinbase(height: 100 + UInt64(index), extraNonce: 0, outputs: [TxOut(value: Amount(baseUnits: 1)!, lockScript: [0x52])]))
        }
        var block = Block(header: BlockHeader(version: 1, height: 7, previousHash: Hash256(hex: String(repeating: previous, count: 32))!,
                                              merkleRoot: .zero, stateRoot: .zero, time: 1_700_000_000, bits: bits, nonce: 0),
                          transactions: [coinbase] + spends)
        block.header.merkleRoot = block.computeMerkleRoot()
        block.header.stateRoot = block.computeStateRoot()
        let json: JSONObject = [
            "header": .string(HexCoding.encode(block.header.encoded)),
            "coinbasetxn": ["data": .string(HexCoding.encode(coinbase.encoded))],
            "transactions": .array(spends.map { ["data": .string(HexCoding.encode($0.encoded)), "fee": 250] }),
            "target": .string(try CompactTarget(bits: bits).target().hex),
            "longpollid": .string(longPollID),
        ]
        return (json, block)
    }

    @Test("an answer becomes the template of the same block")
    func converts() throws {
        let (json, block) = try Self.answer(transactions: 2)
        let work = try RPCWork(json: .object(json))
        #expect(work.template.block(nonce: 0) == block)
        #expect(work.template.header == block.header)
        #expect(work.template.extraNonce == 3)
        #expect(work.template.fees == Amount(baseUnits: 500))
        #expect(work.longPollID == "abc-0")
        #expect(work.template.target == (try CompactTarget(bits: 0x207f_ffff).target()))
    }

    @Test("a header whose merkle root does not match the transactions is refused, naming it")
    func tamperedMerkleRoot() throws {
        var (json, block) = try Self.answer(transactions: 1)
        var header = block.header
        header.merkleRoot = Hash256(hex: String(repeating: "11", count: 32))!
        json["header"] = .string(HexCoding.encode(header.encoded))
        #expect { try RPCWork(json: .object(json)) } throws: { "\($0)".contains("merkle root") }
        // A transaction dropped from the list breaks the root too.
        var (dropped, _) = try Self.answer(transactions: 1)
        dropped["transactions"] = []
        #expect { try RPCWork(json: .object(dropped)) } throws: { "\($0)".contains("merkle root") }
    }

    @Test("malformed answers name the field", arguments: [
        ("header", JSON.string("00"), "header must be"),
        ("coinbasetxn", JSON.object(["data": "zz"]), "coinbasetxn.data"),
        ("transactions", JSON.string("x"), "transactions must be an array"),
        ("target", JSON.string("00ff"), "does not match the header's bits"),
        ("merkleroot", JSON.string(String(repeating: "11", count: 32)), "merkleroot 1111"),
    ])
    func malformed(field: String, value: JSON, message: String) throws {
        var (json, _) = try Self.answer()
        json[field] = value
        #expect { try RPCWork(json: .object(json)) } throws: { "\($0)".contains(message) }
    }

    @Test("the request carries the payout script and the long poll id")
    func request() {
        let request = RPCWork.request(payoutScript: [0xAB, 0x01], longPollID: "x-1")
        #expect(request.arrayValue?.first?["payoutscript"] == "ab01")
        #expect(request.arrayValue?.first?["longpollid"] == "x-1")
    }
}
