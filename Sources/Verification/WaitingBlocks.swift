import Primitives

/// Blocks whose parent is not known yet, by parent, within a byte bound: what bitcoind's
/// `-loadblock` keeps so a file's blocks connect whatever their order.
public struct WaitingBlocks<Item> {
    public let maxBytes: Int
    public private(set) var bytes = 0
    private var byParent: [Hash256: [(hash: Hash256, bytes: Int, item: Item)]] = [:]
    private var hashes = Set<Hash256>()

    public init(maxBytes: Int) { self.maxBytes = maxBytes }

    public var isEmpty: Bool { hashes.isEmpty }
    public var count: Int { hashes.count }
    public func contains(_ hash: Hash256) -> Bool { hashes.contains(hash) }

    /// Keeps `item` until `release(childrenOf: parent)`; false (nothing kept) when full.
    public mutating func park(_ item: Item, hash: Hash256, parent: Hash256, bytes size: Int) -> Bool {
        guard bytes + size <= maxBytes else { return false }
        byParent[parent, default: []].append((hash, size, item))
        hashes.insert(hash)
        bytes += size
        return true
    }

    /// The blocks waiting for `hash`, no longer kept.
    public mutating func release(childrenOf hash: Hash256) -> [Item] {
        guard let children = byParent.removeValue(forKey: hash) else { return [] }
        for child in children { hashes.remove(child.hash); bytes -= child.bytes }
        return children.map(\.item)
    }

    /// Waiting items grouped by the parent they wait for.
    public func groups() -> [(parent: Hash256, items: [Item])] { byParent.map { ($0.key, $0.value.map(\.item)) } }
    public func all() -> [Item] { byParent.values.flatMap { $0.map(\.item) } }

    /// How many waiting blocks descend from `parent`.
    public func descendantCount(of parent: Hash256) -> Int {
        var count = 0, stack = [parent]
        while let next = stack.popLast() {
            for child in byParent[next] ?? [] { count += 1; stack.append(child.hash) }
        }
        return count
    }
}
