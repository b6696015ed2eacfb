// 16-lane BLAKE3 with AVX-512 (F + VL). Each lane is one message; the state words are
// held "transposed" (one vector per state word, one lane per message).
#include "blake3_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx512f,avx512vl,avx2,sse4.1"))), apply_to = function)

#define DEGREE 16
typedef __m512i vec;

static inline vec set1(uint32_t x) { return _mm512_set1_epi32((int)x); }
static inline vec add_v(vec a, vec b) { return _mm512_add_epi32(a, b); }
static inline vec xor_v(vec a, vec b) { return _mm512_xor_si512(a, b); }
static inline vec rot16_v(vec x) { return _mm512_ror_epi32(x, 16); }
static inline vec rot12_v(vec x) { return _mm512_ror_epi32(x, 12); }
static inline vec rot8_v(vec x) { return _mm512_ror_epi32(x, 8); }
static inline vec rot7_v(vec x) { return _mm512_ror_epi32(x, 7); }

// 16x16 transpose of 32-bit words: on entry r[i] is row i, on exit r[j] holds word j of
// every row (lane i = row i).
static inline void transpose16(vec r[16]) {
  vec a[16], b[16];
  for (int i = 0; i < 8; i++) {
    a[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
    a[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
  }
  // b[4g + w], 128-bit lane k: rows 4g..4g+3 of word 4k + w.
  for (int g = 0; g < 4; g++) {
    b[4 * g + 0] = _mm512_unpacklo_epi64(a[4 * g], a[4 * g + 2]);
    b[4 * g + 1] = _mm512_unpackhi_epi64(a[4 * g], a[4 * g + 2]);
    b[4 * g + 2] = _mm512_unpacklo_epi64(a[4 * g + 1], a[4 * g + 3]);
    b[4 * g + 3] = _mm512_unpackhi_epi64(a[4 * g + 1], a[4 * g + 3]);
  }
  // 4x4 transpose of 128-bit lanes among b[w], b[4+w], b[8+w], b[12+w].
  for (int w = 0; w < 4; w++) {
    vec c0 = _mm512_shuffle_i32x4(b[w], b[4 + w], 0x44);
    vec c1 = _mm512_shuffle_i32x4(b[w], b[4 + w], 0xEE);
    vec c2 = _mm512_shuffle_i32x4(b[8 + w], b[12 + w], 0x44);
    vec c3 = _mm512_shuffle_i32x4(b[8 + w], b[12 + w], 0xEE);
    r[w] = _mm512_shuffle_i32x4(c0, c2, 0x88);
    r[4 + w] = _mm512_shuffle_i32x4(c0, c2, 0xDD);
    r[8 + w] = _mm512_shuffle_i32x4(c1, c3, 0x88);
    r[12 + w] = _mm512_shuffle_i32x4(c1, c3, 0xDD);
  }
}

// h[j] holds word j of 16 chaining values; writes them as 16 consecutive 32-byte CVs.
static inline void store_cvs(const vec h[8], uint8_t *out) {
  vec a[8], e[4], f[4];
  for (int i = 0; i < 4; i++) {
    a[2 * i] = _mm512_unpacklo_epi32(h[2 * i], h[2 * i + 1]);
    a[2 * i + 1] = _mm512_unpackhi_epi32(h[2 * i], h[2 * i + 1]);
  }
  // e[w] / f[w], lane k: words 0..3 / 4..7 of message 4k + w.
  e[0] = _mm512_unpacklo_epi64(a[0], a[2]);
  e[1] = _mm512_unpackhi_epi64(a[0], a[2]);
  e[2] = _mm512_unpacklo_epi64(a[1], a[3]);
  e[3] = _mm512_unpackhi_epi64(a[1], a[3]);
  f[0] = _mm512_unpacklo_epi64(a[4], a[6]);
  f[1] = _mm512_unpackhi_epi64(a[4], a[6]);
  f[2] = _mm512_unpacklo_epi64(a[5], a[7]);
  f[3] = _mm512_unpackhi_epi64(a[5], a[7]);
  const vec idx_lo = _mm512_set_epi64(11, 10, 3, 2, 9, 8, 1, 0);
  const vec idx_hi = _mm512_set_epi64(15, 14, 7, 6, 13, 12, 5, 4);
  for (int w = 0; w < 4; w++) {
    vec lo = _mm512_permutex2var_epi64(e[w], idx_lo, f[w]);  // messages w, 4 + w
    vec hi = _mm512_permutex2var_epi64(e[w], idx_hi, f[w]);  // messages 8 + w, 12 + w
    _mm256_storeu_si256((__m256i *)(out + 32 * w), _mm512_castsi512_si256(lo));
    _mm256_storeu_si256((__m256i *)(out + 32 * (4 + w)), _mm512_extracti64x4_epi64(lo, 1));
    _mm256_storeu_si256((__m256i *)(out + 32 * (8 + w)), _mm512_castsi512_si256(hi));
    _mm256_storeu_si256((__m256i *)(out + 32 * (12 + w)), _mm512_extracti64x4_epi64(hi, 1));
  }
}

static inline void load_counters(uint64_t counter, bool increment, vec *lo, vec *hi) {
  const vec lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  vec add = increment ? lanes : _mm512_setzero_si512();
  vec base = set1(rc_b3_counter_low(counter));
  vec l = _mm512_add_epi32(base, add);
  __mmask16 carry = _mm512_cmplt_epu32_mask(l, base);
  vec h = set1(rc_b3_counter_high(counter));
  *lo = l;
  *hi = _mm512_mask_add_epi32(h, carry, h, set1(1));
}

static inline __attribute__((always_inline)) void hash16(const uint8_t *const *inputs, size_t blocks, const uint32_t key[8],
                          uint64_t counter, bool increment, uint8_t flags, uint8_t flags_start,
                          uint8_t flags_end, uint32_t block_len, bool prefetch,
                          __mmask16 word_mask, uint8_t *out) {
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
    // word_mask selects the message words present; masked-off words read as zero and are
    // never touched in memory (a constant all-ones mask becomes a plain load).
    for (int i = 0; i < 16; i++) m[i] = _mm512_maskz_loadu_epi32(word_mask, (const void *)(inputs[i] + off));
    if (prefetch) {
      for (int i = 0; i < 16; i++) _mm_prefetch((const char *)(inputs[i] + off + ahead), _MM_HINT_T0);
    }
    transpose16(m);
    vec v[16] = {h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7],
                 set1(RC_B3_IV[0]), set1(RC_B3_IV[1]), set1(RC_B3_IV[2]), set1(RC_B3_IV[3]),
                 clo, chi, bl, set1(block_flags)};
    RC_B3_ROUNDS(v, m);
    for (int i = 0; i < 8; i++) h[i] = xor_v(v[i], v[i + 8]);
    block_flags = flags;
  }
  store_cvs(h, out);
}

void rc_b3_hash_many_avx512(const uint8_t *const *inputs, size_t num_inputs, size_t blocks,
                            const uint32_t key[8], uint64_t counter, bool increment_counter,
                            uint8_t flags, uint8_t flags_start, uint8_t flags_end, uint8_t *out) {
  while (num_inputs >= DEGREE) {
    hash16(inputs, blocks, key, counter, increment_counter, flags, flags_start, flags_end,
           RC_B3_BLOCK_LEN, true, 0xFFFF, out);
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
    hash16(ptrs, blocks, key, counter, increment_counter, flags, flags_start, flags_end,
          RC_B3_BLOCK_LEN, false, 0xFFFF, tmp);
    memcpy(out, tmp, num_inputs * RC_B3_OUT_LEN);
  } else if (num_inputs > 0) {
    rc_b3_hash_many_avx2(inputs, num_inputs, blocks, key, counter, increment_counter, flags,
                         flags_start, flags_end, out);
  }
}

void rc_b3_single_block_avx512(const uint8_t *msgs, size_t stride, size_t len, size_t count,
                               const uint32_t key[8], uint8_t flags, uint8_t *out) {
  const uint8_t *ptrs[DEGREE];
  _Alignas(64) uint8_t pad[DEGREE][RC_B3_BLOCK_LEN];
  // Whole-word lengths load directly with a word mask; others go through a zeroed copy.
  const bool padded = len % 4 != 0;
  const __mmask16 word_mask = padded ? 0xFFFF : (__mmask16)((1u << (len / 4)) - 1u);
  if (padded) memset(pad, 0, sizeof(pad));
  while (count >= DEGREE) {
    for (int i = 0; i < DEGREE; i++) {
      if (padded) {
        if (len) memcpy(pad[i], msgs + i * stride, len);
        ptrs[i] = pad[i];
      } else {
        ptrs[i] = msgs + i * stride;
      }
    }
    hash16(ptrs, 1, key, 0, false, flags, 0, 0, (uint32_t)len, false, word_mask, out);
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
    hash16(ptrs, 1, key, 0, false, flags, 0, 0, (uint32_t)len, false, word_mask, tmp);
    memcpy(out, tmp, count * RC_B3_OUT_LEN);
  } else if (count > 0) {
    rc_b3_single_block_avx2(msgs, stride, len, count, key, flags, out);
  }
}

#pragma clang attribute pop
#endif
