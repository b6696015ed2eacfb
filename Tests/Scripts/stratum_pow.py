"""Proof of work as the rusty node defines it, in Python's standard library only (hashlib has no
BLAKE3): BLAKE3-256 from its specification, the 128-byte header hashed through its midstate,
compact targets and the Stratum share target (docs/PROTOCOL.md sections 5 and 15). Used by
stratum_client.py; `stratum_client.py --self-test` checks it against known vectors.
"""

import json
import struct


class CheckFailed(Exception):
    """An expectation that did not hold; its text names it."""


def expect(condition, what):
    if not condition:
        raise CheckFailed(what)


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
