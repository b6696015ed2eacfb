import ChainGen
import ChainParams
import ChainState
import Consensus
import Ed25519
import Foundation
import Primitives
import Testing
import TestSupport
import Verification

/// `BlockSource.stream`: blocks pushed by another thread (a node's download) go through the
/// same pipeline as a file, end at the same state, and name the origin of a rejected block.
@Suite(.serialized)
struct StreamSourceTests {
    struct Outcome {
        var report: VerificationReport
        var summary: UTXOSummary
    }

    /// Runs `sources` through the pipeline into a fresh datadir, on a thread of its own so a
    /// hang fails the test after `timeout` seconds instead of blocking the run forever.
    static func run(_ sources: [BlockSource], threads: Int = 2, batchSize: Int? = nil, inline: Bool = false,
                    timeout: Double = 120, progress: (@Sendable (VerificationProgress) -> Void)? = nil) throws -> Outcome {
        let directory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        final class Outlet: @unchecked Sendable { var value: Result<VerificationReport, Error>? }
        let result = Outlet()
        let done = DispatchSemaphore(value: 0)
        let state = try ChainState(directory: directory, parameters: Fixtures.regtest, cacheMiB: 1)
        let box = UncheckedSendable((state, sources))
        let thread = Thread {
            var options = VerificationPipeline.Options.cpu(backend: .auto, threads: threads, batchSize: batchSize)
            options.contextFreeInline = inline
            result.value = Result { try VerificationPipeline(state: box.value.0, options: options).run(box.value.1, progress: progress) }
            done.signal()
        }
        thread.stackSize = 8 << 20
        thread.start()
        guard done.wait(timeout: .now() + timeout) == .success else {
            throw TimedOut(description: "the pipeline did not end within \(timeout) s")
        }
        let report = try result.value!.get()
        try state.flush()
        return Outcome(report: report, summary: try state.utxoSummary())
    }

    struct TimedOut: Error, CustomStringConvertible { var description: String }

    struct UncheckedSendable<T>: @unchecked Sendable {
        let value: T
        init(_ value: T) { self.value = value }
    }

    /// Pushes `blocks` from a thread of its own, in bursts of 1...8 blocks with short pauses,
    /// then finishes the stream (unless `finish` is false). `origin(i)` names block i's sender.
    final class Producer: @unchecked Sendable {
        let done = DispatchSemaphore(value: 0)
        private let lock = NSLock()
        private var _refused = 0
        private var _overCapacity = 0
        private var _waited = 0
        var refused: Int { lock.withLock { _refused } }
        /// Pushes after which the stream held more than its capacity (must stay 0).
        var overCapacity: Int { lock.withLock { _overCapacity } }
        /// Pushes that waited for room (the producer really blocked).
        var waited: Int { lock.withLock { _waited } }

        init(_ stream: BlockStream, blocks: [[UInt8]], seed: UInt64, finish: Bool = true, origin: @escaping @Sendable (Int) -> String?) {
            let thread = Thread { [self] in
                var rng = SeededGenerator(seed: seed)
                var index = 0
                while index < blocks.count {
                    let burst = Int.random(in: 1...8, using: &rng)
                    for _ in 0..<burst where index < blocks.count {
                        let before = stream.bufferedBytes
                        let accepted = stream.push(blocks[index], origin: origin(index))
                        let after = stream.bufferedBytes
                        lock.withLock {
                            if !accepted { _refused += 1 }
                            // A block bigger than the capacity is only taken into an empty stream.
                            if after > stream.capacityBytes && after != blocks[index].count { _overCapacity += 1 }
                            if accepted && before > 0 && before + blocks[index].count > stream.capacityBytes { _waited += 1 }
                        }
                        index += 1
                    }
                    if Int.random(in: 0..<4, using: &rng) == 0 { usleep(UInt32.random(in: 100...3000, using: &rng)) }
                }
                if finish { stream.finish() }
                done.signal()
            }
            thread.start()
        }

        func wait(seconds: Double = 60) -> Bool { done.wait(timeout: .now() + seconds) == .success }
    }

    @Test("a chain pushed in bursts through a small stream ends at the file run's tip and UTXO digest")
    func sameStateAsFile() throws {
        let (blocks, generator) = Fixtures.blocks(180, seed: 41, transactions: 8)
        let file = try PipelineTests.writeFile(blocks)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let fromFile = try Self.run([.file(file)])
        #expect(fromFile.report.failure == nil && fromFile.summary.digest == generator.utxoDigest().digest)

        let encoded = blocks.map(\.encoded)
        let average = encoded.reduce(0) { $0 + $1.count } / encoded.count
        for (seed, inline, batch) in [(1 as UInt64, false, nil as Int?), (2, true, 50)] {
            // Room for about three blocks: the producer outruns verification and must wait.
            let stream = BlockStream(label: "peer test", capacityBytes: 3 * average)
            let producer = Producer(stream, blocks: encoded, seed: seed) { "10.0.0.\($0 % 3 + 1):5000" }
            let streamed = try Self.run([.stream(stream)], batchSize: batch, inline: inline)
            #expect(producer.wait())
            #expect(streamed.report.failure == nil && streamed.report.rejected == nil)
            #expect(streamed.report.blocks == blocks.count)
            #expect(streamed.summary == fromFile.summary)
            #expect(producer.refused == 0)
            #expect(producer.overCapacity == 0)
            #expect(producer.waited > 0, "the producer never had to wait for room")
            #expect(stream.bufferedCount == 0 && stream.bufferedBytes == 0)
        }
    }

    @Test("push waits for room, takes an oversized block into an empty stream, and fails once closed")
    func backPressure() throws {
        let stream = BlockStream(label: "unit", capacityBytes: 100)
        #expect(stream.push([UInt8](repeating: 1, count: 60)))
        let second = DispatchSemaphore(value: 0)
        let pushed = Thread { stream.push([UInt8](repeating: 2, count: 60)); second.signal() }
        pushed.start()
        // 60 + 60 > 100: the second push waits until a reader takes the first block.
        #expect(second.wait(timeout: .now() + 0.3) == .timedOut)
        #expect(stream.bufferedCount == 1 && stream.bufferedBytes == 60)
        // The sequential verifier reads the stream too: it takes the first block (malformed).
        let directory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let state = try ChainState(directory: directory, parameters: Fixtures.regtest)
        let report = try SequentialVerifier(state: state).run([.stream(stream)])
        #expect(second.wait(timeout: .now() + 5) == .success)
        #expect(report.malformed && report.rejected?.hash == nil && report.rejected?.malformed == true)
        #expect(report.failure?.hasPrefix("unit: block 1 of the stream: ") == true, "\(report.failure ?? "-")")
        // The run stopped, so the stream is closed: nothing waits on it any more.
        #expect(stream.push([1]) == false)
        #expect(stream.bufferedCount == 0)

        let big = BlockStream(label: "unit", capacityBytes: 10)
        #expect(big.push([UInt8](repeating: 0, count: 50)))  // empty: accepted though over the capacity
        let blocked = DispatchSemaphore(value: 0)
        Thread { _ = big.push([0]); blocked.signal() }.start()
        #expect(blocked.wait(timeout: .now() + 0.3) == .timedOut)
        big.close()
        #expect(blocked.wait(timeout: .now() + 5) == .success)
        #expect(big.bufferedBytes == 0)
    }

    @Test("an invalid block in the stream stops the run; the report names its hash and origin")
    func rejectionNamesOrigin() throws {
        let (blocks, _) = Fixtures.blocks(140, seed: 42, transactions: 8)
        var rng = SeededGenerator(testSeed: 0x5EED_0042)
        for defect in PipelineTests.Defect.allCases {
            let index = Int.random(in: 102..<140, using: &rng)
            let (bad, rule, _, _) = PipelineTests.broken(blocks, at: index, defect)
            let badOrigin = "10.9.8.7:5000"
            let stream = BlockStream(label: "download", capacityBytes: 64 << 10)
            // Never finished, as a node's download is not: the rejection alone must end the run.
            let producer = Producer(stream, blocks: bad.map(\.encoded), seed: UInt64(index), finish: false) {
                $0 == index ? badOrigin : "10.0.0.1:5000"
            }
            let outcome = try Self.run([.stream(stream)], batchSize: 64, timeout: 60)
            // The run closed the stream: the producer's remaining pushes fail instead of waiting.
            #expect(producer.wait(), "\(defect): the producer still waits on the stream")
            #expect(stream.push([0]) == false)
            let label = "\(defect) at height \(index + 1)"
            #expect(outcome.report.rejected?.hash == bad[index].hash, "\(label)")
            #expect(outcome.report.rejected?.height == UInt64(index + 1), "\(label)")
            #expect(outcome.report.rejected?.origin == badOrigin, "\(label)")
            #expect(outcome.report.rejected?.malformed == false, "\(label)")
            let name = "download: block \(index + 1) of the stream (from \(badOrigin))"
            #expect(outcome.report.rejected?.record == name, "\(label)")
            #expect(outcome.report.failure?.hasPrefix(name + ": block \(index + 1) (\(bad[index].hash.hex)) rejected: \(rule)") == true,
                    "\(label): \(outcome.report.failure ?? "accepted")")
            #expect(outcome.summary.bestHeight == UInt64(index), "\(label)")
        }

        // A record that does not decode: rejected as malformed, with its origin.
        let stream = BlockStream(label: "download", capacityBytes: 1 << 20)
        for block in blocks.prefix(5) { stream.push(block.encoded, origin: "good") }
        stream.push([0xde, 0xad], origin: "garbage-peer")
        stream.finish()
        let outcome = try Self.run([.stream(stream)])
        #expect(outcome.report.malformed)
        #expect(outcome.report.rejected == VerificationReport.RejectedBlock(
            hash: nil, height: nil, origin: "garbage-peer", record: "download: block 6 of the stream (from garbage-peer)", malformed: true))
        #expect(outcome.summary.bestHeight == 5)
    }

    @Test("close() mid-run ends the run cleanly and promptly, with what came before it verified")
    func closeMidRun() throws {
        let (blocks, _) = Fixtures.blocks(60, seed: 43, transactions: 4)
        let stream = BlockStream(label: "closing", capacityBytes: 1 << 20)
        // Never finished: only close() can end this run.
        let producer = Producer(stream, blocks: blocks.prefix(40).map(\.encoded), seed: 7, finish: false) { _ in nil }
        let closer = Thread {
            _ = producer.wait()
            // Let the pipeline take some blocks and wait on the stream, then abort.
            usleep(200_000)
            stream.close()
        }
        closer.start()
        let started = Date()
        let outcome = try Self.run([.stream(stream)], timeout: 60)
        #expect(Date().timeIntervalSince(started) < 60)
        #expect(outcome.report.failure == nil)
        // Whatever was connected is verified and consistent: a prefix of the chain.
        #expect(outcome.summary.bestHeight == UInt64(outcome.report.blocks))
        #expect(outcome.report.blocks <= 40)
        if outcome.report.blocks > 0 { #expect(outcome.summary.bestHash == blocks[outcome.report.blocks - 1].hash) }
        #expect(stream.push(blocks[40].encoded) == false)

        // Closed while the producer is blocked on a full stream and the run still reads.
        // The producer cycles through the chain (repeats are passed over as known) until a push fails.
        let tight = BlockStream(label: "closing", capacityBytes: 1)
        let stopped = DispatchSemaphore(value: 0)
        let encoded = blocks.map(\.encoded)
        Thread {
            var index = 0
            while tight.push(encoded[index % encoded.count]) { index += 1 }
            stopped.signal()
        }.start()
        Thread { usleep(300_000); tight.close() }.start()
        let second = try Self.run([.stream(tight)], timeout: 60)
        #expect(stopped.wait(timeout: .now() + 10) == .success)
        #expect(second.report.failure == nil && second.summary.bestHeight == UInt64(second.report.blocks))
    }

    @Test("while the stream is dry the deferred signatures are verified, not left for the next full batch")
    func idleDrain() throws {
        let (blocks, generator) = Fixtures.blocks(21, seed: 45, transactions: 8)
        for inline in [false, true] {
            let stream = BlockStream(label: "idle", capacityBytes: 1 << 20)
            final class Seen: @unchecked Sendable {
                let lock = NSLock()
                var verified: [UInt64: UInt64] = [:]
                let reached20 = DispatchSemaphore(value: 0)
            }
            let seen = Seen()
            for block in blocks.prefix(20) { stream.push(block.encoded) }
            // Block 21 comes only after the pipeline has taken the first 20 and the network has been quiet a while.
            Thread {
                _ = seen.reached20.wait(timeout: .now() + 60)
                usleep(300_000)
                stream.push(blocks[20].encoded)
                stream.finish()
            }.start()
            // A batch far bigger than the 20 blocks' signatures: only an idle drain verifies them early.
            let outcome = try Self.run([.stream(stream)], batchSize: 200_000, inline: inline) { progress in
                seen.lock.withLock { seen.verified[progress.height] = progress.verifiedHeight }
                if progress.height == 20 { seen.reached20.signal() }
            }
            #expect(outcome.summary.digest == generator.utxoDigest().digest)
            let verified = seen.lock.withLock { seen.verified }
            #expect(verified[20] == 0, "\(verified)")  // the batch was not cut short while blocks kept coming
            #expect((verified[21] ?? 0) >= 20, "inline \(inline): \(verified)")
        }
    }

    @Test("out-of-order blocks in a stream wait for their parents as in a file: same state, same gaps")
    func outOfOrder() throws {
        let (blocks, generator) = Fixtures.blocks(120, seed: 44, transactions: 4)
        var rng = SeededGenerator(testSeed: 0x5EED_0044)
        // Shuffled within windows of 10: children often come before their parents.
        var shuffled = [Block]()
        for start in stride(from: 0, to: blocks.count, by: 10) { shuffled += blocks[start..<min(start + 10, blocks.count)].shuffled(using: &rng) }
        // And a chain whose block 50 never comes: its descendants are a gap in both runs.
        let missing = shuffled.filter { $0.hash != blocks[49].hash }
        for (input, complete) in [(shuffled, true), (missing, false)] {
            let file = try PipelineTests.writeFile(input)
            defer { try? FileManager.default.removeItem(atPath: file) }
            let fromFile = try Self.run([.file(file)])
            let stream = BlockStream(label: "shuffled", capacityBytes: 32 << 10)
            let producer = Producer(stream, blocks: input.map(\.encoded), seed: 9) { _ in "peer" }
            let streamed = try Self.run([.stream(stream)])
            #expect(producer.wait())
            #expect(streamed.summary == fromFile.summary)
            #expect(streamed.report.blocks == fromFile.report.blocks)
            #expect(streamed.report.gaps.count == fromFile.report.gaps.count)
            #expect(streamed.report.unconnected.count == fromFile.report.unconnected.count)
            if complete {
                #expect(streamed.summary.digest == generator.utxoDigest().digest && streamed.report.gaps.isEmpty)
            } else {
                #expect(streamed.summary.bestHeight == 49)
                #expect(streamed.report.gaps.count == 1 && streamed.report.unconnected.count == 70)
                #expect(streamed.report.gaps.first?.contains("shuffled: block") == true, "\(streamed.report.gaps)")
            }
        }
    }
}
