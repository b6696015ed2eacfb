import Consensus
import Primitives

/// The masternode rules of PROTOCOL section 16.3, applied in block order: a transaction
/// first removes every masternode whose collateral one of its inputs spends, then its
/// special payload (if any) is validated against the list as it stands and applied.
/// The same code decides for blocks and for the mempool, so the two cannot disagree.
public enum MasternodeRules {
    /// Applies every masternode effect of `block` at `height` to `list`; returns the undo.
    /// `coin` answers with the coins unspent after the whole block (the chain's UTXO set with
    /// the block's own outputs added and its spends removed). On a rejection `list` may hold
    /// part of the block's changes: the caller reverts with the undo it gets back from
    /// `apply(_:...)` or works on a copy.
    public static func apply(_ block: Block, txids: [Hash256], height: UInt64, to list: inout MasternodeList,
                             parameters: MasternodeParameters, coin: (OutPoint) throws -> Coin?) throws -> MasternodeListUndo {
        try apply(block, txids: txids, height: height, to: &list, parameters: parameters, coin: coin, signer: Signer(verified: nil))
    }

    /// `apply(_:txids:...)` for a block being connected: every rule is checked as there,
    /// except that payload signatures are recorded instead of verified, each with the key the
    /// list named at that point of the block. The caller verifies them in the block's
    /// signature batch and rejects the block (reverting the undo) if one fails; until then
    /// the list holds the changes as if they verified. A block's validity is the same either
    /// way: if every signature verifies, each rule saw exactly the list it would have.
    public static func applyDeferringSignatures(_ block: Block, txids: [Hash256], height: UInt64, to list: inout MasternodeList,
                                                parameters: MasternodeParameters, coin: (OutPoint) throws -> Coin?)
        throws -> (undo: MasternodeListUndo, signatures: PayloadSignatureChecks) {
        let collector = PayloadSignatureCollector()
        let undo = try apply(block, txids: txids, height: height, to: &list, parameters: parameters, coin: coin,
                             signer: Signer(verified: nil, collector: collector))
        return (undo, collector.collected)
    }

    static func apply(_ block: Block, txids: [Hash256], height: UInt64, to list: inout MasternodeList,
                      parameters: MasternodeParameters, coin: (OutPoint) throws -> Coin?, signer: Signer) throws -> MasternodeListUndo {
        var undo = MasternodeListUndo()
        do {
            for (index, transaction) in block.transactions.enumerated() where index > 0 {
                do {
                    // `txids` are the block's, computed once by the caller; recomputed if it passed fewer.
                    let txid = index < txids.count ? txids[index] : transaction.txid
                    signer.collector?.transaction = index
                    try apply(transaction, txid: txid, height: height, to: &list, undo: &undo, parameters: parameters, coin: coin, signer: signer)
                } catch let rejection as Rejection {
                    throw rejection.at(transaction: index)
                }
            }
        } catch {
            list.revert(undo)
            throw error
        }
        return undo
    }

    /// One transaction's effects: collateral spends, then its payload.
    public static func apply(_ transaction: Transaction, txid: Hash256, height: UInt64, to list: inout MasternodeList,
                             undo: inout MasternodeListUndo, parameters: MasternodeParameters, coin: (OutPoint) throws -> Coin?) throws {
        try apply(transaction, txid: txid, height: height, to: &list, undo: &undo, parameters: parameters, coin: coin, signer: Signer(verified: nil))
    }

    static func apply(_ transaction: Transaction, txid: Hash256, height: UInt64, to list: inout MasternodeList,
                      undo: inout MasternodeListUndo, parameters: MasternodeParameters, coin: (OutPoint) throws -> Coin?, signer: Signer) throws {
        if !list.isEmpty {
            for input in transaction.inputs {
                if let spent = list.byCollateral(input.previousOutput) { list.remove(spent.proTxHash, undo: &undo) }
            }
        }
        if let entry = try change(for: transaction, txid: txid, height: height, list: list, parameters: parameters, coin: coin, signer: signer) {
            list.set(entry, undo: &undo)
        }
    }

    /// The entry a special transaction writes, after checking every rule of its type against
    /// `list`; nil for an ordinary transaction. Mutates nothing (the mempool's check).
    /// `verifiedSigner`: a key this transaction's signature is already known to verify under
    /// (the mempool's re-check after a block); when the rule asks for that same key the
    /// Ed25519 check is skipped, the payload being bound to the txid.
    public static func change(for transaction: Transaction, txid: Hash256, height: UInt64, list: MasternodeList,
                              parameters: MasternodeParameters, coin: (OutPoint) throws -> Coin?,
                              verifiedSigner: [UInt8]? = nil) throws -> MasternodeEntry? {
        try change(for: transaction, txid: txid, height: height, list: list, parameters: parameters, coin: coin,
                   signer: Signer(verified: verifiedSigner))
    }

    static func change(for transaction: Transaction, txid: Hash256, height: UInt64, list: MasternodeList,
                       parameters: MasternodeParameters, coin: (OutPoint) throws -> Coin?, signer: Signer) throws -> MasternodeEntry? {
        guard transaction.isSpecial else { return nil }
        switch transaction.specialType {
        case .masternodeRegister:
            return try register(transaction, txid: txid, height: height, list: list, parameters: parameters, coin: coin, signer: signer)
        case .masternodeUpdateService:
            return try updateService(transaction, height: height, list: list, signer: signer)
        case .masternodeUpdateRegistrar:
            return try updateRegistrar(transaction, height: height, list: list, signer: signer)
        case .masternodeRevoke:
            return try revoke(transaction, height: height, list: list, signer: signer)
        case .quorumCommitment, .governanceProposal, .governanceVote:
            return nil  // the quorum and governance rules (modules Quorums, Governance) decide them; they write no entry
        case nil:
            throw Rejection(.txSpecialType, "unknown special type \(transaction.rawSpecialType)")
        }
    }

    /// The key a special transaction's payload must be signed by, as `list` stands (the
    /// collateral key for a registration); nil for an ordinary or malformed transaction or an
    /// unknown masternode.
    public static func signerKey(of transaction: Transaction, list: MasternodeList) -> [UInt8]? {
        switch transaction.specialType {
        case .masternodeRegister: return (try? payload(MasternodeRegisterPayload.self, of: transaction))?.collateralKey
        case .masternodeUpdateService: return (try? payload(MasternodeUpdateServicePayload.self, of: transaction)).flatMap { list[$0.proTxHash]?.operatorKey }
        case .masternodeUpdateRegistrar: return (try? payload(MasternodeUpdateRegistrarPayload.self, of: transaction)).flatMap { list[$0.proTxHash]?.ownerKey }
        case .masternodeRevoke: return (try? payload(MasternodeRevokePayload.self, of: transaction)).flatMap { list[$0.proTxHash]?.operatorKey }
        case .quorumCommitment, .governanceProposal, .governanceVote, nil: return nil
        }
    }

    /// Verifies payload signatures, trusting a key already verified for this transaction, or
    /// hands them to `collector` (a block being connected) to be verified in its batch.
    struct Signer {
        let verified: [UInt8]?
        var collector: PayloadSignatureCollector?

        func verifies(_ payload: some SpecialPayload, publicKey: [UInt8]) -> Bool {
            if verified != nil && verified == publicKey { return true }
            if let collector { return collector.record(payload, publicKey: publicKey) }
            return payload.signatureVerifies(publicKey: publicKey)
        }
    }

    /// Decodes the payload and checks its inputs hash.
    public static func payload<P: SpecialPayload>(_ type: P.Type, of transaction: Transaction) throws(Rejection) -> P {
        guard transaction.specialType == P.type else { throw Rejection(.txSpecialType, "expected \(P.type), found type \(transaction.rawSpecialType)") }
        let payload: P
        do { payload = try P.decode(payload: transaction.payload) } catch { throw Rejection(.specialPayload, "\(P.type): \(error)") }
        guard payload.inputsHash == SpecialPayloadCodec.inputsHash(of: transaction) else {
            throw Rejection(.specialInputsHash, "the payload's inputs hash does not commit to this transaction's inputs")
        }
        return payload
    }

    static func checkPayoutScript(_ script: [UInt8]) throws(Rejection) {
        guard !script.isEmpty else { throw Rejection(.masternodePayoutScript, "empty payout script") }
        guard script.first != Script.opReturn else { throw Rejection(.masternodePayoutScript, "unspendable payout script") }
    }

    static func checkService(_ service: ServiceAddress, of id: Hash256?, list: MasternodeList) throws(Rejection) {
        guard service.isRoutableShape else { throw Rejection(.masternodeService, "\(service) is not a usable address and port") }
        if let holder = list.byService(service), holder.proTxHash != id {
            throw Rejection(.masternodeDuplicateService, "\(service) is the service of \(holder.proTxHash.hex)")
        }
    }

    static func checkOperatorKeys(_ key: [UInt8], _ encryptionKey: [UInt8], of id: Hash256?, list: MasternodeList) throws(Rejection) {
        guard key != MasternodeEntry.clearedKey else { throw Rejection(.specialPayload, "operator key of zeros") }
        // The all-zero X25519 key is a low-order point: a shared secret with it is all zeros.
        guard encryptionKey != MasternodeEntry.clearedKey else { throw Rejection(.specialPayload, "operator encryption key of zeros") }
        if let holder = list.byOperatorKey(key), holder.proTxHash != id {
            throw Rejection(.masternodeDuplicateKey, "operator key in use by \(holder.proTxHash.hex)")
        }
        if let holder = list.byEncryptionKey(encryptionKey), holder.proTxHash != id {
            throw Rejection(.masternodeDuplicateKey, "operator encryption key in use by \(holder.proTxHash.hex)")
        }
    }

    static func register(_ transaction: Transaction, txid: Hash256, height: UInt64, list: MasternodeList,
                         parameters: MasternodeParameters, coin: (OutPoint) throws -> Coin?, signer: Signer) throws -> MasternodeEntry {
        let payload = try payload(MasternodeRegisterPayload.self, of: transaction)
        try checkPayoutScript(payload.payoutScript)
        try checkService(payload.service, of: nil, list: list)
        let outpoint = payload.collateralOutPoint(txid: txid)
        let output: TxOut
        if payload.collateral.txid == .zero {
            guard Int(payload.collateral.index) < transaction.outputs.count else {
                throw Rejection(.masternodeCollateralMissing, "output \(payload.collateral.index) of a transaction with \(transaction.outputs.count)")
            }
            output = transaction.outputs[Int(payload.collateral.index)]
        } else {
            guard let found = try coin(outpoint) else { throw Rejection(.masternodeCollateralMissing, "\(outpoint) is not unspent") }
            output = found.output
        }
        guard output.value == parameters.collateral else {
            throw Rejection(.masternodeCollateralAmount, "\(output.value) instead of \(parameters.collateral)")
        }
        guard payload.collateralKey.count == SpecialPayloadCodec.keyLength,
              output.lockScript == StandardScript.payToKeyHash(StandardScript.keyHash(payload.collateralKey)) else {
            throw Rejection(.masternodeCollateralScript, "the collateral is not paid to the hash of the payload's collateral key")
        }
        if let holder = list.byCollateral(outpoint) {
            throw Rejection(.masternodeCollateralUsed, "\(outpoint) is the collateral of \(holder.proTxHash.hex)")
        }
        if let holder = list.byOwnerKey(payload.ownerKey) {
            throw Rejection(.masternodeDuplicateKey, "owner key in use by \(holder.proTxHash.hex)")
        }
        try checkOperatorKeys(payload.operatorKey, payload.operatorEncryptionKey, of: nil, list: list)
        guard signer.verifies(payload, publicKey: payload.collateralKey) else {
            throw Rejection(.specialSignature, "mn-register is not signed by the collateral key")
        }
        return MasternodeEntry(proTxHash: txid, collateral: outpoint, ownerKey: payload.ownerKey, operatorKey: payload.operatorKey,
                               operatorEncryptionKey: payload.operatorEncryptionKey, service: payload.service,
                               payoutScript: payload.payoutScript, registeredHeight: height)
    }

    static func known(_ id: Hash256, in list: MasternodeList) throws(Rejection) -> MasternodeEntry {
        guard let entry = list[id] else { throw Rejection(.masternodeUnknown, "no masternode \(id.hex)") }
        return entry
    }

    static func updateService(_ transaction: Transaction, height: UInt64, list: MasternodeList, signer: Signer) throws(Rejection) -> MasternodeEntry {
        let payload = try payload(MasternodeUpdateServicePayload.self, of: transaction)
        var entry = try known(payload.proTxHash, in: list)
        guard !entry.isRevoked else { throw Rejection(.masternodeBanned, "revoked: the owner must name a new operator first") }
        try checkService(payload.service, of: entry.proTxHash, list: list)
        guard signer.verifies(payload, publicKey: entry.operatorKey) else {
            throw Rejection(.specialSignature, "mn-update-service is not signed by the operator key")
        }
        entry.service = payload.service
        entry.updatedHeight = height
        if entry.isBanned {
            entry.bannedHeight = nil
            entry.penalty = 0
            entry.penaltyHeight = height
            entry.revocationReason = 0
        }
        return entry
    }

    static func updateRegistrar(_ transaction: Transaction, height: UInt64, list: MasternodeList, signer: Signer) throws(Rejection) -> MasternodeEntry {
        let payload = try payload(MasternodeUpdateRegistrarPayload.self, of: transaction)
        var entry = try known(payload.proTxHash, in: list)
        try checkPayoutScript(payload.payoutScript)
        try checkOperatorKeys(payload.operatorKey, payload.operatorEncryptionKey, of: entry.proTxHash, list: list)
        guard !entry.isBanned || payload.operatorKey != entry.operatorKey else {
            throw Rejection(.masternodeBanned, "a banned masternode's owner may only name a new operator")
        }
        guard signer.verifies(payload, publicKey: entry.ownerKey) else {
            throw Rejection(.specialSignature, "mn-update-registrar is not signed by the owner key")
        }
        entry.operatorKey = payload.operatorKey
        entry.operatorEncryptionKey = payload.operatorEncryptionKey
        entry.payoutScript = payload.payoutScript
        entry.updatedHeight = height
        return entry
    }

    static func revoke(_ transaction: Transaction, height: UInt64, list: MasternodeList, signer: Signer) throws(Rejection) -> MasternodeEntry {
        let payload = try payload(MasternodeRevokePayload.self, of: transaction)
        var entry = try known(payload.proTxHash, in: list)
        guard !entry.isBanned else { throw Rejection(.masternodeBanned, "already banned or revoked") }
        guard signer.verifies(payload, publicKey: entry.operatorKey) else {
            throw Rejection(.specialSignature, "mn-revoke is not signed by the operator key")
        }
        entry.operatorKey = MasternodeEntry.clearedKey
        entry.bannedHeight = height
        entry.revocationReason = payload.reason
        entry.updatedHeight = height
        return entry
    }
}

/// Proof of service (PROTOCOL section 16.5, Dash's PoSe as the anchor): failures the chain
/// can see add a penalty; it decays by `penaltyDecayPerBlock` per block; above
/// `penaltyMax` the masternode is banned until an `mn-update-service` revives it.
public enum ProofOfService {
    /// Adds `points` to the masternode's penalty at `height`; bans it when the total passes the maximum.
    public static func penalize(_ id: Hash256, points: UInt32, height: UInt64, list: inout MasternodeList,
                                undo: inout MasternodeListUndo, parameters: MasternodeParameters) {
        guard var entry = list[id], !entry.isBanned else { return }
        let current = entry.penalty(at: height, decayPerBlock: parameters.penaltyDecayPerBlock)
        let (sum, overflow) = current.addingReportingOverflow(points)
        entry.penalty = overflow ? UInt32.max : sum
        entry.penaltyHeight = height
        if entry.penalty > parameters.penaltyMax { entry.bannedHeight = height }
        list.set(entry, undo: &undo)
    }
}
