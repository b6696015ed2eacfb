// A member's secret share of one quorum on disk (datadir/quorums/<type>-<quorumHash>.share,
// mode 0600), so a restarted node keeps signing for the quorums it helped form. The
// operator seed is not stored: it comes from the operator key file at start.

import Ed25519
import FROST
import Foundation
import Primitives

enum QuorumShareFile {
    static let version: UInt8 = 1

    struct Invalid: Error, CustomStringConvertible {
        let path: String
        let reason: String
        var description: String { "quorum share file \(path): \(reason)" }
    }

    static func directory(datadir: String) -> String { (datadir as NSString).appendingPathComponent("quorums") }

    static func path(datadir: String, type: UInt8, quorumHash: Hash256) -> String {
        (directory(datadir: datadir) as NSString).appendingPathComponent("\(type)-\(quorumHash.hex).share")
    }

    /// version u8 | type u8 | quorumHash 32 | member u16 | threshold u16 | count u16 |
    /// signingShare 32 | groupKey 32 | count x (proTxHash 32 | operatorKey 32 | verificationShare 32).
    static func encode(_ signer: QuorumSigner) -> [UInt8] {
        var writer = ByteWriter(capacity: 110 + 96 * signer.memberIDs.count)
        writer.write(version)
        writer.write(signer.quorumType)
        writer.write(signer.quorumHash)
        for value in [signer.member, UInt16(signer.threshold), UInt16(signer.memberIDs.count)] {
            writer.write(UInt8(truncatingIfNeeded: value))
            writer.write(UInt8(truncatingIfNeeded: value >> 8))
        }
        writer.write(bytes: signer.keyPackage.signingShare.bytes)
        writer.write(bytes: signer.publicKeys.verifyingKey.encoded)
        for (index, id) in signer.memberIDs.enumerated() {
            writer.write(id)
            writer.write(bytes: signer.operatorKeys[index])
            let share = (try? Identifier(UInt16(index + 1))).flatMap { signer.publicKeys.verifyingShares[$0] }
            writer.write(bytes: share?.encoded ?? [UInt8](repeating: 0, count: 32))
        }
        return writer.bytes
    }

    static func decode(_ bytes: [UInt8], operatorSeed: [UInt8], path: String) throws -> QuorumSigner {
        func fail(_ reason: String) -> Invalid { Invalid(path: path, reason: reason) }
        var reader = ByteReader(bytes, path: "share")
        func u16(_ field: String) throws -> UInt16 {
            let two = try reader.readBytes(2, field)
            return UInt16(two[0]) | UInt16(two[1]) << 8
        }
        guard try reader.readUInt8("version") == version else { throw fail("unknown version") }
        let type = try reader.readUInt8("type")
        let quorumHash = try reader.readHash("quorum_hash")
        let member = try u16("member"), threshold = try u16("threshold"), count = try u16("count")
        guard count >= 2, count <= 400, member >= 1, member <= count, threshold >= 2, threshold <= count else {
            throw fail("member \(member), threshold \(threshold) or count \(count) out of range")
        }
        guard let signingShare = Ed25519.Scalar(canonical: try reader.readBytes(32, "signing_share")),
              let groupKey = Ed25519.Point(encoded: try reader.readBytes(32, "group_key")) else { throw fail("bad share or group key") }
        var ids = [Hash256](), keys = [[UInt8]](), shares = [Identifier: Ed25519.Point]()
        for index in 1...count {
            ids.append(try reader.readHash("members[\(index)].id"))
            keys.append(try reader.readBytes(32, "members[\(index)].operator_key"))
            guard let point = Ed25519.Point(encoded: try reader.readBytes(32, "members[\(index)].verification_share")) else {
                throw fail("member \(index)'s verification share is not a point")
            }
            shares[try Identifier(index)] = point
        }
        try reader.expectEnd("end")
        guard Ed25519.publicKey(seed: operatorSeed) == keys[Int(member) - 1] else {
            throw fail("written for another operator key than this node's")
        }
        let identifier = try Identifier(member)
        guard let own = shares[identifier] else { throw fail("no verification share for member \(member)") }
        let keyPackage = KeyPackage(identifier: identifier, signingShare: signingShare, verifyingShare: own, verifyingKey: groupKey,
                                    minSigners: Int(threshold))
        let publicKeys = try PublicKeyPackage(verifyingShares: shares, verifyingKey: groupKey, minSigners: Int(threshold))
        return QuorumSigner(quorumType: type, quorumHash: quorumHash, member: member, memberIDs: ids, operatorKeys: keys,
                            operatorSeed: operatorSeed, keyPackage: keyPackage, publicKeys: publicKeys)
    }

    /// Writes `signer`'s share with mode 0600 (replacing an older file of the same quorum).
    static func save(_ signer: QuorumSigner, datadir: String) throws {
        let directory = directory(datadir: datadir)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let path = path(datadir: datadir, type: signer.quorumType, quorumHash: signer.quorumHash)
        let temporary = path + ".tmp"
        FileManager.default.createFile(atPath: temporary, contents: Data(encode(signer)), attributes: [.posixPermissions: 0o600])
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
        try FileManager.default.moveItem(atPath: temporary, toPath: path)
    }

    /// Every share in the directory; unreadable files are reported, not fatal.
    static func loadAll(datadir: String, operatorSeed: [UInt8]) -> (signers: [QuorumSigner], problems: [String]) {
        let directory = directory(datadir: datadir)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return ([], []) }
        var signers = [QuorumSigner](), problems = [String]()
        for name in names.sorted() where name.hasSuffix(".share") {
            let path = (directory as NSString).appendingPathComponent(name)
            do {
                guard let data = FileManager.default.contents(atPath: path) else { throw Invalid(path: path, reason: "unreadable") }
                signers.append(try decode(Array(data), operatorSeed: operatorSeed, path: path))
            } catch {
                problems.append("\(error)")
            }
        }
        return (signers, problems)
    }

    /// The blocks this member signed chain locks for, by height: (height u64 LE | hash 32) each.
    static func signedBlocksPath(datadir: String) -> String {
        (directory(datadir: datadir) as NSString).appendingPathComponent("chainlock-signed.dat")
    }

    static func saveSignedBlocks(_ blocks: [UInt64: Hash256], datadir: String) throws {
        try FileManager.default.createDirectory(atPath: directory(datadir: datadir), withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        var writer = ByteWriter(capacity: 40 * blocks.count)
        for (height, hash) in blocks.sorted(by: { $0.key < $1.key }) {
            writer.write(height)
            writer.write(hash)
        }
        try Data(writer.bytes).write(to: URL(fileURLWithPath: signedBlocksPath(datadir: datadir)), options: .atomic)
    }

    /// What `saveSignedBlocks` wrote; empty when the file is missing or damaged (a damaged
    /// record only loses the guard for heights already past).
    static func loadSignedBlocks(datadir: String) -> [UInt64: Hash256] {
        guard let data = FileManager.default.contents(atPath: signedBlocksPath(datadir: datadir)), data.count % 40 == 0 else { return [:] }
        var reader = ByteReader(Array(data), path: "chainlock-signed")
        var blocks = [UInt64: Hash256]()
        for _ in 0..<(data.count / 40) {
            guard let height = try? reader.readUInt64("height"), let hash = try? reader.readHash("hash") else { return [:] }
            blocks[height] = hash
        }
        return blocks
    }

    static func remove(datadir: String, type: UInt8, quorumHash: Hash256) {
        try? FileManager.default.removeItem(atPath: path(datadir: datadir, type: type, quorumHash: quorumHash))
    }
}
