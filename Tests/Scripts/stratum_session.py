"""The Stratum v1 connection of stratum_client.py: one JSON object per line, the jobs and the
difficulty the server sends, and a subscribed, authorized session with its nonce prefix.
"""

import json
import random
import socket
import struct
import time

from stratum_pow import (BITS_OFFSET, HEADER_LEN, NONCE_OFFSET, PREV_OFFSET, TIME_OFFSET, CheckFailed,
                         HeaderHasher, compact_target, expect, hash_value, header_midstate, share_target,
                         words_to_bytes)


class ServerClosed(CheckFailed):
    """The server closed the connection (end of file or reset)."""


class Job:
    def __init__(self, params, difficulty):
        expect(isinstance(params, list) and len(params) >= 4, "mining.notify has 4 params, got %r" % (params,))
        self.id, header_hex, midstate_hex, self.clean = params[0], params[1], params[2], params[3]
        expect(isinstance(self.id, str) and self.id, "the job id is a non-empty string")
        expect(isinstance(header_hex, str) and len(header_hex) == 2 * HEADER_LEN, "the header is 256 hex digits")
        self.header = bytes.fromhex(header_hex)
        expect(struct.unpack_from("<Q", self.header, NONCE_OFFSET)[0] == 0, "the job header's nonce is zero")
        midstate = words_to_bytes(header_midstate(self.header)).hex()
        expect(midstate == midstate_hex, "the job's midstate %s is BLAKE3's chaining value %s" % (midstate_hex, midstate))
        expect(isinstance(self.clean, bool), "clean_jobs is a boolean")
        self.time = struct.unpack_from("<Q", self.header, TIME_OFFSET)[0]
        self.bits = struct.unpack_from("<I", self.header, BITS_OFFSET)[0]
        self.previous = self.header[PREV_OFFSET:PREV_OFFSET + 32]
        self.difficulty = difficulty
        self.hasher = HeaderHasher(self.header)


class Connection:
    def __init__(self, host, port, timeout):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.settimeout(timeout)
        self.buffer = b""
        self.next_id = 1
        self.difficulty = None
        self.jobs = []

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send_line(self, data):
        self.sock.sendall(data if data.endswith(b"\n") else data + b"\n")

    def read_message(self, deadline):
        """The next message; raises CheckFailed past `deadline` or when the server closes."""
        while b"\n" not in self.buffer:
            expect(len(self.buffer) < 65536, "a server line is at most 64 KiB")
            remaining = deadline - time.monotonic()
            expect(remaining > 0, "a message from the server in time")
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise CheckFailed("a message from the server in time")
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                raise ServerClosed("the server keeps the connection open")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        message = json.loads(line)
        expect(isinstance(message, dict), "every server line is a JSON object")
        if message.get("method") == "mining.set_difficulty":
            params = message.get("params") or []
            expect(len(params) == 1 and isinstance(params[0], (int, float)), "set_difficulty carries one number")
            self.difficulty = params[0]
        elif message.get("method") == "mining.notify":
            expect(self.difficulty is not None, "set_difficulty comes before the first notify")
            self.jobs.append(Job(message.get("params"), self.difficulty))
        return message

    def request(self, method, params, timeout=15.0):
        """Sends a request and returns its response (notifications that come first update the jobs)."""
        request_id = self.next_id
        self.next_id += 1
        self.send_line(json.dumps({"id": request_id, "method": method, "params": params}).encode())
        deadline = time.monotonic() + timeout
        while True:
            message = self.read_message(deadline)
            if "method" in message:
                continue
            expect(message.get("id") == request_id, "the answer to request %d, got %r" % (request_id, message))
            return message

    def wait_job(self, timeout, condition=lambda job: True):
        """The first job (already received or coming) that satisfies `condition`."""
        deadline = time.monotonic() + timeout
        while True:
            for job in self.jobs:
                if condition(job):
                    return job
            self.read_message(deadline)


def error_code(answer):
    error = answer.get("error")
    if isinstance(error, list) and error and isinstance(error[0], int):
        return error[0]
    return None


def error_message(answer):
    error = answer.get("error")
    return error[1] if isinstance(error, list) and len(error) > 1 and isinstance(error[1], str) else ""


class Session:
    """A subscribed, authorized connection with its nonce prefix and first job."""

    def __init__(self, args, user_agent="stratum_client.py/1"):
        self.args = args
        self.connection = Connection(args.host, args.port, args.timeout)
        answer = self.connection.request("mining.subscribe", [user_agent])
        result = answer.get("result")
        expect(answer.get("error") is None and isinstance(result, list) and len(result) >= 3,
               "mining.subscribe answers [subscriptions, extranonce1, extranonce2_size], got %r" % (answer,))
        self.extranonce1, extranonce2_size = result[1], result[2]
        expect(isinstance(self.extranonce1, str) and len(self.extranonce1) == 4, "extranonce1 is 2 bytes (4 hex digits)")
        expect(extranonce2_size == 6, "extranonce2_size is 6")
        self.prefix = int(self.extranonce1, 16)
        self.suffix_bits = 64 - 4 * len(self.extranonce1)
        answer = self.connection.request("mining.authorize", [args.user, "x"])
        expect(answer.get("result") is True, "mining.authorize %s answers true, got %r" % (args.user, answer))
        self.job = self.connection.wait_job(args.timeout)
        self.pow_limit = compact_target(args.pow_limit_bits)

    def nonce(self, suffix):
        return (self.prefix << self.suffix_bits) | (suffix & ((1 << self.suffix_bits) - 1))

    def targets(self, job):
        return share_target(job.difficulty, self.pow_limit), compact_target(job.bits)

    def search(self, job, want, limit=200000, start=None):
        """The first (nonce, digest) from a random suffix on whose hash value satisfies `want(value)`."""
        suffix = random.getrandbits(self.suffix_bits - 8) if start is None else start
        for step in range(limit):
            nonce = self.nonce(suffix + step)
            digest = job.hasher.hash(job.time, nonce)
            if want(hash_value(digest)):
                return nonce, digest, step + 1
        raise CheckFailed("a nonce meeting the target within %d hashes" % limit)

    def submit(self, job_id, header_time, nonce, worker=None):
        params = [worker or self.args.user, job_id, "%016x" % header_time, "%016x" % nonce]
        return self.connection.request("mining.submit", params)

    def close(self):
        self.connection.close()
