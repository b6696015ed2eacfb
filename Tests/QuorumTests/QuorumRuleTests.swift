import Consensus
import Ed25519
import Masternodes
import Primitives
import Quorums
import Testing
import TestSupport

/// Every rule of a quorum commitment (PROTOCOL section 17.4): what passes, and each
/// rejection by its rule name.
@Suite struct QuorumRuleTests {
    func expectRejected(_ fixture: QuorumFixture, _ payload: QuorumCommitmentPayload, _ rule: RuleName, context: QuorumChainContext? = nil,
                        sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try fixture.check(payload, context: context)
            Issue.record("accepted; expected \(rule.rawValue)", sourceLocation: sourceLocation)
        } catch let rejection as Rejection {
            #expect(rejection.rule == rule, "\(rejection)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("\(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func fullCommitmentPassesAndNamesItsMembers() throws {
        let fixture = QuorumFixture(masternodes: 7)
        let checked = try fixture.check(fixture.commitment())
        #expect(checked.members.count == 5)
        #expect(checked.members == fixture.members)
        #expect(checked.type.id == QuorumFixture.type.id)
    }

    @Test func thresholdSignersAndFewerMembersThanSizePass() throws {
        let fixture = QuorumFixture(masternodes: 4)
        #expect(fixture.members.count == 4)
        _ = try fixture.check(fixture.commitment(valid: [0, 1, 3], signers: [0, 1, 3]))
    }

    @Test func nullCommitmentPasses() throws {
        let fixture = QuorumFixture(masternodes: 5)
        let null = QuorumCommitmentPayload.null(quorumType: QuorumFixture.type.id, quorumHash: QuorumFixture.quorumHash,
                                                quorumHeight: QuorumFixture.start, size: 5)
        #expect(null.isNull)
        // Only the window's last height (start + 8 + 8 - 1): earlier, anyone could take the
        // quorum's slot from its members with a commitment nobody signed.
        _ = try fixture.check(null, context: fixture.context(height: QuorumFixture.start + 15))
        expectRejected(fixture, null, .quorumWindow)
        expectRejected(fixture, null, .quorumWindow, context: fixture.context(height: QuorumFixture.start + 14))
    }

    @Test func windowBoundsAreExact() throws {
        let fixture = QuorumFixture(masternodes: 5)
        let payload = fixture.commitment()
        _ = try fixture.check(payload, context: fixture.context(height: QuorumFixture.start + 8))
        _ = try fixture.check(payload, context: fixture.context(height: QuorumFixture.start + 15))
        expectRejected(fixture, payload, .quorumWindow, context: fixture.context(height: QuorumFixture.start + 7))
        expectRejected(fixture, payload, .quorumWindow, context: fixture.context(height: QuorumFixture.start + 16))
    }

    @Test func shapeIsNoInputsAndNoOutputs() throws {
        let payload = QuorumFixture(masternodes: 5).commitment()
        try TransactionRules.checkContextFree(payload.transaction, isCoinbase: false)
        let withInput = Transaction(special: .quorumCommitment, payload: payload.encoded, inputs: [TxIn(previousOutput: OutPoint(txid: .zero, index: 0))], outputs: [])
        #expect(throws: Rejection(.quorumCommitmentShape, "1 inputs and 0 outputs, expected none")) { try TransactionRules.checkContextFree(withInput, isCoinbase: false) }
        let withOutput = Transaction(special: .quorumCommitment, payload: payload.encoded, inputs: [], outputs: [TxOut(value: .zero, lockScript: [0x51])])
        #expect(throws: Rejection(.quorumCommitmentShape, "0 inputs and 1 outputs, expected none")) { try TransactionRules.checkContextFree(withOutput, isCoinbase: false) }
        // Any other type keeps needing inputs.
        let other = Transaction(special: .masternodeRevoke, payload: [], inputs: [], outputs: [])
        #expect(throws: Rejection(.txNoInputs)) { try TransactionRules.checkContextFree(other, isCoinbase: false) }
    }

    @Test func malformedPayloadIsSpecialPayload() {
        let fixture = QuorumFixture(masternodes: 5)
        var bytes = fixture.commitment().encoded
        bytes.removeLast()
        let transaction = Transaction(special: .quorumCommitment, payload: bytes, inputs: [], outputs: [])
        #expect(throws: Rejection.self) {
            try QuorumCommitmentRules.check(transaction, context: fixture.context(), parameters: QuorumFixture.parameters,
                                            masternodeParameters: QuorumFixture.masternodeParameters)
        }
        do {
            _ = try QuorumCommitmentRules.check(transaction, context: fixture.context(), parameters: QuorumFixture.parameters,
                                                masternodeParameters: QuorumFixture.masternodeParameters)
        } catch let rejection as Rejection {
            #expect(rejection.rule == .specialPayload)
        } catch { Issue.record("\(error)") }
    }

    @Test func unknownTypeWrongHashDuplicateAndUnformed() {
        let fixture = QuorumFixture(masternodes: 5)
        var payload = fixture.commitment()
        payload.quorumType = QuorumTypeID(rawValue: 7)
        expectRejected(fixture, payload, .quorumType)

        payload = fixture.commitment()
        payload.quorumHash = Hash256(bytes: [UInt8](repeating: 0x52, count: 32))!
        expectRejected(fixture, payload, .quorumHash)
        payload = fixture.commitment()
        payload.quorumHeight = QuorumFixture.start + 1  // not a DKG start
        expectRejected(fixture, payload, .quorumHash)

        expectRejected(fixture, fixture.commitment(), .quorumDuplicate,
                       context: fixture.context(mined: [QuorumKey(type: QuorumFixture.type.id, quorumHash: QuorumFixture.quorumHash)]))

        let small = QuorumFixture(masternodes: 2)
        let null = QuorumCommitmentPayload.null(quorumType: QuorumFixture.type.id, quorumHash: QuorumFixture.quorumHash, quorumHeight: QuorumFixture.start, size: 5)
        expectRejected(small, null, .quorumNotFormed, context: small.context(height: QuorumFixture.start + 15))
    }

    @Test func immatureMasternodesAreNotSelected() throws {
        var fixture = QuorumFixture(masternodes: 2)
        fixture.add(registeredHeight: QuorumFixture.start - 1)  // matures at start + 1
        #expect(fixture.members.count == 2)
        // A null commitment passes every check the payload decides alone, so the selection's decides.
        let null = QuorumCommitmentPayload.null(quorumType: QuorumFixture.type.id, quorumHash: QuorumFixture.quorumHash, quorumHeight: QuorumFixture.start, size: 5)
        expectRejected(fixture, null, .quorumNotFormed, context: fixture.context(height: QuorumFixture.start + 15))
    }

    @Test func bitsets() {
        let fixture = QuorumFixture(masternodes: 4)
        var payload = fixture.commitment()
        payload.validMembers = QuorumBitset(count: 4, setting: 0..<4)
        fixture.sign(&payload, by: [0, 1, 2])
        expectRejected(fixture, payload, .quorumBitset)
        // Bit 4 names a fifth member of a quorum of four.
        payload = fixture.commitment(valid: [0, 1, 2, 3, 4], signers: [0, 1, 2])
        expectRejected(fixture, payload, .quorumBitset)
    }

    @Test func nullWithContent() {
        let fixture = QuorumFixture(masternodes: 5)
        var null = QuorumCommitmentPayload.null(quorumType: QuorumFixture.type.id, quorumHash: QuorumFixture.quorumHash,
                                                quorumHeight: QuorumFixture.start, size: 5)
        null.groupKey = QuorumFixture.groupKey
        expectRejected(fixture, null, .quorumNullContent)
        null = .null(quorumType: QuorumFixture.type.id, quorumHash: QuorumFixture.quorumHash, quorumHeight: QuorumFixture.start, size: 5)
        fixture.sign(&null, by: [0])
        expectRejected(fixture, null, .quorumNullContent)
    }

    @Test func validMembersAndSigners() {
        let fixture = QuorumFixture(masternodes: 5)
        expectRejected(fixture, fixture.commitment(valid: [0, 1], signers: [0, 1]), .quorumValidMembers)
        // A signer outside the valid set.
        expectRejected(fixture, fixture.commitment(valid: [0, 1, 3, 4], signers: [0, 1, 2]), .quorumSigners)
        // Fewer than threshold signers.
        expectRejected(fixture, fixture.commitment(valid: [0, 1, 2, 3], signers: [0, 1]), .quorumSigners)
    }

    @Test func signatures() {
        let fixture = QuorumFixture(masternodes: 5)
        var payload = fixture.commitment()
        payload.signatures[2][5] ^= 1
        expectRejected(fixture, payload, .quorumSignature)
        // Signed by the right members over another group key.
        payload = fixture.commitment()
        payload.groupKey = Ed25519.publicKey(seed: [UInt8](repeating: 8, count: 32))
        expectRejected(fixture, payload, .quorumSignature)
        // A revoked member's cleared operator key verifies nothing.
        var revoked = fixture
        var entry = revoked.members[0]
        entry.operatorKey = MasternodeEntry.clearedKey
        var undo = MasternodeListUndo()
        revoked.list.set(entry, undo: &undo)
        expectRejected(revoked, revoked.commitment(), .quorumSignature)
    }

    @Test func groupKeyMustBeAPrimeOrderPoint() throws {
        let fixture = QuorumFixture(masternodes: 5)
        let orderFour = [UInt8](repeating: 0, count: 32)  // (sqrt(-1), 0)
        let key = try #require(Ed25519.Point(encoded: QuorumFixture.groupKey))
        let mixed = key + (try #require(Ed25519.Point(encoded: orderFour)))
        let identity = [1] + [UInt8](repeating: 0, count: 31)
        // y = p: a non-canonical encoding.
        let nonCanonical = [0xED] + [UInt8](repeating: 0xFF, count: 30) + [0x7F]
        for bad in [orderFour, mixed.encoded, identity, nonCanonical] {
            var payload = fixture.commitment()
            payload.groupKey = bad
            fixture.sign(&payload, by: [0, 1, 2, 3, 4])
            expectRejected(fixture, payload, .quorumGroupKey)
        }
    }
}
