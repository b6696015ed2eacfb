// Field arithmetic modulo p = 2^255 - 19, five unsigned limbs of 51 bits.
// Internal header. Limb bounds: outputs of fe_mul/fe_sq/fe_sub/fe_carry are
// below 2^51 + 2^15; fe_add outputs (sum of two such) stay below 2^53 and may be
// fed to fe_mul/fe_sq or used as the subtrahend of fe_sub.
#ifndef RC_FE51_H
#define RC_FE51_H

#include <stdint.h>
#include <stddef.h>

typedef struct { uint64_t v[5]; } fe;

#define FE_MASK51 ((uint64_t)0x7ffffffffffffULL)
typedef unsigned __int128 rc_u128;

extern const fe fe_d, fe_d2, fe_sqrtm1;

static inline void fe_zero(fe *h) { for (int i = 0; i < 5; i++) h->v[i] = 0; }
static inline void fe_one(fe *h) { h->v[0] = 1; for (int i = 1; i < 5; i++) h->v[i] = 0; }

static inline void fe_add(fe *h, const fe *f, const fe *g) {
  for (int i = 0; i < 5; i++) h->v[i] = f->v[i] + g->v[i];
}

static inline void fe_carry(fe *h) {
  uint64_t c;
  c = h->v[0] >> 51; h->v[0] &= FE_MASK51; h->v[1] += c;
  c = h->v[1] >> 51; h->v[1] &= FE_MASK51; h->v[2] += c;
  c = h->v[2] >> 51; h->v[2] &= FE_MASK51; h->v[3] += c;
  c = h->v[3] >> 51; h->v[3] &= FE_MASK51; h->v[4] += c;
  c = h->v[4] >> 51; h->v[4] &= FE_MASK51; h->v[0] += 19 * c;
}

// h = f - g, computed as f + 4p - g (g limbs must be below 2^53 - 76), then carried.
static inline void fe_sub(fe *h, const fe *f, const fe *g) {
  h->v[0] = (f->v[0] + 0x1fffffffffffb4ULL) - g->v[0];
  h->v[1] = (f->v[1] + 0x1ffffffffffffcULL) - g->v[1];
  h->v[2] = (f->v[2] + 0x1ffffffffffffcULL) - g->v[2];
  h->v[3] = (f->v[3] + 0x1ffffffffffffcULL) - g->v[3];
  h->v[4] = (f->v[4] + 0x1ffffffffffffcULL) - g->v[4];
  fe_carry(h);
}

// h = f - g without the final carry: limbs below 2^54 when f < 2^52.5 and g < 2^53 - 76.
// Only for results that feed fe_mul/fe_sq directly.
static inline void fe_sub_nc(fe *h, const fe *f, const fe *g) {
  h->v[0] = (f->v[0] + 0x1fffffffffffb4ULL) - g->v[0];
  h->v[1] = (f->v[1] + 0x1ffffffffffffcULL) - g->v[1];
  h->v[2] = (f->v[2] + 0x1ffffffffffffcULL) - g->v[2];
  h->v[3] = (f->v[3] + 0x1ffffffffffffcULL) - g->v[3];
  h->v[4] = (f->v[4] + 0x1ffffffffffffcULL) - g->v[4];
}

static inline void fe_neg(fe *h, const fe *f) {
  fe z; fe_zero(&z); fe_sub(h, &z, f);
}

// Carry five 128-bit column sums in two shallow rounds instead of one long
// serial chain. Inputs to fe_mul/fe_sq have limbs < 2^54, so every column is
// below 2^114.5 and each first-round carry is below 2^63.5; r4 < 2^110.5 keeps
// 19 * (r4 >> 51) below 2^63.6. Output limbs are below 2^51 + 2^18.
static inline void fe_reduce128(fe *h, rc_u128 r0, rc_u128 r1, rc_u128 r2, rc_u128 r3, rc_u128 r4) {
  uint64_t c0 = (uint64_t)(r0 >> 51), c1 = (uint64_t)(r1 >> 51), c2 = (uint64_t)(r2 >> 51);
  uint64_t c3 = (uint64_t)(r3 >> 51), c4 = (uint64_t)(r4 >> 51);
  uint64_t h0 = ((uint64_t)r0 & FE_MASK51) + 19 * c4;
  uint64_t h1 = ((uint64_t)r1 & FE_MASK51) + c0;
  uint64_t h2 = ((uint64_t)r2 & FE_MASK51) + c1;
  uint64_t h3 = ((uint64_t)r3 & FE_MASK51) + c2;
  uint64_t h4 = ((uint64_t)r4 & FE_MASK51) + c3;
  h->v[0] = (h0 & FE_MASK51) + 19 * (h4 >> 51);
  h->v[1] = (h1 & FE_MASK51) + (h0 >> 51);
  h->v[2] = (h2 & FE_MASK51) + (h1 >> 51);
  h->v[3] = (h3 & FE_MASK51) + (h2 >> 51);
  h->v[4] = (h4 & FE_MASK51) + (h3 >> 51);
}

static inline void fe_mul(fe *h, const fe *f, const fe *g) {
  uint64_t f0 = f->v[0], f1 = f->v[1], f2 = f->v[2], f3 = f->v[3], f4 = f->v[4];
  uint64_t g0 = g->v[0], g1 = g->v[1], g2 = g->v[2], g3 = g->v[3], g4 = g->v[4];
  uint64_t g1s = 19 * g1, g2s = 19 * g2, g3s = 19 * g3, g4s = 19 * g4;
  rc_u128 r0 = (rc_u128)f0 * g0 + (rc_u128)f1 * g4s + (rc_u128)f2 * g3s + (rc_u128)f3 * g2s + (rc_u128)f4 * g1s;
  rc_u128 r1 = (rc_u128)f0 * g1 + (rc_u128)f1 * g0 + (rc_u128)f2 * g4s + (rc_u128)f3 * g3s + (rc_u128)f4 * g2s;
  rc_u128 r2 = (rc_u128)f0 * g2 + (rc_u128)f1 * g1 + (rc_u128)f2 * g0 + (rc_u128)f3 * g4s + (rc_u128)f4 * g3s;
  rc_u128 r3 = (rc_u128)f0 * g3 + (rc_u128)f1 * g2 + (rc_u128)f2 * g1 + (rc_u128)f3 * g0 + (rc_u128)f4 * g4s;
  rc_u128 r4 = (rc_u128)f0 * g4 + (rc_u128)f1 * g3 + (rc_u128)f2 * g2 + (rc_u128)f3 * g1 + (rc_u128)f4 * g0;
  fe_reduce128(h, r0, r1, r2, r3, r4);
}

static inline void fe_sq(fe *h, const fe *f) {
  uint64_t f0 = f->v[0], f1 = f->v[1], f2 = f->v[2], f3 = f->v[3], f4 = f->v[4];
  uint64_t f0_2 = 2 * f0, f1_2 = 2 * f1;
  uint64_t f3_19 = 19 * f3, f3_38 = 38 * f3, f4_19 = 19 * f4, f4_38 = 38 * f4;
  rc_u128 r0 = (rc_u128)f0 * f0 + (rc_u128)f1 * f4_38 + (rc_u128)f2 * f3_38;
  rc_u128 r1 = (rc_u128)f0_2 * f1 + (rc_u128)f2 * f4_38 + (rc_u128)f3 * f3_19;
  rc_u128 r2 = (rc_u128)f0_2 * f2 + (rc_u128)f1 * f1 + (rc_u128)f3 * f4_38;
  rc_u128 r3 = (rc_u128)f0_2 * f3 + (rc_u128)f1_2 * f2 + (rc_u128)f4 * f4_19;
  rc_u128 r4 = (rc_u128)f0_2 * f4 + (rc_u128)f1_2 * f3 + (rc_u128)f2 * f2;
  fe_reduce128(h, r0, r1, r2, r3, r4);
}

// Constant-time: h = b ? g : h (b in {0,1}).
static inline void fe_cmov(fe *h, const fe *g, uint64_t b) {
  uint64_t m = (uint64_t)0 - b;
  for (int i = 0; i < 5; i++) h->v[i] ^= m & (h->v[i] ^ g->v[i]);
}

static inline void fe_cswap(fe *f, fe *g, uint64_t b) {
  uint64_t m = (uint64_t)0 - b;
  for (int i = 0; i < 5; i++) {
    uint64_t x = m & (f->v[i] ^ g->v[i]);
    f->v[i] ^= x; g->v[i] ^= x;
  }
}

void fe_frombytes(fe *h, const uint8_t s[32]); // ignores bit 255; value may be >= p
void fe_tobytes(uint8_t s[32], const fe *h);   // canonical
void fe_invert(fe *out, const fe *z);
void fe_pow22523(fe *out, const fe *z);
int fe_iszero(const fe *f);      // 1 if f == 0 mod p
int fe_isnegative(const fe *f);  // low bit of canonical encoding
int fe_equal(const fe *f, const fe *g);
void fe_sqn(fe *h, const fe *f, int n); // n successive squarings
void fe_batch_invert(fe *out, const fe *in, size_t n, fe *scratch); // in may equal out; no zero inputs
// x = sqrt(u/v) if it exists; returns 1 on success (x is some root), 0 if not square.
int fe_sqrt_ratio(fe *x, const fe *u, const fe *v);

#endif
