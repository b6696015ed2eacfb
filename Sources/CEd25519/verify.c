// Single ZIP-215 verification.
#include "ed25519_internal.h"
#include "sc.h"

int rc_ed25519_check_decoded(const ge_p3 *A, const ge_p3 *R, const uint8_t k[32], const uint8_t S[32]) {
  ge_p3 negA, Rp;
  ge_cached Rc;
  ge_p1p1 t;
  ge_p3_neg(&negA, A);
  ge_double_scalarmult_vartime(&Rp, k, &negA, S); // [S]B - [k]A
  ge_p3_to_cached(&Rc, R);
  ge_sub_cached(&t, &Rp, &Rc);
  ge_p3 d;
  ge_p1p1_to_p3(&d, &t);
  return ge_p3_is_small_order_or_identity_x8(&d);
}

int rc_ed25519_verify(const uint8_t signature[64], const uint8_t *msg, size_t msg_len,
                      const uint8_t public_key[32]) {
  ge_p3 A, R;
  uint8_t k[32];
  if (!sc_is_canonical(signature + 32)) return 0;
  if (!ge_frombytes_zip215(&A, public_key)) return 0;
  if (!ge_frombytes_zip215(&R, signature)) return 0;
  rc_ed25519_challenge(k, signature, public_key, msg, msg_len);
  return rc_ed25519_check_decoded(&A, &R, k, signature + 32);
}
