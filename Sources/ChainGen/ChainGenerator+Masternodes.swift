// Masternodes in generated chains (`rusty gen-chain --masternodes N`): registrations of N
// masternodes (alternately with internal and external collateral, batched across blocks),
// then a steady mix of update-service, update-registrar, revoke (followed by a new operator
// and an update-service that revives), and collateral spends (which deregister; a
// replacement registers). The generator keeps its own list through `MasternodeRules.apply`,
// so every header commits the right extension root; collateral is an ordinary output, so the
// UTXO digest stays right.

import BLAKE3
import Consensus
import Ed25519
import Masternodes
import Primitives

/// How many masternode transactions of each kind a generated chain carries.
public struct MasternodeActivity: Sendable, Equatable, Codable {
    public var registrations = 0
    public var internalCollateral = 0
    public var externalCollateral = 0
    public var updateServices = 0
    public var updateRegistrars = 0
    public var revokes = 0
    public var collateralSpends = 0
}

/// The generator's masternodes: the list the chain commits to and the keys behind each entry.
struct MasternodeSimulation {
    enum State { case active, revoked, awaitingService }

    struct Owned {
        var collateralKey: Int
        var ownerKey: Int
        var operatorKeys: OperatorKeys
        var collateral: OutPoint
        var state: State
    }

    let parameters: MasternodeParameters
    /// Registrations still to make (a collateral spend adds one: its replacement).
    var pending: Int
    var list = MasternodeList()
    var owned: [Hash256: Owned] = [:]
    /// Registered ids in registration order (random picks stay deterministic); a registration
    /// joins after the updates of its own block are made, so none targets it in that block.
    var ids: [Hash256] = []
    /// One-key coins that pay the fees of updates and revokes; each returns its change here.
    var feeCoins: [ChainGenerator.OwnedCoin] = []
    var counter: UInt64 = 0
    var random: SeededGenerator
    var activity = MasternodeActivity()
    var operationsPerBlock: Int

    /// Most registrations in one block, and the fee each masternode transaction pays.
    static let registrationsPerBlock = 250
    static let fee: UInt64 = 10_000
    static let feeCoinValue: UInt64 = 100_000_000
}

extension ChainGenerator {
    /// From now on, registers `count` masternodes as soon as coins allow, then (with `updates`)
    /// keeps a steady mix of the other masternode transactions. Without `updates` the chain
    /// carries the registrations alone, so its later blocks hold the ordinary mix only, as a
    /// chain without masternodes does: the fair baseline for what the list itself costs.
    /// Call before the first block.
    public mutating func enableMasternodes(count: Int, parameters: MasternodeParameters, updates: Bool = true) {
        masternodes = MasternodeSimulation(parameters: parameters, pending: count, random: SeededGenerator(seed: seed ^ 0x6D61_7374_6572_6E6F),
                                           operationsPerBlock: updates ? 2 + count / 1_000 : 0)
    }

    /// What the chain carried so far (nil without masternodes).
    public var masternodeActivity: MasternodeActivity? { masternodes?.activity }
    /// Masternodes in the list after the last block.
    public var masternodeCount: Int { masternodes?.list.count ?? 0 }

    /// This block's masternode transactions (to go right after the coinbase), their fees, and
    /// the ordinary coins they create (spendable from the next block).
    mutating func makeMasternodeTransactions(height: UInt64) -> (transactions: [Transaction], fees: Amount, created: [OwnedCoin]) {
        // Taken out while it changes: a copy left in `self` would make every change copy the list.
        guard var sim = masternodes.take() else { return ([], .zero, []) }
        defer { masternodes = sim }
        var transactions = [Transaction](), fees: UInt64 = 0, created = [OwnedCoin]()
        var touched = Set<Hash256>()
        // Updates first: they act on masternodes registered in earlier blocks.
        for _ in 0..<sim.operationsPerBlock where !sim.ids.isEmpty && !sim.feeCoins.isEmpty {
            let id = sim.ids[Int(sim.random.next() % UInt64(sim.ids.count))]
            guard touched.insert(id).inserted, let transaction = makeOperation(on: id, sim: &sim, created: &created) else { continue }
            transactions.append(transaction)
            fees += MasternodeSimulation.fee
        }
        // Registrations, once the ordinary mix has coins enough (they take the largest coin).
        if sim.pending > 0, spendable.count >= 3 * transactionsPerBlock,
           let made = makeRegistrations(height: height, sim: &sim, created: &created) {
            transactions += made.transactions
            fees += made.fees
        }
        return (transactions, Amount(baseUnits: fees)!, created)
    }

    /// Applies the block to the generator's list; returns the list's root.
    mutating func applyMasternodes(_ block: Block, height: UInt64) -> Hash256 {
        guard var sim = masternodes.take() else { return .zero }
        let utxo = self.utxo
        do {
            _ = try MasternodeRules.apply(block, txids: block.transactions.map(\.txid), height: height, to: &sim.list,
                                          parameters: sim.parameters, coin: { utxo[$0] })
        } catch {
            preconditionFailure("gen-chain made an invalid masternode transaction at height \(height): \(error)")
        }
        masternodes = sim
        return sim.list.root()
    }

    // MARK: Registrations

    private mutating func makeRegistrations(height: UInt64, sim: inout MasternodeSimulation,
                                            created: inout [OwnedCoin]) -> (transactions: [Transaction], fees: UInt64)? {
        guard let largest = spendable.indices.max(by: { spendable[$0].coin.output.value.baseUnits < spendable[$1].coin.output.value.baseUnits }),
              case .keyHash = spendable[largest].lock else { return nil }
        let input = spendable[largest]
        let collateral = sim.parameters.collateral.baseUnits
        let perRegistration = collateral + 2 * MasternodeSimulation.fee
        let feePool = sim.feeCoins.count < 4 * sim.operationsPerBlock ? 4 * sim.operationsPerBlock : 0
        let fundingFee: UInt64 = 100_000
        let reserve = fundingFee + UInt64(feePool) * MasternodeSimulation.feeCoinValue + 100_000
        let value = input.coin.output.value.baseUnits
        guard value > reserve + perRegistration else { return nil }
        let count = min(sim.pending, MasternodeSimulation.registrationsPerBlock, Int((value - reserve) / perRegistration))
        spendable.swapAt(largest, spendable.count - 1)
        spendable.removeLast()

        // The funding transaction: per registration either the input of an internal-collateral
        // registration or an external collateral and its fee coin; fee coins; change.
        var outputs = [TxOut](), locks = [Lock]()
        var plans = [(internal: Bool, collateralKey: Int, output: Int, feeOutput: Int)]()
        for index in 0..<count {
            let isInternal = (sim.activity.registrations + index) % 2 == 0
            let collateralKey = newKey()
            if isInternal {
                plans.append((true, collateralKey, outputs.count, outputs.count))
                let key = newKey()
                outputs.append(TxOut(value: Amount(baseUnits: collateral + MasternodeSimulation.fee)!, lockScript: lockScript(.keyHash(key))))
                locks.append(.keyHash(key))
            } else {
                plans.append((false, collateralKey, outputs.count, outputs.count + 1))
                outputs.append(TxOut(value: sim.parameters.collateral, lockScript: lockScript(.keyHash(collateralKey))))
                locks.append(.keyHash(collateralKey))
                let key = newKey()
                outputs.append(TxOut(value: Amount(baseUnits: 2 * MasternodeSimulation.fee)!, lockScript: lockScript(.keyHash(key))))
                locks.append(.keyHash(key))
            }
        }
        let feeStart = outputs.count
        for _ in 0..<feePool {
            let key = newKey()
            outputs.append(TxOut(value: Amount(baseUnits: MasternodeSimulation.feeCoinValue)!, lockScript: lockScript(.keyHash(key))))
            locks.append(.keyHash(key))
        }
        let spentValue = UInt64(count) * perRegistration - UInt64(plans.filter(\.internal).count) * MasternodeSimulation.fee
        let change = value - fundingFee - spentValue - UInt64(feePool) * MasternodeSimulation.feeCoinValue
        let changeKey = newKey()
        outputs.append(TxOut(value: Amount(baseUnits: change)!, lockScript: lockScript(.keyHash(changeKey))))
        locks.append(.keyHash(changeKey))
        let funding = signedTransaction(inputs: [input], outputs: outputs)
        let fundingCoins = record(funding, locks: locks, height: height)
        for index in feeStart..<(feeStart + feePool) { sim.feeCoins.append(fundingCoins[index]) }
        created.append(fundingCoins[fundingCoins.count - 1])
        var transactions = [funding]
        var fees = fundingFee

        for plan in plans {
            let operatorKeys = nextOperatorKeys(&sim)
            let ownerKey = newKey()
            let payoutKey = newKey()
            var payload = MasternodeRegisterPayload(
                collateral: plan.internal ? OutPoint(txid: .zero, index: 0) : fundingCoins[plan.output].outpoint,
                collateralKey: keys[plan.collateralKey].publicKey, ownerKey: keys[ownerKey].publicKey, operatorKey: operatorKeys.operatorKey,
                operatorEncryptionKey: operatorKeys.encryptionKey, service: nextService(&sim), payoutScript: lockScript(.keyHash(payoutKey)))
            let feeInput = fundingCoins[plan.feeOutput]
            let outputLock: Lock = plan.internal ? .keyHash(plan.collateralKey) : .keyHash(newKey())
            let outputValue = plan.internal ? sim.parameters.collateral : Amount(baseUnits: MasternodeSimulation.fee)!
            let transaction = signedSpecial(&payload, signer: plan.collateralKey, inputs: [feeInput],
                                            outputs: [TxOut(value: outputValue, lockScript: lockScript(outputLock))])
            let coins = record(transaction, locks: [outputLock], height: height)
            if !plan.internal { created.append(coins[0]) }
            let collateralOutpoint = payload.collateralOutPoint(txid: transaction.txid)
            sim.owned[transaction.txid] = MasternodeSimulation.Owned(collateralKey: plan.collateralKey, ownerKey: ownerKey,
                                                                     operatorKeys: operatorKeys, collateral: collateralOutpoint, state: .active)
            if plan.internal { sim.activity.internalCollateral += 1 } else { sim.activity.externalCollateral += 1 }
            sim.activity.registrations += 1
            sim.ids.append(transaction.txid)
            transactions.append(transaction)
            fees += MasternodeSimulation.fee
        }
        sim.pending -= count
        return (transactions, fees)
    }

    // MARK: Updates, revokes, collateral spends

    private mutating func makeOperation(on id: Hash256, sim: inout MasternodeSimulation, created: inout [OwnedCoin]) -> Transaction? {
        guard var node = sim.owned[id] else { return nil }
        let height = self.height + 1
        let roll = sim.random.next() % 100
        let transaction: Transaction
        switch node.state {
        case .revoked:
            (transaction, node) = updateRegistrar(id, node, sim: &sim, height: height)
            node.state = .awaitingService
        case .awaitingService:
            transaction = updateService(id, node, sim: &sim, height: height)
            node.state = .active
        case .active where roll < 40:
            transaction = updateService(id, node, sim: &sim, height: height)
        case .active where roll < 70:
            (transaction, node) = updateRegistrar(id, node, sim: &sim, height: height)
        case .active where roll < 85:
            var payload = MasternodeRevokePayload(proTxHash: id, reason: UInt16(roll % 4))
            transaction = payFromFeeCoin(&payload, sim: &sim, height: height) { node.operatorKeys.sign($0.bytes) }
            node.state = .revoked
            sim.activity.revokes += 1
        case .active:
            // Spending the collateral deregisters; a replacement registers later.
            guard let coin = utxo[node.collateral] else { return nil }
            let key = newKey()
            let spend = signedTransaction(inputs: [OwnedCoin(outpoint: node.collateral, coin: coin, lock: .keyHash(node.collateralKey))],
                                          outputs: [TxOut(value: Amount(baseUnits: coin.output.value.baseUnits - MasternodeSimulation.fee)!,
                                                          lockScript: lockScript(.keyHash(key)))])
            created += record(spend, locks: [.keyHash(key)], height: height)
            sim.owned[id] = nil
            sim.ids.removeAll { $0 == id }
            sim.pending += 1
            sim.activity.collateralSpends += 1
            return spend
        }
        sim.owned[id] = node
        return transaction
    }

    private mutating func updateService(_ id: Hash256, _ node: MasternodeSimulation.Owned, sim: inout MasternodeSimulation,
                                        height: UInt64) -> Transaction {
        var payload = MasternodeUpdateServicePayload(proTxHash: id, service: nextService(&sim))
        sim.activity.updateServices += 1
        return payFromFeeCoin(&payload, sim: &sim, height: height) { node.operatorKeys.sign($0.bytes) }
    }

    private mutating func updateRegistrar(_ id: Hash256, _ node: MasternodeSimulation.Owned, sim: inout MasternodeSimulation,
                                          height: UInt64) -> (Transaction, MasternodeSimulation.Owned) {
        var node = node
        node.operatorKeys = nextOperatorKeys(&sim)
        // The key first: `lockScript` reads `keys` as it is when the call starts.
        let payoutKey = newKey()
        var payload = MasternodeUpdateRegistrarPayload(proTxHash: id, operatorKey: node.operatorKeys.operatorKey,
                                                       operatorEncryptionKey: node.operatorKeys.encryptionKey,
                                                       payoutScript: lockScript(.keyHash(payoutKey)))
        sim.activity.updateRegistrars += 1
        let owner = keys[node.ownerKey]
        return (payFromFeeCoin(&payload, sim: &sim, height: height) { owner.sign(message: $0.bytes) }, node)
    }

    /// A payload-only special transaction: one fee coin in, its change out (back to the fee coins).
    private mutating func payFromFeeCoin<P: SpecialPayload>(_ payload: inout P, sim: inout MasternodeSimulation, height: UInt64,
                                                             sign: (Hash256) -> [UInt8]) -> Transaction {
        let input = sim.feeCoins.removeFirst()
        let key = newKey()
        let output = TxOut(value: Amount(baseUnits: input.coin.output.value.baseUnits - MasternodeSimulation.fee)!, lockScript: lockScript(.keyHash(key)))
        var transaction = Transaction(special: P.type, payload: [], inputs: [TxIn(previousOutput: input.outpoint)], outputs: [output])
        payload.inputsHash = SpecialPayloadCodec.inputsHash(of: transaction)
        payload.signature = sign(payload.signingHash)
        transaction.payload = payload.encoded
        transaction = signInputs(transaction, [input])
        sim.feeCoins += record(transaction, locks: [.keyHash(key)], height: height)
        return transaction
    }

    // MARK: Helpers

    private mutating func signedSpecial<P: SpecialPayload>(_ payload: inout P, signer: Int, inputs: [OwnedCoin], outputs: [TxOut]) -> Transaction {
        var transaction = Transaction(special: P.type, payload: [], inputs: inputs.map { TxIn(previousOutput: $0.outpoint) }, outputs: outputs)
        payload.inputsHash = SpecialPayloadCodec.inputsHash(of: transaction)
        payload.signature = keys[signer].sign(message: payload.signingHash.bytes)
        transaction.payload = payload.encoded
        return signInputs(transaction, inputs)
    }

    private mutating func signedTransaction(inputs: [OwnedCoin], outputs: [TxOut]) -> Transaction {
        signInputs(Transaction(version: 2, inputs: inputs.map { TxIn(previousOutput: $0.outpoint) }, outputs: outputs), inputs)
    }

    /// Signs key-hash inputs and books the spends.
    mutating func signInputs(_ transaction: Transaction, _ inputs: [OwnedCoin]) -> Transaction {
        var transaction = transaction
        let txid = transaction.txid
        for (index, input) in inputs.enumerated() {
            guard case .keyHash(let key) = input.lock else { preconditionFailure("masternode inputs are key-hash coins") }
            let sighash = Sighash.compute(txid: txid, inputIndex: UInt32(index), spentOutput: input.coin.output)
            transaction.witnesses[index] = [sign(key, sighash), keys[key].publicKey]
            utxo[input.outpoint] = nil
        }
        signatureCount += inputs.count
        inputCount += inputs.count
        return transaction
    }

    /// Adds the spendable outputs to the UTXO books (data outputs never enter the set); returns
    /// them as owned coins, `locks` naming the lock of each (data outputs come after them).
    mutating func record(_ transaction: Transaction, locks: [Lock], height: UInt64) -> [OwnedCoin] {
        let txid = transaction.txid
        return transaction.outputs.enumerated().compactMap { index, output in
            guard !output.isUnspendable else { return nil }
            let outpoint = OutPoint(txid: txid, index: UInt32(index))
            let coin = Coin(output: output, height: height, isCoinbase: false)
            utxo[outpoint] = coin
            return OwnedCoin(outpoint: outpoint, coin: coin, lock: locks[index])
        }
    }

    private func nextOperatorKeys(_ sim: inout MasternodeSimulation) -> OperatorKeys {
        sim.counter += 1
        var material = Array("gen-chain operator".utf8)
        withUnsafeBytes(of: seed.littleEndian) { material += $0 }
        withUnsafeBytes(of: sim.counter.littleEndian) { material += $0 }
        // Both secrets are 32 bytes, which is all OperatorKeys checks.
        return try! OperatorKeys(operatorSeed: BLAKE3.hash(material + [0]), encryptionSecret: BLAKE3.hash(material + [1]))
    }

    /// A service address no other masternode of the chain has had: 10.x.y.z, port 29373.
    private func nextService(_ sim: inout MasternodeSimulation) -> ServiceAddress {
        sim.counter += 1
        let n = sim.counter
        return ServiceAddress(ipv4: (10, UInt8(truncatingIfNeeded: n >> 16), UInt8(truncatingIfNeeded: n >> 8), UInt8(truncatingIfNeeded: n)),
                              port: UInt16(truncatingIfNeeded: 20_000 + (n >> 24)))
    }
}
