// `mining.submit`: the pool's bookkeeping around ShareCheck (which job, stale or not, seen
// before anywhere in the pool or not), one header hash per share, and a block accepted
// through the chain when a share also meets the block target. A share is credited at the
// difficulty of the target it met: the job's share difficulty, or the block's difficulty for
// a block that met only the block target (an easier block target than the share target, as
// on a young chain), so the accepted work stays an estimate of the hashes done.

import Foundation
import JSONRPC
import Primitives
import Stratum

extension StratumSession {
    enum SubmitOutcome {
        /// The answer now, and messages to send after it (a retarget).
        case answer(Result<JSON, StratumError>, [StratumMessage])
        /// A block is being accepted; its answer follows from the block queue.
        case pending
    }

    /// Checks a share. Lock held.
    func submit(_ params: [JSON], id: JSON) -> SubmitOutcome {
        let started = DispatchTime.now().uptimeNanoseconds
        func reject(_ kind: ShareRejection, _ message: String, worker: String?) -> SubmitOutcome {
            pool.accounting.rejected(kind, worker: worker.flatMap(account(of:)))
            return .answer(.failure(StratumError(kind.code, message)), [])
        }
        // The order of the checks is PROTOCOL 15.2's: the first failure is the answer.
        guard subscribed else { return reject(.notSubscribed, "not subscribed", worker: nil) }
        guard let name = params.first?.stringValue, workers.contains(name) else {
            let named = params.first?.stringValue.map { " '\(String($0.prefix(64)))'" } ?? ""
            return reject(.unauthorized, "unauthorized worker\(named)", worker: nil)
        }
        let share: ShareSubmission
        do { share = try ShareSubmission(params: params) } catch { return reject(.invalid, error.reason, worker: name) }
        guard let job = jobs.last(where: { $0.id == share.jobID }) else { return reject(.unknownJob, "job not found", worker: share.worker) }
        guard job.template.previousHash == pool.chain.snapshot.tipHash else { return reject(.stale, "stale share", worker: share.worker) }
        let key = StratumPool.ShareKey(time: share.time, nonce: share.nonce)
        let serial = job.template.serial
        switch pool.shareMemory(key, serial: serial, remember: false) {
        case .duplicate: return reject(.duplicate, "duplicate share", worker: share.worker)
        case .forgotten: return reject(.stale, "stale share: the job's template is no longer current", worker: share.worker)
        case .new: break
        }
        let count = sharesPerTemplate[serial, default: 0]
        if count >= pool.settings.sharesRememberedPerTemplate {
            return reject(.invalid, "\(count) shares on this job's template already: wait for the next job", worker: share.worker)
        }
        let unixNow = UInt64(Date().timeIntervalSince1970)
        let checked = ShareCheck.check(share, job: job.template.header, prefix: prefix, shareTarget: job.shareTarget,
                                       blockTarget: job.template.blockTarget, now: unixNow,
                                       maxFutureBlockTime: pool.parameters.maxFutureBlockTime)
        let good: GoodShare
        switch checked {
        case .success(let share): good = share
        case .failure(let failure): return reject(failure.kind, failure.message, worker: share.worker)
        }
        // Remembered only now (only good shares count); no other connection has this prefix meanwhile.
        guard pool.shareMemory(key, serial: serial, remember: true) == .new else {
            return reject(.duplicate, "duplicate share", worker: share.worker)
        }
        sharesPerTemplate[serial] = count + 1
        let workerAccount = account(of: share.worker) ?? share.worker
        let powLimit = pool.parameters.powLimit
        let credit = ProofOfWork.meets(good.hash, target: job.shareTarget)
            ? job.difficulty : ShareDifficulty.difficulty(target: job.template.blockTarget, powLimit: powLimit)
        var after = [StratumMessage]()
        if let changed = difficulty.recordShare(at: Self.monotonicSeconds()) {
            pool.accounting.difficultyChanged(workers: accounts, to: changed)
            after = difficultyAndJob()
        }
        let elapsed = Int64(DispatchTime.now().uptimeNanoseconds - started)
        guard good.isBlock else {
            accepted += 1
            pool.accounting.accepted(worker: workerAccount, difficulty: credit, block: false, unixTime: unixNow,
                                     now: Self.monotonicSeconds(), validationNanoseconds: elapsed)
            return .answer(.success(true), after)
        }
        let block = job.template.block(header: good.header)
        let followUp = after
        pool.blockQueue.async { [self] in
            let result = pool.acceptBlock(block, worker: share.worker)
            eventLoop.execute { [self] in
                let reply: StratumMessage
                switch result {
                case .success(let connected):
                    lock.withLock { accepted += 1 }
                    pool.accounting.accepted(worker: workerAccount, difficulty: credit, block: connected,
                                             unixTime: unixNow, now: Self.monotonicSeconds(), validationNanoseconds: elapsed)
                    reply = .response(id: id, result: true, error: nil)
                case .failure(let error):
                    pool.accounting.rejected(.invalid, worker: workerAccount)
                    reply = .response(id: id, result: .null, error: error)
                }
                send([reply] + followUp)
            }
        }
        return .pending
    }
}
