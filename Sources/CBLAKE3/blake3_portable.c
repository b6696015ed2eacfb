// Scalar reference implementation of the BLAKE3 compression function and the batch
// shapes built on it. Every SIMD level must match these results bit for bit.
#include "blake3_internal.h"

const uint32_t RC_B3_IV[8] = {0x6A09E667u, 0xBB67AE85u, 0x3C6EF372u, 0xA54FF53Au,
                              0x510E527Fu, 0x9B05688Cu, 0x1F83D9ABu, 0x5BE0CD19u};

static inline uint32_t add_v(uint32_t a, uint32_t b) { return a + b; }
static inline uint32_t xor_v(uint32_t a, uint32_t b) { return a ^ b; }
static inline uint32_t rotr32(uint32_t w, unsigned c) { return (w >> c) | (w << (32 - c)); }
static inline uint32_t rot16_v(uint32_t w) { return rotr32(w, 16); }
static inline uint32_t rot12_v(uint32_t w) { return rotr32(w, 12); }
static inline uint32_t rot8_v(uint32_t w) { return rotr32(w, 8); }
static inline uint32_t rot7_v(uint32_t w) { return rotr32(w, 7); }

// Runs the seven rounds; v is left in its final state (before the feed-forward).
static inline void compress_state(uint32_t v[16], const uint32_t cv[8],
                                  const uint8_t block[RC_B3_BLOCK_LEN], uint8_t block_len,
                                  uint64_t counter, uint8_t flags) {
  uint32_t m[16];
  rc_b3_load_words(m, block, 16);
  for (int i = 0; i < 8; i++) v[i] = cv[i];
  v[8] = RC_B3_IV[0];
  v[9] = RC_B3_IV[1];
  v[10] = RC_B3_IV[2];
  v[11] = RC_B3_IV[3];
  v[12] = rc_b3_counter_low(counter);
  v[13] = rc_b3_counter_high(counter);
  v[14] = block_len;
  v[15] = flags;
  RC_B3_ROUNDS(v, m);
}

void rc_b3_compress_portable(const uint32_t cv[8], const uint8_t block[RC_B3_BLOCK_LEN],
                             uint8_t block_len, uint64_t counter, uint8_t flags, uint32_t out[16]) {
  uint32_t v[16];
  compress_state(v, cv, block, block_len, counter, flags);
  for (int i = 0; i < 8; i++) {
    out[i + 8] = v[i + 8] ^ cv[i];
    out[i] = v[i] ^ v[i + 8];
  }
}

void rc_b3_compress_in_place(uint32_t cv[8], const uint8_t block[RC_B3_BLOCK_LEN],
                             uint8_t block_len, uint64_t counter, uint8_t flags) {
  uint32_t v[16];
  compress_state(v, cv, block, block_len, counter, flags);
  for (int i = 0; i < 8; i++) cv[i] = v[i] ^ v[i + 8];
}

static void hash_one(const uint8_t *input, size_t blocks, const uint32_t key[8], uint64_t counter,
                     uint8_t flags, uint8_t flags_start, uint8_t flags_end, uint8_t out[32]) {
  uint32_t cv[8];
  memcpy(cv, key, sizeof(cv));
  uint8_t block_flags = flags | flags_start;
  for (size_t b = 0; b < blocks; b++) {
    if (b + 1 == blocks) block_flags |= flags_end;
    rc_b3_compress_in_place(cv, input + b * RC_B3_BLOCK_LEN, RC_B3_BLOCK_LEN, counter, block_flags);
    block_flags = flags;
  }
  rc_b3_store_words(out, cv, 8);
}

void rc_b3_hash_many_portable(const uint8_t *const *inputs, size_t num_inputs, size_t blocks,
                              const uint32_t key[8], uint64_t counter, bool increment_counter,
                              uint8_t flags, uint8_t flags_start, uint8_t flags_end, uint8_t *out) {
  for (size_t i = 0; i < num_inputs; i++) {
    hash_one(inputs[i], blocks, key, counter, flags, flags_start, flags_end, out + i * RC_B3_OUT_LEN);
    if (increment_counter) counter++;
  }
}

void rc_b3_single_block_portable(const uint8_t *msgs, size_t stride, size_t len, size_t count,
                                 const uint32_t key[8], uint8_t flags, uint8_t *out) {
  uint8_t block[RC_B3_BLOCK_LEN];
  for (size_t i = 0; i < count; i++) {
    uint32_t cv[8];
    memset(block, 0, sizeof(block));
    if (len) memcpy(block, msgs + i * stride, len);  // read before the (maybe aliasing) write
    memcpy(cv, key, sizeof(cv));
    rc_b3_compress_in_place(cv, block, (uint8_t)len, 0, flags);
    rc_b3_store_words(out + i * RC_B3_OUT_LEN, cv, 8);
  }
}

// ---- Proof-of-work nonce search ----

static inline void g_scalar(uint32_t v[16], int a, int b, int c, int d, uint32_t x, uint32_t y) {
  v[a] = v[a] + x + v[b];
  v[d] = rot16_v(v[d] ^ v[a]);
  v[c] = v[c] + v[d];
  v[b] = rot12_v(v[b] ^ v[c]);
  v[a] = v[a] + y + v[b];
  v[d] = rot8_v(v[d] ^ v[a]);
  v[c] = v[c] + v[d];
  v[b] = rot7_v(v[b] ^ v[c]);
}

static inline uint32_t bswap32(uint32_t w) {
  return (w >> 24) | ((w >> 8) & 0xFF00u) | ((w << 8) & 0xFF0000u) | (w << 24);
}

void rc_b3_pow_prepare(rc_b3_pow_ctx *ctx, const uint32_t midstate[8], const uint8_t block1[64],
                       const uint8_t target[32]) {
  memcpy(ctx->midstate, midstate, sizeof(ctx->midstate));
  rc_b3_load_words(ctx->m, block1, 16);
  ctx->m[14] = 0;
  ctx->m[15] = 0;
  for (int i = 0; i < 8; i++) {
    ctx->target[i] = ((uint32_t)target[4 * i] << 24) | ((uint32_t)target[4 * i + 1] << 16) |
                     ((uint32_t)target[4 * i + 2] << 8) | (uint32_t)target[4 * i + 3];
  }
  uint32_t *v = ctx->v;
  const uint32_t *m = ctx->m;
  for (int i = 0; i < 8; i++) v[i] = midstate[i];
  v[8] = RC_B3_IV[0];
  v[9] = RC_B3_IV[1];
  v[10] = RC_B3_IV[2];
  v[11] = RC_B3_IV[3];
  v[12] = 0;  // counter low
  v[13] = 0;  // counter high
  v[14] = RC_B3_BLOCK_LEN;
  v[15] = RC_B3_POW_FLAGS;
  // Round 1: the columns and three of the four diagonals never touch m[14], m[15].
  g_scalar(v, 0, 4, 8, 12, m[0], m[1]);
  g_scalar(v, 1, 5, 9, 13, m[2], m[3]);
  g_scalar(v, 2, 6, 10, 14, m[4], m[5]);
  g_scalar(v, 3, 7, 11, 15, m[6], m[7]);
  g_scalar(v, 0, 5, 10, 15, m[8], m[9]);
  g_scalar(v, 1, 6, 11, 12, m[10], m[11]);
  g_scalar(v, 2, 7, 8, 13, m[12], m[13]);
  // The nonce diagonal G(3, 4, 9, 14; m14, m15) starts with v3 += v4 (+ m14 per trial).
  v[3] += v[4];
}

bool rc_b3_pow_check(const rc_b3_pow_ctx *ctx, uint64_t nonce) {
  uint8_t block[RC_B3_BLOCK_LEN];
  rc_b3_store_words(block, ctx->m, 14);
  rc_b3_store32(block + 56, (uint32_t)nonce);
  rc_b3_store32(block + 60, (uint32_t)(nonce >> 32));
  uint32_t out[16];
  rc_b3_compress_portable(ctx->midstate, block, RC_B3_BLOCK_LEN, 0, RC_B3_POW_FLAGS, out);
  for (int i = 0; i < 8; i++) {
    const uint32_t h = bswap32(out[i]);  // hash bytes 4i..4i+3 as a big-endian word
    if (h != ctx->target[i]) return h < ctx->target[i];
  }
  return true;  // equal to the target
}

size_t rc_b3_pow_search_portable(const rc_b3_pow_ctx *ctx, uint64_t start, uint64_t count,
                                 uint64_t *results, size_t max_results) {
  size_t found = 0;
  uint32_t m[16];
  memcpy(m, ctx->m, sizeof(m));
  const uint32_t t0 = ctx->target[0];
  for (uint64_t i = 0; i < count; i++) {
    const uint64_t nonce = start + i;  // wraps modulo 2^64
    const uint32_t lo = (uint32_t)nonce, hi = (uint32_t)(nonce >> 32);
    uint32_t v[16];
    memcpy(v, ctx->v, sizeof(v));
    m[14] = lo;
    m[15] = hi;
    RC_B3_POW_ROUNDS(v, m, lo, hi);
    // Early rejection on the most significant word; candidates get the full check.
    if (bswap32(v[0] ^ v[8]) <= t0 && rc_b3_pow_check(ctx, nonce)) {
      rc_b3_pow_record(nonce, results, max_results, &found);
    }
  }
  return found;
}
