// BLAKE3 for Rusty Coin: the full hash (any length, all three modes, extendable
// output) plus the two batch shapes the hot paths need. Every SIMD level computes
// bit-identical results to the portable scalar code. Every computation takes its level
// as an argument (clamped to what the CPU has); there is no process-wide level choice,
// so concurrent callers can run different levels.
#ifndef RC_BLAKE3_H
#define RC_BLAKE3_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RC_B3_OUT_LEN 32
#define RC_B3_KEY_LEN 32
#define RC_B3_BLOCK_LEN 64
#define RC_B3_CHUNK_LEN 1024
#define RC_B3_MAX_DEPTH 54

// Domain flags of the compression function (BLAKE3 spec, section 2.1).
enum {
  RC_B3_CHUNK_START = 1 << 0,
  RC_B3_CHUNK_END = 1 << 1,
  RC_B3_PARENT = 1 << 2,
  RC_B3_ROOT = 1 << 3,
  RC_B3_KEYED_HASH = 1 << 4,
  RC_B3_DERIVE_KEY_CONTEXT = 1 << 5,
  RC_B3_DERIVE_KEY_MATERIAL = 1 << 6,
};

typedef enum {
  RC_B3_LEVEL_SCALAR = 0,
  RC_B3_LEVEL_SSE41 = 1,
  RC_B3_LEVEL_AVX2 = 2,
  RC_B3_LEVEL_AVX512 = 3,
} rc_b3_level;

// Best level this CPU (and OS, for AVX/AVX-512 state) supports.
rc_b3_level rc_b3_detected_level(void);
// Clamp a requested level to what the CPU supports.
rc_b3_level rc_b3_clamp_level(rc_b3_level level);
// "scalar", "sse4.1", "avx2", "avx512".
const char *rc_b3_level_name(rc_b3_level level);
// Number of messages one SIMD call processes in parallel at this level (1, 4, 8, 16).
size_t rc_b3_level_degree(rc_b3_level level);

// Incremental hasher. The struct is public so callers can keep it on the stack;
// treat its fields as private.
typedef struct {
  uint32_t cv[8];
  uint64_t chunk_counter;
  uint8_t buf[RC_B3_BLOCK_LEN];
  uint8_t buf_len;
  uint8_t blocks_compressed;
  uint8_t flags;
} rc_b3_chunk_state;

typedef struct {
  uint32_t key[8];
  rc_b3_chunk_state chunk;
  uint8_t cv_stack_len;
  uint8_t cv_stack[(RC_B3_MAX_DEPTH + 1) * RC_B3_OUT_LEN];
  uint8_t level; // rc_b3_level used by this hasher
} rc_b3_hasher;

void rc_b3_hasher_init(rc_b3_hasher *self, rc_b3_level level);
void rc_b3_hasher_init_keyed(rc_b3_hasher *self, const uint8_t key[RC_B3_KEY_LEN], rc_b3_level level);
void rc_b3_hasher_init_derive_key(rc_b3_hasher *self, const void *context, size_t context_len, rc_b3_level level);
void rc_b3_hasher_update(rc_b3_hasher *self, const void *input, size_t input_len);
// Extendable output: out_len bytes starting at byte offset `seek` of the output stream.
void rc_b3_hasher_finalize_seek(const rc_b3_hasher *self, uint64_t seek, uint8_t *out, size_t out_len);
void rc_b3_hasher_finalize(const rc_b3_hasher *self, uint8_t *out, size_t out_len);
void rc_b3_hasher_reset(rc_b3_hasher *self);

// Multi-threaded hashing of one input, as BLAKE3's tree allows: a caller at a chunk
// boundary cuts the input into subtrees of a power-of-two number (>= 2) of whole chunks,
// each starting at a chunk index that is a multiple of its size, hashes them on any
// threads with rc_b3_hasher_subtree_children (read-only on the hasher: it only supplies
// key, mode and level), then pushes the results in input order.
// The two child chaining values under the subtree's root node.
void rc_b3_hasher_subtree_children(const rc_b3_hasher *self, const void *input, size_t len,
                                   uint64_t chunk_counter, uint8_t out[2 * RC_B3_OUT_LEN]);
// Index of the next chunk when the hasher is at a chunk boundary, UINT64_MAX otherwise.
uint64_t rc_b3_hasher_next_chunk(const rc_b3_hasher *self);
// Appends a subtree of `len` bytes hashed with rc_b3_hasher_subtree_children.
void rc_b3_hasher_push_subtree(rc_b3_hasher *self, const uint8_t children[2 * RC_B3_OUT_LEN],
                               size_t len);

// One-shot 32-byte hash (unkeyed).
void rc_b3_hash(const void *input, size_t input_len, uint8_t out[RC_B3_OUT_LEN], rc_b3_level level);

// The compression function on one block, exposed for the PoW midstate.
// cv is updated in place (first 8 output words).
void rc_b3_compress_in_place(uint32_t cv[8], const uint8_t block[RC_B3_BLOCK_LEN],
                             uint8_t block_len, uint64_t counter, uint8_t flags);

// Batch 1: `count` independent messages of `len` bytes each (0 <= len <= 64), the i-th
// starting at msgs + i*stride. Each is a whole BLAKE3 input of one block, so its hash is a
// single compression with flags CHUNK_START|CHUNK_END|ROOT|extra_flags, counter 0,
// starting from `key` (the IV for plain hashing). Writes count*32 bytes to out.
// Precondition: len <= 64. Returns the level whose code ran (scalar when count is 0).
rc_b3_level rc_b3_hash_many_single_block(const uint8_t *msgs, size_t stride, size_t len, size_t count,
                                         const uint32_t key[8], uint8_t extra_flags,
                                         uint8_t *out, rc_b3_level level);

// Batch 2: one Merkle level. `nodes` holds n_nodes 32-byte nodes. Writes (n_nodes+1)/2
// nodes to out: out[i] = keyed_hash(key, nodes[2i] || nodes[2i+1]) (one compression
// each, flags CHUNK_START|CHUNK_END|ROOT|KEYED_HASH), and when n_nodes is odd the last
// node is copied unchanged (promoted). out may equal nodes (in-place). Returns the level
// whose code ran (scalar when there is no pair).
rc_b3_level rc_b3_merkle_level(const uint8_t *nodes, size_t n_nodes, const uint8_t key[RC_B3_KEY_LEN],
                               uint8_t *out, rc_b3_level level);

// Proof-of-work nonce search. The block header is 128 bytes with the nonce as a u64
// (little-endian) at bytes 120..127, i.e. bytes 56..63 of block 1; the PoW hash is
// BLAKE3(header), read as a big-endian 256-bit integer, and a nonce qualifies iff
// hash <= target.
// Tries nonces start, start+1, ..., start+count-1 (wrapping modulo 2^64) in block 1 of a
// header whose first-block chaining value is `midstate`; `block1` is the 64-byte second
// block (its nonce bytes are ignored). `target` is 32 bytes, big-endian. Writes up to
// `max_results` qualifying nonces (hash <= target) to `results` in ascending order of
// trial, and returns how many qualified in total (may exceed max_results). `results` may
// be NULL when max_results is 0. The level is clamped to what the CPU supports.
size_t rc_b3_pow_search(const uint32_t midstate[8], const uint8_t block1[64], uint64_t start, uint64_t count,
                        const uint8_t target[32], uint64_t *results, size_t max_results, rc_b3_level level);

// The IV as words, for callers of rc_b3_hash_many_single_block.
extern const uint32_t RC_B3_IV[8];

#ifdef __cplusplus
}
#endif
#endif
