/* The pixel-lanes u8·s8 GEMM: 64 output pixels × 4 output channels per
 * block, each int32 lane one pixel, each vpdpbusd a 4-deep dot product of
 * the pixel's 4 gathered bytes with the channel's 4 weights (broadcast).
 * No horizontal reductions and the output lands in [oc][px] rows.  Two
 * forms: the GEMM writing int32 accumulators (cfqp-peak, tests), and the
 * conv kernel, which reads its 4-byte groups through one pointer per k/4
 * (an indirect GEMM: rows of the conv's input ring, no column copy) and
 * requantises in its epilogue, so accumulators never leave registers.
 * The vectorizer does not find this form, so it is written with AVX-512
 * VNNI intrinsics; CPUs without it use the dot-product kernels of
 * cfqp-int8-cpu-gemm.c. */
#include "cfqp-int8-cpu-gemm.h"

#include <string.h>

#if CFQP_GEMM_X86
#include <immintrin.h>

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
#endif
