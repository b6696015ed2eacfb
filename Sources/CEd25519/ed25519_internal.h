// Shared internal declarations for the Ed25519 engine.
#ifndef RC_ED25519_INTERNAL_H
#define RC_ED25519_INTERNAL_H
#include "rc_ed25519.h"
#include "ge.h"

// k = SHA-512(R_bytes || A_bytes || M) mod l
void rc_ed25519_challenge(uint8_t k[32], const uint8_t R[32], const uint8_t A[32],
                          const uint8_t *msg, size_t msg_len);
// Cofactored check on already-decoded inputs: [8]([S]B - [k]A - R) == identity.
int rc_ed25519_check_decoded(const ge_p3 *A, const ge_p3 *R, const uint8_t k[32], const uint8_t S[32]);
void rc_secure_wipe(void *p, size_t n);

#endif

#ifndef RC_ED25519_INTERNAL_BACKEND
#define RC_ED25519_INTERNAL_BACKEND
// The x86-64 SIMD backends are compiled with per-function target attributes
// (clang's `#pragma clang attribute`); other compilers/architectures get the
// portable path only.
#if defined(__x86_64__) && defined(__clang__)
#define RC_ED25519_X86_SIMD 1
#else
#define RC_ED25519_X86_SIMD 0
#endif
// Backend hook used by the batch path: out[i] = in[i]^((p-5)/8) for i < n
// (the exponentiation inside point decompression). Every backend must give the
// same field values as fe_pow22523.
typedef void (*rc_pow22523_many_fn)(fe *out, const fe *in, size_t n);
rc_pow22523_many_fn rc_ed25519_backend_pow22523_many(rc_ed25519_backend backend, rc_ed25519_backend *ran);
void rc_pow22523_many_scalar(fe *out, const fe *in, size_t n);
#if RC_ED25519_X86_SIMD
void rc_pow22523_many_avx2(fe *out, const fe *in, size_t n);
void rc_pow22523_many_ifma(fe *out, const fe *in, size_t n);
// 8-lane Pippenger (AVX-512 IFMA); returns 0 if memory could not be allocated.
int rc_msm_pippenger_ifma(ge_p3 *out, const ge_niels *pts, const uint8_t (*sc)[32], size_t m, int c);
#endif
#endif

#ifndef RC_ED25519_INTERNAL_MSM
#define RC_ED25519_INTERNAL_MSM
// out = sum sc[i] * pts[i] for i < m (scalars < 2^253), variable time, for public inputs;
// Straus or Pippenger on the detected backend. Returns 0 when memory ran out.
int rc_ed25519_msm_vartime(ge_p3 *out, const ge_niels *pts, const uint8_t (*sc)[32], size_t m);
#endif
