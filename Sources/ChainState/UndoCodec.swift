// The undo record of a connected block: the coins it spent, in spend order, then (only when
// the block changed the masternode list) the list's undo. Records written before the list
// existed end after the coins and decode with an empty list undo.

import Consensus
import Masternodes
import Primitives

extension ChainState {
    /// What disconnecting a block needs.
    struct BlockUndo {
        var spent: [(OutPoint, Coin)]
        var masternodes: MasternodeListUndo
    }

    static func encodeUndo(_ spent: [(OutPoint, Coin)], masternodes: MasternodeListUndo = MasternodeListUndo()) -> [UInt8] {
        var writer = ByteWriter(capacity: 9 + spent.reduce(0) { $0 + 36 + 21 + $1.1.output.lockScript.count })
        writer.writeCompactSize(UInt64(spent.count))
        for (outpoint, coin) in spent {
            outpoint.encode(to: &writer)
            coin.encode(to: &writer)
        }
        // Absent when empty: chains without masternodes keep their exact undo records.
        if !masternodes.isEmpty { masternodes.encode(to: &writer) }
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
            try reader.expectEnd("end")
            return BlockUndo(spent: out, masternodes: masternodes)
        } catch {
            throw ChainStateError.corruptDatabase("undo data: \(error)")
        }
    }

}
