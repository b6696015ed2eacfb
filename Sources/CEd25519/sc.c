// Arithmetic modulo the group order l, with 64-bit limbs and Barrett reduction.
#include "sc.h"
#include "rc_ed25519.h"
#include <string.h>

typedef unsigned __int128 u128;

static const uint64_t L[4] = {0x5812631a5cf5d3edULL, 0x14def9dea2f79cd6ULL, 0x0ULL, 0x1000000000000000ULL};
// floor(2^512 / l)
static const uint64_t MU[5] = {0xed9ce5a30a2c131bULL, 0x2106215d086329a7ULL, 0xffffffffffffffebULL,
                               0xffffffffffffffffULL, 0xfULL};

static void load(uint64_t *w, const uint8_t *s, int nwords) {
  for (int i = 0; i < nwords; i++) {
    uint64_t v = 0;
    for (int j = 7; j >= 0; j--) v = (v << 8) | s[8 * i + j];
    w[i] = v;
  }
}

static void store4(uint8_t out[32], const uint64_t w[4]) {
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 8; j++) out[8 * i + j] = (uint8_t)(w[i] >> (8 * j));
}

// out[0..na+nb-1] = a * b
static void mp_mul(uint64_t *out, const uint64_t *a, int na, const uint64_t *b, int nb) {
  for (int i = 0; i < na + nb; i++) out[i] = 0;
  for (int i = 0; i < na; i++) {
    uint64_t carry = 0;
    for (int j = 0; j < nb; j++) {
      u128 t = (u128)a[i] * b[j] + out[i + j] + carry;
      out[i + j] = (uint64_t)t;
      carry = (uint64_t)(t >> 64);
    }
    out[i + nb] = carry;
  }
}

// r (5 limbs, < 3l) -> subtract l while >= l, constant time (twice).
static void cond_sub_l(uint64_t r[5]) {
  for (int round = 0; round < 2; round++) {
    uint64_t t[5], borrow = 0;
    for (int i = 0; i < 5; i++) {
      uint64_t li = i < 4 ? L[i] : 0;
      u128 d = (u128)r[i] - li - borrow;
      t[i] = (uint64_t)d;
      borrow = (uint64_t)(d >> 64) & 1;
    }
    uint64_t keep = (uint64_t)0 - borrow; // all ones if r < l
    // Hide that keep is 0 or all ones: knowing it, clang -O3 turned the masked select
    // below into a branch on the borrow, which depends on the secret scalar when signing
    // (found by Tests/Ed25519Tests/ConstantTime under valgrind).
    __asm__("" : "+r"(keep));
    for (int i = 0; i < 5; i++) r[i] = (r[i] & keep) | (t[i] & ~keep);
  }
}

// x: 8 limbs (< 2^512) -> x mod l in 4 limbs.
static void barrett(uint64_t out[4], const uint64_t x[8]) {
  uint64_t q2[10], q3[5], r2[10], r[5];
  mp_mul(q2, x + 3, 5, MU, 5);
  for (int i = 0; i < 5; i++) q3[i] = q2[5 + i];
  mp_mul(r2, q3, 5, L, 4);
  uint64_t borrow = 0;
  for (int i = 0; i < 5; i++) {
    u128 d = (u128)x[i] - r2[i] - borrow;
    r[i] = (uint64_t)d;
    borrow = (uint64_t)(d >> 64) & 1;
  }
  cond_sub_l(r);
  for (int i = 0; i < 4; i++) out[i] = r[i];
}

void sc_reduce64(uint8_t out[32], const uint8_t in[64]) {
  uint64_t x[8], o[4];
  load(x, in, 8);
  barrett(o, x);
  store4(out, o);
}

void sc_muladd(uint8_t out[32], const uint8_t a[32], const uint8_t b[32], const uint8_t c[32]) {
  uint64_t wa[4], wb[4], wc[4], x[8], o[4];
  load(wa, a, 4); load(wb, b, 4); load(wc, c, 4);
  // a, b, c < 2^256, so a*b + c <= (2^256-1)^2 + 2^256 - 1 < 2^512: no pre-reduction needed.
  mp_mul(x, wa, 4, wb, 4);
  uint64_t carry = 0;
  for (int i = 0; i < 8; i++) {
    u128 s = (u128)x[i] + (i < 4 ? wc[i] : 0) + carry;
    x[i] = (uint64_t)s;
    carry = (uint64_t)(s >> 64);
  }
  barrett(o, x);
  store4(out, o);
  // Signing passes the secret scalar and nonce through here.
  rc_ed25519_wipe(wa, sizeof wa); rc_ed25519_wipe(wb, sizeof wb); rc_ed25519_wipe(wc, sizeof wc);
  rc_ed25519_wipe(x, sizeof x); rc_ed25519_wipe(o, sizeof o);
}

void sc_mul(uint8_t out[32], const uint8_t a[32], const uint8_t b[32]) {
  uint8_t zero[32] = {0};
  sc_muladd(out, a, b, zero);
}

void sc_add(uint8_t out[32], const uint8_t a[32], const uint8_t b[32]) {
  uint64_t wa[4], wb[4], r[5];
  load(wa, a, 4); load(wb, b, 4);
  uint64_t carry = 0;
  for (int i = 0; i < 4; i++) {
    u128 s = (u128)wa[i] + wb[i] + carry;
    r[i] = (uint64_t)s;
    carry = (uint64_t)(s >> 64);
  }
  r[4] = carry;
  cond_sub_l(r);
  store4(out, r);
}

void sc_neg(uint8_t out[32], const uint8_t a[32]) {
  uint64_t wa[4], r[5];
  load(wa, a, 4);
  uint64_t borrow = 0;
  for (int i = 0; i < 4; i++) {
    u128 d = (u128)L[i] - wa[i] - borrow;
    r[i] = (uint64_t)d;
    borrow = (uint64_t)(d >> 64) & 1;
  }
  r[4] = 0;
  cond_sub_l(r); // maps l (from a = 0) to 0
  store4(out, r);
}

int sc_is_canonical(const uint8_t s[32]) {
  uint64_t w[4];
  load(w, s, 4);
  uint64_t borrow = 0;
  for (int i = 0; i < 4; i++) {
    u128 d = (u128)w[i] - L[i] - borrow;
    borrow = (uint64_t)(d >> 64) & 1;
  }
  return (int)borrow; // 1 iff s < l
}
