import Ed25519
import Foundation
import OpenCLRuntime
import Primitives
import SignatureBackends

/// `rusty bench` section ed25519: Ed25519 single and batch verification, against the libsodium anchor.
enum Ed25519Workload: BenchWorkload {
    static let section = BenchSectionName.ed25519

    static func run(_ r: Recorder) throws {
        let batchSizes: [Int]
        switch r.mode {
        case .tiny: batchSizes = [1, 8, 64]
        case .quick: batchSizes = [1, 64, 256, 1024]
        case .full: batchSizes = [1, 8, 64, 256, 1024, 16384]
        }
        let largest = batchSizes.max()!
        var random = BenchRandom(seed: 7)
        let keys = (0..<min(256, largest)).map { _ in Ed25519.SigningKey(seed: random.bytes(32)) }
        let items = (0..<largest).map { index -> SignatureItem in
            let key = keys[index % keys.count]
            let message = random.bytes(32)
            return SignatureItem(publicKey: key.publicKey, signature: key.sign(message: message), message: message)
        }
        let single = "single verify"
        let sodium = r.options.anchors ? Sodium() : nil
        let anchor = sodium == nil ? nil : (name: single, backend: "libsodium")
        try r.rate(single, backend: Ed25519.Backend.detected.rawValue, unit: "signatures/s", anchor: anchor) { k in
            for index in 0..<k {
                let item = items[index % items.count]
                guard Ed25519.verify(signature: item.signature, message: item.message, publicKey: item.publicKey) else {
                    throw BenchError.verificationFailed("single verify rejected a valid signature")
                }
            }
            return Double(k)
        }
        if let sodium {
            try r.rate(single, backend: "libsodium", unit: "signatures/s") { k in
                for index in 0..<k {
                    let item = items[index % items.count]
                    guard sodium.verify(item.signature, item.message, publicKey: item.publicKey) else {
                        throw BenchError.verificationFailed("libsodium rejected a valid signature")
                    }
                }
                return Double(k)
            }
        }

        let backends = Ed25519.Backend.allCases.filter { $0 != .auto && $0.isSupported && ($0 == .scalar || r.options.runs(.simd)) }
        for backend in backends {
            for size in batchSizes {
                let batch = Array(items.prefix(size))
                try r.rate("batch \(size)", backend: backend.rawValue, unit: "signatures/s", anchor: anchor) { k in
                    for _ in 0..<k {
                        guard !Ed25519.verifyBatch(batch, backend: backend, threads: 1).contains(false) else {
                            throw BenchError.verificationFailed("batch of \(size) on \(backend)")
                        }
                    }
                    return Double(k * size)
                }
            }
        }
        if cores > 1 && r.options.runs(.simd) {
            let backend = Ed25519.Backend.detected
            try r.rate("batch \(largest)", backend: "\(backend.rawValue), \(cores) threads", unit: "signatures/s", anchor: anchor) { k in
                for _ in 0..<k {
                    guard !Ed25519.verifyBatch(items, backend: backend, threads: cores).contains(false) else {
                        throw BenchError.verificationFailed("batch of \(largest) on \(backend), \(cores) threads")
                    }
                }
                return Double(k * largest)
            }
        }
        for device in openCLDevices(r) {
            do {
                let verifier = try OpenCLSignatureVerifier(devices: [device])
                try r.rate("batch \(largest)", backend: "opencl", device: device.name, unit: "signatures/s", anchor: anchor) { k in
                    for _ in 0..<k {
                        guard try !verifier.verify(items).contains(false) else {
                            throw BenchError.verificationFailed("batch of \(largest) on \(device.name)")
                        }
                    }
                    return Double(k * largest)
                }
            } catch let error as BenchError {
                throw error
            } catch {
                r.options.progress("bench: ed25519 on \(device.name) failed: \(error)")
            }
        }
    }
}
