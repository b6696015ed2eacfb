// The transactions of blocks a reorganisation disconnected, waiting to return to the pool.

import Primitives

/// Blocks' transactions as a reorganisation disconnects them (tip first), bounded by bytes
/// (Bitcoin Core's DisconnectedBlockTransactions, 20 MB): past the bound, those of the
/// first-disconnected (highest) blocks are dropped first, last transaction first, so what
/// stays never spends what was dropped. Collected per block and reversed once at the end.
struct DisconnectedTransactions {
    /// Core's MAX_DISCONNECTED_TX_POOL_BYTES.
    static let defaultMaxBytes = 20_000_000

    let maxBytes: Int
    /// Per disconnected block, tip first; blocks before `head` were dropped whole.
    private var blocks: [[(transaction: Transaction, bytes: Int)]] = []
    private var head = 0
    private(set) var bytes = 0

    init(maxBytes: Int = defaultMaxBytes) { self.maxBytes = max(0, maxBytes) }

    var isEmpty: Bool { head == blocks.count }

    /// Adds a disconnected block's transactions (coinbase excluded); returns those dropped
    /// to stay within the bound.
    mutating func add(blockTransactions: some Sequence<Transaction>) -> [Transaction] {
        let sized = blockTransactions.map { ($0, $0.encoded.count) }
        bytes += sized.reduce(0) { $0 + $1.1 }
        blocks.append(sized)
        var dropped = [Transaction]()
        while bytes > maxBytes, head < blocks.count {
            if let last = blocks[head].popLast() {
                bytes -= last.bytes
                dropped.append(last.transaction)
            } else {
                head += 1
            }
        }
        return dropped
    }

    /// Forgets transactions a newly connected block confirmed.
    mutating func remove(confirmed: Set<Hash256>) {
        guard !isEmpty, !confirmed.isEmpty else { return }
        for index in head..<blocks.count {
            blocks[index].removeAll { item in
                guard confirmed.contains(item.transaction.txid) else { return false }
                bytes -= item.bytes
                return true
            }
        }
    }

    /// Everything collected, lowest block first (parents before children), and empties the set.
    mutating func takeAll() -> [Transaction] {
        defer { blocks = []; head = 0; bytes = 0 }
        return blocks[head...].reversed().flatMap { $0.map(\.transaction) }
    }
}
