// AVX-512 IFMA backend: 8-way field arithmetic mod 2^255 - 19 for the batch
// path. Limbs use the same radix 2^51 as fe51 (stored in 64-bit lanes, always
// below 2^52 so they are valid vpmadd52 inputs). Each 51x51-bit limb product
// is split by vpmadd52luq / vpmadd52huq at bit 52; the high half therefore
// lands at weight 2^(51(k+1)+1) and is doubled before being added to column k+1.
#include "ed25519_internal.h"
#include <stdlib.h>

#if RC_ED25519_X86_SIMD
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
  if (n % 8 == 1) { // a lone leftover element is cheaper on the portable path
    n--;
    rc_pow22523_many_scalar(out + n, in + n, 1);
  }
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

// ---------------------------------------------------------------------------
// 8-way Pippenger bucket method: lane j of every vector works on window
// (w0 + j), with its own set of buckets, so eight windows are processed at
// once without conflicts. Buckets live in a limb-major, lane-interleaved array
// and are gathered/scattered by bucket index; all coordinates are radix-2^51
// limbs below 2^52, i.e. valid fe51 values.

static const uint64_t P2_L0 = 0xfffffffffffdaULL, P2_LI = 0xffffffffffffeULL; // 2p limbs

static inline void fe8_carry(fe8 *h) {
  const __m512i mask = _mm512_set1_epi64((long long)FE_MASK51);
  for (int k = 0; k < 4; k++) {
    h->l[k + 1] = v_add(h->l[k + 1], _mm512_srli_epi64(h->l[k], 51));
    h->l[k] = _mm512_and_si512(h->l[k], mask);
  }
  __m512i top = _mm512_srli_epi64(h->l[4], 51);
  h->l[4] = _mm512_and_si512(h->l[4], mask);
  h->l[0] = v_add(h->l[0], v_times19(top));
}

static inline void fe8_add(fe8 *h, const fe8 *a, const fe8 *b) {
  for (int k = 0; k < 5; k++) h->l[k] = v_add(a->l[k], b->l[k]);
  fe8_carry(h);
}

static inline void fe8_sub(fe8 *h, const fe8 *a, const fe8 *b) {
  const __m512i p0 = _mm512_set1_epi64((long long)P2_L0), pi = _mm512_set1_epi64((long long)P2_LI);
  for (int k = 0; k < 5; k++)
    h->l[k] = _mm512_sub_epi64(v_add(a->l[k], k == 0 ? p0 : pi), b->l[k]);
  fe8_carry(h);
}

typedef struct { fe8 X, Y, Z, T; } ge8;

static inline void ge8_madd(ge8 *r, const ge8 *p, const fe8 *ypx, const fe8 *ymx, const fe8 *xy2d) {
  fe8 a, b, c, d, e, f, g, h, t;
  fe8_sub(&t, &p->Y, &p->X);
  fe8_mul(&a, &t, ymx);
  fe8_add(&t, &p->Y, &p->X);
  fe8_mul(&b, &t, ypx);
  fe8_mul(&c, &p->T, xy2d);
  fe8_add(&d, &p->Z, &p->Z);
  fe8_sub(&e, &b, &a);
  fe8_add(&h, &b, &a);
  fe8_sub(&f, &d, &c);
  fe8_add(&g, &d, &c);
  fe8_mul(&r->X, &e, &f);
  fe8_mul(&r->Y, &g, &h);
  fe8_mul(&r->Z, &f, &g);
  fe8_mul(&r->T, &e, &h);
}

static inline void ge8_add(ge8 *r, const ge8 *p, const ge8 *q, const fe8 *d2) {
  fe8 a, b, c, d, e, f, g, h, t, u;
  fe8_sub(&t, &p->Y, &p->X);
  fe8_sub(&u, &q->Y, &q->X);
  fe8_mul(&a, &t, &u);
  fe8_add(&t, &p->Y, &p->X);
  fe8_add(&u, &q->Y, &q->X);
  fe8_mul(&b, &t, &u);
  fe8_mul(&t, &p->T, &q->T);
  fe8_mul(&c, &t, d2);
  fe8_mul(&t, &p->Z, &q->Z);
  fe8_add(&d, &t, &t);
  fe8_sub(&e, &b, &a);
  fe8_add(&h, &b, &a);
  fe8_sub(&f, &d, &c);
  fe8_add(&g, &d, &c);
  fe8_mul(&r->X, &e, &f);
  fe8_mul(&r->Y, &g, &h);
  fe8_mul(&r->Z, &f, &g);
  fe8_mul(&r->T, &e, &h);
}

static inline void ge8_identity(ge8 *r) {
  for (int k = 0; k < 5; k++) {
    r->X.l[k] = _mm512_setzero_si512();
    r->Y.l[k] = _mm512_set1_epi64(k == 0 ? 1 : 0);
    r->Z.l[k] = _mm512_set1_epi64(k == 0 ? 1 : 0);
    r->T.l[k] = _mm512_setzero_si512();
  }
}

static inline __m512i bcast(uint64_t x) { return _mm512_set1_epi64((long long)x); }

int rc_msm_pippenger_ifma(ge_p3 *out, const ge_niels *pts, const uint8_t (*sc)[32], size_t m, int c) {
  const int nw = (256 + c - 1) / c;
  const int ngroups = (nw + 7) / 8, nwp = 8 * ngroups;
  const size_t half = (size_t)1 << (c - 1);
  const uint32_t full = 1u << c, mask = full - 1;
  int16_t *digits = (int16_t *)malloc(m * (size_t)nwp * sizeof(int16_t));
  uint64_t *bk = (uint64_t *)aligned_alloc(64, 20 * half * 8 * sizeof(uint64_t));
  ge_p3 *wsum = (ge_p3 *)malloc((size_t)nwp * sizeof(ge_p3));
  if (!digits || !bk || !wsum) { free(digits); free(bk); free(wsum); return 0; }
  for (size_t i = 0; i < m; i++) {
    uint64_t x[5] = {0, 0, 0, 0, 0};
    for (int b = 0; b < 32; b++) x[b / 8] |= (uint64_t)sc[i][b] << (8 * (b % 8));
    uint32_t carry = 0;
    int16_t *di = digits + i * (size_t)nwp;
    for (int w = 0; w < nwp; w++) {
      if (w >= nw) { di[w] = 0; continue; }
      int pos = w * c, idx = pos / 64, bit = pos % 64;
      uint64_t buf = x[idx] >> bit;
      if (bit + c > 64 && idx < 4) buf |= x[idx + 1] << (64 - bit);
      uint32_t v = (uint32_t)(buf & mask) + carry;
      if (v >= half) { di[w] = (int16_t)((int32_t)v - (int32_t)full); carry = 1; }
      else { di[w] = (int16_t)v; carry = 0; }
    }
  }
  const __m512i lane = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
  fe8 d2;
  for (int k = 0; k < 5; k++) d2.l[k] = bcast(fe_d2.v[k]);
  _Alignas(64) uint64_t ext[20][8];
  for (int gi = 0; gi < ngroups; gi++) {
    // all buckets := identity
    for (size_t b = 0; b < half; b++)
      for (int k = 0; k < 20; k++) {
        uint64_t v = (k == 5 || k == 10) ? 1 : 0; // Y limb 0, Z limb 0
        _mm512_store_si512((void *)(bk + ((size_t)k * half + b) * 8), bcast(v));
      }
    for (size_t i = 0; i < m; i++) {
      __m128i d16 = _mm_loadu_si128((const __m128i *)(digits + i * (size_t)nwp + 8 * gi));
      __m512i d = _mm512_cvtepi16_epi64(d16);
      __mmask8 nz = _mm512_test_epi64_mask(d, d);
      if (!nz) continue;
      __mmask8 neg = _mm512_cmplt_epi64_mask(d, _mm512_setzero_si512());
      __m512i ad = _mm512_abs_epi64(d);
      __m512i idx = v_add(_mm512_slli_epi64(_mm512_sub_epi64(ad, bcast(1)), 3), lane);
      ge8 P;
      fe8 *coords[4] = {&P.X, &P.Y, &P.Z, &P.T};
      for (int k = 0; k < 20; k++)
        coords[k / 5]->l[k % 5] = _mm512_mask_i64gather_epi64(_mm512_setzero_si512(), nz, idx,
                                                              (const void *)(bk + (size_t)k * half * 8), 8);
      fe8 ypx, ymx, xy;
      fe nxy;
      fe_neg(&nxy, &pts[i].xy2d);
      for (int k = 0; k < 5; k++) {
        __m512i a = bcast(pts[i].ypx.v[k]), b = bcast(pts[i].ymx.v[k]);
        ypx.l[k] = _mm512_mask_blend_epi64(neg, a, b);
        ymx.l[k] = _mm512_mask_blend_epi64(neg, b, a);
        xy.l[k] = _mm512_mask_blend_epi64(neg, bcast(pts[i].xy2d.v[k]), bcast(nxy.v[k]));
      }
      ge8 R;
      ge8_madd(&R, &P, &ypx, &ymx, &xy);
      fe8 *rc[4] = {&R.X, &R.Y, &R.Z, &R.T};
      for (int k = 0; k < 20; k++)
        _mm512_mask_i64scatter_epi64((void *)(bk + (size_t)k * half * 8), nz, idx, rc[k / 5]->l[k % 5], 8);
    }
    // running sums, eight windows at once
    ge8 sum, acc, B;
    ge8_identity(&sum);
    ge8_identity(&acc);
    fe8 *bc[4] = {&B.X, &B.Y, &B.Z, &B.T};
    for (size_t b = half; b-- > 0;) {
      for (int k = 0; k < 20; k++) bc[k / 5]->l[k % 5] = _mm512_load_si512((const void *)(bk + ((size_t)k * half + b) * 8));
      ge8_add(&sum, &sum, &B, &d2);
      ge8_add(&acc, &acc, &sum, &d2);
    }
    fe8 *ac[4] = {&acc.X, &acc.Y, &acc.Z, &acc.T};
    for (int k = 0; k < 20; k++) _mm512_store_si512((void *)ext[k], ac[k / 5]->l[k % 5]);
    for (int j = 0; j < 8; j++) {
      ge_p3 *q = &wsum[8 * gi + j];
      fe *qc[4] = {&q->X, &q->Y, &q->Z, &q->T};
      for (int k = 0; k < 20; k++) qc[k / 5]->v[k % 5] = ext[k][j];
    }
  }
  // Horner over windows: total = sum_w 2^(c w) wsum[w]
  ge_p3 total = wsum[nw - 1];
  ge_p1p1 t;
  ge_cached cc;
  for (int w = nw - 2; w >= 0; w--) {
    ge_p2 s;
    ge_p3_to_p2(&s, &total);
    for (int k = 0; k < c; k++) {
      ge_p2_dbl(&t, &s);
      if (k + 1 < c) ge_p1p1_to_p2(&s, &t);
    }
    ge_p1p1_to_p3(&total, &t);
    ge_p3_to_cached(&cc, &wsum[w]);
    ge_add_cached(&t, &total, &cc);
    ge_p1p1_to_p3(&total, &t);
  }
  *out = total;
  free(digits); free(bk); free(wsum);
  return 1;
}

#pragma clang attribute pop
#endif
