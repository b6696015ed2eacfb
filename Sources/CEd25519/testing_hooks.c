// Test hooks over the internal arithmetic (see include/rc_ed25519_testing.h).
#include "rc_ed25519_testing.h"
#include "fe51.h"
#include "ge.h"
#include "sc.h"

void rc_ed25519_testing_fe(int op, uint8_t out[32], const uint8_t a[32], const uint8_t b[32]) {
  fe f, g, h;
  fe_frombytes(&f, a);
  fe_frombytes(&g, b);
  switch (op) {
  case RC_TESTING_FE_ADD: fe_add(&h, &f, &g); fe_carry(&h); break;
  case RC_TESTING_FE_SUB: fe_sub(&h, &f, &g); break;
  case RC_TESTING_FE_MUL: fe_mul(&h, &f, &g); break;
  case RC_TESTING_FE_SQ: fe_sq(&h, &f); break;
  case RC_TESTING_FE_INVERT: fe_invert(&h, &f); break;
  default: fe_neg(&h, &f); break;
  }
  fe_tobytes(out, &h);
}

int rc_ed25519_testing_fe_sqrt_ratio(uint8_t out[32], const uint8_t u[32], const uint8_t v[32]) {
  fe fu, fv, x;
  fe_frombytes(&fu, u);
  fe_frombytes(&fv, v);
  int ok = fe_sqrt_ratio(&x, &fu, &fv);
  fe_tobytes(out, &x);
  return ok;
}

void rc_ed25519_testing_sc_reduce64(uint8_t out[32], const uint8_t in[64]) { sc_reduce64(out, in); }

void rc_ed25519_testing_sc_muladd(uint8_t out[32], const uint8_t a[32], const uint8_t b[32], const uint8_t c[32]) {
  sc_muladd(out, a, b, c);
}

int rc_ed25519_testing_sc_is_canonical(const uint8_t s[32]) { return sc_is_canonical(s); }

int rc_ed25519_testing_decode_encode(uint8_t out[32], const uint8_t in[32]) {
  ge_p3 p;
  if (!ge_frombytes_zip215(&p, in)) return 0;
  ge_p3_tobytes(out, &p);
  return 1;
}
