// edwards25519 group operations: decoding, encoding, constant-time base-point
// multiplication and variable-time double-scalar multiplication.
#include "ge.h"
#include "rc_ed25519.h"
#include <pthread.h>
#include <string.h>

static const fe base_x = {{0x62d608f25d51aULL, 0x412a4b4f6592aULL, 0x75b7171a4b31dULL, 0x1ff60527118feULL, 0x216936d3cd6e5ULL}};
static const fe base_y = {{0x6666666666658ULL, 0x4ccccccccccccULL, 0x1999999999999ULL, 0x3333333333333ULL, 0x6666666666666ULL}};

// ct_table[i][j] = (j+1) * 256^i * B; odd_table[j] = (2j+1) * B.
static ge_niels ct_table[32][8];
static ge_niels odd_table[GE_BASE_ODD_N];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void ge_add_p3(ge_p3 *r, const ge_p3 *p, const ge_p3 *q) {
  ge_cached c;
  ge_p1p1 t;
  ge_p3_to_cached(&c, q);
  ge_add_cached(&t, p, &c);
  ge_p1p1_to_p3(r, &t);
}

static void ge_dbl_p3(ge_p3 *r, const ge_p3 *p) {
  ge_p1p1 t;
  ge_p3_dbl(&t, p);
  ge_p1p1_to_p3(r, &t);
}

void ge_p3_batch_to_niels(ge_niels *out, const ge_p3 *in, size_t n, fe *scratch) {
  fe *zs = scratch, *acc = scratch + n;
  for (size_t i = 0; i < n; i++) zs[i] = in[i].Z;
  fe_batch_invert(zs, zs, n, acc);
  for (size_t i = 0; i < n; i++) {
    fe x, y, xy;
    fe_mul(&x, &in[i].X, &zs[i]);
    fe_mul(&y, &in[i].Y, &zs[i]);
    fe_add(&out[i].ypx, &y, &x);
    fe_carry(&out[i].ypx);
    fe_sub(&out[i].ymx, &y, &x);
    fe_mul(&xy, &x, &y);
    fe_mul(&out[i].xy2d, &xy, &fe_d2);
  }
}

void ge_p3_to_niels(ge_niels *r, const ge_p3 *p) {
  fe scratch[2];
  ge_p3_batch_to_niels(r, p, 1, scratch);
}

static void build_tables(void) {
  static ge_p3 pts[256];
  static fe scratch[512];
  ge_p3 B, P;
  B.X = base_x; B.Y = base_y; fe_one(&B.Z); fe_mul(&B.T, &base_x, &base_y);
  P = B;
  for (int i = 0; i < 32; i++) {
    pts[8 * i] = P;
    for (int j = 1; j < 8; j++) ge_add_p3(&pts[8 * i + j], &pts[8 * i + j - 1], &P);
    for (int k = 0; k < 8; k++) ge_dbl_p3(&P, &P);
  }
  ge_p3_batch_to_niels(&ct_table[0][0], pts, 256, scratch);
  ge_p3 B2;
  ge_dbl_p3(&B2, &B);
  pts[0] = B;
  for (int j = 1; j < GE_BASE_ODD_N; j++) ge_add_p3(&pts[j], &pts[j - 1], &B2);
  ge_p3_batch_to_niels(odd_table, pts, GE_BASE_ODD_N, scratch);
}

const ge_niels *ge_base_odd(void) {
  pthread_once(&tables_once, build_tables);
  return odd_table;
}

const ge_niels *ge_base_niels(void) { return ge_base_odd(); }

int ge_frombytes_zip215(ge_p3 *h, const uint8_t s[32]) {
  fe u, v, y2;
  fe_frombytes(&h->Y, s);
  fe_one(&h->Z);
  fe_sq(&y2, &h->Y);
  fe_sub(&u, &y2, &h->Z);          // y^2 - 1
  fe_mul(&v, &y2, &fe_d);
  fe_add(&v, &v, &h->Z);           // d y^2 + 1
  if (!fe_sqrt_ratio(&h->X, &u, &v)) return 0;
  if (fe_isnegative(&h->X) != (s[31] >> 7)) fe_neg(&h->X, &h->X); // -0 = 0: accepted
  fe_mul(&h->T, &h->X, &h->Y);
  return 1;
}

void ge_p3_tobytes(uint8_t s[32], const ge_p3 *h) {
  fe zi, x, y;
  fe_invert(&zi, &h->Z);
  fe_mul(&x, &h->X, &zi);
  fe_mul(&y, &h->Y, &zi);
  fe_tobytes(s, &y);
  s[31] ^= (uint8_t)(fe_isnegative(&x) << 7);
}

// ---- constant-time base-point multiplication ----

void ge_signed_radix16(int8_t e[64], const uint8_t a[32]) {
  for (int i = 0; i < 32; i++) {
    e[2 * i] = (int8_t)(a[i] & 15);
    e[2 * i + 1] = (int8_t)(a[i] >> 4);
  }
  int8_t carry = 0;
  for (int i = 0; i < 63; i++) {
    e[i] = (int8_t)(e[i] + carry);
    carry = (int8_t)((e[i] + 8) >> 4);
    e[i] = (int8_t)(e[i] - carry * 16);
  }
  e[63] = (int8_t)(e[63] + carry);
}

static inline void niels_cmov(ge_niels *t, const ge_niels *u, uint64_t b) {
  fe_cmov(&t->ypx, &u->ypx, b);
  fe_cmov(&t->ymx, &u->ymx, b);
  fe_cmov(&t->xy2d, &u->xy2d, b);
}

static void ct_select(ge_niels *t, int pos, int8_t b) {
  uint8_t neg = (uint8_t)((uint8_t)b >> 7);
  uint8_t babs = (uint8_t)(b - (((-(int)neg) & b) * 2));
  ge_niels_identity(t);
  for (int j = 0; j < 8; j++) niels_cmov(t, &ct_table[pos][j], ge_ct_eq_u8(babs, (uint8_t)(j + 1)));
  ge_niels m;
  m.ypx = t->ymx;
  m.ymx = t->ypx;
  fe_neg(&m.xy2d, &t->xy2d);
  niels_cmov(t, &m, neg);
}

void ge_scalarmult_base(ge_p3 *h, const uint8_t a[32]) {
  pthread_once(&tables_once, build_tables);
  int8_t e[64];
  ge_signed_radix16(e, a);

  ge_p1p1 r;
  ge_p2 s;
  ge_niels t;
  ge_p3_identity(h);
  for (int i = 1; i < 64; i += 2) {
    ct_select(&t, i / 2, e[i]);
    ge_madd(&r, h, &t);
    ge_p1p1_to_p3(h, &r);
  }
  ge_p3_dbl(&r, h); ge_p1p1_to_p2(&s, &r);
  ge_p2_dbl(&r, &s); ge_p1p1_to_p2(&s, &r);
  ge_p2_dbl(&r, &s); ge_p1p1_to_p2(&s, &r);
  ge_p2_dbl(&r, &s); ge_p1p1_to_p3(h, &r);
  for (int i = 0; i < 64; i += 2) {
    ct_select(&t, i / 2, e[i]);
    ge_madd(&r, h, &t);
    ge_p1p1_to_p3(h, &r);
  }
  // The digits are the secret scalar; the temporaries are multiples of B it selected.
  rc_ed25519_wipe(e, sizeof e);
  rc_ed25519_wipe(&t, sizeof t);
  rc_ed25519_wipe(&r, sizeof r);
  rc_ed25519_wipe(&s, sizeof s);
}

// ---- variable-time helpers ----

int ge_wnaf(int8_t naf[264], const uint8_t s[32], int w) {
  uint64_t x[6] = {0, 0, 0, 0, 0, 0};
  for (int i = 0; i < 32; i++) x[i / 8] |= (uint64_t)s[i] << (8 * (i % 8));
  memset(naf, 0, 264);
  const uint64_t width = (uint64_t)1 << w, mask = width - 1;
  uint64_t carry = 0;
  int pos = 0, top = -1;
  while (pos < 264) {
    int idx = pos / 64, bit = pos % 64;
    uint64_t buf = x[idx] >> bit;
    if (bit > 64 - w && idx < 5) buf |= x[idx + 1] << (64 - bit);
    uint64_t window = carry + (buf & mask);
    if ((window & 1) == 0) { pos++; continue; }
    if (window < width / 2) {
      carry = 0;
      naf[pos] = (int8_t)window;
    } else {
      carry = 1;
      naf[pos] = (int8_t)((int64_t)window - (int64_t)width);
    }
    top = pos;
    pos += w;
  }
  return top;
}

void ge_double_scalarmult_vartime(ge_p3 *r, const uint8_t a[32], const ge_p3 *A, const uint8_t b[32]) {
  const ge_niels *Bi = ge_base_odd();
  int8_t an[264], bn[264];
  int ta = ge_wnaf(an, a, 5), tb = ge_wnaf(bn, b, GE_BASE_WNAF_W);
  ge_cached Ai[8];
  ge_p3 A2, u;
  ge_p1p1 t;
  ge_p3_to_cached(&Ai[0], A);
  ge_dbl_p3(&A2, A);
  for (int i = 1; i < 8; i++) {
    ge_add_cached(&t, &A2, &Ai[i - 1]);
    ge_p1p1_to_p3(&u, &t);
    ge_p3_to_cached(&Ai[i], &u);
  }
  int i = ta > tb ? ta : tb;
  ge_p3_identity(r);
  if (i < 0) return;
  ge_p2 s;
  ge_p2_identity(&s);
  for (; i >= 0; i--) {
    ge_p2_dbl(&t, &s);
    if (an[i] > 0) { ge_p1p1_to_p3(&u, &t); ge_add_cached(&t, &u, &Ai[an[i] / 2]); }
    else if (an[i] < 0) { ge_p1p1_to_p3(&u, &t); ge_sub_cached(&t, &u, &Ai[(-an[i]) / 2]); }
    if (bn[i] > 0) { ge_p1p1_to_p3(&u, &t); ge_madd(&t, &u, &Bi[bn[i] / 2]); }
    else if (bn[i] < 0) { ge_p1p1_to_p3(&u, &t); ge_msub(&t, &u, &Bi[(-bn[i]) / 2]); }
    if (i == 0) ge_p1p1_to_p3(r, &t);
    else ge_p1p1_to_p2(&s, &t);
  }
}

int ge_p3_is_small_order_or_identity_x8(const ge_p3 *p) {
  ge_p1p1 t;
  ge_p2 s;
  ge_p3_to_p2(&s, p);
  for (int k = 0; k < 3; k++) { ge_p2_dbl(&t, &s); ge_p1p1_to_p2(&s, &t); }
  // identity: X == 0 and Y == Z
  return fe_iszero(&s.X) && fe_equal(&s.Y, &s.Z);
}
