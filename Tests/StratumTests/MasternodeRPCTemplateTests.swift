import JSONRPC
import Mining
@testable import MiningClient
import Primitives
import Testing

/// getblocktemplate's `extensionroot`: the client cannot recompute it (it commits to the
/// node's masternode list), so it checks the header's state root with the one given.
@Suite("Mining client: the extension root of RPC templates")
struct MasternodeRPCTemplateTests {
    static let extensionRoot = Hash256(hex: String(repeating: "5a", count: 32))!

    /// An answer whose header commits to `extensionRoot`.
    static func answer() throws -> (json: JSONObject, block: Block) {
        var (json, block) = try RPCTemplateTests.answer(transactions: 1)
        block.header.stateRoot = block.computeStateRoot(extensionRoot: extensionRoot)
        json["header"] = .string(HexCoding.encode(block.header.encoded))
        return (json, block)
    }

    @Test("a stated extension root checks the state root and is kept for new extra nonces")
    func statedRoot() throws {
        var (json, block) = try Self.answer()
        json["extensionroot"] = .string(Self.extensionRoot.hex)
        var work = try RPCWork(json: .object(json))
        #expect(work.template.extensionRoot == Self.extensionRoot)
        #expect(work.template.header == block.header)
        work.template.rollExtraNonce()
        let rolled = work.template.block(nonce: 0)
        #expect(rolled.header.stateRoot == rolled.computeStateRoot(extensionRoot: Self.extensionRoot))
    }

    @Test("without the extension root, or with a wrong or malformed one, the header is refused, naming the field")
    func missingOrWrongRoot() throws {
        let (json, _) = try Self.answer()
        #expect { try RPCWork(json: .object(json)) } throws: { "\($0)".contains("state root") }
        var wrong = json
        wrong["extensionroot"] = .string(String(repeating: "00", count: 31) + "01")
        #expect { try RPCWork(json: .object(wrong)) } throws: { "\($0)".contains("state root") }
        var malformed = json
        malformed["extensionroot"] = .string("zz")
        #expect { try RPCWork(json: .object(malformed)) } throws: { "\($0)".contains("extensionroot") }
    }
}
