// Rusty Coin proof-of-work search: BLAKE3-256 of the 128-byte block header.
//
// OpenCL C 1.2, no extensions. Uses the BLAKE3 compression macros of
// blake3_compress.cl, which the host prepends (KernelSources).
//
// The header is one BLAKE3 chunk of two 64-byte blocks. The host compresses
// block 0 (header bytes 0..63) once into a midstate; each nonce then costs one
// compression of block 1 (header bytes 64..127; the nonce is message words 14
// and 15) with counter 0, block_len 64, flags CHUNK_END|ROOT, starting from the
// midstate. See README.md for the host contract.

// Byte swap without extensions: turns a little-endian output word into the
// big-endian 32-bit digit used for the target comparison.
#define B3_BSWAP32(x) (rotate((x) & 0x00FF00FFu, 24u) | rotate((x) & 0xFF00FF00u, 8u))

// ---------------------------------------------------------------------------
// PoW kernel
// ---------------------------------------------------------------------------

// Compile-time parameters of the per-nonce compression.
#define POW_COUNTER_LO 0u
#define POW_COUNTER_HI 0u
#define POW_BLOCK_LEN 64u
#define POW_FLAGS 10u /* CHUNK_END (2) | ROOT (8) */

// One step of the 256-bit compare hash <= target, most significant digit
// first: the first differing digit decides; all digits equal is a hit. Uses the
// locals ok/decided of pow_search. Written without an array so compilers do
// not spill the digits to private (scratch) memory.
#define POW_CMP_DIGIT(k, h_be)                          \
  do {                                                  \
    const uint hk = (h_be), tk = target_words[k];       \
    if (!decided && hk != tk) {                         \
      ok = (hk < tk) ? 1u : 0u;                         \
      decided = 1u;                                     \
    }                                                   \
  } while (0)

// midstate:     8 words, chaining value after header block 0 (CHUNK_START, counter 0, len 64).
// block1:       16 words, header bytes 64..127 as little-endian u32; words 14/15 ignored.
// start_nonce:  first nonce of the launch; item g tries start_nonce + g*nonces_per_item + i
//               for i in [0, nonces_per_item), all with wrapping 64-bit arithmetic.
// target_words: 8 words, the 256-bit target as big-endian digits, [0] most significant.
// result_count: incremented once per hit (may exceed max_results: overflow signal).
// results:      hit nonces, stored only at indices < max_results, in no particular order.
__kernel void pow_search(__constant uint *midstate,
                         __constant uint *block1,
                         ulong start_nonce,
                         uint nonces_per_item,
                         __constant uint *target_words,
                         __global uint *result_count,
                         __global ulong *results,
                         uint max_results)
{
  const uint cv0 = midstate[0], cv1 = midstate[1], cv2 = midstate[2], cv3 = midstate[3];
  const uint cv4 = midstate[4], cv5 = midstate[5], cv6 = midstate[6], cv7 = midstate[7];

  const uint m0 = block1[0], m1 = block1[1], m2 = block1[2], m3 = block1[3];
  const uint m4 = block1[4], m5 = block1[5], m6 = block1[6], m7 = block1[7];
  const uint m8 = block1[8], m9 = block1[9], m10 = block1[10], m11 = block1[11];
  const uint m12 = block1[12], m13 = block1[13];

  const uint t0 = target_words[0];

  ulong nonce = start_nonce + (ulong)get_global_id(0) * (ulong)nonces_per_item;

  for (uint i = 0; i < nonces_per_item; ++i, ++nonce) {
    const uint m14 = (uint)nonce;
    const uint m15 = (uint)(nonce >> 32);

    uint v0 = cv0, v1 = cv1, v2 = cv2, v3 = cv3;
    uint v4 = cv4, v5 = cv5, v6 = cv6, v7 = cv7;
    uint v8 = B3_IV0, v9 = B3_IV1, v10 = B3_IV2, v11 = B3_IV3;
    uint v12 = POW_COUNTER_LO, v13 = POW_COUNTER_HI, v14 = POW_BLOCK_LEN, v15 = POW_FLAGS;

    B3_ROUNDS;

    // Early reject on the most significant 32 bits of the hash.
    const uint top = B3_BSWAP32(v0 ^ v8);
    if (top > t0) {
      continue;
    }

    // Full 256-bit big-endian compare, hash <= target (see POW_CMP_DIGIT).
    uint ok = 1u, decided = 0u;
    POW_CMP_DIGIT(0, top);
    POW_CMP_DIGIT(1, B3_BSWAP32(v1 ^ v9));
    POW_CMP_DIGIT(2, B3_BSWAP32(v2 ^ v10));
    POW_CMP_DIGIT(3, B3_BSWAP32(v3 ^ v11));
    POW_CMP_DIGIT(4, B3_BSWAP32(v4 ^ v12));
    POW_CMP_DIGIT(5, B3_BSWAP32(v5 ^ v13));
    POW_CMP_DIGIT(6, B3_BSWAP32(v6 ^ v14));
    POW_CMP_DIGIT(7, B3_BSWAP32(v7 ^ v15));
    if (ok) {
      const uint idx = atomic_inc(result_count);
      if (idx < max_results) {
        results[idx] = nonce;
      }
    }
  }
}
