// 16-lane BLAKE3 with AVX-512 (F + VL). Each lane is one message; the state words are
// held "transposed" (one vector per state word, one lane per message).
#include "blake3_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>

// The target is baseline x86-64: enable the instruction set for every function here.
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512vl,avx2,sse4.1"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx2,sse4.1")
#endif

#include "blake3_ops_avx512.h"


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

// ---- 8 and 4 lanes with AVX-512VL (single-instruction rotates): narrow groups and tails.
// The round macro uses add_v/xor_v/rot*_v, so those names are pointed at the 256-bit and
// then the 128-bit helpers while each width's hash function is defined. ----

typedef __m256i vec8;
static inline vec8 set1_8(uint32_t x) { return _mm256_set1_epi32((int)x); }
static inline vec8 add_8(vec8 a, vec8 b) { return _mm256_add_epi32(a, b); }
static inline vec8 xor_8(vec8 a, vec8 b) { return _mm256_xor_si256(a, b); }
static inline vec8 rot16_8(vec8 x) { return _mm256_ror_epi32(x, 16); }
static inline vec8 rot12_8(vec8 x) { return _mm256_ror_epi32(x, 12); }
static inline vec8 rot8_8(vec8 x) { return _mm256_ror_epi32(x, 8); }
static inline vec8 rot7_8(vec8 x) { return _mm256_ror_epi32(x, 7); }

// 8x8 transpose of 32-bit words, in place.
static inline void transpose8(vec8 r[8]) {
  vec8 a[8], b[4], c[4];
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

#define add_v add_8
#define xor_v xor_8
#define rot16_v rot16_8
#define rot12_v rot12_8
#define rot8_v rot8_8
#define rot7_v rot7_8

static inline __attribute__((always_inline)) void hash8(
    const uint8_t *const *inputs, size_t blocks, const uint32_t key[8], uint64_t counter,
    bool increment, uint8_t flags, uint8_t flags_start, uint8_t flags_end, uint32_t block_len,
    __mmask16 word_mask, uint8_t *out) {
  vec8 h[8];
  for (int i = 0; i < 8; i++) h[i] = set1_8(key[i]);
  const vec8 lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const vec8 base = set1_8(rc_b3_counter_low(counter));
  const vec8 clo = _mm256_add_epi32(base, increment ? lanes : _mm256_setzero_si256());
  const vec8 hi = set1_8(rc_b3_counter_high(counter));
  const vec8 chi = _mm256_mask_add_epi32(hi, _mm256_cmplt_epu32_mask(clo, base), hi, set1_8(1));
  const vec8 bl = set1_8(block_len);
  const __mmask8 mask_lo = (__mmask8)word_mask, mask_hi = (__mmask8)(word_mask >> 8);
  uint8_t block_flags = flags | flags_start;
  for (size_t b = 0; b < blocks; b++) {
    if (b + 1 == blocks) block_flags |= flags_end;
    size_t off = b * RC_B3_BLOCK_LEN;
    vec8 m[16];
    for (int i = 0; i < 8; i++) {
      m[i] = _mm256_maskz_loadu_epi32(mask_lo, (const void *)(inputs[i] + off));
      m[8 + i] = _mm256_maskz_loadu_epi32(mask_hi, (const void *)(inputs[i] + off + 32));
    }
    transpose8(m);
    transpose8(m + 8);
    vec8 v[16] = {h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7],
                  set1_8(RC_B3_IV[0]), set1_8(RC_B3_IV[1]), set1_8(RC_B3_IV[2]), set1_8(RC_B3_IV[3]),
                  clo, chi, bl, set1_8(block_flags)};
    RC_B3_ROUNDS(v, m);
    for (int i = 0; i < 8; i++) h[i] = xor_8(v[i], v[i + 8]);
    block_flags = flags;
  }
  transpose8(h);
  for (int i = 0; i < 8; i++) _mm256_storeu_si256((__m256i *)(out + 32 * i), h[i]);
}

#undef add_v
#undef xor_v
#undef rot16_v
#undef rot12_v
#undef rot8_v
#undef rot7_v

typedef __m128i vec4;
static inline vec4 set1_4(uint32_t x) { return _mm_set1_epi32((int)x); }
static inline vec4 add_4(vec4 a, vec4 b) { return _mm_add_epi32(a, b); }
static inline vec4 xor_4(vec4 a, vec4 b) { return _mm_xor_si128(a, b); }
static inline vec4 rot16_4(vec4 x) { return _mm_ror_epi32(x, 16); }
static inline vec4 rot12_4(vec4 x) { return _mm_ror_epi32(x, 12); }
static inline vec4 rot8_4(vec4 x) { return _mm_ror_epi32(x, 8); }
static inline vec4 rot7_4(vec4 x) { return _mm_ror_epi32(x, 7); }

// 4x4 transpose of 32-bit words, in place.
static inline void transpose4(vec4 r[4]) {
  vec4 a0 = _mm_unpacklo_epi32(r[0], r[1]);
  vec4 a1 = _mm_unpackhi_epi32(r[0], r[1]);
  vec4 a2 = _mm_unpacklo_epi32(r[2], r[3]);
  vec4 a3 = _mm_unpackhi_epi32(r[2], r[3]);
  r[0] = _mm_unpacklo_epi64(a0, a2);
  r[1] = _mm_unpackhi_epi64(a0, a2);
  r[2] = _mm_unpacklo_epi64(a1, a3);
  r[3] = _mm_unpackhi_epi64(a1, a3);
}

#define add_v add_4
#define xor_v xor_4
#define rot16_v rot16_4
#define rot12_v rot12_4
#define rot8_v rot8_4
#define rot7_v rot7_4

static inline __attribute__((always_inline)) void hash4(
    const uint8_t *const *inputs, size_t blocks, const uint32_t key[8], uint64_t counter,
    bool increment, uint8_t flags, uint8_t flags_start, uint8_t flags_end, uint32_t block_len,
    __mmask16 word_mask, uint8_t *out) {
  vec4 h[8];
  for (int i = 0; i < 8; i++) h[i] = set1_4(key[i]);
  const vec4 lanes = _mm_setr_epi32(0, 1, 2, 3);
  const vec4 base = set1_4(rc_b3_counter_low(counter));
  const vec4 clo = _mm_add_epi32(base, increment ? lanes : _mm_setzero_si128());
  const vec4 hi = set1_4(rc_b3_counter_high(counter));
  const vec4 chi = _mm_mask_add_epi32(hi, _mm_cmplt_epu32_mask(clo, base), hi, set1_4(1));
  const vec4 bl = set1_4(block_len);
  uint8_t block_flags = flags | flags_start;
  for (size_t b = 0; b < blocks; b++) {
    if (b + 1 == blocks) block_flags |= flags_end;
    size_t off = b * RC_B3_BLOCK_LEN;
    vec4 m[16];
    for (int q = 0; q < 4; q++) {
      const __mmask8 mq = (__mmask8)((word_mask >> (4 * q)) & 0xF);
      for (int i = 0; i < 4; i++) {
        m[4 * q + i] = _mm_maskz_loadu_epi32(mq, (const void *)(inputs[i] + off + 16 * q));
      }
      transpose4(m + 4 * q);
    }
    vec4 v[16] = {h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7],
                  set1_4(RC_B3_IV[0]), set1_4(RC_B3_IV[1]), set1_4(RC_B3_IV[2]), set1_4(RC_B3_IV[3]),
                  clo, chi, bl, set1_4(block_flags)};
    RC_B3_ROUNDS(v, m);
    for (int i = 0; i < 8; i++) h[i] = xor_4(v[i], v[i + 8]);
    block_flags = flags;
  }
  transpose4(h);
  transpose4(h + 4);
  for (int i = 0; i < 4; i++) {
    _mm_storeu_si128((__m128i *)(out + 32 * i), h[i]);
    _mm_storeu_si128((__m128i *)(out + 32 * i + 16), h[4 + i]);
  }
}

#undef add_v
#undef xor_v
#undef rot16_v
#undef rot12_v
#undef rot8_v
#undef rot7_v

// A group of 2..8 inputs: 4 or 8 lanes, the last input repeated in spare lanes (only the
// first n outputs are written to out). Every input is loaded before any output is stored.
static inline __attribute__((always_inline)) void hash_narrow(
    const uint8_t *const *inputs, size_t n, size_t blocks, const uint32_t key[8],
    uint64_t counter, bool increment, uint8_t flags, uint8_t flags_start, uint8_t flags_end,
    uint32_t block_len, __mmask16 word_mask, uint8_t *out) {
  const uint8_t *ptrs[8];
  _Alignas(64) uint8_t tmp[8 * RC_B3_OUT_LEN];
  if (n == 8) {
    hash8(inputs, blocks, key, counter, increment, flags, flags_start, flags_end, block_len,
          word_mask, out);
  } else if (n == 4) {
    hash4(inputs, blocks, key, counter, increment, flags, flags_start, flags_end, block_len,
          word_mask, out);
  } else if (n > 4) {
    for (size_t i = 0; i < 8; i++) ptrs[i] = inputs[i < n ? i : n - 1];
    hash8(ptrs, blocks, key, counter, increment, flags, flags_start, flags_end, block_len,
          word_mask, tmp);
    memcpy(out, tmp, n * RC_B3_OUT_LEN);
  } else {
    for (size_t i = 0; i < 4; i++) ptrs[i] = inputs[i < n ? i : n - 1];
    hash4(ptrs, blocks, key, counter, increment, flags, flags_start, flags_end, block_len,
          word_mask, tmp);
    memcpy(out, tmp, n * RC_B3_OUT_LEN);
  }
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
    // Tail of 9..15: one full-width group with the last input repeated in the spare lanes;
    // only the first num_inputs outputs are kept.
    const uint8_t *ptrs[DEGREE];
    _Alignas(64) uint8_t tmp[DEGREE * RC_B3_OUT_LEN];
    for (size_t i = 0; i < DEGREE; i++) ptrs[i] = inputs[i < num_inputs ? i : num_inputs - 1];
    hash16(ptrs, blocks, key, counter, increment_counter, flags, flags_start, flags_end,
           RC_B3_BLOCK_LEN, false, 0xFFFF, tmp);
    memcpy(out, tmp, num_inputs * RC_B3_OUT_LEN);
  } else if (num_inputs > 1) {
    hash_narrow(inputs, num_inputs, blocks, key, counter, increment_counter, flags, flags_start,
                flags_end, RC_B3_BLOCK_LEN, 0xFFFF, out);
  } else if (num_inputs == 1) {
    rc_b3_hash_many_portable(inputs, 1, blocks, key, counter, increment_counter, flags,
                             flags_start, flags_end, out);
  }
}

// One single-block group per width, kept out of line so that each gets its own register
// allocation (inlining them all into one function measurably slows the 16-lane loop).
static __attribute__((noinline)) void single16(const uint8_t *const *ptrs, const uint32_t key[8],
                                               uint8_t flags, uint32_t len, __mmask16 word_mask,
                                               uint8_t *out) {
  hash16(ptrs, 1, key, 0, false, flags, 0, 0, len, false, word_mask, out);
}
static __attribute__((noinline)) void single8(const uint8_t *const *ptrs, const uint32_t key[8],
                                              uint8_t flags, uint32_t len, __mmask16 word_mask,
                                              uint8_t *out) {
  hash8(ptrs, 1, key, 0, false, flags, 0, 0, len, word_mask, out);
}
static __attribute__((noinline)) void single4(const uint8_t *const *ptrs, const uint32_t key[8],
                                              uint8_t flags, uint32_t len, __mmask16 word_mask,
                                              uint8_t *out) {
  hash4(ptrs, 1, key, 0, false, flags, 0, 0, len, word_mask, out);
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
    for (size_t i = 0; i < DEGREE; i++) {
      if (padded) {
        if (len) memcpy(pad[i], msgs + i * stride, len);
        ptrs[i] = pad[i];
      } else {
        ptrs[i] = msgs + i * stride;
      }
    }
    single16(ptrs, key, flags, (uint32_t)len, word_mask, out);
    msgs += DEGREE * stride;
    out += DEGREE * RC_B3_OUT_LEN;
    count -= DEGREE;
  }
  if (count < 2) {
    if (count == 1) rc_b3_single_block_portable(msgs, stride, len, 1, key, flags, out);
    return;
  }
  // Tail of 2..15 messages: repeat the last one in spare lanes of a 16-, 8- or 4-lane group.
  const size_t width = count > 8 ? DEGREE : count > 4 ? 8 : 4;
  for (size_t i = 0; i < width; i++) {
    size_t src = i < count ? i : count - 1;
    if (padded) {
      if (len) memcpy(pad[i], msgs + src * stride, len);
      ptrs[i] = pad[i];
    } else {
      ptrs[i] = msgs + src * stride;
    }
  }
  _Alignas(64) uint8_t tmp[DEGREE * RC_B3_OUT_LEN];
  if (width == DEGREE) {
    single16(ptrs, key, flags, (uint32_t)len, word_mask, tmp);
  } else if (width == 8) {
    single8(ptrs, key, flags, (uint32_t)len, word_mask, tmp);
  } else {
    single4(ptrs, key, flags, (uint32_t)len, word_mask, tmp);
  }
  memcpy(out, tmp, count * RC_B3_OUT_LEN);
}

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
#endif
