/* The Winograd conv: 3×3 stride-1 convs as F(2×2, 3×3) in integers, exact.
 *
 * A 2×2 block of outputs (a tile) comes from its 4×4 input patch d as
 *   4·Y = Aᵀ [ U' ⊙ V ] A,   V = Bᵀ d B,   U' = G' g G'ᵀ
 * with G' = 2G, the usual F(2, 3) matrices (Lavin and Gray) scaled so
 * that every entry is an integer:
 *   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]
 *   G' = [2 0 0; 1 1 1; 1 −1 1; 0 0 2]
 *   Aᵀ = [1 1 1 0; 0 1 −1 −1]
 * For u8 inputs and int8 weights |V| ≤ 4·255 = 1020 and |U'| ≤ 9·127 =
 * 1143, so both are int16 and every product is exact in int32; the sum
 * over channels and the output transform are exact modulo 2^32, and 4·Y
 * itself fits int32 wherever the pack allows this path (4·255·Σ|w| <
 * 2^31), so the int32 result is 4·Y exactly and Y = (4·Y) >> 2 is the
 * direct conv's accumulator, bit for bit.  The bias and ref's output
 * stage follow as in the other kernels.
 *
 * The point is the multiplies: 16 per tile and channel pair against 36 for
 * the direct 3×3, each an int16 pair product (vpmaddwd), where the AVX2
 * direct kernel spends two multiply-port instructions per 32 u8·s8
 * products (vpmaddubsw and vpmaddwd).
 *
 * Layout.  Input rows are gathered once each into a ring of 4 slots, per
 * pair of channels the even and the odd padded columns apart, the pair's
 * two bytes side by side ([pair][E|O][column/2][2]): tile n's patch row
 * is E[n], O[n], E[n+1], O[n+1], and 8 tiles of one channel pair widen
 * to one vector of int16 pairs, the order vpmaddwd multiplies.  Weights:
 * U'[ξ][oc/4][pair][4] as int32 words of two int16 (even channel low). */
#include "cfqp-int8-cpu-gemm.h"
#include "cfqp-int8-cpu-private.h"
#include "cfqp-int8-cpu-scratch.h"
#include "cfqp-int8-cpu-wino.h"

#include <string.h>
#if CFQP_GEMM_X86
#include <immintrin.h>
#endif

static const gint G2[4][3] = { { 2, 0, 0 }, { 1, 1, 1 }, { 1, -1, 1 }, { 0, 0, 2 } };

gint32 *
cfqp_int8_wino_weights (const gint8 *w, guint ic, guint oc)
{
  guint pairs = (ic + 1) / 2, ocb = (oc + 3) / 4;
  gint32 *u = g_new0 (gint32, (gsize) 16 * ocb * 4 * pairs);

  for (guint o = 0; o < oc; o++)
    for (guint c = 0; c < ic; c++) {
      const gint8 *g = w + ((gsize) o * ic + c) * 9;
      for (guint i = 0; i < 4; i++)
        for (guint j = 0; j < 4; j++) {
          gint v = 0;
          for (guint ky = 0; ky < 3; ky++)
            for (guint kx = 0; kx < 3; kx++)
              v += G2[i][ky] * g[ky * 3 + kx] * G2[j][kx];
          /* |v| ≤ 9·127: one int16 half of the pair's word */
          gint32 *word = u + (((gsize) (4 * i + j) * ocb + o / 4) * pairs + c / 2) * 4 + o % 4;
          guint32 bits = (guint32) (guint16) (gint16) v << (c % 2 ? 16 : 0);
          *word = (gint32) ((guint32) *word | bits);
        }
    }
  return u;
}

/* The E and O halves of one channel pair's padded rows t0, t1 (2·n bytes
 * each, n a multiple of 8): E[2m + j] = t_j[2m], O[2m + j] = t_j[2m + 1]. */
static void
split_pair (const guint8 *t0, const guint8 *t1, guint8 *e, guint8 *o, guint n)
{
#if CFQP_GEMM_X86
  /* SSE2, the x86-64 baseline: the pair's bytes side by side as 16-bit
   * words (column x: t0[x] | t1[x] << 8), even and odd words apart */
  for (guint m = 0; m < n; m += 8) {
    __m128i a = _mm_loadu_si128 ((const __m128i *) (t0 + 2 * m));
    __m128i b = _mm_loadu_si128 ((const __m128i *) (t1 + 2 * m));
    __m128i lo = _mm_unpacklo_epi8 (a, b), hi = _mm_unpackhi_epi8 (a, b);
    /* each dword is (even word, odd word): sign-extended halves pack exactly */
    __m128i ev = _mm_packs_epi32 (_mm_srai_epi32 (_mm_slli_epi32 (lo, 16), 16),
        _mm_srai_epi32 (_mm_slli_epi32 (hi, 16), 16));
    __m128i od = _mm_packs_epi32 (_mm_srai_epi32 (lo, 16), _mm_srai_epi32 (hi, 16));
    _mm_storeu_si128 ((__m128i *) (e + 2 * m), ev);
    _mm_storeu_si128 ((__m128i *) (o + 2 * m), od);
  }
#else
  for (guint m = 0; m < n; m++) {
    e[2 * m] = t0[2 * m];
    e[2 * m + 1] = t1[2 * m];
    o[2 * m] = t0[2 * m + 1];
    o[2 * m + 1] = t1[2 * m + 1];
  }
#endif
}

/* One input row into a slot: per channel pair the two padded rows (the
 * orc conv's gather; zeros for a channel past ic, whose weights are zero)
 * split into E and O. */
static void
gather_row (const CfqpU8View *in, gint iy, guint pl, guint ic, guint half,
    const guint8 *pad, guint8 *tmp, guint8 *slot)
{
  guint cols = 2 * half;

  for (guint c0 = 0; c0 < ic; c0 += 2, slot += (gsize) 4 * half) {
    CfqpU8View pair = *in;
    guint n = MIN (2, ic - c0);
    pair.data += (gsize) c0 * in->plane_stride;
    cfqp_int8_cpu_gather_planar_rows (&pair, iy, pl, cols, n, pad + c0, tmp);
    if (n < 2)
      memset (tmp + cols, 0, cols);
    split_pair (tmp, tmp + cols, slot, slot + 2 * half, half);
  }
}

void
cfqp_int8_cpu_conv_wino (CfqpInt8ConvWinoFunc kernel, guint block, const gint32 *u,
    const gint32 *bias, const CfqpInt8Node *q, const CfqpU8View *in, const CfqpU8View *output,
    guint pt, guint pl, guint y0, guint y1)
{
  guint ic = in->c, pairs = (ic + 1) / 2, ow = output->w;
  /* tiles in the kernel's blocks (8 or 16); half: E/O entries per row,
   * with the reads past the last tile (E[n+1] of 8 tiles reads 16 bytes) */
  guint tiles = (ow + 1) / 2, n_tiles = (tiles + block - 1) / block * block, half = n_tiles + 8;
  gsize slot_bytes = (gsize) pairs * 4 * half, tmp_bytes = (gsize) 4 * half;
  gsize v_bytes = (gsize) 16 * pairs * block * 2 * sizeof (gint16);
  gsize m_bytes = (gsize) 16 * 4 * block * sizeof (gint32);
  CfqpInt8ConvOut o = { q->rq_pos, q->rq_neg, q->z_out, q->lo, q->hi };
  guint8 *scratch, *slots, *tmp;
  gint16 *vbuf;
  gint32 *mbuf;
  gint tags[4] = { G_MININT, G_MININT, G_MININT, G_MININT };

  scratch = cfqp_int8_cpu_scratch (64 + v_bytes + m_bytes + tmp_bytes + 4 * slot_bytes);
  scratch = (guint8 *) (((guintptr) scratch + 63) & ~(guintptr) 63);
  vbuf = (gint16 *) scratch;
  mbuf = (gint32 *) (scratch + v_bytes);
  tmp = scratch + v_bytes + m_bytes;
  slots = tmp + tmp_bytes;

  for (guint oy = y0; oy < y1; oy += 2) {
    const guint8 *rows[4];
    for (guint r = 0; r < 4; r++) {
      gint iy = (gint) (oy + r) - (gint) pt;
      guint s = (guint) (iy & 3);
      if (tags[s] != iy) {
        gather_row (in, iy, pl, ic, half, q->pad, tmp, slots + s * slot_bytes);
        tags[s] = iy;
      }
      rows[r] = slots + s * slot_bytes;
    }
    kernel (rows, 2 * half, 4 * half, pairs, n_tiles, u, output->c, bias, &o,
        cfqp_u8_row (output, 0, oy), oy + 1 < y1 ? cfqp_u8_row (output, 0, oy + 1) : NULL,
        ow, output->plane_stride, vbuf, mbuf);
  }
}

#if CFQP_GEMM_X86
#include "cfqp-int8-cpu-avx2-requant.h"
#include "cfqp-int8-cpu-sse41-requant.h"

/* The kernel body both levels share (as the 256-bit c4 kernels share
 * Y_C4_ACCUMULATE), expanded inside a CfqpInt8ConvWinoFunc: blocks of
 * 2·VT tiles, VT per vector of type V; ZERO, LOAD (int16 *), SET1, STORE
 * (int32 *) and MADD (acc + pairwise products) the level's ops; INPUT the
 * input transform of VT tiles of one channel pair; FINISH one channel's
 * output transform, output stage and stores for VT tiles.  Per block: V
 * for every channel pair, then per 4 output channels the 16 sums M[ξ]
 * (mbuf[c·16·2VT + ξ·2VT]), then each channel's two output rows. */
#define WINO_BODY(VT, V, ZERO, LOAD, SET1, STORE, MADD, INPUT, FINISH) \
  G_STMT_START { \
    const guint blk = 2 * (VT), ocbn = (n_oc + 3) / 4; \
    const gsize xi_stride = (gsize) pairs * 2 * blk;   /* int16 per ξ */ \
    for (guint tb = 0; tb < n_tiles && 2 * tb < ow; tb += blk) { \
      for (guint p = 0; p < pairs; p++) \
        for (guint h = 0; h < 2; h++) { \
          const guint8 *e[4]; \
          for (guint r = 0; r < 4; r++) \
            e[r] = rows[r] + p * pair_stride + 2 * (tb + (VT) * h); \
          INPUT (e, eo, vbuf + p * 2 * blk + h * 2 * (VT), xi_stride); \
        } \
      for (guint ocb = 0; ocb < ocbn; ocb++) { \
        for (guint xi = 0; xi < 16; xi++) { \
          const gint16 *v = vbuf + xi * xi_stride; \
          const gint32 *uu = u + ((gsize) xi * ocbn + ocb) * pairs * 4; \
          gint32 *m = mbuf + xi * blk; \
          V a00 = ZERO (), a01 = a00, a10 = a00, a11 = a00; \
          V a20 = a00, a21 = a00, a30 = a00, a31 = a00; \
          for (guint p = 0; p < pairs; p++, v += 2 * blk, uu += 4) { \
            V x0 = LOAD (v), x1 = LOAD (v + 2 * (VT)), b; \
            b = SET1 (uu[0]); \
            a00 = MADD (a00, x0, b); \
            a01 = MADD (a01, x1, b); \
            b = SET1 (uu[1]); \
            a10 = MADD (a10, x0, b); \
            a11 = MADD (a11, x1, b); \
            b = SET1 (uu[2]); \
            a20 = MADD (a20, x0, b); \
            a21 = MADD (a21, x1, b); \
            b = SET1 (uu[3]); \
            a30 = MADD (a30, x0, b); \
            a31 = MADD (a31, x1, b); \
          } \
          STORE (m, a00); \
          STORE (m + (VT), a01); \
          STORE (m + 16 * blk, a10); \
          STORE (m + 16 * blk + (VT), a11); \
          STORE (m + 32 * blk, a20); \
          STORE (m + 32 * blk + (VT), a21); \
          STORE (m + 48 * blk, a30); \
          STORE (m + 48 * blk + (VT), a31); \
        } \
        for (guint c = 0; c < 4 && 4 * ocb + c < n_oc; c++) \
          for (guint h = 0; h < 2 && 2 * (tb + (VT) * h) < ow; h++) \
            FINISH (mbuf + c * 16 * blk + h * (VT), bias, o, 4 * ocb + c, out0, out1, \
                out_stride, 2 * (tb + (VT) * h), ow); \
      } \
    } \
  } G_STMT_END

/* 8 tiles of one channel pair: 16 bytes of E or O at p, widened */
static inline Y_TARGET __m256i
w_load (const guint8 *p)
{
  return _mm256_cvtepu8_epi16 (_mm_loadu_si128 ((const __m128i *) p));
}

/* V = Bᵀ d B for 8 tiles of one channel pair: e[r] the pair's E half of
 * patch row r at the first tile (O follows at eo), v[ξ·xi_stride] */
static inline Y_TARGET void
w_input8 (const guint8 *const e[4], gsize eo, gint16 *v, gsize xi_stride)
{
  __m256i h[4][4];

  /* along each row: (d0 − d2, d1 + d2, d2 − d1, d1 − d3) */
  for (guint r = 0; r < 4; r++) {
    __m256i d0 = w_load (e[r]), d1 = w_load (e[r] + eo);
    __m256i d2 = w_load (e[r] + 2), d3 = w_load (e[r] + eo + 2);
    h[r][0] = _mm256_sub_epi16 (d0, d2);
    h[r][1] = _mm256_add_epi16 (d1, d2);
    h[r][2] = _mm256_sub_epi16 (d2, d1);
    h[r][3] = _mm256_sub_epi16 (d1, d3);
  }
  /* then down the columns */
  for (guint j = 0; j < 4; j++) {
    _mm256_store_si256 ((__m256i *) (v + (0 + j) * xi_stride), _mm256_sub_epi16 (h[0][j], h[2][j]));
    _mm256_store_si256 ((__m256i *) (v + (4 + j) * xi_stride), _mm256_add_epi16 (h[1][j], h[2][j]));
    _mm256_store_si256 ((__m256i *) (v + (8 + j) * xi_stride), _mm256_sub_epi16 (h[2][j], h[1][j]));
    _mm256_store_si256 ((__m256i *) (v + (12 + j) * xi_stride), _mm256_sub_epi16 (h[1][j], h[3][j]));
  }
}

static inline Y_TARGET __m256i
w_madd (__m256i acc, __m256i x, __m256i b)
{
  return _mm256_add_epi32 (acc, _mm256_madd_epi16 (x, b));
}

/* Y for 8 tiles of one channel from its 16 M vectors (m[ξ·16]), bias
 * added: rows 0 and 1, each even and odd column */
static inline Y_TARGET void
w_output8 (const gint32 *m, __m256i bias, __m256i y[2][2])
{
  __m256i s[4][2];

  for (guint i = 0; i < 4; i++) {
    __m256i m0 = _mm256_load_si256 ((const __m256i *) (m + (4 * i + 0) * 16));
    __m256i m1 = _mm256_load_si256 ((const __m256i *) (m + (4 * i + 1) * 16));
    __m256i m2 = _mm256_load_si256 ((const __m256i *) (m + (4 * i + 2) * 16));
    __m256i m3 = _mm256_load_si256 ((const __m256i *) (m + (4 * i + 3) * 16));
    s[i][0] = _mm256_add_epi32 (_mm256_add_epi32 (m0, m1), m2);
    s[i][1] = _mm256_sub_epi32 (_mm256_sub_epi32 (m1, m2), m3);
  }
  for (guint c = 0; c < 2; c++) {
    __m256i y0 = _mm256_add_epi32 (_mm256_add_epi32 (s[0][c], s[1][c]), s[2][c]);
    __m256i y1 = _mm256_sub_epi32 (_mm256_sub_epi32 (s[1][c], s[2][c]), s[3][c]);
    /* 4·Y exactly: the shift is a division */
    y[0][c] = _mm256_add_epi32 (_mm256_srai_epi32 (y0, 2), bias);
    y[1][c] = _mm256_add_epi32 (_mm256_srai_epi32 (y1, 2), bias);
  }
}

/* ref's output stage on one channel's Y of 8 tiles, the channel's
 * constants built once: y[row][column parity] in place */
static inline Y_TARGET void
w_requant8 (__m256i y[2][2], CfqpRequant p, CfqpRequant n)
{
  if (p.m == n.m && p.shift == n.shift) {
    YRequant rq = y_requant_init (p);
    for (guint r = 0; r < 2; r++)
      for (guint c = 0; c < 2; c++)
        y[r][c] = y_requant1 (y[r][c], &rq);
  } else {
    __m256i mp = _mm256_set1_epi32 (p.m), mn = _mm256_set1_epi32 (n.m);
    __m256i sp = _mm256_set1_epi32 (p.shift), sn = _mm256_set1_epi32 (n.shift);
    for (guint r = 0; r < 2; r++)
      for (guint c = 0; c < 2; c++)
        y[r][c] = y_requant2 (y[r][c], mp, mn, sp, sn);
  }
}

/* one output row's 16 bytes from the requantised even and odd columns of
 * 8 tiles */
static inline Y_TARGET void
w_store_row (__m256i even, __m256i odd, __m256i loz, __m256i hiz, __m256i z, guint8 *dst,
    guint left)
{
  const __m128i zip = _mm_setr_epi8 (0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15);

  y_store_bytes (_mm_shuffle_epi8 (y_clamp_pack (even, odd, loz, hiz, z), zip), dst, left, 16);
}

static inline Y_TARGET __m256i
w_vload (const gint16 *v)
{
  return _mm256_load_si256 ((const __m256i *) v);
}

static inline Y_TARGET void
w_vstore (gint32 *m, __m256i a)
{
  _mm256_store_si256 ((__m256i *) m, a);
}

/* one channel's two output rows for 8 tiles from its M (m[ξ·16]) */
static inline Y_TARGET void
w_finish8 (const gint32 *m, const gint32 *bias, const CfqpInt8ConvOut *o, guint ch,
    guint8 *out0, guint8 *out1, gsize out_stride, guint x, guint ow)
{
  __m256i z = _mm256_set1_epi32 (o->z);
  __m256i loz = _mm256_set1_epi32 (o->lo - o->z), hiz = _mm256_set1_epi32 (o->hi - o->z);
  __m256i y[2][2];

  w_output8 (m, _mm256_set1_epi32 (bias[ch]), y);
  w_requant8 (y, o->pos[ch], o->neg[ch]);
  w_store_row (y[0][0], y[0][1], loz, hiz, z, out0 + ch * out_stride + x, ow - x);
  if (out1)
    w_store_row (y[1][0], y[1][1], loz, hiz, z, out1 + ch * out_stride + x, ow - x);
}

Y_TARGET void
cfqp_int8_conv_wino_f2x3_16x4__avx2 (const guint8 *const rows[4], gsize eo, gsize pair_stride,
    guint pairs, guint n_tiles, const gint32 *u, guint n_oc, const gint32 *bias,
    const CfqpInt8ConvOut *o, guint8 *out0, guint8 *out1, guint ow, gsize out_stride,
    gint16 *vbuf, gint32 *mbuf)
{
  WINO_BODY (8, __m256i, _mm256_setzero_si256, w_vload, _mm256_set1_epi32, w_vstore, w_madd,
      w_input8, w_finish8);
}

/* --- 128-bit (SSE4.1): the same steps on 4 tiles per vector ------------------ */

static inline X_TARGET __m128i
x_load4 (const guint8 *p)
{
  return _mm_cvtepu8_epi16 (_mm_loadl_epi64 ((const __m128i *) p));
}

/* V for 4 tiles of one channel pair, as w_input8 */
static inline X_TARGET void
x_input4 (const guint8 *const e[4], gsize eo, gint16 *v, gsize xi_stride)
{
  __m128i h[4][4];

  for (guint r = 0; r < 4; r++) {
    __m128i d0 = x_load4 (e[r]), d1 = x_load4 (e[r] + eo);
    __m128i d2 = x_load4 (e[r] + 2), d3 = x_load4 (e[r] + eo + 2);
    h[r][0] = _mm_sub_epi16 (d0, d2);
    h[r][1] = _mm_add_epi16 (d1, d2);
    h[r][2] = _mm_sub_epi16 (d2, d1);
    h[r][3] = _mm_sub_epi16 (d1, d3);
  }
  for (guint j = 0; j < 4; j++) {
    _mm_store_si128 ((__m128i *) (v + (0 + j) * xi_stride), _mm_sub_epi16 (h[0][j], h[2][j]));
    _mm_store_si128 ((__m128i *) (v + (4 + j) * xi_stride), _mm_add_epi16 (h[1][j], h[2][j]));
    _mm_store_si128 ((__m128i *) (v + (8 + j) * xi_stride), _mm_sub_epi16 (h[2][j], h[1][j]));
    _mm_store_si128 ((__m128i *) (v + (12 + j) * xi_stride), _mm_sub_epi16 (h[1][j], h[3][j]));
  }
}

static inline X_TARGET __m128i
x_wmadd (__m128i acc, __m128i x, __m128i b)
{
  return _mm_add_epi32 (acc, _mm_madd_epi16 (x, b));
}

/* Y for 4 tiles of one channel from its M vectors (m[ξ·8]), bias added,
 * each output row's 8 pixels in order: y[row][half] */
static inline X_TARGET void
x_output4 (const gint32 *m, __m128i bias, __m128i y[2][2])
{
  __m128i s[4][2];

  for (guint i = 0; i < 4; i++) {
    __m128i m0 = _mm_load_si128 ((const __m128i *) (m + (4 * i + 0) * 8));
    __m128i m1 = _mm_load_si128 ((const __m128i *) (m + (4 * i + 1) * 8));
    __m128i m2 = _mm_load_si128 ((const __m128i *) (m + (4 * i + 2) * 8));
    __m128i m3 = _mm_load_si128 ((const __m128i *) (m + (4 * i + 3) * 8));
    s[i][0] = _mm_add_epi32 (_mm_add_epi32 (m0, m1), m2);
    s[i][1] = _mm_sub_epi32 (_mm_sub_epi32 (m1, m2), m3);
  }
  for (guint r = 0; r < 2; r++) {
    __m128i ev = r == 0 ? _mm_add_epi32 (_mm_add_epi32 (s[0][0], s[1][0]), s[2][0]) :
        _mm_sub_epi32 (_mm_sub_epi32 (s[1][0], s[2][0]), s[3][0]);
    __m128i od = r == 0 ? _mm_add_epi32 (_mm_add_epi32 (s[0][1], s[1][1]), s[2][1]) :
        _mm_sub_epi32 (_mm_sub_epi32 (s[1][1], s[2][1]), s[3][1]);
    /* 4·Y exactly: the shift is a division */
    ev = _mm_add_epi32 (_mm_srai_epi32 (ev, 2), bias);
    od = _mm_add_epi32 (_mm_srai_epi32 (od, 2), bias);
    /* the columns in order: per-lane requantisation does not mind */
    y[r][0] = _mm_unpacklo_epi32 (ev, od);
    y[r][1] = _mm_unpackhi_epi32 (ev, od);
  }
}

static inline X_TARGET __m128i
x_vload (const gint16 *v)
{
  return _mm_load_si128 ((const __m128i *) v);
}

static inline X_TARGET void
x_vstore (gint32 *m, __m128i a)
{
  _mm_store_si128 ((__m128i *) m, a);
}

/* one channel's two output rows for 4 tiles from its M (m[ξ·8]) */
static inline X_TARGET void
x_finish4 (const gint32 *m, const gint32 *bias, const CfqpInt8ConvOut *o, guint ch,
    guint8 *out0, guint8 *out1, gsize out_stride, guint x, guint ow)
{
  __m128i z = _mm_set1_epi32 (o->z);
  __m128i loz = _mm_set1_epi32 (o->lo - o->z), hiz = _mm_set1_epi32 (o->hi - o->z);
  __m128i y[2][2];

  x_output4 (m, _mm_set1_epi32 (bias[ch]), y);
  x_store_channel (y[0][0], y[0][1], o->pos[ch], o->neg[ch], loz, hiz, z,
      out0 + ch * out_stride + x, ow - x);
  if (out1)
    x_store_channel (y[1][0], y[1][1], o->pos[ch], o->neg[ch], loz, hiz, z,
        out1 + ch * out_stride + x, ow - x);
}

X_TARGET void
cfqp_int8_conv_wino_f2x3_8x4__sse41 (const guint8 *const rows[4], gsize eo, gsize pair_stride,
    guint pairs, guint n_tiles, const gint32 *u, guint n_oc, const gint32 *bias,
    const CfqpInt8ConvOut *o, guint8 *out0, guint8 *out1, guint ow, gsize out_stride,
    gint16 *vbuf, gint32 *mbuf)
{
  WINO_BODY (4, __m128i, _mm_setzero_si128, x_vload, _mm_set1_epi32, x_vstore, x_wmadd,
      x_input4, x_finish4);
}
#endif
