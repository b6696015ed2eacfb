// Lane-wise operations for the AVX2, 8 lanes BLAKE3 code (blake3_avx2.c, blake3_pow_avx2.c).
// Include only after the file has enabled the instruction set with its target pragma.
#ifndef RC_BLAKE3_OPS_AVX2_H
#define RC_BLAKE3_OPS_AVX2_H

#define DEGREE 8
typedef __m256i vec;

static inline vec set1(uint32_t x) { return _mm256_set1_epi32((int)x); }
static inline vec add_v(vec a, vec b) { return _mm256_add_epi32(a, b); }
static inline vec xor_v(vec a, vec b) { return _mm256_xor_si256(a, b); }
static inline vec rot16_v(vec x) {
  const vec shuf = _mm256_setr_epi8(2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13,
                                    2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);
  return _mm256_shuffle_epi8(x, shuf);
}
static inline vec rot8_v(vec x) {
  const vec shuf = _mm256_setr_epi8(1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12,
                                    1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12);
  return _mm256_shuffle_epi8(x, shuf);
}
static inline vec rot12_v(vec x) { return _mm256_or_si256(_mm256_srli_epi32(x, 12), _mm256_slli_epi32(x, 20)); }
static inline vec rot7_v(vec x) { return _mm256_or_si256(_mm256_srli_epi32(x, 7), _mm256_slli_epi32(x, 25)); }

#endif
