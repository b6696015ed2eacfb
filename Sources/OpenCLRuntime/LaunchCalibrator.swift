/// A device's launch size, grown or shrunk from measured launch times so that one full
/// launch takes about `targetSeconds`. Sizes are in work-items, whole work-groups of the
/// one `localSize` every launch uses (drivers such as PoCL compile a variant per local size).
public struct LaunchCalibrator: Sendable {
    public let localSize: Int
    public let targetSeconds: Double
    public let maxItems: Int
    /// Work units one work-item handles (nonces per item for PoW, 1 for signatures).
    public let unitsPerItem: UInt64
    /// Work-items per full launch.
    public private(set) var items: Int

    public init(localSize: Int, items: Int, targetSeconds: Double, maxItems: Int, unitsPerItem: UInt64 = 1) {
        self.localSize = max(1, localSize)
        self.items = max(self.localSize, items) / self.localSize * self.localSize
        self.targetSeconds = targetSeconds
        self.maxItems = maxItems
        self.unitsPerItem = max(1, unitsPerItem)
    }

    /// Local size at most 64 and a short first launch (4 groups per compute unit) that the
    /// calibration grows towards `targetSeconds`.
    public init(device: OpenCLDevice, targetSeconds: Double, maxItems: Int, unitsPerItem: UInt64 = 1) {
        let localSize = max(1, min(64, device.maxWorkGroupSize))
        self.init(localSize: localSize, items: max(1, device.computeUnits) * 4 * localSize, targetSeconds: targetSeconds,
                  maxItems: maxItems, unitsPerItem: unitsPerItem)
    }

    /// Work units per full launch.
    public var launchUnits: UInt64 { UInt64(items) * unitsPerItem }

    /// Rescales after a full launch took `seconds`; each step at most x8 or /4 so one
    /// outlier (a compile, a busy host) cannot swing the size far.
    public mutating func record(seconds: Double) {
        let ratio = min(8, max(0.25, targetSeconds / max(seconds, 1e-4)))
        let wanted = Double(items) * ratio
        items = Int(min(Double(maxItems), max(Double(localSize), wanted))) / localSize * localSize
    }
}
