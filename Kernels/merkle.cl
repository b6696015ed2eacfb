// Rusty Coin Merkle tree: one level of keyed BLAKE3 parents per launch.
//
// OpenCL C 1.2, no extensions. Uses the BLAKE3 compression macros of
// blake3_compress.cl, which the host prepends (KernelSources).
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
