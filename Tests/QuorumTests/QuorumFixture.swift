import ChainParams
import Consensus
import Ed25519
import Masternodes
import Primitives
import Quorums
import TestSupport

/// Regtest's quorum type, a list of masternodes with known operator keys, and commitments
/// signed by them, for the rule tests.
struct QuorumFixture {
    static let chain = try! ChainParameters.builtIn("regtest")
    static let parameters = try! QuorumParameters(chain)
    static let masternodeParameters = try! MasternodeParameters(chain)
    static var type: QuorumType { parameters.sorted[0] }
    /// The first DKG start of regtest's type, and a height inside its mining window.
    static let start: UInt64 = 24
    static let quorumHash = Hash256(bytes: [UInt8](repeating: 0x51, count: 32))!

    var list = MasternodeList()
    var operators: [Hash256: TestKey] = [:]
    var random = SeededGenerator(seed: 0x51_0C)

    init(masternodes: Int) {
        for _ in 0..<masternodes { add() }
    }

    @discardableResult
    mutating func add(registeredHeight: UInt64 = 1) -> Hash256 {
        let keys = TestMasternodeKeys(using: &random)
        let id = Hash256(bytes: (0..<32).map { _ in UInt8.random(in: 0...255, using: &random) })!
        let service = ServiceAddress(ipv4: (10, 0, UInt8(list.count / 250), UInt8(list.count % 250 + 1)), port: 9999)
        let entry = MasternodeEntry(proTxHash: id, collateral: OutPoint(txid: id, index: 0), ownerKey: keys.owner.publicKey,
                                    operatorKey: keys.operatorKey.publicKey, operatorEncryptionKey: keys.encryptionKey, service: service,
                                    payoutScript: [0x51], registeredHeight: registeredHeight)
        var undo = MasternodeListUndo()
        list.set(entry, undo: &undo)
        operators[id] = keys.operatorKey
        return id
    }

    var members: [MasternodeEntry] {
        QuorumSelection.members(list: list, quorumHash: Self.quorumHash, type: Self.type, height: Self.start, parameters: Self.masternodeParameters)
    }

    /// The rules' view: the block at the start height is `quorumHash`, the list is `list`.
    func context(height: UInt64 = start + 8, mined: Set<QuorumKey> = []) -> QuorumChainContext {
        let list = self.list
        return QuorumChainContext(height: height, blockHash: { $0 == Self.start ? Self.quorumHash : Hash256(bytes: [UInt8](repeating: UInt8($0 & 0xFF), count: 32)) },
                                  list: { _ in list }, isMined: { mined.contains(QuorumKey(type: $0, quorumHash: $1)) })
    }

    static let groupKey = Ed25519.publicKey(seed: [UInt8](repeating: 9, count: 32))

    /// A commitment naming `valid` members valid, signed by `signers` (member indices).
    func commitment(valid: [Int]? = nil, signers: [Int]? = nil) -> QuorumCommitmentPayload {
        let members = self.members
        let validIndices = valid ?? Array(members.indices)
        var payload = QuorumCommitmentPayload(
            quorumType: Self.type.id, quorumHash: Self.quorumHash, quorumHeight: Self.start,
            validMembers: QuorumBitset(count: Self.type.size, setting: validIndices), groupKey: Self.groupKey,
            verificationVectorHash: Hash256(bytes: [UInt8](repeating: 0x77, count: 32))!, signers: QuorumBitset(count: Self.type.size), signatures: [])
        sign(&payload, by: signers ?? validIndices)
        return payload
    }

    /// Signs `payload` with the operator keys of members `indices` (replacing its signatures).
    func sign(_ payload: inout QuorumCommitmentPayload, by indices: [Int]) {
        let members = self.members
        var signatures = [Int: [UInt8]]()
        for index in indices where index < members.count {
            signatures[index] = payload.memberSignature(operatorSeed: operators[members[index].proTxHash]!.seed)
        }
        payload.setSignatures(signatures)
    }

    func check(_ payload: QuorumCommitmentPayload, context: QuorumChainContext? = nil) throws -> CheckedQuorumCommitment {
        try QuorumCommitmentRules.check(payload.transaction, context: context ?? self.context(), parameters: Self.parameters,
                                        masternodeParameters: Self.masternodeParameters)
    }
}
