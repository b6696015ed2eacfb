// Test hooks: the internal field and scalar arithmetic exposed over byte encodings, so the
// test suite can check them against a big-integer reference. Not for production callers.
#ifndef RC_ED25519_TESTING_H
#define RC_ED25519_TESTING_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// Field elements: 32-byte little-endian inputs (bit 255 ignored, values up to 2^255-1
// accepted, i.e. possibly >= p); outputs are canonical (< p).
enum {
  RC_TESTING_FE_ADD = 0,
  RC_TESTING_FE_SUB = 1,
  RC_TESTING_FE_MUL = 2,
  RC_TESTING_FE_SQ = 3,
  RC_TESTING_FE_INVERT = 4,
  RC_TESTING_FE_NEG = 5,
};
void rc_ed25519_testing_fe(int op, uint8_t out[32], const uint8_t a[32], const uint8_t b[32]);
// sqrt(u/v) per the decoding rule; returns 1 when u/v is a square (out is then the root
// with its low bit cleared, or a nonzero canonical root), 0 otherwise.
int rc_ed25519_testing_fe_sqrt_ratio(uint8_t out[32], const uint8_t u[32], const uint8_t v[32]);

// Scalars mod l.
void rc_ed25519_testing_sc_reduce64(uint8_t out[32], const uint8_t in[64]);
void rc_ed25519_testing_sc_muladd(uint8_t out[32], const uint8_t a[32], const uint8_t b[32], const uint8_t c[32]);
int rc_ed25519_testing_sc_is_canonical(const uint8_t s[32]);

// Point decoding under ZIP-215 and canonical re-encoding: 1 when it decodes.
int rc_ed25519_testing_decode_encode(uint8_t out[32], const uint8_t in[32]);

#ifdef __cplusplus
}
#endif
#endif
