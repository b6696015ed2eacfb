// AVX2 backend (placeholder until the 4-way implementation lands).
#include "ed25519_internal.h"
#if defined(__x86_64__)
void rc_pow22523_many_avx2(fe *out, const fe *in, size_t n) { rc_pow22523_many_scalar(out, in, n); }
#endif
