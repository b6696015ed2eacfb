// 8-lane BLAKE3 with AVX2. Each lane is one message; the state words are held
// "transposed" (one vector per state word, one lane per message).
#include "blake3_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>

// The target is baseline x86-64: enable the instruction set for every function here.
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,sse4.1"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,sse4.1")
#endif

#include "blake3_ops_avx2.h"


// 8x8 transpose of 32-bit words, in place.
static inline void transpose8(vec r[8]) {
  vec a[8], b[4], c[4];
  for (int i = 0; i < 4; i++) {
    a[2 * i] = _mm256_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
    a[2 * i + 1] = _mm256_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
  }
  // b[w] / c[w], 128-bit lane k: rows 0..3 / 4..7 of word 4k + w.
  b[0] = _mm256_unpacklo_epi64(a[0], a[2]);
  b[1] = _mm256_unpackhi_epi64(a[0], a[2]);
  b[2] = _mm256_unpacklo_epi64(a[1], a[3]);
  b[3] = _mm256_unpackhi_epi64(a[1], a[3]);
  c[0] = _mm256_unpacklo_epi64(a[4], a[6]);
  c[1] = _mm256_unpackhi_epi64(a[4], a[6]);
  c[2] = _mm256_unpacklo_epi64(a[5], a[7]);
  c[3] = _mm256_unpackhi_epi64(a[5], a[7]);
  for (int w = 0; w < 4; w++) {
    r[w] = _mm256_permute2x128_si256(b[w], c[w], 0x20);
    r[4 + w] = _mm256_permute2x128_si256(b[w], c[w], 0x31);
  }
}

static inline void load_counters(uint64_t counter, bool increment, vec *lo, vec *hi) {
  const vec lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const vec sign = set1(0x80000000u);
  vec add = increment ? lanes : _mm256_setzero_si256();
  vec base = set1(rc_b3_counter_low(counter));
  vec l = _mm256_add_epi32(base, add);
  // Unsigned l < base means the low word wrapped: carry into the high word.
  vec carry = _mm256_cmpgt_epi32(_mm256_xor_si256(base, sign), _mm256_xor_si256(l, sign));
  *lo = l;
  *hi = _mm256_sub_epi32(set1(rc_b3_counter_high(counter)), carry);
}

static inline __attribute__((always_inline)) void hash8(const uint8_t *const *inputs, size_t blocks, const uint32_t key[8],
                         uint64_t counter, bool increment, uint8_t flags, uint8_t flags_start,
                         uint8_t flags_end, uint32_t block_len, bool prefetch, bool masked,
                         vec mask_lo, vec mask_hi, uint8_t *out) {
  vec h[8];
  for (int i = 0; i < 8; i++) h[i] = set1(key[i]);
  vec clo, chi;
  load_counters(counter, increment, &clo, &chi);
  const vec bl = set1(block_len);
  uint8_t block_flags = flags | flags_start;
  // Inputs are usually contiguous (consecutive chunks), so the next group starts right after
  // this one: fetch it one group ahead, one line per lane and block.
  const size_t ahead = DEGREE * blocks * RC_B3_BLOCK_LEN;
  for (size_t b = 0; b < blocks; b++) {
    if (b + 1 == blocks) block_flags |= flags_end;
    size_t off = b * RC_B3_BLOCK_LEN;
    vec m[16];
    if (masked) {  // only the words selected by the masks are read; the rest are zero
      for (int i = 0; i < 8; i++) {
        m[i] = _mm256_maskload_epi32((const int *)(inputs[i] + off), mask_lo);
        m[8 + i] = _mm256_maskload_epi32((const int *)(inputs[i] + off + 32), mask_hi);
      }
    } else {
      for (int i = 0; i < 8; i++) {
        m[i] = _mm256_loadu_si256((const __m256i *)(inputs[i] + off));
        m[8 + i] = _mm256_loadu_si256((const __m256i *)(inputs[i] + off + 32));
      }
    }
    if (prefetch) {
      for (int i = 0; i < 8; i++) _mm_prefetch((const char *)(inputs[i] + off + ahead), _MM_HINT_T0);
    }
    transpose8(m);
    transpose8(m + 8);
    vec v[16] = {h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7],
                 set1(RC_B3_IV[0]), set1(RC_B3_IV[1]), set1(RC_B3_IV[2]), set1(RC_B3_IV[3]),
                 clo, chi, bl, set1(block_flags)};
    RC_B3_ROUNDS(v, m);
    for (int i = 0; i < 8; i++) h[i] = xor_v(v[i], v[i + 8]);
    block_flags = flags;
  }
  transpose8(h);
  for (int i = 0; i < 8; i++) _mm256_storeu_si256((__m256i *)(out + 32 * i), h[i]);
}

void rc_b3_hash_many_avx2(const uint8_t *const *inputs, size_t num_inputs, size_t blocks,
                          const uint32_t key[8], uint64_t counter, bool increment_counter,
                          uint8_t flags, uint8_t flags_start, uint8_t flags_end, uint8_t *out) {
  const vec ones = set1(0xFFFFFFFFu);
  while (num_inputs >= DEGREE) {
    hash8(inputs, blocks, key, counter, increment_counter, flags, flags_start, flags_end,
          RC_B3_BLOCK_LEN, true, false, ones, ones, out);
    if (increment_counter) counter += DEGREE;
    inputs += DEGREE;
    num_inputs -= DEGREE;
    out += DEGREE * RC_B3_OUT_LEN;
  }
  if (num_inputs > DEGREE / 2) {
    // Tail: one full-width group with the last input repeated in the spare lanes beats
    // several narrower calls; only the first num_inputs outputs are kept.
    const uint8_t *ptrs[DEGREE];
    _Alignas(64) uint8_t tmp[DEGREE * RC_B3_OUT_LEN];
    for (size_t i = 0; i < DEGREE; i++) ptrs[i] = inputs[i < num_inputs ? i : num_inputs - 1];
    hash8(ptrs, blocks, key, counter, increment_counter, flags, flags_start, flags_end,
          RC_B3_BLOCK_LEN, false, false, ones, ones, tmp);
    memcpy(out, tmp, num_inputs * RC_B3_OUT_LEN);
  } else if (num_inputs > 0) {
    rc_b3_hash_many_sse41(inputs, num_inputs, blocks, key, counter, increment_counter, flags,
                          flags_start, flags_end, out);
  }
}

void rc_b3_single_block_avx2(const uint8_t *msgs, size_t stride, size_t len, size_t count,
                             const uint32_t key[8], uint8_t flags, uint8_t *out) {
  const uint8_t *ptrs[DEGREE];
  _Alignas(64) uint8_t pad[DEGREE][RC_B3_BLOCK_LEN];
  // Whole-word lengths load directly with word masks; others go through a zeroed copy.
  const bool padded = len % 4 != 0;
  const bool masked = !padded && len < RC_B3_BLOCK_LEN;
  const vec word_index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const vec words = set1((uint32_t)(len / 4));
  const vec mask_lo = _mm256_cmpgt_epi32(words, word_index);
  const vec mask_hi = _mm256_cmpgt_epi32(words, _mm256_add_epi32(word_index, set1(8)));
  if (padded) memset(pad, 0, sizeof(pad));
  while (count >= DEGREE) {
    for (size_t i = 0; i < DEGREE; i++) {
      if (padded) {
        if (len) memcpy(pad[i], msgs + i * stride, len);
        ptrs[i] = pad[i];
      } else {
        ptrs[i] = msgs + i * stride;
      }
    }
    hash8(ptrs, 1, key, 0, false, flags, 0, 0, (uint32_t)len, false, masked, mask_lo, mask_hi, out);
    msgs += DEGREE * stride;
    out += DEGREE * RC_B3_OUT_LEN;
    count -= DEGREE;
  }
  if (count > DEGREE / 2) {
    // Wide tail: run a full group with repeated lanes and keep the first `count` outputs.
    _Alignas(64) uint8_t tmp[DEGREE * RC_B3_OUT_LEN];
    for (size_t i = 0; i < DEGREE; i++) {
      size_t src = i < count ? i : count - 1;
      if (padded) {
        if (len) memcpy(pad[i], msgs + src * stride, len);
        ptrs[i] = pad[i];
      } else {
        ptrs[i] = msgs + src * stride;
      }
    }
    hash8(ptrs, 1, key, 0, false, flags, 0, 0, (uint32_t)len, false, masked, mask_lo, mask_hi, tmp);
    memcpy(out, tmp, count * RC_B3_OUT_LEN);
  } else if (count > 0) {
    rc_b3_single_block_sse41(msgs, stride, len, count, key, flags, out);
  }
}

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
#endif
