import Primitives

/// Known-answer vectors of docs/PROTOCOL.md section 10 ("Known-answer vectors"). The expected values were computed
/// outside this code base (b3sum 1.2.0's --derive-key, --keyed and plain modes over bytes
/// built by hand in Python from the spec), so these tests pin the spec, not the code's
/// own output. The same values reproduce the regtest genesis hash in Config/regtest.json.
public enum KnownAnswers {
    public static let merkleNodeKey = "ee248fd4fbbf30025a540c363c6e50bc57f3013c2e0626073022ee7f474ae430"
    public static let stateRootKey = "4a62327e34884ed76a18bc54aca98c0b8a895f44748fcfa3a423c276b886db35"
    public static let sighashKey = "9904ce9e2ee84fe4825285e9211c70d20591358ed1b4a451c9aea52f507c5797"

    /// RFC 8032 section 7.1 test 1 public key, and BLAKE3 of it.
    public static let publicKey = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    public static let keyHash = "6c31041268f471609c79f5f2dbcc38e4a4ab2f4d416109a4e09fcf50fd0f0062"
    public static let payToKeyHash = "76a0206c31041268f471609c79f5f2dbcc38e4a4ab2f4d416109a4e09fcf50fd0f006288ac"

    /// Coinbase at height 1, extra nonce 7, paying 500 RUST to payToKeyHash.
    public static let coinbase = "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff07000000"
        + "0100743ba40b0000002576a0206c31041268f471609c79f5f2dbcc38e4a4ab2f4d416109a4e09fcf50fd0f006288ac"
        + "010000000000000000"
    public static let coinbaseTxid = "e8886bf3696471d79de2f61c215b20174d6691562c51179650c36aa20f2f8886"
    public static let coinbaseWtxid = "31fc272ef37a7b0dbdab58bc394ff7546f49a71fda055884ac0e56966c1d9c9b"

    /// Version 2; inputs 11..11:1 (sequence fffffffe) and 22..22:0 (final); outputs 1.5 RUST to
    /// payToKeyHash and 49,000 units to RETURN "kat"; lock time 100; witnesses
    /// [signature, public key] (input 0 spends 2 RUST locked to payToKeyHash) and [0102].
    public static let transaction = "02000000021111111111111111111111111111111111111111111111111111111111111111"
        + "01000000feffffff222222222222222222222222222222222222222222222222222222222222222200000000ffffffff"
        + "0280d1f008000000002576a0206c31041268f471609c79f5f2dbcc38e4a4ab2f4d416109a4e09fcf50fd0f006288ac"
        + "68bf000000000000056a036b61746400000000000000"
        + "024016c112877abefeedf8a999ec5a2757e9b8ca5aa675969c1f622b61c12daafe01c20d3e82b5ef3b555402b1df056a7c48776a2fd7a5d1547916d70c66b98c1600"
        + "20d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a01020102"
    public static let txid = "05a0ea67133bf7db1e983f2c17b331426529759c36aee9331f9a36fc2763ecb5"
    public static let wtxid = "8c01a2a4e9404f1107f6ac42436f7cb47efa3bc5da65f60a481fd6892bda0beb"
    public static let spentValue: UInt64 = 200_000_000
    public static let sighash = "112939929087799be72b5d01031016761d362ff2492049f399dfee2eda7eb15f"

    /// parent(coinbaseTxid, txid); witness root parent(coinbaseWtxid, wtxid); the state root
    /// over that witness root and a zero extension root; the root of three leaves
    /// (coinbaseTxid, txid, 33..33), where the third is promoted.
    public static let merkleParent = "bd2864f41a2784819d47a8dddb7b8ad0a10ea00a803c3bc7be441e7f38c3fe01"
    public static let witnessRoot = "fa4c3fd1433deb86923ba317de1fdac395479fa43be20508a4449ceb99e5f4a7"
    public static let stateRoot = "cc8c8065a2a1539f4258eb5fd3c6b80e1198dc14fae36083695f72d12e525863"
    public static let threeLeafRoot = "7b67864911ab1fc31b49ad0eb18fe0830f463d4ac1327010c62633da77b39392"

    /// RFC 8032 section 7.1 test 1 secret seed, and its signature of `sighash`.
    public static let seed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
    public static let signature = "16c112877abefeedf8a999ec5a2757e9b8ca5aa675969c1f622b61c12daafe01c20d3e82b5ef3b555402b1df056a7c48776a2fd7a5d1547916d70c66b98c1600"

    /// UTXO digest of {coinbase:0 at height 1, transaction:0 at height 2}.
    public static let utxoDigest = "9d34e6bed8e12bcb28795f23244056bcb61c4a6364e873b7483743c639f02a29"

    /// The regtest genesis block: its coinbase, txid, state root and hash (Config/regtest.json).
    public static let genesisCoinbase = "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff00000000"
        + "0100743ba40b0000001c6a1a527573747920436f696e20726567746573742067656e65736973000000000000000000"
    public static let genesisTxid = "9233b9ebf80bd8762e7d78769579c3aca6b3f0cc34b818e2407a07338a41d888"
    public static let genesisStateRoot = "6b79311656eaa1c3eaea32629b8fc1c251099c430cffe65c9367d2367a3a63e7"
    public static let genesisHash = "79544aa6194641c0d3b44a22f6d52089b60de15867874fc1946ac3aaa5ea3736"

    public static func hash(_ hex: String) -> Hash256 { Hash256(hex: hex)! }
    public static func bytes(_ hex: String) -> [UInt8] { HexCoding.decode(hex)! }
}
