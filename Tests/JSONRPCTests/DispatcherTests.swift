import Foundation
import JSONRPC
import RPCServer
import Testing

@Suite("JSON-RPC dispatch and credentials")
struct DispatcherTests {
    func registry() -> RPCRegistry {
        let registry = RPCRegistry()
        registry.register(RPCMethod("add", category: "Test", parameters: [RPCParameter("a", "number", "first"),
                                                                           RPCParameter("b", "number", required: false, "second")],
                                    help: "Adds.") { arguments in
            .int(try arguments.int(0) + (try arguments.optionalInt(1) ?? 0))
        })
        registry.register(RPCMethod("fail", category: "Test", help: "Always fails.") { _ in
            throw RPCError(RPCError.verifyRejected, "nope")
        })
        return registry
    }

    func call(_ body: String) async throws -> (Int, JSON?) {
        let reply = await RPCDispatcher(registry: registry()).handle(body: Array(body.utf8))
        return (reply.status, try reply.body.map { try JSONParser.parse($0) })
    }

    @Test("positional and named parameters, optional ones, and bitcoind's error classes")
    func parameters() async throws {
        #expect(try await call(#"{"method":"add","params":[2,3],"id":1}"#).1?["result"] == 5)
        #expect(try await call(#"{"method":"add","params":{"b":4,"a":1},"id":1}"#).1?["result"] == 5)
        #expect(try await call(#"{"method":"add","params":[2,null],"id":1}"#).1?["result"] == 2)
        #expect(try await call(#"{"method":"add","params":[],"id":1}"#).1?["error"]?["code"] == -32602)
        #expect(try await call(#"{"method":"add","params":[1,2,3],"id":1}"#).1?["error"]?["code"] == -32602)
        #expect(try await call(#"{"method":"add","params":["x"],"id":1}"#).1?["error"]?["code"] == -3)
        #expect(try await call(#"{"method":"add","params":[1.5],"id":1}"#).1?["error"]?["code"] == -8)
        #expect(try await call(#"{"method":"add","params":{"c":1},"id":1}"#).1?["error"]?["code"] == -8)
        let (status, failed) = try await call(#"{"method":"fail","id":"q"}"#)
        #expect(status == 500 && failed?["error"] == ["code": -26, "message": "nope"] && failed?["id"] == "q")
        #expect(try await call(#"{"jsonrpc":"2.0","method":"fail","id":1}"#).0 == 200)
        #expect(try await call(#"{"jsonrpc":"3.0","method":"add","id":1}"#).1?["error"]?["code"] == -32600)
    }

    @Test("help lists every method by category and explains one")
    func help() async throws {
        let index = try await call(#"{"method":"help","id":1}"#).1?["result"]?.stringValue ?? ""
        #expect(index.contains("== Test ==\nadd a ( b )\nfail"))
        let one = try await call(#"{"method":"help","params":["add"],"id":1}"#).1?["result"]?.stringValue ?? ""
        #expect(one.hasPrefix("add a ( b )\n\nAdds.") && one.contains("2. b    (number, optional) second"))
    }

    @Test("typed accessors: hashes, hex, amounts")
    func accessors() throws {
        let parameters = [RPCParameter("h", "hex", ""), RPCParameter("x", "hex", ""), RPCParameter("v", "amount", "")]
        let good = RPCArguments(method: "m", parameters: parameters, values: [.string(String(repeating: "ab", count: 32)), "00ff", .number("0.00000001")])
        #expect(try good.hash(0) == [UInt8](repeating: 0xAB, count: 32))
        #expect(try good.hexBytes(1) == [0, 255])
        #expect(try good.amount(2) == 1)
        let bad = RPCArguments(method: "m", parameters: parameters, values: ["abc", "0g", .number("0.000000001")])
        #expect(throws: RPCError.self) { try bad.hash(0) }
        #expect((try? bad.hexBytes(1)) == nil)
        do { _ = try bad.hexBytes(1) } catch { #expect(error.code == -22) }
        do { _ = try bad.hash(0) } catch { #expect(error.code == -8) }
        do { _ = try bad.amount(2) } catch { #expect(error.code == -3) }
        let negative = RPCArguments(method: "m", parameters: parameters, values: [nil, nil, .number("-1")])
        #expect(throws: RPCError.self) { try negative.amount(2) }
    }

    @Test("credentials: passwords and rpcauth lines, nothing else")
    func credentials() throws {
        let auth = try RPCCredentials.parseRPCAuth("alice:5f3c1a$f05ba0f62caecef7261c2575d098c0610b33fd2b9ace628d7bdc38f43dd59d84")
        let credentials = RPCCredentials(entries: [.password(user: "bob", password: "pw"), auth])
        func basic(_ text: String) -> String { "Basic " + Data(text.utf8).base64EncodedString() }
        #expect(credentials.accepts(authorization: basic("bob:pw")))
        #expect(credentials.accepts(authorization: basic("alice:correct horse")))
        #expect(!credentials.accepts(authorization: basic("alice:pw")))
        #expect(!credentials.accepts(authorization: basic("bob:pw ")))
        #expect(!credentials.accepts(authorization: basic("bob")))
        #expect(!credentials.accepts(authorization: nil))
        #expect(!credentials.accepts(authorization: "Basic !!!"))
        for bad in ["alice", "alice:salt", "alice:salt$abcd", ":s$" + String(repeating: "0", count: 64)] {
            #expect(throws: RPCAuthError.self, "\(bad)") { try RPCCredentials.parseRPCAuth(bad) }
        }
    }

    @Test("allowed subnets: CIDR and dotted masks, v4 and v6")
    func subnets() throws {
        let net = try #require(RPCSubnet("10.1.0.0/16"))
        #expect(net.contains([10, 1, 200, 3]) && !net.contains([10, 2, 0, 1]))
        #expect(RPCSubnet("10.0.0.0/255.0.0.0")?.prefixLength == 8)
        #expect(RPCSubnet("10.0.0.0/255.0.255.0") == nil)
        #expect(RPCSubnet("10.0.0.0/33") == nil)
        #expect(RPCSubnet("nonsense") == nil)
        #expect(RPCSubnet("fd00::/8")?.contains([0xFD] + [UInt8](repeating: 0, count: 15)) == true)
        #expect(RPCSubnet.isLoopback([127, 0, 0, 1]) && RPCSubnet.isLoopback([UInt8](repeating: 0, count: 15) + [1]))
        #expect(!RPCSubnet.isLoopback([10, 0, 0, 1]))
    }
}

