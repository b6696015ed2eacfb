@testable import DKG
import Ed25519
import Testing
import TestSupport

@Suite struct DKGRunTests {
    /// Checks what every run must give: honest members agree (same Q, key, vector hash) or all
    /// fail alike; honest members are never disqualified; any `threshold` honest shares
    /// interpolate to the group secret; every share matches its verification share.
    static func checkAgreement(_ simulation: DKGSimulation, _ outcomes: [DKGOutcome], expectSuccess: Bool) throws {
        let honest = simulation.honestIndices
        let reference = outcomes[honest[0]]
        for index in honest {
            switch (reference, outcomes[index]) {
            case let (.success(a), .success(b)):
                #expect(a.qualified == b.qualified && a.groupKey == b.groupKey && a.verificationVectorHash == b.verificationVectorHash)
                #expect(a.verificationShares == b.verificationShares && a.faults == b.faults)
            case let (.failure(a), .failure(b)):
                #expect(a == b)
            default:
                Issue.record("honest members \(honest[0] + 1) and \(index + 1) disagree on success")
            }
        }
        guard expectSuccess else { return }
        let result = try #require(reference.result, "the run failed: \(reference)")
        let expectedQ = simulation.behaviors.indices.filter { !simulation.behaviors[$0].isDisqualified }.map { UInt16($0 + 1) }
        #expect(result.qualified == expectedQ, "behaviors \(simulation.behaviors)")
        #expect(result.groupKey == result.verificationVector[0] && result.verificationVector.count == simulation.session.threshold)
        for index in honest {
            let share = try #require(outcomes[index].result).signingShare
            #expect(Ed25519.Point.base(times: share) == result.verificationShare(of: UInt16(index + 1)))
        }
        let signers = honest.prefix(simulation.session.threshold).map { (UInt16($0 + 1), outcomes[$0].result!.signingShare) }
        #expect(Ed25519.Point.base(times: try interpolateAtZero(signers)) == result.groupKey)
        // threshold - 1 shares interpolate to something else (the threshold is really t).
        #expect(Ed25519.Point.base(times: try interpolateAtZero(Array(signers.dropLast()))) != result.groupKey)
    }

    @Test func honestRunsAgreeOnOneKey() throws {
        var generator = SeededGenerator(testSeed: 0xD6C0_0001)
        for n in 5...10 {
            let threshold = Int.random(in: 2...n, using: &generator)
            var simulation = try DKGSimulation(threshold: threshold, behaviors: Array(repeating: .honest, count: n), using: &generator)
            let outcomes = try simulation.run(using: &generator)
            try Self.checkAgreement(simulation, outcomes, expectSuccess: true)
            #expect(outcomes[0].result?.qualified.count == n)
            #expect(outcomes[0].result?.faults.isEmpty == true)
        }
    }

    @Test func eachMisbehaviourIsHandled() throws {
        var generator = SeededGenerator(testSeed: 0xD6C0_0002)
        let cases: [Behavior] = [.silent, .badShares(to: [1, 3]), .badSharesBadJustification(to: [2]),
                                 .badSharesNoJustification(to: [1, 2, 3]), .badProof, .commitmentCount(delta: 1),
                                 .commitmentCount(delta: -1), .doubleContribution, .falseComplaint(against: [1, 2])]
        for behavior in cases {
            var behaviors: [Behavior] = Array(repeating: .honest, count: 6)
            behaviors[4] = behavior
            var simulation = try DKGSimulation(threshold: 4, behaviors: behaviors, using: &generator)
            let outcomes = try simulation.run(using: &generator)
            try Self.checkAgreement(simulation, outcomes, expectSuccess: true)
            let fault = outcomes[0].result?.faults[5]
            switch behavior {
            case .silent: #expect(fault == .noContribution)
            case .badSharesBadJustification: #expect(fault == .invalidRevealedShare(complainer: 2))
            case .badSharesNoJustification: #expect(fault == .unansweredComplaint(complainer: 1))
            case .badProof: #expect(fault == .invalidProofOfKnowledge)
            case .commitmentCount(1): #expect(fault == .wrongCommitmentCount(got: 5, expected: 4))
            case .commitmentCount(-1): #expect(fault == .wrongCommitmentCount(got: 3, expected: 4))
            case .doubleContribution:
                guard case let .equivocation(evidence)? = fault else { Issue.record("no equivocation: \(String(describing: fault))"); break }
                let first = try DKGContribution(decoding: evidence.first), second = try DKGContribution(decoding: evidence.second)
                let key = simulation.session.members[4].operatorKey
                #expect(first != second && first.hasValidSignature(operatorKey: key) && second.hasValidSignature(operatorKey: key))
            default: #expect(fault == nil, "\(behavior)")
            }
        }
    }

    /// Random quorums with 1 ... n - threshold misbehaving members of random kinds.
    @Test func maliciousMinoritiesNeverSplitHonestMembers() throws {
        var generator = SeededGenerator(testSeed: 0xD6C0_0003)
        for _ in 0..<12 {
            let n = Int.random(in: 5...10, using: &generator)
            let threshold = Int.random(in: 2...(n - 1), using: &generator)
            let maliciousCount = Int.random(in: 1...(n - threshold), using: &generator)
            let malicious = Array((1...n).shuffled(using: &generator).prefix(maliciousCount))
            let honestIds = (1...n).filter { !malicious.contains($0) }.map(UInt16.init)
            var behaviors: [Behavior] = Array(repeating: .honest, count: n)
            for id in malicious {
                let victims = Array(honestIds.shuffled(using: &generator).prefix(Int.random(in: 1...honestIds.count, using: &generator))).sorted()
                let choices: [Behavior] = [.silent, .badShares(to: victims), .badSharesBadJustification(to: victims),
                                           .badSharesNoJustification(to: victims), .badProof, .commitmentCount(delta: 1),
                                           .commitmentCount(delta: -1), .doubleContribution, .falseComplaint(against: victims)]
                behaviors[id - 1] = choices.randomElement(using: &generator)!
            }
            var simulation = try DKGSimulation(threshold: threshold, behaviors: behaviors, using: &generator)
            let outcomes = try simulation.run(using: &generator)
            try Self.checkAgreement(simulation, outcomes, expectSuccess: true)
        }
    }

    /// Fewer than threshold qualified members: every honest member sees the same failure.
    @Test func tooFewQualifiedFailsEverywhere() throws {
        var generator = SeededGenerator(testSeed: 0xD6C0_0004)
        let behaviors: [Behavior] = [.honest, .honest, .silent, .badProof, .doubleContribution]
        var simulation = try DKGSimulation(threshold: 3, behaviors: behaviors, using: &generator)
        let outcomes = try simulation.run(using: &generator)
        try Self.checkAgreement(simulation, outcomes, expectSuccess: false)
        guard case let .failure(failure) = outcomes[0] else { Issue.record("expected a failed round"); return }
        #expect(failure.qualified == [1, 2] && failure.threshold == 3)
        #expect(failure.faults[3] == .noContribution && failure.faults[4] == .invalidProofOfKnowledge)
    }
}
