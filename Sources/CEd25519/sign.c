// Key generation and signing (RFC 8032, section 5.1.5 / 5.1.6).
//
// The public key that goes into the challenge k = H(R || A || M) is always derived here
// from the seed, never taken from the caller: signing one message under the same seed
// with two different "public keys" gives S1 - S2 = (k1 - k2) a, which reveals the secret
// scalar a (the "double public key" signing oracle of many Ed25519 libraries).
#include "ed25519_internal.h"
#include "sc.h"
#include <string.h>

void rc_secure_wipe(void *p, size_t n) {
  volatile uint8_t *v = (volatile uint8_t *)p;
  while (n--) *v++ = 0;
  // The stores above are volatile; the barrier also stops the compiler from treating the
  // wiped memory as dead and reordering later reads of it before the wipe.
  __asm__ __volatile__("" : : "r"(p) : "memory");
}

void rc_ed25519_wipe(void *p, size_t n) { rc_secure_wipe(p, n); }

void rc_ed25519_signing_key_init(rc_ed25519_signing_key *key, const uint8_t seed[32]) {
  uint8_t h[64];
  ge_p3 A;
  rc_sha512(seed, 32, h);
  h[0] &= 248;
  h[31] &= 127;
  h[31] |= 64;
  memcpy(key->scalar, h, 32);
  memcpy(key->prefix, h + 32, 32);
  ge_scalarmult_base(&A, key->scalar);
  ge_p3_tobytes(key->public_key, &A);
  rc_secure_wipe(h, sizeof h);
  rc_secure_wipe(&A, sizeof A);
}

void rc_ed25519_signing_key_wipe(rc_ed25519_signing_key *key) { rc_secure_wipe(key, sizeof *key); }

void rc_ed25519_public_key(uint8_t public_key[32], const uint8_t seed[32]) {
  rc_ed25519_signing_key key;
  rc_ed25519_signing_key_init(&key, seed);
  memcpy(public_key, key.public_key, 32);
  rc_ed25519_signing_key_wipe(&key);
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

void rc_ed25519_sign_with_key(uint8_t signature[64], const uint8_t *msg, size_t msg_len,
                              const rc_ed25519_signing_key *key) {
  uint8_t rh[64], r[32], k[32], Rb[32];
  rc_sha512_ctx c;
  ge_p3 R;
  // r = H(prefix || M) mod l: secret (it reveals a through S = r + k a).
  rc_sha512_init(&c);
  rc_sha512_update(&c, key->prefix, 32);
  rc_sha512_update(&c, msg, msg_len);
  rc_sha512_final(&c, rh);
  sc_reduce64(r, rh);
  ge_scalarmult_base(&R, r);
  ge_p3_tobytes(Rb, &R);
  rc_ed25519_challenge(k, Rb, key->public_key, msg, msg_len);
  sc_muladd(signature + 32, k, key->scalar, r);
  memcpy(signature, Rb, 32);
  rc_secure_wipe(rh, sizeof rh);
  rc_secure_wipe(r, sizeof r);
  rc_secure_wipe(&R, sizeof R);
  rc_secure_wipe(&c, sizeof c);
}

void rc_ed25519_sign(uint8_t signature[64], const uint8_t *msg, size_t msg_len, const uint8_t seed[32]) {
  rc_ed25519_signing_key key;
  rc_ed25519_signing_key_init(&key, seed);
  rc_ed25519_sign_with_key(signature, msg, msg_len, &key);
  rc_ed25519_signing_key_wipe(&key);
}
