import Consensus
import Ed25519
import Foundation
import Primitives

/// Bulk verification as a staged pipeline (docs/DESIGN section 5), each stage on its own
/// threads, joined by bounded queues:
///
///     read -> decode + context-free rules (parallel) -> UTXO + scripts (block order, caller's thread)
///          -> signature batches spanning blocks (own thread, `threads` workers) -> commit
///
/// When no core is left beside the signature workers, decoding runs on the UTXO stage's
/// thread instead (`Options.contextFreeInline`), so the signature stage keeps its cores.
///
/// Blocks that extend the tip are connected with their signatures deferred
/// (`ChainState.connectDeferred`); the signature stage verifies them behind the UTXO stage
/// in batches of about `batchSize`. Nothing reaches the database before its signatures
/// verified: the UTXO stage drains the signature stage before every flush, before any block
/// that is not a plain tip extension (it then goes through `ChainState.accept`), and at the
/// end. A failed batch names its first bad signature (the per-item results of
/// `Ed25519.verifyBatch`); the chain state is rolled back to the block before it.
public final class VerificationPipeline {
    /// One batch verifier: one verdict per item, in order (e.g. `Ed25519.verifyBatch`).
    public typealias Verifier = @Sendable (SignatureBatch) throws -> [Bool]

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

    /// Where blocks come from.
    public enum Source {
        /// A block file (records `magic | length | block`).
        case file(String)
        /// A block file of a datadir (`--reindex`), read up to byte `end` (its size when the run
        /// began); a record cut short there is where a crash stopped an append, not an error.
        case datadirFile(String, end: Int)
        /// The best chain stored in another chain state, from height 1 (re-verification).
        case stored(ChainState, label: String)
    }

    public struct Progress: Sendable {
        public var height: UInt64
        public var verifiedHeight: UInt64
        public var blocks: Int
        public var transactions: Int
        public var inputs: Int
        /// Signatures collected by the UTXO stage, and those verified so far.
        public var signatures: Int
        public var verifiedSignatures: Int
        public var seconds: Double
        /// Fraction of the input consumed, 0...1 (for an ETA).
        public var fraction: Double
        public var backend: String
        public var signatureStageBusy: Bool
    }

    public struct Report: Sendable {
        public var blocks = 0
        public var skipped = 0
        public var transactions = 0
        public var inputs = 0
        public var signatures = 0
        public var batches = 0
        public var drains = 0
        public var failure: String?
        public var malformed = false
        /// Stopped by `Options.shouldStop`.
        public var interrupted = false
        /// One line per input block neither connected nor already known (its parent never came,
        /// or too many blocks were waiting), and one per gap naming the missing parent.
        public var unconnected: [String] = []
        public var gaps: [String] = []
        public var reorganizations: [ChainState.Reorganization] = []
        public var knownInvalid = 0
        /// The rejected block of `failure` came from a datadir's own block file (`--reindex`
        /// may pass over it: the state knows it as invalid, and a rerun continues past it).
        public var failureInDatadirFile = false
        /// Rejections of blocks from a datadir's own files that a reindex passed over.
        public var passedOver: [String] = []

        /// Adds a rerun's counts to this report (`--reindex` reruns after passing over a block).
        public mutating func add(_ next: Report) {
            let earlierBlocks = blocks
            blocks += next.blocks
            transactions += next.transactions
            inputs += next.inputs
            signatures += next.signatures
            batches += next.batches
            drains += next.drains
            seconds += next.seconds
            knownInvalid += next.knownInvalid
            // The rerun skips what the earlier runs connected or passed over.
            skipped = max(0, next.skipped - earlierBlocks - passedOver.count)
            for (stage, value) in next.stageSeconds { stageSeconds[stage, default: 0] += value }
            (failure, malformed, interrupted, failureInDatadirFile) = (next.failure, next.malformed, next.interrupted, next.failureInDatadirFile)
            (unconnected, gaps) = (next.unconnected, next.gaps)
            reorganizations += next.reorganizations
            passedOver += next.passedOver
        }
        public var seconds = 0.0
        /// Busy seconds per stage: read, contextFree, utxo, signatures, commit; and the
        /// UTXO stage's waits: waitInput (starved), waitSignatures (back-pressure and drains).
        public var stageSeconds: [String: Double] = [:]

        public init() {}
    }

    let state: ChainState
    let parameters: ConsensusParameters
    let options: Options

    public init(state: ChainState, options: Options) {
        self.state = state
        self.parameters = state.parameters
        self.options = options
    }

    // MARK: Items passed between stages

    struct RawRecord: Sendable {
        var file: String
        var offset: Int
        var bytes: [UInt8]
        var stored: Bool
        var units: Int
        /// From a `.datadirFile` source.
        var fromDatadir = false

        /// How the sequential path names a record in messages.
        var name: String { stored ? "\(file): stored block at height \(offset)" : "\(file): record at byte \(offset)" }
    }

    enum ReadItem: Sendable {
        case chunk([RawRecord])
        case failure(String)
    }

    enum Parsed: Sendable {
        /// `txids` is nil when a context-free rule failed (the block then goes through `accept`,
        /// which reports the rule).
        case block(Block, txids: [Hash256]?, record: RawRecord)
        case malformed(String)
        case readFailure(String)
    }

    enum SignatureWork: Sendable {
        case block(DeferredConnection)
        case drain
        case end
    }

    enum SignatureResult: Sendable {
        /// The next `count` deferred blocks verified (with `signatures` signatures).
        case verified(count: Int, signatures: Int)
        /// Deferred block `index` (counted from the oldest unconfirmed) has a bad signature.
        case failed(index: Int, location: CheckLocation)
        case drained
    }

    // MARK: Running

    /// Runs every source through the pipeline; stops at the first rejected block or malformed
    /// record (everything before it is connected and verified, nothing after it is).
    /// The state is left unflushed (the caller's `utxoSummary` or `flush` persists it).
    public func run(_ sources: [Source], progress: ((Progress) -> Void)? = nil) throws -> Report {
        let start = DispatchTime.now().uptimeNanoseconds
        var report = Report()
        let clock = StageClock()
        let cancelled = AtomicFlag()
        let totalUnits = Self.totalUnits(sources)

        let readQueue = BoundedQueue<ReadItem>(capacity: 4)
        let parsedQueue = BoundedQueue<[Parsed]>(capacity: 4)
        let signatureQueue = BoundedQueue<SignatureWork>(capacity: 2 * options.batchSize + 64)
        let resultQueue = BoundedQueue<SignatureResult>(capacity: Int.max)
        let busy = AtomicFlag()
        let group = DispatchGroup()

        // Stage 1: read records.
        let sourceBox = UncheckedBox(sources)
        let chunkBlocks = options.chunkBlocks, magic = parameters.magic
        Self.spawn("rusty-read", group) {
            Self.readStage(sourceBox.value, magic: magic, chunkBlocks: chunkBlocks, into: readQueue, clock: clock, cancelled: cancelled)
        }
        // Stage 2: decode and context-free rules, in parallel within each chunk.
        let parameters = self.parameters
        let contextFreeThreads = options.contextFreeThreads, contextFreeInline = options.contextFreeInline
        if !contextFreeInline {
            Self.spawn("rusty-context-free", group) {
                Self.contextFreeStage(from: readQueue, into: parsedQueue, parameters: parameters, threads: contextFreeThreads, clock: clock)
            }
        }
        // Stage 4: signature batches.
        let verifier = options.verifier, batchSize = options.batchSize
        Self.spawn("rusty-signatures", group) {
            Self.signatureStage(from: signatureQueue, into: resultQueue, verifier: verifier, batchSize: batchSize, busy: busy, clock: clock)
        }

        // Stage 3 (and the commit): UTXO resolution and scripts in block order, on this thread.
        var origins = [(name: String, transactions: Int, inputs: Int, signatures: Int, fromDatadir: Bool)]() // the unconfirmed deferred blocks
        var originsHead = 0
        var failure: String?
        var signatureFailed = false
        var verifiedSignatures = 0

        func apply(_ result: SignatureResult) throws {
            switch result {
            case let .verified(count, signatures):
                try clock.measure("commit") { try state.confirmDeferred(count) }
                verifiedSignatures += signatures
                originsHead += count
            case let .failed(index, location):
                let error = try state.rejectDeferred(index: index, location: location)
                failure = "\(origins[originsHead + index].name): \(error)"
                report.failureInDatadirFile = origins[originsHead + index].fromDatadir
                // The rejected block and every later one are not connected.
                for dropped in origins[(originsHead + index)...] {
                    report.blocks -= 1
                    report.transactions -= dropped.transactions
                    report.inputs -= dropped.inputs
                    report.signatures -= dropped.signatures
                }
                signatureFailed = true
                origins.removeAll()
                originsHead = 0
            case .drained:
                break
            }
            if originsHead > 4096 { origins.removeFirst(originsHead); originsHead = 0 }
        }
        func pollResults() throws {
            while !signatureFailed, let result = resultQueue.tryPop() { try apply(result) }
        }
        /// Waits until every deferred block is verified (or one failed).
        func drain() throws {
            guard state.unverifiedCount > 0 && !signatureFailed else { return }
            report.drains += 1
            let waitStart = DispatchTime.now().uptimeNanoseconds
            signatureQueue.push(.drain, weight: 1)
            while true {
                guard let result = resultQueue.pop() else { break }
                if case .drained = result { break }
                if !signatureFailed { try apply(result) }
            }
            clock.add("waitSignatures", DispatchTime.now().uptimeNanoseconds - waitStart)
        }

        var unitsDone = 0
        var waiting = WaitingBlocks<(Block, [Hash256]?, RawRecord)>(maxBytes: options.maxWaitingBytes)
        let shouldStop = options.shouldStop, knownInvalid = options.knownInvalid
        let processStart = DispatchTime.now().uptimeNanoseconds
        do {
            outer: while true {
                let waitStart = DispatchTime.now().uptimeNanoseconds
                let batch: [Parsed]
                if contextFreeInline {
                    guard let item = readQueue.pop() else { break }
                    clock.add("waitInput", DispatchTime.now().uptimeNanoseconds - waitStart)
                    batch = Self.parse(item, parameters: parameters, threads: 1, clock: clock)
                } else {
                    guard let parsed = parsedQueue.pop() else { break }
                    clock.add("waitInput", DispatchTime.now().uptimeNanoseconds - waitStart)
                    batch = parsed
                }
                for item in batch {
                    try pollResults()
                    if signatureFailed { break outer }
                    if let shouldStop, shouldStop() { report.interrupted = true; break outer }
                    switch item {
                    case .malformed(let message), .readFailure(let message):
                        try drain()
                        if !signatureFailed {
                            failure = message
                            report.malformed = true
                        }
                        break outer
                    case let .block(block, txids, record):
                        unitsDone += record.units
                        // The block, then any that waited for it (parents always before children).
                        var work = [(block, txids, record)]
                        while let (block, txids, record) = work.popLast() {
                            if state.node(block.hash) != nil || (!waiting.isEmpty && waiting.contains(block.hash)) {
                                report.skipped += 1; continue
                            }
                            if !knownInvalid.isEmpty && knownInvalid.contains(block.hash) { report.knownInvalid += 1; continue }
                            var handled = false
                            if let txids, state.canConnectDeferred(block) {
                                let utxoStart = DispatchTime.now().uptimeNanoseconds
                                do {
                                    let connection = try state.connectDeferred(block, txids: txids, encoded: record.bytes)
                                    clock.add("utxo", DispatchTime.now().uptimeNanoseconds - utxoStart)
                                    origins.append((record.name, connection.transactions, connection.inputs, connection.signatures.count,
                                                    record.fromDatadir))
                                    report.blocks += 1
                                    report.transactions += connection.transactions
                                    report.inputs += connection.inputs
                                    report.signatures += connection.signatures.count
                                    let pushStart = DispatchTime.now().uptimeNanoseconds
                                    signatureQueue.push(.block(connection), weight: connection.signatures.count + 1)
                                    clock.add("waitSignatures", DispatchTime.now().uptimeNanoseconds - pushStart)
                                    handled = true
                                } catch is ChainStateError {
                                    clock.add("utxo", DispatchTime.now().uptimeNanoseconds - utxoStart)
                                    // Settle first: an earlier bad signature is the error to report.
                                    // Then `accept` repeats the check and records the block as invalid.
                                }
                            }
                            if !handled && state.node(block.header.previousHash) == nil {
                                // Its parent may come later: wait for it (`work` resumes it then).
                                if !waiting.park((block, txids, record), hash: block.hash, parent: block.header.previousHash,
                                                 bytes: record.bytes.count) {
                                    report.unconnected.append("\(record.name): block \(block.header.height) (\(block.hash.hex)) not connected: "
                                                              + "its parent \(block.header.previousHash.hex) is unknown and \(options.maxWaitingBytes >> 20) MiB of blocks already wait for theirs")
                                }
                                continue
                            }
                            if !handled {
                                try drain()
                                if signatureFailed { break outer }
                                let utxoStart = DispatchTime.now().uptimeNanoseconds
                                do {
                                    if try state.accept(block, encodedSize: record.bytes.count) == .connected {
                                        report.blocks += 1
                                        report.transactions += state.connectedTransactions
                                        report.inputs += state.connectedInputs
                                        report.signatures += state.connectedSignatures
                                    }
                                    clock.add("utxo", DispatchTime.now().uptimeNanoseconds - utxoStart)
                                } catch let error as ChainStateError {
                                    failure = "\(record.name): \(error)"
                                    if case .rejected = error { report.failureInDatadirFile = record.fromDatadir }
                                    break outer
                                }
                            }
                            if !waiting.isEmpty { work += waiting.release(childrenOf: block.hash) }
                            if state.needsFlush {
                                try drain()
                                if signatureFailed { break outer }
                                try clock.measure("commit") { try state.flushIfNeededAndVerified() }
                            }
                            if let progress {
                                let seconds = Double(DispatchTime.now().uptimeNanoseconds - processStart) / 1e9
                                progress(Progress(height: state.tip.height, verifiedHeight: state.verifiedHeight, blocks: report.blocks,
                                                  transactions: report.transactions, inputs: report.inputs, signatures: report.signatures,
                                                  verifiedSignatures: verifiedSignatures,
                                                  seconds: seconds, fraction: totalUnits > 0 ? min(1, Double(unitsDone) / Double(totalUnits)) : 0,
                                                  backend: options.backendName, signatureStageBusy: busy.value))
                            }
                        }
                    }
                }
            }
            // The final flush's sorting and encoding (and the UTXO digest) overlap the last
            // signature batch; if that batch fails, the flush prepares again.
            if !signatureFailed && state.unverifiedCount > 0 { try clock.measure("commit") { try state.prepareFlush() } }
            try drain()
        } catch {
            cancelled.set()
            readQueue.close()
            parsedQueue.close()
            signatureQueue.push(.end, weight: 0)
            signatureQueue.close()
            group.wait()
            throw error
        }
        cancelled.set()
        readQueue.close()
        parsedQueue.close()
        signatureQueue.push(.end, weight: 0)
        group.wait()
        if let failure { report.failure = failure }
        if failure == nil && !report.interrupted {
            (report.gaps, report.unconnected) = Self.describeWaiting(waiting, state: state, alreadyReported: report.unconnected)
        }
        report.reorganizations = state.takeReorganizations()
        report.batches = clock.count("signatures")
        report.stageSeconds = clock.snapshot()
        report.seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return report
    }

    static func spawn(_ name: String, _ group: DispatchGroup, _ body: @escaping @Sendable () -> Void) {
        group.enter()
        let thread = Thread {
            body()
            group.leave()
        }
        thread.name = name
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// The gaps (one line per missing parent) and the blocks left waiting at the end of the input.
    static func describeWaiting(_ waiting: WaitingBlocks<(Block, [Hash256]?, RawRecord)>, state: ChainState,
                                alreadyReported: [String]) -> (gaps: [String], unconnected: [String]) {
        var gaps = [String](), unconnected = alreadyReported
        for (parent, children) in waiting.groups() where !waiting.contains(parent) {
            let (first, _, record) = children.min { $0.0.header.height < $1.0.header.height }!
            let below = waiting.descendantCount(of: parent)
            gaps.append("gap: block \(first.header.height) (\(first.hash.hex), \(record.name)) needs block \(first.header.height - 1) "
                        + "(\(parent.hex)), which is in neither the input nor the datadir (best block: height \(state.tip.height)); "
                        + "\(below) block\(below == 1 ? "" : "s") wait on it")
        }
        for (block, _, record) in waiting.all().sorted(by: { $0.0.header.height < $1.0.header.height }) {
            unconnected.append("\(record.name): block \(block.header.height) (\(block.hash.hex)) not connected: "
                               + "parent \(block.header.previousHash.hex) unknown")
        }
        return (gaps.sorted(), unconnected)
    }

    static func totalUnits(_ sources: [Source]) -> Int {
        sources.reduce(0) { total, source in
            switch source {
            case .file(let path):
                return total + ((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0)
            case .datadirFile(_, let end):
                return total + end
            case .stored(let state, _):
                return total + Int(state.tip.height)
            }
        }
    }

    // MARK: Stages

    static func readStage(_ sources: [Source], magic: [UInt8], chunkBlocks: Int, into queue: BoundedQueue<ReadItem>, clock: StageClock,
                          cancelled: AtomicFlag) {
        var chunk = [RawRecord]()
        var chunkBytes = 0
        var started = DispatchTime.now().uptimeNanoseconds
        func emit() -> Bool {
            clock.add("read", DispatchTime.now().uptimeNanoseconds - started)
            defer { started = DispatchTime.now().uptimeNanoseconds }
            guard !chunk.isEmpty else { return !cancelled.value }
            let ok = queue.push(.chunk(chunk), weight: 1)
            chunk.removeAll(keepingCapacity: true)
            chunkBytes = 0
            return ok && !cancelled.value
        }
        func add(_ record: RawRecord) throws {
            chunk.append(record)
            chunkBytes += record.bytes.count
            if chunk.count >= chunkBlocks || chunkBytes >= 8 << 20 {
                guard emit() else { throw CancellationError() }
            }
        }
        do {
            for source in sources {
                switch source {
                case .file(let path):
                    try BlockFile.forEachRecord(path: path, magic: magic) { record in
                        try add(RawRecord(file: path, offset: record.offset, bytes: record.bytes, stored: false, units: record.bytes.count + 8))
                    }
                case let .datadirFile(path, end):
                    try forEachDatadirRecord(path: path, magic: magic, end: end) { record in
                        try add(RawRecord(file: path, offset: record.offset, bytes: record.bytes, stored: false, units: record.bytes.count + 8,
                                          fromDatadir: true))
                    }
                case let .stored(stored, label):
                    for node in stored.active.dropFirst() {
                        let bytes: [UInt8]
                        do { bytes = try stored.storedBlockBytes(node.hash) } catch {
                            throw StoredReadError(message: "\(label): stored block at height \(node.height): \(error)")
                        }
                        try add(RawRecord(file: label, offset: Int(node.height), bytes: bytes, stored: true, units: 1))
                    }
                }
            }
            _ = emit()
        } catch is CancellationError {
        } catch let error as StoredReadError {
            _ = emit()
            queue.push(.failure(error.message), weight: 1)
        } catch {
            _ = emit()
            queue.push(.failure("\(error)"), weight: 1)
        }
        queue.close()
    }

    struct StoredReadError: Error { var message: String }

    /// The records of a datadir's block file up to `end`; a torn last record (an append a
    /// crash interrupted, past the last flush) ends the file instead of failing the run.
    public static func forEachDatadirRecord(path: String, magic: [UInt8], end: Int, _ body: (BlockFile.Record) throws -> Void) throws {
        do {
            try BlockFile.forEachRecord(path: path, magic: magic, end: end, body)
        } catch BlockFile.ReadError.truncated {
        }
    }

    static func contextFreeStage(from input: BoundedQueue<ReadItem>, into output: BoundedQueue<[Parsed]>,
                                 parameters: ConsensusParameters, threads: Int, clock: StageClock) {
        while let item = input.pop() {
            guard output.push(parse(item, parameters: parameters, threads: threads, clock: clock), weight: 1) else { break }
        }
        output.close()
    }

    /// Decodes a chunk of records and runs the context-free rules on `threads` threads.
    static func parse(_ item: ReadItem, parameters: ConsensusParameters, threads: Int, clock: StageClock) -> [Parsed] {
        switch item {
        case .failure(let message):
            return [.readFailure(message)]
        case .chunk(let records):
            let started = DispatchTime.now().uptimeNanoseconds
            defer { clock.add("contextFree", DispatchTime.now().uptimeNanoseconds - started) }
            let results = ResultSlots<Parsed>(count: records.count)
            let workers = min(threads, records.count)
            let work: @Sendable (Int) -> Void = { worker in
                var index = worker
                while index < records.count {
                    let record = records[index]
                    let parsed: Parsed
                    do {
                        let (block, spans) = try Block.decodeWithSpans(record.bytes)
                        let txids = try? ContextFreeRules.check(block, encodedSize: record.bytes.count, parameters: parameters,
                                                                encoded: record.bytes, spans: spans).txids
                        parsed = .block(block, txids: txids, record: record)
                    } catch {
                        parsed = .malformed(record.stored ? "\(record.name): \(error)" : "\(record.file): block record at byte \(record.offset): \(error)")
                    }
                    results.set(index, parsed)
                    index += workers
                }
            }
            if workers <= 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: workers, execute: work) }
            return results.values
        }
    }

    static func signatureStage(from input: BoundedQueue<SignatureWork>, into output: BoundedQueue<SignatureResult>,
                               verifier: Verifier, batchSize: Int, busy: AtomicFlag, clock: StageClock) {
        var blocks = [DeferredConnection]()
        var count = 0
        var failed = false
        // Small batches first, doubling up to `batchSize`, so the signature stage starts
        // while the UTXO stage is still filling the pipeline instead of waiting a full batch.
        var target = min(batchSize, max(1024, batchSize / 16))
        func verifyPending() {
            defer { blocks.removeAll(keepingCapacity: true); count = 0 }
            guard !blocks.isEmpty, !failed else { return }
            var batch = SignatureBatch()
            batch.reserveCapacity(count, messageBytes: blocks.reduce(0) { $0 + $1.signatures.messages.count })
            for block in blocks { batch.append(contentsOf: block.signatures) }
            busy.set()
            let started = DispatchTime.now().uptimeNanoseconds
            let results: [Bool]
            do {
                results = try verifier(batch)
            } catch {
                results = batch.items.map { Ed25519.verify(signature: $0.signature, message: $0.message, publicKey: $0.publicKey) }
            }
            clock.add("signatures", DispatchTime.now().uptimeNanoseconds - started)
            busy.clear()
            if let bad = results.firstIndex(of: false) {
                var offset = 0
                for (index, block) in blocks.enumerated() {
                    if bad < offset + block.signatures.count {
                        output.push(.failed(index: index, location: block.locations[bad - offset]), weight: 0)
                        break
                    }
                    offset += block.signatures.count
                }
                failed = true
            } else {
                output.push(.verified(count: blocks.count, signatures: count), weight: 0)
            }
        }
        loop: while let work = input.pop() {
            switch work {
            case .block(let connection):
                guard !failed else { continue }
                blocks.append(connection)
                count += connection.signatures.count
                if count >= target {
                    verifyPending()
                    target = min(batchSize, target * 2)
                }
            case .drain:
                verifyPending()
                output.push(.drained, weight: 0)
            case .end:
                break loop
            }
        }
        output.close()
    }
}

extension VerificationPipeline {
    /// Runs block files (records with the magic of the state's network).
    public func run(files: [String], progress: ((Progress) -> Void)? = nil) throws -> Report {
        try run(files.map { .file($0) }, progress: progress)
    }
}

// MARK: - Small concurrency helpers

/// A FIFO queue bounded by total weight; `close` wakes every waiter (pushes then fail,
/// pops drain what is left, then return nil).
final class BoundedQueue<Element>: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [(Element, Int)] = []
    private var head = 0
    private var weight = 0
    private var closed = false
    private let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    @discardableResult
    func push(_ element: Element, weight itemWeight: Int) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while !closed && weight > 0 && weight + itemWeight > capacity { condition.wait() }
        guard !closed else { return false }
        items.append((element, itemWeight))
        weight += itemWeight
        condition.broadcast()
        return true
    }

    func pop() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while head == items.count && !closed { condition.wait() }
        return take()
    }

    func tryPop() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        return take()
    }

    private func take() -> Element? {
        guard head < items.count else { return nil }
        let (element, itemWeight) = items[head]
        head += 1
        weight -= itemWeight
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 1024 {
            items.removeFirst(head)
            head = 0
        }
        condition.broadcast()
        return element
    }

    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}

final class AtomicFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false
    var value: Bool { lock.lock(); defer { lock.unlock() }; return flag }
    func set() { lock.lock(); flag = true; lock.unlock() }
    func clear() { lock.lock(); flag = false; lock.unlock() }
}

/// Busy time (and call count) per stage, added from any thread.
final class StageClock: @unchecked Sendable {
    private let lock = NSLock()
    private var nanos: [String: UInt64] = [:]
    private var counts: [String: Int] = [:]

    func add(_ stage: String, _ elapsed: UInt64) {
        lock.lock()
        nanos[stage, default: 0] += elapsed
        counts[stage, default: 0] += 1
        lock.unlock()
    }

    func measure<T>(_ stage: String, _ body: () throws -> T) rethrows -> T {
        let started = DispatchTime.now().uptimeNanoseconds
        defer { add(stage, DispatchTime.now().uptimeNanoseconds - started) }
        return try body()
    }

    func count(_ stage: String) -> Int { lock.lock(); defer { lock.unlock() }; return counts[stage] ?? 0 }

    func snapshot() -> [String: Double] {
        lock.lock()
        defer { lock.unlock() }
        var out = [String: Double]()
        for stage in ["read", "contextFree", "utxo", "signatures", "commit", "waitInput", "waitSignatures"] {
            out[stage] = Double(nanos[stage] ?? 0) / 1e9
        }
        return out
    }
}

/// Per-index results written by concurrent workers (each index by exactly one).
final class ResultSlots<T>: @unchecked Sendable {
    private var storage: [T?]
    private let lock = NSLock()
    init(count: Int) { storage = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ value: T) { lock.lock(); storage[index] = value; lock.unlock() }
    var values: [T] { storage.map { $0! } }
}

/// Blocks whose parent is not known yet, by parent, within a byte bound: what bitcoind's
/// `-loadblock` keeps so a file's blocks connect whatever their order.
public struct WaitingBlocks<Item> {
    public let maxBytes: Int
    public private(set) var bytes = 0
    private var byParent: [Hash256: [(hash: Hash256, bytes: Int, item: Item)]] = [:]
    private var hashes = Set<Hash256>()

    public init(maxBytes: Int) { self.maxBytes = maxBytes }

    public var isEmpty: Bool { hashes.isEmpty }
    public var count: Int { hashes.count }
    public func contains(_ hash: Hash256) -> Bool { hashes.contains(hash) }

    /// Keeps `item` until `release(childrenOf: parent)`; false (nothing kept) when full.
    public mutating func park(_ item: Item, hash: Hash256, parent: Hash256, bytes size: Int) -> Bool {
        guard bytes + size <= maxBytes else { return false }
        byParent[parent, default: []].append((hash, size, item))
        hashes.insert(hash)
        bytes += size
        return true
    }

    /// The blocks waiting for `hash`, no longer kept.
    public mutating func release(childrenOf hash: Hash256) -> [Item] {
        guard let children = byParent.removeValue(forKey: hash) else { return [] }
        for child in children { hashes.remove(child.hash); bytes -= child.bytes }
        return children.map(\.item)
    }

    /// Waiting items grouped by the parent they wait for.
    public func groups() -> [(parent: Hash256, items: [Item])] { byParent.map { ($0.key, $0.value.map(\.item)) } }
    public func all() -> [Item] { byParent.values.flatMap { $0.map(\.item) } }

    /// How many waiting blocks descend from `parent`.
    public func descendantCount(of parent: Hash256) -> Int {
        var count = 0, stack = [parent]
        while let next = stack.popLast() {
            for child in byParent[next] ?? [] { count += 1; stack.append(child.hash) }
        }
        return count
    }
}

struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
