// Lane-wise operations for the SSE4.1, 4 lanes BLAKE3 code (blake3_sse41.c, blake3_pow_sse41.c).
// Include only after the file has enabled the instruction set with its target pragma.
#ifndef RC_BLAKE3_OPS_SSE41_H
#define RC_BLAKE3_OPS_SSE41_H

#define DEGREE 4
typedef __m128i vec;

static inline vec set1(uint32_t x) { return _mm_set1_epi32((int)x); }
static inline vec add_v(vec a, vec b) { return _mm_add_epi32(a, b); }
static inline vec xor_v(vec a, vec b) { return _mm_xor_si128(a, b); }
static inline vec rot16_v(vec x) {
  const vec shuf = _mm_setr_epi8(2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);
  return _mm_shuffle_epi8(x, shuf);
}
static inline vec rot8_v(vec x) {
  const vec shuf = _mm_setr_epi8(1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12);
  return _mm_shuffle_epi8(x, shuf);
}
static inline vec rot12_v(vec x) { return _mm_or_si128(_mm_srli_epi32(x, 12), _mm_slli_epi32(x, 20)); }
static inline vec rot7_v(vec x) { return _mm_or_si128(_mm_srli_epi32(x, 7), _mm_slli_epi32(x, 25)); }

#endif
