// Masternode transactions from the wallet (PROTOCOL section 16): the collateral, `mn-register`
// with external or internal collateral, the owner's `mn-update-registrar`, and the operator's
// `mn-update-service` and `mn-revoke` (operator keys supplied by the caller). Fee inputs and
// change come from the wallet as for other sends; secret keys never leave it. The collateral
// of a masternode the wallet made is kept out of coin selection: spending it would end the
// masternode.

import ChainState
import Consensus
import Ed25519
import Foundation
import Masternodes
import Primitives

/// A special transaction the wallet built, signed and broadcast.
public struct MasternodeTransaction: Sendable {
    public var transaction: Transaction
    public var txid: Hash256
    public var fee: UInt64
    /// A registration's collateral outpoint (nil for the other types).
    public var collateral: OutPoint?
    /// The owner key the wallet made for a registration.
    public var ownerKey: [UInt8]?
}

extension Wallet {
    /// Collateral outpoints the wallet made or registered, kept out of ordinary sends.
    public var masternodeCollaterals: Set<OutPoint> {
        lock.withLock { Set((document.masternodeCollaterals ?? []).compactMap(Self.parseOutPoint)) }
    }

    /// Masternode collaterals and the collaterals of open governance proposals. Call holding `lock`.
    var lockedCollaterals: Set<OutPoint> {
        Set((document.masternodeCollaterals ?? []).compactMap(Self.parseOutPoint)).union(lockedGovernanceCollaterals)
    }

    /// Whether `ownerKey` is one the wallet made for a registration (and so can sign updates with).
    public func holdsOwnerKey(_ ownerKey: [UInt8]) -> Bool {
        lock.withLock {
            guard let ref = keysByHash[StandardScript.keyHash(ownerKey)] else { return false }
            return !ref.internal && (document.masternodeOwnerKeys ?? []).contains(ref.index)
        }
    }

    /// Pays exactly `amount` (the network's collateral) to a fresh key of the wallet and keeps
    /// that output out of ordinary sends. Returns the send and the collateral outpoint.
    public func createCollateral(amount: Amount, feeRate: UInt64,
                                 broadcast: (Transaction) throws -> Void) throws -> (SentTransaction, OutPoint) {
        let address = try newAddress(label: "masternode collateral")
        let sent = try send(to: address, amount: amount, feeRate: feeRate, comment: "masternode collateral", broadcast: broadcast)
        guard let index = sent.transaction.outputs.firstIndex(where: { $0.lockScript == address.lockScript && $0.value == amount }) else {
            throw WalletError.corrupt("the collateral output is missing from \(sent.txid.hex)")
        }
        let outpoint = OutPoint(txid: sent.txid, index: UInt32(index))
        try locked { () throws(WalletError) in
            rememberCollateral(outpoint)
            try save()
        }
        return (sent, outpoint)
    }

    /// Builds, signs and broadcasts `mn-register`. `collateral` names a wallet coin of exactly
    /// `collateralAmount` (external collateral); nil makes the registration create its own
    /// collateral as output 0 paying a fresh wallet key (internal collateral). The owner key is
    /// a fresh wallet key; the payload is signed by the collateral's key.
    public func registerMasternode(collateral: OutPoint?, collateralAmount: Amount, service: ServiceAddress, payoutScript: [UInt8],
                                   operatorKey: [UInt8], operatorEncryptionKey: [UInt8], feeRate: UInt64,
                                   broadcast: (Transaction) throws -> Void) throws -> MasternodeTransaction {
        try sendLock.withLock {
            let (built, draft, ownerIndex, collateralOutpoint, ownerKey) = try locked { () throws(WalletError) in
                let seed = try unlockedSeed()
                refillKeys(seed: seed)
                let ownerRef = KeyRef(internal: false, index: document.nextExternal)
                let collateralKey: [UInt8], collateralRef: KeyRef
                var outputs = [TxOut]()
                if let collateral {
                    guard let coin = allCoins().first(where: { $0.outpoint == collateral }) else {
                        throw .invalidParameter("collateral \(collateral) is not an unspent coin of this wallet")
                    }
                    guard coin.output.value == collateralAmount else {
                        throw .invalidParameter("collateral \(collateral) holds \(coin.output.value), not exactly \(collateralAmount)")
                    }
                    guard let ref = owner(coin.output) else { throw .invalidParameter("collateral \(collateral) is not paid to a key of this wallet") }
                    collateralRef = ref
                    collateralKey = publicKeys[ref]!
                } else {
                    collateralRef = KeyRef(internal: false, index: document.nextExternal + 1)
                    guard let key = publicKeys[collateralRef] else { throw .keypoolExhausted }
                    collateralKey = key
                    outputs.append(TxOut(value: collateralAmount, lockScript: StandardScript.payToKeyHash(StandardScript.keyHash(key))))
                }
                guard let ownerKey = publicKeys[ownerRef] else { throw .keypoolExhausted }
                var payload = MasternodeRegisterPayload(
                    collateral: collateral ?? OutPoint(txid: .zero, index: 0), collateralKey: collateralKey, ownerKey: ownerKey,
                    operatorKey: operatorKey, operatorEncryptionKey: operatorEncryptionKey, service: service, payoutScript: payoutScript)
                var excluded = lockedCollaterals
                if let collateral { excluded.insert(collateral) }
                var draft = try draftSpecial(MasternodeRegisterPayload.type, payloadLength: Self.signedLength(payload),
                                             outputs: outputs, feeRate: feeRate, excluding: excluded, seed: seed)
                payload.inputsHash = SpecialPayloadCodec.inputsHash(of: draft.transaction)
                signPayload(&payload, ref: collateralRef, seed: seed)
                let built = try finish(&draft, payload: payload.encoded, seed: seed)
                return (built, draft, ownerRef.index, payload.collateralOutPoint(txid: built.txid), ownerKey)
            }
            try broadcast(built.transaction)
            try locked { () throws(WalletError) in
                // The owner key (and a fresh collateral key) are now used: later addresses skip them.
                let used = collateral == nil ? ownerIndex + 2 : ownerIndex + 1
                if used > document.nextExternal { document.nextExternal = used }
                document.masternodeOwnerKeys = (document.masternodeOwnerKeys ?? []) + [ownerIndex]
                rememberCollateral(collateralOutpoint)
                try record(built.transaction, txid: built.txid, changeIndex: draft.changeIndex, comment: "masternode registration")
            }
            return MasternodeTransaction(transaction: built.transaction, txid: built.txid, fee: draft.fee, collateral: collateralOutpoint,
                                         ownerKey: ownerKey)
        }
    }

    /// `mn-update-registrar` for `entry` (the masternode as the list holds it), signed by the
    /// wallet's owner key: a new operator key, encryption key and payout script.
    public func updateMasternodeRegistrar(_ entry: MasternodeEntry, operatorKey: [UInt8], operatorEncryptionKey: [UInt8],
                                          payoutScript: [UInt8], feeRate: UInt64,
                                          broadcast: (Transaction) throws -> Void) throws -> MasternodeTransaction {
        try sendSpecial(MasternodeUpdateRegistrarPayload(proTxHash: entry.proTxHash, operatorKey: operatorKey,
                                                        operatorEncryptionKey: operatorEncryptionKey, payoutScript: payoutScript),
                        signer: .walletKey(entry.ownerKey), feeRate: feeRate, comment: "masternode update registrar", broadcast: broadcast)
    }

    /// `mn-update-service` (a new service address; also revives a banned masternode), signed by the operator.
    public func updateMasternodeService(_ proTxHash: Hash256, service: ServiceAddress, operatorKeys: OperatorKeys, feeRate: UInt64,
                                        broadcast: (Transaction) throws -> Void) throws -> MasternodeTransaction {
        try sendSpecial(MasternodeUpdateServicePayload(proTxHash: proTxHash, service: service), signer: .operatorKeys(operatorKeys),
                        feeRate: feeRate, comment: "masternode update service", broadcast: broadcast)
    }

    /// `mn-revoke` with `reason` (0...3), signed by the operator.
    public func revokeMasternode(_ proTxHash: Hash256, reason: UInt16, operatorKeys: OperatorKeys, feeRate: UInt64,
                                 broadcast: (Transaction) throws -> Void) throws -> MasternodeTransaction {
        guard reason <= MasternodeRevokePayload.maxReason else {
            throw WalletError.invalidParameter("reason \(reason) is not 0 to \(MasternodeRevokePayload.maxReason)")
        }
        return try sendSpecial(MasternodeRevokePayload(proTxHash: proTxHash, reason: reason), signer: .operatorKeys(operatorKeys),
                               feeRate: feeRate, comment: "masternode revoke", broadcast: broadcast)
    }

    // MARK: Building

    enum PayloadSigner {
        /// A key of the wallet, named by its public key.
        case walletKey([UInt8])
        case operatorKeys(OperatorKeys)
    }

    struct SpecialDraft {
        var transaction: Transaction
        var spent: [WalletCoin]
        var fee: UInt64
        var changeIndex: UInt32?
    }

    /// A payload-only special transaction (fee inputs and change from the wallet).
    func sendSpecial<P: SpecialPayload>(_ unsigned: P, signer: PayloadSigner, feeRate: UInt64, comment: String,
                                        broadcast: (Transaction) throws -> Void) throws -> MasternodeTransaction {
        try sendLock.withLock {
            let (built, draft) = try locked { () throws(WalletError) in
                let seed = try unlockedSeed()
                refillKeys(seed: seed)
                var payload = unsigned
                var draft = try draftSpecial(P.type, payloadLength: Self.signedLength(payload), outputs: [], feeRate: feeRate,
                                             excluding: lockedCollaterals, seed: seed)
                payload.inputsHash = SpecialPayloadCodec.inputsHash(of: draft.transaction)
                switch signer {
                case .operatorKeys(let keys):
                    payload.signature = keys.sign(payload.signingHash.bytes)
                case .walletKey(let publicKey):
                    guard let ref = keysByHash[StandardScript.keyHash(publicKey)] else {
                        throw .invalidParameter("the wallet does not hold the key \(HexCoding.encode(publicKey)) this transaction must be signed with")
                    }
                    signPayload(&payload, ref: ref, seed: seed)
                }
                return (try finish(&draft, payload: payload.encoded, seed: seed), draft)
            }
            try broadcast(built.transaction)
            try locked { () throws(WalletError) in
                try record(built.transaction, txid: built.txid, changeIndex: draft.changeIndex, comment: comment)
            }
            return MasternodeTransaction(transaction: built.transaction, txid: built.txid, fee: draft.fee)
        }
    }

    func unlockedSeed() throws(WalletError) -> [UInt8] {
        relockIfExpired()
        guard let seed else { throw .locked }
        return seed
    }

    func refillKeys(seed: [UInt8]) {
        WalletFile.topUp(&document, seed: seed).forEach { index($0, publicKey: HexCoding.decode($0.publicKey)!) }
    }

    func signPayload<P: SpecialPayload>(_ payload: inout P, ref: KeyRef, seed: [UInt8]) {
        var secret = WalletFile.secretSeed(seed: seed, internal: ref.internal, index: ref.index)
        payload.sign(seed: secret)
        secret.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    }

    /// The encoded length of `payload` once signed (the signature has a fixed length).
    static func signedLength<P: SpecialPayload>(_ payload: P) -> Int {
        payload.unsignedEncoding.count + SpecialPayloadCodec.signatureLength
    }

    /// Selects fee inputs (largest first) for `outputs` plus change, sized for a payload of
    /// `payloadLength` bytes; the transaction returned has the final inputs and outputs and no
    /// payload or witnesses yet. Change (never dust) goes to a fresh internal key; a payload-only
    /// transaction always has change, since a transaction needs an output.
    func draftSpecial(_ type: SpecialTransactionType, payloadLength: Int, outputs: [TxOut], feeRate: UInt64,
                      excluding: Set<OutPoint>, seed: [UInt8]) throws(WalletError) -> SpecialDraft {
        guard feeRate <= 100_000_000_000 else { throw .invalidParameter("Fee rate \(feeRate) per 1,000 bytes is too high") }
        let amount = outputs.reduce(UInt64(0)) { $0 + $1.value.baseUnits }
        let candidates = allCoins().filter { $0.spendable && !excluding.contains($0.outpoint) }
            .sorted { $0.output.value.baseUnits > $1.output.value.baseUnits }
        func size(_ inputs: Int, _ withChange: Bool) -> Int {
            let change = withChange ? [TxOut(value: .zero, lockScript: [UInt8](repeating: 0, count: 37))] : []
            var transaction = Transaction(special: type, payload: [UInt8](repeating: 0, count: payloadLength),
                                          inputs: [TxIn](repeating: TxIn(previousOutput: .null), count: inputs), outputs: outputs + change)
            transaction.witnesses = [[[UInt8]]](repeating: [[UInt8](repeating: 0, count: Ed25519.signatureLength),
                                                            [UInt8](repeating: 0, count: Ed25519.publicKeyLength)], count: inputs)
            return transaction.encoded.count
        }
        var chosen = [WalletCoin](), sum: UInt64 = 0
        var selection: (fee: UInt64, change: UInt64)?
        for coin in candidates {
            chosen.append(coin)
            sum += coin.output.value.baseUnits
            let withChange = CoinSelection.fee(rate: feeRate, bytes: size(chosen.count, true))
            if sum >= amount + withChange + Self.dustThreshold {
                selection = (withChange, sum - amount - withChange)
                break
            }
            let without = CoinSelection.fee(rate: feeRate, bytes: size(chosen.count, false))
            if !outputs.isEmpty, sum >= amount + without, sum - amount - without < Self.dustThreshold {
                selection = (sum - amount, 0) // the dust left over goes to the fee, as ordinary sends do
                break
            }
        }
        guard let selection else { throw .insufficientFunds }
        guard size(chosen.count, selection.change > 0) <= Self.maxTransactionBytes else { throw .invalidParameter("Transaction too large") }
        var allOutputs = outputs
        var changeIndex: UInt32?
        if selection.change > 0 {
            let ref = KeyRef(internal: true, index: document.nextInternal)
            allOutputs.append(TxOut(value: Amount(baseUnits: selection.change)!, lockScript: address(ref).lockScript))
            changeIndex = ref.index
        }
        let transaction = Transaction(special: type, payload: [], inputs: chosen.map { TxIn(previousOutput: $0.outpoint) }, outputs: allOutputs)
        return SpecialDraft(transaction: transaction, spent: chosen, fee: selection.fee, changeIndex: changeIndex)
    }

    /// Puts the signed payload in and signs every input (the txid covers the payload).
    func finish(_ draft: inout SpecialDraft, payload: [UInt8], seed: [UInt8]) throws(WalletError) -> (transaction: Transaction, txid: Hash256) {
        draft.transaction.payload = payload
        let txid = draft.transaction.txid
        for (index, coin) in draft.spent.enumerated() {
            guard let ref = keysByHash[coin.address.keyHash] else { throw .corrupt("no key for \(coin.address)") }
            let key = WalletFile.signingKey(seed: seed, internal: ref.internal, index: ref.index)
            let message = Sighash.compute(txid: txid, inputIndex: UInt32(index), spentOutput: coin.output)
            draft.transaction.witnesses[index] = [key.sign(message: message.bytes), key.publicKey]
        }
        return (draft.transaction, txid)
    }

    func rememberCollateral(_ outpoint: OutPoint) {
        let text = "\(outpoint.txid.hex):\(outpoint.index)"
        if !(document.masternodeCollaterals ?? []).contains(text) { document.masternodeCollaterals = (document.masternodeCollaterals ?? []) + [text] }
    }

    /// "txid:index" as the wallet file and the RPCs write it; nil when malformed.
    public static func parseOutPoint(_ text: String) -> OutPoint? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let txid = Hash256(hex: String(parts[0])), let index = UInt32(parts[1]) else { return nil }
        return OutPoint(txid: txid, index: index)
    }
}
