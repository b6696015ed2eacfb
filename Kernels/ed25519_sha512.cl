/*
 * Ed25519 on the device, part 3 of 5: SHA-512 of R || A || M, read straight from
 * the global buffers.
 */

/* ---------------------------------------------------------------- SHA-512 */

__constant ulong SHA512_K[80] = {
    0x428a2f98d728ae22UL, 0x7137449123ef65cdUL, 0xb5c0fbcfec4d3b2fUL, 0xe9b5dba58189dbbcUL,
    0x3956c25bf348b538UL, 0x59f111f1b605d019UL, 0x923f82a4af194f9bUL, 0xab1c5ed5da6d8118UL,
    0xd807aa98a3030242UL, 0x12835b0145706fbeUL, 0x243185be4ee4b28cUL, 0x550c7dc3d5ffb4e2UL,
    0x72be5d74f27b896fUL, 0x80deb1fe3b1696b1UL, 0x9bdc06a725c71235UL, 0xc19bf174cf692694UL,
    0xe49b69c19ef14ad2UL, 0xefbe4786384f25e3UL, 0x0fc19dc68b8cd5b5UL, 0x240ca1cc77ac9c65UL,
    0x2de92c6f592b0275UL, 0x4a7484aa6ea6e483UL, 0x5cb0a9dcbd41fbd4UL, 0x76f988da831153b5UL,
    0x983e5152ee66dfabUL, 0xa831c66d2db43210UL, 0xb00327c898fb213fUL, 0xbf597fc7beef0ee4UL,
    0xc6e00bf33da88fc2UL, 0xd5a79147930aa725UL, 0x06ca6351e003826fUL, 0x142929670a0e6e70UL,
    0x27b70a8546d22ffcUL, 0x2e1b21385c26c926UL, 0x4d2c6dfc5ac42aedUL, 0x53380d139d95b3dfUL,
    0x650a73548baf63deUL, 0x766a0abb3c77b2a8UL, 0x81c2c92e47edaee6UL, 0x92722c851482353bUL,
    0xa2bfe8a14cf10364UL, 0xa81a664bbc423001UL, 0xc24b8b70d0f89791UL, 0xc76c51a30654be30UL,
    0xd192e819d6ef5218UL, 0xd69906245565a910UL, 0xf40e35855771202aUL, 0x106aa07032bbd1b8UL,
    0x19a4c116b8d2d0c8UL, 0x1e376c085141ab53UL, 0x2748774cdf8eeb99UL, 0x34b0bcb5e19b48a8UL,
    0x391c0cb3c5c95a63UL, 0x4ed8aa4ae3418acbUL, 0x5b9cca4f7763e373UL, 0x682e6ff3d6b2b8a3UL,
    0x748f82ee5defb2fcUL, 0x78a5636f43172f60UL, 0x84c87814a1f0ab72UL, 0x8cc702081a6439ecUL,
    0x90befffa23631e28UL, 0xa4506cebde82bde9UL, 0xbef9a3f7b2c67915UL, 0xc67178f2e372532bUL,
    0xca273eceea26619cUL, 0xd186b8c721c0c207UL, 0xeada7dd6cde0eb1eUL, 0xf57d4f7fee6ed178UL,
    0x06f067aa72176fbaUL, 0x0a637dc5a2c898a6UL, 0x113f9804bef90daeUL, 0x1b710b35131c471bUL,
    0x28db77f523047d84UL, 0x32caab7b40c72493UL, 0x3c9ebe0a15c9bebcUL, 0x431d67c49c100d4cUL,
    0x4cc5d4becb3e42b6UL, 0x597f299cfc657e2aUL, 0x5fcb6fab3ad6faecUL, 0x6c44198c4a475817UL};

#define ROTR64(x, n) rotate((x), (ulong)(64 - (n)))

static void sha512_block(ulong st[8], ulong W[16]) {
  ulong a = st[0], b = st[1], c = st[2], d = st[3], e = st[4], f = st[5], g = st[6], h = st[7];
  for (int t = 0; t < 80; t++) {
    ulong w;
    if (t < 16) {
      w = W[t];
    } else {
      ulong w15 = W[(t + 1) & 15], w2 = W[(t + 14) & 15];
      ulong s0 = ROTR64(w15, 1) ^ ROTR64(w15, 8) ^ (w15 >> 7);
      ulong s1 = ROTR64(w2, 19) ^ ROTR64(w2, 61) ^ (w2 >> 6);
      w = W[t & 15] + s0 + W[(t + 9) & 15] + s1;
      W[t & 15] = w;
    }
    ulong S1 = ROTR64(e, 14) ^ ROTR64(e, 18) ^ ROTR64(e, 41);
    ulong ch = (e & f) ^ (~e & g);
    ulong t1 = h + S1 + ch + SHA512_K[t] + w;
    ulong S0 = ROTR64(a, 28) ^ ROTR64(a, 34) ^ ROTR64(a, 39);
    ulong maj = (a & b) ^ (a & c) ^ (b & c);
    ulong t2 = S0 + maj;
    h = g; g = f; f = e; e = d + t1;
    d = c; c = b; b = a; a = t1 + t2;
  }
  st[0] += a; st[1] += b; st[2] += c; st[3] += d;
  st[4] += e; st[5] += f; st[6] += g; st[7] += h;
}

/* Byte p of the padded stream R || A || M || 0x80 || 0... (length word handled by caller). */
static uint msg_byte(uint p, __global const uchar *sig, __global const uchar *pk,
                     __global const uchar *msg, uint mlen) {
  if (p < 32u) return sig[p];
  if (p < 64u) return pk[p - 32u];
  p -= 64u;
  if (p < mlen) return msg[p];
  return p == mlen ? 0x80u : 0u;
}

/* digest as 64-bit little-endian words of the 512-bit integer */
static void sha512_ram(ulong out[8], __global const uchar *sig, __global const uchar *pk,
                       __global const uchar *msg, uint mlen) {
  ulong st[8] = {0x6a09e667f3bcc908UL, 0xbb67ae8584caa73bUL, 0x3c6ef372fe94f82bUL,
                 0xa54ff53a5f1d36f1UL, 0x510e527fade682d1UL, 0x9b05688c2b3e6c1fUL,
                 0x1f83d9abfb41bd6bUL, 0x5be0cd19137e2179UL};
  uint total = 64u + mlen;
  uint nblocks = (total + 17u + 127u) >> 7;
  ulong W[16];
  for (uint blk = 0; blk < nblocks; blk++) {
    for (int t = 0; t < 16; t++) {
      uint base = (blk << 7) + 8u * (uint)t;
      ulong w = 0;
      if (blk == nblocks - 1u && t == 15) {
        w = (ulong)total << 3;
      } else if (base <= total) {
        for (int b = 0; b < 8; b++) w = (w << 8) | msg_byte(base + (uint)b, sig, pk, msg, mlen);
      }
      W[t] = w;
    }
    sha512_block(st, W);
  }
  /* digest byte i = byte (7 - i%8) of st[i/8]; as a little-endian integer: */
  for (int i = 0; i < 8; i++) {
    ulong x = st[i], y = 0;
    for (int b = 0; b < 8; b++) {
      y = (y << 8) | (x & 0xffUL);
      x >>= 8;
    }
    out[i] = y;
  }
}
