// Coin selection: which coins pay an amount at a fee rate, and whether there is change.

/// The chosen coins and how their value splits into payment, fee and change.
public struct CoinSelection: Equatable, Sendable {
    /// Indices into the candidate values.
    public var inputs: [Int]
    /// What the recipient's output carries.
    public var recipientValue: UInt64
    public var fee: UInt64
    /// 0: no change output.
    public var change: UInt64

    /// The fee `bytes` pay at `rate` base units per 1,000 bytes, rounded up.
    public static func fee(rate: UInt64, bytes: Int) -> UInt64 {
        let product = rate.multipliedFullWidth(by: UInt64(bytes))
        guard product.high == 0 else { return .max }
        let (quotient, remainder) = product.low.quotientAndRemainder(dividingBy: 1_000)
        return remainder == 0 ? quotient : quotient + 1
    }

    /// Selects from `values` (the candidates, any order).
    ///
    /// Without `subtractFee`: first branch and bound for a set whose value minus its fee
    /// lies within the cost of a change output above `amount` (no change, nothing for a
    /// later spend of change to pay); otherwise largest first until the change is at least
    /// `dust`. With `subtractFee` the recipient gets `amount` minus the fee.
    /// `size(inputs, withChange)` is the exact encoded size of such a transaction.
    public static func select(values: [UInt64], amount: UInt64, subtractFee: Bool, feeRate: UInt64, dust: UInt64,
                              size: (Int, Bool) -> Int) throws(WalletError) -> CoinSelection {
        guard amount > 0 else { throw .invalidAmount("Amount must be positive") }
        // 1,000 coins per 1,000 bytes: far above any sane rate, and low enough that no fee sum overflows.
        guard feeRate <= 100_000_000_000 else { throw .invalidParameter("Fee rate \(feeRate) per 1,000 bytes is too high") }
        let order = values.indices.sorted { values[$0] > values[$1] }
        let total = values.reduce(UInt64(0)) { $0 &+ $1 }
        if subtractFee {
            var chosen = [Int](), sum: UInt64 = 0
            for index in order where sum < amount { chosen.append(index); sum += values[index] }
            guard sum >= amount else { throw .insufficientFunds }
            let changeValue = sum - amount
            let feeWithChange = fee(rate: feeRate, bytes: size(chosen.count, true))
            if changeValue >= dust {
                guard amount > feeWithChange, amount - feeWithChange >= dust else {
                    throw .amountTooSmall("The transaction amount is too small to pay the fee")
                }
                return CoinSelection(inputs: chosen, recipientValue: amount - feeWithChange, fee: feeWithChange, change: changeValue)
            }
            let feeWithout = fee(rate: feeRate, bytes: size(chosen.count, false))
            guard amount > feeWithout, amount - feeWithout >= dust else {
                throw .amountTooSmall("The transaction amount is too small to pay the fee")
            }
            // Dust change goes to the fee, as Bitcoin Core does.
            return CoinSelection(inputs: chosen, recipientValue: amount - feeWithout, fee: feeWithout + changeValue, change: 0)
        }
        guard amount >= dust else { throw .amountTooSmall("Transaction amount too small") }
        guard total > amount else { throw .insufficientFunds }

        if let exact = branchAndBound(values: values, order: order, amount: amount, feeRate: feeRate, size: size) {
            return exact
        }
        // Largest first, until the change would not be dust.
        var chosen = [Int](), sum: UInt64 = 0
        for index in order {
            chosen.append(index)
            sum += values[index]
            let feeWithChange = fee(rate: feeRate, bytes: size(chosen.count, true))
            if sum >= amount + feeWithChange + dust {
                return CoinSelection(inputs: chosen, recipientValue: amount, fee: feeWithChange, change: sum - amount - feeWithChange)
            }
        }
        // Everything, without change, if that pays (the small excess is fee).
        let feeWithout = fee(rate: feeRate, bytes: size(chosen.count, false))
        guard sum >= amount + feeWithout else { throw .insufficientFunds }
        return CoinSelection(inputs: chosen, recipientValue: amount, fee: sum - amount, change: 0)
    }

    /// Depth-first search (largest values first) for the set with the least excess in
    /// [amount + fee, amount + fee + cost of change]; bounded to 100,000 steps.
    static func branchAndBound(values: [UInt64], order: [Int], amount: UInt64, feeRate: UInt64,
                               size: (Int, Bool) -> Int) -> CoinSelection? {
        let base = size(0, false)
        let perInput = size(1, false) - base
        let changeOutputBytes = size(1, true) - size(1, false)
        let inputFee = fee(rate: feeRate, bytes: perInput)
        let costOfChange = fee(rate: feeRate, bytes: changeOutputBytes) + inputFee
        let target = amount + fee(rate: feeRate, bytes: base)
        // Effective values: what each coin adds after paying for its own input.
        let candidates = order.filter { values[$0] > inputFee }
        let effective = candidates.map { values[$0] - inputFee }
        var suffix = [UInt64](repeating: 0, count: effective.count + 1)
        for i in stride(from: effective.count - 1, through: 0, by: -1) { suffix[i] = suffix[i + 1] + effective[i] }
        var best: (set: [Int], excess: UInt64)?
        var current = [Int]()
        var steps = 0
        func search(_ position: Int, _ sum: UInt64) {
            steps += 1
            guard steps < 100_000 else { return }
            if sum >= target {
                if sum <= target + costOfChange, best == nil || sum - target < best!.excess { best = (current, sum - target) }
                return // adding more only raises the excess
            }
            guard position < effective.count, sum + suffix[position] >= target else { return }
            current.append(position)
            search(position + 1, sum + effective[position])
            current.removeLast()
            if best?.excess == 0 { return }
            search(position + 1, sum)
        }
        search(0, 0)
        guard let best else { return nil }
        let inputs = best.set.map { candidates[$0] }
        let sum = inputs.reduce(UInt64(0)) { $0 + values[$1] }
        let exactFee = fee(rate: feeRate, bytes: size(inputs.count, false))
        guard sum >= amount + exactFee else { return nil }
        return CoinSelection(inputs: inputs, recipientValue: amount, fee: sum - amount, change: 0)
    }
}
