import BLAKE3
import Primitives
import Testing

/// Known-answer vectors of docs/PROTOCOL.md section 10 ("Known-answer vectors"). The expected values were computed
/// outside this code base (b3sum 1.2.0's --derive-key, --keyed and plain modes over bytes
/// built by hand in Python from the spec), so these tests pin the spec, not the code's
/// own output. The same values reproduce the regtest genesis hash in Config/regtest.json.
enum KnownAnswers {
    static let merkleNodeKey = "ee248fd4fbbf30025a540c363c6e50bc57f3013c2e0626073022ee7f474ae430"
    static let stateRootKey = "4a62327e34884ed76a18bc54aca98c0b8a895f44748fcfa3a423c276b886db35"
    static let sighashKey = "9904ce9e2ee84fe4825285e9211c70d20591358ed1b4a451c9aea52f507c5797"

    /// RFC 8032 section 7.1 test 1 public key, and BLAKE3 of it.
    static let publicKey = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    static let keyHash = "6c31041268f471609c79f5f2dbcc38e4a4ab2f4d416109a4e09fcf50fd0f0062"
    static let payToKeyHash = "76a0206c31041268f471609c79f5f2dbcc38e4a4ab2f4d416109a4e09fcf50fd0f006288ac"

    /// Coinbase at height 1, extra nonce 7, paying 500 RUST to payToKeyHash.
    static let coinbase = "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff07000000"
        + "0100743ba40b0000002576a0206c31041268f471609c79f5f2dbcc38e4a4ab2f4d416109a4e09fcf50fd0f006288ac"
        + "010000000000000000"
    static let coinbaseTxid = "e8886bf3696471d79de2f61c215b20174d6691562c51179650c36aa20f2f8886"
    static let coinbaseWtxid = "31fc272ef37a7b0dbdab58bc394ff7546f49a71fda055884ac0e56966c1d9c9b"

    /// Version 2; inputs 11..11:1 (sequence fffffffe) and 22..22:0 (final); outputs 1.5 RUST to
    /// payToKeyHash and 49,000 units to RETURN "kat"; lock time 100; witnesses
    /// [signature, public key] (input 0 spends 2 RUST locked to payToKeyHash) and [0102].
    static let transaction = "02000000021111111111111111111111111111111111111111111111111111111111111111"
        + "01000000feffffff222222222222222222222222222222222222222222222222222222222222222200000000ffffffff"
        + "0280d1f008000000002576a0206c31041268f471609c79f5f2dbcc38e4a4ab2f4d416109a4e09fcf50fd0f006288ac"
        + "68bf000000000000056a036b61746400000000000000"
        + "024016c112877abefeedf8a999ec5a2757e9b8ca5aa675969c1f622b61c12daafe01c20d3e82b5ef3b555402b1df056a7c48776a2fd7a5d1547916d70c66b98c1600"
        + "20d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a01020102"
    static let txid = "05a0ea67133bf7db1e983f2c17b331426529759c36aee9331f9a36fc2763ecb5"
    static let wtxid = "8c01a2a4e9404f1107f6ac42436f7cb47efa3bc5da65f60a481fd6892bda0beb"
    static let spentValue: UInt64 = 200_000_000
    static let sighash = "112939929087799be72b5d01031016761d362ff2492049f399dfee2eda7eb15f"

    /// parent(coinbaseTxid, txid); witness root parent(coinbaseWtxid, wtxid); the state root
    /// over that witness root and a zero extension root; the root of three leaves
    /// (coinbaseTxid, txid, 33..33), where the third is promoted.
    static let merkleParent = "bd2864f41a2784819d47a8dddb7b8ad0a10ea00a803c3bc7be441e7f38c3fe01"
    static let witnessRoot = "fa4c3fd1433deb86923ba317de1fdac395479fa43be20508a4449ceb99e5f4a7"
    static let stateRoot = "cc8c8065a2a1539f4258eb5fd3c6b80e1198dc14fae36083695f72d12e525863"
    static let threeLeafRoot = "7b67864911ab1fc31b49ad0eb18fe0830f463d4ac1327010c62633da77b39392"

    static func hash(_ hex: String) -> Hash256 { Hash256(hex: hex)! }
    static func bytes(_ hex: String) -> [UInt8] { HexCoding.decode(hex)! }
}

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
