// Backend detection and selection (CPUID + XGETBV on x86-64; portable elsewhere).
#include "ed25519_internal.h"
#include <stdatomic.h>
#if RC_ED25519_X86_SIMD
#include <cpuid.h>
#endif

void rc_pow22523_many_scalar(fe *out, const fe *in, size_t n) {
  for (size_t i = 0; i < n; i++) fe_pow22523(&out[i], &in[i]);
}

#if RC_ED25519_X86_SIMD
static uint64_t read_xcr0(void) {
  uint32_t eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return ((uint64_t)edx << 32) | eax;
}
#endif

static rc_ed25519_backend detect(void) {
#if RC_ED25519_X86_SIMD
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return RC_ED25519_BACKEND_SCALAR;
  int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
  if (!osxsave || !avx) return RC_ED25519_BACKEND_SCALAR;
  uint64_t xcr0 = read_xcr0();
  if ((xcr0 & 0x6) != 0x6) return RC_ED25519_BACKEND_SCALAR; // SSE + AVX state
  if (__get_cpuid_max(0, 0) < 7) return RC_ED25519_BACKEND_SCALAR;
  __cpuid_count(7, 0, a, b, c, d);
  int avx2 = (b >> 5) & 1;
  int avx512f = (b >> 16) & 1, ifma = (b >> 21) & 1, avx512vl = (b >> 31) & 1;
  if (avx512f && ifma && avx512vl && (xcr0 & 0xe6) == 0xe6) return RC_ED25519_BACKEND_AVX512IFMA;
  if (avx2) return RC_ED25519_BACKEND_AVX2;
#endif
  return RC_ED25519_BACKEND_SCALAR;
}

static _Atomic int detected_cache = -1;

rc_ed25519_backend rc_ed25519_detected_backend(void) {
  int v = atomic_load(&detected_cache);
  if (v < 0) {
    v = (int)detect();
    atomic_store(&detected_cache, v);
  }
  return (rc_ed25519_backend)v;
}

rc_ed25519_backend rc_ed25519_backend_clamp(rc_ed25519_backend backend) {
  int b = (int)backend, det = (int)rc_ed25519_detected_backend();
  if (b < 0) b = 0;
  // AVX-512 IFMA machines also have AVX2; otherwise clamp down to what was detected.
  return (rc_ed25519_backend)(b > det ? det : b);
}

const char *rc_ed25519_backend_name(rc_ed25519_backend backend) {
  switch (backend) {
  case RC_ED25519_BACKEND_SCALAR: return "scalar";
  case RC_ED25519_BACKEND_AVX2: return "avx2";
  case RC_ED25519_BACKEND_AVX512IFMA: return "avx512ifma";
  }
  return "unknown";
}

// The backend is a per-call argument (no process-wide choice), so concurrent batches can
// use different backends; `ran` names the implementation returned.
rc_pow22523_many_fn rc_ed25519_backend_pow22523_many(rc_ed25519_backend backend, rc_ed25519_backend *ran) {
#if RC_ED25519_X86_SIMD
  switch (rc_ed25519_backend_clamp(backend)) {
  case RC_ED25519_BACKEND_AVX512IFMA: *ran = RC_ED25519_BACKEND_AVX512IFMA; return rc_pow22523_many_ifma;
  case RC_ED25519_BACKEND_AVX2: *ran = RC_ED25519_BACKEND_AVX2; return rc_pow22523_many_avx2;
  default: break;
  }
#else
  (void)backend;
#endif
  *ran = RC_ED25519_BACKEND_SCALAR;
  return rc_pow22523_many_scalar;
}
