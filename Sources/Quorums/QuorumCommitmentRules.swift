import Consensus
import Ed25519
import Masternodes
import Primitives

/// What the quorum rules read from the chain a commitment would enter (the active chain
/// below the block, the masternode list history, the quorum set).
public struct QuorumChainContext {
    /// Height of the block the commitment would be mined in.
    public var height: UInt64
    /// The active chain's block hash at a height below `height` (nil when there is none).
    public var blockHash: (UInt64) -> Hash256?
    /// The masternode list after the active chain's block at a height below `height`.
    public var list: (UInt64) throws -> MasternodeList
    /// A commitment for (type, quorumHash) is already mined (in the chain or earlier in the block).
    public var isMined: (QuorumTypeID, Hash256) -> Bool

    public init(height: UInt64, blockHash: @escaping (UInt64) -> Hash256?, list: @escaping (UInt64) throws -> MasternodeList,
                isMined: @escaping (QuorumTypeID, Hash256) -> Bool) {
        self.height = height
        self.blockHash = blockHash
        self.list = list
        self.isMined = isMined
    }
}

/// A commitment that passed every rule, with the members its bitsets index.
public struct CheckedQuorumCommitment: Sendable, Equatable {
    public var payload: QuorumCommitmentPayload
    public var type: QuorumType
    /// The selected members in index order.
    public var members: [MasternodeEntry]
}

/// The rules of a `quorum-commitment` transaction (PROTOCOL section 17.4), in the order a
/// block applies them. The same code decides for blocks and for the mempool.
public enum QuorumCommitmentRules {
    public static func check(_ transaction: Transaction, context: QuorumChainContext, parameters: QuorumParameters,
                             masternodeParameters: MasternodeParameters) throws -> CheckedQuorumCommitment {
        let payload: QuorumCommitmentPayload
        do { payload = try QuorumCommitmentPayload(transaction: transaction) } catch {
            throw Rejection(.specialPayload, "quorum-commitment: \(error)")
        }
        guard let type = parameters[payload.quorumType] else { throw Rejection(.quorumType, "\(payload.quorumType) is not a quorum type of this network") }
        let start = payload.quorumHeight
        guard type.schedule.isDKGStart(start), start < context.height, context.blockHash(start) == payload.quorumHash else {
            throw Rejection(.quorumHash, "\(payload.quorumHash.hex) is not the active chain's block at DKG start height \(start) of \(type.name)")
        }
        let window = type.schedule.miningWindow(dkgStart: start)
        guard window.contains(context.height) else {
            throw Rejection(.quorumWindow, "height \(context.height) is outside the mining window \(window.lowerBound)..<\(window.upperBound)")
        }
        guard !context.isMined(type.id, payload.quorumHash) else {
            throw Rejection(.quorumDuplicate, "a commitment for \(type.name) at \(payload.quorumHash.hex) is already mined")
        }
        guard payload.validMembers.count == type.size, payload.signers.count == type.size else {
            throw Rejection(.quorumBitset, "bitsets of \(payload.validMembers.count) and \(payload.signers.count) bits, expected \(type.size)")
        }
        // Everything the payload decides alone comes before the list at the start height is
        // rebuilt (replaying undo, maybe from disk) and every masternode ranked: a peer's
        // garbage commitment costs the node only these checks.
        if payload.isNull {
            guard payload.signers.isEmpty, payload.groupKey.allSatisfy({ $0 == 0 }), payload.verificationVectorHash == .zero else {
                throw Rejection(.quorumNullContent, "a commitment without valid members has signers, a group key or a verification vector")
            }
            // Signed by nobody, a null commitment would otherwise let anyone claim the
            // quorum's one slot before its members finish: it may only close the window.
            guard context.height == window.upperBound - 1 else {
                throw Rejection(.quorumWindow, "a null commitment may only be mined at the window's last height \(window.upperBound - 1), not \(context.height)")
            }
        } else {
            guard payload.validMembers.setCount >= type.threshold else {
                throw Rejection(.quorumValidMembers, "\(payload.validMembers.setCount) valid members, threshold \(type.threshold)")
            }
            guard payload.signers.isSubset(of: payload.validMembers) else { throw Rejection(.quorumSigners, "a signer is not a valid member") }
            guard payload.signers.setCount >= type.threshold else {
                throw Rejection(.quorumSigners, "\(payload.signers.setCount) signers, threshold \(type.threshold)")
            }
            guard QuorumGroupKey.isValid(payload.groupKey) else {
                throw Rejection(.quorumGroupKey, "the group key is not a prime-order point other than the identity")
            }
        }
        // A list this node cannot rebuild is its own failure (storage, history), not a
        // property of the block: it propagates as is, so the block is not marked invalid.
        let list = try context.list(start)
        let members = QuorumSelection.members(list: list, quorumHash: payload.quorumHash, type: type, height: start, parameters: masternodeParameters)
        guard members.count >= type.threshold else {
            throw Rejection(.quorumNotFormed, "\(members.count) valid masternodes at \(start), threshold \(type.threshold)")
        }
        for bits in [payload.validMembers, payload.signers] {
            if let beyond = bits.setIndices.first(where: { $0 >= members.count }) {
                throw Rejection(.quorumBitset, "bit \(beyond) set but the quorum has \(members.count) members")
            }
        }
        let checked = CheckedQuorumCommitment(payload: payload, type: type, members: members)
        if payload.isNull { return checked }
        try verifySignatures(payload, members: members)
        return checked
    }

    /// One batch over the members' signatures; on failure, the first bad signer is named.
    static func verifySignatures(_ payload: QuorumCommitmentPayload, members: [MasternodeEntry]) throws {
        let message = payload.commitmentHash.bytes
        let signerIndices = payload.signers.setIndices
        let items = zip(signerIndices, payload.signatures).map { index, signature in
            SignatureItem(publicKey: members[index].operatorKey, signature: signature, message: message)
        }
        let results = Ed25519.verifyBatch(items)
        if let bad = results.firstIndex(of: false) {
            throw Rejection(.quorumSignature, "member \(signerIndices[bad]) (\(members[signerIndices[bad]].proTxHash.hex)) did not sign the commitment")
        }
    }
}
