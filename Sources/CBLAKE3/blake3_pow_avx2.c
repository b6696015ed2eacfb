// 8-lane proof-of-work nonce search with AVX2: lane i of a group tries nonce n + i.
// Message words 0..13 are broadcast; the nonce-free part of round 1 comes precomputed in
// the context (rc_b3_pow_prepare), and only output word 0 is computed here for the early
// rejection; candidates get the full 256-bit check in scalar code. Tails of fewer than 8
// nonces go to the 4-lane SSE4.1 search.
#include "blake3_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>

// The target is baseline x86-64: enable the instruction set for every function here.
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,sse4.1"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,sse4.1")
#endif

#include "blake3_ops_avx2.h"

static inline vec bswap_v(vec x) {
  const vec shuf = _mm256_setr_epi8(3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12,
                                    3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12);
  return _mm256_shuffle_epi8(x, shuf);
}

size_t rc_b3_pow_search_avx2(const rc_b3_pow_ctx *ctx, uint64_t start, uint64_t count,
                             uint64_t *results, size_t max_results) {
  size_t found = 0;
  vec m[16];
  for (int i = 0; i < 14; i++) m[i] = set1(ctx->m[i]);
  const vec lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const vec sign = set1(0x80000000u);
  const vec t0 = set1(ctx->target[0]);
  while (count >= DEGREE) {
    const vec base = set1((uint32_t)start);
    const vec lo = add_v(base, lanes);
    // Lanes whose low word wrapped (the group crosses a 2^32 boundary) carry into the high
    // word: unsigned lo < base, as a signed compare of sign-flipped values (-1 = carry).
    const vec carry = _mm256_cmpgt_epi32(xor_v(base, sign), xor_v(lo, sign));
    const vec hi = _mm256_sub_epi32(set1((uint32_t)(start >> 32)), carry);
    m[14] = lo;
    m[15] = hi;
    vec v[16];
    for (int i = 0; i < 16; i++) v[i] = set1(ctx->v[i]);
    RC_B3_POW_ROUNDS(v, m, lo, hi);
    // Candidates: big-endian first hash word <= first target word (min(h, t) == h).
    const vec h0 = bswap_v(xor_v(v[0], v[8]));
    unsigned cand = (unsigned)_mm256_movemask_ps(
        _mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_min_epu32(h0, t0), h0)));
    while (cand) {
      const uint64_t nonce = start + (uint64_t)__builtin_ctz(cand);
      cand &= cand - 1;
      if (rc_b3_pow_check(ctx, nonce)) rc_b3_pow_record(nonce, results, max_results, &found);
    }
    start += DEGREE;
    count -= DEGREE;
  }
  if (count > 0) {
    RC_B3_POW_TAIL(rc_b3_pow_search_sse41, ctx, start, count, results, max_results, found);
  }
  return found;
}

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
#endif
