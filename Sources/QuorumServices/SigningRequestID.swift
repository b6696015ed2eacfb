import Primitives

/// A signing request's identifier (PROTOCOL section 17): the value that picks the
/// responsible quorum and names the request on the wire. Each service derives its own
/// (a chain lock's from its height), so two services never collide on one id.
public struct SigningRequestID: Hashable, Sendable, CustomStringConvertible {
    public let hash: Hash256
    public init(_ hash: Hash256) { self.hash = hash }
    public var description: String { hash.description }
}
