// The undo record of a connected block: the coins it spent, in spend order.

import Consensus
import Primitives

extension ChainState {
    static func encodeUndo(_ spent: [(OutPoint, Coin)]) -> [UInt8] {
        var writer = ByteWriter(capacity: 9 + spent.reduce(0) { $0 + 36 + 21 + $1.1.output.lockScript.count })
        writer.writeCompactSize(UInt64(spent.count))
        for (outpoint, coin) in spent {
            outpoint.encode(to: &writer)
            coin.encode(to: &writer)
        }
        return writer.bytes
    }

    static func decodeUndo(_ bytes: [UInt8]) throws -> [(OutPoint, Coin)] {
        var reader = ByteReader(bytes, path: "undo")
        do {
            let count = try reader.readCount("count", limit: 10_000_000, minimumItemSize: 36 + 18)
            var out = [(OutPoint, Coin)]()
            out.reserveCapacity(count)
            for _ in 0..<count {
                out.append((try OutPoint.decode(from: &reader), try Coin.decode(from: &reader)))
            }
            try reader.expectEnd("end")
            return out
        } catch {
            throw ChainStateError.corruptDatabase("undo data: \(error)")
        }
    }

}
