import BLAKE3
import ChainParams
import Consensus
import Ed25519
import Foundation
import MerkleBackends
import OpenCLRuntime
import Primitives
import ProofOfWorkSearch

/// One section of `rusty bench`: the figures it records for the section it names. Workloads
/// only measure (through the Recorder); they never print or decide what runs.
protocol BenchWorkload {
    static var section: BenchSectionName { get }
    static func run(_ r: Recorder) throws
}

/// The workloads in run order, one per section.
let benchWorkloads: [any BenchWorkload.Type] = [
    Blake3Workload.self, PoWWorkload.self, MerkleWorkload.self, Ed25519Workload.self, UTXOWorkload.self, VerifyChainWorkload.self,
    MempoolWorkload.self, FROSTWorkload.self,
    DKGWorkload.self, GovernanceWorkload.self,
]

/// What several workloads share: cores, backends to measure, scratch directories, regtest.
extension BenchWorkload {
    static var cores: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    /// SIMD levels to measure: scalar always (the baseline), the others with `--backend simd`.
    static func levels(_ r: Recorder) -> [BLAKE3Level] {
        BLAKE3Level.supported.sorted { $0.rawValue < $1.rawValue }.filter { $0 == .scalar || r.options.runs(.simd) }
    }

    static func openCLDevices(_ r: Recorder) -> [OpenCLDevice] { r.options.runs(.opencl) ? r.options.devices : [] }

    static func temporaryDirectory(_ label: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("rusty-bench-\(label)-\(UUID().uuidString)").path
    }

    static func directorySize(_ path: String) -> Int {
        guard let enumerator = FileManager.default.enumerator(atPath: path) else { return 0 }
        var total = 0
        while let name = enumerator.nextObject() as? String {
            let attributes = try? FileManager.default.attributesOfItem(atPath: path + "/" + name)
            if (attributes?[.type] as? FileAttributeType) == .typeRegular { total += (attributes?[.size] as? Int) ?? 0 }
        }
        return total
    }

    static func regtest() throws -> ConsensusParameters {
        try ConsensusParameters(ChainParameters.builtIn("regtest"))
    }
}
