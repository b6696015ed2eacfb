// Choosing the next block's transactions: Bitcoin Core's package selection by ancestor fee
// rate, on a compact copy of the pool (indices instead of txids, so the loop neither hashes
// nor copies entries).

import Primitives

extension Mempool {
    /// Bitcoin Core's BlockAssembler::addPackageTxs. Every entry is scored once with its
    /// in-pool ancestors (summed along single-parent chains; a transaction with several
    /// parents walks, so shared ancestors count once). The best package whose not yet chosen
    /// ancestors fit goes in whole, parents first; choosing it marks its members' descendants
    /// stale, and a stale candidate is scored again only when it reaches the top. A package
    /// that does not fit is skipped; the loop stops when nothing left could fit, or after
    /// 1,000 misses in a row once the block is nearly full (Core's MAX_CONSECUTIVE_FAILURES).
    /// Call holding `lock` (or `admission`).
    func select(maxBytes: Int) -> [MempoolEntry] {
        let graph = SelectionGraph(self)
        let count = graph.entries.count
        guard count > 0 else { return [] }
        var chosen = [Bool](repeating: false, count: count)
        var stale = [Bool](repeating: false, count: count)
        var marks = VisitMarks(count: count)

        // Initial scores: a single parent's totals plus its own (the chain's links are disjoint).
        var totals = [(fee: UInt64, size: Int)?](repeating: nil, count: count)
        var path = [Int]()
        func initialScore(_ index: Int) -> (fee: UInt64, size: Int) {
            path.removeAll(keepingCapacity: true)
            var current = index
            var base: (fee: UInt64, size: Int)
            while true {
                if let known = totals[current] { base = known; break }
                let parents = graph.parents[current]
                if parents.count == 1 {
                    path.append(current)
                    current = parents[0]
                    continue
                }
                base = parents.isEmpty ? (graph.fee[current], graph.size[current])
                                       : graph.packageTotals(graph.ancestors(of: current, excluding: chosen, marks: &marks))
                totals[current] = base
                break
            }
            for link in path.reversed() {
                base = (base.fee + graph.fee[link], base.size + graph.size[link])
                totals[link] = base
            }
            return base
        }
        var candidates = [SelectionCandidate]()
        candidates.reserveCapacity(count)
        var smallest = Int.max
        for index in 0..<count {
            let score = initialScore(index)
            candidates.append(SelectionCandidate(index: index, fee: score.fee, size: score.size, arrival: graph.arrival[index]))
            smallest = min(smallest, graph.size[index])
        }
        var heap = MinHeap(candidates)

        var selected = [MempoolEntry]()
        var remaining = maxBytes
        var consecutiveFailures = 0
        while remaining >= smallest, let best = heap.pop() {
            let index = best.index
            guard !chosen[index] else { continue }
            if stale[index] {
                // Ancestors chosen since it was scored: score again and let the heap decide.
                stale[index] = false
                let score = graph.packageTotals(graph.ancestors(of: index, excluding: chosen, marks: &marks))
                heap.push(SelectionCandidate(index: index, fee: score.fee, size: score.size, arrival: best.arrival))
                continue
            }
            guard best.size <= remaining else {
                consecutiveFailures += 1
                if consecutiveFailures > Self.maxConsecutiveSelectionFailures && remaining < Self.nearlyFullBytes { break }
                continue
            }
            consecutiveFailures = 0
            let members = graph.parents[index].isEmpty ? [index] : graph.ancestors(of: index, excluding: chosen, marks: &marks)
            for member in members where !chosen[member] {
                chosen[member] = true
                selected.append(graph.entries[member])
            }
            // Their packages lost these members: score them again when they come up.
            for member in members where !graph.children[member].isEmpty {
                for descendant in graph.descendants(of: member, marks: &marks) where !chosen[descendant] { stale[descendant] = true }
            }
            remaining -= best.size
        }
        return selected
    }

    /// Core's BlockAssembler bounds: give up after this many packages in a row that do not
    /// fit, once fewer than `nearlyFullBytes` are left.
    static let maxConsecutiveSelectionFailures = 1_000
    static let nearlyFullBytes = 1_000
}

/// The pool as arrays indexed by position: fees, sizes, arrival, parents and children.
struct SelectionGraph {
    let entries: [MempoolEntry]
    let fee: [UInt64]
    let size: [Int]
    let arrival: [UInt64]
    let parents: [[Int]]
    let children: [[Int]]

    /// Reads the pool's fields: hold `lock` or `admission`.
    init(_ pool: Mempool) {
        var entries = [MempoolEntry]()
        entries.reserveCapacity(pool.pool.count)
        var position = [Hash256: Int](minimumCapacity: pool.pool.count)
        for (txid, entry) in pool.pool {
            position[txid] = entries.count
            entries.append(entry)
        }
        var parents = [[Int]](repeating: [], count: entries.count)
        var children = [[Int]](repeating: [], count: entries.count)
        for (index, entry) in entries.enumerated() where !entry.depends.isEmpty {
            for parent in entry.depends {
                guard let parentIndex = position[parent] else { continue }
                parents[index].append(parentIndex)
                children[parentIndex].append(index)
            }
        }
        self.entries = entries
        fee = entries.map(\.fee.baseUnits)
        size = entries.map(\.size)
        arrival = entries.map { pool.arrival[$0.txid] ?? 0 }
        self.parents = parents
        self.children = children
    }

    /// `index`'s ancestors not in `excluding`, then `index`, parents before children
    /// (iterative post-order: deep chains must not exhaust the stack).
    func ancestors(of index: Int, excluding: [Bool], marks: inout VisitMarks) -> [Int] {
        marks.next()
        var order = [Int]()
        var stack: [(Int, Bool)] = [(index, false)]
        while let (current, expanded) = stack.popLast() {
            if expanded { order.append(current); continue }
            guard !excluding[current], marks.visit(current) else { continue }
            stack.append((current, true))
            for parent in parents[current].reversed() { stack.append((parent, false)) }
        }
        return order
    }

    /// `index`'s in-pool descendants (not itself).
    func descendants(of index: Int, marks: inout VisitMarks) -> [Int] {
        marks.next()
        _ = marks.visit(index)
        var found = [Int]()
        var next = 0
        for child in children[index] where marks.visit(child) { found.append(child) }
        while next < found.count {
            for child in children[found[next]] where marks.visit(child) { found.append(child) }
            next += 1
        }
        return found
    }

    func packageTotals(_ members: [Int]) -> (fee: UInt64, size: Int) {
        var total: (fee: UInt64, size: Int) = (0, 0)
        for member in members { total = (total.fee + fee[member], total.size + size[member]) }
        return total
    }
}

/// Visited flags reset in O(1): a walk counts as a new generation.
struct VisitMarks {
    private var generation: [UInt32]
    private var current: UInt32 = 0

    init(count: Int) { generation = [UInt32](repeating: 0, count: count) }

    mutating func next() {
        current &+= 1
        if current == 0 {
            generation = [UInt32](repeating: 0, count: generation.count)
            current = 1
        }
    }

    /// True the first time `index` is visited in this generation.
    mutating func visit(_ index: Int) -> Bool {
        guard generation[index] != current else { return false }
        generation[index] = current
        return true
    }
}

/// A package in the selection heap, a min-heap: "less" ranks first (the higher fee rate,
/// then the earlier arrival).
struct SelectionCandidate: Comparable, Sendable {
    var index: Int
    var fee: UInt64
    var size: Int
    var arrival: UInt64

    static func < (lhs: SelectionCandidate, rhs: SelectionCandidate) -> Bool {
        // fee/size compared by cross products (no rounding, no overflow in 128 bits).
        let left = UInt128(lhs.fee) * UInt128(rhs.size), right = UInt128(rhs.fee) * UInt128(lhs.size)
        if left != right { return left > right }
        return lhs.arrival < rhs.arrival
    }

    static func == (lhs: SelectionCandidate, rhs: SelectionCandidate) -> Bool { !(lhs < rhs) && !(rhs < lhs) }
}
