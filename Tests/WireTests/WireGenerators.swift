import Governance
import Primitives
import QuorumServices
import TestSupport
import Wire

/// Random well-formed messages for the round-trip properties.
extension SeededGenerator {
    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }
    mutating func hash256() -> Hash256 { Hash256(bytes: bytes(32))! }

    mutating func netAddress() -> NetAddress {
        if next() & 1 == 0 {
            let v4 = bytes(4)
            return .ipv4(v4[0], v4[1], v4[2], v4[3], port: UInt16(truncatingIfNeeded: next()), services: next())
        }
        return NetAddress(services: next(), ip: bytes(16), port: UInt16(truncatingIfNeeded: next()))
    }

    /// User agents mixing ASCII and multi-byte UTF-8, up to the 256-byte limit.
    mutating func userAgent() -> String {
        let pieces = ["/rusty:0.1/", "é", "日本", "🦀", "a", " ", "\u{0}"]
        var text = ""
        while true {
            let piece = pieces[int(0...pieces.count - 1)]
            if text.utf8.count + piece.utf8.count > WireLimits.maxUserAgent || next() % 40 == 0 { return text }
            text += piece
        }
    }

    mutating func inventory(_ count: Int) -> [InventoryItem] {
        (0..<count).map { _ in InventoryItem(type: [.transaction, .block, .transactionByTxid][Int(next() % 3)], hash: hash256()) }
    }

    mutating func wireHeader() -> BlockHeader {
        BlockHeader(version: UInt32(truncatingIfNeeded: next()), height: next(), previousHash: hash256(),
                    merkleRoot: hash256(), stateRoot: hash256(), time: next(), bits: UInt32(truncatingIfNeeded: next()),
                    nonce: next())
    }

    mutating func wireTransaction() -> Transaction {
        let inputCount = int(1...3)
        let inputs = (0..<inputCount).map { _ in
            TxIn(previousOutput: OutPoint(txid: hash256(), index: UInt32(truncatingIfNeeded: next())),
                 sequence: UInt32(truncatingIfNeeded: next()))
        }
        let outputs = (0..<int(1...3)).map { _ in
            TxOut(value: Amount(baseUnits: next() % Amount.maxMoney.baseUnits)!, lockScript: bytes(int(0...300)))
        }
        let witnesses = (0..<inputCount).map { _ in (0..<int(0...2)).map { _ in bytes(int(0...260)) } }
        return Transaction(version: UInt32(truncatingIfNeeded: next()), inputs: inputs, outputs: outputs,
                           lockTime: next(), witnesses: witnesses)
    }

    /// One random message of the kind `kind` (an index into `Message.knownCommands`).
    mutating func message(kind: Int) -> Message {
        // Counts sometimes cross the 1-byte / 3-byte CompactSize boundary (253).
        func count(_ limit: Int) -> Int { next() % 4 == 0 ? int(250...min(limit, 300)) : int(0...min(limit, 5)) }
        switch Message.knownCommands[kind] {
        case "version":
            return .version(VersionMessage(
                protocolVersion: UInt32(truncatingIfNeeded: next()), services: next(), timestamp: next(),
                receiver: netAddress(), sender: netAddress(), nonce: next(), userAgent: userAgent(),
                bestHeight: next(), relay: next() & 1 == 1))
        case "verack": return .verack
        case "ping": return .ping(next())
        case "pong": return .pong(next())
        case "getaddr": return .getaddr
        case "addr": return .addr((0..<count(WireLimits.maxAddresses)).map { _ in TimedAddress(time: next(), address: netAddress()) })
        case "inv": return .inv(inventory(count(WireLimits.maxInventory)))
        case "getdata": return .getdata(inventory(count(WireLimits.maxGetData)))
        case "notfound": return .notfound(inventory(count(WireLimits.maxGetData)))
        case "getheaders":
            let locator = (0..<int(0...WireLimits.maxLocator)).map { _ in hash256() }
            return .getheaders(locator: locator, stop: next() & 1 == 0 ? nil : hash256())
        case "headers": return .headers((0..<count(WireLimits.maxHeaders)).map { _ in wireHeader() })
        case "sendheaders": return .sendheaders
        case "block":
            let block = Block(header: wireHeader(), transactions: (0..<int(1...3)).map { _ in wireTransaction() })
            return .block(BlockPayload(block: block))
        case "tx": return .tx(wireTransaction())
        case "mempool": return .mempool
        case "feefilter": return .feefilter(next())
        case "mnchallenge": return .mnchallenge(bytes(MasternodeAuth.challengeLength))
        case "mnauth": return .mnauth(MasternodeAuth(proTxHash: hash256(), signature: bytes(MasternodeAuth.signatureLength)))
        case "clsig": return .clsig(ChainLock(height: next(), blockHash: hash256(), quorumHash: hash256(), signature: bytes(64)))
        case "govexec":
            let result = GovernanceResult(rawValue: UInt8(int(1...3)))!
            let record = GovernanceExecution(proposalId: hash256(), result: result,
                                             activationHeight: result == .approved ? next() % UInt64.max : nil)
            let request = SigningRequest(quorumType: UInt8(truncatingIfNeeded: next()), requestID: SigningRequestID(hash256()), messageHash: hash256())
            return .govexec(SignedGovernanceExecution(record: record, signature: RecoveredSignature(request: request, quorumHash: hash256(),
                                                                                                       signature: bytes(64))))
        case let command where QuorumMessage.commands.contains(command): return .quorum(quorumMessage(command: command))
        default: fatalError("kind \(kind) is not a known command")
        }
    }

    mutating func anyMessage() -> Message { message(kind: int(0...Message.knownCommands.count - 1)) }
}
