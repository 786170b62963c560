/* The 128-bit requantising epilogue shared by the SSE4.1 conv kernels
 * (internal; include only from files built for x86-64 with GCC): ref's
 * output stage on 4 int32 lanes, and one channel's 8 bytes stored. */
#pragma once

#include "cfqp-int8-cpu-gemm.h"

#include <immintrin.h>
#include <string.h>

/* ref's output stage on xmm, the avx2 epilogue's arithmetic.  SSE4.1 has
 * neither the 64-bit compare (SSE4.2) nor per-lane shifts, so the
 * saturation tests the bits above 2^31 with 32-bit compares, and the
 * negative-side multiplier is a second full requantisation blended in
 * where acc < 0. */
#define X_TARGET __attribute__ ((target ("sse4.1")))

typedef struct {
  __m128i m, msign, half;
  __m128i count, count_odd;
  gboolean big;
} XRequant;

static inline X_TARGET void
x_requant_init (XRequant *rq, CfqpRequant p)
{
  rq->m = _mm_set1_epi32 (ABS (p.m));
  rq->msign = _mm_set1_epi32 (p.m < 0 ? -1 : 0);
  rq->half = _mm_set1_epi64x ((gint64) 1 << (p.shift - 1));
  rq->count = _mm_cvtsi32_si128 (p.shift);
  rq->count_odd = _mm_cvtsi32_si128 (p.shift - 32);
  rq->big = p.shift >= 32;
}

/* min(v, 2^31 − 1) for 0 ≤ v < 2^63 */
static inline X_TARGET __m128i
x_sat31 (__m128i v)
{
  __m128i small = _mm_cmpeq_epi32 (_mm_srli_epi64 (v, 31), _mm_setzero_si128 ());
  small = _mm_and_si128 (small, _mm_shuffle_epi32 (small, 0xb1));   /* both halves */
  return _mm_blendv_epi8 (_mm_set1_epi64x (G_MAXINT32), v, small);
}

static inline X_TARGET __m128i
x_requant1 (__m128i acc, const XRequant *rq)
{
  __m128i a = _mm_abs_epi32 (acc);
  __m128i pe = _mm_add_epi64 (_mm_mul_epu32 (a, rq->m), rq->half);
  __m128i po = _mm_add_epi64 (_mm_mul_epu32 (_mm_srli_epi64 (a, 32), rq->m), rq->half);
  __m128i sign = _mm_xor_si128 (_mm_srai_epi32 (acc, 31), rq->msign);
  __m128i r;

  if (rq->big)
    r = _mm_blend_epi16 (_mm_srl_epi64 (pe, rq->count), _mm_srl_epi64 (po, rq->count_odd), 0xcc);
  else
    r = _mm_blend_epi16 (x_sat31 (_mm_srl_epi64 (pe, rq->count)),
        _mm_slli_epi64 (x_sat31 (_mm_srl_epi64 (po, rq->count)), 32), 0xcc);
  return _mm_sub_epi32 (_mm_xor_si128 (r, sign), sign);
}

static inline X_TARGET void
x_store_channel (__m128i a0, __m128i a1, CfqpRequant p, CfqpRequant n, __m128i loz,
    __m128i hiz, __m128i z, guint8 *dst, guint left)
{
  const __m128i bytes = _mm_set1_epi32 (0xff);
  XRequant rp;
  __m128i r0, r1, b;

  x_requant_init (&rp, p);
  r0 = x_requant1 (a0, &rp);
  r1 = x_requant1 (a1, &rp);
  if (p.m != n.m || p.shift != n.shift) {
    XRequant rn;
    x_requant_init (&rn, n);
    r0 = _mm_blendv_epi8 (r0, x_requant1 (a0, &rn), _mm_cmpgt_epi32 (_mm_setzero_si128 (), a0));
    r1 = _mm_blendv_epi8 (r1, x_requant1 (a1, &rn), _mm_cmpgt_epi32 (_mm_setzero_si128 (), a1));
  }
  /* clamp in cfqp_clamp_u8's order, z, the low byte */
  r0 = _mm_min_epi32 (_mm_max_epi32 (r0, loz), hiz);
  r1 = _mm_min_epi32 (_mm_max_epi32 (r1, loz), hiz);
  r0 = _mm_and_si128 (_mm_add_epi32 (r0, z), bytes);
  r1 = _mm_and_si128 (_mm_add_epi32 (r1, z), bytes);
  b = _mm_packus_epi16 (_mm_packs_epi32 (r0, r1), _mm_setzero_si128 ());
  if (left >= 8) {
    _mm_storel_epi64 ((__m128i *) dst, b);
  } else {
    guint8 tmp[16];
    _mm_storeu_si128 ((__m128i *) tmp, b);
    memcpy (dst, tmp, left);
  }
}
