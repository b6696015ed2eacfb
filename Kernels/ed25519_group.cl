/*
 * Ed25519 on the device, part 2 of 5: points of the curve (extended coordinates),
 * ZIP-215 decoding, and selection from precomputed tables.
 */

typedef struct { fe X, Y, Z; } ge_p2;
typedef struct { fe X, Y, Z, T; } ge_p3;
typedef struct { fe E, F, G, H; } ge_p1p1;     /* point (E*F : G*H : F*G : E*H) */
typedef struct { fe ypx, ymx, Z2, T2d; } ge_cached; /* (Y+X, Y-X, 2Z, 2dT) */
typedef struct { fe ypx, ymx, xy2d; } ge_niels;   /* affine (y+x, y-x, 2dxy) */

#define ED_TABLE_ENTRIES 129       /* jB for j = 0 (identity), 1, ..., 128 */
#define ED_TABLE_INTS_PER_ENTRY 30 /* 3 field elements x 10 limbs */

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
