// The masternode side of a block template: its transactions applied in order to a copy of
// the tip's masternode list, so the header commits to the list after the block, and a
// special transaction the chain would reject (its masternode was revoked by an earlier one,
// a duplicate key, a proposal the governance rules refuse, ...) is left out instead of making
// the whole block invalid.

import ChainState
import Consensus
import Masternodes
import Primitives

enum TemplateMasternodes {
    struct Selection {
        /// Indexes of the given transactions that stay, in order.
        var kept: [Int]
        /// The masternode list after the kept transactions.
        var list: MasternodeList
        var dropped: [Hash256] = []
        var droppedFees = Amount.zero
    }

    /// Applies `transactions` (with their `txids`) at `height` on top of the tip's list; a
    /// transaction the masternode rules reject is dropped with every transaction spending
    /// its outputs, and selection resumes there: the transactions before it keep their
    /// changes unless one registered an external collateral a dropped transaction created
    /// (it then resumes from that registration, the only earlier effect a drop can undo).
    static func select(on state: ChainState, height: UInt64, transactions: [Transaction], txids: [Hash256]) throws -> Selection {
        var selection = Selection(kept: Array(transactions.indices), list: state.masternodes)
        // Nothing to apply: no list for spends to touch, no locked collateral and no special transaction.
        if state.masternodes.isEmpty && !state.governance.hasLockedCollateral && !transactions.contains(where: \.isSpecial) { return selection }
        // New registrations lock the collateral in force at this height (governed, PROTOCOL section 18).
        let parameters = state.masternodeParameters(atHeight: height)
        let view = CoinsAfter(state: state, transactions: Array(zip(transactions, txids)))
        var list = state.masternodes
        // The list changes of each applied transaction, in `selection.kept` order.
        var applied = [MasternodeListUndo]()
        while applied.count < selection.kept.count {
            let index = selection.kept[applied.count]
            var undo = MasternodeListUndo()
            do {
                try MasternodeRules.apply(transactions[index], txid: txids[index], height: height, to: &list, undo: &undo,
                                          parameters: parameters, coin: view.coin)
                // Proposals and spends of locked collateral: the governance rules, dropped the same way.
                try TemplateGovernance.check(transactions[index], txid: txids[index], on: state, height: height, list: list)
                applied.append(undo)
            } catch is Rejection {
                list.revert(undo) // the collateral spends it applied before failing
                let removed = try drop(index, from: &selection, transactions: transactions, txids: txids, state: state)
                view.remove(removed)
                // Descendants come after their parent, so only the earlier kept ones can be affected.
                let resume = applied.indices.first { position in
                    let kept = selection.kept[position]
                    return externalCollateral(of: transactions[kept], txid: txids[kept]).map { removed.contains($0.txid) } ?? false
                } ?? applied.count
                while applied.count > resume { list.revert(applied.removeLast()) }
            }
        }
        selection.list = list
        return selection
    }

    /// The collateral a registration names outside itself, if any.
    private static func externalCollateral(of transaction: Transaction, txid: Hash256) -> OutPoint? {
        guard transaction.specialType == .masternodeRegister,
              let payload = try? MasternodeRegisterPayload.decode(payload: transaction.payload),
              payload.collateral.txid != .zero else { return nil }
        return payload.collateralOutPoint(txid: txid)
    }

    /// Removes transaction `first` and its descendants among the kept ones, with their fees;
    /// returns the txids removed.
    private static func drop(_ first: Int, from selection: inout Selection, transactions: [Transaction], txids: [Hash256],
                             state: ChainState) throws -> Set<Hash256> {
        // Every kept transaction's outputs, for the fees of the dropped ones.
        var outputs = [Hash256: [TxOut]]()
        for index in selection.kept { outputs[txids[index]] = transactions[index].outputs }
        var removed: Set<Hash256> = [txids[first]]
        var remaining = [Int]()
        for index in selection.kept where index != first {
            // Parents come before children, so one pass finds every descendant.
            if transactions[index].inputs.contains(where: { removed.contains($0.previousOutput.txid) }) {
                removed.insert(txids[index])
            } else {
                remaining.append(index)
            }
        }
        for index in selection.kept where removed.contains(txids[index]) {
            var inputs = Amount.zero
            for input in transactions[index].inputs {
                let outpoint = input.previousOutput
                let value: Amount
                if let created = outputs[outpoint.txid], Int(outpoint.index) < created.count {
                    value = created[Int(outpoint.index)].value
                } else if let coin = try state.utxo.coin(outpoint) {
                    value = coin.output.value
                } else {
                    throw TemplateError.unknownInput(outpoint)
                }
                inputs = inputs.adding(value) ?? .maxMoney
            }
            let paid = transactions[index].outputs.reduce(Amount.zero) { $0.adding($1.value) ?? .maxMoney }
            let fee = inputs.subtracting(paid) ?? .zero
            selection.droppedFees = selection.droppedFees.adding(fee) ?? .maxMoney
            selection.dropped.append(txids[index])
        }
        selection.kept = remaining
        return removed
    }

    /// The UTXO set as it would be after a block of `transactions` on the tip (their
    /// outputs added, their spends removed), built on first use and updated when
    /// transactions are removed from the block.
    final class CoinsAfter {
        private let state: ChainState
        private let transactions: [(Transaction, Hash256)]
        private var removed = Set<Hash256>()
        private var maps: (created: [OutPoint: Coin], spent: Set<OutPoint>)?

        init(state: ChainState, transactions: [(Transaction, Hash256)]) {
            self.state = state
            self.transactions = transactions
        }

        /// Spends are checked first, so an output created and spent in the block is missing.
        func coin(_ outpoint: OutPoint) throws -> Coin? {
            let built = maps ?? build()
            maps = built
            if built.spent.contains(outpoint) { return nil }
            if let coin = built.created[outpoint] { return coin }
            return try state.utxo.coin(outpoint)
        }

        /// Takes the transactions `txids` out of the block (a block spends an outpoint once,
        /// so their spends can be forgotten outright).
        func remove(_ txids: Set<Hash256>) {
            removed.formUnion(txids)
            guard var built = maps else { return }
            maps = nil // released while edited, so the maps are not copied
            for (transaction, txid) in transactions where txids.contains(txid) {
                for input in transaction.inputs { built.spent.remove(input.previousOutput) }
                for index in transaction.outputs.indices { built.created[OutPoint(txid: txid, index: UInt32(index))] = nil }
            }
            maps = built
        }

        private func build() -> (created: [OutPoint: Coin], spent: Set<OutPoint>) {
            let height = state.tip.height + 1
            var created = [OutPoint: Coin]()
            var spent = Set<OutPoint>()
            for (transaction, txid) in transactions where !removed.contains(txid) {
                for input in transaction.inputs { spent.insert(input.previousOutput) }
                for (index, output) in transaction.outputs.enumerated() where !output.isUnspendable {
                    created[OutPoint(txid: txid, index: UInt32(index))] = Coin(output: output, height: height, isCoinbase: false)
                }
            }
            return (created, spent)
        }
    }
}
