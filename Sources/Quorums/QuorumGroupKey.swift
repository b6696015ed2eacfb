enum QuorumGroupKey {
    static func isValid(_ bytes: [UInt8]) -> Bool { bytes.count == 32 && bytes != [UInt8](repeating: 0, count: 32) }
}
