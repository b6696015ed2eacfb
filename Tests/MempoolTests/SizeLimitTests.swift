import Foundation
@testable import Mempool
import Primitives
import Testing

/// A clock the test moves by hand (the pool's `now`).
final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var value: UInt64

    init(_ start: UInt64) { value = start }

    var now: UInt64 { lock.withLock { value } }

    func advance(by seconds: UInt64) { lock.withLock { value += seconds } }
}

/// The size limit: eviction of the lowest descendant-score packages and Core's rolling
/// minimum fee (raised by evictions, decaying only once a block came).
@Suite(.serialized)
struct SizeLimitTests {
    static let value: UInt64 = 50_000_000_000
    static let start: UInt64 = 1_700_000_000

    /// Five pool transactions on `chain`: `cheap` (the lowest fee rate), `middle`, a cheap
    /// `parent` whose generous `child` lifts its package, and `rich`; as entries of a pool
    /// without a size limit (parents first).
    struct Fixture {
        var cheap, middle, parent, child, rich: MempoolEntry
        var all: [MempoolEntry] { [cheap, middle, parent, child, rich] }
        var totalBytes: Int { all.reduce(0) { $0 + $1.size } }
    }

    static func fixture(_ chain: TestChain) throws -> Fixture {
        let unlimited = Mempool(chain: chain.chain, parameters: chain.parameters)
        func add(_ transaction: Transaction) throws -> MempoolEntry {
            try #require(unlimited.submit(transaction, source: "test").entry)
        }
        let cheap = try add(chain.spend([chain.coinbase(height: 1)], to: [chain.pay(value - 1_000)]))
        let middle = try add(chain.spend([chain.coinbase(height: 2)], to: [chain.pay(value - 5_000)]))
        let parentTx = chain.spend([chain.coinbase(height: 3)], to: [chain.pay(value - 1_500)])
        let parent = try add(parentTx)
        let child = try add(chain.spend([TestChain.output(parentTx, 0)], to: [chain.pay(value - 1_500 - 100_000)]))
        let rich = try add(chain.spend([chain.coinbase(height: 4)], to: [chain.pay(value - 400_000)]))
        return Fixture(cheap: cheap, middle: middle, parent: parent, child: child, rich: rich)
    }

    /// A pool bounded at `maxPoolBytes` holding `entries` past its bound (as admissions leave
    /// it before they trim).
    static func overfullPool(_ chain: TestChain, maxPoolBytes: Int, entries: [MempoolEntry], clock: ManualClock) -> Mempool {
        var policy = MempoolPolicy()
        policy.maxPoolBytes = maxPoolBytes
        let pool = Mempool(chain: chain.chain, parameters: chain.parameters, policy: policy, now: { clock.now })
        pool.admission.withLock { pool.lock.withLock { for entry in entries { pool.insert(entry) } } }
        return pool
    }

    static func trim(_ pool: Mempool, time: UInt64) -> [Hash256] {
        pool.admission.withLock { pool.limitSize(time: time).map(\.txid) }
    }

    @Test("one byte over the bound evicts the lowest fee-rate package and raises the minimum to its rate plus the increment")
    func evictsLowest() throws {
        let chain = try TestChain(blocks: MempoolTests.chainLength)
        let fixture = try Self.fixture(chain)
        let clock = ManualClock(Self.start)
        let pool = Self.overfullPool(chain, maxPoolBytes: fixture.totalBytes - 1, entries: fixture.all, clock: clock)
        #expect(pool.mempoolMinimumFeeRate() == pool.policy.minRelayFeeRate)

        #expect(Self.trim(pool, time: clock.now) == [fixture.cheap.txid])
        #expect(pool.count == 4 && pool.bytes == fixture.totalBytes - fixture.cheap.size)
        let last = try #require(pool.history(txid: fixture.cheap.txid).last)
        #expect(last.state == .removed && last.detail == Mempool.sizeLimitReason && last.time == Self.start)
        #expect(pool.status(txid: fixture.cheap.txid)?.state == .removed && pool.status(txid: fixture.cheap.txid)?.rule == "sizelimit")
        let raised = fixture.cheap.feeRate + pool.policy.incrementalRelayFeeRate
        #expect(pool.mempoolMinimumFeeRate() == raised)
        #expect(pool.admission.withLock { pool.currentMinimumFeeRate(time: clock.now) } == raised)
        // Within the bound now: nothing more leaves.
        #expect(Self.trim(pool, time: clock.now).isEmpty)
    }

    @Test("a cheap parent with a generous child is scored as its package and outlives a richer lone transaction")
    func packagesByDescendantScore() throws {
        let chain = try TestChain(blocks: MempoolTests.chainLength)
        let fixture = try Self.fixture(chain)
        #expect(fixture.parent.feeRate < fixture.middle.feeRate)
        let clock = ManualClock(Self.start)
        // Room for all but `cheap` and `middle`.
        let bound = fixture.totalBytes - fixture.cheap.size - fixture.middle.size
        let pool = Self.overfullPool(chain, maxPoolBytes: bound, entries: fixture.all, clock: clock)
        #expect(Self.trim(pool, time: clock.now) == [fixture.cheap.txid, fixture.middle.txid])
        #expect(pool.contains(txid: fixture.parent.txid) && pool.contains(txid: fixture.child.txid))
        // The minimum is the highest rate evicted plus the increment.
        #expect(pool.mempoolMinimumFeeRate() == fixture.middle.feeRate + pool.policy.incrementalRelayFeeRate)

        // Room for `rich` alone: the parent leaves with its child, as one package.
        let tight = Self.overfullPool(chain, maxPoolBytes: fixture.rich.size, entries: fixture.all, clock: clock)
        let evicted = Self.trim(tight, time: clock.now)
        #expect(evicted == [fixture.cheap.txid, fixture.middle.txid, fixture.parent.txid, fixture.child.txid])
        #expect(tight.entries().map(\.txid) == [fixture.rich.txid])
        let packageRate = MempoolPolicy.feeRate(fee: fixture.parent.fee.baseUnits + fixture.child.fee.baseUnits,
                                                bytes: fixture.parent.size + fixture.child.size)
        #expect(tight.mempoolMinimumFeeRate() == packageRate + tight.policy.incrementalRelayFeeRate)
        #expect(tight.history(txid: fixture.child.txid).last?.detail == Mempool.sizeLimitReason)
    }

    @Test("the raised minimum holds until a block comes, then halves every half-life and falls back to the relay minimum")
    func minimumDecaysAfterBlock() async throws {
        let chain = try TestChain(blocks: MempoolTests.chainLength)
        let fixture = try Self.fixture(chain)
        let clock = ManualClock(Self.start)
        let pool = Self.overfullPool(chain, maxPoolBytes: fixture.totalBytes - 1, entries: fixture.all, clock: clock)
        #expect(Self.trim(pool, time: clock.now) == [fixture.cheap.txid])
        let raised = fixture.cheap.feeRate + pool.policy.incrementalRelayFeeRate
        let halfLife = pool.policy.minimumFeeHalfLifeSeconds

        // No block yet: no decay, however long.
        clock.advance(by: 3 * halfLife)
        #expect(pool.mempoolMinimumFeeRate() == raised)
        #expect(pool.admission.withLock { pool.currentMinimumFeeRate(time: clock.now) } == raised)

        // A block (the pool stays over half its bound, so the full half-life applies).
        pool.start()
        defer { pool.stop() }
        try chain.mine([])
        try await chain.waitUntilSynced(pool)
        #expect(pool.bytes >= pool.policy.maxPoolBytes / 2)
        #expect(pool.mempoolMinimumFeeRate() == raised)
        clock.advance(by: halfLife)
        let half = UInt64((Double(raised) / 2).rounded())
        #expect(pool.mempoolMinimumFeeRate() == half)
        #expect(pool.admission.withLock { pool.currentMinimumFeeRate(time: clock.now) } == half)
        clock.advance(by: halfLife)
        #expect(pool.mempoolMinimumFeeRate() == UInt64((Double(raised) / 4).rounded()))
        // Below half the incremental relay fee the rolling rate is dropped: the relay minimum.
        clock.advance(by: 4 * halfLife)
        #expect(pool.admission.withLock { pool.currentMinimumFeeRate(time: clock.now) } == pool.policy.minRelayFeeRate)
        #expect(pool.admission.withLock { pool.rollingMinimumFeeRate } == 0)
    }

    @Test("a pool under a quarter of its bound decays four times as fast")
    func quarterFullDecaysFaster() async throws {
        let chain = try TestChain(blocks: MempoolTests.chainLength)
        let fixture = try Self.fixture(chain)
        let clock = ManualClock(Self.start)
        let pool = Self.overfullPool(chain, maxPoolBytes: fixture.totalBytes - 1, entries: fixture.all, clock: clock)
        #expect(Self.trim(pool, time: clock.now) == [fixture.cheap.txid])
        let raised = fixture.cheap.feeRate + pool.policy.incrementalRelayFeeRate
        pool.start()
        defer { pool.stop() }
        // The block confirms all but `middle`: under a quarter of the bound remains.
        let confirmed = fixture.all.filter { $0.txid != fixture.cheap.txid && $0.txid != fixture.middle.txid }
        try chain.mine(confirmed.map(\.transaction))
        try await chain.waitUntilSynced(pool)
        #expect(pool.entries().map(\.txid) == [fixture.middle.txid])
        #expect(pool.bytes < pool.policy.maxPoolBytes / 4)
        clock.advance(by: pool.policy.minimumFeeHalfLifeSeconds / 4)
        #expect(pool.mempoolMinimumFeeRate() == UInt64((Double(raised) / 2).rounded()))
    }

    @Test("through submission: a full pool evicts, refuses what pays under the raised minimum, and refuses a newcomer it evicts at once")
    func submissionAtTheBound() throws {
        let chain = try TestChain(blocks: MempoolTests.chainLength)
        let value = Self.value
        let spends = (1...5).map { height in { (fee: UInt64) in chain.spend([chain.coinbase(height: height)], to: [chain.pay(value - fee)]) } }
        let cheap = spends[0](1_000), middle = spends[1](5_000), rich = spends[2](400_000)
        let size = cheap.encoded.count
        #expect([middle, rich].allSatisfy { $0.encoded.count == size })
        var policy = MempoolPolicy()
        policy.maxPoolBytes = 2 * size + size / 2
        let clock = ManualClock(Self.start)
        let pool = Mempool(chain: chain.chain, parameters: chain.parameters, policy: policy, now: { clock.now })
        #expect(pool.submit(cheap, source: "test").entry != nil && pool.submit(middle, source: "test").entry != nil)
        #expect(pool.submit(rich, source: "test").entry != nil)
        #expect(Set(pool.entries().map(\.txid)) == [middle.txid, rich.txid])
        #expect(pool.status(txid: cheap.txid)?.state == .removed && pool.status(txid: cheap.txid)?.rule == Mempool.sizeLimitReason)
        let raised = MempoolPolicy.feeRate(fee: 1_000, bytes: size) + policy.incrementalRelayFeeRate
        #expect(pool.mempoolMinimumFeeRate() == raised && pool.minimumFeeRate == raised)

        // Above the relay minimum, under the pool's: refused.
        let under = spends[3](500)
        #expect(MempoolPolicy.feeRate(fee: 500, bytes: size) > policy.minRelayFeeRate)
        #expect(pool.submit(under, source: "test").rule == "mempool min fee not met")
        // Pays the minimum but is the lowest package in a full pool: in and out at once.
        let lowest = spends[4](MempoolPolicy.fee(rate: raised, bytes: size))
        #expect(pool.submit(lowest, source: "test").rule == "mempool full")
        #expect(pool.count == 2 && !pool.contains(txid: lowest.txid))
    }
}
