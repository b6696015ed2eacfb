// The node's wall clock, which regtest can set (bitcoind's `setmocktime`), so expiry and
// retention can be tested without waiting hours.

import Foundation
import Synchronization

/// Unix seconds: the system clock, or a mock time once set.
public final class NodeClock: Sendable {
    private let mock = Mutex<UInt64?>(nil)

    public init() {}

    public var now: UInt64 { mock.withLock { $0 } ?? UInt64(max(0, Date().timeIntervalSince1970)) }

    /// Sets the mock time (unix seconds), or returns to the system clock with nil (or 0, as
    /// bitcoind's `setmocktime 0`).
    public func setMockTime(_ time: UInt64?) { mock.withLock { $0 = time == 0 ? nil : time } }

    public var mockTime: UInt64? { mock.withLock { $0 } }
}
