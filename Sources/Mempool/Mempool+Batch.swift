// Batched acceptance: a batch's transactions are checked in order against chain state, pool
// and the batch's earlier transactions (staged, not yet in the pool), holding the chain's
// writer once per chunk; every staged signature is then verified as one batch on the chain's
// verifier, and the chunk is committed in order.

import ChainState
import Consensus
import Ed25519
import Foundation
import Primitives

extension Mempool {
    /// How acceptance treats a batch, by where it came from.
    struct AdmissionOptions {
        /// Add accepted transactions to the pool (false: testmempoolaccept).
        var add = true
        /// Judge conflicts with the pool as replacements (false: refuse them "txn-mempool-conflict").
        var replace = true
        /// Enforce the pool's dynamic minimum fee and its size limit (Core's !bypass_limits).
        var limits = true
        /// Feed the fee estimator (relay, RPC, wallet; not mempool.dat, not a reorganisation).
        var estimate = true
        /// Record lifecycle events (validated, mempool, rejected) and remember rejections.
        var record = true
        /// Record missing-inputs rejections too (the relay path decides itself: orphans are held, not rejected).
        var recordMissingInputs = true

        static let submission = AdmissionOptions()
        static let relay = AdmissionOptions(recordMissingInputs: false)
        static let reload = AdmissionOptions(estimate: false)
        static let test = AdmissionOptions(add: false, estimate: false, record: false)
        static let reorganization = AdmissionOptions(replace: false, limits: false, estimate: false, record: false)
    }

    /// One transaction's verdict; for missing inputs also the parents (txids) that neither
    /// the chain nor the pool holds.
    struct Admission {
        var result: MempoolResult
        var missingParents: [Hash256] = []
    }

    /// A transaction with what every check needs computed once.
    struct Submitted {
        var transaction: Transaction
        var txid: Hash256
        var wtxid: Hash256
        var size: Int

        /// One witness stack per input: encoding and ids require it (a decoded transaction
        /// always has it; one built in memory may not, and is refused by `contextFreeRejection`).
        var hasWitnessPerInput: Bool

        init(_ transaction: Transaction) {
            self.transaction = transaction
            hasWitnessPerInput = transaction.witnesses.count == transaction.inputs.count
            if hasWitnessPerInput {
                (txid, wtxid) = transaction.ids
                size = transaction.encoded.count
            } else {
                txid = transaction.txid
                wtxid = txid
                size = 0
            }
        }
    }

    /// Most transactions checked under one hold of the chain's writer: a block waiting to
    /// connect waits for at most one chunk.
    static let chunkLimit = 1_000

    /// Checks `transactions` in order and, with `options.add`, adds those that pass; one
    /// verdict per transaction. A transaction may spend outputs of earlier ones of the batch.
    /// `times[i]` is the entry time to record (mempool.dat), `now()` when nil or short.
    /// Call holding `admission` (not `lock`).
    func admitBatch(_ transactions: [Transaction], times: [UInt64]?, options: AdmissionOptions) -> [Admission] {
        let candidates = transactions.map(Submitted.init)
        var verdicts = candidates.map { candidate -> Admission? in
            // Quorum commitments and governance votes are judged apart (Mempool+Quorums,
            // Mempool+Governance): no fee, no inputs.
            switch candidate.transaction.specialType {
            case .quorumCommitment: return Admission(result: admitQuorumCommitment(candidate.transaction, add: options.add))
            case .governanceVote: return Admission(result: admitGovernanceVote(candidate.transaction, add: options.add))
            default: return contextFreeRejection(candidate).map { Admission(result: .rejected($0)) }
            }
        }
        if options.add && options.limits {
            // The expiry order makes this O(expired x log pool).
            _ = expire(time: now())
        }
        var next = 0
        while next < candidates.count {
            // A chunk judges at least one transaction (a cut needs something staged before it);
            // `max` keeps the loop finite whatever happens.
            next = max(next + 1, admitChunk(candidates, from: next, times: times, options: options, verdicts: &verdicts))
        }
        // Every verdict is set by then: a chunk stops only after judging what it passed over.
        var admissions = zip(candidates, verdicts).map { candidate, verdict in
            verdict ?? Admission(result: .rejected(MempoolRejection("chain-state-error", "\(candidate.txid.hex) was not judged")))
        }
        if options.add && options.limits {
            // Trimmed once per batch: whatever of the batch (any chunk) the trim evicted was
            // not kept after all.
            let evicted = Set(limitSize(time: now()).map(\.txid))
            if !evicted.isEmpty {
                for (position, admission) in admissions.enumerated() {
                    guard case .accepted(let entry) = admission.result, evicted.contains(entry.txid) else { continue }
                    admissions[position] = Admission(result: .rejected(MempoolRejection(
                        "mempool full", "evicted at once: the pool is at its \(policy.maxPoolBytes)-byte limit")))
                }
            }
        }
        if options.record {
            let time = now()
            lock.withLock {
                for (candidate, admission) in zip(candidates, admissions) {
                    guard let rejection = admission.result.rejection else { continue }
                    if rejection.kind == .missingInputs && !options.recordMissingInputs { continue }
                    recordRejection(txid: candidate.txid, wtxid: candidate.wtxid, rejection, time: time,
                                    outbidBy: losingConflict(candidate.transaction, rejection))
                }
            }
        }
        return admissions
    }

    /// Remembers a refusal (not for already-known transactions): for `rejection(txid:)`, the
    /// lifecycle, and, for a transaction no later block can make valid, relay's
    /// recent-rejects filter by wtxid (not fetched again until the next block clears it) and,
    /// when no witness could change the verdict, the txid (its children are refused, not held).
    /// The lifecycle keeps a truthful end (replaced, included, expired) over a later
    /// rejection of a copy, and a pooled transaction's state over a rejected twin.
    /// Call holding `lock`.
    /// `outbidBy`: a pooled transaction it lost to under the replacement rules; its lifecycle
    /// then ends `replaced` by that one, as on the nodes that saw it replaced, rather than
    /// `rejected` (the rule stays in `rejection(txid:)`).
    func recordRejection(txid: Hash256, wtxid: Hash256, _ rejection: MempoolRejection, time: UInt64, outbidBy: Hash256? = nil) {
        guard rejection.kind != .alreadyInPool && rejection.kind != .alreadyInChain else { return }
        rejections.set(txid, (rejection, time))
        if rejection.kind == .invalid && !Self.reconsiderableRules.contains(rejection.rule) {
            rejectedWtxids.set(wtxid, true)
            if !Self.isWitnessDependent(rejection.rule) { invalidTxids.set(txid, true) }
        }
        guard pool[txid] == nil, !hasDecisiveEnd(txid) else { return }
        if let outbidBy {
            record(txid, TransactionEvent(state: .replaced, time: time, detail: outbidBy.hex))
        } else {
            record(txid, TransactionEvent(state: .rejected, time: time, detail: rejection.rule))
        }
    }

    /// The pooled transaction `transaction` conflicts with, when it was refused for paying
    /// too little to replace it ("insufficient fee"). Call holding `lock`.
    func losingConflict(_ transaction: Transaction, _ rejection: MempoolRejection) -> Hash256? {
        guard rejection.rule == "insufficient fee" else { return nil }
        for input in transaction.inputs {
            if let spender = spenders[input.previousOutput] { return spender }
        }
        return nil
    }

    /// A failure of this node's storage is not the transaction's fault; a full pool or its
    /// raised minimum fee may pass later (Core's "reconsiderable" failures).
    static let reconsiderableRules: Set<String> = ["chain-state-error", "mempool full", "mempool min fee not met"]

    /// The rule refusing a transaction without one witness stack per input.
    static let witnessCountRule = "bad-witness-count"

    /// Whether a transaction with the same txid but another witness could pass `rule`:
    /// script execution, witness shape and size (fees are per encoded byte, witness included).
    static func isWitnessDependent(_ rule: String) -> Bool {
        rule.hasPrefix("script-") || rule.contains("witness") || rule == "tx-size" || rule.contains("fee")
    }

    /// Whether `txid`'s lifecycle last ended replaced, expired, or included in a block of the
    /// active chain: a later rejection of a copy does not override that. Call holding `lock`.
    func hasDecisiveEnd(_ txid: Hash256) -> Bool {
        guard let last = recordedHistory(txid)?.last(where: { $0.state != .validated && $0.state != .disconnected && $0.state != .rejected })
        else { return false }
        switch last.state {
        case .replaced, .expired:
            return true
        case .included:
            guard let block = Hash256(hex: last.detail) else { return false }
            return chain.snapshot.activeHeight(of: block) != nil
        case .mempool, .pending, .removed, .rejected, .validated, .disconnected:
            return false
        }
    }

    /// The checks needing neither chain nor pool, in Bitcoin Core's order.
    func contextFreeRejection(_ candidate: Submitted) -> MempoolRejection? {
        let transaction = candidate.transaction
        guard candidate.hasWitnessPerInput else {
            return MempoolRejection(Self.witnessCountRule, "\(transaction.witnesses.count) witness stacks for \(transaction.inputs.count) inputs")
        }
        guard !transaction.isCoinbase else {
            return MempoolRejection("coinbase", "a coinbase is only valid in a block", isConsensusFailure: true)
        }
        do {
            try TransactionRules.checkContextFree(transaction, isCoinbase: false)
        } catch {
            let detail = error.input.map { "input \($0): " + error.detail } ?? error.detail
            return MempoolRejection(error.rule.rawValue, detail, isConsensusFailure: true)
        }
        do {
            try policy.checkStandard(transaction, size: candidate.size)
        } catch {
            return error
        }
        return nil
    }

    /// Judges candidates from `start` on (those without a verdict) until the chunk is full or
    /// one must wait for the staged ones to be committed (see `StageOutcome.cut`); verifies
    /// the staged signatures and commits. Returns where the next chunk starts.
    private func admitChunk(_ candidates: [Submitted], from start: Int, times: [UInt64]?, options: AdmissionOptions,
                            verdicts: inout [Admission?]) -> Int {
        let staging = Staging()
        let time = now()
        let end = min(candidates.count, start + Self.chunkLimit)
        var next = start
        let minimumFeeRate = options.limits ? currentMinimumFeeRate(time: time) : 0
        let verifier = chain.withWriter { state -> any SignatureBatchVerifier in
            let tip = state.tip
            let active = state.active
            let context = ContextualRules.Context(
                height: tip.height + 1, medianTimePast: state.medianTimePast(tip), blockHash: .zero,
                medianTimePastBefore: { height in
                    let index = Int(min(height, UInt64(active.count))) - 1
                    return index >= 0 ? state.medianTimePast(active[index]) : 0
                })
            // One read of the chunk's inputs from disk (an optimisation: a failure here shows
            // again, per transaction, in the checks).
            var inputs = [OutPoint]()
            for position in start..<end where verdicts[position] == nil {
                for input in candidates[position].transaction.inputs { inputs.append(input.previousOutput) }
            }
            try? state.utxo.prefetch(inputs)
            let view = StagedView(utxo: state.utxo, mempool: self, staging: staging, height: tip.height + 1)
            let judge = Judge(state: state, context: context, view: view, staging: staging, options: options,
                              minimumFeeRate: minimumFeeRate, relayFeeRate: relayFeeRate(Self.parametersForNextBlock(on: state)),
                              tipHeight: tip.height)
            scan: while next < end {
                if verdicts[next] == nil {
                    let entryTime = times.flatMap { next < $0.count ? $0[next] : nil } ?? time
                    switch stage(candidates[next], index: next, time: entryTime, judge) {
                    case .staged: break
                    case .rejected(let admission): verdicts[next] = admission
                    case .cut: break scan
                    }
                }
                next += 1
            }
            return state.signatureVerifier
        }
        commit(staging, verifier: verifier, options: options, time: time, verdicts: &verdicts)
        return next
    }

    /// Verifies the staged signatures as one batch, then adds the staged transactions in
    /// order: a bad signature refuses its transaction, and its staged descendants (missing inputs).
    private func commit(_ staging: Staging, verifier: any SignatureBatchVerifier, options: AdmissionOptions, time: UInt64,
                        verdicts: inout [Admission?]) {
        guard !staging.items.isEmpty else { return }
        var badInput = [Int?](repeating: nil, count: staging.items.count)
        for (slot, valid) in Self.verify(staging, verifier: verifier).enumerated() where !valid {
            let owner = staging.signatureOwners[slot]
            if badInput[owner.item] == nil { badInput[owner.item] = owner.input }
        }
        var refused = Set<Hash256>()
        var accepted = [Staging.Item]()
        for (position, item) in staging.items.enumerated() {
            let txid = item.entry.txid
            if let input = badInput[position] {
                refused.insert(txid)
                verdicts[item.index] = Admission(result: .rejected(MempoolRejection(
                    RuleName.scriptSignature.rawValue, "input \(input): signature does not verify", isConsensusFailure: true)))
            } else if let parent = item.entry.depends.first(where: refused.contains) {
                refused.insert(txid)
                verdicts[item.index] = Admission(result: .rejected(MempoolRejection(
                    "bad-txns-inputs-missingorspent", "parent \(parent.hex) was refused in the same batch", kind: .missingInputs)),
                    missingParents: [parent])
            } else {
                verdicts[item.index] = Admission(result: .accepted(item.entry))
                accepted.append(item)
            }
        }
        guard options.add, !accepted.isEmpty else { return }
        var replaced = [Hash256]()
        lock.withLock {
            for item in accepted {
                for conflict in item.conflicts {
                    for entry in removeWithDescendants(conflict, as: .replaced, detail: item.entry.txid.hex, time: time) {
                        replaced.append(entry.txid)
                        // A lagging peer's copy is not fetched again until the next block.
                        rejectedWtxids.set(entry.wtxid, true)
                    }
                }
                for holder in item.overriding {
                    for entry in removeWithDescendants(holder, as: .removed, detail: "\(Self.overriddenReason) \(item.entry.txid.hex)",
                                                       time: time) {
                        replaced.append(entry.txid)
                        rejectedWtxids.set(entry.wtxid, true)
                    }
                }
                insert(item.entry)
                if options.record {
                    record(item.entry.txid, TransactionEvent(state: .validated, time: time))
                    record(item.entry.txid, TransactionEvent(state: .mempool, time: time))
                }
            }
        }
        for txid in replaced { feeEstimator.removed(txid: txid) }
        if options.estimate {
            // Only a transaction confirming on its own fee tells how fast a fee rate confirms.
            for item in accepted where item.entry.depends.isEmpty {
                feeEstimator.entered(txid: item.entry.txid, feeRate: item.entry.feeRate, height: item.entry.height)
            }
        }
    }

    /// One verdict per staged signature from the chain's verifier, or per signature on the
    /// CPU when the verifier fails or answers the wrong count.
    static func verify(_ staging: Staging, verifier: any SignatureBatchVerifier) -> [Bool] {
        var verdicts = [Bool](repeating: false, count: staging.signatureOwners.count)
        let batchVerdicts: [Bool]
        if staging.signatures.isEmpty {
            batchVerdicts = []
        } else if let results = try? verifier.verify(staging.signatures), results.count == staging.signatures.count {
            batchVerdicts = results
        } else {
            batchVerdicts = staging.checks.map { item in
                Ed25519.verify(signature: item.signature, message: item.message.bytes, publicKey: item.publicKey)
            }
        }
        // Checks that never reached the batch (a malformed key or signature) stay false.
        for (slot, valid) in zip(staging.batchSlots, batchVerdicts) { verdicts[slot] = valid }
        return verdicts
    }
}
