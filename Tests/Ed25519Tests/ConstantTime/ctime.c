// Constant-time check of Ed25519 key derivation and signing, the way libsecp256k1's
// ctime_tests does it: the secret is marked undefined for valgrind's memcheck, so every
// branch and every memory index that depends on it is reported as a use of an
// uninitialised value; outputs are marked defined again (declassified) before use.
// Run under `valgrind --error-exitcode=1` (ConstantTimeTests.swift builds and runs it).
//
//   ctime          the library's secret paths: must report nothing
//   ctime leaky    a deliberately variable-time key derivation (the verifier's wNAF
//                  multiplication applied to the secret scalar): must be reported,
//                  proving the check can fail
#include "rc_ed25519.h"
#include "rc_ed25519_group.h"
#include "ge.h"
#include <stdio.h>
#include <string.h>
#include <valgrind/memcheck.h>

// The leak that must be caught: [a]B through variable-time double-scalar multiplication,
// which branches on the bits of a. Compiled only into this program.
static void leaky_public_key(uint8_t public_key[32], const uint8_t seed[32]) {
  uint8_t h[64], zero[32] = {0};
  ge_p3 identity, A;
  rc_sha512(seed, 32, h);
  h[0] &= 248;
  h[31] &= 127;
  h[31] |= 64;
  ge_p3_identity(&identity);
  ge_double_scalarmult_vartime(&A, zero, &identity, h);
  ge_p3_tobytes(public_key, &A);
}

// The group API's secret paths (FROST/DKG shares, nonces, polynomial coefficients): scalar
// arithmetic, inversion, and base and variable-base multiplication by a secret scalar.
// Returns 0 when the results also check out.
static int group_secret_paths(int round) {
  uint8_t wide[64], a[32], b[32], t[32], inv[32], P[32], Q[32], R[32], aQ[32], one[32] = {1};
  for (int i = 0; i < 64; i++) wide[i] = (uint8_t)(round * 29 + i * 11 + 3);
  rc_group_scalar_reduce64(b, wide);
  rc_group_base_mul(Q, b); // a public point
  VALGRIND_MAKE_MEM_UNDEFINED(wide, sizeof wide);
  rc_group_scalar_reduce64(a, wide);
  rc_group_scalar_add(t, a, b);
  rc_group_scalar_sub(t, t, b);
  rc_group_scalar_mul(t, t, b);
  rc_group_scalar_neg(t, t);
  rc_group_scalar_invert(inv, a);
  rc_group_base_mul(P, a);
  rc_group_point_mul(aQ, a, Q);
  rc_group_scalar_mul(t, inv, a);
  VALGRIND_MAKE_MEM_DEFINED(t, sizeof t);
  VALGRIND_MAKE_MEM_DEFINED(a, sizeof a);
  VALGRIND_MAKE_MEM_DEFINED(P, sizeof P);
  VALGRIND_MAKE_MEM_DEFINED(aQ, sizeof aQ);
  if (memcmp(t, one, 32) != 0) return 2;                      // a * a^-1 == 1
  rc_group_point_mul_vartime(R, b, P);                         // [b]([a]B) == [a]([b]B)
  return memcmp(R, aQ, 32) != 0 ? 2 : 0;
}

int main(int argc, char **argv) {
  int leaky = argc > 1 && strcmp(argv[1], "leaky") == 0;
  uint8_t message[96];
  for (size_t i = 0; i < sizeof message; i++) message[i] = (uint8_t)(i * 7 + 1);
  for (int round = 0; round < 4; round++) {
    uint8_t seed[32], public_key[32], expected_key[32], signature[64], keyed_signature[64];
    for (int i = 0; i < 32; i++) seed[i] = (uint8_t)(round * 57 + i * 13 + 5);
    rc_ed25519_public_key(expected_key, seed); // reference, computed while defined

    VALGRIND_MAKE_MEM_UNDEFINED(seed, sizeof seed);
    if (leaky) {
      leaky_public_key(public_key, seed);
      VALGRIND_MAKE_MEM_DEFINED(public_key, sizeof public_key);
      if (memcmp(public_key, expected_key, 32) != 0) return 2;
      continue;
    }
    rc_ed25519_public_key(public_key, seed);
    rc_ed25519_sign(signature, message, (size_t)(round * 31 % 97), seed);

    rc_ed25519_signing_key key;
    rc_ed25519_signing_key_init(&key, seed);
    // The public half of the key is public; the scalar and nonce key stay undefined.
    VALGRIND_MAKE_MEM_DEFINED(key.public_key, sizeof key.public_key);
    rc_ed25519_sign_with_key(keyed_signature, message, (size_t)(round * 31 % 97), &key);
    rc_ed25519_signing_key_wipe(&key);

    VALGRIND_MAKE_MEM_DEFINED(public_key, sizeof public_key);
    VALGRIND_MAKE_MEM_DEFINED(signature, sizeof signature);
    VALGRIND_MAKE_MEM_DEFINED(keyed_signature, sizeof keyed_signature);
    VALGRIND_MAKE_MEM_DEFINED(seed, sizeof seed);
    // The outputs must also be right, or the check proved nothing about real signing.
    if (memcmp(public_key, expected_key, 32) != 0) return 2;
    if (memcmp(signature, keyed_signature, 64) != 0) return 2;
    if (!rc_ed25519_verify(signature, message, (size_t)(round * 31 % 97), public_key)) return 2;
    if (group_secret_paths(round) != 0) return 2;
  }
  printf("ctime: %s done\n", leaky ? "leaky" : "library");
  return 0;
}
