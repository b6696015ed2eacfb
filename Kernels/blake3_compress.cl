// BLAKE3 compression for the Rusty Coin kernels (OpenCL C 1.2, no extensions).
//
// Not a kernel file of its own: the host prepends this text to pow_search.cl and
// merkle.cl when it builds them (KernelSources in Sources/OpenCLKernels), so the
// rounds exist once.

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
