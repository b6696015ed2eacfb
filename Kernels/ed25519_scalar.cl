/*
 * Ed25519 on the device, part 4 of 5: scalars mod l (reduction, canonical check,
 * signed digits).
 */

/* l = 2^252 + 27742317777372353535851937790883648493, 32-bit little-endian words */
__constant uint SC_L[8] = {0x5cf5d3edu, 0x5812631au, 0xa2f79cd6u, 0x14def9deu,
                           0u, 0u, 0u, 0x10000000u};

/* ---------------------------------------------------------------- scalars */

/* 2^252 = 666643 + 470296*2^21 + 654183*2^42 - 997805*2^63 + 136657*2^84 - 683901*2^105 (mod l) */
static void sc_fold(long *s, int i, long c) {
  s[i] += c * 666643L;
  s[i + 1] += c * 470296L;
  s[i + 2] += c * 654183L;
  s[i + 3] -= c * 997805L;
  s[i + 4] += c * 136657L;
  s[i + 5] -= c * 683901L;
}

/* 512-bit little-endian integer (8 x 64-bit words) mod l -> 8 x 32-bit words, canonical */
static void sc_reduce512(uint out[8], const ulong x[8]) {
  long s[25];
  for (int j = 0; j < 25; j++) {
    int off = 21 * j, idx = off >> 6, sh = off & 63;
    ulong v = x[idx] >> sh;
    if (sh > 43 && idx < 7) v |= x[idx + 1] << (64 - sh);
    s[j] = (long)(v & 0x1fffffUL);
  }
  for (int i = 24; i >= 12; i--) {
    long c = s[i];
    s[i] = 0;
    sc_fold(s, i - 12, c);
    for (int j = 0; j < i - 1; j++) {
      long cc = s[j] >> 21;
      s[j] -= cc * (1L << 21);
      s[j + 1] += cc;
    }
  }
  /* now s[0..10] in [0, 2^21); bring the top limb into [0, 2^22) */
  for (int it = 0; it < 8; it++) {
    long c = s[11] >> 21;
    if (c == 0 || c == 1) break;
    s[11] -= c * (1L << 21);
    sc_fold(s, 0, c);
    for (int j = 0; j < 11; j++) {
      long cc = s[j] >> 21;
      s[j] -= cc * (1L << 21);
      s[j + 1] += cc;
    }
  }
  /* value < 2^253 < 2l: pack and subtract l at most once */
  ulong acc = 0;
  int nb = 0, o = 0;
  for (int j = 0; j < 12; j++) {
    acc |= (ulong)s[j] << nb;
    nb += 21;
    while (nb >= 32) {
      out[o++] = (uint)acc;
      acc >>= 32;
      nb -= 32;
    }
  }
  for (; o < 8; o++) {
    out[o] = (uint)acc;
    acc >>= 32;
  }
  int ge = 1; /* out >= l ? */
  for (int i = 7; i >= 0; i--) {
    if (out[i] != SC_L[i]) {
      ge = out[i] > SC_L[i];
      break;
    }
  }
  if (ge) {
    ulong borrow = 0;
    for (int i = 0; i < 8; i++) {
      ulong d = (ulong)out[i] - (ulong)SC_L[i] - borrow;
      out[i] = (uint)d;
      borrow = (d >> 63) & 1UL;
    }
  }
}

static int sc_is_canonical(const uint s[8]) { /* s < l */
  for (int i = 7; i >= 0; i--)
    if (s[i] != SC_L[i]) return s[i] < SC_L[i];
  return 0;
}

/* Signed radix-16 digits of a scalar < 2^253: e[i] in [-8, 7], sum e[i] 16^i. */
static void sc_digits16(char e[64], const uint s[8]) {
  int carry = 0;
  for (int i = 0; i < 64; i++) {
    int d = (int)((s[i >> 3] >> (4 * (i & 7))) & 15u) + carry;
    carry = (d + 8) >> 4;
    e[i] = (char)(d - carry * 16);
  }
}

/* Signed radix-256 digits of a scalar < 2^253: e[i] in [-128, 127], sum e[i] 256^i. */
static void sc_digits256(char e[32], const uint s[8]) {
  int carry = 0;
  for (int i = 0; i < 32; i++) {
    int d = (int)((s[i >> 2] >> (8 * (i & 3))) & 255u) + carry;
    carry = (d + 128) >> 8;
    e[i] = (char)(d - carry * 256);
  }
}
