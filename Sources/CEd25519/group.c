// Public prime-order group arithmetic over the internal sc/ge code: what FROST and the DKG
// need beyond signing and verification (see include/rc_ed25519_group.h).
#include "rc_ed25519_group.h"
#include "ed25519_internal.h"
#include "sc.h"
#include <stdlib.h>
#include <string.h>

// l - 2, little-endian: the exponent of the Fermat inversion.
static const uint8_t L_MINUS_2[32] = {
    0xeb, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0x10};
static const uint8_t L_BYTES[32] = {
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0x10};
static const uint8_t ZERO32[32] = {0};

// ---------------- scalars ----------------

void rc_group_scalar_reduce64(uint8_t out[32], const uint8_t in[64]) { sc_reduce64(out, in); }

void rc_group_scalar_shift_in(uint8_t out[32], const uint8_t acc[32], const uint8_t chunk[32]) {
  uint8_t wide[64] = {0}, two256[32];
  wide[32] = 1;
  sc_reduce64(two256, wide); // 2^256 mod l
  sc_muladd(out, acc, two256, chunk);
}

void rc_group_scalar_add(uint8_t out[32], const uint8_t a[32], const uint8_t b[32]) { sc_add(out, a, b); }

void rc_group_scalar_sub(uint8_t out[32], const uint8_t a[32], const uint8_t b[32]) {
  uint8_t nb[32];
  sc_neg(nb, b);
  sc_add(out, a, nb);
  rc_secure_wipe(nb, sizeof nb);
}

void rc_group_scalar_mul(uint8_t out[32], const uint8_t a[32], const uint8_t b[32]) { sc_mul(out, a, b); }

void rc_group_scalar_neg(uint8_t out[32], const uint8_t a[32]) { sc_neg(out, a); }

int rc_group_scalar_invert(uint8_t out[32], const uint8_t a[32]) {
  // Square-and-multiply over the public exponent: the sequence of operations never
  // depends on a, and sc_mul itself is constant time.
  uint8_t acc[32] = {1}, t[32];
  for (int bit = 252; bit >= 0; bit--) {
    sc_mul(t, acc, acc);
    if ((L_MINUS_2[bit / 8] >> (bit % 8)) & 1) sc_mul(acc, t, a);
    else memcpy(acc, t, 32);
  }
  memcpy(out, acc, 32);
  uint8_t nonzero = 0;
  for (int i = 0; i < 32; i++) nonzero |= a[i];
  rc_secure_wipe(acc, sizeof acc);
  rc_secure_wipe(t, sizeof t);
  return nonzero != 0;
}

int rc_group_scalar_is_canonical(const uint8_t s[32]) { return sc_is_canonical(s); }

// ---------------- points ----------------

static int decode_strict(ge_p3 *h, const uint8_t s[32]) {
  uint8_t y[32], canonical[32];
  memcpy(y, s, 32);
  y[31] &= 127;
  fe t;
  fe_frombytes(&t, y);
  fe_tobytes(canonical, &t);
  if (memcmp(canonical, y, 32) != 0) return 0; // y >= p
  if (!ge_frombytes_zip215(h, s)) return 0;
  if ((s[31] >> 7) && fe_iszero(&h->X)) return 0; // "negative zero" x
  return 1;
}

static int p3_is_identity(const ge_p3 *p) { return fe_iszero(&p->X) && fe_equal(&p->Y, &p->Z); }

int rc_group_point_is_valid(const uint8_t p[32]) {
  ge_p3 h;
  return decode_strict(&h, p);
}

int rc_group_point_is_prime_order(const uint8_t p[32]) {
  ge_p3 h, r;
  if (!decode_strict(&h, p)) return 0;
  ge_double_scalarmult_vartime(&r, L_BYTES, &h, ZERO32);
  return p3_is_identity(&r);
}

static int add_or_sub(uint8_t out[32], const uint8_t a[32], const uint8_t b[32], int subtract) {
  ge_p3 A, B, R;
  ge_cached c;
  ge_p1p1 t;
  if (!decode_strict(&A, a) || !decode_strict(&B, b)) return 0;
  ge_p3_to_cached(&c, &B);
  if (subtract) ge_sub_cached(&t, &A, &c);
  else ge_add_cached(&t, &A, &c);
  ge_p1p1_to_p3(&R, &t);
  ge_p3_tobytes(out, &R);
  return 1;
}

int rc_group_point_add(uint8_t out[32], const uint8_t a[32], const uint8_t b[32]) { return add_or_sub(out, a, b, 0); }
int rc_group_point_sub(uint8_t out[32], const uint8_t a[32], const uint8_t b[32]) { return add_or_sub(out, a, b, 1); }

int rc_group_point_neg(uint8_t out[32], const uint8_t a[32]) {
  ge_p3 A, N;
  if (!decode_strict(&A, a)) return 0;
  ge_p3_neg(&N, &A);
  ge_p3_tobytes(out, &N);
  return 1;
}

void rc_group_base_mul(uint8_t out[32], const uint8_t s[32]) {
  ge_p3 h;
  ge_scalarmult_base(&h, s);
  ge_p3_tobytes(out, &h);
  rc_secure_wipe(&h, sizeof h);
}

// ---- constant-time variable-base multiplication ----

static void cached_cmov(ge_cached *t, const ge_cached *u, uint64_t b) {
  fe_cmov(&t->ypx, &u->ypx, b);
  fe_cmov(&t->ymx, &u->ymx, b);
  fe_cmov(&t->Z, &u->Z, b);
  fe_cmov(&t->T2d, &u->T2d, b);
}

// t = [digit]P from table[j] = [j+1]P, digit in [-8, 8], reading every entry.
static void cached_select(ge_cached *t, const ge_cached table[8], int8_t digit) {
  uint8_t neg = (uint8_t)((uint8_t)digit >> 7);
  uint8_t abs = (uint8_t)(digit - (((-(int)neg) & digit) * 2));
  fe_one(&t->ypx); fe_one(&t->ymx); fe_one(&t->Z); fe_zero(&t->T2d); // identity
  for (int j = 0; j < 8; j++) cached_cmov(t, &table[j], ge_ct_eq_u8(abs, (uint8_t)(j + 1)));
  ge_cached m;
  m.ypx = t->ymx;
  m.ymx = t->ypx;
  m.Z = t->Z;
  fe_neg(&m.T2d, &t->T2d);
  cached_cmov(t, &m, neg);
  rc_secure_wipe(&m, sizeof m);
}

static void scalarmult_ct(ge_p3 *h, const uint8_t a[32], const ge_p3 *P) {
  int8_t e[64];
  ge_signed_radix16(e, a);

  ge_cached table[8];
  ge_p3 u;
  ge_p1p1 t;
  ge_p2 s;
  ge_p3_to_cached(&table[0], P);
  for (int j = 1; j < 8; j++) {
    ge_add_cached(&t, P, &table[j - 1]);
    ge_p1p1_to_p3(&u, &t);
    ge_p3_to_cached(&table[j], &u);
  }
  ge_cached sel;
  ge_p3_identity(h);
  for (int i = 63; i >= 0; i--) {
    ge_p3_dbl(&t, h); ge_p1p1_to_p2(&s, &t);
    ge_p2_dbl(&t, &s); ge_p1p1_to_p2(&s, &t);
    ge_p2_dbl(&t, &s); ge_p1p1_to_p2(&s, &t);
    ge_p2_dbl(&t, &s); ge_p1p1_to_p3(h, &t);
    cached_select(&sel, table, e[i]);
    ge_add_cached(&t, h, &sel);
    ge_p1p1_to_p3(h, &t);
  }
  rc_secure_wipe(e, sizeof e);
  rc_secure_wipe(&sel, sizeof sel);
  rc_secure_wipe(&t, sizeof t);
  rc_secure_wipe(&s, sizeof s);
  rc_secure_wipe(&u, sizeof u);
}

int rc_group_point_mul(uint8_t out[32], const uint8_t s[32], const uint8_t p[32]) {
  ge_p3 P, R;
  if (!decode_strict(&P, p)) return 0;
  scalarmult_ct(&R, s, &P);
  ge_p3_tobytes(out, &R);
  rc_secure_wipe(&R, sizeof R);
  return 1;
}

int rc_group_point_mul_vartime(uint8_t out[32], const uint8_t s[32], const uint8_t p[32]) {
  ge_p3 P, R;
  if (!decode_strict(&P, p)) return 0;
  ge_double_scalarmult_vartime(&R, s, &P, ZERO32);
  ge_p3_tobytes(out, &R);
  return 1;
}

int rc_group_msm_vartime(uint8_t out[32], const uint8_t *scalars, const uint8_t *points, size_t n) {
  ge_p3 R;
  ge_p3_identity(&R);
  if (n == 0) { ge_p3_tobytes(out, &R); return 1; }
  ge_p3 *decoded = (ge_p3 *)malloc(n * sizeof(ge_p3));
  ge_niels *niels = (ge_niels *)malloc(n * sizeof(ge_niels));
  fe *scratch = (fe *)malloc(2 * n * sizeof(fe));
  int ok = 1;
  for (size_t i = 0; ok && i < n; i++) {
    if (decoded) ok = decode_strict(&decoded[i], points + 32 * i);
    else { ge_p3 tmp; ok = decode_strict(&tmp, points + 32 * i); }
  }
  if (ok && decoded && niels && scratch) {
    ge_p3_batch_to_niels(niels, decoded, n, scratch);
    if (!rc_ed25519_msm_vartime(&R, niels, (const uint8_t (*)[32])scalars, n)) ok = -1;
  } else if (ok) {
    ok = -1;
  }
  if (ok == -1) { // out of memory: one multiplication at a time
    ok = 1;
    ge_p3_identity(&R);
    for (size_t i = 0; i < n; i++) {
      ge_p3 P, T;
      ge_cached c;
      ge_p1p1 t;
      decode_strict(&P, points + 32 * i);
      ge_double_scalarmult_vartime(&T, scalars + 32 * i, &P, ZERO32);
      ge_p3_to_cached(&c, &T);
      ge_add_cached(&t, &R, &c);
      ge_p1p1_to_p3(&R, &t);
    }
  }
  free(decoded); free(niels); free(scratch);
  if (ok) ge_p3_tobytes(out, &R);
  return ok;
}
