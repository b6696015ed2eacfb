// The mempool's settings: bitcoind's option names and units (megabytes, hours, RUST per kvB,
// kilobytes), over the network's defaults.

import JSONRPC
import Mempool

extension NodeConfiguration {
    static let mempoolMegabytesRange = 1...1_000_000
    static let mempoolExpiryHoursRange = 1...1_000_000
    static let packageCountRange = 1...1_000
    static let packageKilobytesRange = 1...100_000
    static let orphanCountRange = 0...100_000

    static func resolveMempool(_ configuration: inout NodeConfiguration, _ settings: Settings) throws {
        var policy = configuration.mempoolPolicy
        if let megabytes = try settings.integer("maxmempool", mempoolMegabytesRange) { policy.maxPoolBytes = megabytes * 1_000_000 }
        if let hours = try settings.integer("mempoolexpiry", mempoolExpiryHoursRange) { policy.expirySeconds = UInt64(hours) * 3_600 }
        if let rate = try settings.feeRate("minrelaytxfee") {
            // The operator's rate replaces the network's governed one on this node.
            policy.minRelayFeeRate = rate
            policy.followsGovernedRelayFee = false
        }
        if let rate = try settings.feeRate("incrementalrelayfee") { policy.incrementalRelayFeeRate = rate }
        if let count = try settings.integer("limitancestorcount", packageCountRange) { policy.maxAncestors = count }
        if let kilobytes = try settings.integer("limitancestorsize", packageKilobytesRange) { policy.maxAncestorBytes = kilobytes * 1_000 }
        if let count = try settings.integer("limitdescendantcount", packageCountRange) { policy.maxDescendants = count }
        if let kilobytes = try settings.integer("limitdescendantsize", packageKilobytesRange) { policy.maxDescendantBytes = kilobytes * 1_000 }
        if let count = try settings.integer("maxorphantx", orphanCountRange) { policy.maxOrphans = count }
        // bitcoind refuses a pool bound below what its own package limits could need.
        if policy.maxPoolBytes < policy.maxDescendantBytes {
            let detail = "the pool bound (\(policy.maxPoolBytes / 1_000) kB) must be at least the descendant size limit "
                + "(\(policy.maxDescendantBytes / 1_000) kB)"
            for key in ["maxmempool", "limitdescendantsize"] {
                if let (value, place) = settings.single(key) { throw place.invalid(value, key, detail) }
            }
        }
        configuration.mempoolPolicy = policy
        configuration.persistMempool = try settings.boolean("persistmempool") ?? true
        configuration.trickleInterval = try settings.seconds("trickleinterval")
        configuration.feeFilterInterval = try settings.seconds("feefilterinterval")
    }
}

extension NodeConfiguration.Settings {
    /// A fee rate in RUST per 1,000 bytes ("0.00001"), as base units per 1,000 bytes.
    func feeRate(_ key: String) throws -> UInt64? {
        guard let (value, place) = single(key) else { return nil }
        guard let units = JSONNumber.fixedPointUnits(value, scale: 8), units >= 0, units <= 100_000_000 else {
            throw place.invalid(value, key, "expected a fee rate in RUST per kvB, 0...1 (e.g. 0.00001)")
        }
        return UInt64(units)
    }
}
