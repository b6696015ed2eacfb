// swift-tools-version: 6.1
// The package-benchmark suite, kept in its own package so the main build and tests do not
// compile the benchmark framework. Run from this folder: `swift package benchmark`.
import Foundation
import PackageDescription

// SwiftPM names a path dependency after its folder, which differs between clones.
let root = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent().lastPathComponent

let package = Package(
    name: "RustyCoinBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.0", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "HotPaths",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "BLAKE3", package: root),
                .product(name: "Primitives", package: root),
            ],
            path: "Benchmarks/HotPaths",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "Signatures",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Ed25519", package: root),
                "CSodium",
            ],
            path: "Benchmarks/Signatures",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "ChainPaths",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "ChainState", package: root),
                .product(name: "ChainGen", package: root),
                .product(name: "Verification", package: root),
                .product(name: "ChainParams", package: root),
                .product(name: "Primitives", package: root),
            ],
            path: "Benchmarks/ChainPaths",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // libsodium, the anchor the Ed25519 figures are compared with in the same run.
        .systemLibrary(name: "CSodium", path: "Sources/CSodium", pkgConfig: "libsodium", providers: [.apt(["libsodium-dev"])]),
    ]
)
