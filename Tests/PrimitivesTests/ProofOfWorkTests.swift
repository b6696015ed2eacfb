import BLAKE3
import Primitives
import Testing
import TestSupport

struct ProofOfWorkTests {
    @Test("compact bits to target: Bitcoin's known values")
    func knownTargets() throws {
        #expect(try CompactTarget(bits: 0x1D00_FFFF).target().hex == "00000000ffff0000000000000000000000000000000000000000000000000000")
        #expect(try CompactTarget(bits: 0x207F_FFFF).target().hex == "7fffff0000000000000000000000000000000000000000000000000000000000")
        #expect(try CompactTarget(bits: 0x0312_3456).target() == UInt256(0x12_3456))
        #expect(try CompactTarget(bits: 0x0212_3456).target() == UInt256(0x1234))
        #expect(try CompactTarget(bits: 0x0112_3456).target() == UInt256(0x12))
        #expect(try CompactTarget(bits: 0x0412_3456).target() == UInt256(0x1234_5600))
        #expect(try CompactTarget(bits: 0x2200_00FF).target().hex == "ff00000000000000000000000000000000000000000000000000000000000000")
    }

    @Test("compact bits edge cases: sign bit, overflow, zero")
    func edgeCases() {
        #expect(throws: CompactTarget.Problem.negative(0x0392_3456)) { try CompactTarget(bits: 0x0392_3456).target() }
        #expect(throws: CompactTarget.Problem.negative(0x0480_0001)) { try CompactTarget(bits: 0x0480_0001).target() }
        #expect(throws: CompactTarget.Problem.zero(0x0000_0000)) { try CompactTarget(bits: 0).target() }
        #expect(throws: CompactTarget.Problem.zero(0x1D00_0000)) { try CompactTarget(bits: 0x1D00_0000).target() }
        // Sign bit with a zero mantissa is zero, as in Bitcoin Core.
        #expect(throws: CompactTarget.Problem.zero(0x0480_0000)) { try CompactTarget(bits: 0x0480_0000).target() }
        #expect(throws: CompactTarget.Problem.zero(0x0100_0012)) { try CompactTarget(bits: 0x0100_0012).target() }
        #expect(throws: CompactTarget.Problem.overflow(0x2301_0000)) { try CompactTarget(bits: 0x2301_0000).target() }
        #expect(throws: CompactTarget.Problem.overflow(0x2200_0100)) { try CompactTarget(bits: 0x2200_0100).target() }
        #expect(throws: CompactTarget.Problem.overflow(0x2101_0000)) { try CompactTarget(bits: 0x2101_0000).target() }
        #expect(throws: CompactTarget.Problem.overflow(0xFF12_3456)) { try CompactTarget(bits: 0xFF12_3456).target() }
    }

    @Test("target to compact: canonical, never negative, and a round trip for canonical bits")
    func targetToCompact() throws {
        #expect(CompactTarget(target: UInt256(0x80)).bits == 0x0200_8000)
        #expect(CompactTarget(target: UInt256(0x12_3456)).bits == 0x0312_3456)
        #expect(CompactTarget(target: UInt256(0x1234_5678)).bits == 0x0412_3456) // rounds down
        #expect(CompactTarget(target: .zero).bits == 0)
        var rng = SeededGenerator.logged(21)
        for _ in 0..<2000 {
            let exponent = UInt32.random(in: 3...32, using: &rng)
            let mantissa = UInt32.random(in: 0x8000...0x7F_FFFF, using: &rng)
            let bits = exponent << 24 | mantissa
            let target = try CompactTarget(bits: bits).target()
            #expect(CompactTarget(target: target).bits == bits, "bits \(bits)")
            #expect(CompactTarget(target: target).bits & 0x0080_0000 == 0)
        }
    }

    @Test("hash <= target with the hash read big-endian")
    func meetsTarget() throws {
        var bytes = [UInt8](repeating: 0, count: 32)
        bytes[0] = 0x7F; bytes[1] = 0xFF; bytes[2] = 0xFF; bytes[31] = 0x01
        let target = try CompactTarget(bits: 0x207F_FFFF).target() // 7fffff00...00
        #expect(!ProofOfWork.meets(Hash256(bytes: bytes)!, target: target)) // 7fffff00...01: one above
        bytes[31] = 0
        #expect(ProofOfWork.meets(Hash256(bytes: bytes)!, target: target)) // equal
        bytes[2] = 0xFE; bytes[31] = 0xFF
        #expect(ProofOfWork.meets(Hash256(bytes: bytes)!, target: target)) // 7ffffe...ff: below
        #expect(ProofOfWork.meets(Hash256(bytes: target.bigEndianBytes)!, target: target))
        // Byte 31 is least significant: a hash that is small read little-endian is not accepted.
        var littleSmall = [UInt8](repeating: 0, count: 32)
        littleSmall[0] = 0xFF
        #expect(!ProofOfWork.meets(Hash256(bytes: littleSmall)!, target: try CompactTarget(bits: 0x1D00_FFFF).target()))
    }

    @Test("the midstate plus one compression gives the header hash, for any nonce and time")
    func midstate() {
        var rng = SeededGenerator.logged(99)
        for _ in 0..<200 {
            var header = rng.header()
            let midstate = header.midstate
            header.nonce = rng.next()
            header.time = rng.next()
            let encoded = header.encoded
            let viaMidstate = encoded.withUnsafeBytes { midstate.hash(secondBlock: UnsafeRawBufferPointer(rebasing: $0[64..<128])) }
            #expect(viaMidstate == header.hash)
            #expect(header.hash.bytes == BLAKE3.hash(encoded, level: .scalar))
            #expect(header.midstate == midstate)
        }
    }

    @Test("work = 2^256 / (target + 1)")
    func work() {
        #expect(ProofOfWork.work(target: UInt256.max) == UInt256(1))
        #expect(ProofOfWork.work(target: UInt256(1) << 255) == UInt256(1)) // 2^256 / (2^255 + 1) = 1
        #expect(ProofOfWork.work(target: (UInt256(1) << 224) - UInt256(1)) == UInt256(1) << 32)
    }

    @Test("UInt256 division: q * d + r == x and r < d for random widths, divisors above 2^255 included")
    func division() {
        var rng = SeededGenerator.logged(9)
        func random(bits: Int) -> UInt256 {
            let x = UInt256(limbs: (rng.next(), rng.next(), rng.next(), rng.next()))
            return bits >= 256 ? x : x >> (256 - bits)
        }
        /// q * d + r (mod 2^256), from 64-bit partial products.
        func recombine(_ q: UInt256, _ d: UInt256, _ r: UInt256) -> UInt256 {
            var total = r
            for (limb, shift) in [(d.limbs.0, 0), (d.limbs.1, 64), (d.limbs.2, 128), (d.limbs.3, 192)] {
                total = total.addingReportingOverflow(q.multipliedReportingOverflow(by: limb).partialValue << shift).partialValue
            }
            return total
        }
        for _ in 0..<3000 {
            let x = random(bits: Int.random(in: 1...256, using: &rng))
            var d = random(bits: Int.random(in: 1...256, using: &rng))
            if d.isZero { d = UInt256(1) }
            let (q, r) = x.quotientAndRemainder(dividingBy: d)
            #expect(r < d)
            #expect(recombine(q, d, r) == x, "\(x.hex) / \(d.hex)")
        }
        // Remainders that pass 2^255 on their way (divisor just above 2^255).
        let big = (UInt256(1) << 255).addingReportingOverflow(UInt256(12345)).partialValue
        let (q, r) = UInt256.max.quotientAndRemainder(dividingBy: big)
        #expect(q == UInt256(1) && r == UInt256.max.subtractingReportingOverflow(big).partialValue)
    }

    @Test("UInt256 shifts by any Int, Int.min and Int.max included, never trap")
    func extremeShifts() {
        let x = UInt256(limbs: (1, 2, 3, 0x8000_0000_0000_0000))
        for shift in [Int.min, Int.min + 1, -256, 256, Int.max, 1 << 40, -(1 << 40)] {
            #expect(x << shift == .zero, "\(shift)")
            #expect(x >> shift == .zero, "\(shift)")
        }
        #expect(x << -1 == x >> 1 && x >> -1 == x << 1)
        #expect(x >> -255 == UInt256(limbs: (0, 0, 0, 0x8000_0000_0000_0000)))
        #expect(UInt256(1) << -0 == UInt256(1))
    }

    @Test("UInt256 arithmetic against 128-bit arithmetic on random values")
    func uint256() {
        var rng = SeededGenerator.logged(5)
        for _ in 0..<2000 {
            let a = UInt64.random(in: 0...UInt64.max, using: &rng), b = UInt64.random(in: 1...UInt64.max, using: &rng)
            let product = UInt256(a).multipliedReportingOverflow(by: b).partialValue
            let (high, low) = a.multipliedFullWidth(by: b)
            #expect(product.limbs.0 == low && product.limbs.1 == high)
            let (q, r) = product.quotientAndRemainder(dividingBy: UInt256(b))
            #expect(q == UInt256(a) && r == .zero)
            let shift = Int.random(in: 0...255, using: &rng)
            let x = UInt256(limbs: (rng.next(), rng.next(), rng.next(), rng.next()))
            #expect((x << shift) >> shift == x & ((UInt256.max >> shift)))
            let y = UInt256(limbs: (rng.next(), rng.next(), rng.next(), rng.next()))
            let (sum, overflow) = x.addingReportingOverflow(y)
            let (back, underflow) = sum.subtractingReportingOverflow(y)
            #expect(back == x && overflow == underflow)
            #expect(UInt256(bigEndian: x.bigEndianBytes) == x)
        }
    }
}

extension UInt256 {
    static func & (lhs: UInt256, rhs: UInt256) -> UInt256 {
        UInt256(limbs: (lhs.limbs.0 & rhs.limbs.0, lhs.limbs.1 & rhs.limbs.1, lhs.limbs.2 & rhs.limbs.2, lhs.limbs.3 & rhs.limbs.3))
    }
    static func - (lhs: UInt256, rhs: UInt256) -> UInt256 { lhs.subtractingReportingOverflow(rhs).partialValue }
}
