// The undo record of a connected block: the coins it spent, in spend order, then (only when
// the block changed the masternode list or the quorum set) the list's undo, then (only when
// the block changed the quorum set) the set's undo. Records written before the list
// existed end after the coins and decode with empty undos.

import Consensus
import Governance
import Masternodes
import Primitives
import Quorums

extension ChainState {
    /// What disconnecting a block needs.
    struct BlockUndo {
        var spent: [(OutPoint, Coin)]
        var masternodes: MasternodeListUndo
        var quorums = QuorumSetUndo()
        var governance = GovernanceLedgerUndo()
    }

    static func encodeUndo(_ spent: [(OutPoint, Coin)], masternodes: MasternodeListUndo = MasternodeListUndo(),
                           quorums: QuorumSetUndo = QuorumSetUndo(), governance: GovernanceLedgerUndo = GovernanceLedgerUndo()) -> [UInt8] {
        var writer = ByteWriter(capacity: 9 + spent.reduce(0) { $0 + 36 + 21 + $1.1.output.lockScript.count })
        writer.writeCompactSize(UInt64(spent.count))
        for (outpoint, coin) in spent {
            outpoint.encode(to: &writer)
            coin.encode(to: &writer)
        }
        // Absent when empty: chains without masternodes keep their exact undo records.
        if !masternodes.isEmpty || !quorums.isEmpty || !governance.isEmpty { masternodes.encode(to: &writer) }
        if !quorums.isEmpty || !governance.isEmpty { quorums.encode(to: &writer) }
        if !governance.isEmpty { governance.encode(to: &writer) }
        return writer.bytes
    }

    static func decodeUndo(_ bytes: [UInt8]) throws -> BlockUndo {
        var reader = ByteReader(bytes, path: "undo")
        do {
            let count = try reader.readCount("count", limit: 10_000_000, minimumItemSize: 36 + 18)
            var out = [(OutPoint, Coin)]()
            out.reserveCapacity(count)
            for _ in 0..<count {
                out.append((try OutPoint.decode(from: &reader), try Coin.decode(from: &reader)))
            }
            var masternodes = MasternodeListUndo()
            if !reader.isAtEnd {
                masternodes = try reader.within("masternodes") { try MasternodeListUndo.decode(from: &$0) }
            }
            var quorums = QuorumSetUndo()
            if !reader.isAtEnd {
                quorums = try reader.within("quorums") { try QuorumSetUndo.decode(from: &$0) }
            }
            var governance = GovernanceLedgerUndo()
            if !reader.isAtEnd {
                governance = try reader.within("governance") { try GovernanceLedgerUndo.decode(from: &$0) }
            }
            try reader.expectEnd("end")
            return BlockUndo(spent: out, masternodes: masternodes, quorums: quorums, governance: governance)
        } catch {
            throw ChainStateError.corruptDatabase("undo data: \(error)")
        }
    }

}
