/// A quorum type's number on the wire and in commitments (Config/NETWORK.json `quorums`).
public struct QuorumTypeID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "quorum type \(rawValue)" }
}
