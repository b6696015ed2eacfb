@testable import ChainState
import ChainParams
import Consensus
import Foundation
import Primitives
import Storage
import Testing

/// Known-answer vectors of PROTOCOL section 10 ("Known-answer vectors") that need the chain state: the UTXO digest of
/// a two-coin set and the regtest genesis block. The values were computed outside this code
/// base (b3sum over bytes built by hand in Python from the spec); the genesis hash they lead
/// to is the one Config/regtest.json states.
struct ChainStateVectorTests {
    static let coinbaseTxid = "e8886bf3696471d79de2f61c215b20174d6691562c51179650c36aa20f2f8886"
    static let txid = "05a0ea67133bf7db1e983f2c17b331426529759c36aee9331f9a36fc2763ecb5"
    static let payToKeyHash = "76a0206c31041268f471609c79f5f2dbcc38e4a4ab2f4d416109a4e09fcf50fd0f006288ac"
    static let utxoDigest = "9d34e6bed8e12bcb28795f23244056bcb61c4a6364e873b7483743c639f02a29"

    static let genesisCoinbase = "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff00000000"
        + "0100743ba40b0000001c6a1a527573747920436f696e20726567746573742067656e65736973000000000000000000"
    static let genesisTxid = "9233b9ebf80bd8762e7d78769579c3aca6b3f0cc34b818e2407a07338a41d888"
    static let genesisStateRoot = "6b79311656eaa1c3eaea32629b8fc1c251099c430cffe65c9367d2367a3a63e7"
    static let genesisHash = "79544aa6194641c0d3b44a22f6d52089b60de15867874fc1946ac3aaa5ea3736"

    @Test("UTXO digest of {coinbase:0 at height 1, sample tx:0 at height 2}: count, total, digest")
    func utxoDigest() throws {
        let directory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let database = try RocksDB(path: directory, columnFamilies: ["utxo"])
        let cache = try UTXOCache(database: database, family: try database.columnFamily("utxo"))
        let lock = HexCoding.decode(Self.payToKeyHash)!
        // Added out of key order: the digest is defined over key order.
        cache.add(OutPoint(txid: Hash256(hex: Self.txid)!, index: 0),
                  Coin(output: TxOut(value: Amount(baseUnits: 150_000_000)!, lockScript: lock), height: 2, isCoinbase: false))
        cache.add(OutPoint(txid: Hash256(hex: Self.coinbaseTxid)!, index: 0),
                  Coin(output: TxOut(value: Amount.coins(500)!, lockScript: lock), height: 1, isCoinbase: true))
        let batch = RocksDB.WriteBatch()
        let summary = try #require(try cache.writeDirty(into: batch, evict: false))
        #expect(summary.count == 2 && summary.total.baseUnits == 50_150_000_000)
        #expect(summary.digest.hex == Self.utxoDigest)
    }

    @Test("regtest genesis: coinbase bytes (version 1, sequence 0, lock time 0, one empty witness stack), txid, state root, hash")
    func regtestGenesis() throws {
        let genesis = try ChainParameters.builtIn("regtest").genesisBlock()
        let coinbase = genesis.transactions[0]
        #expect(genesis.transactions.count == 1)
        #expect(HexCoding.encode(coinbase.encoded) == Self.genesisCoinbase)
        #expect(coinbase.version == 1 && coinbase.inputs[0].sequence == 0 && coinbase.lockTime == 0 && coinbase.witnesses == [[]])
        #expect(coinbase.txid.hex == Self.genesisTxid && genesis.header.merkleRoot.hex == Self.genesisTxid)
        #expect(genesis.header.stateRoot.hex == Self.genesisStateRoot)
        #expect(genesis.hash.hex == Self.genesisHash)
    }
}
