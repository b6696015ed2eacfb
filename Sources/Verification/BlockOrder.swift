import ChainState
import Consensus
import Primitives

/// A block on its way to the chain state: decoded, its txids when the context-free rules
/// passed (the pipeline's; nil sends it through `accept`, which reports the rule), its record.
struct PendingBlock {
    var block: Block
    /// The context-free rules' result (ids and witness root); nil when a rule failed or
    /// they did not run (the block then goes through `accept`).
    var checked: ContextFreeRules.Checked?
    var record: BlockSource.Record
}

/// The arrival-order rules both modes share: blocks already known or judged invalid are
/// passed over, a block whose parent has not come waits for it (within a byte bound), and
/// what still waits at the end is reported as gaps and unconnected blocks.
struct BlockOrder {
    private var waiting: WaitingBlocks<PendingBlock>
    private let knownInvalid: Set<Hash256>

    init(maxWaitingBytes: Int, knownInvalid: Set<Hash256>) {
        waiting = WaitingBlocks(maxBytes: maxWaitingBytes)
        self.knownInvalid = knownInvalid
    }

    /// False (counted as skipped or known invalid) for a block connected, waiting or judged invalid already.
    func isNew(_ block: Block, in state: ChainState, tally: ReportAccumulator) -> Bool {
        // The emptiness checks keep the common case (in order, nothing invalid) to one lookup.
        // A header-only node (headers-first sync) still needs its block.
        if state.node(block.hash).map({ $0.hasBlock || $0.isInvalid }) == true || (!waiting.isEmpty && waiting.contains(block.hash)) {
            tally.report.skipped += 1
            return false
        }
        if !knownInvalid.isEmpty && knownInvalid.contains(block.hash) {
            tally.report.knownInvalid += 1
            return false
        }
        return true
    }

    /// Takes a block whose parent is unknown: it waits (`released(by:)` hands it back), or is
    /// reported unconnected when the bound is reached. False when its parent is known.
    mutating func holdIfOrphan(_ pending: PendingBlock, in state: ChainState, tally: ReportAccumulator) -> Bool {
        let block = pending.block
        // A parent known by its header alone (headers-first) is as missing as an unknown one.
        guard state.node(block.header.previousHash)?.hasBlock != true else { return false }
        if !waiting.park(pending, hash: block.hash, parent: block.header.previousHash, bytes: pending.record.bytes.count) {
            tally.report.unconnected.append("\(pending.record.name): block \(block.header.height) (\(block.hash.hex)) not connected: "
                                            + "its parent \(block.header.previousHash.hex) is unknown and \(waiting.maxBytes >> 20) MiB of blocks already wait for theirs")
        }
        return true
    }

    /// The blocks that waited for `hash` (just connected), no longer waiting.
    mutating func released(by hash: Hash256) -> [PendingBlock] {
        waiting.isEmpty ? [] : waiting.release(childrenOf: hash)
    }

    /// The gaps (one line per missing parent) and the blocks left waiting at the end of the input.
    func describeWaiting(state: ChainState, alreadyReported: [String]) -> (gaps: [String], unconnected: [String]) {
        var gaps = [String](), unconnected = alreadyReported
        for (parent, children) in waiting.groups() where !waiting.contains(parent) {
            let first = children.min { $0.block.header.height < $1.block.header.height }!
            let (block, below) = (first.block, waiting.descendantCount(of: parent))
            gaps.append("gap: block \(block.header.height) (\(block.hash.hex), \(first.record.name)) needs block \(block.header.height - 1) "
                        + "(\(parent.hex)), which is in neither the input nor the datadir (best block: height \(state.tip.height)); "
                        + "\(below) block\(below == 1 ? "" : "s") wait on it")
        }
        for pending in waiting.all().sorted(by: { $0.block.header.height < $1.block.header.height }) {
            let block = pending.block
            unconnected.append("\(pending.record.name): block \(block.header.height) (\(block.hash.hex)) not connected: "
                               + "parent \(block.header.previousHash.hex) unknown")
        }
        return (gaps.sorted(), unconnected)
    }
}
