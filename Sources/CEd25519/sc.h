// Scalars modulo l = 2^252 + 27742317777372353535851937790883648493. Internal header.
// All scalars are 32-byte little-endian. All functions are constant time.
#ifndef RC_SC_H
#define RC_SC_H
#include <stdint.h>

void sc_reduce64(uint8_t out[32], const uint8_t in[64]);            // in mod l
void sc_muladd(uint8_t out[32], const uint8_t a[32], const uint8_t b[32], const uint8_t c[32]); // a*b+c mod l
void sc_mul(uint8_t out[32], const uint8_t a[32], const uint8_t b[32]);  // a*b mod l (inputs < 2^256)
void sc_add(uint8_t out[32], const uint8_t a[32], const uint8_t b[32]);  // inputs < l
void sc_neg(uint8_t out[32], const uint8_t a[32]);                       // input < l
int sc_is_canonical(const uint8_t s[32]);                                // s < l

#endif
