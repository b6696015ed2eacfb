#!/usr/bin/env python3
"""Known-answer vectors of PROTOCOL section 16.8, computed from the spec alone.

BLAKE3 (hash, keyed_hash and derive_key modes) is written here from the BLAKE3 paper;
Ed25519 and X25519 are the `cryptography` package's (OpenSSL). Bytes are assembled by hand
from PROTOCOL sections 3, 6 and 16. Prints the vectors as Markdown (the lines of 16.8).
Run: python3 Tests/Scripts/masternode_vectors.py
"""
import struct
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

# --- BLAKE3 -----------------------------------------------------------------------------------
IV = (0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A, 0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19)
PERM = (2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8)
CHUNK_START, CHUNK_END, PARENT, ROOT, KEYED_HASH, DERIVE_KEY_CONTEXT, DERIVE_KEY_MATERIAL = 1, 2, 4, 8, 16, 32, 64
M32 = 0xFFFFFFFF


def rotr(x, n):
    return ((x >> n) | (x << (32 - n))) & M32


def g(v, a, b, c, d, x, y):
    v[a] = (v[a] + v[b] + x) & M32
    v[d] = rotr(v[d] ^ v[a], 16)
    v[c] = (v[c] + v[d]) & M32
    v[b] = rotr(v[b] ^ v[c], 12)
    v[a] = (v[a] + v[b] + y) & M32
    v[d] = rotr(v[d] ^ v[a], 8)
    v[c] = (v[c] + v[d]) & M32
    v[b] = rotr(v[b] ^ v[c], 7)


def compress(cv, block, counter, length, flags):
    m = list(struct.unpack("<16I", block.ljust(64, b"\0")))
    v = list(cv) + list(IV[:4]) + [counter & M32, counter >> 32, length, flags]
    for r in range(7):
        g(v, 0, 4, 8, 12, m[0], m[1]); g(v, 1, 5, 9, 13, m[2], m[3])
        g(v, 2, 6, 10, 14, m[4], m[5]); g(v, 3, 7, 11, 15, m[6], m[7])
        g(v, 0, 5, 10, 15, m[8], m[9]); g(v, 1, 6, 11, 12, m[10], m[11])
        g(v, 2, 7, 8, 13, m[12], m[13]); g(v, 3, 4, 9, 14, m[14], m[15])
        m = [m[i] for i in PERM]
    return [v[i] ^ v[i + 8] for i in range(8)]


def chunk_node(key, chunk, index, flags):
    """(cv, last block, counter, length, flags) of a chunk, its last compression pending."""
    blocks = [chunk[i:i + 64] for i in range(0, len(chunk), 64)] or [b""]
    cv = list(key)
    for n, block in enumerate(blocks[:-1]):
        cv = compress(cv, block, index, 64, flags | (CHUNK_START if n == 0 else 0))
    last = flags | CHUNK_END | (CHUNK_START if len(blocks) == 1 else 0)
    return cv, blocks[-1], index, len(blocks[-1]), last


def tree_node(key, chunks, first, flags):
    if len(chunks) == 1:
        return chunk_node(key, chunks[0], first, flags)
    left_count = 1 << ((len(chunks) - 1).bit_length() - 1)
    left = compress(*tree_node(key, chunks[:left_count], first, flags))
    right = compress(*tree_node(key, chunks[left_count:], first + left_count, flags))
    return list(key), struct.pack("<16I", *(left + right)), 0, 64, flags | PARENT


def blake3_mode(key_words, data, flags):
    chunks = [data[i:i + 1024] for i in range(0, len(data), 1024)] or [b""]
    cv, block, counter, length, node_flags = tree_node(key_words, chunks, 0, flags)
    return struct.pack("<8I", *compress(cv, block, counter, length, node_flags | ROOT))


def blake3(data):
    return blake3_mode(IV, data, 0)


def keyed_hash(key, data):
    return blake3_mode(struct.unpack("<8I", key), data, KEYED_HASH)


def derive_key(context, material=b""):
    context_key = blake3_mode(IV, context.encode(), DERIVE_KEY_CONTEXT)
    return blake3_mode(struct.unpack("<8I", context_key), material, DERIVE_KEY_MATERIAL)


def domain_key(purpose):
    return derive_key("RustyCoin v1 " + purpose)


# --- Encodings (PROTOCOL sections 1, 3, 6, 16) -------------------------------------------------
def u16(x): return struct.pack("<H", x)
def u32(x): return struct.pack("<I", x)
def u64(x): return struct.pack("<Q", x)


def compact(n):
    if n < 0xFD: return bytes([n])
    if n <= 0xFFFF: return b"\xfd" + u16(n)
    if n <= 0xFFFFFFFF: return b"\xfe" + u32(n)
    return b"\xff" + u64(n)


def var_bytes(b): return compact(len(b)) + b
def outpoint(txid, index): return txid + u32(index)


def service_v4(a, b, c, d, port):
    return bytes(10) + b"\xff\xff" + bytes([a, b, c, d]) + struct.pack(">H", port)


def service_v6(address16, port):
    return address16 + struct.pack(">H", port)


def ed25519(seed):
    key = Ed25519PrivateKey.from_private_bytes(seed)
    return key, key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def x25519(secret):
    return X25519PrivateKey.from_private_bytes(secret).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


K = {p: domain_key(p) for p in ["merkle node", "state root", "special payload", "special inputs", "masternode entry", "extension root"]}
assert K["merkle node"].hex() == "ee248fd4fbbf30025a540c363c6e50bc57f3013c2e0626073022ee7f474ae430", "derive_key self-check (section 10)"


def merkle_root(leaves):
    """Section 6: parents keyed by K_merkle node, an odd last node promoted; zero for no leaves."""
    if not leaves: return bytes(32)
    level = list(leaves)
    while len(level) > 1:
        nxt = [keyed_hash(K["merkle node"], level[i] + level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2: nxt.append(level[-1])
        level = nxt
    return level[0]


def p2kh(public_key):
    return bytes([0x76, 0xA0, 0x20]) + blake3(public_key) + bytes([0x88, 0xAC])


def inputs_hash(outpoints):
    return keyed_hash(K["special inputs"], b"".join(outpoints))


def signing_hash(type_, unsigned):
    return keyed_hash(K["special payload"], u16(type_) + unsigned)


def special_tx(type_, inputs, outputs, payload):
    """Section 3 with section 16.1's payload; one empty witness stack per input."""
    base = u32(type_ << 16 | 1) + compact(len(inputs)) + b"".join(op + u32(0xFFFFFFFF) for op in inputs)
    base += compact(len(outputs)) + b"".join(u64(v) + var_bytes(s) for v, s in outputs) + u64(0) + var_bytes(payload)
    return base, base + b"\x00" * len(inputs)


def sign_payload(type_, fields, inputs, signer):
    ih = inputs_hash(inputs)
    unsigned = u16(1) + fields + ih
    sh = signing_hash(type_, unsigned)
    return unsigned + signer.sign(sh), ih, sh


def entry_encoding(pro, collateral, owner, operator, encryption, service, payout, registered, updated, penalty, penalty_height, banned, reason):
    return (pro + collateral + owner + operator + encryption + service + var_bytes(payout) + u64(registered) + u64(updated)
            + u32(penalty) + u64(penalty_height) + u64(0xFFFFFFFFFFFFFFFF if banned is None else banned) + u16(reason))


def main():
    out = []
    say = out.append
    collateral_key, collateral_pk = ed25519(bytes([1]) * 32)
    owner_key, owner_pk = ed25519(bytes([2]) * 32)
    operator_key, operator_pk = ed25519(bytes([3]) * 32)
    encryption_pk = x25519(bytes([4]) * 32)
    new_operator_key, new_operator_pk = ed25519(bytes([5]) * 32)
    new_encryption_pk = x25519(bytes([6]) * 32)
    # P: section 10's pay-to-key-hash script of RFC 8032 test 1's key.
    rfc_pk = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    P = p2kh(rfc_pk)
    assert P.hex() == "76a0206c31041268f471609c79f5f2dbcc38e4a4ab2f4d416109a4e09fcf50fd0f006288ac"

    say("Domain keys:")
    for purpose in ["special payload", "special inputs", "masternode entry", "extension root"]:
        say(f"- `K_{purpose}` = `{K[purpose].hex()}`")
    say("")
    say("Keys (Ed25519 seeds of 32 equal bytes; X25519 secrets likewise):")
    say(f"- collateral key (seed `01`x32) = `{collateral_pk.hex()}`, its pay-to-key-hash `{p2kh(collateral_pk).hex()}`")
    say(f"- owner key (seed `02`x32) = `{owner_pk.hex()}`")
    say(f"- operator key (seed `03`x32) = `{operator_pk.hex()}`")
    say(f"- operator encryption key (X25519 secret `04`x32) = `{encryption_pk.hex()}`")
    say(f"- new operator key (seed `05`x32) = `{new_operator_pk.hex()}`, new encryption key (secret `06`x32) = `{new_encryption_pk.hex()}`")
    say("")

    # mn-register: collateral c0..c0:1, service 10.0.0.1:9999, payout P, spending f0..f0:0.
    collateral = outpoint(bytes([0xC0]) * 32, 1)
    service = service_v4(10, 0, 0, 1, 9999)
    reg_inputs = [outpoint(bytes([0xF0]) * 32, 0)]
    fields = collateral + collateral_pk + owner_pk + operator_pk + encryption_pk + service + var_bytes(P)
    reg_payload, ih, sh = sign_payload(1, fields, reg_inputs, collateral_key)
    base, full = special_tx(1, reg_inputs, [(100_000, P)], reg_payload)
    pro = blake3(base)
    say("`mn-register` (type 1): collateral `c0..c0:1`, service `10.0.0.1:9999`, payout `P`, signed by the collateral key;")
    say("its transaction spends `f0..f0:0` (final sequence, empty witness) and pays 100,000 units to `P`:")
    say(f"- inputs hash = `{ih.hex()}`")
    say(f"- signing hash = `{sh.hex()}`")
    say(f"- payload ({len(reg_payload)} bytes) = `{reg_payload.hex()}`")
    say(f"- transaction = `{full.hex()}`")
    say(f"- txid (the proTxHash) = `{pro.hex()}`")
    say("")

    def other(type_, name, fields, input_byte, signer, signer_name):
        inputs = [outpoint(bytes([input_byte]) * 32, 0)]
        payload, ih, sh = sign_payload(type_, fields, inputs, signer)
        base, _ = special_tx(type_, inputs, [(100_000, P)], payload)
        say(f"`{name}` (type {type_}), spending `{input_byte:02x}..{input_byte:02x}:0`, signed by the {signer_name}:")
        say(f"- signing hash = `{sh.hex()}`")
        say(f"- payload ({len(payload)} bytes) = `{payload.hex()}`")
        say(f"- txid = `{blake3(base).hex()}`")
        say("")

    v6 = bytes.fromhex("20010db8000000000000000000000001")
    other(2, "mn-update-service", pro + service_v6(v6, 19999), 0xF1, operator_key, "operator key; service `[2001:db8::1]:19999`")
    other(3, "mn-update-registrar", pro + new_operator_pk + new_encryption_pk + var_bytes(p2kh(owner_pk)), 0xF2, owner_key,
          "owner key; new operator keys above, payout to the owner key's hash")
    other(4, "mn-revoke", pro + u16(1), 0xF3, operator_key, "operator key; reason 1")

    # Entries: the registration at height 101, and two more.
    e1 = entry_encoding(pro, collateral, owner_pk, operator_pk, encryption_pk, service, P, 101, 101, 0, 101, None, 0)
    e2 = entry_encoding(bytes([0x11]) * 32, outpoint(bytes([0xC1]) * 32, 0), bytes([0x21]) * 32, bytes([0x31]) * 32, bytes([0x41]) * 32,
                        service_v4(10, 0, 0, 2, 9999), P, 5, 7, 40, 6, None, 0)
    e3 = entry_encoding(bytes([0xEE]) * 32, outpoint(bytes([0xC2]) * 32, 2), bytes([0x22]) * 32, bytes(32), bytes([0x42]) * 32,
                        service_v6(v6, 1), P, 9, 12, 0, 9, 12, 3)
    leaves = [(pro, keyed_hash(K["masternode entry"], e1)), (bytes([0x11]) * 32, keyed_hash(K["masternode entry"], e2)),
              (bytes([0xEE]) * 32, keyed_hash(K["masternode entry"], e3))]
    say("List entries (section 16.4):")
    say(f"- E1, the registration above at height 101 (updated 101, penalty 0 at 101, not banned, reason 0): encoding `{e1.hex()}`, leaf `{leaves[0][1].hex()}`")
    say(f"- E2: id `11`x32, collateral `c1..c1:0`, owner `21`x32, operator `31`x32, encryption `41`x32, `10.0.0.2:9999`, payout `P`, "
        f"registered 5, updated 7, penalty 40 at 6, not banned: leaf `{leaves[1][1].hex()}`")
    say(f"- E3: id `ee`x32, collateral `c2..c2:2`, owner `22`x32, operator zeros (revoked), encryption `42`x32, `[2001:db8::1]:1`, payout `P`, "
        f"registered 9, updated 12, penalty 0 at 9, banned at 12, reason 3: leaf `{leaves[2][1].hex()}`")
    ordered = [leaf for _, leaf in sorted(leaves)]
    root = merkle_root(ordered)
    say(f"- list root of E1, E2, E3 (leaves in id order: " + ", ".join(f"`{i.hex()[:8]}..`" for i, _ in sorted(leaves)) + f") = `{root.hex()}`")
    extension = keyed_hash(K["extension root"], root + bytes(96))
    say(f"- extension root (that list, no quorums, governance or pegs) = `{extension.hex()}`")
    witness_root = bytes.fromhex("fa4c3fd1433deb86923ba317de1fdac395479fa43be20508a4449ceb99e5f4a7")
    say(f"- state root with section 10's witness root `fa4c3fd1..` = `{keyed_hash(K['state root'], witness_root + extension).hex()}`")
    print("\n".join(out))


if __name__ == "__main__":
    sys.exit(main())
