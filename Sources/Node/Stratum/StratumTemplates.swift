// The pool's block templates: one per tip (rebuilt at once when the tip moves), refreshed on
// the same tip when the mempool's fees grew enough to be worth a new job.

import ChainState
import Foundation
import Mempool
import Mining
import Primitives

/// One template the pool hands out; every connection's jobs on it share it.
final class PoolTemplate: Sendable {
    /// Server-wide sequence number (the duplicate check is per template).
    let serial: UInt64
    let template: BlockTemplate
    let transactionCount: Int
    /// Fees of the template's transactions (base units).
    let fees: UInt64
    /// Unix time it was built.
    let created: UInt64
    /// Whether its previous block differs from the template before it (a new tip).
    let clean: Bool

    init(serial: UInt64, template: BlockTemplate, transactionCount: Int, fees: UInt64, created: UInt64, clean: Bool) {
        self.serial = serial
        self.template = template
        self.transactionCount = transactionCount
        self.fees = fees
        self.created = created
        self.clean = clean
    }

    var header: BlockHeader { template.header }
    var previousHash: Hash256 { template.header.previousHash }
    var blockTarget: UInt256 { template.target }

    /// The block a solved header makes: the template's transactions under the miner's header.
    func block(header: BlockHeader) -> Block { Block(header: header, transactions: template.transactions) }
}

extension StratumPool {
    /// Follows the tip until cancelled: a new template for every new tip (clean jobs), a
    /// fee-richer one now and then, and the housekeeping tick for every connection.
    func run() async {
        let clock = ContinuousClock()
        var lastTick = clock.now
        var lastFeeCheck = clock.now
        var checkedSequence: UInt64?
        var failedTip: Hash256?
        while !Task.isCancelled {
            let snapshot = chain.snapshot
            let tip = snapshot.tipHash
            // While catching up (blocks behind the best header) a template would be stale at
            // once, and building one takes the chain's writer from the import. The first
            // template is built here too, on the loop's executor, not by `start`.
            if tip != currentTemplate?.previousHash && tip != failedTip && !BlockTemplateSource.catchingUp(snapshot) {
                if await rebuild() {
                    failedTip = nil
                    lastFeeCheck = clock.now
                } else {
                    // Logged once per tip; tried again when the tip moves or at the next fee check.
                    failedTip = tip
                }
            } else if clock.now - lastFeeCheck >= .seconds(settings.feeRefreshInterval) {
                lastFeeCheck = clock.now
                failedTip = nil
                // Only a changed pool can pay more; selection is not free on a large pool.
                let sequence = mempool.sequence
                if sequence != checkedSequence {
                    checkedSequence = sequence
                    let capacity = mempool.parametersInForce.maxBlockBytes - BlockTemplateSource.coinbaseReserve
                    let fees = NodeRPCContext.estimatedBlockFees(mempool.entries(), capacity: capacity)
                    if NodeRPCContext.feesWorthRefresh(previous: currentTemplate?.fees ?? 0, current: fees) {
                        await rebuild()
                    }
                }
            }
            if clock.now - lastTick >= .seconds(settings.tickInterval) {
                lastTick = clock.now
                tick()
            }
            try? await Task.sleep(nanoseconds: settings.tipPollNanoseconds)
        }
    }

    /// Builds a template on the current tip and sends it to every connection; false when it
    /// could not be built. It is clean when its previous block differs from the current
    /// template's (the tip may have moved since the caller looked).
    @discardableResult
    func rebuild() async -> Bool {
        let built: (template: BlockTemplate, entries: [MempoolEntry])
        do {
            built = try await templates.make(payout: settings.payoutScript)
        } catch {
            logger.error("stratum: \(error)")
            return false
        }
        let fees = built.entries.reduce(UInt64(0)) { $0 &+ $1.fee.baseUnits }
        let clean = built.template.header.previousHash != currentTemplate?.previousHash
        let template = PoolTemplate(serial: nextTemplateSerial(), template: built.template, transactionCount: built.entries.count,
                                    fees: fees, created: UInt64(Date().timeIntervalSince1970), clean: clean)
        publish(template)
        let kind = clean ? "new tip" : "more fees"
        let height = template.header.height
        logger.debug("stratum: template \(template.serial) (\(kind)) at height \(height), \(template.transactionCount) transactions, fees \(fees)")
        return true
    }
}
