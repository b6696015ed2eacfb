// What makes a share good, apart from the server's bookkeeping (which jobs exist, which are
// stale, which shares were seen): the nonce is the connection's, the time is one the chain
// would take, and the header hash meets the share target (and maybe the block target).

import Primitives

/// Why a share was refused; each kind is counted apart (getstratuminfo, metrics).
public enum ShareRejection: String, Sendable, CaseIterable, Codable {
    /// The job was built on a block that is no longer the tip.
    case stale
    /// No such job was ever sent to this connection (or it was forgotten long ago).
    case unknownJob = "unknown-job"
    case duplicate
    case lowDifficulty = "low-difficulty"
    /// Undecodable params, a nonce outside the connection's prefix, a time the chain would refuse.
    case invalid
    /// A worker this connection did not authorize, or no authorize at all.
    case unauthorized
    case notSubscribed = "not-subscribed"

    public var code: StratumErrorCode {
        switch self {
        case .stale, .unknownJob: .jobNotFound
        case .duplicate: .duplicateShare
        case .lowDifficulty: .lowDifficultyShare
        case .invalid: .other
        case .unauthorized: .unauthorizedWorker
        case .notSubscribed: .notSubscribed
        }
    }
}

/// A share that passed: its hash, and whether it is also a block.
public struct GoodShare: Sendable, Equatable {
    public var header: BlockHeader
    public var hash: Hash256
    public var isBlock: Bool
}

public enum ShareCheck {
    /// Checks `submission` against `job` (whose header carries the block target in `bits`).
    /// `now` is the server's clock; the time may roll forward from the job's, up to what the
    /// chain accepts (`maxFutureBlockTime` ahead of `now`), never back.
    public static func check(_ submission: ShareSubmission, job: BlockHeader, prefix: NoncePrefix,
                             shareTarget: UInt256, blockTarget: UInt256,
                             now: UInt64, maxFutureBlockTime: UInt64) -> Result<GoodShare, ShareFailure> {
        guard prefix.owns(submission.nonce) else {
            return .failure(ShareFailure(.invalid, "nonce \(ShareSubmission.hex64(submission.nonce)) is outside this connection's prefix \(prefix.hex)"))
        }
        guard submission.time >= job.time else {
            return .failure(ShareFailure(.invalid, "time \(submission.time) is before the job's \(job.time)"))
        }
        let (latest, overflow) = now.addingReportingOverflow(maxFutureBlockTime)
        guard overflow || submission.time <= latest else {
            return .failure(ShareFailure(.invalid, "time \(submission.time) is more than \(maxFutureBlockTime) s ahead of the server's clock"))
        }
        var header = job
        header.time = submission.time
        header.nonce = submission.nonce
        let hash = header.hash
        let isBlock = ProofOfWork.meets(hash, target: blockTarget)
        // A block is worth more than any share, whatever the connection's share target is.
        guard isBlock || ProofOfWork.meets(hash, target: shareTarget) else {
            return .failure(ShareFailure(.lowDifficulty, "low difficulty share: hash \(hash.hex) is above the share target"))
        }
        return .success(GoodShare(header: header, hash: hash, isBlock: isBlock))
    }
}

/// A refusal: its kind (for counting) and the message the miner gets.
public struct ShareFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public var kind: ShareRejection
    public var message: String

    public init(_ kind: ShareRejection, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var error: StratumError { StratumError(kind.code, message) }
    public var description: String { "\(kind.rawValue): \(message)" }
}
