import Atomics
import ChainState
import Ed25519

/// Stage 4: verifies the deferred blocks' signatures in batches spanning blocks, on a thread
/// of its own; reports each batch (or the first bad signature) back in order.
enum SignatureStage {
    static func run(from input: BoundedQueue<SignatureWork>, into output: BoundedQueue<SignatureResult>,
                    verifier: VerificationPipeline.Verifier, batchSize: Int, busy: ManagedAtomic<Bool>, clock: StageClock) {
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
            busy.store(true, ordering: .relaxed)
            let started = StageClock.now
            let results: [Bool]
            do {
                results = try verifier(batch)
            } catch {
                // An engine that fails (e.g. a lost device) falls back to one-by-one verification.
                results = batch.items.map { Ed25519.verify(signature: $0.signature, message: $0.message, publicKey: $0.publicKey) }
            }
            clock.add("signatures", since: started)
            busy.store(false, ordering: .relaxed)
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
