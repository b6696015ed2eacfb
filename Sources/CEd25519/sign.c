// Key generation and signing (RFC 8032, section 5.1.5 / 5.1.6).
#include "ed25519_internal.h"
#include "sc.h"
#include <string.h>

void rc_secure_wipe(void *p, size_t n) {
  volatile uint8_t *v = (volatile uint8_t *)p;
  while (n--) *v++ = 0;
}

static void expand_seed(uint8_t h[64], const uint8_t seed[32]) {
  rc_sha512(seed, 32, h);
  h[0] &= 248;
  h[31] &= 127;
  h[31] |= 64;
}

void rc_ed25519_public_key(uint8_t public_key[32], const uint8_t seed[32]) {
  uint8_t h[64];
  ge_p3 A;
  expand_seed(h, seed);
  ge_scalarmult_base(&A, h);
  ge_p3_tobytes(public_key, &A);
  rc_secure_wipe(h, sizeof h);
  rc_secure_wipe(&A, sizeof A);
}

void rc_ed25519_challenge(uint8_t k[32], const uint8_t R[32], const uint8_t A[32],
                          const uint8_t *msg, size_t msg_len) {
  rc_sha512_ctx c;
  uint8_t h[64];
  rc_sha512_init(&c);
  rc_sha512_update(&c, R, 32);
  rc_sha512_update(&c, A, 32);
  rc_sha512_update(&c, msg, msg_len);
  rc_sha512_final(&c, h);
  sc_reduce64(k, h);
}

void rc_ed25519_sign(uint8_t signature[64], const uint8_t *msg, size_t msg_len,
                     const uint8_t seed[32], const uint8_t public_key[32]) {
  uint8_t h[64], rh[64], r[32], k[32];
  rc_sha512_ctx c;
  ge_p3 R;
  expand_seed(h, seed);
  rc_sha512_init(&c);
  rc_sha512_update(&c, h + 32, 32);
  rc_sha512_update(&c, msg, msg_len);
  rc_sha512_final(&c, rh);
  sc_reduce64(r, rh);
  ge_scalarmult_base(&R, r);
  uint8_t Rb[32];
  ge_p3_tobytes(Rb, &R);
  rc_ed25519_challenge(k, Rb, public_key, msg, msg_len);
  memcpy(signature, Rb, 32);
  sc_muladd(signature + 32, k, h, r);
  rc_secure_wipe(h, sizeof h);
  rc_secure_wipe(rh, sizeof rh);
  rc_secure_wipe(r, sizeof r);
  rc_secure_wipe(&R, sizeof R);
}
