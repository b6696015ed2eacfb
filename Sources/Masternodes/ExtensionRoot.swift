import BLAKE3
import Primitives

/// The header's `extension_root` (PROTOCOL section 16.6): one commitment to the chain state
/// beside the UTXO set. Components: the masternode list root, and (later issues) the
/// active quorums, governance and pegs, each zero while empty.
public enum ExtensionRoot {
    static let key = DomainKeys.key(purpose: "extension root")

    /// Zero when every component is zero (a chain with no such state commits exactly as
    /// before this rule); otherwise keyed_hash(K_extension root, masternodes || quorums || governance || pegs).
    public static func compute(masternodes: Hash256, quorums: Hash256 = .zero, governance: Hash256 = .zero, pegs: Hash256 = .zero) -> Hash256 {
        if masternodes == .zero && quorums == .zero && governance == .zero && pegs == .zero { return .zero }
        return Hash256(bytes: BLAKE3.keyedHash(key: key, masternodes.bytes + quorums.bytes + governance.bytes + pegs.bytes))!
    }
}
