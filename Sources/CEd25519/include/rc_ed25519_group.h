// Prime-order group arithmetic on edwards25519 for threshold protocols (FROST, DKG).
// Scalars are 32-byte little-endian values mod l = 2^252 + 27742317777372353535851937790883648493;
// every scalar input must be canonical (< l) unless stated otherwise. Points are 32-byte
// canonical encodings (RFC 8032 section 5.1.2); point inputs other than to
// rc_group_point_is_valid must already have passed it (the functions re-decode them and
// return 0 only if they do not).
#ifndef RC_ED25519_GROUP_H
#define RC_ED25519_GROUP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// ---- scalars (all constant time) ----
void rc_group_scalar_reduce64(uint8_t out[32], const uint8_t in[64]);    // in mod l
// out = (acc * 2^256 + chunk) mod l, chunk any 256-bit value: reduces inputs longer than 64 bytes.
void rc_group_scalar_shift_in(uint8_t out[32], const uint8_t acc[32], const uint8_t chunk[32]);
void rc_group_scalar_add(uint8_t out[32], const uint8_t a[32], const uint8_t b[32]);
void rc_group_scalar_sub(uint8_t out[32], const uint8_t a[32], const uint8_t b[32]);
void rc_group_scalar_mul(uint8_t out[32], const uint8_t a[32], const uint8_t b[32]);
void rc_group_scalar_neg(uint8_t out[32], const uint8_t a[32]);
// out = a^(l-2) (Fermat, fixed exponent: constant time in a); returns 0 (and out = 0) when a = 0.
int rc_group_scalar_invert(uint8_t out[32], const uint8_t a[32]);
int rc_group_scalar_is_canonical(const uint8_t s[32]);                   // 1 iff s < l

// ---- points (variable time unless stated: they are public) ----
// Strict decoding: 1 iff y < p, the point is on the curve and x = 0 does not carry sign 1.
// Any order is accepted; see rc_group_point_is_prime_order.
int rc_group_point_is_valid(const uint8_t p[32]);
// 1 iff p is valid and [l]p is the identity.
int rc_group_point_is_prime_order(const uint8_t p[32]);
int rc_group_point_add(uint8_t out[32], const uint8_t a[32], const uint8_t b[32]);
int rc_group_point_sub(uint8_t out[32], const uint8_t a[32], const uint8_t b[32]);
int rc_group_point_neg(uint8_t out[32], const uint8_t a[32]);
// [s]B, constant time in s.
void rc_group_base_mul(uint8_t out[32], const uint8_t s[32]);
// [s]P, constant time in s (fixed window, table lookups by masked selection).
int rc_group_point_mul(uint8_t out[32], const uint8_t s[32], const uint8_t p[32]);
// [s]P for a public s.
int rc_group_point_mul_vartime(uint8_t out[32], const uint8_t s[32], const uint8_t p[32]);
// sum [scalars + 32i](points + 32i) for i < n, all public; 0 if a point does not decode.
int rc_group_msm_vartime(uint8_t out[32], const uint8_t *scalars, const uint8_t *points, size_t n);

#ifdef __cplusplus
}
#endif
#endif
