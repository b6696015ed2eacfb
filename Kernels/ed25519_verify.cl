/*
 * Ed25519 signature verification under ZIP-215, one signature per work-item.
 * OpenCL C 1.2, no extensions. Build with "-cl-std=CL1.2".
 *
 * Rules (identical to Sources/CEd25519, rc_ed25519_verify):
 *   - A (public key) and R (signature bytes 0..31) must decode to curve points;
 *     y >= p is accepted and reduced mod p; x = 0 with the sign bit set is accepted;
 *   - S (signature bytes 32..63, little-endian) must be < l;
 *   - k = SHA-512(R || A || M) mod l over the original encodings;
 *   - accept iff [8]([S]B - [k]A - R) is the identity.
 * Everything here is variable time: every input is public.
 *
 * Field: GF(2^255-19) in radix 2^25.5, ten signed 32-bit limbs (26,25,26,... bits),
 * 32x32->64 products accumulated in 64-bit. Invariant: any element passed to
 * fe_mul / fe_sq has |limb| <= 2^26.5 (the sum or difference of two carried
 * elements); carried elements have |limb| <= ~2^25.
 *
 * Host interface: see Kernels/README.md, section "ed25519_verify.cl".
 */

typedef struct { int v[10]; } fe;
typedef struct { fe X, Y, Z; } ge_p2;
typedef struct { fe X, Y, Z, T; } ge_p3;
typedef struct { fe E, F, G, H; } ge_p1p1;     /* point (E*F : G*H : F*G : E*H) */
typedef struct { fe ypx, ymx, Z2, T2d; } ge_cached; /* (Y+X, Y-X, 2Z, 2dT) */
typedef struct { fe ypx, ymx, xy2d; } ge_niels;   /* affine (y+x, y-x, 2dxy) */

#define ED_TABLE_ENTRIES 129       /* jB for j = 0 (identity), 1, ..., 128 */
#define ED_TABLE_INTS_PER_ENTRY 30 /* 3 field elements x 10 limbs */

__constant int FE_D[10] = {56195235, 13857412, 51736253, 6949390, 114729,
                           24766616, 60832955, 30306712, 48412415, 21499315};
__constant int FE_D2[10] = {45281625, 27714825, 36363642, 13898781, 229458,
                            15978800, 54557047, 27058993, 29715967, 9444199};
__constant int FE_SQRTM1[10] = {34513072, 25610706, 9377949, 3500415, 12389472,
                                33281959, 41962654, 31548777, 326685, 11406482};
/* l = 2^252 + 27742317777372353535851937790883648493, 32-bit little-endian words */
__constant uint SC_L[8] = {0x5cf5d3edu, 0x5812631au, 0xa2f79cd6u, 0x14def9deu,
                           0u, 0u, 0u, 0x10000000u};

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

/* ------------------------------------------------------------------ group */

static void ge_p1p1_to_p2(ge_p2 *r, const ge_p1p1 *p) {
  fe_mul(&r->X, &p->E, &p->F);
  fe_mul(&r->Y, &p->G, &p->H);
  fe_mul(&r->Z, &p->F, &p->G);
}
static void ge_p1p1_to_p3(ge_p3 *r, const ge_p1p1 *p) {
  fe_mul(&r->X, &p->E, &p->F);
  fe_mul(&r->Y, &p->G, &p->H);
  fe_mul(&r->Z, &p->F, &p->G);
  fe_mul(&r->T, &p->E, &p->H);
}

/* dbl-2008-hwcd, a = -1, every output negated (same point). */
static void ge_p2_dbl(ge_p1p1 *r, const ge_p2 *p) {
  fe a, b, c, s;
  fe_sq(&a, &p->X);
  fe_sq(&b, &p->Y);
  fe_sq(&c, &p->Z);
  fe_add(&c, &c, &c);
  fe_add(&s, &p->X, &p->Y);
  fe_sq(&s, &s);
  fe_add(&r->H, &a, &b);
  fe_sub(&r->E, &r->H, &s);
  fe_carry(&r->E);
  fe_sub(&r->G, &a, &b);
  fe_add(&r->F, &c, &r->G);
  fe_carry(&r->F);
}

static void ge_p3_to_cached(ge_cached *r, const ge_p3 *p) {
  fe d2;
  fe_load_c(&d2, FE_D2);
  fe_add(&r->ypx, &p->Y, &p->X);
  fe_sub(&r->ymx, &p->Y, &p->X);
  fe_add(&r->Z2, &p->Z, &p->Z);
  fe_mul(&r->T2d, &p->T, &d2);
}

/* r = p + q (neg = 0) or p - q (neg = 1) */
static void ge_add_cached(ge_p1p1 *r, const ge_p3 *p, const ge_cached *q, int neg) {
  fe a, b, c, d, t;
  fe_sub(&t, &p->Y, &p->X);
  fe_mul(&a, &t, neg ? &q->ypx : &q->ymx);
  fe_add(&t, &p->Y, &p->X);
  fe_mul(&b, &t, neg ? &q->ymx : &q->ypx);
  fe_mul(&c, &p->T, &q->T2d);
  fe_mul(&d, &p->Z, &q->Z2);
  fe_sub(&r->E, &b, &a);
  fe_add(&r->H, &b, &a);
  if (neg) {
    fe_add(&r->F, &d, &c);
    fe_sub(&r->G, &d, &c);
  } else {
    fe_sub(&r->F, &d, &c);
    fe_add(&r->G, &d, &c);
  }
}

static void ge_add_niels(ge_p1p1 *r, const ge_p3 *p, const ge_niels *q, int neg) {
  fe a, b, c, d, t;
  fe_sub(&t, &p->Y, &p->X);
  fe_mul(&a, &t, neg ? &q->ypx : &q->ymx);
  fe_add(&t, &p->Y, &p->X);
  fe_mul(&b, &t, neg ? &q->ymx : &q->ypx);
  fe_mul(&c, &p->T, &q->xy2d);
  fe_add(&d, &p->Z, &p->Z);
  fe_carry(&d);
  fe_sub(&r->E, &b, &a);
  fe_add(&r->H, &b, &a);
  if (neg) {
    fe_add(&r->F, &d, &c);
    fe_sub(&r->G, &d, &c);
  } else {
    fe_sub(&r->F, &d, &c);
    fe_add(&r->G, &d, &c);
  }
}

static void load_words_g(uint w[8], __global const uchar *p) {
  for (int i = 0; i < 8; i++)
    w[i] = (uint)p[4 * i] | ((uint)p[4 * i + 1] << 8) | ((uint)p[4 * i + 2] << 16) |
           ((uint)p[4 * i + 3] << 24);
}

/* ZIP-215 decoding. Returns 1 iff the encoding is a curve point. */
static int ge_decode(ge_p3 *h, const uint w[8]) {
  fe y, u, v, v3, x, t, one;
  fe_from_words(&y, w);
  fe_carry(&y);
  int sign = (int)(w[7] >> 31);
  fe_1(&one);
  fe_sq(&u, &y);
  fe_load_c(&t, FE_D);
  fe_mul(&v, &u, &t);
  fe_sub(&u, &u, &one);          /* y^2 - 1 */
  fe_add(&v, &v, &one);          /* d y^2 + 1 */
  fe_sq(&t, &v);
  fe_mul(&v3, &t, &v);           /* v^3 */
  fe_sq(&t, &v3);
  fe_mul(&t, &t, &v);            /* v^7 */
  fe_mul(&t, &t, &u);            /* u v^7 */
  fe_pow22523(&t, &t);
  fe_mul(&t, &t, &v3);
  fe_mul(&x, &t, &u);            /* u v^3 (u v^7)^((p-5)/8) */
  fe_sq(&t, &x);
  fe_mul(&t, &t, &v);            /* v x^2 */
  fe chk;
  fe_sub(&chk, &t, &u);
  if (!fe_is_zero(&chk)) {
    fe_add(&chk, &t, &u);
    if (!fe_is_zero(&chk)) return 0;
    fe_load_c(&t, FE_SQRTM1);
    fe_mul(&x, &x, &t);
  }
  if (fe_is_odd(&x) != sign) fe_neg(&x, &x); /* x = 0 with sign 1: stays 0 (ZIP-215) */
  h->X = x;
  h->Y = y;
  fe_1(&h->Z);
  fe_mul(&h->T, &x, &y);
  return 1;
}

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

/* out = d * P from tab[j] = jP (j = 0..8), d in [-8, 8]; no data-dependent branches. */
static void select_cached(ge_cached *out, const ge_cached tab[9], int d) {
  int neg = d < 0;
  const ge_cached *e = &tab[neg ? -d : d];
#pragma unroll
  for (int i = 0; i < 10; i++) {
    int p = e->ypx.v[i], m = e->ymx.v[i], t = e->T2d.v[i];
    out->ypx.v[i] = neg ? m : p;
    out->ymx.v[i] = neg ? p : m;
    out->Z2.v[i] = e->Z2.v[i];
    out->T2d.v[i] = neg ? -t : t;
  }
}

/* n = d * B from the table, d in [-128, 128]. The table is __global rather than
   __constant: neighbouring work-items read different entries, which a constant cache
   would serialise. */
static void select_niels(ge_niels *n, __global const int *table, int d) {
  int neg = d < 0;
  __global const int *e = table + (neg ? -d : d) * ED_TABLE_INTS_PER_ENTRY;
#pragma unroll
  for (int i = 0; i < 10; i++) {
    int p = e[i], m = e[10 + i], t = e[20 + i];
    n->ypx.v[i] = neg ? m : p;
    n->ymx.v[i] = neg ? p : m;
    n->xy2d.v[i] = neg ? -t : t;
  }
}

/* ---------------------------------------------------------------- kernels */

/* One ZIP-215 verification: 1 valid, 0 invalid. */
static int ed25519_verify_one(__global const uchar *pk, __global const uchar *sig,
                              __global const uchar *msg, uint mlen,
                              __global const int *base_table) {
  uint w[8], Sw[8], kw[8];
  load_words_g(Sw, sig + 32);
  if (!sc_is_canonical(Sw)) {
    return 0;
  }
  ge_p3 A, R;
  load_words_g(w, pk);
  if (!ge_decode(&A, w)) {
    return 0;
  }
  load_words_g(w, sig);
  if (!ge_decode(&R, w)) {
    return 0;
  }
  ulong hd[8];
  sha512_ram(hd, sig, pk, msg, mlen);
  sc_reduce512(kw, hd);

  /* Ai[j] = jA, j = 0..8 */
  ge_cached Ai[9];
  ge_p1p1 t;
  ge_p3 u;
  ge_p2 r;
  fe_1(&Ai[0].ypx); fe_1(&Ai[0].ymx); fe_1(&Ai[0].Z2); fe_add(&Ai[0].Z2, &Ai[0].Z2, &Ai[0].Z2);
  fe_0(&Ai[0].T2d);
  ge_p3_to_cached(&Ai[1], &A);
  u = A;
  for (int j = 2; j <= 8; j++) {
    ge_add_cached(&t, &u, &Ai[1], 0);
    ge_p1p1_to_p3(&u, &t);
    ge_p3_to_cached(&Ai[j], &u);
  }

  /* u = [S]B - [k]A, Straus with signed fixed windows: 4 bits for k, 8 bits for S.
     The control flow depends on nothing but the loop counter (uniform on GPUs). */
  char ea[64], eb[32];
  sc_digits16(ea, kw);
  sc_digits256(eb, Sw);
  fe_0(&u.X); fe_1(&u.Y); fe_1(&u.Z); fe_0(&u.T);
  for (int i = 63; i >= 0; i--) {
    if (i != 63) {
      for (int j = 0; j < 3; j++) {
        ge_p2_dbl(&t, &r);
        ge_p1p1_to_p2(&r, &t);
      }
      ge_p2_dbl(&t, &r);
      ge_p1p1_to_p3(&u, &t);
    }
    ge_cached c;
    select_cached(&c, Ai, -ea[i]);
    ge_add_cached(&t, &u, &c, 0);
    if ((i & 1) == 0) {
      ge_niels q;
      select_niels(&q, base_table, eb[i >> 1]);
      ge_p1p1_to_p3(&u, &t);
      ge_add_niels(&t, &u, &q, 0);
    }
    if (i > 0)
      ge_p1p1_to_p2(&r, &t);
    else
      ge_p1p1_to_p3(&u, &t);
  }

  /* u - R, times 8, identity? */
  ge_cached Rc;
  ge_p3_to_cached(&Rc, &R);
  ge_add_cached(&t, &u, &Rc, 1);
  ge_p1p1_to_p2(&r, &t);
  for (int j = 0; j < 3; j++) {
    ge_p2_dbl(&t, &r);
    ge_p1p1_to_p2(&r, &t);
  }
  fe d;
  fe_sub(&d, &r.Y, &r.Z);
  return fe_is_zero(&r.X) && fe_is_zero(&d);
}

/*
 * public_keys: 32*n bytes. signatures: 64*n bytes (R || S).
 * messages / msg_offsets: if msg_offsets is NULL, message i is the 32 bytes at
 *   messages + 32*i. Otherwise msg_offsets holds n+1 entries and message i is the
 *   bytes messages[msg_offsets[i] .. msg_offsets[i+1]) (any length, 0 included).
 * base_table: jB for j = 0..128 as affine Niels points, 30 ints each (README).
 * results[i]: 1 valid, 0 invalid.
 */
__kernel void ed25519_verify(__global const uchar *public_keys,
                             __global const uchar *signatures,
                             __global const uchar *messages,
                             __global const uint *msg_offsets,
                             __global const int *base_table,
                             uint n,
                             __global uchar *results) {
  uint gid = (uint)get_global_id(0);
  if (gid >= n) return;
  __global const uchar *pk = public_keys + (size_t)gid * 32u;
  __global const uchar *sig = signatures + (size_t)gid * 64u;
  __global const uchar *msg;
  uint mlen;
  if (msg_offsets) {
    uint o0 = msg_offsets[gid], o1 = msg_offsets[gid + 1u];
    msg = messages + o0;
    mlen = o1 - o0;
  } else {
    msg = messages + (size_t)gid * 32u;
    mlen = 32u;
  }

  results[gid] = (uchar)ed25519_verify_one(pk, sig, msg, mlen, base_table);
}

/*
 * Builds the base table on the device (one work-item; launch with global size 1):
 * entry j = jB for j = 0..128 (entry 0 is the identity) as affine Niels
 * (y+x, y-x, 2dxy), each coordinate fully reduced, ten limbs of 26,25,26,... bits
 * (limb i at bit ceil(25.5 i)). 129*30 ints. The host may equally compute it (README).
 */
__kernel void ed25519_base_table(__global int *table) {
  if (get_global_id(0) != 0) return;
  uint w[8];
  for (int i = 0; i < 8; i++) w[i] = 0x66666666u; /* B: y = 4/5, x even */
  w[0] = 0x66666658u;
  ge_p3 B, P, u;
  ge_p1p1 t;
  ge_cached cb;
  ge_decode(&B, w);
  ge_p3_to_cached(&cb, &B);
  fe d2;
  fe_load_c(&d2, FE_D2);
  fe_0(&P.X); fe_1(&P.Y); fe_1(&P.Z); fe_0(&P.T);
  for (int j = 0; j < ED_TABLE_ENTRIES; j++) {
    fe zi, x, y, o[3];
    fe_invert(&zi, &P.Z);
    fe_mul(&x, &P.X, &zi);
    fe_mul(&y, &P.Y, &zi);
    fe_add(&o[0], &y, &x);
    fe_sub(&o[1], &y, &x);
    fe_mul(&o[2], &x, &y);
    fe_mul(&o[2], &o[2], &d2);
    for (int c = 0; c < 3; c++) {
      fe_to_words(w, &o[c]);
      fe_from_words(&o[c], w);
      for (int l = 0; l < 10; l++) table[j * ED_TABLE_INTS_PER_ENTRY + c * 10 + l] = o[c].v[l];
    }
    ge_add_cached(&t, &P, &cb, 0);
    ge_p1p1_to_p3(&u, &t);
    P = u;
  }
}
