import Primitives
import TestSupport

extension SeededGenerator {
    /// The generator of a random or property test, printing its seed so a failure can be
    /// replayed: `SEED <test> <seed>` in the test output.
    static func logged(_ seed: UInt64, _ test: String = #function) -> SeededGenerator {
        print("SEED \(test) \(seed)")
        return SeededGenerator(seed: seed)
    }
}

/// Random well-formed values for the round-trip properties.
extension SeededGenerator {
    mutating func hash() -> Hash256 { Hash256(bytes: bytes(32))! }

    mutating func amount() -> Amount { Amount(baseUnits: UInt64.random(in: 0...Amount.maxMoney.baseUnits, using: &self))! }

    mutating func transaction(maxInputs: Int = 4, maxOutputs: Int = 4) -> Transaction {
        let inputCount = Int.random(in: 1...maxInputs, using: &self)
        let inputs = (0..<inputCount).map { _ in
            TxIn(previousOutput: OutPoint(txid: hash(), index: UInt32.random(in: 0...UInt32.max, using: &self)),
                 sequence: UInt32.random(in: 0...UInt32.max, using: &self))
        }
        let outputs = (0..<Int.random(in: 1...maxOutputs, using: &self)).map { _ in
            TxOut(value: amount(), lockScript: bytes(Int.random(in: 0...300, using: &self)))
        }
        let witnesses = (0..<inputCount).map { _ in
            (0..<Int.random(in: 0...3, using: &self)).map { _ in bytes([0, 1, 32, 64, 252, 253, 300].randomElement(using: &self)!) }
        }
        return Transaction(version: UInt32.random(in: 0...3, using: &self), inputs: inputs, outputs: outputs,
                           lockTime: UInt64.random(in: 0...UInt64.max, using: &self), witnesses: witnesses)
    }

    mutating func header() -> BlockHeader {
        BlockHeader(version: UInt32.random(in: 0...UInt32.max, using: &self), height: next(), previousHash: hash(),
                    merkleRoot: hash(), stateRoot: hash(), time: next(), bits: UInt32.random(in: 0...UInt32.max, using: &self),
                    nonce: next())
    }

    mutating func block(transactions: Int) -> Block {
        Block(header: header(), transactions: (0..<transactions).map { _ in transaction() })
    }
}
