import BigInt
import Ed25519
import Testing
import TestSupport

/// The public group API (Ed25519.Scalar / Ed25519.Point) against big-integer arithmetic
/// mod l and affine Edwards arithmetic mod p.
struct GroupTests {
    typealias Scalar = Ed25519.Scalar
    typealias Point = Ed25519.Point
    static let p = ArithmeticTests.p, l = ArithmeticTests.l
    static let d = (p - BigUInt(121665) * BigUInt(121666).inverse(p)! % p) % p

    static func big(_ s: Scalar) -> BigUInt { ArithmeticTests.decode(s.bytes) }
    static func scalar(_ value: BigUInt) -> Scalar { Scalar(canonical: ArithmeticTests.encode(value % l))! }

    static func randomScalar(_ rng: inout SeededGenerator) -> Scalar {
        switch Int.random(in: 0..<6, using: &rng) {
        case 0: return scalar([BigUInt(0), 1, 2, l - 1, l - 2, (l - 1) / 2].randomElement(using: &rng)!)
        default: return Scalar(reducing: rng.bytes(64))
        }
    }

    // ---- affine reference ----
    struct Affine: Equatable { var x: BigUInt, y: BigUInt }

    static func affine(_ point: Point) -> Affine {
        let bytes = point.encoded
        let sign = bytes[31] >> 7
        let y = ArithmeticTests.decode(bytes) & ((BigUInt(1) << 255) - 1)
        let u = (y * y + p - 1) % p, v = (d * y * y + 1) % p
        let ratio = u * v.inverse(p)! % p
        var x = ratio.power((p + 3) / 8, modulus: p)
        if x * x % p != ratio { x = x * BigUInt(2).power((p - 1) / 4, modulus: p) % p }
        if x % 2 != BigUInt(sign) { x = (p - x) % p }
        return Affine(x: x, y: y)
    }

    static func add(_ a: Affine, _ b: Affine) -> Affine {
        let t = d * a.x % p * b.x % p * a.y % p * b.y % p
        let x = (a.x * b.y + a.y * b.x) % p * ((1 + t) % p).inverse(p)! % p
        let y = (a.y * b.y + a.x * b.x) % p * ((1 + p - t) % p).inverse(p)! % p
        return Affine(x: x, y: y)
    }

    static func encode(_ a: Affine) -> [UInt8] {
        var bytes = ArithmeticTests.encode(a.y)
        bytes[31] |= UInt8(a.x % 2) << 7
        return bytes
    }

    @Test("scalar add, sub, mul, negate, invert and reduction equal big-integer arithmetic mod l")
    func scalarArithmetic() {
        var rng = SeededGenerator(testSeed: 0x6A0)
        let l = Self.l
        for round in 0..<1500 {
            let a = Self.randomScalar(&rng), b = Self.randomScalar(&rng)
            let x = Self.big(a), y = Self.big(b)
            #expect(Self.big(a + b) == (x + y) % l)
            #expect(Self.big(a - b) == (x + l - y) % l)
            #expect(Self.big(a * b) == x * y % l)
            #expect(Self.big(-a) == (l - x) % l)
            #expect(a.isZero == (x == 0))
            if round % 10 == 0 {
                if x == 0 { #expect(a.inverse == nil) } else { #expect(Self.big(a.inverse!) == x.inverse(l)!) }
            }
            let wide = rng.bytes(Int.random(in: 0...130, using: &rng))
            #expect(Self.big(Scalar(reducing: wide)) == ArithmeticTests.decode(wide) % l, "\(wide.count) bytes")
        }
        #expect(Scalar.zero.inverse == nil)
        #expect(Scalar.one.inverse == Scalar.one)
        #expect(Self.big(Scalar(0xFFFF_FFFF_FFFF_FFFF)) == BigUInt(UInt64.max))
    }

    @Test("canonical scalars: exactly 32 bytes below l")
    func canonicalScalars() {
        let l = Self.l
        for value in [l - 1, l, l + 1, (BigUInt(1) << 256) - 1, BigUInt(1) << 253] {
            #expect((Scalar(canonical: ArithmeticTests.encode(value)) != nil) == (value < l), "\(value)")
        }
        #expect(Scalar(canonical: [UInt8](repeating: 0, count: 31)) == nil)
        #expect(Scalar(canonical: [UInt8](repeating: 0, count: 33)) == nil)
        #expect(Scalar(canonical: []) == nil)
    }

    @Test("point add, subtract, negate equal affine Edwards arithmetic mod p")
    func pointArithmeticAgainstAffine() {
        var rng = SeededGenerator(testSeed: 0xAFF1)
        for _ in 0..<25 {
            let a = Point.base(times: Self.randomScalar(&rng)), b = Point.base(times: Self.randomScalar(&rng))
            let sum = Self.add(Self.affine(a), Self.affine(b))
            #expect((a + b).encoded == Self.encode(sum))
            let negB = Self.affine(-b)
            #expect(negB == Affine(x: (Self.p - Self.affine(b).x) % Self.p, y: Self.affine(b).y))
            #expect((a - b).encoded == Self.encode(Self.add(Self.affine(a), negB)))
        }
        // B itself: the RFC 8032 base point, y = 4/5.
        #expect(Self.affine(.base).y == 4 * BigUInt(5).inverse(Self.p)! % Self.p)
    }

    @Test("scalar multiplication: linearity, constant-time and vartime agree, l*B is the identity")
    func scalarMultiplication() {
        var rng = SeededGenerator(testSeed: 0x5CA1)
        for _ in 0..<40 {
            let a = Self.randomScalar(&rng), b = Self.randomScalar(&rng)
            let aB = Point.base(times: a), bB = Point.base(times: b)
            #expect(Point.base(times: a + b) == aB + bB)
            #expect(a * bB == Point.base(times: a * b))
            #expect(bB.multipliedVartime(by: a) == a * bB)
            #expect(a * Point.base == aB)
            #expect(aB - aB == .identity)
            #expect(aB + (-aB) == .identity)
            #expect(aB.isInPrimeOrderSubgroup)
        }
        #expect(Point.base(times: .zero).isIdentity)
        #expect(Scalar.zero * Point.base == .identity)
        // (l-1)B + B = lB = O.
        let lMinusOne = Self.scalar(Self.l - 1)
        #expect(Point.base(times: lMinusOne) + .base == .identity)
        #expect(Point.base(times: lMinusOne) == -Point.base)
        #expect(Point.identity.isInPrimeOrderSubgroup)
        #expect(Point(encoded: Point.identity.encoded) == .identity)
    }

    @Test("multi-scalar multiplication equals the sum of products (Straus and Pippenger sizes)")
    func multiScalar() {
        var rng = SeededGenerator(testSeed: 0x3535)
        for count in [0, 1, 2, 7, 33, 97, 260] {
            let scalars = (0..<count).map { _ in Self.randomScalar(&rng) }
            let points = (0..<count).map { _ in Point.base(times: Self.randomScalar(&rng)) }
            var expected = Point.identity
            for i in 0..<count { expected = expected + scalars[i] * points[i] }
            #expect(Point.multiScalar(scalars, points) == expected, "\(count) terms")
        }
    }

    @Test("strict decoding of every ZIP-215 small-order encoding; the subgroup check rejects all but the identity")
    func smallOrderEncodings() throws {
        let p = Self.p
        var canonical = 0
        for encoding in Set(try Ed25519Vectors.zip215().flatMap { [$0.publicKey, Array($0.signature.prefix(32))] }) {
            let y = ArithmeticTests.decode(encoding) & ((BigUInt(1) << 255) - 1)
            let xIsZero = y == 1 || y == p - 1
            let isCanonical = y < p && !(xIsZero && encoding[31] >> 7 == 1)
            let point = Point(encoded: encoding)
            #expect((point != nil) == isCanonical, "\(encoding)")
            guard let point else { continue }
            canonical += 1
            #expect(point.isInPrimeOrderSubgroup == point.isIdentity, "\(encoding)")
            // A prime-order point plus torsion leaves the subgroup.
            if !point.isIdentity { #expect(!(Point.base + point).isInPrimeOrderSubgroup) }
        }
        #expect(canonical == 8) // the eight torsion points each have one canonical encoding
    }

    @Test("adversarial encodings: wrong lengths, y >= p, negative zero, off-curve")
    func adversarialEncodings() {
        let p = Self.p
        #expect(Point(encoded: []) == nil)
        #expect(Point(encoded: [UInt8](repeating: 0, count: 31)) == nil)
        #expect(Point(encoded: Point.base.encoded + [0]) == nil)
        #expect(Point(encoded: ArithmeticTests.encode(p + 1)) == nil)          // y = 1 + p
        var negativeZero = ArithmeticTests.encode(1)
        negativeZero[31] |= 0x80
        #expect(Point(encoded: negativeZero) == nil)
        #expect(Point(encoded: ArithmeticTests.encode(2)) == nil)              // not on the curve
        var flipped = Point.base.encoded
        flipped[31] ^= 0x80
        #expect(Point(encoded: flipped) == -Point.base)
    }
}
