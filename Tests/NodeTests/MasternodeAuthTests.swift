import Ed25519
import Foundation
import Masternodes
import Node
import Primitives
import Testing
import Wire

/// Masternode authentication's rules (PeerManager+Masternodes.swift runs them on each
/// `mnauth`): only the registration's operator key, over this connection's challenge, in
/// this direction, for a valid masternode, authenticates.
@Suite struct MasternodeAuthTests {
    static let magic: [UInt8] = [0xFA, 0x1C, 0xE0, 0xDE]
    static let parameters = MasternodeParameters(collateral: Amount(baseUnits: 1_000_000_000)!, registrationMaturity: 2, listHistoryBlocks: 100,
                                                 penaltyMax: 100, penaltyMissedCommitment: 66, penaltyInvalidSignature: 100,
                                                 penaltyDecayPerBlock: 1)
    let keys = try! OperatorKeys(operatorSeed: [UInt8](repeating: 0x11, count: 32), encryptionSecret: [UInt8](repeating: 0x22, count: 32))
    let otherKeys = try! OperatorKeys(operatorSeed: [UInt8](repeating: 0x33, count: 32), encryptionSecret: [UInt8](repeating: 0x44, count: 32))
    let proTxHash = Hash256(bytes: [UInt8](repeating: 0xAB, count: 32))!

    func entry(operatorKey: [UInt8]? = nil, registeredHeight: UInt64 = 10, bannedHeight: UInt64? = nil) -> MasternodeEntry {
        MasternodeEntry(proTxHash: proTxHash, collateral: OutPoint(txid: proTxHash, index: 0), ownerKey: [UInt8](repeating: 5, count: 32),
                        operatorKey: operatorKey ?? keys.operatorKey, operatorEncryptionKey: keys.encryptionKey,
                        service: ServiceAddress(ipv4: (127, 0, 0, 1), port: 18444), payoutScript: [0x51], registeredHeight: registeredHeight,
                        bannedHeight: bannedHeight)
    }

    func verify(_ auth: MasternodeAuth, challenge: [UInt8], peerDialled: Bool = true, list: MasternodeList,
                tipHeight: UInt64 = 20) -> Result<MasternodeEntry, MasternodeAuthentication.Failure> {
        MasternodeAuthentication.verify(auth, challenge: challenge, magic: Self.magic, peerDialled: peerDialled, list: list,
                                        tipHeight: tipHeight, parameters: Self.parameters)
    }

    @Test("an answer by the operator key over the receiver's challenge authenticates, either direction")
    func validAnswer() throws {
        let list = MasternodeList(entries: [entry()])
        let challenge = MasternodeAuthentication.makeChallenge()
        for dialled in [true, false] {
            let auth = MasternodeAuthentication.answer(challenge: challenge, proTxHash: proTxHash, keys: keys, magic: Self.magic, weDialled: dialled)
            #expect(try verify(auth, challenge: challenge, peerDialled: dialled, list: list).get() == entry())
        }
    }

    @Test("a signature by another key, for another challenge (a replay from another connection), reflected, or garbled fails")
    func forgeries() {
        let list = MasternodeList(entries: [entry()])
        let challenge = MasternodeAuthentication.makeChallenge()
        let otherChallenge = MasternodeAuthentication.makeChallenge()
        let wrongKey = MasternodeAuthentication.answer(challenge: challenge, proTxHash: proTxHash, keys: otherKeys, magic: Self.magic, weDialled: true)
        #expect(verify(wrongKey, challenge: challenge, list: list) == .failure(.badSignature(proTxHash)))
        let replayed = MasternodeAuthentication.answer(challenge: otherChallenge, proTxHash: proTxHash, keys: keys, magic: Self.magic, weDialled: true)
        #expect(verify(replayed, challenge: challenge, list: list) == .failure(.badSignature(proTxHash)))
        let reflected = MasternodeAuthentication.answer(challenge: challenge, proTxHash: proTxHash, keys: keys, magic: Self.magic, weDialled: false)
        #expect(verify(reflected, challenge: challenge, peerDialled: true, list: list) == .failure(.badSignature(proTxHash)))
        let otherNetwork = MasternodeAuthentication.answer(challenge: challenge, proTxHash: proTxHash, keys: keys, magic: [1, 2, 3, 4], weDialled: true)
        #expect(verify(otherNetwork, challenge: challenge, list: list) == .failure(.badSignature(proTxHash)))
        var garbled = MasternodeAuthentication.answer(challenge: challenge, proTxHash: proTxHash, keys: keys, magic: Self.magic, weDialled: true)
        garbled.signature[0] ^= 1
        #expect(verify(garbled, challenge: challenge, list: list) == .failure(.badSignature(proTxHash)))
        // A valid masternode's signature claimed for another (unknown) id.
        let unknownID = Hash256(bytes: [UInt8](repeating: 0xCD, count: 32))!
        let claimed = MasternodeAuth(proTxHash: unknownID, signature: wrongKey.signature)
        #expect(verify(claimed, challenge: challenge, list: list) == .failure(.unknown(unknownID)))
    }

    @Test("an unknown, immature, banned or revoked masternode is refused even with a good signature")
    func invalidMasternodes() {
        let challenge = MasternodeAuthentication.makeChallenge()
        let auth = MasternodeAuthentication.answer(challenge: challenge, proTxHash: proTxHash, keys: keys, magic: Self.magic, weDialled: true)
        #expect(verify(auth, challenge: challenge, list: MasternodeList()) == .failure(.unknown(proTxHash)))
        #expect(verify(auth, challenge: challenge, list: MasternodeList(entries: [entry(registeredHeight: 19)]), tipHeight: 20)
                == .failure(.immature(proTxHash, registeredHeight: 19, tipHeight: 20)))
        #expect(verify(auth, challenge: challenge, list: MasternodeList(entries: [entry(registeredHeight: 18)]), tipHeight: 20).map(\.proTxHash)
                == .success(proTxHash))
        #expect(verify(auth, challenge: challenge, list: MasternodeList(entries: [entry(bannedHeight: 15)])) == .failure(.banned(proTxHash)))
        #expect(verify(auth, challenge: challenge, list: MasternodeList(entries: [entry(operatorKey: MasternodeEntry.clearedKey, bannedHeight: 15)]))
                == .failure(.revoked(proTxHash)))
    }

    @Test("an authentication lapses when the masternode leaves the list, is banned, or its operator key changes")
    func lapses() {
        func lapse(_ list: MasternodeList) -> String? {
            MasternodeAuthentication.lapse(proTxHash: proTxHash, operatorKey: keys.operatorKey, list: list, tipHeight: 20, parameters: Self.parameters)
        }
        #expect(lapse(MasternodeList(entries: [entry()])) == nil)
        let gone = lapse(MasternodeList()) ?? "", banned = lapse(MasternodeList(entries: [entry(bannedHeight: 19)])) ?? ""
        let rekeyed = lapse(MasternodeList(entries: [entry(operatorKey: otherKeys.operatorKey)])) ?? ""
        #expect(gone.contains("no longer in the list"))
        #expect(banned.contains("banned"))
        #expect(rekeyed.contains("operator key changed"))
    }

    @Test("the node's own state: waiting, pending, ready, banned, revoked")
    func identityStates() {
        var identity = MasternodeIdentity(keys: keys)
        let unchanged = identity.update(list: MasternodeList(), tipHeight: 5, parameters: Self.parameters)
        #expect(!unchanged)
        #expect(identity.status.state == .waitingForRegistration)
        #expect(identity.readyProTxHash == nil)
        let registered = identity.update(list: MasternodeList(entries: [entry()]), tipHeight: 11, parameters: Self.parameters)
        #expect(registered)
        #expect(identity.status.state == .pending)
        let matured = identity.update(list: MasternodeList(entries: [entry()]), tipHeight: 12, parameters: Self.parameters)
        #expect(matured)
        #expect(identity.status.state == .ready)
        #expect(identity.readyProTxHash == proTxHash)
        identity.update(list: MasternodeList(entries: [entry(bannedHeight: 13)]), tipHeight: 13, parameters: Self.parameters)
        #expect(identity.status.state == .poseBanned)
        #expect(identity.readyProTxHash == nil)
        // A revoke clears the operator key; the identity still recognises its registration.
        identity.update(list: MasternodeList(entries: [entry(operatorKey: MasternodeEntry.clearedKey, bannedHeight: 14)]), tipHeight: 14,
                        parameters: Self.parameters)
        #expect(identity.status.state == .revoked)
        #expect(identity.status.entry?.proTxHash == proTxHash)
        identity.update(list: MasternodeList(), tipHeight: 15, parameters: Self.parameters)
        #expect(identity.status.state == .waitingForRegistration)
    }

    @Test("the key file: missing or malformed files name the file and the problem; a loose mode warns")
    func keyFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rusty-opkeys-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let missing = directory + "/missing.json"
        #expect(throws: OperatorKeys.LoadError.self) { try OperatorKeyFile.load(missing) }
        do { _ = try OperatorKeyFile.load(missing) } catch { #expect("\(error)".contains(missing)) }
        let garbage = directory + "/garbage.json"
        try "{\"operator_secret\": \"12\"}".write(toFile: garbage, atomically: true, encoding: .utf8)
        do { _ = try OperatorKeyFile.load(garbage); Issue.record("a malformed key file loaded") } catch {
            #expect("\(error)".contains(garbage) && "\(error)".contains("operator_secret"))
        }
        let good = directory + "/op.json"
        try keys.write(to: good)
        let (loaded, warning) = try OperatorKeyFile.load(good)
        #expect(loaded.operatorKey == keys.operatorKey)
        #expect(warning == nil)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: good)
        #expect(try OperatorKeyFile.load(good).warning?.contains("mode 644") == true)
    }

    @Test("--masternode needs --operator-key-file; the relay delay is milliseconds within bounds")
    func configuration() throws {
        let error = NodeConfigurationTests.error { try NodeConfigurationTests.resolve(flags: ["masternode": ["1"]]) }
        #expect(error?.message.contains("operatorkeyfile") == true)
        let resolved = try NodeConfigurationTests.resolve(conf: "masternode=1\noperatorkeyfile=/keys/op.json\nmasternoderelaydelay=250\n")
        #expect(resolved.masternode.enabled)
        #expect(resolved.masternode.operatorKeyFile == "/keys/op.json")
        #expect(resolved.masternode.relayDelayMilliseconds == 250)
        #expect(try NodeConfigurationTests.resolve().masternode == NodeConfiguration.MasternodeConfiguration())
        #expect(NodeConfigurationTests.error { try NodeConfigurationTests.resolve(flags: ["masternoderelaydelay": ["-1"]]) } != nil)
    }
}
