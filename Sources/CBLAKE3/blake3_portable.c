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
