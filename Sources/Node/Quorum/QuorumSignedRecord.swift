import Foundation
import Primitives

/// Every (quorum type, request id) this member has started signing, with its message hash
/// (docs/protocol/quorum-p2p.md section 3, the conflict rule): one request id signs one message,
/// so neither `quorum sign` nor two forks can make a member sign two chain locks at one height.
/// Kept on disk (`<datadir>/quorums/signed-requests.dat`: type u8 | requestId 32 |
/// messageHash 32 per entry, oldest first, the last `capacity`) and written durably *before*
/// the member's first commitment goes out; without a datadir it lives in memory (tests).
final class QuorumSignedRecord {
    struct Request: Hashable {
        let type: UInt8
        let requestID: Hash256
    }

    struct Refusal: Error, Equatable, CustomStringConvertible {
        let reason: String
        var description: String { reason }
    }

    /// A chain lock per block for about a week of 2.5-minute blocks, plus other requests.
    static let capacity = 8_192
    static let entryLength = 65

    let path: String?
    private var messages: [Request: Hash256] = [:]
    private var order: [Request] = []
    /// Why the file on disk could not be read at start (nil when it was read or absent). While
    /// set the record cannot vouch for what was signed before, so the node refuses to sign.
    private(set) var damage: String?

    init(datadir: String?) {
        path = datadir.map { (QuorumShareFile.directory(datadir: $0) as NSString).appendingPathComponent("signed-requests.dat") }
        guard let path, FileManager.default.fileExists(atPath: path) else { return }
        guard let data = FileManager.default.contents(atPath: path) else {
            damage = "\(path) exists but cannot be read"
            return
        }
        guard data.count % Self.entryLength == 0 else {
            damage = "\(path) is damaged (\(data.count) bytes, not a whole number of \(Self.entryLength)-byte entries)"
            return
        }
        let bytes = Array(data)
        for start in stride(from: 0, to: bytes.count, by: Self.entryLength) {
            let requestID = Hash256(bytes: Array(bytes[start + 1 ..< start + 33]))
            let message = Hash256(bytes: Array(bytes[start + 33 ..< start + 65]))
            guard let requestID, let message else { continue }
            insert(Request(type: bytes[start], requestID: requestID), message)
        }
    }

    func messageHash(of request: Request) -> Hash256? { messages[request] }

    /// The damaged file is no longer a reason to refuse (the node waited out its window); the
    /// next `record` replaces it.
    func acceptDamage() { damage = nil }

    /// Notes that this member starts signing `message` under `request`, on disk first.
    /// Throws (and records nothing) for another message under a request already noted, or
    /// when the record cannot be written.
    func record(_ request: Request, message: Hash256) throws(Refusal) {
        if let damage { throw Refusal(reason: "the record of signed requests is unusable: \(damage)") }
        if let known = messages[request] {
            guard known == message else {
                throw Refusal(reason: "request \(request.requestID.hex) of quorum type \(request.type) was already signed for message \(known.hex)")
            }
            return
        }
        let before = (messages, order)
        insert(request, message)
        guard let path else { return }
        do {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try DurableFile.write(encoded(), to: path)
        } catch {
            (messages, order) = before
            throw Refusal(reason: "cannot record the request before signing it: \(error)")
        }
    }

    private func insert(_ request: Request, _ message: Hash256) {
        if messages[request] == nil { order.append(request) }
        messages[request] = message
        if order.count > Self.capacity {
            messages[order.removeFirst()] = nil
        }
    }

    private func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: order.count * Self.entryLength)
        for request in order {
            writer.write(request.type)
            writer.write(request.requestID)
            writer.write(messages[request] ?? .zero)
        }
        return writer.bytes
    }
}
