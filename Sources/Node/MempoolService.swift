// The mempool's housekeeping under the service group: expiry on a timer (acceptance and
// blocks expire too, but a quiet node must still let old transactions go).

import Foundation
import Logging
import Mempool
import ServiceLifecycle

struct MempoolService: Service, CustomStringConvertible {
    let mempool: Mempool
    let logger: Logger
    /// Seconds between expiry sweeps.
    var expiryInterval: Double = 60
    var description: String { "mempool" }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(expiryInterval))
                guard !Task.isCancelled else { return }
                let expired = mempool.expireNow()
                if expired > 0 { logger.info("mempool: \(expired) transactions expired") }
            }
        }
    }
}
