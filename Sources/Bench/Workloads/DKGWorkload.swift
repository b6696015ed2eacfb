import DKG
import Ed25519
import Primitives

/// `rusty bench` section dkg: one quorum's whole DKG (mainnet shape: 50 members, threshold
/// 30), every member simulated in this process over a perfect broadcast: contributions with
/// HPKE-encrypted shares, every signature, proof of knowledge, decryption and Feldman check,
/// and the result. Time per phase per member, and in total. One thread.
enum DKGWorkload: BenchWorkload {
    static let section = BenchSectionName.dkg

    static func shape(_ mode: BenchMode) -> (members: Int, threshold: Int, runs: Int) {
        switch mode {
        case .tiny: return (5, 3, mode.runs)
        case .quick: return (50, 30, 1)
        case .full: return (50, 30, 3)
        }
    }

    struct PhaseTimes {
        var contribute = 0.0, receive = 0.0, checkShares = 0.0, finish = 0.0
        var total: Double { contribute + receive + checkShares + finish }
    }

    static func run(_ r: Recorder) throws {
        let (members, threshold, runs) = shape(r.mode)
        var times: [PhaseTimes] = []
        for run in 0..<runs {
            r.options.progress("bench: dkg: run \(run + 1) of \(runs), \(members) members, threshold \(threshold)")
            times.append(try oneRun(members: members, threshold: threshold, seed: UInt64(run + 1)))
        }
        let label = "\(members) members, threshold \(threshold)"
        let perMember = { (value: Double) in value / Double(members) * 1_000 }
        r.add("whole DKG, \(label)", backend: "scalar", unit: "s", values: times.map(\.total))
        r.add("per member, \(label)", backend: "scalar", unit: "ms", values: times.map { perMember($0.total) })
        r.add("contribution per member (polynomial, commitments, proof, \(members - 1) HPKE seals)", backend: "scalar",
              unit: "ms", values: times.map { perMember($0.contribute) })
        r.add("receive \(members) contributions per member (signatures, proofs of knowledge)", backend: "scalar",
              unit: "ms", values: times.map { perMember($0.receive) })
        r.add("open and check \(members - 1) shares per member (HPKE, Feldman)", backend: "scalar",
              unit: "ms", values: times.map { perMember($0.checkShares) })
        r.add("result per member (qualified set, verification vector, \(members) verification shares)", backend: "scalar",
              unit: "ms", values: times.map { perMember($0.finish) })
    }

    static func oneRun(members count: Int, threshold: Int, seed: UInt64) throws -> PhaseTimes {
        var generator = SeededGenerator(seed: seed)
        let seeds = (0..<count).map { _ in generator.bytes(32) }
        let encryptionSecrets = (0..<count).map { _ in generator.bytes(32) }
        let session = try DKGSession(quorumType: 1, quorumHash: Hash256(bytes: generator.bytes(32))!, threshold: threshold,
                                     operatorKeys: seeds.map { Ed25519.publicKey(seed: $0) },
                                     encryptionKeys: try encryptionSecrets.map { try DKGMemberKeys.encryptionKey(secret: $0) })
        var times = PhaseTimes()
        var participants: [DKGParticipant] = []
        times.contribute = try Recorder.time {
            for index in 0..<count {
                participants.append(try DKGParticipant(session: session, identifier: UInt16(index + 1), operatorSeed: seeds[index],
                                                       encryptionSecret: encryptionSecrets[index], using: &generator))
            }
        }
        let contributions = participants.map(\.contribution)
        times.receive = try Recorder.time {
            for index in participants.indices { for message in contributions { try participants[index].receive(message) } }
        }
        times.checkShares = try Recorder.time {
            for index in participants.indices {
                guard try participants[index].closeContributionPhase() == nil else {
                    throw BenchError.verificationFailed("dkg: member \(index + 1) complained in an honest run")
                }
            }
        }
        var keys: Set<[UInt8]> = []
        times.finish = try Recorder.time {
            for index in participants.indices {
                _ = try participants[index].closeComplaintPhase()
                guard case let .success(result) = try participants[index].finish(), result.qualified.count == count else {
                    throw BenchError.verificationFailed("dkg: member \(index + 1) did not qualify every member")
                }
                keys.insert(result.groupKey.encoded)
            }
        }
        guard keys.count == 1 else { throw BenchError.verificationFailed("dkg: members disagree on the group key") }
        return times
    }
}
