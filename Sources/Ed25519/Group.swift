import CEd25519

/// The prime-order group of edwards25519 and its scalar field, for threshold protocols
/// (FROST signing, the DKG). Values are kept as canonical encodings; the C code decodes
/// them per operation.
extension Ed25519 {
    /// An integer mod l = 2^252 + 27742317777372353535851937790883648493, as its canonical
    /// 32-byte little-endian encoding. Arithmetic is constant time.
    public struct Scalar: Equatable, Hashable, Sendable {
        public let bytes: [UInt8]

        /// nil unless `bytes` is 32 bytes and encodes a value below l.
        public init?(canonical bytes: [UInt8]) {
            guard bytes.count == 32, rc_group_scalar_is_canonical(bytes) == 1 else { return nil }
            self.bytes = bytes
        }

        /// The little-endian integer `wide` (any length; typically a 64-byte hash) mod l.
        public init(reducing wide: [UInt8]) {
            if wide.count <= 64 {
                var padded = wide + [UInt8](repeating: 0, count: 64 - wide.count)
                var out = [UInt8](repeating: 0, count: 32)
                rc_group_scalar_reduce64(&out, padded)
                Ed25519.wipe(&padded)
                self.bytes = out
                return
            }
            // Horner over 32-byte chunks, most significant (the partial one) first.
            var acc = [UInt8](repeating: 0, count: 32)
            for start in stride(from: (wide.count - 1) / 32 * 32, through: 0, by: -32) {
                let end = min(wide.count, start + 32)
                var chunk = Array(wide[start..<end]) + [UInt8](repeating: 0, count: 32 - (end - start))
                var next = [UInt8](repeating: 0, count: 32)
                rc_group_scalar_shift_in(&next, acc, chunk)
                Ed25519.wipe(&chunk)
                Ed25519.wipe(&acc)
                acc = next
            }
            self.bytes = acc
        }

        public init(_ value: UInt64) {
            var out = [UInt8](repeating: 0, count: 32)
            for i in 0..<8 { out[i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
            self.bytes = out
        }

        private init(trusted bytes: [UInt8]) { self.bytes = bytes }

        public static let zero = Scalar(0)
        public static let one = Scalar(1)

        /// 64 bytes from the OS CSPRNG, reduced mod l (bias below 2^-250).
        public static func random() -> Scalar {
            var generator = SystemRandomNumberGenerator()
            var wide = [UInt8](repeating: 0, count: 64)
            for i in stride(from: 0, to: 64, by: 8) {
                let word = generator.next()
                for j in 0..<8 { wide[i + j] = UInt8(truncatingIfNeeded: word >> (8 * UInt64(j))) }
            }
            let scalar = Scalar(reducing: wide)
            Ed25519.wipe(&wide)
            return scalar
        }

        private static func binary(_ a: Scalar, _ b: Scalar,
                                   _ op: (UnsafeMutablePointer<UInt8>, UnsafePointer<UInt8>, UnsafePointer<UInt8>) -> Void) -> Scalar {
            var out = [UInt8](repeating: 0, count: 32)
            op(&out, a.bytes, b.bytes)
            return Scalar(trusted: out)
        }

        public static func + (a: Scalar, b: Scalar) -> Scalar { binary(a, b) { rc_group_scalar_add($0, $1, $2) } }
        public static func - (a: Scalar, b: Scalar) -> Scalar { binary(a, b) { rc_group_scalar_sub($0, $1, $2) } }
        public static func * (a: Scalar, b: Scalar) -> Scalar { binary(a, b) { rc_group_scalar_mul($0, $1, $2) } }

        public static prefix func - (a: Scalar) -> Scalar {
            var out = [UInt8](repeating: 0, count: 32)
            rc_group_scalar_neg(&out, a.bytes)
            return Scalar(trusted: out)
        }

        /// The multiplicative inverse (constant time); nil for zero.
        public var inverse: Scalar? {
            var out = [UInt8](repeating: 0, count: 32)
            guard rc_group_scalar_invert(&out, bytes) == 1 else { return nil }
            return Scalar(trusted: out)
        }

        public var isZero: Bool { bytes.allSatisfy { $0 == 0 } }
    }

    /// A point of edwards25519 as its canonical 32-byte encoding. Any point on the curve can
    /// be held (small-order components included); protocols check `isInPrimeOrderSubgroup`
    /// on every point they receive.
    public struct Point: Equatable, Hashable, Sendable {
        public let encoded: [UInt8]

        /// Strict decoding: nil unless 32 bytes, y < p, on the curve, and not the
        /// non-canonical "x = 0 with sign bit 1".
        public init?(encoded: [UInt8]) {
            guard encoded.count == 32, rc_group_point_is_valid(encoded) == 1 else { return nil }
            self.encoded = encoded
        }

        private init(trusted encoded: [UInt8]) { self.encoded = encoded }

        /// [l]P is the identity: P has no small-order component.
        public var isInPrimeOrderSubgroup: Bool { rc_group_point_is_prime_order(encoded) == 1 }

        public static let identity = Point(trusted: [1] + [UInt8](repeating: 0, count: 31))
        public static let base = Point.base(times: .one)

        public var isIdentity: Bool { self == .identity }

        // Every Point was validated on construction, so the C calls below cannot see an
        // undecodable input. Should one ever fail, the result must not be the untouched
        // buffer: 32 zero bytes decode to a point of order 4, a silent torsion result.
        private static func output(_ body: (UnsafeMutablePointer<UInt8>) -> Int32) -> Point {
            var out = [UInt8](repeating: 0, count: 32)
            let status = body(&out)
            precondition(status == 1, "edwards25519 group operation failed on validated points")
            return Point(trusted: out)
        }

        public static func + (a: Point, b: Point) -> Point { output { rc_group_point_add($0, a.encoded, b.encoded) } }
        public static func - (a: Point, b: Point) -> Point { output { rc_group_point_sub($0, a.encoded, b.encoded) } }
        public static prefix func - (a: Point) -> Point { output { rc_group_point_neg($0, a.encoded) } }

        /// [s]P, constant time in s (for secret scalars).
        public static func * (s: Scalar, p: Point) -> Point { output { rc_group_point_mul($0, s.bytes, p.encoded) } }

        /// [s]P in variable time: only for public scalars (verification, Feldman checks).
        public func multipliedVartime(by s: Scalar) -> Point {
            Point.output { rc_group_point_mul_vartime($0, s.bytes, encoded) }
        }

        /// [s]B, constant time in s.
        public static func base(times s: Scalar) -> Point {
            output { out in rc_group_base_mul(out, s.bytes); return 1 }
        }

        /// sum [scalars[i]] points[i], variable time: public inputs only. Extra elements of the
        /// longer array are ignored (callers pass equal counts).
        public static func multiScalar(_ scalars: [Scalar], _ points: [Point]) -> Point {
            let count = min(scalars.count, points.count)
            var flatScalars = [UInt8](), flatPoints = [UInt8]()
            flatScalars.reserveCapacity(32 * count)
            flatPoints.reserveCapacity(32 * count)
            for i in 0..<count {
                flatScalars += scalars[i].bytes
                flatPoints += points[i].encoded
            }
            return output { rc_group_msm_vartime($0, flatScalars, flatPoints, count) }
        }
    }
}
