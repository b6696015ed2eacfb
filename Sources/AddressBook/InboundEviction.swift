import BLAKE3

/// One connected peer, as seen by inbound eviction.
public struct EvictionCandidate: Sendable, Equatable {
    public var id: Int
    /// When the connection was made (seconds, any monotonic origin).
    public var connectedAt: Double
    /// The best ping measured; nil before the first pong.
    public var minPingMillis: Double?
    /// When the peer last gave us a new valid block / transaction (0: never).
    public var lastBlockTime: UInt64
    public var lastTxTime: UInt64
    public var networkGroup: [UInt8]
    /// Misbehaved: evicted before anyone else, never protected.
    public var discouraged: Bool
    /// Outbound and noban peers are never candidates.
    public var outbound: Bool
    public var noBan: Bool

    public init(id: Int, connectedAt: Double, minPingMillis: Double? = nil, lastBlockTime: UInt64 = 0,
                lastTxTime: UInt64 = 0, networkGroup: [UInt8], discouraged: Bool = false,
                outbound: Bool = false, noBan: Bool = false) {
        self.id = id
        self.connectedAt = connectedAt
        self.minPingMillis = minPingMillis
        self.lastBlockTime = lastBlockTime
        self.lastTxTime = lastTxTime
        self.networkGroup = networkGroup
        self.discouraged = discouraged
        self.outbound = outbound
        self.noBan = noBan
    }
}

/// Which inbound peer to drop when the inbound slots are full (Bitcoin Core's
/// SelectNodeToEvict idea). Peers are protected by qualities an attacker cannot fake cheaply:
/// diverse network groups, low latency, useful blocks and transactions, long uptime. From
/// what is left, the network group with the most connections loses its youngest, so an
/// attacker flooding from one range evicts itself.
public enum InboundEviction {
    public static let protectedByGroup = 4
    public static let protectedByPing = 8
    public static let protectedByBlocks = 4
    public static let protectedByTransactions = 4

    /// The id to evict, or nil when every candidate is protected (then refuse the newcomer).
    /// `salt` orders network groups for the group protection; the node passes a secret random
    /// value so an attacker cannot know which groups are protected.
    public static func select(_ candidates: [EvictionCandidate], salt: [UInt8] = []) -> Int? {
        var pool = candidates.filter { !$0.outbound && !$0.noBan }
        if pool.isEmpty { return nil }

        // Misbehaving peers go first, youngest first; no protection applies to them.
        let discouraged = pool.filter(\.discouraged)
        if let victim = discouraged.max(by: isOlder) { return victim.id }

        // Distinct network groups, ordered by a salted hash: one peer each of 4 groups.
        var groupsSeen = Set<[UInt8]>()
        let byGroupHash = pool.sorted {
            let a = groupRank($0.networkGroup, salt), b = groupRank($1.networkGroup, salt)
            return a != b ? a.lexicographicallyPrecedes(b) : isOlder($0, $1)
        }
        var protected = Set<Int>()
        for c in byGroupHash where protected.count < protectedByGroup && groupsSeen.insert(c.networkGroup).inserted {
            protected.insert(c.id)
        }
        pool.removeAll { protected.contains($0.id) }

        // Lowest ping (measured only).
        protect(&pool, protectedByPing, where: { $0.minPingMillis != nil }) {
            ($0.minPingMillis!, $0.connectedAt) < ($1.minPingMillis!, $1.connectedAt)
        }
        // Most recent novel block, then transaction (only peers that ever gave one).
        protect(&pool, protectedByBlocks, where: { $0.lastBlockTime > 0 }) {
            $0.lastBlockTime != $1.lastBlockTime ? $0.lastBlockTime > $1.lastBlockTime : isOlder($0, $1)
        }
        protect(&pool, protectedByTransactions, where: { $0.lastTxTime > 0 }) {
            $0.lastTxTime != $1.lastTxTime ? $0.lastTxTime > $1.lastTxTime : isOlder($0, $1)
        }
        // Half of the rest by longest uptime: an attacker must hold connections for long.
        let half = pool.count / 2
        protect(&pool, half, where: { _ in true }, by: isOlder)

        if pool.isEmpty { return nil }
        // The group with the most connections; on a tie, the one with the youngest member.
        var groups: [[UInt8]: [EvictionCandidate]] = [:]
        for c in pool { groups[c.networkGroup, default: []].append(c) }
        let youngestOf = groups.mapValues { $0.max(by: isOlder)! }
        let loser = groups.max { a, b in
            if a.value.count != b.value.count { return a.value.count < b.value.count }
            return isOlder(youngestOf[a.key]!, youngestOf[b.key]!)
        }!
        return youngestOf[loser.key]!.id
    }

    /// Older connection first; ids break ties so the result does not depend on input order.
    static func isOlder(_ a: EvictionCandidate, _ b: EvictionCandidate) -> Bool {
        a.connectedAt != b.connectedAt ? a.connectedAt < b.connectedAt : a.id < b.id
    }

    static func groupRank(_ group: [UInt8], _ salt: [UInt8]) -> [UInt8] {
        BLAKE3.hash(salt + [UInt8(truncatingIfNeeded: salt.count)] + group)
    }

    /// Removes from `pool` the first `count` peers (by `order`) among those `eligible`.
    private static func protect(_ pool: inout [EvictionCandidate], _ count: Int,
                                where eligible: (EvictionCandidate) -> Bool,
                                by order: (EvictionCandidate, EvictionCandidate) -> Bool) {
        guard count > 0 else { return }
        let chosen = Set(pool.filter(eligible).sorted(by: order).prefix(count).map(\.id))
        pool.removeAll { chosen.contains($0.id) }
    }
}
