// The incremental BLAKE3 hasher: chunk state, chaining-value stack with lazy merging,
// the three modes, extendable output with seek, and wide (SIMD) hashing of whole
// subtrees for bulk input.
#include "blake3_internal.h"

// ---- Output of a compression that may become the root ----

typedef struct {
  uint32_t input_cv[8];
  uint8_t block[RC_B3_BLOCK_LEN];
  uint8_t block_len;
  uint64_t counter;
  uint8_t flags;
} output_t;

static void output_chaining_value(const output_t *o, uint8_t cv[32]) {
  uint32_t w[8];
  memcpy(w, o->input_cv, sizeof(w));
  rc_b3_compress_in_place(w, o->block, o->block_len, o->counter, o->flags);
  rc_b3_store_words(cv, w, 8);
}

static void output_root_bytes(const output_t *o, uint64_t seek, uint8_t *out, size_t out_len) {
  uint64_t block_counter = seek / (2 * RC_B3_OUT_LEN);
  size_t offset = (size_t)(seek % (2 * RC_B3_OUT_LEN));
  uint32_t words[16];
  uint8_t bytes[2 * RC_B3_OUT_LEN];
  while (out_len > 0) {
    rc_b3_compress_portable(o->input_cv, o->block, o->block_len, block_counter,
                            (uint8_t)(o->flags | RC_B3_ROOT), words);
    rc_b3_store_words(bytes, words, 16);
    size_t n = sizeof(bytes) - offset;
    if (n > out_len) n = out_len;
    memcpy(out, bytes + offset, n);
    out += n;
    out_len -= n;
    offset = 0;
    block_counter++;
  }
}

static output_t parent_output(const uint8_t block[RC_B3_BLOCK_LEN], const uint32_t key[8],
                              uint8_t flags) {
  output_t o;
  memcpy(o.input_cv, key, sizeof(o.input_cv));
  memcpy(o.block, block, RC_B3_BLOCK_LEN);
  o.block_len = RC_B3_BLOCK_LEN;
  o.counter = 0;
  o.flags = (uint8_t)(flags | RC_B3_PARENT);
  return o;
}

// ---- Chunk state ----

static void chunk_state_init(rc_b3_chunk_state *cs, const uint32_t key[8], uint8_t flags) {
  memcpy(cs->cv, key, sizeof(cs->cv));
  cs->chunk_counter = 0;
  memset(cs->buf, 0, sizeof(cs->buf));
  cs->buf_len = 0;
  cs->blocks_compressed = 0;
  cs->flags = flags;
}

static void chunk_state_reset(rc_b3_chunk_state *cs, const uint32_t key[8], uint64_t chunk_counter) {
  memcpy(cs->cv, key, sizeof(cs->cv));
  cs->chunk_counter = chunk_counter;
  cs->blocks_compressed = 0;
  memset(cs->buf, 0, sizeof(cs->buf));
  cs->buf_len = 0;
}

static size_t chunk_state_len(const rc_b3_chunk_state *cs) {
  return RC_B3_BLOCK_LEN * (size_t)cs->blocks_compressed + cs->buf_len;
}

static uint8_t chunk_state_start_flag(const rc_b3_chunk_state *cs) {
  return cs->blocks_compressed == 0 ? RC_B3_CHUNK_START : 0;
}

static void chunk_state_update(rc_b3_chunk_state *cs, const uint8_t *input, size_t input_len) {
  if (cs->buf_len > 0) {
    size_t take = RC_B3_BLOCK_LEN - cs->buf_len;
    if (take > input_len) take = input_len;
    memcpy(cs->buf + cs->buf_len, input, take);
    cs->buf_len += (uint8_t)take;
    input += take;
    input_len -= take;
    if (input_len > 0) {  // the buffered block is full and is not the chunk's last block
      rc_b3_compress_in_place(cs->cv, cs->buf, RC_B3_BLOCK_LEN, cs->chunk_counter,
                              (uint8_t)(cs->flags | chunk_state_start_flag(cs)));
      cs->blocks_compressed++;
      cs->buf_len = 0;
      memset(cs->buf, 0, sizeof(cs->buf));
    }
  }
  while (input_len > RC_B3_BLOCK_LEN) {
    rc_b3_compress_in_place(cs->cv, input, RC_B3_BLOCK_LEN, cs->chunk_counter,
                            (uint8_t)(cs->flags | chunk_state_start_flag(cs)));
    cs->blocks_compressed++;
    input += RC_B3_BLOCK_LEN;
    input_len -= RC_B3_BLOCK_LEN;
  }
  if (input_len > 0) {
    memcpy(cs->buf + cs->buf_len, input, input_len);
    cs->buf_len += (uint8_t)input_len;
  }
}

static output_t chunk_state_output(const rc_b3_chunk_state *cs) {
  output_t o;
  memcpy(o.input_cv, cs->cv, sizeof(o.input_cv));
  memset(o.block, 0, sizeof(o.block));
  memcpy(o.block, cs->buf, cs->buf_len);
  o.block_len = cs->buf_len;
  o.counter = cs->chunk_counter;
  o.flags = (uint8_t)(cs->flags | chunk_state_start_flag(cs) | RC_B3_CHUNK_END);
  return o;
}

// ---- Wide subtree hashing ----

static size_t degree_of(rc_b3_level level) { return rc_b3_level_degree(level); }

// Largest power of two (>= 1) not above x (x >= 1).
static uint64_t round_down_pow2(uint64_t x) {
  return (uint64_t)1 << (63 - __builtin_clzll(x | 1));
}

// Bytes in the left subtree of an input of `len` bytes (len > CHUNK_LEN): the largest
// power-of-two number of whole chunks that leaves at least one byte for the right side.
static size_t left_subtree_len(size_t len) {
  uint64_t full_chunks = (len - 1) / RC_B3_CHUNK_LEN;
  return (size_t)(round_down_pow2(full_chunks) * RC_B3_CHUNK_LEN);
}

// Hashes up to `degree` chunks in parallel (the last may be partial); writes their CVs.
static size_t compress_chunks_parallel(const uint8_t *input, size_t len, const uint32_t key[8],
                                       uint64_t chunk_counter, uint8_t flags, uint8_t *out,
                                       rc_b3_level level) {
  const uint8_t *ptrs[RC_B3_MAX_SIMD_DEGREE];
  size_t n = 0;
  while (len - n * RC_B3_CHUNK_LEN >= RC_B3_CHUNK_LEN) {
    ptrs[n] = input + n * RC_B3_CHUNK_LEN;
    n++;
  }
  rc_b3_hash_many(ptrs, n, RC_B3_CHUNK_LEN / RC_B3_BLOCK_LEN, key, chunk_counter, true, flags,
                  RC_B3_CHUNK_START, RC_B3_CHUNK_END, out, level);
  size_t rest = len - n * RC_B3_CHUNK_LEN;
  if (rest > 0) {
    rc_b3_chunk_state cs;
    chunk_state_init(&cs, key, flags);
    cs.chunk_counter = chunk_counter + n;
    chunk_state_update(&cs, input + n * RC_B3_CHUNK_LEN, rest);
    output_t o = chunk_state_output(&cs);
    output_chaining_value(&o, out + n * RC_B3_OUT_LEN);
    n++;
  }
  return n;
}

// Compresses pairs of CVs into parent CVs in parallel; an odd last CV is passed through.
static size_t compress_parents_parallel(const uint8_t *cvs, size_t num_cvs, const uint32_t key[8],
                                        uint8_t flags, uint8_t *out, rc_b3_level level) {
  const uint8_t *ptrs[RC_B3_MAX_SIMD_DEGREE_OR_2];
  size_t pairs = num_cvs / 2;
  for (size_t i = 0; i < pairs; i++) ptrs[i] = cvs + 2 * i * RC_B3_OUT_LEN;
  rc_b3_hash_many(ptrs, pairs, 1, key, 0, false, (uint8_t)(flags | RC_B3_PARENT), 0, 0, out, level);
  if (num_cvs & 1) {
    memcpy(out + pairs * RC_B3_OUT_LEN, cvs + 2 * pairs * RC_B3_OUT_LEN, RC_B3_OUT_LEN);
    return pairs + 1;
  }
  return pairs;
}

// Hashes a subtree (len >= 1, chunk_counter aligned to it), writing at most
// max(degree, 2) CVs that still need to be merged; never the root.
static size_t compress_subtree_wide(const uint8_t *input, size_t len, const uint32_t key[8],
                                    uint64_t chunk_counter, uint8_t flags, uint8_t *out,
                                    rc_b3_level level) {
  size_t degree = degree_of(level);
  if (len <= degree * RC_B3_CHUNK_LEN) {
    return compress_chunks_parallel(input, len, key, chunk_counter, flags, out, level);
  }
  size_t left_len = left_subtree_len(len);
  size_t right_len = len - left_len;
  uint64_t right_counter = chunk_counter + left_len / RC_B3_CHUNK_LEN;
  uint8_t cv_array[2 * RC_B3_MAX_SIMD_DEGREE_OR_2 * RC_B3_OUT_LEN];
  size_t left_n = compress_subtree_wide(input, left_len, key, chunk_counter, flags, cv_array, level);
  size_t right_n = compress_subtree_wide(input + left_len, right_len, key, right_counter, flags,
                                         cv_array + left_n * RC_B3_OUT_LEN, level);
  if (left_n == 1) {  // only with degree 1: keep the two CVs, the caller merges them
    memcpy(out, cv_array, 2 * RC_B3_OUT_LEN);
    return 2;
  }
  // The left side is a full power-of-two subtree, so it yields max(degree, 2) CVs and
  // pairing across the two halves never mixes unrelated subtrees.
  return compress_parents_parallel(cv_array, left_n + right_n, key, flags, out, level);
}

// Reduces a subtree of more than one chunk to the two CVs under its root.
static void compress_subtree_to_parent_node(const uint8_t *input, size_t len, const uint32_t key[8],
                                            uint64_t chunk_counter, uint8_t flags,
                                            uint8_t out[2 * RC_B3_OUT_LEN], rc_b3_level level) {
  uint8_t cv_array[2 * RC_B3_MAX_SIMD_DEGREE_OR_2 * RC_B3_OUT_LEN];
  size_t n = compress_subtree_wide(input, len, key, chunk_counter, flags, cv_array, level);
  while (n > 2) {
    uint8_t next[RC_B3_MAX_SIMD_DEGREE_OR_2 * RC_B3_OUT_LEN];
    n = compress_parents_parallel(cv_array, n, key, flags, next, level);
    memcpy(cv_array, next, n * RC_B3_OUT_LEN);
  }
  memcpy(out, cv_array, 2 * RC_B3_OUT_LEN);
}

// ---- Hasher ----

static void hasher_init_base(rc_b3_hasher *self, const uint32_t key[8], uint8_t flags,
                             rc_b3_level level) {
  memcpy(self->key, key, sizeof(self->key));
  chunk_state_init(&self->chunk, key, flags);
  self->cv_stack_len = 0;
  self->level = (uint8_t)rc_b3_clamp_level(level);
}

void rc_b3_hasher_init(rc_b3_hasher *self, rc_b3_level level) {
  hasher_init_base(self, RC_B3_IV, 0, level);
}

void rc_b3_hasher_init_keyed(rc_b3_hasher *self, const uint8_t key[RC_B3_KEY_LEN],
                             rc_b3_level level) {
  uint32_t words[8];
  rc_b3_load_words(words, key, 8);
  hasher_init_base(self, words, RC_B3_KEYED_HASH, level);
}

void rc_b3_hasher_init_derive_key(rc_b3_hasher *self, const void *context, size_t context_len,
                                  rc_b3_level level) {
  rc_b3_hasher ctx;
  hasher_init_base(&ctx, RC_B3_IV, RC_B3_DERIVE_KEY_CONTEXT, level);
  rc_b3_hasher_update(&ctx, context, context_len);
  uint8_t key[RC_B3_KEY_LEN];
  rc_b3_hasher_finalize(&ctx, key, sizeof(key));
  uint32_t words[8];
  rc_b3_load_words(words, key, 8);
  hasher_init_base(self, words, RC_B3_DERIVE_KEY_MATERIAL, level);
}

void rc_b3_hasher_reset(rc_b3_hasher *self) {
  chunk_state_reset(&self->chunk, self->key, 0);
  self->cv_stack_len = 0;
}

// Merges the stack down to popcount(total_chunks) entries: every completed subtree is
// merged only once we know more input follows it (so it cannot be the root).
static void merge_cv_stack(rc_b3_hasher *self, uint64_t total_chunks) {
  size_t post = (size_t)__builtin_popcountll(total_chunks);
  while (self->cv_stack_len > post) {
    uint8_t *pair = self->cv_stack + (self->cv_stack_len - 2) * RC_B3_OUT_LEN;
    output_t o = parent_output(pair, self->key, self->chunk.flags);
    output_chaining_value(&o, pair);
    self->cv_stack_len--;
  }
}

static void push_cv(rc_b3_hasher *self, const uint8_t cv[RC_B3_OUT_LEN], uint64_t chunk_counter) {
  merge_cv_stack(self, chunk_counter);
  memcpy(self->cv_stack + self->cv_stack_len * RC_B3_OUT_LEN, cv, RC_B3_OUT_LEN);
  self->cv_stack_len++;
}

void rc_b3_hasher_update(rc_b3_hasher *self, const void *input_v, size_t input_len) {
  if (input_len == 0) return;
  const uint8_t *input = (const uint8_t *)input_v;
  const rc_b3_level level = (rc_b3_level)self->level;

  // Finish a partly filled chunk first.
  if (chunk_state_len(&self->chunk) > 0) {
    size_t take = RC_B3_CHUNK_LEN - chunk_state_len(&self->chunk);
    if (take > input_len) take = input_len;
    chunk_state_update(&self->chunk, input, take);
    input += take;
    input_len -= take;
    if (input_len == 0) return;  // the chunk may be the last one: keep it
    output_t o = chunk_state_output(&self->chunk);
    uint8_t cv[RC_B3_OUT_LEN];
    output_chaining_value(&o, cv);
    push_cv(self, cv, self->chunk.chunk_counter);
    chunk_state_reset(&self->chunk, self->key, self->chunk.chunk_counter + 1);
  }

  // Whole subtrees, as large as the input and the current alignment allow; always leave
  // at least one byte for the chunk state, since the last chunk may be the root.
  while (input_len > RC_B3_CHUNK_LEN) {
    uint64_t subtree_len = round_down_pow2(input_len);
    uint64_t count_so_far = self->chunk.chunk_counter * RC_B3_CHUNK_LEN;
    while (((subtree_len - 1) & count_so_far) != 0) subtree_len /= 2;
    uint64_t subtree_chunks = subtree_len / RC_B3_CHUNK_LEN;
    const size_t degree = degree_of(level);
    if (degree > 1 && subtree_chunks < degree) {
      // The aligned subtree is narrower than the SIMD width (input position not a multiple
      // of degree chunks, or little input left). Hash whole chunks up to the next multiple
      // of degree in one SIMD call and push their CVs one by one. This may use up the input
      // exactly, like a subtree push: with the chunk state empty, finalize treats the last
      // pushed CV as the final node, and the lazily merged stack folds correctly.
      size_t avail = input_len / RC_B3_CHUNK_LEN;
      size_t to_boundary = degree - (size_t)(self->chunk.chunk_counter % degree);
      size_t k = avail < to_boundary ? avail : to_boundary;
      const uint8_t *ptrs[RC_B3_MAX_SIMD_DEGREE];
      uint8_t cvs[RC_B3_MAX_SIMD_DEGREE * RC_B3_OUT_LEN];
      for (size_t i = 0; i < k; i++) ptrs[i] = input + i * RC_B3_CHUNK_LEN;
      rc_b3_hash_many(ptrs, k, RC_B3_CHUNK_LEN / RC_B3_BLOCK_LEN, self->key,
                      self->chunk.chunk_counter, true, self->chunk.flags, RC_B3_CHUNK_START,
                      RC_B3_CHUNK_END, cvs, level);
      for (size_t i = 0; i < k; i++) {
        push_cv(self, cvs + i * RC_B3_OUT_LEN, self->chunk.chunk_counter + i);
      }
      self->chunk.chunk_counter += k;
      input += k * RC_B3_CHUNK_LEN;
      input_len -= k * RC_B3_CHUNK_LEN;
      continue;
    }
    if (subtree_len <= RC_B3_CHUNK_LEN) {
      rc_b3_chunk_state cs;
      chunk_state_init(&cs, self->key, self->chunk.flags);
      cs.chunk_counter = self->chunk.chunk_counter;
      chunk_state_update(&cs, input, (size_t)subtree_len);
      output_t o = chunk_state_output(&cs);
      uint8_t cv[RC_B3_OUT_LEN];
      output_chaining_value(&o, cv);
      push_cv(self, cv, cs.chunk_counter);
    } else {
      uint8_t pair[2 * RC_B3_OUT_LEN];
      compress_subtree_to_parent_node(input, (size_t)subtree_len, self->key,
                                      self->chunk.chunk_counter, self->chunk.flags, pair, level);
      push_cv(self, pair, self->chunk.chunk_counter);
      push_cv(self, pair + RC_B3_OUT_LEN, self->chunk.chunk_counter + subtree_chunks / 2);
    }
    self->chunk.chunk_counter += subtree_chunks;
    input += subtree_len;
    input_len -= (size_t)subtree_len;
  }

  if (input_len > 0) {
    chunk_state_update(&self->chunk, input, input_len);
    merge_cv_stack(self, self->chunk.chunk_counter);
  }
}

void rc_b3_hasher_finalize_seek(const rc_b3_hasher *self, uint64_t seek, uint8_t *out,
                                size_t out_len) {
  if (out_len == 0) return;
  output_t o;
  if (self->cv_stack_len == 0) {
    o = chunk_state_output(&self->chunk);
  } else {
    size_t remaining;
    if (chunk_state_len(&self->chunk) > 0) {
      o = chunk_state_output(&self->chunk);
      remaining = self->cv_stack_len;
    } else {
      o = parent_output(self->cv_stack + (self->cv_stack_len - 2) * RC_B3_OUT_LEN, self->key,
                        self->chunk.flags);
      remaining = self->cv_stack_len - 2u;
    }
    while (remaining > 0) {
      remaining--;
      uint8_t block[RC_B3_BLOCK_LEN];
      memcpy(block, self->cv_stack + remaining * RC_B3_OUT_LEN, RC_B3_OUT_LEN);
      output_chaining_value(&o, block + RC_B3_OUT_LEN);
      o = parent_output(block, self->key, self->chunk.flags);
    }
  }
  output_root_bytes(&o, seek, out, out_len);
}

void rc_b3_hasher_finalize(const rc_b3_hasher *self, uint8_t *out, size_t out_len) {
  rc_b3_hasher_finalize_seek(self, 0, out, out_len);
}

void rc_b3_hash(const void *input, size_t input_len, uint8_t out[RC_B3_OUT_LEN],
                rc_b3_level level) {
  if (input_len > RC_B3_CHUNK_LEN) {
    // The whole input is known, so the root is a parent node: hash every chunk (the last
    // one included) with the wide subtree code, whatever the length.
    rc_b3_level lv = rc_b3_clamp_level(level);
    uint8_t pair[2 * RC_B3_OUT_LEN];
    compress_subtree_to_parent_node((const uint8_t *)input, input_len, RC_B3_IV, 0, 0, pair, lv);
    output_t root = parent_output(pair, RC_B3_IV, 0);
    output_root_bytes(&root, 0, out, RC_B3_OUT_LEN);
    return;
  }
  rc_b3_hasher h;
  rc_b3_hasher_init(&h, level);
  rc_b3_hasher_update(&h, input, input_len);
  rc_b3_hasher_finalize(&h, out, RC_B3_OUT_LEN);
}

// ---- Subtrees hashed elsewhere (multi-threaded hashing of one input) ----

void rc_b3_hasher_subtree_children(const rc_b3_hasher *self, const void *input, size_t len,
                                   uint64_t chunk_counter, uint8_t out[2 * RC_B3_OUT_LEN]) {
  compress_subtree_to_parent_node((const uint8_t *)input, len, self->key, chunk_counter,
                                  self->chunk.flags, out, (rc_b3_level)self->level);
}

uint64_t rc_b3_hasher_next_chunk(const rc_b3_hasher *self) {
  return chunk_state_len(&self->chunk) == 0 ? self->chunk.chunk_counter : UINT64_MAX;
}

void rc_b3_hasher_push_subtree(rc_b3_hasher *self, const uint8_t children[2 * RC_B3_OUT_LEN],
                               size_t len) {
  uint64_t chunks = len / RC_B3_CHUNK_LEN;
  push_cv(self, children, self->chunk.chunk_counter);
  push_cv(self, children + RC_B3_OUT_LEN, self->chunk.chunk_counter + chunks / 2);
  self->chunk.chunk_counter += chunks;
}
