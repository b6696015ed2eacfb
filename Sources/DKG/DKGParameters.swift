/// The shape of one DKG run: `memberCount` participants, any `threshold` of whom can sign.
public struct DKGParameters: Sendable, Equatable {
    public let threshold: Int
    public let memberCount: Int

    public struct Invalid: Error, CustomStringConvertible {
        public let threshold: Int
        public let memberCount: Int
        public var description: String { "DKG parameters: threshold \(threshold) of \(memberCount) is invalid (need 2 <= threshold <= members <= 65535)" }
    }

    public init(threshold: Int, memberCount: Int) throws {
        guard threshold >= 2, threshold <= memberCount, memberCount <= 65_535 else {
            throw Invalid(threshold: threshold, memberCount: memberCount)
        }
        self.threshold = threshold
        self.memberCount = memberCount
    }
}
