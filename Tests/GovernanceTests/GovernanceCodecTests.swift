import ChainParams
import Consensus
import Governance
import Masternodes
import Primitives
import Testing
import TestSupport

/// The byte layouts of PROTOCOL section 18.2-18.3 as known answers written out by hand
/// (little-endian integers, compact-size lengths), and decoding's rejections.
struct GovernanceCodecTests {
    static let textHash = Hash256(bytes: [UInt8](repeating: 0xAB, count: 32))!

    @Test("gov-proposal payload: the known-answer bytes, field by field, and the round trip")
    func proposalKnownAnswer() throws {
        let payload = GovernanceProposalPayload(parameter: .maxBlockBytes, newValue: 5_000_000, startHeight: 0x0102, deadlineHeight: 0x0203,
                                                activationDelay: 7, url: "https://x.io", textHash: Self.textHash, collateralIndex: 1)
        let expected = "0100" + "0100" + "404b4c0000000000" + "0201000000000000" + "0302000000000000" + "0700000000000000"
            + "0c" + HexCoding.encode(Array("https://x.io".utf8)) + String(repeating: "ab", count: 32) + "01000000"
        #expect(HexCoding.encode(payload.encoded) == expected)
        #expect(try GovernanceProposalPayload(decoding: payload.encoded) == payload)
        #expect(payload.activationHeight == 0x0203 + 7)
        #expect(payload.parameter == .maxBlockBytes)
    }

    @Test("gov-vote payload: the known-answer bytes, the inputs hash of no inputs, and the owner signature over the keyed signing hash")
    func voteKnownAnswer() throws {
        let proposal = Hash256(bytes: [UInt8](repeating: 0x11, count: 32))!, masternode = Hash256(bytes: [UInt8](repeating: 0x22, count: 32))!
        var payload = GovernanceVotePayload(proposalId: proposal, proTxHash: masternode, outcome: .no, sequence: 3)
        let owner = TestKey(seed: [UInt8](repeating: 7, count: 32))
        payload.sign(seed: owner.seed)
        let expected = "0100" + String(repeating: "11", count: 32) + String(repeating: "22", count: 32) + "02" + "03000000"
            + GovernanceVotePayload.noInputsHash.hex + HexCoding.encode(payload.signature)
        #expect(HexCoding.encode(payload.encoded) == expected)
        #expect(payload.encoded.count == 2 + 32 + 32 + 1 + 4 + 32 + 64)
        #expect(payload.signatureVerifies(publicKey: owner.publicKey))
        #expect(!payload.signatureVerifies(publicKey: TestKey(seed: [UInt8](repeating: 8, count: 32)).publicKey))
        let transaction = payload.transaction
        #expect(transaction.inputs.isEmpty && transaction.outputs.isEmpty && transaction.specialType == .governanceVote)
        #expect(try GovernanceVotePayload(transaction: transaction) == payload)
        // The signing hash is keyed by the type: the same fields under another type sign differently.
        #expect(payload.signingHash != MasternodeRevokePayload(proTxHash: masternode, reason: 0).signingHash)
    }

    @Test("gov-payload: truncation, trailing bytes, a bad version, a URL over 200 bytes or not UTF-8, an unknown outcome")
    func badEncodings() throws {
        let good = GovernanceProposalPayload(parameter: .finalityDepth, newValue: 8, startHeight: 1, deadlineHeight: 9, activationDelay: 1,
                                             url: "", textHash: Self.textHash, collateralIndex: 0)
        func rejectsProposal(_ bytes: [UInt8]) -> Bool {
            let transaction = Transaction(special: .governanceProposal, payload: bytes, inputs: [], outputs: [])
            do { _ = try GovernanceProposalPayload(transaction: transaction); return false } catch { return error.rule == .governancePayload }
        }
        #expect(rejectsProposal(Array(good.encoded.dropLast())))
        #expect(rejectsProposal(good.encoded + [0]))
        #expect(rejectsProposal([2, 0] + good.encoded.dropFirst(2)))
        var long = good
        long.url = String(repeating: "a", count: 201)
        #expect(rejectsProposal(long.encoded))
        long.url = String(repeating: "a", count: 200)
        #expect(!rejectsProposal(long.encoded))
        var invalidUTF8 = good.encoded
        let urlOffset = 2 + 2 + 8 * 4
        invalidUTF8.replaceSubrange(urlOffset..<(urlOffset + 1), with: [2, 0xC3, 0x28])
        #expect(rejectsProposal(invalidUTF8))

        var vote = GovernanceVotePayload(proposalId: Self.textHash, proTxHash: Self.textHash, outcome: .yes, sequence: 0).encoded
        vote[2 + 64] = 4
        do {
            _ = try GovernanceVotePayload(transaction: Transaction(special: .governanceVote, payload: vote + [UInt8](repeating: 0, count: 64),
                                                                   inputs: [], outputs: []))
            Issue.record("outcome 4 decoded")
        } catch {
            #expect(error.rule == .governancePayload)
        }
    }

    @Test("gov-vote-shape: a vote with an input or an output breaks the context-free rule; without both it passes")
    func voteShape() throws {
        let vote = GovernanceVotePayload(proposalId: Self.textHash, proTxHash: Self.textHash, outcome: .yes, sequence: 0)
        expectRule({ try TransactionRules.checkContextFree(vote.transaction(inputs: [], outputs: [TxOut(value: .zero, lockScript: [0x51])]), isCoinbase: false) },
                   .governanceVoteShape)
        let input = TxIn(previousOutput: OutPoint(txid: Self.textHash, index: 0))
        expectRule({ try TransactionRules.checkContextFree(vote.transaction(inputs: [input], outputs: []), isCoinbase: false) }, .governanceVoteShape)
        try TransactionRules.checkContextFree(vote.transaction, isCoinbase: false)
    }

    @Test("Config: every network's governance numbers load; the whitelist's start values are the file's own fields")
    func networksLoad() throws {
        for network in ["mainnet", "testnet", "regtest"] {
            let chain = try ChainParameters.builtIn(network)
            let governance = try GovernanceParameters(chain)
            #expect(governance.bounds.count == GovernanceParameter.allCases.count, "\(network)")
            #expect(governance.initialValues[.maxBlockBytes] == UInt64(chain.maxBlockBytes))
            #expect(governance.initialValues[.finalityDepth] == chain.finalityDepth)
            #expect(governance.initialValues[.minRelayFeeRate] == chain.relayPolicy.minRelayFeeRate)
            #expect(governance.initialValues[.masternodeCollateral] == chain.masternodes.collateralBaseUnits)
            let consensus = try ConsensusParameters(chain)
            #expect(consensus.maxBlockBytesCeiling >= consensus.maxBlockBytes)
        }
        // Without governance the context-free bound is the file's limit, whatever the bounds say.
        var chain = try ChainParameters.builtIn("regtest")
        #expect(try ConsensusParameters(chain).maxBlockBytesCeiling == 16_000_000)
        chain.governance.collateralBaseUnits = nil
        #expect(try ConsensusParameters(chain).maxBlockBytesCeiling == chain.maxBlockBytes)
        chain = try ChainParameters.builtIn("regtest")
        chain.governance.parameters?["maxBlockBytes"]?.max = 1_000
        #expect(throws: GovernanceParameters.Invalid.self) { try GovernanceParameters(chain) }
        chain = try ChainParameters.builtIn("regtest")
        chain.governance.parameters?["blockReward"] = ChainParameters.ParameterBounds(min: 1, max: 2, maxStep: 1)
        #expect(throws: GovernanceParameters.Invalid.self) { try GovernanceParameters(chain) }
        chain = try ChainParameters.builtIn("regtest")
        chain.governance.minActivationDelay = 0
        #expect(throws: GovernanceParameters.Invalid.self) { try GovernanceParameters(chain) }
    }
}

/// Expects `body` to throw a `Rejection` of `rule`.
func expectRule(_ body: () throws -> Void, _ rule: RuleName, sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        try body()
        Issue.record("no rejection, expected \(rule.rawValue)", sourceLocation: sourceLocation)
    } catch {
        #expect(error.rejectionRule == rule, "\(error)", sourceLocation: sourceLocation)
    }
}

extension Error {
    /// The rule of a `Rejection`, nil for any other error.
    var rejectionRule: RuleName? {
        guard let rejection = self as? Rejection else { return nil }
        return rejection.rule
    }
}
