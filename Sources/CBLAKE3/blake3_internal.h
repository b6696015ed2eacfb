// Private declarations shared by the CBLAKE3 implementation files.
#ifndef RC_BLAKE3_INTERNAL_H
#define RC_BLAKE3_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "include/rc_blake3.h"

#define RC_B3_MAX_SIMD_DEGREE 16
// Degree used to size CV buffers: parents need at least two inputs.
#define RC_B3_MAX_SIMD_DEGREE_OR_2 16

// Shape of a "hash many" routine: num_inputs inputs, each `blocks` whole 64-byte blocks
// long, all starting from `key`. Input i uses counter + i when increment_counter is set
// (chunks), otherwise `counter` (parents). Block 0 gets flags|flags_start, the last block
// flags|flags_end, every block has block_len 64. Writes num_inputs * 32 bytes to out.
typedef void (*rc_b3_hash_many_fn)(const uint8_t *const *inputs, size_t num_inputs, size_t blocks,
                                   const uint32_t key[8], uint64_t counter, bool increment_counter,
                                   uint8_t flags, uint8_t flags_start, uint8_t flags_end,
                                   uint8_t *out);

// Shape of a single-block batch: count messages of len (<= 64) bytes at msgs + i*stride,
// each hashed with one compression (counter 0, block_len len, flags as given, zero padding).
// Every input of a SIMD group is read before any of its outputs is written, and groups
// go in order, so out may alias msgs as long as out + 32*i <= msgs + stride*i.
typedef void (*rc_b3_single_block_fn)(const uint8_t *msgs, size_t stride, size_t len, size_t count,
                                      const uint32_t key[8], uint8_t flags, uint8_t *out);

static inline uint32_t rc_b3_load32(const void *src) {
  const uint8_t *p = (const uint8_t *)src;
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline void rc_b3_store32(void *dst, uint32_t w) {
  uint8_t *p = (uint8_t *)dst;
  p[0] = (uint8_t)w;
  p[1] = (uint8_t)(w >> 8);
  p[2] = (uint8_t)(w >> 16);
  p[3] = (uint8_t)(w >> 24);
}

static inline void rc_b3_load_words(uint32_t *dst, const uint8_t *src, size_t n) {
  for (size_t i = 0; i < n; i++) dst[i] = rc_b3_load32(src + 4 * i);
}

static inline void rc_b3_store_words(uint8_t *dst, const uint32_t *src, size_t n) {
  for (size_t i = 0; i < n; i++) rc_b3_store32(dst + 4 * i, src[i]);
}

static inline uint32_t rc_b3_counter_low(uint64_t c) { return (uint32_t)c; }
static inline uint32_t rc_b3_counter_high(uint64_t c) { return (uint32_t)(c >> 32); }

// The round function, written once for every lane width. A file that uses it defines
// add_v, xor_v, rot16_v, rot12_v, rot8_v, rot7_v for its vector (or scalar) type; v is the
// 16-word state, m the 16 message words. The four G functions of each half round are
// independent, so every step is issued for all four before the next step (more
// instruction-level parallelism for the out-of-order core). The message permutation is
// applied at compile time: each round names its schedule indices directly.
#define RC_B3_STEP4(op, v, t0, s0, t1, s1, t2, s2, t3, s3) \
  do {                                                     \
    v[t0] = op(v[t0], s0);                                 \
    v[t1] = op(v[t1], s1);                                 \
    v[t2] = op(v[t2], s2);                                 \
    v[t3] = op(v[t3], s3);                                 \
  } while (0)
#define RC_B3_ROT4(rot, v, t0, t1, t2, t3) \
  do {                                     \
    v[t0] = rot(v[t0]);                    \
    v[t1] = rot(v[t1]);                    \
    v[t2] = rot(v[t2]);                    \
    v[t3] = rot(v[t3]);                    \
  } while (0)

// Four G functions G(a_i, b_i, c_i, d_i, x_i, y_i) side by side.
#define RC_B3_G4(v, a0, b0, c0, d0, a1, b1, c1, d1, a2, b2, c2, d2, a3, b3, c3, d3, x0, y0, x1, y1, \
                 x2, y2, x3, y3)                                                                  \
  do {                                                                                            \
    RC_B3_STEP4(add_v, v, a0, (x0), a1, (x1), a2, (x2), a3, (x3));                                \
    RC_B3_STEP4(add_v, v, a0, v[b0], a1, v[b1], a2, v[b2], a3, v[b3]);                            \
    RC_B3_STEP4(xor_v, v, d0, v[a0], d1, v[a1], d2, v[a2], d3, v[a3]);                            \
    RC_B3_ROT4(rot16_v, v, d0, d1, d2, d3);                                                       \
    RC_B3_STEP4(add_v, v, c0, v[d0], c1, v[d1], c2, v[d2], c3, v[d3]);                            \
    RC_B3_STEP4(xor_v, v, b0, v[c0], b1, v[c1], b2, v[c2], b3, v[c3]);                            \
    RC_B3_ROT4(rot12_v, v, b0, b1, b2, b3);                                                       \
    RC_B3_STEP4(add_v, v, a0, (y0), a1, (y1), a2, (y2), a3, (y3));                                \
    RC_B3_STEP4(add_v, v, a0, v[b0], a1, v[b1], a2, v[b2], a3, v[b3]);                            \
    RC_B3_STEP4(xor_v, v, d0, v[a0], d1, v[a1], d2, v[a2], d3, v[a3]);                            \
    RC_B3_ROT4(rot8_v, v, d0, d1, d2, d3);                                                        \
    RC_B3_STEP4(add_v, v, c0, v[d0], c1, v[d1], c2, v[d2], c3, v[d3]);                            \
    RC_B3_STEP4(xor_v, v, b0, v[c0], b1, v[c1], b2, v[c2], b3, v[c3]);                            \
    RC_B3_ROT4(rot7_v, v, b0, b1, b2, b3);                                                        \
  } while (0)

// One round: columns, then diagonals; s0..s15 are this round's message schedule.
#define RC_B3_ROUND(v, m, s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13, s14, s15) \
  do {                                                                                          \
    RC_B3_G4(v, 0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15, m[s0], m[s1], m[s2],     \
             m[s3], m[s4], m[s5], m[s6], m[s7]);                                               \
    RC_B3_G4(v, 0, 5, 10, 15, 1, 6, 11, 12, 2, 7, 8, 13, 3, 4, 9, 14, m[s8], m[s9], m[s10],    \
             m[s11], m[s12], m[s13], m[s14], m[s15]);                                          \
  } while (0)

#define RC_B3_ROUNDS(v, m)                                                   \
  do {                                                                       \
    RC_B3_ROUND(v, m, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15); \
    RC_B3_ROUND(v, m, 2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8); \
    RC_B3_ROUND(v, m, 3, 4, 10, 12, 13, 2, 7, 14, 6, 5, 9, 0, 11, 15, 8, 1); \
    RC_B3_ROUND(v, m, 10, 7, 12, 9, 14, 3, 13, 15, 4, 0, 11, 2, 5, 8, 1, 6); \
    RC_B3_ROUND(v, m, 12, 13, 9, 11, 15, 10, 14, 8, 7, 2, 5, 3, 0, 1, 6, 4); \
    RC_B3_ROUND(v, m, 9, 14, 11, 5, 8, 12, 15, 1, 13, 3, 0, 10, 2, 6, 4, 7); \
    RC_B3_ROUND(v, m, 11, 15, 5, 0, 1, 9, 8, 6, 14, 10, 2, 12, 3, 4, 7, 13); \
  } while (0)

// blake3_portable.c
void rc_b3_compress_portable(const uint32_t cv[8], const uint8_t block[RC_B3_BLOCK_LEN],
                             uint8_t block_len, uint64_t counter, uint8_t flags, uint32_t out[16]);
void rc_b3_hash_many_portable(const uint8_t *const *inputs, size_t num_inputs, size_t blocks,
                              const uint32_t key[8], uint64_t counter, bool increment_counter,
                              uint8_t flags, uint8_t flags_start, uint8_t flags_end, uint8_t *out);
void rc_b3_single_block_portable(const uint8_t *msgs, size_t stride, size_t len, size_t count,
                                 const uint32_t key[8], uint8_t flags, uint8_t *out);

#if defined(__x86_64__)
void rc_b3_hash_many_sse41(const uint8_t *const *inputs, size_t num_inputs, size_t blocks,
                           const uint32_t key[8], uint64_t counter, bool increment_counter,
                           uint8_t flags, uint8_t flags_start, uint8_t flags_end, uint8_t *out);
void rc_b3_single_block_sse41(const uint8_t *msgs, size_t stride, size_t len, size_t count,
                              const uint32_t key[8], uint8_t flags, uint8_t *out);
void rc_b3_hash_many_avx2(const uint8_t *const *inputs, size_t num_inputs, size_t blocks,
                          const uint32_t key[8], uint64_t counter, bool increment_counter,
                          uint8_t flags, uint8_t flags_start, uint8_t flags_end, uint8_t *out);
void rc_b3_single_block_avx2(const uint8_t *msgs, size_t stride, size_t len, size_t count,
                             const uint32_t key[8], uint8_t flags, uint8_t *out);
void rc_b3_hash_many_avx512(const uint8_t *const *inputs, size_t num_inputs, size_t blocks,
                            const uint32_t key[8], uint64_t counter, bool increment_counter,
                            uint8_t flags, uint8_t flags_start, uint8_t flags_end, uint8_t *out);
void rc_b3_single_block_avx512(const uint8_t *msgs, size_t stride, size_t len, size_t count,
                               const uint32_t key[8], uint8_t flags, uint8_t *out);
#endif

// blake3_dispatch.c: route to the implementation of a (clamped) level.
void rc_b3_hash_many(const uint8_t *const *inputs, size_t num_inputs, size_t blocks,
                     const uint32_t key[8], uint64_t counter, bool increment_counter, uint8_t flags,
                     uint8_t flags_start, uint8_t flags_end, uint8_t *out, rc_b3_level level);
rc_b3_level rc_b3_single_block(const uint8_t *msgs, size_t stride, size_t len, size_t count,
                        const uint32_t key[8], uint8_t flags, uint8_t *out, rc_b3_level level);

// ---- Proof-of-work nonce search (rc_b3_pow_search) ----
// Block 1 of the 128-byte header holds the u64 nonce in message words 14 (low) and 15
// (high). Everything in the first round that does not touch those two words is computed
// once per call (rc_b3_pow_prepare) and shared by every level.
typedef struct {
  uint32_t midstate[8];  // chaining value after block 0
  uint32_t m[16];        // block-1 message words (m[14], m[15] are replaced per trial)
  uint32_t target[8];    // target as big-endian words, target[0] most significant
  // State after round 1 minus its last G (the nonce G on words 3, 4, 9, 14), with the
  // constant first step of that G folded in: v[3] holds v3 + v4.
  uint32_t v[16];
} rc_b3_pow_ctx;

#define RC_B3_POW_FLAGS (RC_B3_CHUNK_END | RC_B3_ROOT)

// The rest of the compression for one trial: v starts as ctx->v (broadcast), lo/hi are the
// nonce words, m the message words (m[14] = lo, m[15] = hi). Only out word 0 = v[0] ^ v[8]
// is needed for early rejection, so compilers drop the work that does not feed it.
#define RC_B3_POW_ROUNDS(v, m, lo, hi)                                       \
  do {                                                                       \
    v[3] = add_v(v[3], lo);                                                  \
    v[14] = rot16_v(xor_v(v[14], v[3]));                                     \
    v[9] = add_v(v[9], v[14]);                                               \
    v[4] = rot12_v(xor_v(v[4], v[9]));                                       \
    v[3] = add_v(add_v(v[3], hi), v[4]);                                     \
    v[14] = rot8_v(xor_v(v[14], v[3]));                                      \
    v[9] = add_v(v[9], v[14]);                                               \
    v[4] = rot7_v(xor_v(v[4], v[9]));                                        \
    RC_B3_ROUND(v, m, 2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8); \
    RC_B3_ROUND(v, m, 3, 4, 10, 12, 13, 2, 7, 14, 6, 5, 9, 0, 11, 15, 8, 1); \
    RC_B3_ROUND(v, m, 10, 7, 12, 9, 14, 3, 13, 15, 4, 0, 11, 2, 5, 8, 1, 6); \
    RC_B3_ROUND(v, m, 12, 13, 9, 11, 15, 10, 14, 8, 7, 2, 5, 3, 0, 1, 6, 4); \
    RC_B3_ROUND(v, m, 9, 14, 11, 5, 8, 12, 15, 1, 13, 3, 0, 10, 2, 6, 4, 7); \
    RC_B3_ROUND(v, m, 11, 15, 5, 0, 1, 9, 8, 6, 14, 10, 2, 12, 3, 4, 7, 13); \
  } while (0)

// blake3_portable.c
void rc_b3_pow_prepare(rc_b3_pow_ctx *ctx, const uint32_t midstate[8], const uint8_t block1[64],
                       const uint8_t target[32]);
// Full 256-bit check of one nonce with the reference compression.
bool rc_b3_pow_check(const rc_b3_pow_ctx *ctx, uint64_t nonce);
// Searches start .. start+count-1; shape shared by every level (results may be NULL when
// max_results is 0). Returns the number of qualifying nonces, writes the first max_results.
size_t rc_b3_pow_search_portable(const rc_b3_pow_ctx *ctx, uint64_t start, uint64_t count,
                                 uint64_t *results, size_t max_results);
#if defined(__x86_64__)
size_t rc_b3_pow_search_sse41(const rc_b3_pow_ctx *ctx, uint64_t start, uint64_t count,
                              uint64_t *results, size_t max_results);
size_t rc_b3_pow_search_avx2(const rc_b3_pow_ctx *ctx, uint64_t start, uint64_t count,
                             uint64_t *results, size_t max_results);
size_t rc_b3_pow_search_avx512(const rc_b3_pow_ctx *ctx, uint64_t start, uint64_t count,
                               uint64_t *results, size_t max_results);
#endif

// Records one qualifying nonce: *found counts all of them, the first max_results are kept.
static inline void rc_b3_pow_record(uint64_t nonce, uint64_t *results, size_t max_results,
                                    size_t *found) {
  if (*found < max_results) results[*found] = nonce;
  (*found)++;
}

// Hands the rest of a search to a narrower level, appending after what was found so far.
#define RC_B3_POW_TAIL(fn, ctx, start, count, results, max_results, found)            \
  do {                                                                                \
    size_t kept_ = (found) < (max_results) ? (found) : (max_results);                 \
    (found) += fn((ctx), (start), (count), (results) ? (results) + kept_ : (results), \
                  (max_results) - kept_);                                             \
  } while (0)

#endif
