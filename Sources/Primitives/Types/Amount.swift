/// A quantity of base units (1 RUST = 10^8). Every value lies in 0...maxMoney, and the
/// arithmetic reports overflow instead of trapping, because amounts come from the network.
public struct Amount: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let baseUnits: UInt64

    public static let unitsPerCoin: UInt64 = 100_000_000
    /// 500 RUST per block, halving every 210,000 blocks, sums to just under 210,000,000 RUST.
    public static let maxMoney = Amount(uncheckedBaseUnits: 210_000_000 * unitsPerCoin)
    public static let zero = Amount(uncheckedBaseUnits: 0)

    init(uncheckedBaseUnits: UInt64) { baseUnits = uncheckedBaseUnits }

    /// Nil when the value exceeds `maxMoney`.
    public init?(baseUnits: UInt64) {
        guard baseUnits <= Amount.maxMoney.baseUnits else { return nil }
        self.baseUnits = baseUnits
    }

    public static func coins(_ whole: UInt64) -> Amount? {
        let (units, overflow) = whole.multipliedReportingOverflow(by: unitsPerCoin)
        return overflow ? nil : Amount(baseUnits: units)
    }

    /// Sum, or nil when it would exceed `maxMoney`.
    public func adding(_ other: Amount) -> Amount? { Amount(baseUnits: baseUnits + other.baseUnits) }

    /// Difference, or nil when it would be negative.
    public func subtracting(_ other: Amount) -> Amount? {
        other.baseUnits <= baseUnits ? Amount(uncheckedBaseUnits: baseUnits - other.baseUnits) : nil
    }

    /// Sum of many amounts, or nil as soon as the running total leaves the money range.
    public static func sum(_ amounts: some Sequence<Amount>) -> Amount? {
        var total = Amount.zero
        for amount in amounts {
            guard let next = total.adding(amount) else { return nil }
            total = next
        }
        return total
    }

    public static func < (lhs: Amount, rhs: Amount) -> Bool { lhs.baseUnits < rhs.baseUnits }

    /// "12.34500000 RUST"-style fixed-point text.
    public var description: String {
        let whole = baseUnits / Amount.unitsPerCoin
        let fraction = String(baseUnits % Amount.unitsPerCoin)
        return "\(whole).\(String(repeating: "0", count: 8 - fraction.count))\(fraction)"
    }
}
