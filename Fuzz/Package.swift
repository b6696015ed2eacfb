// swift-tools-version: 6.0
import PackageDescription

// libFuzzer targets for the engine (README, "Fuzzing"). A package of its own so the root
// package's `swift build`/`swift test` never see sanitizer flags; scripts/fuzz.sh builds it
// with `--sanitize fuzzer --sanitize address` into .build-fuzz/.
let package = Package(
    name: "RustyFuzz",
    platforms: [.macOS(.v14)],
    dependencies: [.package(name: "RustyCoin", path: "..")],
    targets: [
        .target(name: "CFuzzer"),
        .target(name: "FuzzSupport", dependencies: ["CFuzzer", .product(name: "Primitives", package: "RustyCoin")]),
        .executableTarget(name: "FuzzTransaction", dependencies: ["FuzzSupport", .product(name: "Primitives", package: "RustyCoin")]),
        .executableTarget(name: "FuzzBlock", dependencies: [
            "FuzzSupport", .product(name: "Primitives", package: "RustyCoin"),
            .product(name: "Consensus", package: "RustyCoin"), .product(name: "ChainParams", package: "RustyCoin"),
        ]),
        .executableTarget(name: "FuzzBlockFile", dependencies: [
            "FuzzSupport", .product(name: "Primitives", package: "RustyCoin"), .product(name: "ChainState", package: "RustyCoin"),
        ]),
        .executableTarget(name: "FuzzScript", dependencies: [
            "FuzzSupport", .product(name: "Primitives", package: "RustyCoin"),
            .product(name: "Consensus", package: "RustyCoin"), .product(name: "BLAKE3", package: "RustyCoin"),
        ]),
        .executableTarget(name: "FuzzConnect", dependencies: [
            "FuzzSupport", .product(name: "Primitives", package: "RustyCoin"), .product(name: "Consensus", package: "RustyCoin"),
            .product(name: "ChainParams", package: "RustyCoin"), .product(name: "ChainState", package: "RustyCoin"),
            .product(name: "ChainGen", package: "RustyCoin"),
        ]),
        .executableTarget(name: "FuzzFrame", dependencies: [
            "FuzzSupport", .product(name: "Wire", package: "RustyCoin"), .product(name: "Primitives", package: "RustyCoin"),
        ]),
        .executableTarget(name: "FuzzMessage", dependencies: [
            "FuzzSupport", .product(name: "Wire", package: "RustyCoin"), .product(name: "Primitives", package: "RustyCoin"),
        ]),
        .executableTarget(name: "FuzzJSON", dependencies: ["FuzzSupport", .product(name: "JSONRPC", package: "RustyCoin")]),
    ]
)
