// Count, total and canonical digest of the UTXO set.

import BLAKE3
import Consensus
import Primitives
import Storage

public struct UTXOSummary: Equatable, Sendable {
    public var bestHash: Hash256
    public var bestHeight: UInt64
    public var count: UInt64
    public var total: Amount
    public var digest: Hash256
}

extension ChainState {
    /// Count, total and canonical digest of the UTXO set (after a flush):
    /// BLAKE3 over, in key order, each coin's 36-byte key followed by its encoding.
    public func utxoSummary() throws -> UTXOSummary {
        if isReadOnly { return try scannedUTXOSummary() }
        try flush()
        if let (count, total, digest) = lastFlushSummary {
            return UTXOSummary(bestHash: tip.hash, bestHeight: tip.height, count: count, total: total, digest: digest)
        }
        return try scannedUTXOSummary()
    }

    /// The summary from a scan of the flushed UTXO set (what `utxoSummary` computes in
    /// memory when the cache holds every coin).
    func scannedUTXOSummary() throws -> UTXOSummary {
        var hasher = BLAKE3Hasher()
        var count: UInt64 = 0
        var total = Amount.zero
        let iterator = database.iterator(families.utxo)
        iterator.seekToFirst()
        while iterator.isValid {
            let key = iterator.key, value = iterator.value
            guard let outpoint = OutPoint(storageKey: key) else { throw ChainStateError.corruptDatabase("UTXO key \(HexCoding.encode(key))") }
            let coin = try UTXOCache.decodeStored(value, outpoint)
            hasher.update(key)
            hasher.update(value)
            count += 1
            guard let sum = total.adding(coin.output.value) else { throw ChainStateError.corruptDatabase("UTXO total overflows") }
            total = sum
            iterator.next()
        }
        try iterator.checkStatus()
        return UTXOSummary(bestHash: tip.hash, bestHeight: tip.height, count: count, total: total,
                           digest: Hash256(bytes: hasher.finalize())!)
    }
}
