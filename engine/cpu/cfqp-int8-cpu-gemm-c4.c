/* The pixel-lanes u8·s8 GEMM: 64 output pixels × 4 output channels per
 * block, each int32 lane one pixel, each vpdpbusd a 4-deep dot product of
 * the pixel's 4 gathered bytes with the channel's 4 weights (broadcast).
 * No horizontal reductions and the output lands in [oc][px] rows.  Two
 * forms: the GEMM writing int32 accumulators (cfqp-peak, tests), and the
 * conv kernel, which reads its 4-byte groups through one pointer per k/4
 * (an indirect GEMM: rows of the conv's input ring, no column copy) and
 * requantises in its epilogue, so accumulators never leave registers.
 * The vectorizer does not find this form, so it is written with
 * intrinsics, one kernel per level: AVX-512 VNNI (64 pixels, zmm), AVX-VNNI
 * (24 pixels, ymm vpdpbusd), AVX2 (16 pixels, vpmaddubsw on weights split
 * so it cannot saturate, plus exact fix-ups) and SSE4.1 (8 pixels, exact
 * int16 pmaddwd).
 * The kernel config (cfqp-int8-cpu-config.c) says which runs. */
#include "cfqp-int8-cpu-gemm.h"

#include <string.h>

/* Splits one weight pair so that its part f is bounded: the excess of
 * each sign over CFQP_INT8_MADDUBS_PAIR_MAX is taken off that sign's
 * weights, first weight first, into the residual r.  FALSE: r is zero. */
static gboolean
maddubs_split_pair (const gint8 *g, gint8 *f, gint8 *r)
{
  gint pos = MAX (g[0], 0) + MAX (g[1], 0), neg = MIN (g[0], 0) + MIN (g[1], 0);
  gint over = MAX (pos - CFQP_INT8_MADDUBS_PAIR_MAX, 0);
  gint under = MIN (neg + CFQP_INT8_MADDUBS_PAIR_MAX, 0);

  for (guint j = 0; j < 2; j++) {
    gint cut = g[j] > 0 ? MIN (over, g[j]) : MAX (under, g[j]);
    if (g[j] > 0)
      over -= cut;
    else
      under -= cut;
    f[j] = (gint8) (g[j] - cut);
    r[j] = (gint8) cut;
  }
  return r[0] != 0 || r[1] != 0;
}

gint8 *
cfqp_int8_c4_weights_maddubs (const gint8 *w, guint ocp, gsize k4n, gsize *size,
    gsize *n_fixups)
{
  gsize n = 0, at = 0, total;
  gint8 *out;

  /* the fix-ups first, to size the buffer */
  for (gsize gi = 0; gi < (gsize) ocp * k4n; gi++) {
    gint8 f[4], r[4];
    gboolean lo = maddubs_split_pair (w + 4 * gi, f, r);
    gboolean hi = maddubs_split_pair (w + 4 * gi + 2, f + 2, r + 2);
    n += lo || hi;
  }
  total = (gsize) ocp / 4 * (4 * sizeof (guint32) + 16 * k4n) + n * sizeof (CfqpInt8C4Fixup);
  out = g_malloc0 (total);
  for (guint ob = 0; ob < ocp; ob += 4) {
    guint32 counts[4] = { 0 };
    gint8 *f = out + at + 4 * sizeof (guint32);
    CfqpInt8C4Fixup *fix = (CfqpInt8C4Fixup *) (f + 16 * k4n);
    for (guint o = 0; o < 4; o++)
      for (gsize k4 = 0; k4 < k4n; k4++) {
        const gint8 *g = w + ((gsize) (ob + o) * k4n + k4) * 4;
        gint8 *fg = f + ((gsize) o * k4n + k4) * 4, r[4];
        gboolean lo = maddubs_split_pair (g, fg, r);
        gboolean hi = maddubs_split_pair (g + 2, fg + 2, r + 2);
        if (lo || hi) {
          fix->k4 = (guint32) k4;
          memcpy (fix->r, r, 4);
          fix++;
          counts[o]++;
        }
      }
    memcpy (out + at, counts, sizeof counts);
    at = (gsize) ((gint8 *) fix - out);
  }
  g_assert (at == total);
  *size = total;
  *n_fixups = n;
  return out;
}

#if CFQP_GEMM_X86
#include <immintrin.h>

#include "cfqp-int8-cpu-avx2-requant.h"
#include "cfqp-int8-cpu-sse41-requant.h"

static inline gint32
load_i32 (const gint8 *p)
{
  gint32 v;
  memcpy (&v, p, sizeof v);
  return v;
}

__attribute__ ((target ("avx512f,avx512bw,avx512vl,avx512vnni"))) void
cfqp_int8_gemm_u8s8_64x4c4__avx512vnni (const guint8 *col4, gsize kp, guint n_px,
    const gint8 *w, guint n_oc, const gint32 *bias, gint32 *acc, gsize acc_stride)
{
  gsize k4n = kp / 4, row = (gsize) n_px * 4;

  for (guint px = 0; px < n_px; px += 64)
    for (guint oc = 0; oc < n_oc; oc += 4) {
      const gint8 *w0 = w + oc * kp, *w1 = w0 + kp, *w2 = w1 + kp, *w3 = w2 + kp;
      const guint8 *c = col4 + (gsize) px * 4;
      __m512i a[4][4];

      for (guint o = 0; o < 4; o++)
        for (guint v = 0; v < 4; v++)
          a[o][v] = _mm512_set1_epi32 (bias[oc + o]);
      for (gsize k4 = 0; k4 < k4n; k4++, c += row) {
        __m512i x0 = _mm512_loadu_si512 (c), x1 = _mm512_loadu_si512 (c + 64);
        __m512i x2 = _mm512_loadu_si512 (c + 128), x3 = _mm512_loadu_si512 (c + 192);
        __m512i b0 = _mm512_set1_epi32 (load_i32 (w0 + 4 * k4));
        __m512i b1 = _mm512_set1_epi32 (load_i32 (w1 + 4 * k4));
        __m512i b2 = _mm512_set1_epi32 (load_i32 (w2 + 4 * k4));
        __m512i b3 = _mm512_set1_epi32 (load_i32 (w3 + 4 * k4));
        a[0][0] = _mm512_dpbusd_epi32 (a[0][0], x0, b0);
        a[0][1] = _mm512_dpbusd_epi32 (a[0][1], x1, b0);
        a[0][2] = _mm512_dpbusd_epi32 (a[0][2], x2, b0);
        a[0][3] = _mm512_dpbusd_epi32 (a[0][3], x3, b0);
        a[1][0] = _mm512_dpbusd_epi32 (a[1][0], x0, b1);
        a[1][1] = _mm512_dpbusd_epi32 (a[1][1], x1, b1);
        a[1][2] = _mm512_dpbusd_epi32 (a[1][2], x2, b1);
        a[1][3] = _mm512_dpbusd_epi32 (a[1][3], x3, b1);
        a[2][0] = _mm512_dpbusd_epi32 (a[2][0], x0, b2);
        a[2][1] = _mm512_dpbusd_epi32 (a[2][1], x1, b2);
        a[2][2] = _mm512_dpbusd_epi32 (a[2][2], x2, b2);
        a[2][3] = _mm512_dpbusd_epi32 (a[2][3], x3, b2);
        a[3][0] = _mm512_dpbusd_epi32 (a[3][0], x0, b3);
        a[3][1] = _mm512_dpbusd_epi32 (a[3][1], x1, b3);
        a[3][2] = _mm512_dpbusd_epi32 (a[3][2], x2, b3);
        a[3][3] = _mm512_dpbusd_epi32 (a[3][3], x3, b3);
      }
      for (guint o = 0; o < 4; o++)
        for (guint v = 0; v < 4; v++)
          _mm512_storeu_si512 (acc + (oc + o) * acc_stride + px + 16 * v, a[o][v]);
    }
}

/* ref's conv output stage on 16 int32 accumulators (one output channel),
 * to bytes:
 *   p = acc·m (int64), r = rshift_round(p, shift) (half away from zero),
 *   out = clamp(z + r, lo, hi)   (cfqp_clamp_u8's order).
 * Rounding as one arithmetic shift: for p < 0, −((−p + h) >> s) equals
 * (p + h − 1) >> s (ceil((p − h)/2^s) = floor((p − h + 2^s − 1)/2^s)), so
 * r = (p + h + (p >> 63)) >> s.  r is saturated to int32 before the clamp:
 * saturation keeps order and the bounds lo − z, hi − z lie inside int32,
 * so the comparisons are the 64-bit ones. */
typedef struct {
  __m512i m;      /* int32 lanes: the multiplier */
  __m512i half;   /* int64 lanes: 2^(shift−1) */
  __m128i count;  /* the shift */
} C4Requant;

#define C4_TARGET __attribute__ ((target ("avx512f,avx512bw,avx512vl,avx512vnni")))

static inline C4_TARGET __m512i
c4_round (__m512i p, __m512i half, __m128i count)
{
  p = _mm512_add_epi64 (p, _mm512_add_epi64 (half, _mm512_srai_epi64 (p, 63)));
  return _mm512_sra_epi64 (p, count);
}

static inline C4_TARGET __m512i
c4_round_v (__m512i p, __m512i count)
{
  __m512i half = _mm512_sllv_epi64 (_mm512_set1_epi64 (1),
      _mm512_sub_epi64 (count, _mm512_set1_epi64 (1)));
  p = _mm512_add_epi64 (p, _mm512_add_epi64 (half, _mm512_srai_epi64 (p, 63)));
  return _mm512_srav_epi64 (p, count);
}

/* even and odd int64 results back into pixel order as int32 */
static inline C4_TARGET __m512i
c4_merge (__m512i re, __m512i ro)
{
  const __m512i idx = _mm512_set_epi32 (23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  return _mm512_permutex2var_epi32 (_mm512_castsi256_si512 (_mm512_cvtsepi64_epi32 (re)), idx,
      _mm512_castsi256_si512 (_mm512_cvtsepi64_epi32 (ro)));
}

static inline C4_TARGET __m128i
c4_clamp (__m512i v, __m512i loz, __m512i hiz, __m512i z)
{
  /* ONNX Clip's order, as cfqp_clamp_u8 */
  __m512i t = _mm512_min_epi32 (_mm512_max_epi32 (v, loz), hiz);
  return _mm512_cvtepi32_epi8 (_mm512_add_epi32 (t, z));
}

/* one multiplier for every lane, shift ≥ 32: |r| < 2^30 (|p| < 2^62), no
 * saturation needed, and the odd lanes shifted by shift − 32 hold r in
 * their high halves, so one blend merges them */
static inline C4_TARGET __m512i
c4_requant1_big (__m512i acc, const C4Requant *rq, __m128i count_odd)
{
  __m512i pe = _mm512_mul_epi32 (acc, rq->m);
  __m512i po = _mm512_mul_epi32 (_mm512_srli_epi64 (acc, 32), rq->m);
  return _mm512_mask_blend_epi32 (0xaaaa, c4_round (pe, rq->half, rq->count),
      c4_round (po, rq->half, count_odd));
}

/* one multiplier for every lane, any shift */
static inline C4_TARGET __m512i
c4_requant1 (__m512i acc, const C4Requant *rq)
{
  __m512i pe = _mm512_mul_epi32 (acc, rq->m);
  __m512i po = _mm512_mul_epi32 (_mm512_srli_epi64 (acc, 32), rq->m);
  return c4_merge (c4_round (pe, rq->half, rq->count), c4_round (po, rq->half, rq->count));
}

/* the negative-side multiplier where acc < 0 (LeakyReLU, PReLU) */
static inline C4_TARGET __m512i
c4_requant2 (__m512i acc, __m512i mp, __m512i mn, __m512i sp, __m512i sn)
{
  __mmask16 neg = _mm512_cmplt_epi32_mask (acc, _mm512_setzero_si512 ());
  __m512i m = _mm512_mask_blend_epi32 (neg, mp, mn), s = _mm512_mask_blend_epi32 (neg, sp, sn);
  __m512i pe = _mm512_mul_epi32 (acc, m);
  __m512i po = _mm512_mul_epi32 (_mm512_srli_epi64 (acc, 32), _mm512_srli_epi64 (m, 32));
  __m512i se = _mm512_and_si512 (s, _mm512_set1_epi64 (0xffffffff));
  return c4_merge (c4_round_v (pe, se), c4_round_v (po, _mm512_srli_epi64 (s, 32)));
}

/* requantise one channel's 64 accumulators, store its bytes (masked at
 * the row's end) */
static inline C4_TARGET void
c4_store_channel (__m512i a0, __m512i a1, __m512i a2, __m512i a3, CfqpRequant p,
    CfqpRequant n, __m512i loz, __m512i hiz, __m512i z, guint8 *dst, guint left)
{
  __m128i b0, b1, b2, b3;

  if (p.m == n.m && p.shift == n.shift) {
    C4Requant rq = { _mm512_set1_epi32 (p.m), _mm512_set1_epi64 ((gint64) 1 << (p.shift - 1)),
                     _mm_cvtsi32_si128 (p.shift) };
    if (p.shift >= 32) {
      __m128i count_odd = _mm_cvtsi32_si128 (p.shift - 32);
      b0 = c4_clamp (c4_requant1_big (a0, &rq, count_odd), loz, hiz, z);
      b1 = c4_clamp (c4_requant1_big (a1, &rq, count_odd), loz, hiz, z);
      b2 = c4_clamp (c4_requant1_big (a2, &rq, count_odd), loz, hiz, z);
      b3 = c4_clamp (c4_requant1_big (a3, &rq, count_odd), loz, hiz, z);
    } else {
      b0 = c4_clamp (c4_requant1 (a0, &rq), loz, hiz, z);
      b1 = c4_clamp (c4_requant1 (a1, &rq), loz, hiz, z);
      b2 = c4_clamp (c4_requant1 (a2, &rq), loz, hiz, z);
      b3 = c4_clamp (c4_requant1 (a3, &rq), loz, hiz, z);
    }
  } else {
    __m512i mp = _mm512_set1_epi32 (p.m), mn = _mm512_set1_epi32 (n.m);
    __m512i sp = _mm512_set1_epi32 (p.shift), sn = _mm512_set1_epi32 (n.shift);
    b0 = c4_clamp (c4_requant2 (a0, mp, mn, sp, sn), loz, hiz, z);
    b1 = c4_clamp (c4_requant2 (a1, mp, mn, sp, sn), loz, hiz, z);
    b2 = c4_clamp (c4_requant2 (a2, mp, mn, sp, sn), loz, hiz, z);
    b3 = c4_clamp (c4_requant2 (a3, mp, mn, sp, sn), loz, hiz, z);
  }
  if (left >= 64) {
    _mm_storeu_si128 ((__m128i *) dst, b0);
    _mm_storeu_si128 ((__m128i *) (dst + 16), b1);
    _mm_storeu_si128 ((__m128i *) (dst + 32), b2);
    _mm_storeu_si128 ((__m128i *) (dst + 48), b3);
  } else {
    /* bit i of m: byte 16·v + i is inside the row */
    guint64 m = (G_GUINT64_CONSTANT (1) << left) - 1;
    _mm_mask_storeu_epi8 (dst, (__mmask16) m, b0);
    _mm_mask_storeu_epi8 (dst + 16, (__mmask16) (m >> 16), b1);
    _mm_mask_storeu_epi8 (dst + 32, (__mmask16) (m >> 32), b2);
    _mm_mask_storeu_epi8 (dst + 48, (__mmask16) (m >> 48), b3);
  }
}

/* Accumulators as named variables: an array indexed in the epilogue
 * makes GCC keep them in memory or shuffle copies through the k loop. */
C4_TARGET void
cfqp_int8_conv_u8s8_64x4c4__avx512vnni (const guint8 *const *a, gsize k4n, guint n_px,
    const gint8 *w, guint n_oc, const gint32 *bias, const CfqpInt8ConvOut *o, guint8 *out,
    gsize out_stride)
{
  gsize kp = k4n * 4;
  __m512i z = _mm512_set1_epi32 (o->z);
  __m512i loz = _mm512_set1_epi32 (o->lo - o->z), hiz = _mm512_set1_epi32 (o->hi - o->z);

  for (guint px = 0; px < n_px; px += 64)
    for (guint oc = 0; oc < n_oc; oc += 4) {
      const gint8 *w0 = w + oc * kp, *w1 = w0 + kp, *w2 = w1 + kp, *w3 = w2 + kp;
      gsize off = (gsize) px * 4;
      guint left = n_px - px;
      guint8 *dst = out + oc * out_stride + px;
      __m512i a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33;

      a00 = a01 = a02 = a03 = _mm512_set1_epi32 (bias[oc]);
      a10 = a11 = a12 = a13 = _mm512_set1_epi32 (bias[oc + 1]);
      a20 = a21 = a22 = a23 = _mm512_set1_epi32 (bias[oc + 2]);
      a30 = a31 = a32 = a33 = _mm512_set1_epi32 (bias[oc + 3]);
      for (gsize k4 = 0; k4 < k4n; k4++) {
        const guint8 *c = a[k4] + off;
        __m512i x0 = _mm512_loadu_si512 (c), x1 = _mm512_loadu_si512 (c + 64);
        __m512i x2 = _mm512_loadu_si512 (c + 128), x3 = _mm512_loadu_si512 (c + 192);
        __m512i b0 = _mm512_set1_epi32 (load_i32 (w0 + 4 * k4));
        __m512i b1 = _mm512_set1_epi32 (load_i32 (w1 + 4 * k4));
        __m512i b2 = _mm512_set1_epi32 (load_i32 (w2 + 4 * k4));
        __m512i b3 = _mm512_set1_epi32 (load_i32 (w3 + 4 * k4));
        a00 = _mm512_dpbusd_epi32 (a00, x0, b0);
        a01 = _mm512_dpbusd_epi32 (a01, x1, b0);
        a02 = _mm512_dpbusd_epi32 (a02, x2, b0);
        a03 = _mm512_dpbusd_epi32 (a03, x3, b0);
        a10 = _mm512_dpbusd_epi32 (a10, x0, b1);
        a11 = _mm512_dpbusd_epi32 (a11, x1, b1);
        a12 = _mm512_dpbusd_epi32 (a12, x2, b1);
        a13 = _mm512_dpbusd_epi32 (a13, x3, b1);
        a20 = _mm512_dpbusd_epi32 (a20, x0, b2);
        a21 = _mm512_dpbusd_epi32 (a21, x1, b2);
        a22 = _mm512_dpbusd_epi32 (a22, x2, b2);
        a23 = _mm512_dpbusd_epi32 (a23, x3, b2);
        a30 = _mm512_dpbusd_epi32 (a30, x0, b3);
        a31 = _mm512_dpbusd_epi32 (a31, x1, b3);
        a32 = _mm512_dpbusd_epi32 (a32, x2, b3);
        a33 = _mm512_dpbusd_epi32 (a33, x3, b3);
      }
      c4_store_channel (a00, a01, a02, a03, o->pos[oc], o->neg[oc], loz, hiz, z, dst, left);
      if (oc + 1 < n_oc)
        c4_store_channel (a10, a11, a12, a13, o->pos[oc + 1], o->neg[oc + 1], loz, hiz, z,
            dst + out_stride, left);
      if (oc + 2 < n_oc)
        c4_store_channel (a20, a21, a22, a23, o->pos[oc + 2], o->neg[oc + 2], loz, hiz, z,
            dst + 2 * out_stride, left);
      if (oc + 3 < n_oc)
        c4_store_channel (a30, a31, a32, a33, o->pos[oc + 3], o->neg[oc + 3], loz, hiz, z,
            dst + 3 * out_stride, left);
    }
}

/* --- 256-bit kernels (AVX-VNNI, AVX2) ----------------------------------------- */

/* one channel's 16 or 24 accumulators requantised and stored; the
 * output's constants are built here, not held through the k loop, where
 * the 24-pixel tile needs every register */
static inline Y_TARGET void
y_store_channel (__m256i a0, __m256i a1, const CfqpInt8ConvOut *o, guint ch, guint8 *dst,
    guint left)
{
  __m256i z = _mm256_set1_epi32 (o->z);
  __m256i loz = _mm256_set1_epi32 (o->lo - o->z), hiz = _mm256_set1_epi32 (o->hi - o->z);

  y_store_bytes (y_clamp_pack (y_requant (a0, o->pos[ch], o->neg[ch]),
      y_requant (a1, o->pos[ch], o->neg[ch]), loz, hiz, z), dst, left, 16);
}

static G_GNUC_NO_INLINE Y_TARGET void
y_store_channel24 (__m256i a0, __m256i a1, __m256i a2, const CfqpInt8ConvOut *o, guint ch,
    guint8 *dst, guint left)
{
  y_store_channel (a0, a1, o, ch, dst, left);
  if (left > 16) {
    __m256i z = _mm256_set1_epi32 (o->z);
    __m256i loz = _mm256_set1_epi32 (o->lo - o->z), hiz = _mm256_set1_epi32 (o->hi - o->z);
    __m256i r = y_requant (a2, o->pos[ch], o->neg[ch]);
    y_store_bytes (y_clamp_pack (r, r, loz, hiz, z), dst + 16, left - 16, 8);
  }
}

/* The 256-bit kernels share one body for a tile of V pixel vectors (8
 * pixels each) × 4 channels, written with macros so that the
 * accumulators are named variables (a<channel><vector>): an array makes
 * GCC keep them in memory.  Y_EACH_V<V> (F, arg) expands F (v, arg) for
 * each vector v. */
#define Y_EACH_V2(F, arg) F (0, arg) F (1, arg)
#define Y_EACH_V3(F, arg) F (0, arg) F (1, arg) F (2, arg)

#define Y_ACC_DECL(v, ch) __m256i a##ch##v;
#define Y_ACC_INIT(v, ch) a##ch##v = _mm256_set1_epi32 (bias[oc + ch]);
#define Y_LOAD_X(v, c)    __m256i x##v = _mm256_loadu_si256 ((const __m256i *) ((c) + 32 * v));
#define Y_MADD_0(v, MADD) a0##v = MADD (a0##v, x##v, b);
#define Y_MADD_1(v, MADD) a1##v = MADD (a1##v, x##v, b);
#define Y_MADD_2(v, MADD) a2##v = MADD (a2##v, x##v, b);
#define Y_MADD_3(v, MADD) a3##v = MADD (a3##v, x##v, b);

/* declares the accumulators and starts them at the channels' biases */
#define Y_C4_INIT(EACH_V) \
  EACH_V (Y_ACC_DECL, 0) EACH_V (Y_ACC_DECL, 1) EACH_V (Y_ACC_DECL, 2) EACH_V (Y_ACC_DECL, 3) \
  EACH_V (Y_ACC_INIT, 0) EACH_V (Y_ACC_INIT, 1) EACH_V (Y_ACC_INIT, 2) EACH_V (Y_ACC_INIT, 3)

/* k4n 4-deep steps: w0..w3 the channels' int8 weight rows, MADD (acc, x,
 * b) the level's u8·s8 multiply-add on 8 pixels, b one channel's 4
 * weights broadcast */
#define Y_C4_ACCUMULATE(EACH_V, MADD) \
  G_STMT_START { \
    for (gsize k4 = 0; k4 < k4n; k4++) { \
      const guint8 *c = a[k4] + off; \
      EACH_V (Y_LOAD_X, c) \
      __m256i b; \
      b = _mm256_set1_epi32 (load_i32 (w0 + 4 * k4)); \
      EACH_V (Y_MADD_0, MADD) \
      b = _mm256_set1_epi32 (load_i32 (w1 + 4 * k4)); \
      EACH_V (Y_MADD_1, MADD) \
      b = _mm256_set1_epi32 (load_i32 (w2 + 4 * k4)); \
      EACH_V (Y_MADD_2, MADD) \
      b = _mm256_set1_epi32 (load_i32 (w3 + 4 * k4)); \
      EACH_V (Y_MADD_3, MADD) \
    } \
  } G_STMT_END

/* the four channels' epilogue, channels past n_oc skipped; STORE (ch,
 * dst) stores channel ch's accumulators */
#define Y_STORE_16(ch, dst) y_store_channel (a##ch##0, a##ch##1, o, oc + ch, dst, left)
#define Y_STORE_24(ch, dst) \
  y_store_channel24 (a##ch##0, a##ch##1, a##ch##2, o, oc + ch, dst, left)
#define Y_STORE4(STORE) \
  G_STMT_START { \
    STORE (0, dst); \
    if (oc + 1 < n_oc) \
      STORE (1, dst + out_stride); \
    if (oc + 2 < n_oc) \
      STORE (2, dst + 2 * out_stride); \
    if (oc + 3 < n_oc) \
      STORE (3, dst + 3 * out_stride); \
  } G_STMT_END

static inline Y_TARGET_VNNI __m256i
y_dpbusd (__m256i acc, __m256i x, __m256i b)
{
  return _mm256_dpbusd_avx_epi32 (acc, x, b);
}

/* 24 pixels × 4 channels: 12 accumulators, so that 12 independent
 * vpdpbusd chains cover its latency (8 chains, a 16-pixel tile, left the
 * multipliers idle: 1.3× slower on the same data); with 3 input vectors
 * and the broadcast weight that is all 16 ymm registers. */
Y_TARGET_VNNI void
cfqp_int8_conv_u8s8_24x4c4__avxvnni (const guint8 *const *a, gsize k4n, guint n_px,
    const gint8 *w, guint n_oc, const gint32 *bias, const CfqpInt8ConvOut *o, guint8 *out,
    gsize out_stride)
{
  gsize kp = k4n * 4;

  for (guint px = 0; px < n_px; px += 24)
    for (guint oc = 0; oc < n_oc; oc += 4) {
      const gint8 *w0 = w + oc * kp, *w1 = w0 + kp, *w2 = w1 + kp, *w3 = w2 + kp;
      gsize off = (gsize) px * 4;
      guint left = n_px - px;
      guint8 *dst = out + oc * out_stride + px;

      Y_C4_INIT (Y_EACH_V3);
      Y_C4_ACCUMULATE (Y_EACH_V3, y_dpbusd);
      Y_STORE4 (Y_STORE_24);
    }
}

/* Without VNNI: vpmaddubsw adds each pixel's byte pairs (x0·f0 + x1·f1,
 * x2·f2 + x3·f3) in int16, vpmaddwd by ones adds the two into int32.  The
 * pack bounded every weight pair so the int16 sums cannot saturate
 * (cfqp_int8_c4_weights_maddubs); the residual weights, where a pair had
 * to be cut, come after the block as (group, 4 weights) fix-ups and take
 * the same two steps.  3 instructions per 8 pixels × 4-deep step against
 * the int16 scheme's 4 (+ the widening), and every sum stays exact. */
static inline Y_TARGET __m256i
y_maddubs (__m256i acc, __m256i x, __m256i b)
{
  return _mm256_add_epi32 (acc, _mm256_madd_epi16 (_mm256_maddubs_epi16 (x, b),
      _mm256_set1_epi16 (1)));
}

/* One channel's fix-ups into its two accumulators. */
#define Y_C4_FIXUPS(acc0, acc1, n) \
  G_STMT_START { \
    for (guint32 i = 0; i < (n); i++, fix++) { \
      const guint8 *c = a[fix->k4] + off; \
      __m256i b = _mm256_set1_epi32 (load_i32 (fix->r)); \
      acc0 = y_maddubs (acc0, _mm256_loadu_si256 ((const __m256i *) c), b); \
      acc1 = y_maddubs (acc1, _mm256_loadu_si256 ((const __m256i *) (c + 32)), b); \
    } \
  } G_STMT_END

Y_TARGET void
cfqp_int8_conv_u8s8_16x4c4__avx2 (const guint8 *const *a, gsize k4n, guint n_px,
    const gint8 *w, guint n_oc, const gint32 *bias, const CfqpInt8ConvOut *o, guint8 *out,
    gsize out_stride)
{
  for (guint px = 0; px < n_px; px += 16) {
    const gint8 *blk = w;

    for (guint oc = 0; oc < n_oc; oc += 4) {
      guint32 n_fix[4];
      const gint8 *w0 = blk + sizeof n_fix, *w1 = w0 + 4 * k4n;
      const gint8 *w2 = w1 + 4 * k4n, *w3 = w2 + 4 * k4n;
      const CfqpInt8C4Fixup *fix = (const CfqpInt8C4Fixup *) (w3 + 4 * k4n);
      gsize off = (gsize) px * 4;
      guint left = n_px - px;
      guint8 *dst = out + oc * out_stride + px;

      memcpy (n_fix, blk, sizeof n_fix);
      Y_C4_INIT (Y_EACH_V2);
      Y_C4_ACCUMULATE (Y_EACH_V2, y_maddubs);
      Y_C4_FIXUPS (a00, a01, n_fix[0]);
      Y_C4_FIXUPS (a10, a11, n_fix[1]);
      Y_C4_FIXUPS (a20, a21, n_fix[2]);
      Y_C4_FIXUPS (a30, a31, n_fix[3]);
      blk = (const gint8 *) fix;
      Y_STORE4 (Y_STORE_16);
    }
  }
}

/* --- 128-bit kernel (SSE4.1) ---------------------------------------------------- */

/* Exactly, on any weights: each pixel's 4 bytes are split into int16
 * lanes, bytes 0 and 2 (AND) and bytes 1 and 3 (shift), and pmaddwd
 * multiplies them with the weight pairs (w0, w2) and (w1, w3), packed so
 * at load: two multiplies and two adds per 4 pixels, channel and 4-deep
 * step, all in int32. */
static inline X_TARGET __m128i
x_madd4 (__m128i acc, __m128i xe, __m128i xo, const gint32 *wp)
{
  __m128i pe = _mm_madd_epi16 (xe, _mm_set1_epi32 (wp[0]));
  __m128i po = _mm_madd_epi16 (xo, _mm_set1_epi32 (wp[1]));
  return _mm_add_epi32 (acc, _mm_add_epi32 (pe, po));
}

X_TARGET void
cfqp_int8_conv_u8s8_8x4c4__sse41 (const guint8 *const *a, gsize k4n, guint n_px,
    const gint8 *w, guint n_oc, const gint32 *bias, const CfqpInt8ConvOut *o, guint8 *out,
    gsize out_stride)
{
  const gint32 *w16 = (const gint32 *) w;
  const __m128i even = _mm_set1_epi32 (0x00ff00ff);
  __m128i z = _mm_set1_epi32 (o->z);
  __m128i loz = _mm_set1_epi32 (o->lo - o->z), hiz = _mm_set1_epi32 (o->hi - o->z);

  for (guint px = 0; px < n_px; px += 8)
    for (guint oc = 0; oc < n_oc; oc += 4) {
      const gint32 *w0 = w16 + (gsize) oc * k4n * 2, *w1 = w0 + k4n * 2;
      const gint32 *w2 = w1 + k4n * 2, *w3 = w2 + k4n * 2;
      gsize off = (gsize) px * 4;
      guint left = n_px - px;
      guint8 *dst = out + oc * out_stride + px;
      __m128i a00, a01, a10, a11, a20, a21, a30, a31;

      a00 = a01 = _mm_set1_epi32 (bias[oc]);
      a10 = a11 = _mm_set1_epi32 (bias[oc + 1]);
      a20 = a21 = _mm_set1_epi32 (bias[oc + 2]);
      a30 = a31 = _mm_set1_epi32 (bias[oc + 3]);
      for (gsize k4 = 0; k4 < k4n; k4++) {
        const guint8 *c = a[k4] + off;
        __m128i x0 = _mm_loadu_si128 ((const __m128i *) c);
        __m128i x1 = _mm_loadu_si128 ((const __m128i *) (c + 16));
        __m128i xe0 = _mm_and_si128 (x0, even), xo0 = _mm_srli_epi16 (x0, 8);
        __m128i xe1 = _mm_and_si128 (x1, even), xo1 = _mm_srli_epi16 (x1, 8);
        a00 = x_madd4 (a00, xe0, xo0, w0 + 2 * k4);
        a01 = x_madd4 (a01, xe1, xo1, w0 + 2 * k4);
        a10 = x_madd4 (a10, xe0, xo0, w1 + 2 * k4);
        a11 = x_madd4 (a11, xe1, xo1, w1 + 2 * k4);
        a20 = x_madd4 (a20, xe0, xo0, w2 + 2 * k4);
        a21 = x_madd4 (a21, xe1, xo1, w2 + 2 * k4);
        a30 = x_madd4 (a30, xe0, xo0, w3 + 2 * k4);
        a31 = x_madd4 (a31, xe1, xo1, w3 + 2 * k4);
      }
      x_store_channel (a00, a01, o->pos[oc], o->neg[oc], loz, hiz, z, dst, left);
      if (oc + 1 < n_oc)
        x_store_channel (a10, a11, o->pos[oc + 1], o->neg[oc + 1], loz, hiz, z,
            dst + out_stride, left);
      if (oc + 2 < n_oc)
        x_store_channel (a20, a21, o->pos[oc + 2], o->neg[oc + 2], loz, hiz, z,
            dst + 2 * out_stride, left);
      if (oc + 3 < n_oc)
        x_store_channel (a30, a31, o->pos[oc + 3], o->neg[oc + 3], loz, hiz, z,
            dst + 3 * out_stride, left);
    }
}
#endif
