// What the pool server runs with: the resolved `stratum*` settings and the limits that keep
// one miner (or an attacker) from costing the node more than a bounded share of its memory.

import Stratum

public struct StratumServerSettings: Sendable {
    /// The network's name: worker names must be its addresses.
    public var network: String
    public var host: String
    /// 0: any free port (tests).
    public var port: Int
    /// The address the pool's blocks pay, as given, and its lock script.
    public var payoutAddress: String
    public var payoutScript: [UInt8]
    public var difficulty: VariableDifficultySettings
    public var maxConnections: Int
    /// Most connections from one IP address (loopback included).
    public var maxConnectionsPerIP = StratumServerSettings.defaultMaxConnectionsPerIP
    public static let defaultMaxConnectionsPerIP = 64
    /// Seconds a connection may stay without both subscribing and authorizing a worker.
    public var idleTimeout: Double = 60
    /// Seconds a connection being closed may take to send its last words before it is cut.
    public var closeGraceSeconds: Double = 3
    /// Unflushed outbound bytes past which a connection is closed (a reader that does not read).
    public var maxPendingBytes = 1 << 20
    /// Bad messages in a row that close a connection.
    public var maxConsecutiveBadMessages = 50
    /// Seconds between looks at the pool's fees for a richer template on the same tip.
    public var feeRefreshInterval: Double = 30
    /// Seconds between the housekeeping ticks (quiet miners' difficulty, idle connections).
    public var tickInterval: Double = 1
    /// How often the tip is compared with the current template's previous block (nanoseconds).
    public var tipPollNanoseconds: UInt64 = 100_000_000
    /// Jobs each connection remembers (older ones get "job not found").
    public var jobsPerConnection = 16
    /// Good shares one connection may have on one template (each is remembered for the
    /// pool-wide duplicate check while its template is among the newest). Sized from the
    /// vardiff goal: an hour at four times the aimed rate (the flood retarget's trigger), so
    /// a miner on one template for a long block interval is never cut short. Worst case, a
    /// remembered share costs about 40 bytes (a 16-byte key in a hash set at its load
    /// factor): 3 shares/s gives 43,200 shares, about 1.7 MB per connection and template,
    /// and each one needs real hashing at the connection's difficulty.
    public var sharesRememberedPerTemplate: Int
    /// Worker names one connection may authorize (a rig has one; a proxy a few).
    public var workersPerConnection = 8

    public init(network: String, host: String, port: Int, payoutAddress: String, payoutScript: [UInt8], difficulty: VariableDifficultySettings,
                maxConnections: Int) {
        self.network = network
        self.host = host
        self.port = port
        self.payoutAddress = payoutAddress
        self.payoutScript = payoutScript
        self.difficulty = difficulty
        self.maxConnections = maxConnections
        sharesRememberedPerTemplate = Self.sharesRemembered(sharesPerSecond: difficulty.targetSharesPerSecond)
    }

    /// An hour of shares at four times the vardiff goal, within [1,000, 100,000].
    static func sharesRemembered(sharesPerSecond: Double) -> Int {
        let hour = sharesPerSecond * 4 * 3_600
        guard hour.isFinite else { return 100_000 }
        return Int(min(max(hour, 1_000), 100_000))
    }
}

/// Hands out the 2-byte nonce prefixes: sequential from the last one given (so a prefix
/// just freed is the last to be reused), skipping those in use.
struct NoncePrefixAllocator {
    let byteCount = NoncePrefix.defaultByteCount
    let limit: Int
    private var inUse = Set<UInt64>()
    private var next: UInt64 = 0

    init(limit: Int) {
        self.limit = min(limit, 1 << (8 * NoncePrefix.defaultByteCount))
    }

    var count: Int { inUse.count }

    /// A free prefix; nil when `limit` are in use.
    mutating func allocate() -> NoncePrefix? {
        guard inUse.count < limit else { return nil }
        let space = UInt64(1) << UInt64(8 * byteCount)
        for _ in 0..<space {
            let candidate = next
            next = (next + 1) % space
            if !inUse.contains(candidate) {
                inUse.insert(candidate)
                return NoncePrefix(value: candidate, byteCount: byteCount)
            }
        }
        return nil
    }

    mutating func free(_ prefix: NoncePrefix) {
        inUse.remove(prefix.value)
    }
}
