import Consensus
import Masternodes
import Primitives
import TestSupport
import Testing

/// The list as a state: maturity, exact undo, proof of service, and adversarial inputs.
struct MasternodeStateTests {
    let a = TestNode(0), b = TestNode(1)

    @Test("a registration counts only registrationMaturity blocks after its block")
    func maturity() throws {
        var chain = TestChain()
        let registration = Fixture.register(a)
        try chain.connect([registration])
        let registered = chain.height
        let maturity = Fixture.parameters.registrationMaturity
        #expect(chain.list.valid(at: registered, parameters: Fixture.parameters).isEmpty)
        #expect(chain.list.valid(at: registered + maturity - 1, parameters: Fixture.parameters).isEmpty)
        #expect(chain.list.valid(at: registered + maturity, parameters: Fixture.parameters).map(\.proTxHash) == [registration.txid])
    }

    @Test("apply then revert gives back the exact previous list, through registrations, updates, revokes and spends")
    func undoIsExact() throws {
        var chain = TestChain()
        var lists = [chain.list]
        let registerA = Fixture.register(a), registerB = Fixture.registerWithOwnCollateral(b)
        let blocks: [[Transaction]] = [
            [registerA, registerB],
            [Fixture.updateService(registerA.txid, ServiceAddress(ipv4: (10, 2, 2, 2), port: 1), signer: a.operatorKey, funding: TestNode(5).funding)],
            [Fixture.revoke(registerB.txid, signer: b.operatorKey, funding: TestNode(6).funding),
             Transaction(inputs: [TxIn(previousOutput: a.collateral)], outputs: [Fixture.output(to: Fixture.payout)])],
        ]
        for block in blocks {
            try chain.connect(block)
            lists.append(chain.list)
        }
        #expect(chain.list.count == 1 && chain.list[registerB.txid]?.isRevoked == true)
        for expected in lists.dropLast().reversed() {
            let undo = try #require(chain.undos.last)
            // The undo record survives its encoding.
            #expect(try MasternodeListUndo(decoding: undo.encoded) == undo)
            chain.disconnect()
            #expect(chain.list == expected)
            #expect(chain.list.computedRoot == expected.computedRoot)
        }
        #expect(chain.list.isEmpty)
    }

    @Test("the root commits to every field of every entry, in id order")
    func rootCommits() throws {
        var chain = TestChain()
        try chain.connect([Fixture.register(a), Fixture.register(b)])
        let root = chain.list.computedRoot
        let leaves = chain.list.sorted.map(\.leafHash)
        #expect(root == Merkle.root(of: leaves) && root != .zero)
        var changed = chain.list
        var undo = MasternodeListUndo()
        var entry = try #require(changed.sorted.first)
        entry.penaltyHeight += 1
        changed.set(entry, undo: &undo)
        #expect(changed.computedRoot != root)
        #expect(MasternodeList(entries: chain.list.sorted.reversed()).computedRoot == root, "insertion order does not matter")
        #expect(try MasternodeEntry(decoding: entry.encoded) == entry)
    }

    @Test("proof of service: penalties add, decay per block, ban above the maximum; banned entries do not count or decay")
    func proofOfService() throws {
        var chain = TestChain()
        let registration = Fixture.register(a)
        try chain.connect([registration])
        let id = registration.txid
        let p = Fixture.parameters
        var undo = MasternodeListUndo()
        let start = chain.height
        ProofOfService.penalize(id, points: 60, height: start, list: &chain.list, undo: &undo, parameters: p)
        var entry = try #require(chain.list[id])
        #expect(entry.penalty(at: start, decayPerBlock: p.penaltyDecayPerBlock) == 60)
        #expect(entry.penalty(at: start + 10, decayPerBlock: p.penaltyDecayPerBlock) == 50)
        #expect(entry.penalty(at: start + 1_000, decayPerBlock: p.penaltyDecayPerBlock) == 0)
        #expect(entry.penalty(at: start + 10, decayPerBlock: .max) == 0, "decay past zero saturates")
        // 50 left after 10 blocks, +50 = 100: at the maximum, not above it.
        ProofOfService.penalize(id, points: 50, height: start + 10, list: &chain.list, undo: &undo, parameters: p)
        entry = try #require(chain.list[id])
        #expect(entry.penalty == 100 && !entry.isBanned)
        ProofOfService.penalize(id, points: 1, height: start + 10, list: &chain.list, undo: &undo, parameters: p)
        entry = try #require(chain.list[id])
        #expect(entry.isBanned && entry.bannedHeight == start + 10)
        #expect(entry.penalty(at: start + 500, decayPerBlock: p.penaltyDecayPerBlock) == 101, "no decay while banned")
        #expect(chain.list.valid(at: start + 500, parameters: p).isEmpty)
        ProofOfService.penalize(id, points: .max, height: start + 11, list: &chain.list, undo: &undo, parameters: p)
        #expect(chain.list[id] == entry, "a banned entry takes no more penalties")
        // The penalties' undo restores the unpenalised entry.
        var reverted = chain.list
        reverted.revert(undo)
        #expect(reverted[id]?.penalty == 0 && reverted[id]?.isBanned == false)
        // Revive: an operator-signed service update clears ban and penalty.
        try chain.connect([Fixture.updateService(id, a.service, signer: a.operatorKey, funding: b.funding)])
        entry = try #require(chain.list[id])
        #expect(!entry.isBanned && entry.penalty == 0 && entry.penaltyHeight == chain.height)
        #expect(entry.isValid(at: entry.registeredHeight + p.registrationMaturity, maturity: p.registrationMaturity))
    }

    @Test("a penalty sum past UInt32.max saturates at the maximum and bans")
    func penaltySaturates() throws {
        var chain = TestChain()
        let registration = Fixture.register(a)
        try chain.connect([registration])
        let id = registration.txid
        // A maximum so high that the first penalty cannot ban: the second one's sum overflows.
        var p = Fixture.parameters
        p.penaltyMax = .max - 1
        var undo = MasternodeListUndo()
        ProofOfService.penalize(id, points: 10, height: chain.height, list: &chain.list, undo: &undo, parameters: p)
        #expect(chain.list[id]?.penalty == 10 && chain.list[id]?.isBanned == false)
        ProofOfService.penalize(id, points: .max, height: chain.height, list: &chain.list, undo: &undo, parameters: p)
        let entry = try #require(chain.list[id])
        #expect(entry.penalty == .max && entry.isBanned && entry.bannedHeight == chain.height)
    }

    @Test("the incrementally kept root and order equal a from-scratch Merkle root after random changes and reverts")
    func cachedRootMatchesScratch() throws {
        var generator = SeededGenerator(testSeed: 0x900D_1EAF)
        var list = MasternodeList()
        var undos = [MasternodeListUndo]()
        let template = try #require(try TestChain().check(Fixture.register(a)))
        func scratchRoot(_ list: MasternodeList) -> Hash256 {
            Merkle.root(of: list.entries.values.sorted { $0.proTxHash.bytes.lexicographicallyPrecedes($1.proTxHash.bytes) }.map(\.leafHash))
        }
        for step in 0..<400 {
            var undo = MasternodeListUndo()
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let existing = list.sorted
                switch Int.random(in: 0..<3, using: &generator) {
                case 0, _ where existing.isEmpty:
                    var entry = template
                    entry.proTxHash = Hash256(bytes: (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })!
                    entry.collateral = OutPoint(txid: entry.proTxHash, index: 0)
                    entry.ownerKey = entry.proTxHash.bytes
                    list.set(entry, undo: &undo)
                case 1:
                    var entry = existing[Int.random(in: 0..<existing.count, using: &generator)]
                    entry.penaltyHeight &+= 1
                    list.set(entry, undo: &undo)
                default:
                    list.remove(existing[Int.random(in: 0..<existing.count, using: &generator)].proTxHash, undo: &undo)
                }
            }
            undos.append(undo)
            if step % 3 == 2, let last = undos.popLast() { list.revert(last) }
            #expect(list.root() == scratchRoot(list), "step \(step)")
            #expect(list.sorted.map(\.proTxHash) == list.entries.keys.sorted { $0.bytes.lexicographicallyPrecedes($1.bytes) })
            #expect(MasternodeList(entries: list.entries.values) == list)
        }
        while let undo = undos.popLast() { list.revert(undo) }
        #expect(list.isEmpty && list.root() == .zero)
    }

    @Test("service addresses: valid forms parse and print back; adversarial strings are refused without trapping")
    func serviceAddressParsing() throws {
        let v4 = try #require(ServiceAddress("1.2.3.4:9999"))
        #expect(v4.encoded == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 1, 2, 3, 4, 0x27, 0x0F] && v4.description == "1.2.3.4:9999")
        let v6 = try #require(ServiceAddress("[2001:db8::1]:8333"))
        #expect(v6.description == "[2001:db8:0:0:0:0:0:1]:8333" && v6.encoded.count == ServiceAddress.encodedLength)
        #expect(ServiceAddress("[::]:1")?.isRoutableShape == false)
        let bad = ["", ":", "1.2.3.4", "1.2.3.4:", "1.2.3.4:65536", "1.2.3.4:-1", "1.2.3.4:+80", "+1.2.3.4:80", "1.2.3:80", "1.2.3.4.5:80",
                   "256.1.1.1:80", "1..2.3:80", "[1:2:3:4:5:6:7:8:9]:80", "[::1::2]:80", "[12345::]:80", "[:::]:80", "[1:2:3:4:5:6:7::8]:80",
                   "[g::1]:80", "[+1::]:80", "[::1]", "[::1]:99999999999999999999", "١.٢.٣.٤:80", "1.2.3.4:٨٠", String(repeating: ":", count: 10_000)]
        for text in bad { #expect(ServiceAddress(text) == nil, "\(text.prefix(40))") }
        var generator = SeededGenerator(testSeed: 0x5E41CE)
        let alphabet = Array("0123456789abcdefABCDEF:.[]+- ")
        for _ in 0..<5_000 {
            let text = String((0..<Int.random(in: 0...30, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
            if let parsed = ServiceAddress(text) { #expect(ServiceAddress(parsed.description) == parsed, "\(text)") }
        }
    }

    @Test("payload and entry decoding of random and mutated bytes never traps")
    func decodingNeverTraps() throws {
        var generator = SeededGenerator(testSeed: 0xDEC0DE)
        let samples = [Fixture.register(a).payload, Fixture.revoke(.zero, signer: a.operatorKey, funding: a.funding).payload,
                       Fixture.updateService(.zero, a.service, signer: a.operatorKey, funding: a.funding).payload,
                       Fixture.updateRegistrar(.zero, operatorKey: a.operatorKey.publicKey, encryptionKey: a.encryptionKey, signer: a.ownerKey,
                                               funding: a.funding).payload]
        #expect(try MasternodeRegisterPayload.decode(payload: samples[0]).encoded == samples[0])
        #expect(try MasternodeRevokePayload.decode(payload: samples[1]).encoded == samples[1])
        #expect(try MasternodeUpdateServicePayload.decode(payload: samples[2]).encoded == samples[2])
        #expect(try MasternodeUpdateRegistrarPayload.decode(payload: samples[3]).encoded == samples[3])
        var decoded = 0
        for round in 0..<4_000 {
            var bytes = samples[round % samples.count]
            switch round % 3 {
            case 0: bytes = (0..<Int.random(in: 0...300, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            case 1: bytes[Int.random(in: 0..<bytes.count, using: &generator)] ^= UInt8.random(in: 1...255, using: &generator)
            default: bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &generator)))
            }
            if (try? MasternodeRegisterPayload.decode(payload: bytes)) != nil { decoded += 1 }
            if (try? MasternodeUpdateServicePayload.decode(payload: bytes)) != nil { decoded += 1 }
            if (try? MasternodeUpdateRegistrarPayload.decode(payload: bytes)) != nil { decoded += 1 }
            if (try? MasternodeRevokePayload.decode(payload: bytes)) != nil { decoded += 1 }
            _ = try? MasternodeEntry(decoding: bytes)
            _ = try? MasternodeListUndo(decoding: bytes)
        }
        #expect(decoded > 0, "single-byte mutations of fixed-size fields still decode")
    }
}
