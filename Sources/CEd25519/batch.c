// ZIP-215 batch verification: one multi-scalar multiplication per batch
// (Straus for small batches, Pippenger buckets for large ones) and bisection
// when the batch equation fails, so each result equals rc_ed25519_verify.
#include "ed25519_internal.h"
#include "sc.h"
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <sys/random.h>
#else
#include <unistd.h>
#endif

typedef struct {
  ge_niels A, R;   // decoded points, affine
  uint8_t k[32];   // challenge mod l
  uint8_t S[32];
  uint8_t z[32];   // 128-bit coefficient, zero-extended
} batch_item;

static int fill_random(uint8_t *buf, size_t len) {
#if defined(__linux__)
  while (len) {
    ssize_t r = getrandom(buf, len, 0);
    if (r <= 0) return 0;
    buf += r; len -= (size_t)r;
  }
  return 1;
#else
  while (len) {
    size_t n = len > 256 ? 256 : len;
    if (getentropy(buf, n) != 0) return 0;
    buf += n; len -= n;
  }
  return 1;
#endif
}

// Affine niels (y+x, y-x, 2dxy) -> extended (4x : 4y : 4 : 4xy) (scaled by 4).
static void niels_to_p3(ge_p3 *r, const ge_niels *n) {
  fe x2, y2;
  fe_sub(&x2, &n->ypx, &n->ymx);   // 2x
  fe_add(&y2, &n->ypx, &n->ymx);   // 2y
  fe_carry(&y2);
  fe_mul(&r->T, &x2, &y2);         // 4xy
  fe_add(&r->X, &x2, &x2);
  fe_add(&r->Y, &y2, &y2);
  fe_zero(&r->Z); r->Z.v[0] = 4;
}

static void p3_to_niels_affine(ge_niels *r, const ge_p3 *p) { // p has Z = 1
  fe_add(&r->ypx, &p->Y, &p->X);
  fe_carry(&r->ypx);
  fe_sub(&r->ymx, &p->Y, &p->X);
  fe_mul(&r->xy2d, &p->T, &fe_d2);
}

static int is_identity_x8(const ge_p3 *p) { return ge_p3_is_small_order_or_identity_x8(p); }

// ---------------- multi-scalar multiplication ----------------
// Computes sum scalars[i] * points[i] (all scalars < 2^253).

static void msm_straus(ge_p3 *out, const ge_niels *pts, const uint8_t (*sc)[32], size_t m, int8_t *naf,
                       ge_cached *tables) {
  const int W = 5; // odd multiples 1..15
  int top = -1;
  for (size_t i = 0; i < m; i++) {
    int t = ge_wnaf(naf + 264 * i, sc[i], W);
    if (t > top) top = t;
    ge_p3 P, P2, u;
    ge_p1p1 t1;
    niels_to_p3(&P, &pts[i]);
    ge_cached *T = tables + 8 * i;
    ge_p3_to_cached(&T[0], &P);
    ge_p3_dbl(&t1, &P);
    ge_p1p1_to_p3(&P2, &t1);
    for (int j = 1; j < 8; j++) {
      ge_add_cached(&t1, &P2, &T[j - 1]);
      ge_p1p1_to_p3(&u, &t1);
      ge_p3_to_cached(&T[j], &u);
    }
  }
  ge_p3_identity(out);
  if (top < 0) return;
  ge_p2 s;
  ge_p1p1 t;
  ge_p3 u;
  ge_p2_identity(&s);
  for (int b = top; b >= 0; b--) {
    ge_p2_dbl(&t, &s);
    for (size_t i = 0; i < m; i++) {
      int8_t d = naf[264 * i + b];
      if (d > 0) { ge_p1p1_to_p3(&u, &t); ge_add_cached(&t, &u, &tables[8 * i + d / 2]); }
      else if (d < 0) { ge_p1p1_to_p3(&u, &t); ge_sub_cached(&t, &u, &tables[8 * i + (-d) / 2]); }
    }
    if (b == 0) ge_p1p1_to_p3(out, &t);
    else ge_p1p1_to_p2(&s, &t);
  }
}

static int pippenger_window(size_t m) {
  // cost model in field multiplications: bucket additions (7M each, ~190 bits
  // per scalar on average) plus bucket summation (2 additions of 13M per bucket).
  int best = 4;
  double bestc = 1e300;
  for (int c = 4; c <= 16; c++) {
    double windows = (double)((256 + c - 1) / c);
    double cost = 7.0 * (double)m * 190.0 / c + windows * (double)(1u << (c - 1)) * 26.0;
    if (cost < bestc) { bestc = cost; best = c; }
  }
  return best;
}

static void msm_pippenger(ge_p3 *out, const ge_niels *pts, const uint8_t (*sc)[32], size_t m, int c,
                          int16_t *digits, ge_p3 *buckets, uint8_t *used) {
  const int nw = (256 + c - 1) / c;
  const uint32_t half = 1u << (c - 1), full = 1u << c, mask = full - 1;
  // signed digits, layout digits[w * m + i]
  for (size_t i = 0; i < m; i++) {
    uint64_t x[5] = {0, 0, 0, 0, 0};
    for (int b = 0; b < 32; b++) x[b / 8] |= (uint64_t)sc[i][b] << (8 * (b % 8));
    uint32_t carry = 0;
    for (int w = 0; w < nw; w++) {
      int pos = w * c, idx = pos / 64, bit = pos % 64;
      uint64_t buf = x[idx] >> bit;
      if (bit + c > 64 && idx < 4) buf |= x[idx + 1] << (64 - bit);
      uint32_t v = (uint32_t)(buf & mask) + carry;
      if (v >= half) { digits[(size_t)w * m + i] = (int16_t)((int32_t)v - (int32_t)full); carry = 1; }
      else { digits[(size_t)w * m + i] = (int16_t)v; carry = 0; }
    }
  }
  ge_p3 total;
  int total_set = 0;
  ge_p1p1 t;
  ge_cached cc;
  for (int w = nw - 1; w >= 0; w--) {
    if (total_set) {
      ge_p2 s;
      ge_p3_to_p2(&s, &total);
      for (int k = 0; k < c; k++) {
        ge_p2_dbl(&t, &s);
        if (k + 1 < c) ge_p1p1_to_p2(&s, &t);
      }
      ge_p1p1_to_p3(&total, &t);
    }
    memset(used, 0, half);
    const int16_t *dw = digits + (size_t)w * m;
    for (size_t i = 0; i < m; i++) {
      int d = dw[i];
      if (d == 0) continue;
      uint32_t bi = (uint32_t)(d > 0 ? d : -d) - 1;
      if (!used[bi]) {
        if (d > 0) niels_to_p3(&buckets[bi], &pts[i]);
        else { ge_p3 q; niels_to_p3(&q, &pts[i]); ge_p3_neg(&buckets[bi], &q); }
        used[bi] = 1;
      } else {
        if (d > 0) ge_madd(&t, &buckets[bi], &pts[i]);
        else ge_msub(&t, &buckets[bi], &pts[i]);
        ge_p1p1_to_p3(&buckets[bi], &t);
      }
    }
    // running sum: acc = sum_j (j+1) * bucket[j]
    ge_p3 sum, acc;
    int sum_set = 0, acc_set = 0;
    for (int64_t j = (int64_t)half - 1; j >= 0; j--) {
      if (used[j]) {
        if (sum_set) { ge_p3_to_cached(&cc, &buckets[j]); ge_add_cached(&t, &sum, &cc); ge_p1p1_to_p3(&sum, &t); }
        else { sum = buckets[j]; sum_set = 1; }
      }
      if (sum_set) {
        if (acc_set) { ge_p3_to_cached(&cc, &sum); ge_add_cached(&t, &acc, &cc); ge_p1p1_to_p3(&acc, &t); }
        else { acc = sum; acc_set = 1; }
      }
    }
    if (acc_set) {
      if (total_set) { ge_p3_to_cached(&cc, &acc); ge_add_cached(&t, &total, &cc); ge_p1p1_to_p3(&total, &t); }
      else { total = acc; total_set = 1; }
    }
  }
  if (total_set) *out = total;
  else ge_p3_identity(out);
}

#define STRAUS_MAX_POINTS 96
#define STRAUS_MAX_POINTS_IFMA 32 // the 8-lane bucket method wins earlier

typedef struct {
  ge_niels *pts;
  uint8_t (*sc)[32];
  void *scratch;       // naf + tables, or digits + buckets + used
  size_t scratch_size;
  rc_ed25519_backend backend; // this call's backend, already clamped to the CPU
} msm_ws;

static size_t scratch_needed(size_t m);

// r = sum ws->sc[i] * ws->pts[i] for i < m on ws->backend, growing the scratch as needed.
// Returns 0 when memory ran out.
static int msm_run(ge_p3 *r, msm_ws *ws, size_t m) {
  size_t need = scratch_needed(m);
  if (need > ws->scratch_size) {
    void *p = realloc(ws->scratch, need);
    if (!p) return 0;
    ws->scratch = p;
    ws->scratch_size = need;
  }
  size_t straus_max = STRAUS_MAX_POINTS;
#if RC_ED25519_X86_SIMD
  if (ws->backend == RC_ED25519_BACKEND_AVX512IFMA) straus_max = STRAUS_MAX_POINTS_IFMA;
#endif
  if (m <= straus_max) {
    int8_t *naf = (int8_t *)ws->scratch;
    ge_cached *tables = (ge_cached *)((uint8_t *)ws->scratch + ((264 * m + 63) & ~(size_t)63));
    msm_straus(r, ws->pts, (const uint8_t (*)[32])ws->sc, m, naf, tables);
  } else {
    int c = pippenger_window(m);
#if RC_ED25519_X86_SIMD
    if (ws->backend == RC_ED25519_BACKEND_AVX512IFMA &&
        rc_msm_pippenger_ifma(r, ws->pts, (const uint8_t (*)[32])ws->sc, m, c))
      return 1;
#endif
    size_t half = (size_t)1 << (c - 1);
    int nw = (256 + c - 1) / c;
    int16_t *digits = (int16_t *)ws->scratch;
    size_t off = ((size_t)nw * m * sizeof(int16_t) + 63) & ~(size_t)63;
    ge_p3 *buckets = (ge_p3 *)((uint8_t *)ws->scratch + off);
    uint8_t *used = (uint8_t *)(buckets + half);
    msm_pippenger(r, ws->pts, (const uint8_t (*)[32])ws->sc, m, c, digits, buckets, used);
  }
  return 1;
}

// Batch equation over items idx[0..n-1]: [8](-(sum z S) B + sum z R + sum (z k) A) == O.

// Returns 1 if the equation holds, 0 if not, -1 on allocation failure.
static int batch_equation(const batch_item *items, const size_t *idx, size_t n, msm_ws *ws) {
  size_t m = 2 * n + 1;
  uint8_t bsum[32] = {0};
  ws->pts[0] = *ge_base_niels();
  for (size_t j = 0; j < n; j++) {
    const batch_item *it = &items[idx[j]];
    uint8_t zs[32];
    sc_mul(zs, it->z, it->S);
    sc_add(bsum, bsum, zs);
    ws->pts[1 + 2 * j] = it->R;
    memcpy(ws->sc[1 + 2 * j], it->z, 32);
    ws->pts[2 + 2 * j] = it->A;
    sc_mul(ws->sc[2 + 2 * j], it->z, it->k);
  }
  sc_neg(ws->sc[0], bsum);
  ge_p3 r;
  if (!msm_run(&r, ws, m)) return -1;
  return is_identity_x8(&r);
}

static size_t scratch_needed(size_t m) {
  if (m <= STRAUS_MAX_POINTS) return ((264 * m + 63) & ~(size_t)63) + 8 * m * sizeof(ge_cached);
  int c = pippenger_window(m);
  size_t half = (size_t)1 << (c - 1);
  int nw = (256 + c - 1) / c;
  return (((size_t)nw * m * sizeof(int16_t) + 63) & ~(size_t)63) + half * sizeof(ge_p3) + half;
}

static int single_from_item(const batch_item *it) {
  ge_p3 A, R;
  niels_to_p3(&A, &it->A);
  niels_to_p3(&R, &it->R);
  return rc_ed25519_check_decoded(&A, &R, it->k, it->S);
}

#define BISECT_SINGLE_MAX 4

typedef struct {
  size_t resolved; // items whose result is known
  size_t bad;      // of which invalid
} bisect_stats;

static int singles(const batch_item *items, const size_t *idx, size_t n, uint8_t *results, bisect_stats *st) {
  int all = 1;
  for (size_t j = 0; j < n; j++) {
    int ok = single_from_item(&items[idx[j]]);
    results[idx[j]] = (uint8_t)ok;
    all &= ok;
    st->bad += (size_t)!ok;
  }
  st->resolved += n;
  return all;
}

// Returns 1 if every item in idx is valid (and marks results), else locates the bad ones.
// known_bad: the caller already knows this group fails the batch equation.
static int bisect(const batch_item *items, const size_t *idx, size_t n, int known_bad, msm_ws *ws,
                  uint8_t *results, bisect_stats *st) {
  if (n == 0) return 1;
  if (n <= BISECT_SINGLE_MAX) return singles(items, idx, n, results, st);
  if (!known_bad) {
    int r = batch_equation(items, idx, n, ws);
    if (r == 1) {
      for (size_t j = 0; j < n; j++) results[idx[j]] = 1;
      st->resolved += n;
      return 1;
    }
    if (r < 0) return singles(items, idx, n, results, st); // out of memory
  }
  // When invalid items turn out to be dense (more than 1 in 32 so far), bisection
  // costs more than checking one by one.
  if (st->resolved >= 8 && st->bad * 32 > st->resolved) return singles(items, idx, n, results, st);
  size_t h = n / 2;
  int left_ok = bisect(items, idx, h, 0, ws, results, st);
  bisect(items, idx + h, n - h, left_ok, ws, results, st);
  return 0;
}

static rc_ed25519_backend decode_many(batch_item *items, uint8_t *ok, const uint8_t *const *encs, size_t n,
                                      rc_ed25519_backend backend);

size_t rc_ed25519_verify_batch(const uint8_t *const *msgs, const size_t *msg_lens,
                               const uint8_t *public_keys, const uint8_t *signatures,
                               size_t count, const uint8_t *random_coefficients,
                               uint8_t *results) {
  return rc_ed25519_verify_batch_backend(msgs, msg_lens, public_keys, signatures, count, random_coefficients,
                                         results, rc_ed25519_detected_backend(), NULL);
}

size_t rc_ed25519_verify_batch_backend(const uint8_t *const *msgs, const size_t *msg_lens,
                                       const uint8_t *public_keys, const uint8_t *signatures,
                                       size_t count, const uint8_t *random_coefficients,
                                       uint8_t *results, rc_ed25519_backend backend,
                                       rc_ed25519_backend *backend_used) {
  // Until some arithmetic runs, nothing but the portable code has.
  if (backend_used) *backend_used = RC_ED25519_BACKEND_SCALAR;
  if (count == 0) return 0;
  backend = rc_ed25519_backend_clamp(backend);
  for (size_t i = 0; i < count; i++) results[i] = 0;
  batch_item *items = (batch_item *)malloc(count * sizeof(batch_item));
  size_t *idx = (size_t *)malloc(count * sizeof(size_t));
  uint8_t *ok = (uint8_t *)malloc(2 * count);
  const uint8_t **encs = (const uint8_t **)malloc(2 * count * sizeof(uint8_t *));
  uint8_t *rnd = NULL;
  if (!items || !idx || !ok || !encs) goto fallback;
  if (!random_coefficients) {
    rnd = (uint8_t *)malloc(16 * count);
    if (!rnd || !fill_random(rnd, 16 * count)) goto fallback;
    random_coefficients = rnd;
  }
  // 1. decode points (A then R for each item), checking S < l first.
  for (size_t i = 0; i < count; i++) {
    encs[2 * i] = public_keys + 32 * i;
    encs[2 * i + 1] = signatures + 64 * i;
  }
  rc_ed25519_backend ran = decode_many(items, ok, encs, count, backend);
  if (backend_used) *backend_used = ran;
  size_t nv = 0;
  for (size_t i = 0; i < count; i++) {
    const uint8_t *sig = signatures + 64 * i, *pk = public_keys + 32 * i;
    if (!ok[2 * i] || !ok[2 * i + 1] || !sc_is_canonical(sig + 32)) continue;
    batch_item *it = &items[i];
    memcpy(it->S, sig + 32, 32);
    rc_ed25519_challenge(it->k, sig, pk, msgs[i], msg_lens[i]);
    memset(it->z, 0, 32);
    memcpy(it->z, random_coefficients + 16 * i, 16);
    it->z[0] |= 1; // never zero
    idx[nv++] = i;
  }
  {
    size_t m = 2 * nv + 1;
    msm_ws ws;
    ws.backend = backend;
    ws.pts = (ge_niels *)malloc(m * sizeof(ge_niels));
    ws.sc = (uint8_t (*)[32])malloc(m * 32);
    ws.scratch_size = scratch_needed(m);
    ws.scratch = malloc(ws.scratch_size);
    if (!ws.pts || !ws.sc || !ws.scratch) {
      free(ws.pts); free(ws.sc); free(ws.scratch);
      for (size_t j = 0; j < nv; j++) results[idx[j]] = (uint8_t)single_from_item(&items[idx[j]]);
    } else {
      bisect_stats st = {0, 0};
      bisect(items, idx, nv, 0, &ws, results, &st);
      free(ws.pts); free(ws.sc); free(ws.scratch);
    }
  }
  free(items); free(idx); free(ok); free(encs); free(rnd);
  {
    size_t valid = 0;
    for (size_t i = 0; i < count; i++) valid += results[i];
    return valid;
  }
fallback:
  free(items); free(idx); free(ok); free(encs); free(rnd);
  {
    size_t valid = 0;
    for (size_t i = 0; i < count; i++) {
      results[i] = (uint8_t)rc_ed25519_verify(signatures + 64 * i, msgs[i], msg_lens[i], public_keys + 32 * i);
      valid += results[i];
    }
    return valid;
  }
}

// ---------------- batched ZIP-215 point decoding ----------------
// Same computation as ge_frombytes_zip215, with the exponentiation done by the
// selected backend for a block of points at a time.
#define DECODE_BLOCK 64

// Returns the backend whose exponentiation actually ran.
static rc_ed25519_backend decode_many(batch_item *items, uint8_t *ok, const uint8_t *const *encs, size_t n,
                                      rc_ed25519_backend backend) {
  rc_ed25519_backend ran;
  rc_pow22523_many_fn pw = rc_ed25519_backend_pow22523_many(backend, &ran);
  size_t total = 2 * n;
  fe y[DECODE_BLOCK], u[DECODE_BLOCK], v[DECODE_BLOCK], v3[DECODE_BLOCK], w[DECODE_BLOCK];
  for (size_t base = 0; base < total; base += DECODE_BLOCK) {
    size_t cnt = total - base < DECODE_BLOCK ? total - base : DECODE_BLOCK;
    for (size_t j = 0; j < cnt; j++) {
      fe y2, t, one;
      fe_one(&one);
      fe_frombytes(&y[j], encs[base + j]);
      fe_sq(&y2, &y[j]);
      fe_sub(&u[j], &y2, &one);
      fe_mul(&v[j], &y2, &fe_d);
      fe_add(&v[j], &v[j], &one);
      fe_sq(&t, &v[j]);
      fe_mul(&v3[j], &t, &v[j]);       // v^3
      fe_sq(&t, &v3[j]);
      fe_mul(&t, &t, &v[j]);           // v^7
      fe_mul(&w[j], &u[j], &t);        // u v^7
    }
    pw(w, w, cnt);
    for (size_t j = 0; j < cnt; j++) {
      size_t g = base + j;
      fe r, t, chk, nu;
      fe_mul(&r, &u[j], &v3[j]);
      fe_mul(&r, &r, &w[j]);
      fe_sq(&t, &r);
      fe_mul(&chk, &t, &v[j]);
      int okp = fe_equal(&chk, &u[j]);
      int okn = 0;
      if (!okp) {
        fe_neg(&nu, &u[j]);
        okn = fe_equal(&chk, &nu);
        if (okn) fe_mul(&r, &r, &fe_sqrtm1);
      }
      ok[g] = (uint8_t)(okp | okn);
      if (!ok[g]) continue;
      if (fe_isnegative(&r) != (encs[g][31] >> 7)) fe_neg(&r, &r);
      ge_p3 P;
      P.X = r; P.Y = y[j]; fe_one(&P.Z);
      fe_mul(&P.T, &P.X, &P.Y);
      batch_item *it = &items[g / 2];
      p3_to_niels_affine((g & 1) ? &it->R : &it->A, &P);
    }
  }
  return ran;
}

// Variable-time multi-scalar multiplication for public inputs (see ed25519_internal.h).
int rc_ed25519_msm_vartime(ge_p3 *out, const ge_niels *pts, const uint8_t (*sc)[32], size_t m) {
  msm_ws ws;
  ws.backend = rc_ed25519_detected_backend();
  ws.pts = (ge_niels *)pts;          // msm_run only reads them
  ws.sc = (uint8_t (*)[32])sc;
  ws.scratch = NULL;
  ws.scratch_size = 0;
  int ok = msm_run(out, &ws, m);
  free(ws.scratch);
  return ok;
}
