// 16-lane proof-of-work nonce search with AVX-512 (F + VL): lane i of a group tries nonce
// n + i. Message words 0..13 are broadcast; the nonce-free part of round 1 comes
// precomputed in the context (rc_b3_pow_prepare), and only output word 0 is computed here
// for the early rejection; candidates get the full 256-bit check in scalar code. Tails of
// fewer than 16 nonces go to the 8-lane AVX2 search (then 4-lane, then scalar).
#include "blake3_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>

// The target is baseline x86-64: enable the instruction set for every function here.
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512vl,avx2,sse4.1"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx2,sse4.1")
#endif

#include "blake3_ops_avx512.h"

// Byte swap of each word without AVX-512BW (no 512-bit vpshufb in F): bytes b3 b2 b1 b0
// give ror8 = b0 b3 b2 b1 and rol8 = b2 b1 b0 b3; take bytes 3, 1 from the first and
// bytes 2, 0 from the second (one ternary-logic select, mask 0x00FF00FF ? rol8 : ror8).
static inline vec bswap_v(vec x) {
  return _mm512_ternarylogic_epi32(set1(0x00FF00FFu), _mm512_rol_epi32(x, 8), _mm512_ror_epi32(x, 8), 0xCA);
}

size_t rc_b3_pow_search_avx512(const rc_b3_pow_ctx *ctx, uint64_t start, uint64_t count,
                               uint64_t *results, size_t max_results) {
  size_t found = 0;
  vec m[16];
  for (int i = 0; i < 14; i++) m[i] = set1(ctx->m[i]);
  const vec lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const vec t0 = set1(ctx->target[0]);
  while (count >= DEGREE) {
    const vec base = set1((uint32_t)start);
    const vec lo = add_v(base, lanes);
    // Lanes whose low word wrapped (the group crosses a 2^32 boundary) carry into the high
    // word.
    const vec hi0 = set1((uint32_t)(start >> 32));
    const vec hi = _mm512_mask_add_epi32(hi0, _mm512_cmplt_epu32_mask(lo, base), hi0, set1(1));
    m[14] = lo;
    m[15] = hi;
    vec v[16];
    for (int i = 0; i < 16; i++) v[i] = set1(ctx->v[i]);
    RC_B3_POW_ROUNDS(v, m, lo, hi);
    // Candidates: big-endian first hash word <= first target word.
    unsigned cand = (unsigned)_mm512_cmple_epu32_mask(bswap_v(xor_v(v[0], v[8])), t0);
    while (cand) {
      const uint64_t nonce = start + (uint64_t)__builtin_ctz(cand);
      cand &= cand - 1;
      if (rc_b3_pow_check(ctx, nonce)) rc_b3_pow_record(nonce, results, max_results, &found);
    }
    start += DEGREE;
    count -= DEGREE;
  }
  if (count > 0) {
    RC_B3_POW_TAIL(rc_b3_pow_search_avx2, ctx, start, count, results, max_results, found);
  }
  return found;
}

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
#endif
