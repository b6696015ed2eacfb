// Masternode authentication on P2P (PROTOCOL section 12.3 `mnchallenge`/`mnauth`): the
// answer a masternode signs and the receiver's check against its current list. Pure value
// code, so the rules are tested without sockets.

import Ed25519
import Masternodes
import Primitives
import Wire

public enum MasternodeAuthentication {
    /// Why an `mnauth` was not accepted. Every case but `badSignature` can be an honest
    /// disagreement about the list (the peers' tips differ by a block), so none of them
    /// discourages the address: the connection is closed and may come back.
    public enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        case unknown(Hash256)
        case revoked(Hash256)
        case banned(Hash256)
        case immature(Hash256, registeredHeight: UInt64, tipHeight: UInt64)
        /// Not a signature by the registration's operator key over this connection's challenge.
        case badSignature(Hash256)

        public var description: String {
            switch self {
            case .unknown(let id): return "masternode \(id.hex) is not in the list"
            case .revoked(let id): return "masternode \(id.hex) is revoked"
            case .banned(let id): return "masternode \(id.hex) is banned (proof of service)"
            case let .immature(id, registered, tip):
                return "masternode \(id.hex) registered at height \(registered) is not mature at height \(tip)"
            case .badSignature(let id): return "the signature is not by masternode \(id.hex)'s operator key over this connection's challenge"
            }
        }
    }

    /// A fresh 32-byte challenge from the operating system's CSPRNG.
    public static func makeChallenge() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<MasternodeAuth.challengeLength).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    /// This masternode's answer to `challenge`, received on a connection it opened (`weDialled`) or accepted.
    public static func answer(challenge: [UInt8], proTxHash: Hash256, keys: OperatorKeys, magic: [UInt8], weDialled: Bool) -> MasternodeAuth {
        let digest = MasternodeAuth.signedDigest(magic: magic, challenge: challenge, proTxHash: proTxHash, signerDialled: weDialled)
        return MasternodeAuth(proTxHash: proTxHash, signature: keys.sign(digest))
    }

    /// Checks `auth`, received on a connection the peer opened (`peerDialled`) or we did, as an
    /// answer to the `challenge` we sent on it: the masternode is in `list` (the list after
    /// the tip at `tipHeight`), valid there, and its operator key signed. Returns its entry.
    public static func verify(_ auth: MasternodeAuth, challenge: [UInt8], magic: [UInt8], peerDialled: Bool, list: MasternodeList,
                              tipHeight: UInt64, parameters: MasternodeParameters) -> Result<MasternodeEntry, Failure> {
        let id = auth.proTxHash
        guard let entry = list[id] else { return .failure(.unknown(id)) }
        if let failure = invalidity(of: entry, tipHeight: tipHeight, parameters: parameters) { return .failure(failure) }
        let digest = MasternodeAuth.signedDigest(magic: magic, challenge: challenge, proTxHash: id, signerDialled: peerDialled)
        guard auth.signature.count == MasternodeAuth.signatureLength,
              Ed25519.verify(signature: auth.signature, message: digest, publicKey: entry.operatorKey) else {
            return .failure(.badSignature(id))
        }
        return .success(entry)
    }

    /// Why `entry` may not be an authenticated masternode at `tipHeight`; nil when it may.
    public static func invalidity(of entry: MasternodeEntry, tipHeight: UInt64, parameters: MasternodeParameters) -> Failure? {
        if entry.isRevoked { return .revoked(entry.proTxHash) }
        if entry.isBanned { return .banned(entry.proTxHash) }
        guard entry.isValid(at: tipHeight, maturity: parameters.registrationMaturity) else {
            return .immature(entry.proTxHash, registeredHeight: entry.registeredHeight, tipHeight: tipHeight)
        }
        return nil
    }

    /// Whether a peer authenticated as `proTxHash` with `operatorKey` still is one after the
    /// tip moved: the same registration, the same operator key, still valid. nil: it is.
    public static func lapse(proTxHash: Hash256, operatorKey: [UInt8], list: MasternodeList, tipHeight: UInt64,
                             parameters: MasternodeParameters) -> String? {
        guard let entry = list[proTxHash] else { return "no longer in the list (collateral spent or reorganized away)" }
        if let failure = invalidity(of: entry, tipHeight: tipHeight, parameters: parameters) { return failure.description }
        guard entry.operatorKey == operatorKey else { return "its operator key changed" }
        return nil
    }
}
