import ChainGen
import ChainParams
import ChainState
import Consensus
import Foundation
import FuzzSupport
import Primitives

/// The chain-state path without RocksDB: decode a block, run the context-free rules, then
/// `BlockConnector.connect` on a UTXO set prepared once in memory (the generator's chain of
/// `preparedHeight` blocks). The input is one control byte and a block: control bit 0
/// recomputes the Merkle and state roots and grinds the nonce (regtest's target passes about
/// every other hash), so mutated transactions get past the commitments to the contextual
/// rules; bits 4-7 raise the height the block is connected at above the prepared tip + 1.
///
/// Properties of an accepted block: the delta spends only coins of the set, each once and
/// exactly as stored; it creates no coin that already exists; the fees are inputs minus
/// outputs, computed here from the coins; the coinbase claims at most subsidy plus fees;
/// every check has its location and fits the signature batch. A rejection names a
/// transaction and input of the block.
let parameters = try! ConsensusParameters(ChainParameters.builtIn("regtest"))
let preparedHeight = 110

struct Prepared {
    var utxo: [OutPoint: Coin] = [:]
    var times: [UInt64] = []        // header time by height, genesis first
    var blocks: [Block] = []        // heights 1...preparedHeight + 2
}

let prepared: Prepared = {
    var generator = ChainGenerator(parameters: parameters, seed: 11, transactionsPerBlock: 4)
    var result = Prepared()
    result.times = [parameters.genesisTime]
    for height in 1...preparedHeight + 2 {
        let block = generator.nextBlock()
        result.blocks.append(block)
        if height <= preparedHeight { result.times.append(block.header.time) }
        if height == preparedHeight { result.utxo = generator.utxo }
    }
    return result
}()

/// Median time of the `medianTimeSpan` blocks up to `height` (clamped to the prepared chain).
func medianTimePast(upTo height: UInt64) -> UInt64 {
    let last = min(Int(clamping: height), prepared.times.count - 1)
    let first = max(0, last + 1 - parameters.medianTimeSpan)
    return HeaderRules.medianTime(Array(prepared.times[first...last]))
}

func seal(_ block: inout Block) {
    block.header.merkleRoot = block.computeMerkleRoot()
    block.header.stateRoot = block.computeStateRoot()
    guard let target = try? block.header.compactTarget.target() else { return }
    for nonce in UInt64(0)..<64 {
        block.header.nonce = nonce
        if ProofOfWork.meets(block.header.hash, target: target) { return }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConnect(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = fuzzBytes(data, size)
    guard let control = input.first else { return 0 }
    var bytes = Array(input.dropFirst())
    guard var (block, spans) = try? Block.decodeWithSpans(bytes) else { return 0 }
    if control & 1 == 1 {
        seal(&block)
        bytes = block.encoded
        guard let again = try? Block.decodeWithSpans(bytes) else { fuzzFail("a sealed block fails to decode") }
        (block, spans) = again
    }
    let checked: ContextFreeRules.Checked
    do {
        checked = try ContextFreeRules.check(block, encodedSize: bytes.count, parameters: parameters, encoded: bytes, spans: spans)
        // The state root is checked at connect (it also commits to the masternode list,
        // empty here): checked here as the chain state does for such a chain.
        try ContextFreeRules.checkStateRoot(block.header, witnessRoot: checked.witnessRoot, extensionRoot: .zero)
    } catch {
        checkLocation(error, block)
        return 0
    }
    let height = UInt64(preparedHeight) + 1 + UInt64(control >> 4)
    let context = BlockConnector.Context(height: height, medianTimePast: medianTimePast(upTo: height - 1), blockHash: block.hash,
                                         medianTimePastBefore: { medianTimePast(upTo: $0 &- 1) })
    var looked = [OutPoint]()
    let delta: BlockDelta
    do {
        delta = try BlockConnector.connect(block, txids: checked.txids, context: context, parameters: parameters) { outpoint in
            looked.append(outpoint)
            return prepared.utxo[outpoint]
        }
    } catch let rejection as Rejection {
        checkLocation(rejection, block)
        return 0
    } catch {
        fuzzFail("connect threw \(error), not a Rejection")
    }
    checkDelta(delta, block: block, txids: checked.txids, height: height, looked: looked)
    return 0
}

func checkLocation(_ rejection: Rejection, _ block: Block) {
    guard let transaction = rejection.transaction else {
        fuzzCheck(rejection.input == nil, "\(rejection): an input without a transaction")
        return
    }
    fuzzCheck(block.transactions.indices.contains(transaction), "\(rejection): no transaction \(transaction)")
    if let input = rejection.input {
        fuzzCheck(block.transactions[transaction].inputs.indices.contains(input), "\(rejection): no input \(input)")
    }
}

func checkDelta(_ delta: BlockDelta, block: Block, txids: [Hash256], height: UInt64, looked: [OutPoint]) {
    // Coins come from the set exactly when the delta says they were spent from it.
    fuzzCheck(Set(looked) == Set(delta.spent.map(\.0)), "looked up \(looked.count) coins, spent \(delta.spent.count) from the set")
    var utxo = prepared.utxo
    var inputValue: UInt64 = 0
    for (outpoint, coin) in delta.spent {
        fuzzCheck(utxo.removeValue(forKey: outpoint) == coin, "spent \(outpoint) is not in the set as stored (or spent twice)")
        fuzzCheck(!coin.isCoinbase || height - coin.height >= parameters.coinbaseMaturity, "spent an immature coinbase \(outpoint)")
        inputValue += coin.output.value.baseUnits
    }
    // Inputs not in `spent` must be outputs of earlier transactions of this block.
    let spentFromSet = Set(delta.spent.map(\.0))
    let index = Dictionary(uniqueKeysWithValues: txids.enumerated().map { ($1, $0) })
    var spendsInBlock = Set<OutPoint>()
    var inputs = 0
    for (txIndex, transaction) in block.transactions.enumerated().dropFirst() {
        for input in transaction.inputs {
            inputs += 1
            let outpoint = input.previousOutput
            if spentFromSet.contains(outpoint) { continue }
            guard let source = index[outpoint.txid], source < txIndex,
                  let output = block.transactions[source].outputs.dropFirst(Int(outpoint.index)).first else {
                fuzzFail("input \(outpoint) of tx \(txIndex) spends neither the set nor an earlier transaction")
            }
            fuzzCheck(!output.isUnspendable, "spent an unspendable output \(outpoint)")
            fuzzCheck(spendsInBlock.insert(outpoint).inserted, "\(outpoint) spent twice in the block")
            inputValue += output.value.baseUnits
        }
    }
    fuzzCheck(delta.inputCount == inputs, "inputCount \(delta.inputCount), the block has \(inputs) inputs")
    let outputValue = block.transactions.dropFirst().flatMap(\.outputs).reduce(UInt64(0)) { $0 + $1.value.baseUnits }
    fuzzCheck(inputValue >= outputValue && delta.fees.baseUnits == inputValue - outputValue,
              "fees \(delta.fees), inputs \(inputValue), outputs \(outputValue)")
    let coinbaseValue = block.transactions[0].outputs.reduce(UInt64(0)) { $0 + $1.value.baseUnits }
    fuzzCheck(coinbaseValue <= parameters.subsidy(height: height).baseUnits + delta.fees.baseUnits, "coinbase claims \(coinbaseValue)")

    var created = 0
    for (outpoint, coin) in delta.created {
        fuzzCheck(utxo.updateValue(coin, forKey: outpoint) == nil, "created \(outpoint) overwrites an unspent coin")
        fuzzCheck(!spendsInBlock.contains(outpoint), "created \(outpoint), spent in the same block")
        fuzzCheck(coin.height == height && coin.isCoinbase == (outpoint.txid == txids[0]), "created \(outpoint) with wrong origin")
        created += 1
    }
    let spendable = block.transactions.flatMap(\.outputs).filter { !$0.isUnspendable }.count
    fuzzCheck(created == spendable - spendsInBlock.count, "created \(created) coins, expected \(spendable - spendsInBlock.count)")

    fuzzCheck(delta.checks.count == delta.checkLocations.count, "checks and locations differ in number")
    for location in delta.checkLocations {
        fuzzCheck(location.height == height && location.blockHash == block.hash
                  && block.transactions.indices.contains(location.transaction) && location.transaction > 0
                  && block.transactions[location.transaction].inputs.indices.contains(location.input), "bad check location \(location)")
    }
    fuzzCheck(delta.signatureBatch.count == delta.checks.count, "the signature batch lost checks")
}

/// `RUSTY_FUZZ_WRITE_SEEDS=DIR` writes the generated part of the seed corpus into DIR/<target>/
/// and exits (scripts/fuzz.sh --write-seeds); the output is deterministic.
func prepare() {
    // Fail at start, not on the first input, if the prepared chain does not connect.
    let next = prepared.blocks[preparedHeight]
    let context = BlockConnector.Context(height: UInt64(preparedHeight) + 1, medianTimePast: medianTimePast(upTo: UInt64(preparedHeight)),
                                         blockHash: next.hash, medianTimePastBefore: { medianTimePast(upTo: $0 &- 1) })
    do {
        _ = try BlockConnector.connect(next, txids: next.transactions.map(\.txid), context: context, parameters: parameters) {
            prepared.utxo[$0]
        }
    } catch {
        fuzzFail("the generated block \(preparedHeight + 1) does not connect on the prepared set: \(error)")
    }
    guard let root = ProcessInfo.processInfo.environment["RUSTY_FUZZ_WRITE_SEEDS"] else { return }
    func write(_ target: String, _ name: String, _ bytes: [UInt8]) {
        let directory = URL(fileURLWithPath: root).appendingPathComponent(target)
        try! FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try! Data(bytes).write(to: directory.appendingPathComponent("seed-\(name)"))
    }
    let blocks = prepared.blocks
    write("connect", "next", [0x00] + next.encoded)
    write("connect", "next-sealed", [0x01] + next.encoded)
    write("connect", "after-next", [0x01] + blocks[preparedHeight + 1].encoded)
    write("block", "genesis", parameters.chain.genesisBlock().encoded)
    write("block", "coinbase-only", blocks[0].encoded)
    write("block", "next", next.encoded)
    // One transaction of each kind the generator makes: coinbase, and spends of every lock.
    var seen = Set<Int>()
    for (height, block) in blocks.enumerated().suffix(12) {
        for (index, transaction) in block.transactions.enumerated() {
            let shape = transaction.witnesses.map(\.count).max() ?? 0
            guard seen.insert(index == 0 ? -1 : shape * 10 + min(transaction.inputs.count, 3)).inserted else { continue }
            write("transaction", "h\(height + 1)-tx\(index)", transaction.encoded)
        }
    }
    var file = [UInt8]()
    for block in blocks.prefix(3) { file += BlockFile.encodeRecord(block, magic: parameters.magic) }
    write("blockfile", "three-records", [0x00] + file)
    write("blockfile", "next-record-limit-80", [0x03] + BlockFile.encodeRecord(next, magic: parameters.magic))
    write("blockfile", "refill", [0x80, 0x10] + file)
    // Script programs (the grammar of FuzzScript.swift): each template with a well-formed
    // witness, and a general program with nested IFs, an 8-byte number and CHECKLOCKTIMEVERIFY.
    let signature = [UInt8](repeating: 0x11, count: 64)
    write("script", "p2kh", [1, 2, 5] + signature + [4, 0, 0])
    write("script", "multisig-2-of-3", [2, 0, 2, 1, 0, 1, 2, 1, 1] + signature + [0, 1] + signature)
    write("script", "htlc-claim", [3, 0, 0, 5, 1, 1, 2] + signature)
    write("script", "htlc-refund", [3, 0, 0, 5, 1, 0, 0] + signature + [2, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 1])
    write("script", "nested", [0, 1, 1, 4, 20, 1, 1, 0, 1, 1, 0, 0, 0, 3, 8, 3, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F,
                               9, 3, 1, 2, 3, 4, 5, 6, 7, 8, 5, 5, 5, 1, 8, 1, 7, 3, 1, 1])
    exit(0)
}
