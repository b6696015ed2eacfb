import Consensus
import Masternodes
import Primitives
import TestSupport
import Testing

/// Random histories of registrations, updates, revocations, proof-of-service bans, revivals
/// and collateral spends: the list equals an independent model at every height, every
/// disconnect is exact, and a reorganisation to another branch and back is exact.
struct MasternodeHistoryTests {
    /// Builds valid blocks against a chain's current list: fresh keys, services and funding
    /// from a counter; the keys that sign found by public key, whatever the branch.
    struct Generator {
        var random: SeededGenerator
        var counter: UInt32 = 0
        var keys: [[UInt8]: TestKey] = [:]

        mutating func fresh() -> UInt32 {
            counter += 1
            return counter
        }

        mutating func key() -> TestKey {
            let n = fresh()
            let key = TestKey(seed: withUnsafeBytes(of: n.littleEndian, Array.init) + [UInt8](repeating: 0x5A, count: 28))
            keys[key.publicKey] = key
            return key
        }

        mutating func funding() -> OutPoint { OutPoint(txid: Hash256(bytes: withUnsafeBytes(of: fresh(), Array.init) + [UInt8](repeating: 0xF5, count: 28))!, index: 0) }

        mutating func service() -> ServiceAddress {
            let n = fresh()
            return ServiceAddress(ipv4: (172, 16, UInt8(truncatingIfNeeded: n >> 8), UInt8(truncatingIfNeeded: n)), port: UInt16(truncatingIfNeeded: n) | 1)
        }

        mutating func encryptionKey() -> [UInt8] { withUnsafeBytes(of: fresh(), Array.init) + [UInt8](repeating: 0xE7, count: 28) }

        mutating func register() -> Transaction {
            let collateralKey = key()
            let payload = MasternodeRegisterPayload(collateral: OutPoint(txid: .zero, index: 0), collateralKey: collateralKey.publicKey,
                                                    ownerKey: key().publicKey, operatorKey: key().publicKey, operatorEncryptionKey: encryptionKey(),
                                                    service: service(), payoutScript: Fixture.payout)
            return Fixture.special(payload, inputs: [funding()], outputs: [Fixture.output(to: collateralKey.payToKeyHash)], signer: collateralKey.seed)
        }

        /// One operation on `entry`, valid against it.
        mutating func operation(on entry: MasternodeEntry) -> Transaction {
            let owner = keys[entry.ownerKey]!
            if entry.isRevoked || (entry.isBanned && Bool.random(using: &random)) {
                return Fixture.updateRegistrar(entry.proTxHash, operatorKey: key().publicKey, encryptionKey: encryptionKey(), signer: owner, funding: funding())
            }
            let operatorKey = keys[entry.operatorKey]!
            switch Int.random(in: 0..<5, using: &random) {
            case 0: return Fixture.updateService(entry.proTxHash, service(), signer: operatorKey, funding: funding())
            case 1: return Fixture.updateRegistrar(entry.proTxHash, operatorKey: key().publicKey, encryptionKey: encryptionKey(), signer: owner, funding: funding())
            case 2 where !entry.isBanned: return Fixture.revoke(entry.proTxHash, reason: UInt16.random(in: 0...3, using: &random), signer: operatorKey, funding: funding())
            default: return Transaction(inputs: [TxIn(previousOutput: entry.collateral)], outputs: [Fixture.output(to: Fixture.payout)])
            }
        }

        /// A block of registrations and at most one operation per masternode.
        mutating func block(for list: MasternodeList) -> [Transaction] {
            var transactions = (0..<Int.random(in: 0...2, using: &random)).map { _ in register() }
            for entry in list.sorted.shuffled(using: &random).prefix(Int.random(in: 0...3, using: &random)) {
                transactions.append(operation(on: entry))
            }
            return transactions
        }
    }

    /// One block of a history: its transactions, then proof-of-service penalties at its height.
    struct HistoryBlock {
        var transactions: [Transaction]
        var penalties: [(Hash256, UInt32)]
    }

    /// Connects `block` to `chain` (its penalties inside the block's undo).
    static func connect(_ block: HistoryBlock, to chain: inout TestChain) throws {
        try chain.connect(block.transactions)
        for (id, points) in block.penalties { chain.penalize(id, points: points) }
    }

    /// A block for `list` and, half the time, a penalty on one masternode not banned.
    static func nextBlock(_ generator: inout Generator, list: MasternodeList) -> HistoryBlock {
        let transactions = generator.block(for: list)
        let touched = Set(transactions.map(\.txid))
        let candidates = list.sorted.filter { !$0.isBanned && !touched.contains($0.proTxHash) }
        guard Bool.random(using: &generator.random), let target = candidates.randomElement(using: &generator.random) else {
            return HistoryBlock(transactions: transactions, penalties: [])
        }
        return HistoryBlock(transactions: transactions, penalties: [(target.proTxHash, UInt32.random(in: 40...90, using: &generator.random))])
    }

    @Test("random histories with proof of service: the list equals an independent model of 16.3-16.5 at every height; replay is deterministic; another branch and back is exact",
          arguments: [1, 2, 3] as [UInt64])
    func randomHistory(seed: UInt64) throws {
        var generator = Generator(random: SeededGenerator(testSeed: seed))
        var chain = TestChain(nodes: 0)
        var model = MasternodeModel(parameters: Fixture.parameters)
        var blocks = [HistoryBlock]()
        var lists = [chain.list]
        var poseBans = 0
        for _ in 0..<60 {
            let block = Self.nextBlock(&generator, list: chain.list)
            try Self.connect(block, to: &chain)
            try model.apply(block: block.transactions, height: chain.height)
            for (id, points) in block.penalties {
                model.penalize(id, points: points, height: chain.height)
                if chain.list[id]?.isBanned == true { poseBans += 1 }
            }
            #expect(chain.list == MasternodeList(entries: model.entries.values), "height \(chain.height)")
            #expect(chain.list.root() == model.root, "height \(chain.height)")
            blocks.append(block)
            lists.append(chain.list)
        }
        #expect(chain.list.count > 3 && chain.list.sorted.contains(where: \.isRevoked), "the history exercised revokes")
        #expect(poseBans > 0, "the history exercised proof-of-service bans")

        // Replaying the same blocks (penalties included) is deterministic.
        var replay = TestChain(nodes: 0)
        for (height, block) in blocks.enumerated() {
            try Self.connect(block, to: &replay)
            #expect(replay.list == lists[height + 1] && replay.list.computedRoot == lists[height + 1].computedRoot)
        }

        // Disconnecting (penalties undone with their block) reaches every earlier list.
        var unwound = chain
        for expected in lists.dropLast().reversed() {
            unwound.disconnect()
            #expect(unwound.list == expected && unwound.list.root() == expected.computedRoot)
        }

        // A deep reorganisation: down to a fork, a different branch, back down, and the original again.
        let depth = Int.random(in: 5...20, using: &generator.random)
        var reorganised = chain
        for _ in 0..<depth { reorganised.disconnect() }
        #expect(reorganised.list == lists[lists.count - 1 - depth])
        var branch = [HistoryBlock]()
        for _ in 0..<(depth + 3) {
            let block = Self.nextBlock(&generator, list: reorganised.list)
            try Self.connect(block, to: &reorganised)
            branch.append(block)
        }
        for _ in branch { reorganised.disconnect() }
        #expect(reorganised.list == lists[lists.count - 1 - depth])
        for block in blocks.suffix(depth) { try Self.connect(block, to: &reorganised) }
        #expect(reorganised.list == chain.list && reorganised.list.computedRoot == chain.list.computedRoot)
    }
}
