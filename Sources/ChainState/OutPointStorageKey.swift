import Primitives

extension OutPoint {
    /// 36-byte key: txid then index big-endian, so a transaction's outputs sort together and in order.
    public var storageKey: [UInt8] {
        [UInt8](unsafeUninitializedCapacity: 36) { buffer, initialized in
            txid.withUnsafeBytes { UnsafeMutableRawBufferPointer(buffer).copyMemory(from: $0) }
            UnsafeMutableRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(buffer)[32..<36]).storeBytes(of: index.bigEndian, as: UInt32.self)
            initialized = 36
        }
    }

    public init?(storageKey key: [UInt8]) {
        guard key.count == 36, let txid = Hash256(bytes: Array(key[0..<32])) else { return nil }
        self.init(txid: txid, index: UInt32(key[32]) << 24 | UInt32(key[33]) << 16 | UInt32(key[34]) << 8 | UInt32(key[35]))
    }
}
