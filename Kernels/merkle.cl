// Rusty Coin Merkle tree: one level of keyed BLAKE3 parents per launch.
//
// OpenCL C 1.2, no extensions. Self-contained (the BLAKE3 compression macros are
// repeated verbatim in pow_search.cl so each file builds on its own).
//
// parent = keyed_hash(K, left32 || right32): a single compression of the 64-byte
// message with flags CHUNK_START|CHUNK_END|ROOT|KEYED_HASH, counter 0, block_len
// 64, starting from the key words. An odd last node is promoted unchanged. The
// host calls this level by level, ping-ponging between two device buffers. See
// README.md for the host contract.

// Nodes are read and written as little-endian u32 words straight from the
// 32-byte node buffers, which needs a little-endian device (every GPU/CPU
// OpenCL device in practice).
#ifndef __ENDIAN_LITTLE__
#error "merkle.cl expects a little-endian OpenCL device"
#endif

// ---------------------------------------------------------------------------
// BLAKE3 compression (shared text with pow_search.cl)
// ---------------------------------------------------------------------------

#define B3_IV0 0x6A09E667u
#define B3_IV1 0xBB67AE85u
#define B3_IV2 0x3C6EF372u
#define B3_IV3 0xA54FF53Au

// rotate() is a left rotation: rotr 16/12/8/7 == rotl 16/20/24/25.
#define B3_G(a, b, c, d, x, y)          \
  do {                                  \
    a += b + (x);                       \
    d = rotate(d ^ a, 16u);             \
    c += d;                             \
    b = rotate(b ^ c, 20u);             \
    a += b + (y);                       \
    d = rotate(d ^ a, 24u);             \
    c += d;                             \
    b = rotate(b ^ c, 25u);             \
  } while (0)

// One round: four column G's then four diagonal G's. The arguments are the
// message word indices for this round (the permuted schedule), pasted onto the
// names m0..m15 so the schedule is resolved entirely at compile time.
#define B3_ROUND(s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13, s14, s15) \
  do {                                                                               \
    B3_G(v0, v4, v8,  v12, m##s0,  m##s1);                                           \
    B3_G(v1, v5, v9,  v13, m##s2,  m##s3);                                           \
    B3_G(v2, v6, v10, v14, m##s4,  m##s5);                                           \
    B3_G(v3, v7, v11, v15, m##s6,  m##s7);                                           \
    B3_G(v0, v5, v10, v15, m##s8,  m##s9);                                           \
    B3_G(v1, v6, v11, v12, m##s10, m##s11);                                          \
    B3_G(v2, v7, v8,  v13, m##s12, m##s13);                                          \
    B3_G(v3, v4, v9,  v14, m##s14, m##s15);                                          \
  } while (0)

// The 7 rounds, fully unrolled. Row r is the identity schedule permuted r times
// by BLAKE3's MSG_PERMUTATION {2,6,3,10,7,0,4,13,1,11,12,5,9,14,15,8}.
// Operates on local variables v0..v15 (state) and m0..m15 (message words).
#define B3_ROUNDS                                                   \
  do {                                                              \
    B3_ROUND( 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15); \
    B3_ROUND( 2,  6,  3, 10,  7,  0,  4, 13,  1, 11, 12,  5,  9, 14, 15,  8); \
    B3_ROUND( 3,  4, 10, 12, 13,  2,  7, 14,  6,  5,  9,  0, 11, 15,  8,  1); \
    B3_ROUND(10,  7, 12,  9, 14,  3, 13, 15,  4,  0, 11,  2,  5,  8,  1,  6); \
    B3_ROUND(12, 13,  9, 11, 15, 10, 14,  8,  7,  2,  5,  3,  0,  1,  6,  4); \
    B3_ROUND( 9, 14, 11,  5,  8, 12, 15,  1, 13,  3,  0, 10,  2,  6,  4,  7); \
    B3_ROUND(11, 15,  5,  0,  1,  9,  8,  6, 14, 10,  2, 12,  3,  4,  7, 13); \
  } while (0)

// ---------------------------------------------------------------------------
// Merkle level kernel
// ---------------------------------------------------------------------------

#define MERKLE_BLOCK_LEN 64u
#define MERKLE_FLAGS 27u /* CHUNK_START (1) | CHUNK_END (2) | ROOT (8) | KEYED_HASH (16) */

// in_nodes:  n_nodes nodes of 8 words (32 bytes) each.
// out_nodes: (n_nodes + 1) / 2 nodes; must not alias in_nodes.
// key:       8 words, the 32-byte key as little-endian u32.
// Global size: at least (n_nodes + 1) / 2 work-items; extra items do nothing.
__kernel void merkle_level(__global const uint *in_nodes,
                           uint n_nodes,
                           __global uint *out_nodes,
                           __constant uint *key)
{
  const uint n_out = (n_nodes >> 1) + (n_nodes & 1u);
  const size_t gid = get_global_id(0);
  if (gid >= (size_t)n_out) {
    return;
  }

  __global const uint *left = in_nodes + gid * 16;
  __global uint *out = out_nodes + gid * 8;

  if (2 * gid + 1 >= (size_t)n_nodes) {
    // Odd last node: promoted unchanged.
    for (int k = 0; k < 8; ++k) {
      out[k] = left[k];
    }
    return;
  }

  const uint m0 = left[0], m1 = left[1], m2 = left[2], m3 = left[3];
  const uint m4 = left[4], m5 = left[5], m6 = left[6], m7 = left[7];
  const uint m8 = left[8], m9 = left[9], m10 = left[10], m11 = left[11];
  const uint m12 = left[12], m13 = left[13], m14 = left[14], m15 = left[15];

  uint v0 = key[0], v1 = key[1], v2 = key[2], v3 = key[3];
  uint v4 = key[4], v5 = key[5], v6 = key[6], v7 = key[7];
  uint v8 = B3_IV0, v9 = B3_IV1, v10 = B3_IV2, v11 = B3_IV3;
  uint v12 = 0u, v13 = 0u, v14 = MERKLE_BLOCK_LEN, v15 = MERKLE_FLAGS;

  B3_ROUNDS;

  out[0] = v0 ^ v8;
  out[1] = v1 ^ v9;
  out[2] = v2 ^ v10;
  out[3] = v3 ^ v11;
  out[4] = v4 ^ v12;
  out[5] = v5 ^ v13;
  out[6] = v6 ^ v14;
  out[7] = v7 ^ v15;
}
