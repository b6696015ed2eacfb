import Ed25519
import Foundation
import Primitives

extension VerificationPipeline {
    public struct Options: Sendable {
        public var verifier: Verifier
        /// Shown in progress and reports.
        public var backendName: String
        /// Signatures per batch (a batch holds whole blocks, so it may run over by one block).
        public var batchSize: Int
        /// Threads of the context-free stage.
        public var contextFreeThreads: Int
        /// Decode and check on the UTXO stage's thread instead of a stage of its own: better
        /// when no core is left beside the signature threads, where a separate stage would
        /// only time-slice with the others (and evict the signature batches from the caches).
        public var contextFreeInline = false
        /// Blocks per read chunk (the unit of the parallel context-free stage).
        public var chunkBlocks = 32
        /// Bytes of blocks kept while they wait for a parent that comes later in the input.
        public var maxWaitingBytes = 256 << 20
        /// Polled once per block: true stops the run cleanly (everything verified so far is kept).
        public var shouldStop: (@Sendable () -> Bool)?
        /// Blocks already judged invalid (by the index of the datadir being reindexed, whose
        /// files keep rejected blocks): passed over, counted in `Report.knownInvalid`.
        public var knownInvalid: Set<Hash256> = []

        public init(verifier: @escaping Verifier, backendName: String, batchSize: Int, contextFreeThreads: Int) {
            self.verifier = verifier
            self.backendName = backendName
            self.batchSize = max(1, batchSize)
            self.contextFreeThreads = max(1, contextFreeThreads)
        }

        /// Batches go to `verifier` (any engine: CPU, OpenCL), named after it in reports.
        public init(verifier: any SignatureBatchVerifier, batchSize: Int, contextFreeThreads: Int) {
            self.init(verifier: { try verifier.verify($0) }, backendName: verifier.name, batchSize: batchSize,
                      contextFreeThreads: contextFreeThreads)
        }

        /// CPU verification with `Ed25519.verifyBatch` (a `CPUSignatureVerifier`).
        public static func cpu(backend: Ed25519.Backend, threads: Int, batchSize: Int? = nil) -> Options {
            let threads = max(1, threads)
            var options = Options(verifier: CPUSignatureVerifier(backend: backend, threads: threads),
                                  batchSize: batchSize ?? defaultBatchSize(backend: backend, threads: threads),
                                  contextFreeThreads: threads)
            options.contextFreeInline = ProcessInfo.processInfo.activeProcessorCount <= threads + 1
            return options
        }

        /// Signatures per batch for a CPU backend: each of the `threads` slices runs one batch
        /// equation (a multi-scalar multiplication whose cost per point falls with its size),
        /// so the vector backends get bigger slices; bounded so the signature stage never
        /// lags far behind (memory, and work redone after a failure).
        public static func defaultBatchSize(backend: Ed25519.Backend, threads: Int) -> Int {
            let perThread: Int
            switch backend.resolved {
            case .scalar: perThread = 4096
            case .avx2: perThread = 8192
            case .avx512ifma, .auto: perThread = 16384
            }
            return perThread * max(1, threads)
        }
    }
}
