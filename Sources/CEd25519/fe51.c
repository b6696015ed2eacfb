// Field arithmetic modulo 2^255 - 19 (radix 2^51): encoding, inversion, square roots.
#include "fe51.h"

const fe fe_d = {{0x34dca135978a3ULL, 0x1a8283b156ebdULL, 0x5e7a26001c029ULL, 0x739c663a03cbbULL, 0x52036cee2b6ffULL}};
const fe fe_d2 = {{0x69b9426b2f159ULL, 0x35050762add7aULL, 0x3cf44c0038052ULL, 0x6738cc7407977ULL, 0x2406d9dc56dffULL}};
const fe fe_sqrtm1 = {{0x61b274a0ea0b0ULL, 0xd5a5fc8f189dULL, 0x7ef5e9cbd0c60ULL, 0x78595a6804c9eULL, 0x2b8324804fc1dULL}};

static uint64_t load_le64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

void fe_frombytes(fe *h, const uint8_t s[32]) {
  uint64_t w0 = load_le64(s), w1 = load_le64(s + 8), w2 = load_le64(s + 16), w3 = load_le64(s + 24);
  h->v[0] = w0 & FE_MASK51;
  h->v[1] = ((w0 >> 51) | (w1 << 13)) & FE_MASK51;
  h->v[2] = ((w1 >> 38) | (w2 << 26)) & FE_MASK51;
  h->v[3] = ((w2 >> 25) | (w3 << 39)) & FE_MASK51;
  h->v[4] = (w3 >> 12) & FE_MASK51;
}

void fe_tobytes(uint8_t s[32], const fe *f) {
  fe t = *f;
  fe_carry(&t);
  fe_carry(&t); // now every limb < 2^51 and the value is < 2^255 + small
  // q = 1 iff t >= p: add 19 and look at the carry out of bit 255.
  uint64_t q = (t.v[0] + 19) >> 51;
  q = (t.v[1] + q) >> 51;
  q = (t.v[2] + q) >> 51;
  q = (t.v[3] + q) >> 51;
  q = (t.v[4] + q) >> 51;
  t.v[0] += 19 * q;
  uint64_t c;
  c = t.v[0] >> 51; t.v[0] &= FE_MASK51; t.v[1] += c;
  c = t.v[1] >> 51; t.v[1] &= FE_MASK51; t.v[2] += c;
  c = t.v[2] >> 51; t.v[2] &= FE_MASK51; t.v[3] += c;
  c = t.v[3] >> 51; t.v[3] &= FE_MASK51; t.v[4] += c;
  t.v[4] &= FE_MASK51;
  uint64_t w[4];
  w[0] = t.v[0] | (t.v[1] << 51);
  w[1] = (t.v[1] >> 13) | (t.v[2] << 38);
  w[2] = (t.v[2] >> 26) | (t.v[3] << 25);
  w[3] = (t.v[3] >> 39) | (t.v[4] << 12);
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 8; j++) s[8 * i + j] = (uint8_t)(w[i] >> (8 * j));
}

int fe_iszero(const fe *f) {
  uint8_t s[32];
  fe_tobytes(s, f);
  uint8_t acc = 0;
  for (int i = 0; i < 32; i++) acc |= s[i];
  return (int)(1 & ((acc - 1) >> 8));
}

int fe_isnegative(const fe *f) {
  uint8_t s[32];
  fe_tobytes(s, f);
  return s[0] & 1;
}

int fe_equal(const fe *f, const fe *g) {
  fe d;
  fe_sub(&d, f, g);
  return fe_iszero(&d);
}

void fe_sqn(fe *h, const fe *f, int n) {
  fe_sq(h, f);
  for (int i = 1; i < n; i++) fe_sq(h, h);
}

// z^(2^250 - 1) and z^11, shared by inversion and the square-root exponent.
static void pow_2_250_1(fe *out, fe *z11, const fe *z) {
  fe z2, z9, t, a, b, c;
  fe_sq(&z2, z);            // 2
  fe_sqn(&t, &z2, 2);       // 8
  fe_mul(&z9, &t, z);       // 9
  fe_mul(z11, &z9, &z2);    // 11
  fe_sq(&t, z11);           // 22
  fe_mul(&a, &t, &z9);      // 31 = 2^5 - 1
  fe_sqn(&t, &a, 5);
  fe_mul(&a, &t, &a);       // 2^10 - 1
  fe_sqn(&t, &a, 10);
  fe_mul(&b, &t, &a);       // 2^20 - 1
  fe_sqn(&t, &b, 20);
  fe_mul(&t, &t, &b);       // 2^40 - 1
  fe_sqn(&t, &t, 10);
  fe_mul(&b, &t, &a);       // 2^50 - 1
  fe_sqn(&t, &b, 50);
  fe_mul(&c, &t, &b);       // 2^100 - 1
  fe_sqn(&t, &c, 100);
  fe_mul(&t, &t, &c);       // 2^200 - 1
  fe_sqn(&t, &t, 50);
  fe_mul(out, &t, &b);      // 2^250 - 1
}

void fe_invert(fe *out, const fe *z) {
  fe t, z11;
  pow_2_250_1(&t, &z11, z);
  fe_sqn(&t, &t, 5);        // 2^255 - 32
  fe_mul(out, &t, &z11);    // 2^255 - 21 = p - 2
}

void fe_pow22523(fe *out, const fe *z) {
  fe t, z11;
  pow_2_250_1(&t, &z11, z);
  fe_sqn(&t, &t, 2);        // 2^252 - 4
  fe_mul(out, &t, z);       // 2^252 - 3 = (p - 5) / 8
}

void fe_batch_invert(fe *out, const fe *in, size_t n, fe *acc) {
  if (n == 0) return;
  fe run;
  fe_one(&run);
  for (size_t i = 0; i < n; i++) {
    acc[i] = run;
    fe_mul(&run, &run, &in[i]);
  }
  fe inv;
  fe_invert(&inv, &run);
  for (size_t i = n; i-- > 0;) {
    fe t;
    fe_mul(&t, &inv, &acc[i]);
    fe_mul(&inv, &inv, &in[i]);
    out[i] = t;
  }
}

int fe_sqrt_ratio(fe *x, const fe *u, const fe *v) {
  fe v3, v7, t, r, chk, nu;
  fe_sq(&t, v);
  fe_mul(&v3, &t, v);          // v^3
  fe_sq(&t, &v3);
  fe_mul(&v7, &t, v);          // v^7
  fe_mul(&t, u, &v7);          // u v^7
  fe_pow22523(&t, &t);         // (u v^7)^((p-5)/8)
  fe_mul(&r, u, &v3);
  fe_mul(&r, &r, &t);          // candidate u v^3 (u v^7)^((p-5)/8)
  fe_sq(&t, &r);
  fe_mul(&chk, &t, v);         // v r^2
  int ok_pos = fe_equal(&chk, u);
  fe_neg(&nu, u);
  int ok_neg = fe_equal(&chk, &nu);
  fe rm;
  fe_mul(&rm, &r, &fe_sqrtm1);
  fe_cmov(&r, &rm, (uint64_t)ok_neg);
  *x = r;
  return ok_pos | ok_neg;
}
