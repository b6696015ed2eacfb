import BLAKE3

/// Domain separation through BLAKE3's own modes: each purpose has a 32-byte key
/// K = derive_key("RustyCoin v1 <purpose>", empty key material), used with keyed_hash.
/// No prefix bytes are ever added, so a 64-byte Merkle node stays one compression.
public enum DomainKeys {
    public static func key(purpose: String) -> [UInt8] {
        BLAKE3.deriveKey(context: "RustyCoin v1 \(purpose)", material: [UInt8]())
    }

    /// Parent nodes of the transaction and witness Merkle trees.
    public static let merkleNode = key(purpose: "merkle node")
    /// The header's state root.
    public static let stateRoot = key(purpose: "state root")

    public static func stateRoot(witnessRoot: Hash256, extensionRoot: Hash256) -> Hash256 {
        Hash256(bytes: BLAKE3.keyedHash(key: stateRoot, witnessRoot.bytes + extensionRoot.bytes))!
    }
}
