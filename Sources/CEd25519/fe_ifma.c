// AVX-512 IFMA backend: 8-way field arithmetic mod 2^255 - 19 for the batch
// path. Limbs use the same radix 2^51 as fe51 (stored in 64-bit lanes, always
// below 2^52 so they are valid vpmadd52 inputs). Each 51x51-bit limb product
// is split by vpmadd52luq / vpmadd52huq at bit 52; the high half therefore
// lands at weight 2^(51(k+1)+1) and is doubled before being added to column k+1.
#include "ed25519_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx512f,avx512ifma"))), apply_to = function)

typedef struct { __m512i l[5]; } fe8;

static inline __m512i v_add(__m512i a, __m512i b) { return _mm512_add_epi64(a, b); }
static inline __m512i v_shl(__m512i a, int n) { return _mm512_slli_epi64(a, (unsigned)n); }
static inline __m512i v_times19(__m512i x) { return v_add(v_add(x, v_shl(x, 1)), v_shl(x, 4)); }

// columns c[0..9] (each < 2^57) -> reduced limbs (< 2^51 + 2^16)
static inline void fe8_reduce(fe8 *h, __m512i c[10]) {
  const __m512i mask = _mm512_set1_epi64((long long)FE_MASK51);
  for (int k = 0; k < 5; k++) c[k] = v_add(c[k], v_times19(c[k + 5]));
  for (int k = 0; k < 4; k++) {
    c[k + 1] = v_add(c[k + 1], _mm512_srli_epi64(c[k], 51));
    c[k] = _mm512_and_si512(c[k], mask);
  }
  __m512i top = _mm512_srli_epi64(c[4], 51);
  c[4] = _mm512_and_si512(c[4], mask);
  c[0] = v_add(c[0], v_times19(top));
  for (int k = 0; k < 5; k++) h->l[k] = c[k];
}

static inline void fe8_mul(fe8 *h, const fe8 *a, const fe8 *b) {
  __m512i lo[9], hi[9], c[10];
  for (int k = 0; k < 9; k++) { lo[k] = _mm512_setzero_si512(); hi[k] = _mm512_setzero_si512(); }
  for (int i = 0; i < 5; i++)
    for (int j = 0; j < 5; j++) {
      lo[i + j] = _mm512_madd52lo_epu64(lo[i + j], a->l[i], b->l[j]);
      hi[i + j] = _mm512_madd52hi_epu64(hi[i + j], a->l[i], b->l[j]);
    }
  c[0] = lo[0];
  for (int k = 1; k < 9; k++) c[k] = v_add(lo[k], v_shl(hi[k - 1], 1));
  c[9] = v_shl(hi[8], 1);
  fe8_reduce(h, c);
}

static inline void fe8_sq(fe8 *h, const fe8 *a) {
  __m512i lo[9], hi[9], c[10];
  for (int k = 0; k < 9; k++) { lo[k] = _mm512_setzero_si512(); hi[k] = _mm512_setzero_si512(); }
  for (int i = 0; i < 5; i++)
    for (int j = i + 1; j < 5; j++) {
      lo[i + j] = _mm512_madd52lo_epu64(lo[i + j], a->l[i], a->l[j]);
      hi[i + j] = _mm512_madd52hi_epu64(hi[i + j], a->l[i], a->l[j]);
    }
  for (int k = 0; k < 9; k++) { lo[k] = v_shl(lo[k], 1); hi[k] = v_shl(hi[k], 1); }
  for (int i = 0; i < 5; i++) {
    lo[2 * i] = _mm512_madd52lo_epu64(lo[2 * i], a->l[i], a->l[i]);
    hi[2 * i] = _mm512_madd52hi_epu64(hi[2 * i], a->l[i], a->l[i]);
  }
  c[0] = lo[0];
  for (int k = 1; k < 9; k++) c[k] = v_add(lo[k], v_shl(hi[k - 1], 1));
  c[9] = v_shl(hi[8], 1);
  fe8_reduce(h, c);
}

static inline void fe8_sqn(fe8 *h, const fe8 *a, int n) {
  fe8_sq(h, a);
  for (int i = 1; i < n; i++) fe8_sq(h, h);
}

static void fe8_pow22523(fe8 *out, const fe8 *z) {
  fe8 z2, z9, z11, t, a, b, c;
  fe8_sq(&z2, z);
  fe8_sqn(&t, &z2, 2);
  fe8_mul(&z9, &t, z);
  fe8_mul(&z11, &z9, &z2);
  fe8_sq(&t, &z11);
  fe8_mul(&a, &t, &z9);       // 2^5 - 1
  fe8_sqn(&t, &a, 5);
  fe8_mul(&a, &t, &a);        // 2^10 - 1
  fe8_sqn(&t, &a, 10);
  fe8_mul(&b, &t, &a);        // 2^20 - 1
  fe8_sqn(&t, &b, 20);
  fe8_mul(&t, &t, &b);        // 2^40 - 1
  fe8_sqn(&t, &t, 10);
  fe8_mul(&b, &t, &a);        // 2^50 - 1
  fe8_sqn(&t, &b, 50);
  fe8_mul(&c, &t, &b);        // 2^100 - 1
  fe8_sqn(&t, &c, 100);
  fe8_mul(&t, &t, &c);        // 2^200 - 1
  fe8_sqn(&t, &t, 50);
  fe8_mul(&t, &t, &b);        // 2^250 - 1
  fe8_sqn(&t, &t, 2);
  fe8_mul(out, &t, z);        // 2^252 - 3
}

void rc_pow22523_many_ifma(fe *out, const fe *in, size_t n) {
  _Alignas(64) uint64_t buf[5][8];
  for (size_t g = 0; g < n; g += 8) {
    size_t cnt = n - g < 8 ? n - g : 8;
    for (size_t j = 0; j < 8; j++) {
      fe x;
      if (j < cnt) { x = in[g + j]; fe_carry(&x); } // limbs < 2^52 for vpmadd52
      else fe_one(&x);
      for (int i = 0; i < 5; i++) buf[i][j] = x.v[i];
    }
    fe8 z, r;
    for (int i = 0; i < 5; i++) z.l[i] = _mm512_load_si512((const void *)buf[i]);
    fe8_pow22523(&r, &z);
    for (int i = 0; i < 5; i++) _mm512_store_si512((void *)buf[i], r.l[i]);
    for (size_t j = 0; j < cnt; j++)
      for (int i = 0; i < 5; i++) out[g + j].v[i] = buf[i][j];
  }
}

#pragma clang attribute pop
#endif
