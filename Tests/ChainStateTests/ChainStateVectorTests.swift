@testable import ChainState
import ChainParams
import Consensus
import Foundation
import Primitives
import Storage
import Testing
import TestSupport

/// Known-answer vectors of PROTOCOL section 10 ("Known-answer vectors") that need the chain state: the UTXO digest of
/// a two-coin set and the regtest genesis block. The values were computed outside this code
/// base (b3sum over bytes built by hand in Python from the spec); the genesis hash they lead
/// to is the one Config/regtest.json states.
struct ChainStateVectorTests {
    typealias K = KnownAnswers

    @Test("UTXO digest of {coinbase:0 at height 1, sample tx:0 at height 2}: count, total, digest")
    func utxoDigest() throws {
        let directory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let database = try RocksDB(path: directory, columnFamilies: ["utxo"])
        let cache = try UTXOCache(database: database, family: try database.columnFamily("utxo"))
        let lock = HexCoding.decode(K.payToKeyHash)!
        // Added out of key order: the digest is defined over key order.
        cache.add(OutPoint(txid: Hash256(hex: K.txid)!, index: 0),
                  Coin(output: TxOut(value: Amount(baseUnits: 150_000_000)!, lockScript: lock), height: 2, isCoinbase: false))
        cache.add(OutPoint(txid: Hash256(hex: K.coinbaseTxid)!, index: 0),
                  Coin(output: TxOut(value: Amount.coins(500)!, lockScript: lock), height: 1, isCoinbase: true))
        let batch = RocksDB.WriteBatch()
        let summary = try #require(try cache.writeDirty(into: batch, evict: false))
        #expect(summary.count == 2 && summary.total.baseUnits == 50_150_000_000)
        #expect(summary.digest.hex == K.utxoDigest)
    }

    @Test("regtest genesis: coinbase bytes (version 1, sequence 0, lock time 0, one empty witness stack), txid, state root, hash")
    func regtestGenesis() throws {
        let genesis = try ChainParameters.builtIn("regtest").genesisBlock()
        let coinbase = genesis.transactions[0]
        #expect(genesis.transactions.count == 1)
        #expect(HexCoding.encode(coinbase.encoded) == K.genesisCoinbase)
        #expect(coinbase.version == 1 && coinbase.inputs[0].sequence == 0 && coinbase.lockTime == 0 && coinbase.witnesses == [[]])
        #expect(coinbase.txid.hex == K.genesisTxid && genesis.header.merkleRoot.hex == K.genesisTxid)
        #expect(genesis.header.stateRoot.hex == K.genesisStateRoot)
        #expect(genesis.hash.hex == K.genesisHash)
    }
}
