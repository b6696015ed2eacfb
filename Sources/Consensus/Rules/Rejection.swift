import Primitives

/// Why a block or transaction was rejected: the rule's stable name, where (transaction and
/// input index when it is about one), and a human detail. `rule` names are listed in
/// docs/PROTOCOL.md section 10.
public struct Rejection: Error, Equatable, Sendable, CustomStringConvertible {
    public var rule: RuleName
    public var detail: String
    public var transaction: Int?
    public var input: Int?

    public init(_ rule: RuleName, _ detail: String = "", transaction: Int? = nil, input: Int? = nil) {
        self.rule = rule
        self.detail = detail
        self.transaction = transaction
        self.input = input
    }

    public func at(transaction: Int, input: Int? = nil) -> Rejection {
        var copy = self
        copy.transaction = copy.transaction ?? transaction
        copy.input = copy.input ?? input
        return copy
    }

    public var description: String {
        var text = rule.rawValue
        if let transaction { text += " (tx \(transaction)" + (input.map { ", input \($0)" } ?? "") + ")" }
        if !detail.isEmpty { text += ": \(detail)" }
        return text
    }
}
