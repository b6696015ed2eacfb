// Relay policy that is not consensus: standard output templates, dust, size, version.

import Consensus
import Primitives

public enum OutputTemplate: String, Sendable {
    case payToKeyHash = "pubkeyhash"
    case multisig = "multisig"
    case hashTimeLock = "htlc"
    case nullData = "nulldata"
    case nonStandard = "nonstandard"

    /// Which of `StandardScript`'s templates `lockScript` is (exactly, byte for byte).
    public init(_ lockScript: [UInt8], maxDataCarrierBytes: Int = 83, maxMultisigKeys: Int = 3) {
        if lockScript.first == Script.opReturn {
            // RETURN followed by pushes only, within the carrier size.
            let pushes = try? ScriptInterpreter.parse(Array(lockScript.dropFirst()))
            let onlyPushes = pushes?.allSatisfy { if case .push = $0 { return true } else { return false } } ?? false
            self = onlyPushes && lockScript.count <= maxDataCarrierBytes ? .nullData : .nonStandard
            return
        }
        guard let instructions = try? ScriptInterpreter.parse(lockScript) else { self = .nonStandard; return }
        if instructions.count == 5, case .push(let hash) = instructions[2], hash.count == 32,
           let keyHash = Hash256(bytes: hash), StandardScript.payToKeyHash(keyHash) == lockScript {
            self = .payToKeyHash
            return
        }
        if instructions.last == .op(.checkMultiSig), instructions.count >= 4 {
            let keys = instructions[1..<(instructions.count - 2)].compactMap { instruction -> [UInt8]? in
                if case .push(let key) = instruction, key.count == 32 { return key }
                return nil
            }
            if keys.count == instructions.count - 3, (1...maxMultisigKeys).contains(keys.count),
               (1...keys.count).contains(where: { StandardScript.multisig(required: $0, of: keys) == lockScript }) {
                self = .multisig
                return
            }
        }
        if instructions.count == 12, case .push(let hashLock) = instructions[2], case .push(let recipient) = instructions[4],
           case .push(let refundAfter) = instructions[6], case .push(let refund) = instructions[9],
           let hash = Hash256(bytes: hashLock), refundAfter.count <= 8 {
            let time = refundAfter.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            if StandardScript.hashTimeLock(hashLock: hash, recipient: recipient, refund: refund, refundAfter: time) == lockScript {
                self = .hashTimeLock
                return
            }
        }
        self = .nonStandard
    }
}

extension MempoolPolicy {
    /// Policy checks needing only the transaction (after the consensus context-free rules).
    func checkStandard(_ transaction: Transaction, size: Int) throws(MempoolRejection) {
        guard size <= maxTransactionBytes else {
            throw MempoolRejection("tx-size", "\(size) bytes, limit \(maxTransactionBytes)")
        }
        // A special transaction's type is the version's high 16 bits (section 16.1).
        let baseVersion = transaction.isSpecial ? transaction.version & 0xFFFF : transaction.version
        guard baseVersion == 1 || baseVersion == 2 else {
            throw MempoolRejection("version", "version \(transaction.version)")
        }
        var dataCarriers = 0
        for (index, output) in transaction.outputs.enumerated() {
            let template = OutputTemplate(output.lockScript, maxDataCarrierBytes: maxDataCarrierBytes, maxMultisigKeys: maxBareMultisigKeys)
            switch template {
            case .nonStandard:
                throw MempoolRejection("scriptpubkey", "output \(index) is not a standard template")
            case .nullData:
                dataCarriers += 1
            case .payToKeyHash, .multisig, .hashTimeLock:
                guard output.value.baseUnits >= dustThreshold else {
                    throw MempoolRejection("dust", "output \(index) pays \(output.value.baseUnits), threshold \(dustThreshold)")
                }
            }
        }
        guard dataCarriers <= 1 else { throw MempoolRejection("multi-op-return", "\(dataCarriers) data-carrier outputs") }
    }
}
