// TEMPORARY (issue #15): stand-ins for the size limit's functions until Mempool+Limits.swift
// (the limits helper's) is on main; this file is deleted at that merge.

extension Mempool {
    func currentMinimumFeeRate(time: UInt64) -> UInt64 { policy.minRelayFeeRate }
    func limitSize(time: UInt64) -> [MempoolEntry] { [] }
    func expire(time: UInt64) -> [MempoolEntry] { [] }
    public func mempoolMinimumFeeRate() -> UInt64 { policy.minRelayFeeRate }
}
