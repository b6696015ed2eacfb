#!/usr/bin/env python3
"""A second, independent JSON-RPC client for a running rusty node: Python's standard library
only (urllib, json, base64), so passing it shows the wire shape is plain JSON-RPC over HTTP as
bitcoind speaks it, with nothing Swift-specific about it.

Usage: rpc-client-check.py [--datadir DIR] [--network regtest] [--rpcport N]
                           [--rpcconnect HOST] [--rpcuser U --rpcpassword P]

Credentials come from --rpcuser/--rpcpassword, else the cookie DATADIR/NETWORK/.cookie.
Exit status: 0 when every check passes, 1 when one fails (it is named), 2 for usage errors.
"""

import argparse
import base64
import json
import os
import sys
import urllib.error
import urllib.request

DEFAULT_PORTS = {"mainnet": 9372, "testnet": 19372, "regtest": 29372}


class CheckFailed(Exception):
    pass


def default_port(network):
    """The network's RPC port from Config/NETWORK.json beside this script, else the table."""
    config = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Config", network + ".json")
    try:
        with open(config, encoding="utf-8") as handle:
            return int(json.load(handle)["ports"]["rpc"])
    except (OSError, ValueError, KeyError):
        return DEFAULT_PORTS[network]


class Client:
    def __init__(self, url, user, password, timeout):
        self.url = url
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self.authorization = "Basic " + token
        self.timeout = timeout

    def post(self, payload, raw=False):
        """POSTs payload (an object, or bytes when raw); returns (HTTP status, parsed body or None)."""
        body = payload if raw else json.dumps(payload).encode()
        request = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Authorization": self.authorization, "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status, data = response.status, response.read()
        except urllib.error.HTTPError as error:
            # bitcoind answers errors with 4xx/5xx and a JSON-RPC body.
            status, data = error.code, error.read()
        if not data:
            return status, None
        try:
            return status, json.loads(data)
        except ValueError as error:
            raise CheckFailed(f"HTTP {status}: the body is not JSON ({error}): {data[:200]!r}")


def expect(condition, message):
    if not condition:
        raise CheckFailed(message)


def check_reply(name, status, reply, request_id, want_status=200):
    expect(status == want_status, f"{name}: HTTP status {status}, expected {want_status}")
    expect(isinstance(reply, dict), f"{name}: the answer is not a JSON object: {reply!r}")
    expect(reply.get("id") == request_id, f"{name}: id {reply.get('id')!r}, expected {request_id!r}")


def run_checks(client):
    passed = []

    def check(name, function):
        try:
            function()
        except CheckFailed as failure:
            raise CheckFailed(f"{name}: {failure}")
        except (urllib.error.URLError, OSError) as error:
            raise CheckFailed(f"{name}: no answer from {client.url}: {error}")
        passed.append(name)
        print(f"ok   {name}")

    state = {}

    def single_calls():
        status, reply = client.post({"method": "getblockchaininfo", "params": [], "id": 1})
        check_reply("getblockchaininfo", status, reply, 1)
        expect(set(reply) >= {"result", "error", "id"}, f"getblockchaininfo: 1.0-style members missing: {sorted(reply)}")
        expect(reply["error"] is None, f"getblockchaininfo: error {reply['error']!r}")
        info = reply["result"]
        expect(isinstance(info, dict) and isinstance(info.get("blocks"), int) and isinstance(info.get("bestblockhash"), str),
               f"getblockchaininfo: result lacks blocks/bestblockhash: {info!r}")
        state["info"] = info

        status, reply = client.post({"method": "getblockcount", "params": [], "id": "count"})
        check_reply("getblockcount", status, reply, "count")
        expect(isinstance(reply["result"], int) and reply["result"] >= 0, f"getblockcount: result {reply['result']!r}")
        state["count"] = reply["result"]

        status, reply = client.post({"method": "getblockhash", "params": [0], "id": 3})
        check_reply("getblockhash 0", status, reply, 3)
        genesis = reply["result"]
        expect(isinstance(genesis, str) and len(genesis) == 64 and all(c in "0123456789abcdef" for c in genesis),
               f"getblockhash 0: not 64 lower-case hex digits: {genesis!r}")
        state["genesis"] = genesis

        status, reply = client.post({"method": "getbestblockhash", "params": [], "id": 4})
        check_reply("getbestblockhash", status, reply, 4)
        expect(isinstance(reply["result"], str) and len(reply["result"]) == 64, f"getbestblockhash: {reply['result']!r}")
        if state["count"] == state["info"]["blocks"]:
            expect(reply["result"] == state["info"]["bestblockhash"],
                   "getbestblockhash disagrees with getblockchaininfo's bestblockhash at the same height")

    def named_parameters():
        status, reply = client.post({"method": "getblockhash", "params": {"height": 0}, "id": 5})
        check_reply("named getblockhash", status, reply, 5)
        expect(reply["result"] == state["genesis"], f"named getblockhash: {reply['result']!r} != {state['genesis']!r}")

    def method_not_found():
        status, reply = client.post({"method": "nosuchmethod", "params": [], "id": 6})
        check_reply("method not found", status, reply, 6, want_status=404)
        expect(reply.get("result") is None, f"method not found: result {reply.get('result')!r}")
        error = reply.get("error")
        expect(isinstance(error, dict) and error.get("code") == -32601 and isinstance(error.get("message"), str),
               f"method not found: error {error!r}, expected code -32601 with a message")

    def invalid_parameter():
        status, reply = client.post({"method": "getblockhash", "params": [-1], "id": 7})
        check_reply("invalid parameter", status, reply, 7, want_status=500)
        error = reply.get("error")
        expect(isinstance(error, dict) and error.get("code") == -8, f"getblockhash -1: error {error!r}, expected code -8")

    def version_2():
        status, reply = client.post({"jsonrpc": "2.0", "method": "getblockcount", "params": [], "id": 8})
        check_reply("JSON-RPC 2.0", status, reply, 8)
        expect(reply.get("jsonrpc") == "2.0", f"JSON-RPC 2.0: jsonrpc member {reply.get('jsonrpc')!r}")
        expect("error" not in reply and isinstance(reply.get("result"), int), f"JSON-RPC 2.0: {reply!r}")
        status, reply = client.post({"jsonrpc": "2.0", "method": "nosuchmethod", "id": 9})
        check_reply("JSON-RPC 2.0 error", status, reply, 9)  # 2.0 errors come with HTTP 200
        expect("result" not in reply and reply.get("error", {}).get("code") == -32601, f"JSON-RPC 2.0 error: {reply!r}")

    def batch():
        requests = [
            {"method": "getblockcount", "params": [], "id": "a"},
            {"method": "getblockhash", "params": [0], "id": "b"},
            {"method": "nosuchmethod", "params": [], "id": "c"},
            {"method": "getbestblockhash", "params": [], "id": "d"},
        ]
        status, reply = client.post(requests)
        expect(status == 200, f"batch: HTTP status {status}, expected 200")
        expect(isinstance(reply, list) and len(reply) == len(requests), f"batch: expected an array of {len(requests)}: {reply!r}")
        expect([entry.get("id") for entry in reply] == ["a", "b", "c", "d"], f"batch: answers out of order: {reply!r}")
        expect(isinstance(reply[0]["result"], int) and reply[0]["error"] is None, f"batch getblockcount: {reply[0]!r}")
        expect(reply[1]["result"] == state["genesis"], f"batch getblockhash 0: {reply[1]!r}")
        expect(reply[2]["result"] is None and reply[2]["error"]["code"] == -32601, f"batch unknown method: {reply[2]!r}")
        expect(isinstance(reply[3]["result"], str) and len(reply[3]["result"]) == 64, f"batch getbestblockhash: {reply[3]!r}")

    def malformed():
        status, reply = client.post(b'{"method": "getblockcount", ', raw=True)
        expect(status == 500, f"malformed body: HTTP status {status}, expected 500")
        expect(isinstance(reply, dict) and reply.get("error", {}).get("code") == -32700, f"malformed body: {reply!r}")

    def wrong_password():
        wrong = Client(client.url, "__cookie__", "0" * 64, client.timeout)
        status, _ = wrong.post({"method": "getblockcount", "params": [], "id": 10})
        expect(status == 401, f"wrong password: HTTP status {status}, expected 401")

    check("single calls (getblockchaininfo, getblockcount, getblockhash 0, getbestblockhash)", single_calls)
    check("named parameters", named_parameters)
    check("method not found (1.0 style: HTTP 404, code -32601)", method_not_found)
    check("invalid parameter (HTTP 500, code -8)", invalid_parameter)
    check("JSON-RPC 2.0 request", version_2)
    check("batch answered as an array in order", batch)
    check("malformed body (HTTP 500, code -32700)", malformed)
    check("wrong password (HTTP 401)", wrong_password)
    return passed


def main():
    parser = argparse.ArgumentParser(description="Check a rusty node's JSON-RPC wire shape with Python's standard library.")
    parser.add_argument("--datadir", default=os.path.join(os.path.expanduser("~"), ".rusty"),
                        help="data directory root (the cookie is DATADIR/NETWORK/.cookie; default ~/.rusty)")
    parser.add_argument("--network", default="regtest", choices=sorted(DEFAULT_PORTS), help="network (default regtest)")
    parser.add_argument("--rpcconnect", default="127.0.0.1", help="server host (default 127.0.0.1)")
    parser.add_argument("--rpcport", type=int, help="server port (default: the network's RPC port)")
    parser.add_argument("--rpcuser", help="user name (with --rpcpassword; default: the cookie)")
    parser.add_argument("--rpcpassword", help="password (default: the cookie)")
    parser.add_argument("--timeout", type=float, default=30, help="seconds per request (default 30)")
    arguments = parser.parse_args()

    if arguments.rpcpassword is not None:
        user, password = arguments.rpcuser or "", arguments.rpcpassword
    else:
        cookie_path = os.path.join(arguments.datadir, arguments.network, ".cookie")
        try:
            with open(cookie_path, encoding="utf-8") as handle:
                user, _, password = handle.read().strip().partition(":")
        except OSError as error:
            print(f"FAIL credentials: cannot read the cookie {cookie_path}: {error.strerror}", file=sys.stderr)
            return 1
        if not password:
            print(f"FAIL credentials: the cookie {cookie_path} does not hold USER:PASSWORD", file=sys.stderr)
            return 1

    port = arguments.rpcport or default_port(arguments.network)
    host = f"[{arguments.rpcconnect}]" if ":" in arguments.rpcconnect else arguments.rpcconnect
    client = Client(f"http://{host}:{port}/", user, password, arguments.timeout)
    try:
        passed = run_checks(client)
    except CheckFailed as failure:
        print(f"FAIL {failure}", file=sys.stderr)
        return 1
    print(f"all {len(passed)} checks passed against {client.url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
