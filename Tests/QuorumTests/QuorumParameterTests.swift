import ChainParams
import Quorums
import Testing

/// Quorum types from the networks' files, the checks on them, and the DKG calendar.
@Suite struct QuorumParameterTests {
    @Test func typeIDsOrderByNumber() {
        #expect(QuorumTypeID(rawValue: 1) < QuorumTypeID(rawValue: 2))
        #expect(QuorumTypeID(rawValue: 7).description == "quorum type 7")
    }

    @Test func everyNetworkHasAValidChainLockType() throws {
        for (network, size, threshold) in [("regtest", 5, 3), ("testnet", 10, 7), ("mainnet", 50, 30)] {
            let parameters = try QuorumParameters(try ChainParameters.builtIn(network))
            let type = try #require(parameters.chainLockType.flatMap { parameters[$0] }, "\(network)")
            #expect(type.size == size && type.threshold == threshold, "\(network)")
            #expect(type.schedule.dkgInterval == 24 && type.schedule.phaseBlocks == 2)
        }
    }

    @Test func badTypesAreNamed() throws {
        var chain = try ChainParameters.builtIn("regtest")
        func problem(_ edit: (inout ChainParameters.QuorumType) -> Void) -> String? {
            var copy = chain
            edit(&copy.quorums![0])
            do { _ = try QuorumParameters(copy); return nil } catch let error as QuorumParameterError { return error.problem } catch { return "\(error)" }
        }
        #expect(problem { $0.threshold = 6 }?.contains("threshold 6") == true)
        #expect(problem { $0.threshold = 0 }?.contains("threshold 0") == true)
        #expect(problem { $0.threshold = 1 }?.contains("threshold 1") == true, "FROST needs two signers")
        #expect(problem { $0.threshold = 2 }?.contains("above half the size") == true, "2 of 5: two disjoint groups could sign")
        #expect(problem { $0.threshold = 5 } == nil)
        #expect(problem { $0.size = 0 }?.contains("size 0") == true)
        #expect(problem { $0.phaseBlocks = 5 }?.contains("must fit in dkgInterval") == true)
        #expect(problem { $0.miningWindow = 17 }?.contains("must fit in dkgInterval") == true)
        #expect(problem { $0.miningWindow = 16 } == nil)
        #expect(problem { $0.activeCount = 0 }?.contains("activeCount") == true)
        #expect(problem { $0.dkgInterval = 400 }?.contains("listHistoryBlocks") == true)
        chain.chainLockQuorumType = 9
        #expect(throws: QuorumParameterError.self) { try QuorumParameters(chain) }
        chain.chainLockQuorumType = nil
        chain.quorums = nil
        #expect(try QuorumParameters(chain).types.isEmpty)
        chain.quorums = [try ChainParameters.builtIn("regtest").quorums![0], try ChainParameters.builtIn("regtest").quorums![0]]
        #expect(throws: QuorumParameterError.self) { try QuorumParameters(chain) }
    }

    @Test func calendarByHeight() throws {
        let schedule = try QuorumSchedule(dkgInterval: 24, phaseBlocks: 2, miningWindow: 8)
        #expect(!schedule.isDKGStart(0) && schedule.isDKGStart(24) && !schedule.isDKGStart(25) && schedule.isDKGStart(48))
        #expect(schedule.phase(at: 0) == .idle && schedule.phase(at: 23) == .idle)
        let expected: [(UInt64, QuorumSchedule.Phase)] = [
            (24, .contribution), (25, .contribution), (26, .complaint), (28, .justification), (30, .commitment), (31, .commitment),
            (32, .mining), (39, .mining), (40, .idle), (47, .idle), (48, .contribution),
        ]
        for (height, phase) in expected { #expect(schedule.phase(at: height) == phase, "height \(height)") }
        #expect(schedule.miningWindow(dkgStart: 24) == 32..<40)
        #expect(schedule.dkgStart(containing: 39) == 24 && schedule.dkgStart(containing: 23) == nil)
        #expect(throws: QuorumParameterError.self) { try QuorumSchedule(dkgInterval: 24, phaseBlocks: 0, miningWindow: 8) }
        #expect(throws: QuorumParameterError.self) { try QuorumSchedule(dkgInterval: 24, phaseBlocks: 2, miningWindow: 0) }
    }
}
