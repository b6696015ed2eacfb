// Lane-wise operations for the AVX-512, 16 lanes BLAKE3 code (blake3_avx512.c, blake3_pow_avx512.c).
// Include only after the file has enabled the instruction set with its target pragma.
#ifndef RC_BLAKE3_OPS_AVX512_H
#define RC_BLAKE3_OPS_AVX512_H

#define DEGREE 16
typedef __m512i vec;

static inline vec set1(uint32_t x) { return _mm512_set1_epi32((int)x); }
static inline vec add_v(vec a, vec b) { return _mm512_add_epi32(a, b); }
static inline vec xor_v(vec a, vec b) { return _mm512_xor_si512(a, b); }
static inline vec rot16_v(vec x) { return _mm512_ror_epi32(x, 16); }
static inline vec rot12_v(vec x) { return _mm512_ror_epi32(x, 12); }
static inline vec rot8_v(vec x) { return _mm512_ror_epi32(x, 8); }
static inline vec rot7_v(vec x) { return _mm512_ror_epi32(x, 7); }

#endif
