// Group arithmetic on edwards25519 (-x^2 + y^2 = 1 + d x^2 y^2). Internal header.
// Coordinates:
//   ge_p2     projective (X:Y:Z), x = X/Z, y = Y/Z
//   ge_p3     extended (X:Y:Z:T) with X*Y = Z*T
//   ge_p1p1   "completed" (E,F,G,H): the result of an addition or doubling;
//             extended point is (E*F : G*H : F*G : E*H)
//   ge_cached (Y+X, Y-X, Z, 2d*T), the right operand of an addition
//   ge_niels  affine (y+x, y-x, 2d*x*y), Z = 1, the right operand of a mixed addition
#ifndef RC_GE_H
#define RC_GE_H

#include "fe51.h"

typedef struct { fe X, Y, Z; } ge_p2;
typedef struct { fe X, Y, Z, T; } ge_p3;
typedef struct { fe E, F, G, H; } ge_p1p1;
typedef struct { fe ypx, ymx, Z, T2d; } ge_cached;
typedef struct { fe ypx, ymx, xy2d; } ge_niels;

static inline void ge_p3_identity(ge_p3 *h) { fe_zero(&h->X); fe_one(&h->Y); fe_one(&h->Z); fe_zero(&h->T); }
static inline void ge_p2_identity(ge_p2 *h) { fe_zero(&h->X); fe_one(&h->Y); fe_one(&h->Z); }
static inline void ge_niels_identity(ge_niels *h) { fe_one(&h->ypx); fe_one(&h->ymx); fe_zero(&h->xy2d); }

static inline void ge_p1p1_to_p2(ge_p2 *r, const ge_p1p1 *p) {
  fe_mul(&r->X, &p->E, &p->F);
  fe_mul(&r->Y, &p->G, &p->H);
  fe_mul(&r->Z, &p->F, &p->G);
}

static inline void ge_p1p1_to_p3(ge_p3 *r, const ge_p1p1 *p) {
  fe_mul(&r->X, &p->E, &p->F);
  fe_mul(&r->Y, &p->G, &p->H);
  fe_mul(&r->Z, &p->F, &p->G);
  fe_mul(&r->T, &p->E, &p->H);
}

static inline void ge_p3_to_p2(ge_p2 *r, const ge_p3 *p) { r->X = p->X; r->Y = p->Y; r->Z = p->Z; }

static inline void ge_p3_to_cached(ge_cached *r, const ge_p3 *p) {
  fe_add(&r->ypx, &p->Y, &p->X);
  fe_sub_nc(&r->ymx, &p->Y, &p->X);
  r->Z = p->Z;
  fe_mul(&r->T2d, &p->T, &fe_d2);
}

// Doubling (a = -1). All four outputs are negated relative to the textbook
// formula, which leaves the represented point unchanged.
static inline void ge_p2_dbl(ge_p1p1 *r, const ge_p2 *p) {
  fe a, b, c, s;
  fe_sq(&a, &p->X);
  fe_sq(&b, &p->Y);
  fe_sq(&c, &p->Z);
  fe_add(&c, &c, &c);
  fe_add(&s, &p->X, &p->Y);
  fe_sq(&s, &s);
  fe_add(&r->H, &a, &b);
  fe_sub_nc(&r->E, &r->H, &s);
  fe_sub(&r->G, &a, &b);
  fe_add(&r->F, &c, &r->G);
}

static inline void ge_p3_dbl(ge_p1p1 *r, const ge_p3 *p) {
  ge_p2 q;
  ge_p3_to_p2(&q, p);
  ge_p2_dbl(r, &q);
}

static inline void ge_add_cached(ge_p1p1 *r, const ge_p3 *p, const ge_cached *q) {
  fe a, b, c, d, t;
  fe_sub_nc(&t, &p->Y, &p->X);
  fe_mul(&a, &t, &q->ymx);
  fe_add(&t, &p->Y, &p->X);
  fe_mul(&b, &t, &q->ypx);
  fe_mul(&c, &p->T, &q->T2d);
  fe_mul(&d, &p->Z, &q->Z);
  fe_add(&d, &d, &d);
  fe_sub_nc(&r->E, &b, &a);
  fe_add(&r->H, &b, &a);
  fe_sub_nc(&r->F, &d, &c);
  fe_add(&r->G, &d, &c);
}

static inline void ge_sub_cached(ge_p1p1 *r, const ge_p3 *p, const ge_cached *q) {
  fe a, b, c, d, t;
  fe_sub_nc(&t, &p->Y, &p->X);
  fe_mul(&a, &t, &q->ypx);
  fe_add(&t, &p->Y, &p->X);
  fe_mul(&b, &t, &q->ymx);
  fe_mul(&c, &p->T, &q->T2d);
  fe_mul(&d, &p->Z, &q->Z);
  fe_add(&d, &d, &d);
  fe_sub_nc(&r->E, &b, &a);
  fe_add(&r->H, &b, &a);
  fe_add(&r->F, &d, &c);
  fe_sub_nc(&r->G, &d, &c);
}

static inline void ge_madd(ge_p1p1 *r, const ge_p3 *p, const ge_niels *q) {
  fe a, b, c, d, t;
  fe_sub_nc(&t, &p->Y, &p->X);
  fe_mul(&a, &t, &q->ymx);
  fe_add(&t, &p->Y, &p->X);
  fe_mul(&b, &t, &q->ypx);
  fe_mul(&c, &p->T, &q->xy2d);
  fe_add(&d, &p->Z, &p->Z);
  fe_sub_nc(&r->E, &b, &a);
  fe_add(&r->H, &b, &a);
  fe_sub_nc(&r->F, &d, &c);
  fe_add(&r->G, &d, &c);
}

static inline void ge_msub(ge_p1p1 *r, const ge_p3 *p, const ge_niels *q) {
  fe a, b, c, d, t;
  fe_sub_nc(&t, &p->Y, &p->X);
  fe_mul(&a, &t, &q->ypx);
  fe_add(&t, &p->Y, &p->X);
  fe_mul(&b, &t, &q->ymx);
  fe_mul(&c, &p->T, &q->xy2d);
  fe_add(&d, &p->Z, &p->Z);
  fe_sub_nc(&r->E, &b, &a);
  fe_add(&r->H, &b, &a);
  fe_add(&r->F, &d, &c);
  fe_sub_nc(&r->G, &d, &c);
}

static inline void ge_p3_neg(ge_p3 *r, const ge_p3 *p) {
  fe_neg(&r->X, &p->X); r->Y = p->Y; r->Z = p->Z; fe_neg(&r->T, &p->T);
}

// Base-point tables, built once (thread-safe) on first use.
// base_odd[j] = (2j+1) B, for wNAF width 8.
#define GE_BASE_WNAF_W 8
#define GE_BASE_ODD_N 64
const ge_niels *ge_base_odd(void);
const ge_niels *ge_base_niels(void); // B itself

// ZIP-215 decoding: any y (reduced mod p), sign bit of x honoured, x = 0 with
// sign 1 accepted. Returns 1 if s encodes a curve point. Variable time.
int ge_frombytes_zip215(ge_p3 *h, const uint8_t s[32]);
void ge_p3_tobytes(uint8_t s[32], const ge_p3 *h);
void ge_p3_to_niels(ge_niels *r, const ge_p3 *p); // one inversion
// Normalise n points to affine niels form with one shared inversion. scratch: 2n fe.
void ge_p3_batch_to_niels(ge_niels *out, const ge_p3 *in, size_t n, fe *scratch);
// Constant time: 1 if a == b, else 0.
static inline uint64_t ge_ct_eq_u8(uint8_t a, uint8_t b) {
  uint32_t x = (uint32_t)(a ^ b);
  return (uint64_t)((x - 1) >> 31);
}
// Constant time: a (a[31] <= 127) as 64 signed radix-16 digits in [-8, 8], least significant first.
void ge_signed_radix16(int8_t e[64], const uint8_t a[32]);
// Constant-time [a]B for a 32-byte little-endian scalar a with a[31] <= 127.
void ge_scalarmult_base(ge_p3 *h, const uint8_t a[32]);
// Variable time: r = [a]A + [b]B, a and b little-endian with a[31], b[31] <= 127.
void ge_double_scalarmult_vartime(ge_p3 *r, const uint8_t a[32], const ge_p3 *A, const uint8_t b[32]);
// Signed sliding-window NAF of a 256-bit little-endian scalar (top bit clear) into
// naf[0..263]; nonzero digits are odd, |d| < 2^(w-1). Returns index of top nonzero digit, or -1.
int ge_wnaf(int8_t naf[264], const uint8_t s[32], int w);
// 1 if [8]P is the identity.
int ge_p3_is_small_order_or_identity_x8(const ge_p3 *p);

#endif
