// CPU feature detection and routing of the batch shapes to the per-ISA implementations.
#include "blake3_internal.h"

#include <stdatomic.h>

#if defined(__x86_64__)
#include <cpuid.h>

static uint64_t read_xcr0(void) {
  uint32_t eax, edx;
  __asm__ __volatile__("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return ((uint64_t)edx << 32) | eax;
}

static rc_b3_level detect(void) {
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return RC_B3_LEVEL_SCALAR;
  const bool sse41 = (ecx >> 19) & 1;
  const bool osxsave = (ecx >> 27) & 1;
  const bool avx = (ecx >> 28) & 1;
  if (!sse41) return RC_B3_LEVEL_SCALAR;
  if (!osxsave || !avx) return RC_B3_LEVEL_SSE41;
  const uint64_t xcr0 = read_xcr0();
  // XMM (bit 1) and YMM (bit 2) state must be enabled by the OS.
  if ((xcr0 & 0x6) != 0x6) return RC_B3_LEVEL_SSE41;
  unsigned max_leaf = __get_cpuid_max(0, NULL);
  if (max_leaf < 7) return RC_B3_LEVEL_SSE41;
  __cpuid_count(7, 0, eax, ebx, ecx, edx);
  const bool avx2 = (ebx >> 5) & 1;
  const bool avx512f = (ebx >> 16) & 1;
  const bool avx512vl = (ebx >> 31) & 1;
  if (!avx2) return RC_B3_LEVEL_SSE41;
  // Opmask (bit 5), upper halves of ZMM0-15 (bit 6) and ZMM16-31 (bit 7).
  if (avx512f && avx512vl && (xcr0 & 0xE6) == 0xE6) return RC_B3_LEVEL_AVX512;
  return RC_B3_LEVEL_AVX2;
}
#else
static rc_b3_level detect(void) { return RC_B3_LEVEL_SCALAR; }
#endif

// -1: not yet computed. Racing first calls compute the same value, so relaxed is enough.
// The only process-wide state: a fact about the CPU, never a choice. Every computation
// takes its level as an argument.
static _Atomic int detected_level = -1;

rc_b3_level rc_b3_detected_level(void) {
  int l = atomic_load_explicit(&detected_level, memory_order_relaxed);
  if (l < 0) {
    l = (int)detect();
    atomic_store_explicit(&detected_level, l, memory_order_relaxed);
  }
  return (rc_b3_level)l;
}

rc_b3_level rc_b3_clamp_level(rc_b3_level level) {
  rc_b3_level max = rc_b3_detected_level();
  if ((int)level < 0) return RC_B3_LEVEL_SCALAR;
  return (int)level > (int)max ? max : level;
}

const char *rc_b3_level_name(rc_b3_level level) {
  switch (level) {
    case RC_B3_LEVEL_SCALAR: return "scalar";
    case RC_B3_LEVEL_SSE41: return "sse4.1";
    case RC_B3_LEVEL_AVX2: return "avx2";
    case RC_B3_LEVEL_AVX512: return "avx512";
  }
  return "unknown";
}

size_t rc_b3_level_degree(rc_b3_level level) {
  switch (level) {
    case RC_B3_LEVEL_SCALAR: return 1;
    case RC_B3_LEVEL_SSE41: return 4;
    case RC_B3_LEVEL_AVX2: return 8;
    case RC_B3_LEVEL_AVX512: return 16;
  }
  return 1;
}

void rc_b3_hash_many(const uint8_t *const *inputs, size_t num_inputs, size_t blocks,
                     const uint32_t key[8], uint64_t counter, bool increment_counter, uint8_t flags,
                     uint8_t flags_start, uint8_t flags_end, uint8_t *out, rc_b3_level level) {
  switch (rc_b3_clamp_level(level)) {
#if defined(__x86_64__)
    case RC_B3_LEVEL_AVX512:
      rc_b3_hash_many_avx512(inputs, num_inputs, blocks, key, counter, increment_counter, flags,
                             flags_start, flags_end, out);
      return;
    case RC_B3_LEVEL_AVX2:
      rc_b3_hash_many_avx2(inputs, num_inputs, blocks, key, counter, increment_counter, flags,
                           flags_start, flags_end, out);
      return;
    case RC_B3_LEVEL_SSE41:
      rc_b3_hash_many_sse41(inputs, num_inputs, blocks, key, counter, increment_counter, flags,
                            flags_start, flags_end, out);
      return;
#endif
    default:
      rc_b3_hash_many_portable(inputs, num_inputs, blocks, key, counter, increment_counter, flags,
                               flags_start, flags_end, out);
      return;
  }
}

rc_b3_level rc_b3_single_block(const uint8_t *msgs, size_t stride, size_t len, size_t count,
                        const uint32_t key[8], uint8_t flags, uint8_t *out, rc_b3_level level) {
  switch (rc_b3_clamp_level(level)) {
#if defined(__x86_64__)
    case RC_B3_LEVEL_AVX512:
      rc_b3_single_block_avx512(msgs, stride, len, count, key, flags, out);
      return RC_B3_LEVEL_AVX512;
    case RC_B3_LEVEL_AVX2:
      rc_b3_single_block_avx2(msgs, stride, len, count, key, flags, out);
      return RC_B3_LEVEL_AVX2;
    case RC_B3_LEVEL_SSE41:
      rc_b3_single_block_sse41(msgs, stride, len, count, key, flags, out);
      return RC_B3_LEVEL_SSE41;
#endif
    default:
      rc_b3_single_block_portable(msgs, stride, len, count, key, flags, out);
      return RC_B3_LEVEL_SCALAR;
  }
}

rc_b3_level rc_b3_hash_many_single_block(const uint8_t *msgs, size_t stride, size_t len, size_t count,
                                         const uint32_t key[8], uint8_t extra_flags, uint8_t *out,
                                         rc_b3_level level) {
  if (count == 0) return RC_B3_LEVEL_SCALAR;
  if (len > RC_B3_BLOCK_LEN) len = RC_B3_BLOCK_LEN;  // precondition; never read past a block
  const uint8_t flags = (uint8_t)(RC_B3_CHUNK_START | RC_B3_CHUNK_END | RC_B3_ROOT | extra_flags);
  return rc_b3_single_block(msgs, stride, len, count, key, flags, out, level);
}

rc_b3_level rc_b3_merkle_level(const uint8_t *nodes, size_t n_nodes, const uint8_t key[RC_B3_KEY_LEN],
                        uint8_t *out, rc_b3_level level) {
  uint32_t key_words[8];
  rc_b3_load_words(key_words, key, 8);
  const size_t pairs = n_nodes / 2;
  const uint8_t flags =
      (uint8_t)(RC_B3_CHUNK_START | RC_B3_CHUNK_END | RC_B3_ROOT | RC_B3_KEYED_HASH);
  rc_b3_level ran = RC_B3_LEVEL_SCALAR;
  if (pairs > 0) {
    ran = rc_b3_single_block(nodes, 2 * RC_B3_OUT_LEN, 2 * RC_B3_OUT_LEN, pairs, key_words, flags,
                             out, level);
  }
  if (n_nodes & 1) {
    memmove(out + pairs * RC_B3_OUT_LEN, nodes + 2 * pairs * RC_B3_OUT_LEN, RC_B3_OUT_LEN);
  }
  return ran;
}

size_t rc_b3_pow_search(const uint32_t midstate[8], const uint8_t block1[64], uint64_t start,
                        uint64_t count, const uint8_t target[32], uint64_t *results,
                        size_t max_results, rc_b3_level level) {
  if (count == 0) return 0;
  if (results == NULL) max_results = 0;
  rc_b3_pow_ctx ctx;
  rc_b3_pow_prepare(&ctx, midstate, block1, target);
  switch (rc_b3_clamp_level(level)) {
#if defined(__x86_64__)
    case RC_B3_LEVEL_AVX512:
      return rc_b3_pow_search_avx512(&ctx, start, count, results, max_results);
    case RC_B3_LEVEL_AVX2:
      return rc_b3_pow_search_avx2(&ctx, start, count, results, max_results);
    case RC_B3_LEVEL_SSE41:
      return rc_b3_pow_search_sse41(&ctx, start, count, results, max_results);
#endif
    default:
      return rc_b3_pow_search_portable(&ctx, start, count, results, max_results);
  }
}
