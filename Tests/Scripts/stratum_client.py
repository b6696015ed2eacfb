#!/usr/bin/env python3
"""An independent Stratum v1 client for the rusty node's pool server (docs/PROTOCOL.md section 15),
written with Python's standard library only, BLAKE3 included (hashlib has none). Passing it shows
the wire protocol, the header hash and the share target are what the protocol text says, with
nothing borrowed from the Swift code.

Usage:
  stratum_client.py --self-test
  stratum_client.py solve --host H --port P --user ADDR[.worker]
  stratum_client.py stale --host H --port P --user ADDR[.worker]
  stratum_client.py abuse --host H --port P --user ADDR[.worker]

Each mode prints one JSON summary line on stdout and exits 0 when every expectation held; else it
prints "FAIL <what was expected>" on stderr and exits 1 (2 for usage errors).
"""

import argparse
import json
import random
import socket
import struct
import sys
import threading
import time

# ---------------------------------------------------------------------------------------------
# BLAKE3 (hash mode only), from the BLAKE3 specification: 1024-byte chunks of 64-byte blocks,
# chunk chaining values merged in a left-balanced binary tree; the root node's output is the hash.

IV = (0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A, 0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19)
PERMUTATION = (2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8)
CHUNK_START, CHUNK_END, PARENT, ROOT = 1, 2, 4, 8
MASK = 0xFFFFFFFF
CHUNK_LEN = 1024
BLOCK_LEN = 64


def _g(v, a, b, c, d, x, y):
    v[a] = (v[a] + v[b] + x) & MASK
    t = v[d] ^ v[a]
    v[d] = ((t >> 16) | (t << 16)) & MASK
    v[c] = (v[c] + v[d]) & MASK
    t = v[b] ^ v[c]
    v[b] = ((t >> 12) | (t << 20)) & MASK
    v[a] = (v[a] + v[b] + y) & MASK
    t = v[d] ^ v[a]
    v[d] = ((t >> 8) | (t << 24)) & MASK
    v[c] = (v[c] + v[d]) & MASK
    t = v[b] ^ v[c]
    v[b] = ((t >> 7) | (t << 25)) & MASK


def compress(cv, words, counter, block_len, flags):
    """The compression function: 16 output words (the first 8 are the next chaining value)."""
    v = list(cv) + list(IV[:4]) + [counter & MASK, (counter >> 32) & MASK, block_len, flags]
    m = list(words)
    for round_index in range(7):
        _g(v, 0, 4, 8, 12, m[0], m[1])
        _g(v, 1, 5, 9, 13, m[2], m[3])
        _g(v, 2, 6, 10, 14, m[4], m[5])
        _g(v, 3, 7, 11, 15, m[6], m[7])
        _g(v, 0, 5, 10, 15, m[8], m[9])
        _g(v, 1, 6, 11, 12, m[10], m[11])
        _g(v, 2, 7, 8, 13, m[12], m[13])
        _g(v, 3, 4, 9, 14, m[14], m[15])
        if round_index < 6:
            m = [m[i] for i in PERMUTATION]
    return [v[i] ^ v[i + 8] for i in range(8)] + [v[i + 8] ^ cv[i] for i in range(8)]


def block_words(block):
    """A block of up to 64 bytes as 16 little-endian words, zero-padded."""
    return list(struct.unpack("<16I", block.ljust(BLOCK_LEN, b"\0")))


def words_to_bytes(words):
    return struct.pack("<%dI" % len(words), *words)


def _chunk_output(chunk, chunk_index):
    """(cv, words, counter, block_len, flags) of a chunk's last block, before the root flag."""
    cv = list(IV)
    blocks = [chunk[i:i + BLOCK_LEN] for i in range(0, len(chunk), BLOCK_LEN)] or [b""]
    for position, block in enumerate(blocks[:-1]):
        flags = CHUNK_START if position == 0 else 0
        cv = compress(cv, block_words(block), chunk_index, BLOCK_LEN, flags)[:8]
    flags = CHUNK_END | (CHUNK_START if len(blocks) == 1 else 0)
    return cv, block_words(blocks[-1]), chunk_index, len(blocks[-1]), flags


def _subtree_output(chunks, first_index):
    if len(chunks) == 1:
        return _chunk_output(chunks[0], first_index)
    # The left subtree holds the largest power of two of chunks that leaves at least one on the right.
    left_count = 1 << ((len(chunks) - 1).bit_length() - 1)
    left = _subtree_output(chunks[:left_count], first_index)
    right = _subtree_output(chunks[left_count:], first_index + left_count)
    left_cv = compress(*left)[:8]
    right_cv = compress(*right)[:8]
    return list(IV), left_cv + right_cv, 0, BLOCK_LEN, PARENT


def blake3(data):
    """BLAKE3-256 of `data` (32 bytes)."""
    chunks = [data[i:i + CHUNK_LEN] for i in range(0, len(data), CHUNK_LEN)] or [b""]
    cv, words, counter, block_len, flags = _subtree_output(chunks, 0)
    return words_to_bytes(compress(cv, words, counter, block_len, flags | ROOT)[:8])


# ---------------------------------------------------------------------------------------------
# The 128-byte header (little-endian fields): 0 version u32 | 4 height u64 | 12 prev_hash |
# 44 merkle_root | 76 state_root | 108 time u64 | 116 bits u32 | 120 nonce u64. It is one chunk of
# two blocks; time and nonce are in the second, so the first block's chaining value (the job's
# midstate) is computed once per job.

HEADER_LEN = 128
PREV_OFFSET, TIME_OFFSET, BITS_OFFSET, NONCE_OFFSET = 12, 108, 116, 120


def header_midstate(header):
    """Chaining value after the header's first 64 bytes (eight little-endian words)."""
    return compress(IV, block_words(header[:BLOCK_LEN]), 0, BLOCK_LEN, CHUNK_START)[:8]


class HeaderHasher:
    """Hashes one job's header for many (time, nonce) pairs with one compression each."""

    def __init__(self, header):
        self.midstate = header_midstate(header)
        self.tail = block_words(header[BLOCK_LEN:])

    def hash(self, header_time, nonce):
        words = list(self.tail)
        # Second-block word 11..12 is the time (offset 108), 14..15 the nonce (offset 120).
        words[11], words[12] = header_time & MASK, header_time >> 32
        words[14], words[15] = nonce & MASK, nonce >> 32
        return words_to_bytes(compress(self.midstate, words, 0, BLOCK_LEN, CHUNK_END | ROOT)[:8])


def hash_value(digest):
    """The PoW comparison reads the hash as a big-endian 256-bit number (ProofOfWork.meets)."""
    return int.from_bytes(digest, "big")


def compact_target(bits):
    """Bitcoin's compact nBits: exponent byte and 23-bit mantissa (no sign, no overflow allowed)."""
    exponent, mantissa = bits >> 24, bits & 0x007FFFFF
    if bits & 0x00800000 or mantissa == 0:
        raise ValueError("compact target 0x%08x is negative or zero" % bits)
    if exponent <= 3:
        return mantissa >> (8 * (3 - exponent))
    return mantissa << (8 * (exponent - 3))


def approximate(value):
    """The integer as a double, limb by limb from the most significant 64-bit limb, rounding at
    each step exactly as the server does (so both derive the same share target)."""
    result = 0.0
    for shift in (192, 128, 64, 0):
        result = result * 18446744073709551616.0 + float((value >> shift) & 0xFFFFFFFFFFFFFFFF)
    return result


def share_target(difficulty, pow_limit):
    """powLimit / difficulty in IEEE doubles, floored, clamped to [1, 2^256 - 1]."""
    if not isinstance(difficulty, (int, float)) or difficulty != difficulty or difficulty <= 0 \
            or difficulty == float("inf"):
        return pow_limit
    quotient = approximate(pow_limit) / float(difficulty)
    if quotient == float("inf") or quotient >= 2.0 ** 256:
        return (1 << 256) - 1
    return max(1, int(quotient))


# ---------------------------------------------------------------------------------------------
# Self-test vectors. BLAKE3: Tests/Vectors/blake3_test_vectors.json (the official BLAKE3 test
# vectors; input byte i is i % 251), first 32 bytes of "hash". Header: the regtest genesis block
# (Config/regtest.json genesis, Tests/TestSupport/KnownAnswers.swift genesisTxid and
# genesisStateRoot; a one-transaction block's Merkle root is its txid).

BLAKE3_VECTORS = {
    0: "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262",
    1: "2d3adedff11b61f14c886e35afa036736dcd87a74d27b5c1510225d0f592e213",
    63: "e9bc37a594daad83be9470df7f7b3798297c3d834ce80ba85d6e207627b7db7b",
    64: "4eed7141ea4a5cd4b788606bd23f46e212af9cacebacdc7d1f4c6dc7f2511b98",
    65: "de1e5fa0be70df6d2be8fffd0e99ceaa8eb6e8c93a63f2d8d1c30ecb6b263dee",
    127: "d81293fda863f008c09e92fc382a81f5a0b4a1251cba1634016a0f86a6bd640d",
    128: "f17e570564b26578c33bb7f44643f539624b05df1a76c81f30acd548c44b45ef",
    1024: "42214739f095a406f3fc83deb889744ac00df831c10daa55189b5d121c855af7",
    1025: "d00278ae47eb27b34faecf67b4fe263f82d5412916c1ffd97c8cb7fb814b8444",
    3072: "b98cb0ff3623be03326b373de6b9095218513e64f1ee2edd2525c7ad1e5cffd2",
}

GENESIS_TXID = "9233b9ebf80bd8762e7d78769579c3aca6b3f0cc34b818e2407a07338a41d888"
GENESIS_STATE_ROOT = "6b79311656eaa1c3eaea32629b8fc1c251099c430cffe65c9367d2367a3a63e7"
GENESIS_HASH = "79544aa6194641c0d3b44a22f6d52089b60de15867874fc1946ac3aaa5ea3736"
REGTEST_POW_LIMIT_BITS = 0x207FFFFF


def genesis_header():
    return (struct.pack("<IQ", 1, 0) + bytes(32) + bytes.fromhex(GENESIS_TXID) + bytes.fromhex(GENESIS_STATE_ROOT)
            + struct.pack("<QIQ", 1767225600, REGTEST_POW_LIMIT_BITS, 0))


def self_test():
    for length, expected in BLAKE3_VECTORS.items():
        data = bytes(i % 251 for i in range(length))
        expect(blake3(data).hex() == expected, "BLAKE3 of the %d-byte test vector input is %s" % (length, expected))
    header = genesis_header()
    expect(blake3(header).hex() == GENESIS_HASH, "the regtest genesis header hashes to %s" % GENESIS_HASH)
    expect(HeaderHasher(header).hash(1767225600, 0).hex() == GENESIS_HASH, "the midstate path gives the genesis hash")
    limit = compact_target(REGTEST_POW_LIMIT_BITS)
    expect(limit == 0x7FFFFF << 232, "0x207fffff decodes to 0x7fffff << 232")
    expect(share_target(1, limit) == limit, "difficulty 1 is the PoW limit itself")
    expect(share_target(2, limit) == limit >> 1, "difficulty 2 halves the PoW limit")
    expect(share_target(0, limit) == limit, "difficulty 0 falls back to the PoW limit")
    expect(share_target(1e-90, limit) == (1 << 256) - 1, "a tiny difficulty clamps to 2^256 - 1")
    expect(share_target(1e90, limit) == 1, "a huge difficulty clamps to 1")
    print(json.dumps({"mode": "self-test", "blake3_vectors": len(BLAKE3_VECTORS), "genesis": GENESIS_HASH}))


# ---------------------------------------------------------------------------------------------
# The connection: one JSON object per line; notifications update the difficulty and the jobs
# while a request waits for its answer.

class CheckFailed(Exception):
    pass


class ServerClosed(CheckFailed):
    """The server closed the connection (end of file or reset)."""


def expect(condition, what):
    if not condition:
        raise CheckFailed(what)


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


# ---------------------------------------------------------------------------------------------
# Modes.

def solve(args):
    session = Session(args)
    job = session.job
    share, block = session.targets(job)
    # A share that is not a block leaves the tip alone, so its duplicate meets the same job.
    can_miss_block = share > block
    nonce, digest, hashes = session.search(job, lambda v: v <= share and (v > block or not can_miss_block))
    is_block = hash_value(digest) <= block
    answer = session.submit(job.id, job.time, nonce)
    expect(answer.get("result") is True and answer.get("error") is None, "the solved share is accepted, got %r" % (answer,))
    again = session.submit(job.id, job.time, nonce)
    if is_block:
        # The block moved the tip: the job is stale and the server may say so before "duplicate".
        expect(error_code(again) in (21, 22), "the same block share again is refused with 22 (or 21 stale), got %r" % (again,))
    else:
        expect(error_code(again) == 22, "the same share again is refused with 22 duplicate, got %r" % (again,))
    unknown = session.submit("f00dfacecafe", job.time, session.nonce(1))
    expect(error_code(unknown) == 21, "a made-up job id is refused with 21, got %r" % (unknown,))
    outside = session.submit(job.id, job.time, (((session.prefix + 1) & 0xFFFF) << session.suffix_bits) | 5)
    expect(error_code(outside) == 20, "a nonce outside the connection's prefix is refused with 20, got %r" % (outside,))
    stranger = session.submit(job.id, job.time, session.nonce(7), worker=args.user + ".stranger")
    expect(error_code(stranger) == 24, "an unauthorized worker is refused with 24, got %r" % (stranger,))
    low = None
    if share < (1 << 256) - (1 << 250) and not is_block:
        # About half of all hashes miss a share target at difficulty >= 1: one is found at once.
        low_nonce, _, _ = session.search(job, lambda v: v > share)
        low = error_code(session.submit(job.id, job.time, low_nonce))
        expect(low == 23, "a hash above the share target is refused with 23 low difficulty, got %r" % (low,))
    print(json.dumps({"mode": "solve", "extranonce1": session.extranonce1, "difficulty": job.difficulty,
                      "job": job.id, "hash": digest.hex(), "nonce": "%016x" % nonce, "hashes": hashes,
                      "block": is_block, "accepted": 1, "duplicate": error_code(again), "unknownjob": error_code(unknown),
                      "outsideprefix": error_code(outside), "unauthorized": error_code(stranger), "lowdifficulty": low}))
    session.close()


def stale(args):
    """Finds a share and a block on the first job, submits the block, waits for the clean job it
    causes (its previous hash is the block's hash) and then submits the share: 21 stale."""
    session = Session(args)
    job = session.job
    share, block = session.targets(job)
    block_nonce, block_digest, _ = session.search(job, lambda v: v <= block)
    share_nonce, _, _ = session.search(job, lambda v: v <= share, start=(block_nonce + 1) & ((1 << session.suffix_bits) - 1))
    answer = session.submit(job.id, job.time, block_nonce)
    expect(answer.get("result") is True, "the block share is accepted, got %r" % (answer,))
    fresh = session.connection.wait_job(args.timeout, lambda j: j.clean and j.previous == block_digest)
    late = session.submit(job.id, job.time, share_nonce)
    expect(error_code(late) == 21 and "stale" in error_message(late).lower(),
           "a share for the old tip's job is refused with 21 stale, got %r" % (late,))
    print(json.dumps({"mode": "stale", "block": block_digest.hex(), "oldjob": job.id, "newjob": fresh.id,
                      "stale": error_code(late), "message": error_message(late)}))
    session.close()


class Watchdog:
    """The honest miner: pings the server on its own connection the whole time and records the
    slowest answer, so a stalled server shows up as a latency past the bound."""

    def __init__(self, session):
        self.session = session
        self.latencies = []
        self.failure = None
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        try:
            while not self.stopping.is_set():
                started = time.monotonic()
                answer = self.session.connection.request("mining.extranonce.subscribe", [], timeout=30)
                self.latencies.append(time.monotonic() - started)
                expect(answer.get("result") is False, "mining.extranonce.subscribe answers false, got %r" % (answer,))
                self.stopping.wait(0.05)
        except (CheckFailed, OSError, ValueError) as error:
            self.failure = "the honest connection keeps being answered: %s" % error

    def stop(self):
        self.stopping.set()
        self.thread.join(60)
        expect(self.failure is None, self.failure or "")
        expect(self.latencies, "the honest connection got answers")
        return max(self.latencies)


def read_until_closed(sock, timeout):
    """Everything the server sends until it closes (True) or `timeout` passes (False)."""
    deadline = time.monotonic() + timeout
    received = b""
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        except OSError:
            return received, True
        if not chunk:
            return received, True
        received += chunk
    return received, False


def abuse_bad_lines(args):
    connection = Connection(args.host, args.port, args.timeout)
    connection.send_line(b'{"id": 1, "method": "mining.subscribe", "params": [')
    answer = connection.read_message(time.monotonic() + args.timeout)
    expect(answer.get("error") is not None and answer.get("id") is None,
           "malformed JSON is answered with an error and id null, got %r" % (answer,))
    answer = connection.request("mining.frobnicate", [])
    expect(error_code(answer) == 20 and "unknown method" in error_message(answer),
           "an unknown method is answered [20, \"unknown method ...\"], got %r" % (answer,))
    answer = connection.request("mining.subscribe", ["after-garbage"])
    expect(isinstance(answer.get("result"), list), "the connection still serves after bad lines, got %r" % (answer,))
    connection.close()


def abuse_huge_line(args):
    sock = socket.create_connection((args.host, args.port), timeout=args.timeout)
    try:
        sock.sendall(b"x" * (1 << 20))
    except OSError:
        pass  # The server may close before it has read it all.
    received, closed = read_until_closed(sock, args.timeout)
    sock.close()
    expect(closed, "a 1 MiB line without a newline makes the server close the connection")
    lines = [json.loads(line) for line in received.split(b"\n") if line.strip()]
    expect(not lines or error_code(lines[0]) == 20, "the huge line is answered with error 20 before closing, got %r" % (lines,))
    return bool(lines)


def send_flood(session, lines, deadline):
    """Sends `lines` from a thread while reading the answers; returns the answers (responses,
    not notifications) and whether the server closed the connection."""
    payload = b"\n".join(lines) + b"\n"

    def send():
        try:
            session.connection.sock.sendall(payload)
        except OSError:
            pass  # Closed by the server: the reader sees it.
    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    answers = []
    closed = False
    while len(answers) < len(lines):
        try:
            message = session.connection.read_message(deadline)
        except ServerClosed:
            closed = True
            break
        except CheckFailed:
            raise CheckFailed("the flood is answered in time (%d of %d answers)" % (len(answers), len(lines)))
        if "method" not in message:
            answers.append(message)
    sender.join(10)
    session.close()
    return answers, closed


def abuse_share_flood(args, count=5000):
    """A real share, then `count` well-formed submits without waiting: repeats of it (22
    duplicate, or 21 stale had it been a block) and made-up job ids (21). A miner's normal
    refusals: every one must be answered."""
    session = Session(args, "share-flood")
    job = session.job
    share, block = session.targets(job)
    nonce, _, _ = session.search(job, lambda v: v <= share and (v > block or share <= block))
    answer = session.submit(job.id, job.time, nonce)
    expect(answer.get("result") is True, "the flood's first share is accepted, got %r" % (answer,))
    lines = []
    for index in range(count):
        job_id = job.id if index % 2 == 0 else "ffff%08x" % index
        lines.append(json.dumps({"id": index + 100, "method": "mining.submit",
                                 "params": [args.user, job_id, "%016x" % job.time, "%016x" % nonce]}).encode())
    started = time.monotonic()
    answers, closed = send_flood(session, lines, started + 60)
    expect(not closed and len(answers) == count, "all %d refused shares are answered (got %d)" % (count, len(answers)))
    codes = [error_code(answer) for answer in answers]
    expect(all(code in (21, 22) for code in codes), "every repeat is 22 and every made-up job 21, got %r" % (set(codes),))
    return {"sharefloodanswers": len(answers), "sharefloodseconds": round(time.monotonic() - started, 3),
            "sharefloodduplicate": codes.count(22), "sharefloodunknownjob": codes.count(21)}


def abuse_garbage_flood(args, count=5000):
    """`count` lines without waiting: malformed JSON and submits the server must call invalid
    (nonces outside the prefix, times before the job's). Bad messages: the server answers each
    with an error and may close the connection after enough of them in a row."""
    session = Session(args, "garbage-flood")
    job = session.job
    lines = []
    for index in range(count):
        if index % 3 == 0:
            lines.append(b'{"id": %d, "method": "mining.submit", "params": ["x", ' % (index + 100))
            continue
        outside = (((session.prefix + 1) & 0xFFFF) << session.suffix_bits) | index
        nonce, header_time = (outside, job.time) if index % 3 == 1 else (session.nonce(index), job.time - 1)
        lines.append(json.dumps({"id": index + 100, "method": "mining.submit",
                                 "params": [args.user, job.id, "%016x" % header_time, "%016x" % nonce]}).encode())
    started = time.monotonic()
    answers, closed = send_flood(session, lines, started + 60)
    expect(answers and all(error_code(answer) == 20 for answer in answers), "every garbage line is answered with error 20")
    invalid = sum(1 for answer in answers if answer.get("id") is not None)
    return {"garbageanswers": len(answers), "garbageclosed": closed, "garbageinvalidshares": invalid,
            "garbageseconds": round(time.monotonic() - started, 3)}


def abuse_slow_reader(args, seconds=3.0):
    """Subscribes, then sends requests for `seconds` without ever reading the answers (with a
    small receive buffer, so the answers pile up at the server). Returns the bytes sent and
    whether the server closed the connection (the pool's cure for a reader that never reads)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(args.timeout)
    sock.connect((args.host, args.port))
    sock.sendall(b'{"id": 1, "method": "mining.subscribe", "params": ["slow"]}\n')
    sock.sendall(json.dumps({"id": 2, "method": "mining.authorize", "params": [args.user, "x"]}).encode() + b"\n")
    request = b'{"id": 3, "method": "mining.configure", "params": [["version-rolling"], {}]}\n' * 512
    sent = 0
    closed = False
    deadline = time.monotonic() + seconds
    sock.settimeout(0.2)
    while time.monotonic() < deadline:
        try:
            sent += sock.send(request)
        except socket.timeout:
            continue  # The server stopped reading us (back-pressure): fine, keep the pressure on.
        except OSError:
            closed = True
            break
    sock.close()
    return sent, closed


def abuse(args):
    honest = Session(args, "honest")
    watchdog = Watchdog(honest)
    results = {"mode": "abuse"}
    abuse_bad_lines(args)
    results["hugelineanswered"] = abuse_huge_line(args)
    results.update(abuse_share_flood(args))
    results.update(abuse_garbage_flood(args))
    results["slowreaderbytes"], results["slowreaderclosed"] = abuse_slow_reader(args)
    slowest = watchdog.stop()
    results["honestanswers"] = len(watchdog.latencies)
    results["honestmaxlatency"] = round(slowest, 4)
    expect(slowest <= args.max_latency, "the honest connection is answered within %.1f s (slowest %.3f s)"
           % (args.max_latency, slowest))
    # And it can still mine: a share on the latest job is accepted.
    latest = honest.connection.jobs[-1]
    share, _ = honest.targets(latest)
    nonce, _, _ = honest.search(latest, lambda v: v <= share)
    answer = honest.submit(latest.id, latest.time, nonce)
    expect(answer.get("result") is True, "after the abuse a share is still accepted, got %r" % (answer,))
    honest.close()
    print(json.dumps(results))


def main(argv=None):
    parser = argparse.ArgumentParser(description="Independent Stratum v1 client for the rusty node.")
    parser.add_argument("--self-test", action="store_true", help="check BLAKE3 and the share target math, no network")
    modes = parser.add_subparsers(dest="mode")
    for name, text in (("solve", "solve and submit a share; duplicate, unknown job, prefix and worker errors"),
                       ("stale", "a block makes the previous job stale: its shares get 21 stale"),
                       ("abuse", "malformed JSON, unknown methods, a huge line, a flood, a slow reader")):
        mode = modes.add_parser(name, help=text)
        mode.add_argument("--host", default="127.0.0.1")
        mode.add_argument("--port", type=int, required=True)
        mode.add_argument("--user", required=True, help="ADDRESS or ADDRESS.worker")
        mode.add_argument("--timeout", type=float, default=30.0, help="bound of every wait, seconds")
        mode.add_argument("--pow-limit-bits", type=lambda text: int(text, 0), default=REGTEST_POW_LIMIT_BITS)
        mode.add_argument("--max-latency", type=float, default=3.0, help="abuse: slowest answer allowed to the honest miner")
    args = parser.parse_args(argv)
    try:
        if args.self_test:
            self_test()
        elif args.mode is None:
            parser.error("give --self-test or a mode (solve, stale, abuse)")
        else:
            {"solve": solve, "stale": stale, "abuse": abuse}[args.mode](args)
    except CheckFailed as failure:
        print("FAIL %s" % failure, file=sys.stderr)
        return 1
    except (OSError, ValueError) as error:
        print("FAIL a working connection to the server: %s" % error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
