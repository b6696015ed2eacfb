/// The DKG calendar of one quorum type (PROTOCOL section 17.1). A DKG starts at every height
/// h0 > 0 with h0 % dkgInterval == 0; its phases follow by height, each `phaseBlocks` long:
/// contribution [h0, h0+p), complaint [h0+p, h0+2p), justification [h0+2p, h0+3p),
/// commitment [h0+3p, h0+4p); then the final commitment may be mined in
/// [h0+4p, h0+4p+miningWindow). All of it ends by the next start (checked), so heights map
/// to at most one DKG.
public struct QuorumSchedule: Sendable, Equatable {
    public enum Phase: Sendable, Equatable {
        case contribution, complaint, justification, commitment, mining
        /// Between the mining window's end and the next DKG (or before the first one).
        case idle
    }

    public let dkgInterval: UInt64
    public let phaseBlocks: UInt64
    public let miningWindow: UInt64

    public init(dkgInterval: UInt64, phaseBlocks: UInt64, miningWindow: UInt64, typeName: String = "") throws {
        func fail(_ problem: String) -> QuorumParameterError { QuorumParameterError(quorumType: typeName, problem: problem) }
        guard phaseBlocks >= 1 else { throw fail("phaseBlocks must be at least 1") }
        guard miningWindow >= 1 else { throw fail("miningWindow must be at least 1") }
        // Small numbers: the sums below cannot overflow once these hold.
        guard dkgInterval <= 1 << 32, phaseBlocks <= 1 << 28, miningWindow <= 1 << 30 else { throw fail("dkgInterval, phaseBlocks or miningWindow is absurdly large") }
        guard 4 * phaseBlocks + miningWindow <= dkgInterval else {
            throw fail("the four phases and the mining window (\(4 * phaseBlocks + miningWindow) blocks) must fit in dkgInterval (\(dkgInterval))")
        }
        self.dkgInterval = dkgInterval
        self.phaseBlocks = phaseBlocks
        self.miningWindow = miningWindow
    }

    public func isDKGStart(_ height: UInt64) -> Bool { height > 0 && height % dkgInterval == 0 }

    /// The start of the DKG whose calendar `height` falls in (nil before the first one).
    public func dkgStart(containing height: UInt64) -> UInt64? {
        let start = height - height % dkgInterval
        return start > 0 ? start : nil
    }

    public func phase(at height: UInt64) -> Phase {
        guard let start = dkgStart(containing: height) else { return .idle }
        let offset = height - start
        switch offset / phaseBlocks {
        case 0: return .contribution
        case 1: return .complaint
        case 2: return .justification
        case 3: return .commitment
        default: return offset - 4 * phaseBlocks < miningWindow ? .mining : .idle
        }
    }

    /// Heights at which the commitment of the DKG started at `start` may be mined.
    public func miningWindow(dkgStart start: UInt64) -> Range<UInt64> {
        let first = start &+ 4 * phaseBlocks
        return first..<(first &+ miningWindow)
    }
}
