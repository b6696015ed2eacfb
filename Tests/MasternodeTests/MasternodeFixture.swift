import Consensus
import Ed25519
import Masternodes
import Primitives
import TestSupport
import Testing

/// Deterministic keys: the Ed25519 key of the 32-byte seed `[n, n, ..., n]`.
extension TestKey {
    init(_ n: UInt8) { self.init(seed: [UInt8](repeating: n, count: 32)) }

    var payToKeyHash: [UInt8] { lockScript }
}

/// One would-be masternode's keys and service: node `n` uses seeds 4n+1 (collateral), 4n+2
/// (owner), 4n+3 (operator) and, as its encryption key, 32 bytes of 4n+4.
struct TestNode {
    let collateralKey, ownerKey, operatorKey: TestKey
    let encryptionKey: [UInt8]
    let service: ServiceAddress
    /// The funding output the node's transactions spend (any unspent output will do).
    let funding: OutPoint
    /// The external collateral output of its registration.
    let collateral: OutPoint

    init(_ n: UInt8) {
        collateralKey = TestKey(4 &* n &+ 1)
        ownerKey = TestKey(4 &* n &+ 2)
        operatorKey = TestKey(4 &* n &+ 3)
        encryptionKey = [UInt8](repeating: 4 &* n &+ 4, count: 32)
        service = ServiceAddress(ipv4: (10, 0, 0, n), port: 9999)
        funding = OutPoint(txid: Hash256(bytes: [UInt8](repeating: 0xF0 ^ n, count: 32))!, index: 0)
        collateral = OutPoint(txid: Hash256(bytes: [UInt8](repeating: 0xC0 ^ n, count: 32))!, index: 1)
    }
}

enum Fixture {
    static let parameters = MasternodeParameters(collateral: Amount(baseUnits: 10 * Amount.unitsPerCoin)!, registrationMaturity: 2,
                                                 listHistoryBlocks: 16, penaltyMax: 100, penaltyMissedCommitment: 66,
                                                 penaltyInvalidSignature: 30, penaltyDecayPerBlock: 1)
    static let payout = TestKey(200).payToKeyHash

    static func output(_ value: Amount = parameters.collateral, to script: [UInt8]) -> TxOut { TxOut(value: value, lockScript: script) }

    /// A special transaction spending `inputs`, with the payload bound to them and signed by `signer`.
    static func special<P: SpecialPayload>(_ payload: P, inputs: [OutPoint], outputs: [TxOut] = [output(Amount(baseUnits: 1000)!, to: payout)],
                                          signer: [UInt8]) -> Transaction {
        var payload = payload
        let unsigned = payload.transaction(inputs: inputs.map { TxIn(previousOutput: $0) }, outputs: outputs)
        payload.inputsHash = SpecialPayloadCodec.inputsHash(of: unsigned)
        payload.sign(seed: signer)
        return payload.transaction(inputs: unsigned.inputs, outputs: outputs)
    }

    static func registerPayload(_ node: TestNode, collateral: OutPoint? = nil) -> MasternodeRegisterPayload {
        MasternodeRegisterPayload(collateral: collateral ?? node.collateral, collateralKey: node.collateralKey.publicKey,
                                  ownerKey: node.ownerKey.publicKey, operatorKey: node.operatorKey.publicKey,
                                  operatorEncryptionKey: node.encryptionKey, service: node.service, payoutScript: payout)
    }

    /// `node`'s registration with its external collateral; `edit` changes the payload before signing.
    static func register(_ node: TestNode, signer: [UInt8]? = nil, edit: (inout MasternodeRegisterPayload) -> Void = { _ in }) -> Transaction {
        var payload = registerPayload(node)
        edit(&payload)
        return special(payload, inputs: [node.funding], signer: signer ?? node.collateralKey.seed)
    }

    /// A registration whose collateral is output 0 of the registration itself.
    static func registerWithOwnCollateral(_ node: TestNode) -> Transaction {
        special(registerPayload(node, collateral: OutPoint(txid: .zero, index: 0)), inputs: [node.funding],
                outputs: [output(to: node.collateralKey.payToKeyHash)], signer: node.collateralKey.seed)
    }

    static func updateService(_ id: Hash256, _ service: ServiceAddress, signer: TestKey, funding: OutPoint) -> Transaction {
        special(MasternodeUpdateServicePayload(proTxHash: id, service: service), inputs: [funding], signer: signer.seed)
    }

    static func updateRegistrar(_ id: Hash256, operatorKey: [UInt8], encryptionKey: [UInt8], payout: [UInt8] = payout, signer: TestKey,
                                funding: OutPoint) -> Transaction {
        special(MasternodeUpdateRegistrarPayload(proTxHash: id, operatorKey: operatorKey, operatorEncryptionKey: encryptionKey, payoutScript: payout),
                inputs: [funding], signer: signer.seed)
    }

    static func revoke(_ id: Hash256, reason: UInt16 = 1, signer: TestKey, funding: OutPoint) -> Transaction {
        special(MasternodeRevokePayload(proTxHash: id, reason: reason), inputs: [funding], signer: signer.seed)
    }

    static func block(_ transactions: [Transaction], height: UInt64) -> Block {
        let coinbase = Transaction(inputs: [TxIn(previousOutput: .null)], outputs: [output(Amount(baseUnits: 1)!, to: payout)], lockTime: height)
        let header = BlockHeader(version: 1, height: height, previousHash: .zero, merkleRoot: .zero, stateRoot: .zero, time: 0, bits: 0, nonce: 0)
        return Block(header: header, transactions: [coinbase] + transactions)
    }
}

/// A list with the coins it is judged against: the unspent collateral outputs of every
/// test node, then what the blocks applied through it create and spend.
struct TestChain {
    var list = MasternodeList()
    var coins: [OutPoint: Coin] = [:]
    var height: UInt64 = 100
    var undos: [MasternodeListUndo] = []

    init(nodes: UInt8 = 8) {
        for n in 0..<nodes {
            let node = TestNode(n)
            coins[node.collateral] = Coin(output: Fixture.output(to: node.collateralKey.payToKeyHash), height: 1, isCoinbase: false)
        }
    }

    /// The coin closure: the coins after the block.
    func lookup(_ outpoint: OutPoint) -> Coin? { coins[outpoint] }

    /// Applies one block of `transactions` at the next height (coins updated first, as the
    /// chain state does: the rules see the coins after the whole block).
    @discardableResult
    mutating func connect(_ transactions: [Transaction]) throws -> MasternodeListUndo {
        let block = Fixture.block(transactions, height: height + 1)
        let saved = coins
        for transaction in transactions {
            for input in transaction.inputs { coins[input.previousOutput] = nil }
            let txid = transaction.txid
            for (index, output) in transaction.outputs.enumerated() {
                coins[OutPoint(txid: txid, index: UInt32(index))] = Coin(output: output, height: height + 1, isCoinbase: false)
            }
        }
        let coins = self.coins
        do {
            let undo = try MasternodeRules.apply(block, txids: block.transactions.map(\.txid), height: height + 1, to: &list,
                                                 parameters: Fixture.parameters, coin: { coins[$0] })
            height += 1
            undos.append(undo)
            return undo
        } catch {
            self.coins = saved
            throw error
        }
    }

    /// Proof of service inside the last connected block: the penalty goes into that block's
    /// undo, as the chain state records it, so disconnecting the block takes it back.
    mutating func penalize(_ id: Hash256, points: UInt32) {
        guard var undo = undos.popLast() else { return }
        ProofOfService.penalize(id, points: points, height: height, list: &list, undo: &undo, parameters: Fixture.parameters)
        undos.append(undo)
    }

    /// Disconnects the last block's list changes (coins are not restored: tests of undo compare lists).
    mutating func disconnect() {
        guard let undo = undos.popLast() else { return }
        list.revert(undo)
        height -= 1
    }

    /// The rule check alone (the mempool's), at the next height.
    func check(_ transaction: Transaction) throws -> MasternodeEntry? {
        try MasternodeRules.change(for: transaction, txid: transaction.txid, height: height + 1, list: list, parameters: Fixture.parameters,
                                   coin: lookup)
    }
}

/// Expects `body` to be rejected by `rule` (RuleCoverageTests reads the rule argument here).
func expectRejected(_ rule: RuleName, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("accepted; expected \(rule.rawValue)", sourceLocation: sourceLocation)
    } catch let rejection as Rejection {
        #expect(rejection.rule == rule, "\(rejection)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
    }
}
