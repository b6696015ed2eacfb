// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "RustyCoin",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "rusty", targets: ["RustyCLI"]),
        .library(name: "BLAKE3", targets: ["BLAKE3"]),
        .library(name: "Primitives", targets: ["Primitives"]),
        .library(name: "Ed25519", targets: ["Ed25519"]),
        .library(name: "ChainParams", targets: ["ChainParams"]),
        .library(name: "Consensus", targets: ["Consensus"]),
        .library(name: "Masternodes", targets: ["Masternodes"]),
        .library(name: "FROST", targets: ["FROST"]),
        .library(name: "DKG", targets: ["DKG"]),
        .library(name: "Quorums", targets: ["Quorums"]),
        .library(name: "QuorumServices", targets: ["QuorumServices"]),
        .library(name: "Governance", targets: ["Governance"]),
        .library(name: "ChainState", targets: ["ChainState"]),
        .library(name: "ChainGen", targets: ["ChainGen"]),
        .library(name: "Verification", targets: ["Verification"]),
        .library(name: "Wire", targets: ["Wire"]),
        .library(name: "JSONRPC", targets: ["JSONRPC"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // Test-only: the big-integer reference for field and scalar property tests.
        .package(url: "https://github.com/attaswift/BigInt", from: "6.0.0"),
        // Lock-free flags between the verification pipeline's stages.
        .package(url: "https://github.com/apple/swift-atomics", from: "1.2.0"),
        // The node (`rusty node`): networking, services, logging.
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        // RPC auth (HMAC-SHA256) and the wallet file (scrypt, ChaCha20-Poly1305).
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        // `/metrics`: swift-metrics' API, exported in Prometheus' text format.
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.0"),
    ],
    targets: [
        // System libraries (Debian packages named in README and .ci/run).
        .systemLibrary(
            name: "COpenSSL",
            path: "Sources/COpenSSL",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),

        // libsodium: a test-only reference for differential Ed25519 tests.
        .systemLibrary(
            name: "CSodium",
            path: "Sources/CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),

        .systemLibrary(
            name: "CRocksDB",
            path: "Sources/CRocksDB",
            providers: [.apt(["librocksdb-dev"])]
        ),

        // Hot C code: portable reference, one file per ISA, run-time dispatch.
        .target(name: "CBLAKE3", path: "Sources/CBLAKE3", cSettings: [.unsafeFlags(["-O3"])]),
        .target(name: "CEd25519", path: "Sources/CEd25519", cSettings: [.unsafeFlags(["-O3"])]),

        // Swift layers.
        .target(name: "BLAKE3", dependencies: ["CBLAKE3"]),
        .target(name: "Ed25519", dependencies: ["CEd25519"]),
        .target(name: "Primitives", dependencies: ["BLAKE3"]),
        .target(name: "Consensus", dependencies: ["Primitives", "BLAKE3", "ChainParams"]),
        .target(name: "Storage", dependencies: ["CRocksDB"]),
        // Special transactions and the deterministic masternode list (PROTOCOL section 16): payloads, rules, proof of service.
        .target(name: "Masternodes", dependencies: [
            "Consensus", "Primitives", "Ed25519", "BLAKE3", "ChainParams", .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // FROST(Ed25519, SHA-512) threshold signing (RFC 9591) on the project's own group arithmetic.
        .target(name: "FROST", dependencies: ["Ed25519", "CEd25519"]),
        // Pedersen DKG with Feldman commitments, proofs of knowledge and HPKE-encrypted shares.
        .target(name: "DKG", dependencies: [
            "FROST", "Ed25519", "Primitives", "BLAKE3", .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // Quorum types, member selection, final commitments and the active quorum set (chain rules).
        .target(name: "Quorums", dependencies: ["Masternodes", "Consensus", "Primitives", "Ed25519", "BLAKE3", "ChainParams"]),
        // What quorums sign for the network: signing requests, recovered signatures, chain locks.
        .target(name: "QuorumServices", dependencies: ["Governance", "Primitives", "BLAKE3", "Ed25519"]),
        // Governance (PROTOCOL section 18): proposals, votes, the tally, the parameter whitelist and the values in force.
        .target(name: "Governance", dependencies: ["Masternodes", "Consensus", "Primitives", "Ed25519", "BLAKE3", "ChainParams"]),
        .target(name: "ChainState", dependencies: ["Governance", "QuorumServices", "Consensus", "Masternodes", "Quorums", "Primitives", "Storage", "Ed25519", "BLAKE3", "ChainParams"]),
        // Bulk verification (the staged pipeline and the sequential verifier) over ChainState.
        .target(name: "Verification", dependencies: [
            "ChainState", "Consensus", "Primitives", "Ed25519", .product(name: "Atomics", package: "swift-atomics"),
        ]),
        .target(name: "ChainGen", dependencies: ["ChainState", "Consensus", "Masternodes", "Governance", "Primitives", "Ed25519", "BLAKE3"]),
        .target(name: "Mining", dependencies: ["ChainState", "Consensus", "Masternodes", "Quorums", "Governance", "Primitives", "ProofOfWorkSearch"]),
        // The P2P wire protocol (docs/PROTOCOL.md section 12): framing and message codecs, no I/O.
        .target(name: "Wire", dependencies: ["Primitives", "BLAKE3", "QuorumServices"]),
        // Peer addresses: the address manager (peers.dat) and the ban list (banlist).
        .target(name: "AddressBook", dependencies: ["Primitives", "BLAKE3"]),
        // Stratum v1 with header-only jobs: messages, line framing, nonce prefixes, share checks, variable difficulty; no sockets.
        .target(name: "Stratum", dependencies: ["Primitives", "BLAKE3", "JSONRPC", .product(name: "NIOCore", package: "swift-nio")]),
        // JSON values and the JSON-RPC protocol (requests, errors, method table, dispatch); no I/O.
        .target(name: "JSONRPC", dependencies: ["Primitives"]),
        // JSON-RPC over HTTP on SwiftNIO's HTTP/1 handlers: auth (cookie, rpcauth), limits, keep-alive.
        .target(name: "RPCServer", dependencies: [
            "JSONRPC", "Primitives",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The transaction pool: acceptance against chain state plus pool, block updates, templates.
        .target(name: "Mempool", dependencies: ["ChainState", "Masternodes", "Quorums", "Governance", "Consensus", "Primitives", "ChainParams"]),
        // The transaction index (-txindex): txid -> block position, its own column family.
        .target(name: "TxIndex", dependencies: ["ChainState", "Storage", "Primitives"]),
        // `rusty wallet` and the wallet RPCs: encrypted keys, addresses, coins, sending.
        .target(name: "Wallet", dependencies: [
            "ChainState", "Consensus", "Masternodes", "Governance", "Primitives", "Ed25519", "BLAKE3",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
        ]),
        // `rusty node`: P2P on SwiftNIO, headers-first sync, relay, RPC methods, metrics, services, configuration, logs.
        .target(name: "Node", dependencies: [
            "DKG", "FROST", "Wire", "AddressBook", "ChainState", "Verification", "Consensus", "Primitives", "ChainParams", "Ed25519", "BLAKE3",
            "Masternodes", "JSONRPC", "RPCServer", "Mempool", "TxIndex", "Wallet", "Mining", "ProofOfWorkSearch", "Stratum", "Quorums",
            "QuorumServices", "Governance",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Atomics", package: "swift-atomics"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),
        // `rusty mine --rpc` and `--stratum`: work sources over the network, the search loop, status lines.
        .target(name: "MiningClient", dependencies: [
            "Stratum", "Mining", "ProofOfWorkSearch", "JSONRPC", "RPCServer", "Primitives", "Consensus", "BLAKE3",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        .target(
            name: "ChainParams",
            dependencies: ["Primitives"],
            plugins: [.plugin(name: "EmbedConfigPlugin")]
        ),

        // Build-time embedding of Config/ (and later Kernels/) into the binary.
        .executableTarget(name: "EmbedFiles", path: "Sources/EmbedFiles"),
        .plugin(name: "EmbedConfigPlugin", capability: .buildTool(), dependencies: ["EmbedFiles"]),
        // The git commit for `rusty --version` ("unknown" without git, e.g. from a tarball).
        .plugin(name: "EmbedGitCommitPlugin", capability: .buildTool()),

        // OpenCL: the ICD loader, the runtime layer, the embedded kernels, and the backends.
        .systemLibrary(
            name: "COpenCL",
            path: "Sources/COpenCL",
            providers: [.apt(["ocl-icd-opencl-dev", "opencl-c-headers"])]
        ),
        .target(name: "OpenCLRuntime", dependencies: ["COpenCL", "BLAKE3", "Primitives"]),
        .plugin(name: "EmbedKernelsPlugin", capability: .buildTool(), dependencies: ["EmbedFiles"]),
        .target(name: "OpenCLKernels", plugins: [.plugin(name: "EmbedKernelsPlugin")]),
        .target(name: "ProofOfWorkSearch", dependencies: ["BLAKE3", "Primitives", "OpenCLRuntime", "OpenCLKernels"]),
        .target(name: "MerkleBackends", dependencies: ["BLAKE3", "Primitives", "OpenCLRuntime", "OpenCLKernels"]),
        .target(name: "SignatureBackends", dependencies: ["Ed25519", "OpenCLRuntime", "OpenCLKernels"]),
        .target(name: "Bench", dependencies: [
            "BLAKE3", "Primitives", "Ed25519", "ChainParams", "Consensus", "Storage", "ChainState", "ChainGen", "Verification",
            "OpenCLRuntime", "ProofOfWorkSearch", "MerkleBackends", "SignatureBackends", "FROST",
            "DKG", "Governance", "Masternodes",
        ]),

        .executableTarget(
            name: "RustyCLI",
            dependencies: [
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                "BLAKE3", "Ed25519", "Primitives", "ChainParams",
                "OpenCLRuntime", "ProofOfWorkSearch", "MerkleBackends",
                "SignatureBackends",
                "Consensus", "ChainState", "ChainGen", "Mining", "Verification",
                "Bench", "Node", "JSONRPC", "RPCServer", "Stratum", "MiningClient", "Masternodes", "Governance",
            ],
            // jemalloc replaces glibc's malloc in the command: the verification pipeline
            // allocates on one thread and frees on another about a million small objects per
            // 2,000 blocks, which glibc handles slowly (docs/PERFORMANCE.md, "Bulk verification").
            linkerSettings: [
                // Release only: the test bundle links this target (RustyCLITests decode its
                // output types), and under the thread sanitizer memory allocated by jemalloc
                // before TSan's interceptors run is freed through them (a TSan CHECK failure at
                // load). Debug builds are never measured, so they keep glibc's malloc.
                .linkedLibrary("jemalloc", .when(configuration: .release)),
                // Release only: the Swift runtime and Foundation linked statically, so start-up
                // maps and relocates 16 libraries instead of 30 (about 3.5 ms less CPU per run,
                // which `rusty hash` on one file pays; docs/PERFORMANCE.md, "Bulk hashing, one
                // thread"). The cost is a larger binary (84 MB instead of 13 MB, mostly ICU
                // data). -static-stdlib alone leaves Foundation's own static dependencies
                // unresolved on Linux, so they are named here, in a group (any order).
                .unsafeFlags(["-static-stdlib", "-Xlinker", "--start-group"]
                             + ["Foundation", "CoreFoundation", "FoundationEssentials", "FoundationInternationalization",
                                "_FoundationICU", "_FoundationCShims", "_FoundationCollections",
                                "swiftSynchronization", "swiftDispatch", "dispatch", "BlocksRuntime"].flatMap { ["-Xlinker", "-l\($0)"] }
                             + ["-Xlinker", "--end-group"],
                             .when(platforms: [.linux], configuration: .release)),
            ],
            plugins: [.plugin(name: "EmbedGitCommitPlugin")]
        ),

        .target(name: "TestSupport", dependencies: ["Primitives", "Consensus", "Masternodes", "Ed25519", "QuorumServices"], path: "Tests/TestSupport"),
        .testTarget(name: "BLAKE3Tests", dependencies: ["BLAKE3", "Primitives", "TestSupport"]),
        .testTarget(name: "Ed25519Tests", dependencies: [
            "Ed25519", "CEd25519", "COpenSSL", "CSodium", "TestSupport", .product(name: "BigInt", package: "BigInt"),
        ], exclude: ["ConstantTime"]), // C built by the test itself, for valgrind
        .testTarget(name: "StorageTests", dependencies: ["Storage", "TestSupport"]),
        .testTarget(name: "ChainStateTests", dependencies: [
            "ChainState", "ChainGen", "Consensus", "ChainParams", "Primitives", "Ed25519", "Masternodes", "Mining", "TestSupport", "Quorums", "Mempool",
            "QuorumServices",
        ]),
        .testTarget(name: "VerificationTests", dependencies: [
            "Verification", "ChainState", "ChainGen", "Consensus", "ChainParams", "Primitives", "Ed25519", "Masternodes", "TestSupport",
        ]),
        .testTarget(name: "MiningTests", dependencies: ["Mining", "ChainState", "Consensus", "ChainParams", "Primitives", "ProofOfWorkSearch", "TestSupport"]),
        .testTarget(name: "ConsensusTests", dependencies: ["Consensus", "Primitives", "ChainParams", "Ed25519", "TestSupport"]),
        .testTarget(name: "PrimitivesTests", dependencies: ["Primitives", "BLAKE3", "TestSupport"]),
        .testTarget(name: "ChainParamsTests", dependencies: ["ChainParams", "Primitives", "TestSupport"]),
        .testTarget(name: "BenchTests", dependencies: ["Bench", "TestSupport"]),
        .testTarget(name: "RustyCLITests", dependencies: ["RustyCLI", "Primitives", "BLAKE3", "ChainParams", "Ed25519", "ChainState", "ChainGen", "Consensus", "Masternodes",
                                                          "JSONRPC", "RPCServer", "TestSupport"]),
        .testTarget(name: "StratumTests", dependencies: [
            "Stratum", "MiningClient", "Mining", "ProofOfWorkSearch", "JSONRPC", "Primitives", "BLAKE3", "TestSupport",
            // The RPC miner's tests serve getblocktemplate/submitblock with the node's HTTP server.
            "RPCServer", .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
        ]),
        .testTarget(name: "WireTests", dependencies: ["Wire", "Primitives", "BLAKE3", "QuorumServices", "Governance", "TestSupport"]),
        .testTarget(name: "AddressBookTests", dependencies: ["AddressBook", "Primitives", "TestSupport"]),
        .testTarget(name: "NodeTests", dependencies: [
            "DKG", "FROST", "Node", "Wire", "AddressBook", "ChainState", "ChainGen", "Verification", "Consensus", "ChainParams", "Primitives", "Ed25519",
            "JSONRPC", "Mempool", "TxIndex", "Wallet", .product(name: "Logging", package: "swift-log"),
            "TestSupport", "Masternodes", "Quorums", "QuorumServices", "Governance", "BLAKE3",
            "Stratum",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
        ]),
        .testTarget(name: "JSONRPCTests", dependencies: ["JSONRPC", "RPCServer", "TestSupport", .product(name: "Logging", package: "swift-log"),
                                                          .product(name: "NIOCore", package: "swift-nio"),
                                                          .product(name: "NIOPosix", package: "swift-nio")]),
        .testTarget(name: "MasternodeTests", dependencies: [
            "Masternodes", "Consensus", "Primitives", "Ed25519", "ChainParams", "BLAKE3", "TestSupport",
        ]),
        .testTarget(name: "FROSTTests", dependencies: ["FROST", "Ed25519", "TestSupport", "SignatureBackends", "OpenCLRuntime"]),
        .testTarget(name: "DKGTests", dependencies: ["DKG", "FROST", "Ed25519", "TestSupport", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "GovernanceTests", dependencies: [
            "Governance", "ChainState", "ChainGen", "Masternodes", "Consensus", "Primitives", "Ed25519", "ChainParams", "BLAKE3", "TestSupport",
        ]),
        .testTarget(name: "QuorumServicesTests", dependencies: ["QuorumServices", "Governance", "Primitives", "Ed25519", "BLAKE3", "TestSupport"]),
        .testTarget(name: "QuorumTests", dependencies: [
            "Quorums", "Masternodes", "Consensus", "Primitives", "Ed25519", "ChainParams", "BLAKE3", "TestSupport",
        ]),
        .testTarget(name: "MempoolTests", dependencies: [
            "Mempool", "Masternodes", "Governance", "Mining", "ChainState", "ChainGen", "Consensus", "ChainParams", "Primitives", "Ed25519", "TestSupport",
        ]),
        .testTarget(name: "TxIndexTests", dependencies: ["TxIndex", "ChainState", "ChainGen", "Consensus", "ChainParams", "Primitives", "TestSupport"]),
        .testTarget(name: "WalletTests", dependencies: [
            "Wallet", "ChainState", "ChainGen", "Consensus", "ChainParams", "Masternodes", "Governance", "Primitives", "Ed25519", "TestSupport",
        ]),
        // Loopback networks of real `rusty node` processes and a hostile wire-protocol peer.
        .testTarget(name: "NodeNetworkTests", dependencies: [
            "Wire", "JSONRPC", "ChainState", "ChainGen", "Consensus", "ChainParams", "Primitives", "TestSupport",
            "Masternodes", "Ed25519", "Wallet",
        ]),
        .testTarget(
            name: "OpenCLTests",
            dependencies: ["OpenCLRuntime", "OpenCLKernels", "ProofOfWorkSearch", "MerkleBackends", "Primitives", "BLAKE3", "TestSupport",
                           "SignatureBackends", "Ed25519"]
        ),
    ]
)
