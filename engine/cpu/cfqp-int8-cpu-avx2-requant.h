/* The 256-bit requantising epilogue shared by the AVX2-level conv kernels
 * (internal; include only from files built for x86-64 with GCC): ref's
 * output stage on 8 int32 lanes, its clamp and byte pack, and the row-end
 * store. */
#pragma once

#include "cfqp-int8-cpu-gemm.h"

#include <immintrin.h>
#include <string.h>

/* ref's output stage on 8 int32 accumulators without AVX-512: AVX2 has no
 * 64-bit arithmetic shift, so the rounding works on magnitudes:
 *   |p| = |acc|·|m| (vpmuludq: |acc| ≤ 2^31 as unsigned, |m| < 2^31, so
 *   |p| < 2^62), r = (|p| + 2^(s−1)) >> s logically (half away from
 *   zero: ref's −((−p + h) >> s) for p < 0), then r's sign is acc's sign
 *   XOR m's.  r is saturated to 2^31 − 1 before the sign: saturation keeps
 *   order and lo − z, hi − z lie inside int32, so the clamp is ref's. */
#define Y_TARGET __attribute__ ((target ("avx2,fma")))
#define Y_TARGET_VNNI __attribute__ ((target ("avx2,fma,avxvnni")))

typedef struct {
  __m256i m;           /* |m| in every int32 lane */
  __m256i msign;       /* all ones where m < 0 */
  __m256i half;        /* int64 lanes: 2^(shift−1) */
  __m128i count, count_odd;
  gboolean big;        /* shift ≥ 32: |r| < 2^30, nothing to saturate */
} YRequant;

static inline Y_TARGET __m256i
y_sat31 (__m256i v)
{
  const __m256i lim = _mm256_set1_epi64x (G_MAXINT32);
  return _mm256_blendv_epi8 (v, lim, _mm256_cmpgt_epi64 (v, lim));
}

/* r from even and odd magnitudes, then the sign */
static inline Y_TARGET __m256i
y_signed (__m256i re, __m256i ro, __m256i sign)
{
  __m256i r = _mm256_blend_epi32 (y_sat31 (re), _mm256_slli_epi64 (y_sat31 (ro), 32), 0xaa);
  return _mm256_sub_epi32 (_mm256_xor_si256 (r, sign), sign);
}

/* one multiplier for every lane */
static inline Y_TARGET __m256i
y_requant1 (__m256i acc, const YRequant *rq)
{
  __m256i a = _mm256_abs_epi32 (acc);
  __m256i pe = _mm256_add_epi64 (_mm256_mul_epu32 (a, rq->m), rq->half);
  __m256i po = _mm256_add_epi64 (_mm256_mul_epu32 (_mm256_srli_epi64 (a, 32), rq->m), rq->half);
  __m256i sign = _mm256_xor_si256 (_mm256_srai_epi32 (acc, 31), rq->msign);
  __m256i r;

  if (!rq->big)
    return y_signed (_mm256_srl_epi64 (pe, rq->count), _mm256_srl_epi64 (po, rq->count), sign);
  /* the odd lanes shifted by shift − 32 hold r in their high halves */
  r = _mm256_blend_epi32 (_mm256_srl_epi64 (pe, rq->count),
      _mm256_srl_epi64 (po, rq->count_odd), 0xaa);
  return _mm256_sub_epi32 (_mm256_xor_si256 (r, sign), sign);
}

/* the negative-side multiplier where acc < 0 (LeakyReLU, PReLU); mp, mn
 * signed multipliers, sp, sn shifts, in every int32 lane */
static inline Y_TARGET __m256i
y_requant2 (__m256i acc, __m256i mp, __m256i mn, __m256i sp, __m256i sn)
{
  const __m256i one = _mm256_set1_epi64x (1), low = _mm256_set1_epi64x (0xffffffff);
  __m256i neg = _mm256_cmpgt_epi32 (_mm256_setzero_si256 (), acc);
  __m256i m = _mm256_blendv_epi8 (mp, mn, neg), s = _mm256_blendv_epi8 (sp, sn, neg);
  __m256i sign = _mm256_xor_si256 (neg, _mm256_srai_epi32 (m, 31));
  __m256i a = _mm256_abs_epi32 (acc), am = _mm256_abs_epi32 (m);
  __m256i se = _mm256_and_si256 (s, low), so = _mm256_srli_epi64 (s, 32);
  __m256i pe = _mm256_mul_epu32 (a, am);
  __m256i po = _mm256_mul_epu32 (_mm256_srli_epi64 (a, 32), _mm256_srli_epi64 (am, 32));

  pe = _mm256_add_epi64 (pe, _mm256_sllv_epi64 (one, _mm256_sub_epi64 (se, one)));
  po = _mm256_add_epi64 (po, _mm256_sllv_epi64 (one, _mm256_sub_epi64 (so, one)));
  return y_signed (_mm256_srlv_epi64 (pe, se), _mm256_srlv_epi64 (po, so), sign);
}

/* clamp in cfqp_clamp_u8's order (ONNX Clip's: the upper bound wins when lo > hi), add
 * z, keep the low byte as ref's (guint8) cast does: 16 bytes in order */
static inline Y_TARGET __m128i
y_clamp_pack (__m256i r0, __m256i r1, __m256i loz, __m256i hiz, __m256i z)
{
  const __m256i bytes = _mm256_set1_epi32 (0xff);
  __m256i t0 = _mm256_min_epi32 (_mm256_max_epi32 (r0, loz), hiz);
  __m256i t1 = _mm256_min_epi32 (_mm256_max_epi32 (r1, loz), hiz);
  __m256i p;

  t0 = _mm256_and_si256 (_mm256_add_epi32 (t0, z), bytes);
  t1 = _mm256_and_si256 (_mm256_add_epi32 (t1, z), bytes);
  /* packs interleaves 128-bit lanes: t0 0-3, t1 0-3, t0 4-7, t1 4-7 */
  p = _mm256_permute4x64_epi64 (_mm256_packs_epi32 (t0, t1), 0xd8);
  return _mm_packus_epi16 (_mm256_castsi256_si128 (p), _mm256_extracti128_si256 (p, 1));
}

/* y_requant1's constants for one multiplier */
static inline Y_TARGET YRequant
y_requant_init (CfqpRequant p)
{
  YRequant rq = { _mm256_set1_epi32 (ABS (p.m)), _mm256_set1_epi32 (p.m < 0 ? -1 : 0),
                  _mm256_set1_epi64x ((gint64) 1 << (p.shift - 1)),
                  _mm_cvtsi32_si128 (p.shift), _mm_cvtsi32_si128 (p.shift - 32),
                  p.shift >= 32 };
  return rq;
}

/* requantise 8 accumulators of one channel */
static inline Y_TARGET __m256i
y_requant (__m256i acc, CfqpRequant p, CfqpRequant n)
{
  if (p.m == n.m && p.shift == n.shift) {
    YRequant rq = y_requant_init (p);
    return y_requant1 (acc, &rq);
  }
  return y_requant2 (acc, _mm256_set1_epi32 (p.m), _mm256_set1_epi32 (n.m),
      _mm256_set1_epi32 (p.shift), _mm256_set1_epi32 (n.shift));
}

/* the first `width` (16 or 8) bytes of b; the row's end (left < width)
 * through a copy */
static inline Y_TARGET void
y_store_bytes (__m128i b, guint8 *dst, guint left, guint width)
{
  if (left >= width) {
    if (width == 16)
      _mm_storeu_si128 ((__m128i *) dst, b);
    else
      _mm_storel_epi64 ((__m128i *) dst, b);
  } else {
    guint8 tmp[16];
    _mm_storeu_si128 ((__m128i *) tmp, b);
    memcpy (dst, tmp, left);
  }
}
