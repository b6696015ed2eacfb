// AVX2 backend: 4-way field arithmetic mod 2^255 - 19 for the batch path, in
// radix 2^25.5 (ten limbs of alternately 26 and 25 bits at bit offsets
// 0, 26, 51, 77, ..., 230), one 64-bit lane per field element. Products use
// vpmuludq (32x32 -> 64); a limb product of two odd limbs carries an extra
// factor 2, and a product landing at or above 2^255 is folded back with
// factor 19. Left operands are scaled by 2 or 4 and right operands by 19 so
// that every multiplicand stays below 2^32.
#include "ed25519_internal.h"

#if RC_ED25519_X86_SIMD
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2"))), apply_to = function)

typedef struct { __m256i l[10]; } fe4;

static inline __m256i v_add(__m256i a, __m256i b) { return _mm256_add_epi64(a, b); }
static inline __m256i v_shl(__m256i a, int n) { return _mm256_slli_epi64(a, n); }
static inline __m256i v_mul(__m256i a, __m256i b) { return _mm256_mul_epu32(a, b); }
static inline __m256i v_mul19(__m256i a) { return v_add(v_add(a, v_shl(a, 1)), v_shl(a, 4)); }

// Carry h[0..9] (each < 2^62) into limbs of 26/25 bits (plus a small excess).
static inline void fe4_carry(fe4 *out, __m256i h[10]) {
  const __m256i m26 = _mm256_set1_epi64x((1 << 26) - 1), m25 = _mm256_set1_epi64x((1 << 25) - 1);
#define CARRY(i, bits, mask)                                             \
  do {                                                                   \
    h[(i) + 1] = v_add(h[(i) + 1], _mm256_srli_epi64(h[i], bits));       \
    h[i] = _mm256_and_si256(h[i], mask);                                 \
  } while (0)
  CARRY(0, 26, m26); CARRY(4, 26, m26);
  CARRY(1, 25, m25); CARRY(5, 25, m25);
  CARRY(2, 26, m26); CARRY(6, 26, m26);
  CARRY(3, 25, m25); CARRY(7, 25, m25);
  CARRY(4, 26, m26); CARRY(8, 26, m26);
  {
    __m256i c = _mm256_srli_epi64(h[9], 25);
    h[9] = _mm256_and_si256(h[9], m25);
    h[0] = v_add(h[0], v_mul19(c));
  }
  CARRY(0, 26, m26);
#undef CARRY
  for (int i = 0; i < 10; i++) out->l[i] = h[i];
}

static inline void fe4_mul(fe4 *out, const fe4 *f, const fe4 *g) {
  const __m256i f0 = f->l[0], f1 = f->l[1], f2 = f->l[2], f3 = f->l[3], f4 = f->l[4];
  const __m256i f5 = f->l[5], f6 = f->l[6], f7 = f->l[7], f8 = f->l[8], f9 = f->l[9];
  const __m256i g0 = g->l[0], g1 = g->l[1], g2 = g->l[2], g3 = g->l[3], g4 = g->l[4];
  const __m256i g5 = g->l[5], g6 = g->l[6], g7 = g->l[7], g8 = g->l[8], g9 = g->l[9];
  __m256i h[10];
  (void)g0;
  const __m256i f1_2 = v_add(f1, f1);
  const __m256i f3_2 = v_add(f3, f3);
  const __m256i f5_2 = v_add(f5, f5);
  const __m256i f7_2 = v_add(f7, f7);
  const __m256i f9_2 = v_add(f9, f9);
  const __m256i g1_19 = v_mul19(g1);
  const __m256i g2_19 = v_mul19(g2);
  const __m256i g3_19 = v_mul19(g3);
  const __m256i g4_19 = v_mul19(g4);
  const __m256i g5_19 = v_mul19(g5);
  const __m256i g6_19 = v_mul19(g6);
  const __m256i g7_19 = v_mul19(g7);
  const __m256i g8_19 = v_mul19(g8);
  const __m256i g9_19 = v_mul19(g9);
  h[0] = v_add(v_add(v_add(v_add(v_add(v_add(v_add(v_add(v_add(v_mul(f0, g0), v_mul(f1_2, g9_19)), v_mul(f2, g8_19)), v_mul(f3_2, g7_19)), v_mul(f4, g6_19)), v_mul(f5_2, g5_19)), v_mul(f6, g4_19)), v_mul(f7_2, g3_19)), v_mul(f8, g2_19)), v_mul(f9_2, g1_19));
  h[1] = v_add(v_add(v_add(v_add(v_add(v_add(v_add(v_add(v_add(v_mul(f0, g1), v_mul(f1, g0)), v_mul(f2, g9_19)), v_mul(f3, g8_19)), v_mul(f4, g7_19)), v_mul(f5, g6_19)), v_mul(f6, g5_19)), v_mul(f7, g4_19)), v_mul(f8, g3_19)), v_mul(f9, g2_19));
  h[2] = v_add(v_add(v_add(v_add(v_add(v_add(v_add(v_add(v_add(v_mul(f0, g2), v_mul(f1_2, g1)), v_mul(f2, g0)), v_mul(f3_2, g9_19)), v_mul(f4, g8_19)), v_mul(f5_2, g7_19)), v_mul(f6, g6_19)), v_mul(f7_2, g5_19)), v_mul(f8, g4_19)), v_mul(f9_2, g3_19));
  h[3] = v_add(v_add(v_add(v_add(v_add(v_add(v_add(v_add(v_add(v_mul(f0, g3), v_mul(f1, g2)), v_mul(f2, g1)), v_mul(f3, g0)), v_mul(f4, g9_19)), v_mul(f5, g8_19)), v_mul(f6, g7_19)), v_mul(f7, g6_19)), v_mul(f8, g5_19)), v_mul(f9, g4_19));
  h[4] = v_add(v_add(v_add(v_add(v_add(v_add(v_add(v_add(v_add(v_mul(f0, g4), v_mul(f1_2, g3)), v_mul(f2, g2)), v_mul(f3_2, g1)), v_mul(f4, g0)), v_mul(f5_2, g9_19)), v_mul(f6, g8_19)), v_mul(f7_2, g7_19)), v_mul(f8, g6_19)), v_mul(f9_2, g5_19));
  h[5] = v_add(v_add(v_add(v_add(v_add(v_add(v_add(v_add(v_add(v_mul(f0, g5), v_mul(f1, g4)), v_mul(f2, g3)), v_mul(f3, g2)), v_mul(f4, g1)), v_mul(f5, g0)), v_mul(f6, g9_19)), v_mul(f7, g8_19)), v_mul(f8, g7_19)), v_mul(f9, g6_19));
  h[6] = v_add(v_add(v_add(v_add(v_add(v_add(v_add(v_add(v_add(v_mul(f0, g6), v_mul(f1_2, g5)), v_mul(f2, g4)), v_mul(f3_2, g3)), v_mul(f4, g2)), v_mul(f5_2, g1)), v_mul(f6, g0)), v_mul(f7_2, g9_19)), v_mul(f8, g8_19)), v_mul(f9_2, g7_19));
  h[7] = v_add(v_add(v_add(v_add(v_add(v_add(v_add(v_add(v_add(v_mul(f0, g7), v_mul(f1, g6)), v_mul(f2, g5)), v_mul(f3, g4)), v_mul(f4, g3)), v_mul(f5, g2)), v_mul(f6, g1)), v_mul(f7, g0)), v_mul(f8, g9_19)), v_mul(f9, g8_19));
  h[8] = v_add(v_add(v_add(v_add(v_add(v_add(v_add(v_add(v_add(v_mul(f0, g8), v_mul(f1_2, g7)), v_mul(f2, g6)), v_mul(f3_2, g5)), v_mul(f4, g4)), v_mul(f5_2, g3)), v_mul(f6, g2)), v_mul(f7_2, g1)), v_mul(f8, g0)), v_mul(f9_2, g9_19));
  h[9] = v_add(v_add(v_add(v_add(v_add(v_add(v_add(v_add(v_add(v_mul(f0, g9), v_mul(f1, g8)), v_mul(f2, g7)), v_mul(f3, g6)), v_mul(f4, g5)), v_mul(f5, g4)), v_mul(f6, g3)), v_mul(f7, g2)), v_mul(f8, g1)), v_mul(f9, g0));
  fe4_carry(out, h);
}

static inline void fe4_sq(fe4 *out, const fe4 *f) {
  const __m256i f0 = f->l[0], f1 = f->l[1], f2 = f->l[2], f3 = f->l[3], f4 = f->l[4];
  const __m256i f5 = f->l[5], f6 = f->l[6], f7 = f->l[7], f8 = f->l[8], f9 = f->l[9];
  __m256i h[10];
  const __m256i f0_2 = v_add(f0, f0);
  const __m256i f1_2 = v_add(f1, f1);
  const __m256i f1_4 = v_shl(f1, 2);
  const __m256i f2_2 = v_add(f2, f2);
  const __m256i f3_2 = v_add(f3, f3);
  const __m256i f3_4 = v_shl(f3, 2);
  const __m256i f4_2 = v_add(f4, f4);
  const __m256i f5_2 = v_add(f5, f5);
  const __m256i f5_4 = v_shl(f5, 2);
  const __m256i f5_19 = v_mul19(f5);
  const __m256i f6_2 = v_add(f6, f6);
  const __m256i f6_19 = v_mul19(f6);
  const __m256i f7_2 = v_add(f7, f7);
  const __m256i f7_4 = v_shl(f7, 2);
  const __m256i f7_19 = v_mul19(f7);
  const __m256i f8_2 = v_add(f8, f8);
  const __m256i f8_19 = v_mul19(f8);
  const __m256i f9_2 = v_add(f9, f9);
  const __m256i f9_19 = v_mul19(f9);
  h[0] = v_add(v_add(v_add(v_add(v_add(v_mul(f0, f0), v_mul(f1_4, f9_19)), v_mul(f2_2, f8_19)), v_mul(f3_4, f7_19)), v_mul(f4_2, f6_19)), v_mul(f5_2, f5_19));
  h[1] = v_add(v_add(v_add(v_add(v_mul(f0_2, f1), v_mul(f2_2, f9_19)), v_mul(f3_2, f8_19)), v_mul(f4_2, f7_19)), v_mul(f5_2, f6_19));
  h[2] = v_add(v_add(v_add(v_add(v_add(v_mul(f0_2, f2), v_mul(f1_2, f1)), v_mul(f3_4, f9_19)), v_mul(f4_2, f8_19)), v_mul(f5_4, f7_19)), v_mul(f6, f6_19));
  h[3] = v_add(v_add(v_add(v_add(v_mul(f0_2, f3), v_mul(f1_2, f2)), v_mul(f4_2, f9_19)), v_mul(f5_2, f8_19)), v_mul(f6_2, f7_19));
  h[4] = v_add(v_add(v_add(v_add(v_add(v_mul(f0_2, f4), v_mul(f1_4, f3)), v_mul(f2, f2)), v_mul(f5_4, f9_19)), v_mul(f6_2, f8_19)), v_mul(f7_2, f7_19));
  h[5] = v_add(v_add(v_add(v_add(v_mul(f0_2, f5), v_mul(f1_2, f4)), v_mul(f2_2, f3)), v_mul(f6_2, f9_19)), v_mul(f7_2, f8_19));
  h[6] = v_add(v_add(v_add(v_add(v_add(v_mul(f0_2, f6), v_mul(f1_4, f5)), v_mul(f2_2, f4)), v_mul(f3_2, f3)), v_mul(f7_4, f9_19)), v_mul(f8, f8_19));
  h[7] = v_add(v_add(v_add(v_add(v_mul(f0_2, f7), v_mul(f1_2, f6)), v_mul(f2_2, f5)), v_mul(f3_2, f4)), v_mul(f8_2, f9_19));
  h[8] = v_add(v_add(v_add(v_add(v_add(v_mul(f0_2, f8), v_mul(f1_4, f7)), v_mul(f2_2, f6)), v_mul(f3_4, f5)), v_mul(f4, f4)), v_mul(f9_2, f9_19));
  h[9] = v_add(v_add(v_add(v_add(v_mul(f0_2, f9), v_mul(f1_2, f8)), v_mul(f2_2, f7)), v_mul(f3_2, f6)), v_mul(f4_2, f5));
  fe4_carry(out, h);
}

static inline void fe4_sqn(fe4 *h, const fe4 *a, int n) {
  fe4_sq(h, a);
  for (int i = 1; i < n; i++) fe4_sq(h, h);
}

static void fe4_pow22523(fe4 *out, const fe4 *z) {
  fe4 z2, z9, z11, t, a, b, c;
  fe4_sq(&z2, z);
  fe4_sqn(&t, &z2, 2);
  fe4_mul(&z9, &t, z);
  fe4_mul(&z11, &z9, &z2);
  fe4_sq(&t, &z11);
  fe4_mul(&a, &t, &z9);       // 2^5 - 1
  fe4_sqn(&t, &a, 5);
  fe4_mul(&a, &t, &a);        // 2^10 - 1
  fe4_sqn(&t, &a, 10);
  fe4_mul(&b, &t, &a);        // 2^20 - 1
  fe4_sqn(&t, &b, 20);
  fe4_mul(&t, &t, &b);        // 2^40 - 1
  fe4_sqn(&t, &t, 10);
  fe4_mul(&b, &t, &a);        // 2^50 - 1
  fe4_sqn(&t, &b, 50);
  fe4_mul(&c, &t, &b);        // 2^100 - 1
  fe4_sqn(&t, &c, 100);
  fe4_mul(&t, &t, &c);        // 2^200 - 1
  fe4_sqn(&t, &t, 50);
  fe4_mul(&t, &t, &b);        // 2^250 - 1
  fe4_sqn(&t, &t, 2);
  fe4_mul(out, &t, z);        // 2^252 - 3
}

void rc_pow22523_many_avx2(fe *out, const fe *in, size_t n) {
  _Alignas(32) uint64_t buf[10][4];
  size_t full = n & ~(size_t)3;
  // one 4-lane exponentiation costs about as much as three scalar ones, so a
  // partial group is done with the portable code.
  rc_pow22523_many_scalar(out + full, in + full, n - full);
  for (size_t g = 0; g < full; g += 4) {
    size_t cnt = 4;
    for (size_t j = 0; j < 4; j++) {
      fe x;
      if (j < cnt) { x = in[g + j]; fe_carry(&x); }
      else fe_one(&x);
      for (int i = 0; i < 5; i++) {
        buf[2 * i][j] = x.v[i] & ((1u << 26) - 1);
        buf[2 * i + 1][j] = x.v[i] >> 26;
      }
    }
    fe4 z, r;
    for (int i = 0; i < 10; i++) z.l[i] = _mm256_load_si256((const __m256i *)buf[i]);
    fe4_pow22523(&r, &z);
    for (int i = 0; i < 10; i++) _mm256_store_si256((__m256i *)buf[i], r.l[i]);
    for (size_t j = 0; j < cnt; j++)
      for (int i = 0; i < 5; i++) out[g + j].v[i] = buf[2 * i][j] + (buf[2 * i + 1][j] << 26);
  }
}

#pragma clang attribute pop
#endif
