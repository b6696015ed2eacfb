// Ed25519 for Rusty Coin. Signing follows RFC 8032; every verification path
// (single, batch, any backend) follows ZIP-215:
//   - A and R must decode to curve points; non-canonical y (y >= p) is accepted and
//     reduced; x = 0 with the sign bit set is accepted;
//   - S must be canonical (S < l);
//   - the cofactored equation [8][S]B == [8]R + [8][k]A must hold, k = SHA-512(R||A||M) mod l.
#ifndef RC_ED25519_H
#define RC_ED25519_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RC_ED25519_SEED_LEN 32
#define RC_ED25519_PUBLIC_KEY_LEN 32
#define RC_ED25519_SIGNATURE_LEN 64

// SHA-512 (FIPS 180-4), the library's own; diffed against OpenSSL and NIST CAVP in tests.
typedef struct {
  uint64_t state[8];
  uint64_t total_len; // bytes absorbed so far
  uint8_t buf[128];
  size_t buf_len;
} rc_sha512_ctx;
void rc_sha512_init(rc_sha512_ctx *ctx);
void rc_sha512_update(rc_sha512_ctx *ctx, const void *data, size_t len);
void rc_sha512_final(rc_sha512_ctx *ctx, uint8_t out[64]);
void rc_sha512(const void *data, size_t len, uint8_t out[64]);

// Zeroes n bytes with stores the optimizer cannot drop (for buffers that held secrets).
void rc_ed25519_wipe(void *p, size_t n);

// Public key of a 32-byte seed (RFC 8032 section 5.1.5). Constant time in the seed.
void rc_ed25519_public_key(uint8_t public_key[32], const uint8_t seed[32]);
// Deterministic signature (RFC 8032 section 5.1.6). Constant time in the seed. The public
// key hashed into the challenge is derived from the seed inside, never supplied by the
// caller: two signatures of one message under one seed with different supplied keys
// would reveal the secret scalar (the "double public key" signing oracle).
void rc_ed25519_sign(uint8_t signature[64], const uint8_t *msg, size_t msg_len, const uint8_t seed[32]);

// The expanded secret and its public key, derived together once so repeated signing
// skips the base-point multiplication of the key. Only rc_ed25519_signing_key_init may
// fill it (a public_key that does not belong to scalar is the oracle above); wipe it with
// rc_ed25519_signing_key_wipe when done.
typedef struct {
  uint8_t scalar[32];     // clamped a, the low half of SHA-512(seed)
  uint8_t prefix[32];     // the high half, the nonce key
  uint8_t public_key[32]; // [a]B
} rc_ed25519_signing_key;
void rc_ed25519_signing_key_init(rc_ed25519_signing_key *key, const uint8_t seed[32]);
void rc_ed25519_sign_with_key(uint8_t signature[64], const uint8_t *msg, size_t msg_len,
                              const rc_ed25519_signing_key *key);
void rc_ed25519_signing_key_wipe(rc_ed25519_signing_key *key);

// ZIP-215 single verification: 1 valid, 0 invalid.
int rc_ed25519_verify(const uint8_t signature[64], const uint8_t *msg, size_t msg_len,
                      const uint8_t public_key[32]);

// Which field-arithmetic implementation the batch path uses.
typedef enum {
  RC_ED25519_BACKEND_SCALAR = 0, // portable radix-2^51
  RC_ED25519_BACKEND_AVX2 = 1,
  RC_ED25519_BACKEND_AVX512IFMA = 2,
} rc_ed25519_backend;
rc_ed25519_backend rc_ed25519_detected_backend(void);
// The backend a request runs on: itself when this CPU has it, else the best one below.
rc_ed25519_backend rc_ed25519_backend_clamp(rc_ed25519_backend backend);
const char *rc_ed25519_backend_name(rc_ed25519_backend backend);

// Batch verification under ZIP-215 on the given backend (clamped to the CPU; there is no
// process-wide backend, so concurrent calls may use different ones).
//   msgs[i] / msg_lens[i], public_keys + 32*i, signatures + 64*i for i < count.
//   random_coefficients: count*16 bytes of CSPRNG output (128-bit z_i), supplied by the
//   caller so the C code never touches the OS; pass NULL to have the library read
//   getrandom() itself.
//   results[i] is set to 1 (valid) or 0 (invalid) for every item; the batch equation is
//   tried first and, when it fails, the bad items are located by bisection, so results
//   always equal what rc_ed25519_verify would return for each item.
//   backend_used (may be NULL) receives the backend whose code actually ran (scalar when
//   count is 0 or the call fell back to single verification for lack of memory).
// Returns the number of valid items.
size_t rc_ed25519_verify_batch_backend(const uint8_t *const *msgs, const size_t *msg_lens,
                                       const uint8_t *public_keys, const uint8_t *signatures,
                                       size_t count, const uint8_t *random_coefficients,
                                       uint8_t *results, rc_ed25519_backend backend,
                                       rc_ed25519_backend *backend_used);
// The same on the detected (best) backend.
size_t rc_ed25519_verify_batch(const uint8_t *const *msgs, const size_t *msg_lens,
                               const uint8_t *public_keys, const uint8_t *signatures,
                               size_t count, const uint8_t *random_coefficients,
                               uint8_t *results);

#ifdef __cplusplus
}
#endif
#endif
