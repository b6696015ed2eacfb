import BLAKE3
import Primitives
import Testing
import TestSupport


struct KnownAnswerTests {
    typealias K = KnownAnswers

    @Test("domain keys: derive_key(\"RustyCoin v1 <purpose>\", empty material)")
    func domainKeys() {
        #expect(HexCoding.encode(DomainKeys.merkleNode) == K.merkleNodeKey)
        #expect(HexCoding.encode(DomainKeys.stateRoot) == K.stateRootKey)
        #expect(HexCoding.encode(DomainKeys.key(purpose: "sighash")) == K.sighashKey)
    }

    @Test("sample transaction: decodes, re-encodes byte for byte, txid and wtxid (one pass and separately)")
    func transactionIds() throws {
        let encoded = K.bytes(K.transaction)
        let transaction = try Transaction(decoding: encoded)
        #expect(transaction.encoded == encoded)
        #expect(transaction.version == 2 && transaction.lockTime == 100 && transaction.inputs.count == 2 && transaction.outputs.count == 2)
        #expect(transaction.outputs[0].value.baseUnits == 150_000_000 && transaction.outputs[0].lockScript == K.bytes(K.payToKeyHash))
        #expect(transaction.txid.hex == K.txid)
        #expect(transaction.wtxid.hex == K.wtxid)
        #expect(transaction.ids.txid.hex == K.txid && transaction.ids.wtxid.hex == K.wtxid)
        let (block, spans) = try Block.decodeWithSpans(BlockHeaderBytes.zero + [1] + encoded)
        #expect(block.transactions == [transaction])
        let ids = (BlockHeaderBytes.zero + [1] + encoded).withUnsafeBytes { spans[0].ids(in: $0) }
        #expect(ids.txid.hex == K.txid && ids.wtxid.hex == K.wtxid)
        // The txid covers the witness-free prefix only: a witness change moves the wtxid alone.
        var changed = transaction
        changed.witnesses[1] = [[1, 3]]
        #expect(changed.txid.hex == K.txid && changed.wtxid.hex != K.wtxid)
    }

    @Test("coinbase: Transaction.coinbase(height: 1, extraNonce: 7) encoding, txid, wtxid")
    func coinbase() {
        let coinbase = Transaction.coinbase(height: 1, extraNonce: 7,
                                            outputs: [TxOut(value: Amount.coins(500)!, lockScript: K.bytes(K.payToKeyHash))])
        #expect(HexCoding.encode(coinbase.encoded) == K.coinbase)
        #expect(coinbase.isCoinbase && coinbase.version == 1 && coinbase.witnesses == [[]])
        #expect(coinbase.txid.hex == K.coinbaseTxid && coinbase.wtxid.hex == K.coinbaseWtxid)
    }

    @Test("Merkle parent, promoted third leaf, witness root and state root")
    func merkleAndStateRoot() {
        let coinbase = K.hash(K.coinbaseTxid), tx = K.hash(K.txid)
        #expect(Merkle.parent(coinbase, tx).hex == K.merkleParent)
        #expect(Merkle.root(of: [coinbase, tx]).hex == K.merkleParent)
        let third = Hash256(bytes: [UInt8](repeating: 0x33, count: 32))!
        for level in BLAKE3Level.supported {
            #expect(Merkle.root(of: [coinbase, tx, third], level: level).hex == K.threeLeafRoot, "\(level)")
        }
        let witnessRoot = Merkle.root(of: [K.hash(K.coinbaseWtxid), K.hash(K.wtxid)])
        #expect(witnessRoot.hex == K.witnessRoot)
        #expect(DomainKeys.stateRoot(witnessRoot: witnessRoot, extensionRoot: .zero).hex == K.stateRoot)
    }

    @Test("key hash: BLAKE3 of the RFC 8032 test-1 public key")
    func keyHash() {
        #expect(HexCoding.encode(BLAKE3.hash(K.bytes(K.publicKey))) == K.keyHash)
    }
}

/// 128 zero bytes: a header to wrap a transaction in a block encoding for `decodeWithSpans`.
enum BlockHeaderBytes {
    static let zero = [UInt8](repeating: 0, count: BlockHeader.encodedLength)
}
