/*
 * Ed25519 on the device, part 1 of 5: the field GF(2^255-19).
 * The host builds ed25519_field.cl, ed25519_group.cl, ed25519_sha512.cl,
 * ed25519_scalar.cl and ed25519_verify.cl as one program, in that order
 * (KernelSources.ed25519Verify); each part uses only the parts before it.
 *
 * Radix 2^25.5, ten signed 32-bit limbs (26,25,26,... bits),
 * 32x32->64 products accumulated in 64-bit. Invariant: any element passed to
 * fe_mul / fe_sq has |limb| <= 2^26.5 (the sum or difference of two carried
 * elements); carried elements have |limb| <= ~2^25.
 */

typedef struct { int v[10]; } fe;

__constant int FE_D[10] = {56195235, 13857412, 51736253, 6949390, 114729,
                           24766616, 60832955, 30306712, 48412415, 21499315};
__constant int FE_D2[10] = {45281625, 27714825, 36363642, 13898781, 229458,
                            15978800, 54557047, 27058993, 29715967, 9444199};
__constant int FE_SQRTM1[10] = {34513072, 25610706, 9377949, 3500415, 12389472,
                                33281959, 41962654, 31548777, 326685, 11406482};

/* ------------------------------------------------------------------ field */

static void fe_load_c(fe *h, __constant const int *c) {
#pragma unroll
  for (int i = 0; i < 10; i++) h->v[i] = c[i];
}
static void fe_0(fe *h) {
#pragma unroll
  for (int i = 0; i < 10; i++) h->v[i] = 0;
}
static void fe_1(fe *h) { fe_0(h); h->v[0] = 1; }
static void fe_add(fe *h, const fe *f, const fe *g) {
#pragma unroll
  for (int i = 0; i < 10; i++) h->v[i] = f->v[i] + g->v[i];
}
static void fe_sub(fe *h, const fe *f, const fe *g) {
#pragma unroll
  for (int i = 0; i < 10; i++) h->v[i] = f->v[i] - g->v[i];
}
static void fe_neg(fe *h, const fe *f) {
#pragma unroll
  for (int i = 0; i < 10; i++) h->v[i] = -f->v[i];
}

/* Carry 64-bit column sums into ten limbs (rounding carries, |limb| <= ~2^25). */
static void fe_carry_wide(fe *h, long r[10]) {
  long c;
  c = (r[0] + (1L << 25)) >> 26; r[1] += c; r[0] -= c * (1L << 26);
  c = (r[4] + (1L << 25)) >> 26; r[5] += c; r[4] -= c * (1L << 26);
  c = (r[1] + (1L << 24)) >> 25; r[2] += c; r[1] -= c * (1L << 25);
  c = (r[5] + (1L << 24)) >> 25; r[6] += c; r[5] -= c * (1L << 25);
  c = (r[2] + (1L << 25)) >> 26; r[3] += c; r[2] -= c * (1L << 26);
  c = (r[6] + (1L << 25)) >> 26; r[7] += c; r[6] -= c * (1L << 26);
  c = (r[3] + (1L << 24)) >> 25; r[4] += c; r[3] -= c * (1L << 25);
  c = (r[7] + (1L << 24)) >> 25; r[8] += c; r[7] -= c * (1L << 25);
  c = (r[4] + (1L << 25)) >> 26; r[5] += c; r[4] -= c * (1L << 26);
  c = (r[8] + (1L << 25)) >> 26; r[9] += c; r[8] -= c * (1L << 26);
  c = (r[9] + (1L << 24)) >> 25; r[0] += c * 19; r[9] -= c * (1L << 25);
  c = (r[0] + (1L << 25)) >> 26; r[1] += c; r[0] -= c * (1L << 26);
#pragma unroll
  for (int i = 0; i < 10; i++) h->v[i] = (int)r[i];
}

static void fe_carry(fe *h) {
  long r[10];
#pragma unroll
  for (int i = 0; i < 10; i++) r[i] = h->v[i];
  fe_carry_wide(h, r);
}

/* Limb i has weight 2^ceil(25.5 i). f_i g_j lands in column i+j (mod 10) with
   factor 2 when i and j are both odd, and factor 19 when i+j >= 10. */
static void fe_mul(fe *h, const fe *f, const fe *g) {
  int F[10], F2[10], G[10], G19[10];
#pragma unroll
  for (int i = 0; i < 10; i++) {
    F[i] = f->v[i];
    F2[i] = (i & 1) ? 2 * f->v[i] : f->v[i];
    G[i] = g->v[i];
    G19[i] = 19 * g->v[i];
  }
  long r[10];
#pragma unroll
  for (int k = 0; k < 10; k++) {
    long acc = 0;
#pragma unroll
    for (int i = 0; i < 10; i++) {
      int j = k - i;
      int a = (i & 1) && (j & 1) ? F2[i] : F[i]; /* j parity unchanged by +10 */
      if (j >= 0)
        acc += (long)a * (long)G[j];
      else
        acc += (long)a * (long)G19[j + 10];
    }
    r[k] = acc;
  }
  fe_carry_wide(h, r);
}

static void fe_sq(fe *h, const fe *f) {
  int F[10], F19[10];
#pragma unroll
  for (int i = 0; i < 10; i++) {
    F[i] = f->v[i];
    F19[i] = 19 * f->v[i];
  }
  long r[10];
#pragma unroll
  for (int k = 0; k < 10; k++) r[k] = 0;
#pragma unroll
  for (int i = 0; i < 10; i++) {
#pragma unroll
    for (int j = i; j < 10; j++) {
      int c = (i == j ? 1 : 2) * (((i & 1) && (j & 1)) ? 2 : 1);
      int k = i + j;
      if (k < 10)
        r[k] += (long)(F[i] * c) * (long)F[j];
      else
        r[k - 10] += (long)(F[i] * c) * (long)F19[j];
    }
  }
  fe_carry_wide(h, r);
}

static void fe_sqn(fe *h, const fe *f, int n) {
  fe_sq(h, f);
  for (int i = 1; i < n; i++) fe_sq(h, h);
}

/* Bit offsets of the limbs: ceil(25.5 i). */
#define FE_OFF(i) (((i) * 51 + 1) >> 1)
#define FE_BITS(i) (((i) & 1) ? 25 : 26)

/* 255-bit little-endian value (bit 255 ignored), may be >= p. Limbs in [0, 2^bits). */
static void fe_from_words(fe *h, const uint w[8]) {
#pragma unroll
  for (int i = 0; i < 10; i++) {
    int off = FE_OFF(i), idx = off >> 5, sh = off & 31;
    ulong x = w[idx] >> sh;
    if (sh + FE_BITS(i) > 32) x |= (ulong)w[idx + 1] << (32 - sh);
    h->v[i] = (int)(x & ((1u << FE_BITS(i)) - 1));
  }
}

/* Canonical (fully reduced) little-endian words. */
static void fe_to_words(uint w[8], const fe *f) {
  int h[10];
#pragma unroll
  for (int i = 0; i < 10; i++) h[i] = f->v[i];
  /* two floor-carry passes with the 2^255 = 19 fold, then one without:
     value ends in [0, 2^255) with every limb in [0, 2^bits). */
  for (int pass = 0; pass < 2; pass++) {
#pragma unroll
    for (int i = 0; i < 9; i++) {
      int c = h[i] >> FE_BITS(i);
      h[i] -= c * (1 << FE_BITS(i));
      h[i + 1] += c;
    }
    int c = h[9] >> 25;
    h[9] -= c * (1 << 25);
    h[0] += 19 * c;
  }
#pragma unroll
  for (int i = 0; i < 9; i++) {
    int c = h[i] >> FE_BITS(i);
    h[i] -= c * (1 << FE_BITS(i));
    h[i + 1] += c;
  }
  /* q = 1 iff value >= p, i.e. value + 19 >= 2^255 */
  int q = (h[0] + 19) >> 26;
#pragma unroll
  for (int i = 1; i < 10; i++) q = (h[i] + q) >> FE_BITS(i);
  h[0] += 19 * q;
#pragma unroll
  for (int i = 0; i < 9; i++) {
    int c = h[i] >> FE_BITS(i);
    h[i] -= c * (1 << FE_BITS(i));
    h[i + 1] += c;
  }
  h[9] &= (1 << 25) - 1;
  ulong acc = 0;
  int nb = 0, o = 0;
#pragma unroll
  for (int i = 0; i < 10; i++) {
    acc |= (ulong)(uint)h[i] << nb;
    nb += FE_BITS(i);
    if (nb >= 32) {
      w[o++] = (uint)acc;
      acc >>= 32;
      nb -= 32;
    }
  }
  w[7] = (uint)acc; /* 255 = 7*32 + 31 bits: the last word is flushed here */
}

static int fe_is_zero(const fe *f) {
  uint w[8];
  fe_to_words(w, f);
  uint o = 0;
  for (int i = 0; i < 8; i++) o |= w[i];
  return o == 0;
}
static int fe_is_odd(const fe *f) {
  uint w[8];
  fe_to_words(w, f);
  return (int)(w[0] & 1u);
}

/* z^(2^250 - 1) into t250, z^11 into z11 */
static void fe_pow_chain(fe *t250, fe *z11, const fe *z) {
  fe z2, z9, t5, t10, t20, t50, t100, t;
  fe_sq(&z2, z);                 /* 2 */
  fe_sqn(&t, &z2, 2);            /* 8 */
  fe_mul(&z9, &t, z);            /* 9 */
  fe_mul(z11, &z9, &z2);         /* 11 */
  fe_sq(&t, z11);                /* 22 */
  fe_mul(&t5, &t, &z9);          /* 2^5 - 1 */
  fe_sqn(&t, &t5, 5);
  fe_mul(&t10, &t, &t5);         /* 2^10 - 1 */
  fe_sqn(&t, &t10, 10);
  fe_mul(&t20, &t, &t10);        /* 2^20 - 1 */
  fe_sqn(&t, &t20, 20);
  fe_mul(&t, &t, &t20);          /* 2^40 - 1 */
  fe_sqn(&t, &t, 10);
  fe_mul(&t50, &t, &t10);        /* 2^50 - 1 */
  fe_sqn(&t, &t50, 50);
  fe_mul(&t100, &t, &t50);       /* 2^100 - 1 */
  fe_sqn(&t, &t100, 100);
  fe_mul(&t, &t, &t100);         /* 2^200 - 1 */
  fe_sqn(&t, &t, 50);
  fe_mul(t250, &t, &t50);        /* 2^250 - 1 */
}

static void fe_pow22523(fe *out, const fe *z) { /* z^(2^252 - 3) */
  fe t, z11;
  fe_pow_chain(&t, &z11, z);
  fe_sqn(&t, &t, 2);
  fe_mul(out, &t, z);
}

static void fe_invert(fe *out, const fe *z) { /* z^(2^255 - 21) */
  fe t, z11;
  fe_pow_chain(&t, &z11, z);
  fe_sqn(&t, &t, 5);
  fe_mul(out, &t, &z11);
}
