import Foundation
import JSONRPC
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The JSON-RPC server of a real `rusty node` over loopback: auth, the request and response
/// shapes, and what hostile or broken clients get (an error answer or a closed connection,
/// never a crash), while an honest client keeps being served.
final class RPCServerTests: NetworkTestCase {
    override class var budget: Double { 120 }

    func startNode(_ extra: [String] = []) throws -> TestNode {
        let node = try network.makeNode("rpc")
        try node.start(["--no-listen"] + extra)
        try node.waitRPC()
        return node
    }

    func post(_ node: TestNode, _ body: String, authorization: String?) throws -> RawHTTPConnection.Response {
        let connection = try RawHTTPConnection(port: node.rpcPort)
        connection.send(RawHTTPConnection.post(body: Array(body.utf8), authorization: authorization))
        guard let response = connection.readResponse() else { throw NetworkTestError("no HTTP response to \(body.prefix(80))") }
        return response
    }

    func testCookieAuthAndStopFlushesAndExitsZero() throws {
        let node = try startNode()
        // The cookie: bitcoind's format, readable by the owner only.
        let attributes = try FileManager.default.attributesOfItem(atPath: node.cookieFile.path)
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o600)
        let cookie = try String(contentsOf: node.cookieFile, encoding: .utf8)
        XCTAssertTrue(cookie.hasPrefix("__cookie__:") && cookie.count == 11 + 64, cookie)

        let request = #"{"method":"uptime","id":7}"#
        let anonymous = try post(node, request, authorization: nil)
        XCTAssertEqual(anonymous.status, 401)
        XCTAssertEqual(anonymous.headers["www-authenticate"], #"Basic realm="jsonrpc""#)
        let wrong = try post(node, request, authorization: "Basic " + Data("__cookie__:\(String(repeating: "0", count: 64))".utf8).base64EncodedString())
        XCTAssertEqual(wrong.status, 401)
        let notBasic = try post(node, request, authorization: "Bearer abc")
        XCTAssertEqual(notBasic.status, 401)
        let good = try post(node, request, authorization: try node.cookieAuthorization())
        XCTAssertEqual(good.status, 200)
        XCTAssertEqual(good.json?["id"], 7)
        XCTAssertEqual(good.json?["error"], .null)
        XCTAssertNotNil(good.json?["result"]?.int64Value)
        XCTAssertNotNil(waitForLog(node, timeout: 5) { $0.contains("incorrect password attempt from 127.0.0.1") })

        XCTAssertEqual(try node.rpc("stop"), "Rusty node stopping")
        XCTAssertTrue(TestSupportWait.exit(node, seconds: node.remaining(30)), "the node did not exit after stop")
        XCTAssertEqual(node.process?.terminationReason, .exit)
        XCTAssertEqual(node.process?.terminationStatus, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: node.cookieFile.path), "the cookie is removed at shutdown")
        XCTAssertFalse(logLines(node, containing: "stop requested over RPC").isEmpty)
        XCTAssertFalse(logLines(node, containing: "shutting down: flushing the chain state").isEmpty)
        XCTAssertEqual(node.lastStatus()?.state, "stopped")
    }

    func testShapesBatchesAndErrorCodes() throws {
        let node = try startNode()
        let auth = try node.cookieAuthorization()
        // JSON-RPC 1.0 style: result, error, id; bitcoind's HTTP statuses.
        let unknown = try post(node, #"{"method":"nosuchmethod","params":[],"id":"a"}"#, authorization: auth)
        XCTAssertEqual(unknown.status, 404)
        XCTAssertEqual(unknown.json?["error"]?["code"], -32601)
        XCTAssertEqual(unknown.json?["result"], .null)
        XCTAssertEqual(unknown.json?["id"], "a")
        let parse = try post(node, #"{"method": "uptime", "#, authorization: auth)
        XCTAssertEqual(parse.status, 500)
        XCTAssertEqual(parse.json?["error"]?["code"], -32700)
        let notObject = try post(node, #""uptime""#, authorization: auth)
        XCTAssertEqual(notObject.json?["error"]?["code"], -32600)
        let badParams = try post(node, #"{"method":"help","params":"x","id":1}"#, authorization: auth)
        XCTAssertEqual(badParams.json?["error"]?["code"], -32600)
        let tooMany = try post(node, #"{"method":"uptime","params":[1],"id":1}"#, authorization: auth)
        XCTAssertEqual(tooMany.json?["error"]?["code"], -32602)
        let wrongType = try post(node, #"{"method":"help","params":[5],"id":1}"#, authorization: auth)
        XCTAssertEqual(wrongType.json?["error"]?["code"], -3)
        let unknownName = try post(node, #"{"method":"help","params":{"topic":"x"},"id":1}"#, authorization: auth)
        XCTAssertEqual(unknownName.json?["error"]?["code"], -8)
        let named = try post(node, #"{"method":"help","params":{"command":"uptime"},"id":1}"#, authorization: auth)
        XCTAssertTrue(named.json?["result"]?.stringValue?.hasPrefix("uptime") == true, named.text)

        // JSON-RPC 2.0: no error member on success, errors with HTTP 200; a notification gets no answer.
        let v2 = try post(node, #"{"jsonrpc":"2.0","method":"uptime","id":3}"#, authorization: auth)
        XCTAssertEqual(v2.status, 200)
        XCTAssertEqual(v2.json?["jsonrpc"], "2.0")
        XCTAssertNil(v2.json?["error"])
        let v2error = try post(node, #"{"jsonrpc":"2.0","method":"nosuch","id":4}"#, authorization: auth)
        XCTAssertEqual(v2error.status, 200)
        XCTAssertNil(v2error.json?["result"])
        XCTAssertEqual(v2error.json?["error"]?["code"], -32601)
        let notification = try post(node, #"{"jsonrpc":"2.0","method":"uptime"}"#, authorization: auth)
        XCTAssertEqual(notification.status, 204)
        XCTAssertTrue(notification.body.isEmpty)

        // A batch: answers in order, the notification left out, each entry judged alone.
        let batch = try post(node, #"[{"method":"uptime","id":1},{"method":"nosuch","id":2},{"jsonrpc":"2.0","method":"uptime"},5,{"method":"help","params":["stop"],"id":3}]"#,
                             authorization: auth)
        XCTAssertEqual(batch.status, 200)
        let entries = try XCTUnwrap(batch.json?.arrayValue)
        XCTAssertEqual(entries.map { $0["id"] }, [1, 2, .null, 3])
        XCTAssertNotNil(entries[0]["result"]?.int64Value)
        XCTAssertEqual(entries[1]["error"]?["code"], -32601)
        XCTAssertEqual(entries[2]["error"]?["code"], -32600)
        XCTAssertTrue(entries[3]["result"]?.stringValue?.hasPrefix("stop") == true)
        let empty = try post(node, "[]", authorization: auth)
        XCTAssertEqual(empty.json?["error"]?["code"], -32600)

        // Keep-alive: three requests on one connection.
        let connection = try RawHTTPConnection(port: node.rpcPort)
        for id in 1...3 {
            connection.send(RawHTTPConnection.post(body: Array(#"{"method":"uptime","id":\#(id)}"#.utf8), authorization: auth, keepAlive: true))
            let response = try XCTUnwrap(connection.readResponse(), "keep-alive request \(id)")
            XCTAssertEqual(response.json?["id"], .int(id))
        }

        // Paths and verbs.
        let get = try RawHTTPConnection(port: node.rpcPort)
        get.send("GET / HTTP/1.1\r\nHost: x\r\nAuthorization: \(auth)\r\nConnection: close\r\n\r\n")
        XCTAssertEqual(get.readResponse()?.status, 405)
        let metrics = try RawHTTPConnection(port: node.rpcPort)
        metrics.send("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let exposition = try XCTUnwrap(metrics.readResponse())
        XCTAssertEqual(exposition.status, 200)
        XCTAssertTrue(exposition.text.contains("rusty_chain_height"), exposition.text)
        XCTAssertTrue(exposition.text.contains(#"rusty_rpc_requests_total{method="uptime",result="ok"}"#), exposition.text)
        XCTAssertTrue(exposition.text.contains("rusty_rpc_request_duration_seconds_bucket"), exposition.text)
    }

    func testHostileClientsGetAnErrorOrAClosedConnectionAndOthersAreStillServed() throws {
        let node = try startNode(["--rpcservertimeout", "2"])
        let auth = try node.cookieAuthorization()

        // 10,000 nested arrays: a parse error, not a stack overflow.
        let nested = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        let deep = try post(node, nested, authorization: auth)
        XCTAssertEqual(deep.json?["error"]?["code"], -32700)
        XCTAssertTrue(deep.json?["error"]?["message"]?.stringValue?.contains("nesting") == true, deep.text)

        // A 100 MB body: refused from its Content-Length before it is read, then the connection closes.
        let huge = try RawHTTPConnection(port: node.rpcPort)
        huge.send("POST / HTTP/1.1\r\nHost: x\r\nAuthorization: \(auth)\r\nContent-Length: \(100 << 20)\r\n\r\n")
        huge.send([UInt8](repeating: 0x5B, count: 1 << 20))
        let refused = try XCTUnwrap(huge.readResponse(), "an answer to a 100 MB body")
        XCTAssertEqual(refused.status, 413)
        XCTAssertTrue(huge.isClosedByServer(within: 5))
        // The same without a Content-Length (chunked): cut off once past the bound.
        let chunked = try RawHTTPConnection(port: node.rpcPort)
        chunked.send("POST / HTTP/1.1\r\nHost: x\r\nAuthorization: \(auth)\r\nTransfer-Encoding: chunked\r\n\r\n")
        let chunk = Array("100000\r\n".utf8) + [UInt8](repeating: 0x20, count: 0x100000) + Array("\r\n".utf8)
        var sent = 0
        while sent < 40, chunked.send(chunk) { sent += 1 }
        XCTAssertLessThan(sent, 40, "the server kept reading past its body bound")

        // Malformed HTTP: an error answer or a close.
        for garbage in ["GARBAGE\r\n\r\n", "POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n", "\u{1}\u{2}\u{3}\r\n\r\n",
                        "POST / HTTP/1.1\r\nHost: x\r\n" + String(repeating: "X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n", count: 4000) + "\r\n"] {
            let connection = try RawHTTPConnection(port: node.rpcPort)
            connection.send(garbage)
            if let response = connection.readResponse() {
                XCTAssertTrue((400...499).contains(response.status), "\(garbage.prefix(30)): HTTP \(response.status)")
            }
            XCTAssertTrue(connection.isClosedByServer(within: 5), "\(garbage.prefix(30)): connection left open")
        }

        // Wrong JSON types inside a valid request.
        let wrongTypes = try post(node, #"{"method":5,"id":1}"#, authorization: auth)
        XCTAssertEqual(wrongTypes.json?["error"]?["code"], -32600)
        let badID = try post(node, #"{"method":"uptime","id":[1]}"#, authorization: auth)
        XCTAssertEqual(badID.json?["error"]?["code"], -32600)

        // Slow clients: half a request head, or a body that never completes, is cut off after the timeout (2 s here).
        let slowHead = try RawHTTPConnection(port: node.rpcPort, timeout: 10)
        slowHead.send("POST / HTTP/1.1\r\nHost: x\r\n")
        let slowBody = try RawHTTPConnection(port: node.rpcPort, timeout: 10)
        slowBody.send("POST / HTTP/1.1\r\nHost: x\r\nAuthorization: \(auth)\r\nContent-Length: 100\r\n\r\n{\"meth")
        // Meanwhile an honest client is served.
        XCTAssertNotNil(try node.rpc("uptime").int64Value)
        XCTAssertTrue(slowHead.isClosedByServer(within: 8), "a client that never finishes its head keeps its connection")
        let cut = slowBody.readResponse()
        XCTAssertTrue(cut == nil || cut?.status == 408, "HTTP \(cut?.status ?? 0)")
        XCTAssertTrue(slowBody.isClosedByServer(within: 8), "a client that never finishes its body keeps its connection")
        // An idle keep-alive connection is closed too.
        let idle = try RawHTTPConnection(port: node.rpcPort, timeout: 10)
        idle.send(RawHTTPConnection.post(body: Array(#"{"method":"uptime","id":1}"#.utf8), authorization: auth, keepAlive: true))
        XCTAssertEqual(idle.readResponse()?.status, 200)
        XCTAssertTrue(idle.isClosedByServer(within: 8))

        XCTAssertTrue(node.isRunning)
        XCTAssertNotNil(try node.rpc("uptime").int64Value)
        try node.stop()
    }

    func testRPCAuthCredentialsAndRefusedExposure() throws {
        // rpcauth=USER:SALT$HMAC-SHA256(SALT, PASSWORD): salt "5f3c1a", password "correct horse".
        let line = "alice:5f3c1a$f05ba0f62caecef7261c2575d098c0610b33fd2b9ace628d7bdc38f43dd59d84"
        let node = try startNode(["--rpcauth", line])
        let good = try post(node, #"{"method":"uptime","id":1}"#, authorization: "Basic " + Data("alice:correct horse".utf8).base64EncodedString())
        XCTAssertEqual(good.status, 200)
        let bad = try post(node, #"{"method":"uptime","id":1}"#, authorization: "Basic " + Data("alice:correct horsf".utf8).base64EncodedString())
        XCTAssertEqual(bad.status, 401)
        let otherUser = try post(node, #"{"method":"uptime","id":1}"#, authorization: "Basic " + Data("bob:correct horse".utf8).base64EncodedString())
        XCTAssertEqual(otherUser.status, 401)
        // The cookie still works beside rpcauth (bitcoind's habit).
        XCTAssertNotNil(try node.rpc("uptime").int64Value)
        try node.stop()

        // Listening beyond loopback without rpcallowip and credentials of the operator's own is refused at start.
        let exposed = try network.makeNode("exposed")
        try exposed.start(["--no-listen", "--rpcbind", "0.0.0.0"])
        XCTAssertTrue(TestSupportWait.exit(exposed, seconds: exposed.remaining(30)))
        XCTAssertEqual(exposed.process?.terminationStatus, 64)
        XCTAssertTrue(exposed.stderrText().contains("rpcbind=0.0.0.0 listens beyond loopback: give rpcallowip"), exposed.stderrText())
        try exposed.start(["--no-listen", "--rpcbind", "0.0.0.0", "--rpcallowip", "10.0.0.0/8"])
        XCTAssertTrue(TestSupportWait.exit(exposed, seconds: exposed.remaining(30)))
        XCTAssertTrue(exposed.stderrText().contains("set rpcauth (or rpcuser/rpcpassword)"), exposed.stderrText())
    }
}

enum TestSupportWait {
    /// Waits for the node's process to exit by itself (bounded).
    static func exit(_ node: TestNode, seconds: Double) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while node.process?.isRunning == true {
            if Date() >= end { return false }
            usleep(50_000)
        }
        return true
    }
}
