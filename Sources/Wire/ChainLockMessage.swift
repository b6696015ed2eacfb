import QuorumServices

// `clsig` (section 12.3; docs/protocol/chainlocks.md): one chain lock, pushed to peers that
// have not sent it. Its body is `ChainLock`'s encoding, exactly 136 bytes:
// height u64 LE | block_hash 32 | quorum_hash 32 | signature 64. A shorter or longer payload
// is malformed (the decode error names the field: `clsig.signature`, `clsig.end`), and a
// frame announcing more than 136 bytes is refused by its header alone.

extension WireLimits {
    /// The only length a `clsig` payload can have.
    public static let chainLock = ChainLock.encodedLength
}
