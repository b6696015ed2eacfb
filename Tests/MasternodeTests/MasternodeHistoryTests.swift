import Consensus
import Masternodes
import Primitives
import TestSupport
import Testing

/// Random histories of registrations, updates, revocations, revivals and collateral spends:
/// the list after disconnecting to any height equals the list recomputed from scratch, and
/// a reorganisation to another branch and back is exact.
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

    @Test("disconnecting to any height equals recomputing from scratch; another branch and back is exact", arguments: [1, 2, 3] as [UInt64])
    func randomHistory(seed: UInt64) throws {
        var generator = Generator(random: SeededGenerator(testSeed: seed))
        var chain = TestChain(nodes: 0)
        var blocks = [[Transaction]]()
        var lists = [chain.list]
        for _ in 0..<40 {
            let block = generator.block(for: chain.list)
            try chain.connect(block)
            blocks.append(block)
            lists.append(chain.list)
        }
        #expect(chain.list.count > 3 && chain.list.sorted.contains(where: \.isBanned), "the history exercised the rules")

        // From scratch at every height.
        var scratch = TestChain(nodes: 0)
        for (height, block) in blocks.enumerated() {
            try scratch.connect(block)
            #expect(scratch.list == lists[height + 1] && scratch.list.computedRoot == lists[height + 1].computedRoot)
        }

        // A deep reorganisation: down to a fork, a different branch, back down, and the original again.
        let depth = Int.random(in: 5...20, using: &generator.random)
        var reorganised = chain
        for _ in 0..<depth { reorganised.disconnect() }
        #expect(reorganised.list == lists[lists.count - 1 - depth])
        var branch = [[Transaction]]()
        for _ in 0..<(depth + 3) {
            let block = generator.block(for: reorganised.list)
            try reorganised.connect(block)
            branch.append(block)
        }
        for _ in branch { reorganised.disconnect() }
        #expect(reorganised.list == lists[lists.count - 1 - depth])
        for block in blocks.suffix(depth) { try reorganised.connect(block) }
        #expect(reorganised.list == chain.list && reorganised.list.computedRoot == chain.list.computedRoot)
    }
}
