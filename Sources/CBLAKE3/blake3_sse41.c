// 4-lane BLAKE3 with SSE4.1. Each lane is one message; the state words are held
// "transposed" (one vector per state word, one lane per message).
#include "blake3_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>

// The target is baseline x86-64: enable the instruction set for every function here.
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("sse4.1"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("sse4.1")
#endif

#include "blake3_ops_sse41.h"


// 4x4 transpose of 32-bit words, in place.
static inline void transpose4(vec r[4]) {
  vec a0 = _mm_unpacklo_epi32(r[0], r[1]);
  vec a1 = _mm_unpackhi_epi32(r[0], r[1]);
  vec a2 = _mm_unpacklo_epi32(r[2], r[3]);
  vec a3 = _mm_unpackhi_epi32(r[2], r[3]);
  r[0] = _mm_unpacklo_epi64(a0, a2);
  r[1] = _mm_unpackhi_epi64(a0, a2);
  r[2] = _mm_unpacklo_epi64(a1, a3);
  r[3] = _mm_unpackhi_epi64(a1, a3);
}

static inline void load_counters(uint64_t counter, bool increment, vec *lo, vec *hi) {
  const vec lanes = _mm_setr_epi32(0, 1, 2, 3);
  const vec sign = set1(0x80000000u);
  vec add = increment ? lanes : _mm_setzero_si128();
  vec base = set1(rc_b3_counter_low(counter));
  vec l = _mm_add_epi32(base, add);
  vec carry = _mm_cmpgt_epi32(_mm_xor_si128(base, sign), _mm_xor_si128(l, sign));
  *lo = l;
  *hi = _mm_sub_epi32(set1(rc_b3_counter_high(counter)), carry);
}

static inline __attribute__((always_inline)) void hash4(const uint8_t *const *inputs, size_t blocks, const uint32_t key[8],
                         uint64_t counter, bool increment, uint8_t flags, uint8_t flags_start,
                         uint8_t flags_end, uint32_t block_len, bool prefetch, uint8_t *out) {
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
    for (int q = 0; q < 4; q++) {
      for (int i = 0; i < 4; i++) m[4 * q + i] = _mm_loadu_si128((const __m128i *)(inputs[i] + off + 16 * q));
      transpose4(m + 4 * q);
    }
    if (prefetch) {
      for (int i = 0; i < 4; i++) _mm_prefetch((const char *)(inputs[i] + off + ahead), _MM_HINT_T0);
    }
    vec v[16] = {h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7],
                 set1(RC_B3_IV[0]), set1(RC_B3_IV[1]), set1(RC_B3_IV[2]), set1(RC_B3_IV[3]),
                 clo, chi, bl, set1(block_flags)};
    RC_B3_ROUNDS(v, m);
    for (int i = 0; i < 8; i++) h[i] = xor_v(v[i], v[i + 8]);
    block_flags = flags;
  }
  transpose4(h);
  transpose4(h + 4);
  for (int i = 0; i < 4; i++) {
    _mm_storeu_si128((__m128i *)(out + 32 * i), h[i]);
    _mm_storeu_si128((__m128i *)(out + 32 * i + 16), h[4 + i]);
  }
}

void rc_b3_hash_many_sse41(const uint8_t *const *inputs, size_t num_inputs, size_t blocks,
                           const uint32_t key[8], uint64_t counter, bool increment_counter,
                           uint8_t flags, uint8_t flags_start, uint8_t flags_end, uint8_t *out) {
  while (num_inputs >= DEGREE) {
    hash4(inputs, blocks, key, counter, increment_counter, flags, flags_start, flags_end,
          RC_B3_BLOCK_LEN, true, out);
    if (increment_counter) counter += DEGREE;
    inputs += DEGREE;
    num_inputs -= DEGREE;
    out += DEGREE * RC_B3_OUT_LEN;
  }
  if (num_inputs > 1) {
    // Tail: one full-width group with the last input repeated in the spare lanes beats
    // several narrower calls; only the first num_inputs outputs are kept.
    const uint8_t *ptrs[DEGREE];
    _Alignas(64) uint8_t tmp[DEGREE * RC_B3_OUT_LEN];
    for (size_t i = 0; i < DEGREE; i++) ptrs[i] = inputs[i < num_inputs ? i : num_inputs - 1];
    hash4(ptrs, blocks, key, counter, increment_counter, flags, flags_start, flags_end,
          RC_B3_BLOCK_LEN, false, tmp);
    memcpy(out, tmp, num_inputs * RC_B3_OUT_LEN);
  } else if (num_inputs > 0) {
    rc_b3_hash_many_portable(inputs, num_inputs, blocks, key, counter, increment_counter, flags,
                             flags_start, flags_end, out);
  }
}

void rc_b3_single_block_sse41(const uint8_t *msgs, size_t stride, size_t len, size_t count,
                              const uint32_t key[8], uint8_t flags, uint8_t *out) {
  const uint8_t *ptrs[DEGREE];
  _Alignas(64) uint8_t pad[DEGREE][RC_B3_BLOCK_LEN];
  const bool padded = len < RC_B3_BLOCK_LEN;
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
    hash4(ptrs, 1, key, 0, false, flags, 0, 0, (uint32_t)len, false, out);
    msgs += DEGREE * stride;
    out += DEGREE * RC_B3_OUT_LEN;
    count -= DEGREE;
  }
  if (count > 1) {
    // Tail of 2 or 3: one 4-lane group with repeated lanes beats separate scalar calls.
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
    hash4(ptrs, 1, key, 0, false, flags, 0, 0, (uint32_t)len, false, tmp);
    memcpy(out, tmp, count * RC_B3_OUT_LEN);
  } else if (count > 0) {
    rc_b3_single_block_portable(msgs, stride, len, count, key, flags, out);
  }
}

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
#endif
