import BigInt
import CEd25519
import Testing
import TestSupport

/// Field arithmetic mod p = 2^255 - 19 and scalar arithmetic mod l, against BigInt.
struct ArithmeticTests {
    static let p = (BigUInt(1) << 255) - 19
    static let l = (BigUInt(1) << 252) + BigUInt("27742317777372353535851937790883648493")

    static func encode(_ value: BigUInt, count: Int = 32) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var v = value
        for i in 0..<count { bytes[i] = UInt8(v & 0xFF); v >>= 8 }
        return bytes
    }

    static func decode(_ bytes: [UInt8]) -> BigUInt {
        bytes.reversed().reduce(BigUInt(0)) { $0 << 8 | BigUInt($1) }
    }

    /// Random field inputs, biased towards the edges: 0, 1, p-1, p, values >= p, 2^255-1.
    static func fieldInput(_ rng: inout SeededGenerator) -> BigUInt {
        switch Int.random(in: 0..<8, using: &rng) {
        case 0: return [BigUInt(0), BigUInt(1), p - 1, p, p + 1, (BigUInt(1) << 255) - 1, BigUInt(19), BigUInt(1) << 254]
            .randomElement(using: &rng)!
        case 1: return p + BigUInt(UInt64.random(in: 0..<19, using: &rng)) // non-canonical encodings
        default: return decode(rng.bytes(32)) & ((BigUInt(1) << 255) - 1)
        }
    }

    static func field(_ op: Int32, _ a: BigUInt, _ b: BigUInt) -> BigUInt {
        var out = [UInt8](repeating: 0, count: 32)
        rc_ed25519_testing_fe(op, &out, encode(a), encode(b))
        return decode(out)
    }

    @Test("field add, sub, mul, square, negate (4,000 cases) and invert (400) equal big-integer arithmetic mod p")
    func fieldOperations() {
        var rng = SeededGenerator(testSeed: 0xF1E1D)
        let p = Self.p
        for round in 0..<4000 {
            let a = Self.fieldInput(&rng), b = Self.fieldInput(&rng)
            let ar = a % p, br = b % p
            #expect(Self.field(Int32(RC_TESTING_FE_ADD), a, b) == (ar + br) % p, "add \(a) \(b)")
            #expect(Self.field(Int32(RC_TESTING_FE_SUB), a, b) == (ar + p - br) % p, "sub \(a) \(b)")
            #expect(Self.field(Int32(RC_TESTING_FE_MUL), a, b) == (ar * br) % p, "mul \(a) \(b)")
            #expect(Self.field(Int32(RC_TESTING_FE_SQ), a, 0) == (ar * ar) % p, "sq \(a)")
            #expect(Self.field(Int32(RC_TESTING_FE_NEG), a, 0) == (p - ar) % p, "neg \(a)")
            // Inversion (a^(p-2), so zero maps to zero); BigInt's inverse is slow in debug
            // builds, so every tenth case.
            if round % 10 == 0 {
                #expect(Self.field(Int32(RC_TESTING_FE_INVERT), a, 0) == (ar == 0 ? 0 : ar.inverse(p)!), "invert \(a)")
            }
        }
    }

    @Test("sqrt(u/v): a root exactly when u/v is a square (Euler's criterion)")
    func squareRoots() {
        var rng = SeededGenerator(testSeed: 0x5087)
        let p = Self.p
        var squares = 0
        for _ in 0..<400 {
            let u = Self.fieldInput(&rng) % p, v = Self.fieldInput(&rng) % p
            guard v != 0 else { continue }
            var out = [UInt8](repeating: 0, count: 32)
            let ok = rc_ed25519_testing_fe_sqrt_ratio(&out, Self.encode(u), Self.encode(v)) == 1
            let ratio = u * v.inverse(p)! % p
            let isSquare = ratio == 0 || ratio.power((p - 1) / 2, modulus: p) == 1
            #expect(ok == isSquare, "u \(u) v \(v)")
            if ok {
                let x = Self.decode(out)
                #expect(v * x * x % p == u, "u \(u) v \(v) root \(x)")
                squares += 1
            }
        }
        #expect(squares > 100) // about half of the ratios are squares
    }

    @Test("scalars: reduction of 512-bit values, a*b+c mod l, and the canonical check S < l")
    func scalars() {
        var rng = SeededGenerator(testSeed: 0x5CA1A)
        let l = Self.l
        for _ in 0..<3000 {
            let wide = rng.bytes(64)
            var reduced = [UInt8](repeating: 0, count: 32)
            rc_ed25519_testing_sc_reduce64(&reduced, wide)
            #expect(Self.decode(reduced) == Self.decode(wide) % l)

            let a = rng.bytes(32), b = rng.bytes(32), c = rng.bytes(32)
            var out = [UInt8](repeating: 0, count: 32)
            rc_ed25519_testing_sc_muladd(&out, a, b, c)
            let product: BigUInt = Self.decode(a) * Self.decode(b)
            let expected: BigUInt = (product + Self.decode(c)) % l
            #expect(Self.decode(out) == expected)
        }
        let edges: [BigUInt] = [0, l - 1, l, l + 1, BigUInt(1) << 253, (BigUInt(1) << 256) - 1, l - 1 + (BigUInt(1) << 252)]
        for value in edges {
            let bytes = Self.encode(value % (BigUInt(1) << 256))
            #expect((rc_ed25519_testing_sc_is_canonical(bytes) == 1) == (value < l), "\(value)")
        }
    }

    @Test("ZIP-215 decoding: non-canonical y and negative zero decode; re-encoding is canonical")
    func decoding() {
        let p = Self.p
        var out = [UInt8](repeating: 0, count: 32)
        // y = 1 (the identity) with the sign bit set: x = 0, accepted under ZIP-215.
        var negativeZero = Self.encode(1)
        negativeZero[31] |= 0x80
        #expect(rc_ed25519_testing_decode_encode(&out, negativeZero) == 1)
        #expect(out == Self.encode(1))
        // y = p + 1 is a non-canonical encoding of y = 1: accepted, re-encoded canonically.
        #expect(rc_ed25519_testing_decode_encode(&out, Self.encode(p + 1)) == 1)
        #expect(out == Self.encode(1))
        // y = 2 is not on the curve (x^2 = 3/(4d+1) is not a square).
        #expect(rc_ed25519_testing_decode_encode(&out, Self.encode(2)) == 0)
        // Random valid points round-trip; the sign bit of x survives.
        var rng = SeededGenerator(testSeed: 0xDEC0)
        for _ in 0..<200 {
            let seed = rng.bytes(32)
            var publicKey = [UInt8](repeating: 0, count: 32)
            rc_ed25519_public_key(&publicKey, seed)
            #expect(rc_ed25519_testing_decode_encode(&out, publicKey) == 1)
            #expect(out == publicKey)
        }
    }
}
