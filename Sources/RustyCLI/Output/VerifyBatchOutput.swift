/// `rusty sig verify-batch --json`: every verdict in input order and the summary.
struct VerifyBatchOutput: Codable, Equatable {
    var results: [Bool]
    var count: Int
    var valid: Int
    var invalid: Int
    var seconds: Double
    var signaturesPerSecond: Int
    var backend: String
}
