/*
 * Ed25519 signature verification under ZIP-215, one signature per work-item:
 * part 5 of 5, the kernels, built after ed25519_field.cl, ed25519_group.cl,
 * ed25519_sha512.cl and ed25519_scalar.cl (KernelSources.ed25519Verify).
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
 * Host interface: see Kernels/README.md, section "ed25519_verify.cl".
 */

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
