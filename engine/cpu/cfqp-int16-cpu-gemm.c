/* The INT16 conv's micro-kernels: 4 output channels × a block of pixels,
 * each int32 lane one pixel, each multiply-add two input channels' taps on
 * one byte of their activations (pmaddwd, vpdpwssd: int16 pairs summed in
 * int32).  An activation's bytes are at most 255, so a pair's sum is below
 * 2^24 and CFQP_INT16_FOLD_PAIRS of them below 2^31; then the high- and
 * low-byte sums go to int64 as 256·h + l.  The accumulators stay in
 * registers for the whole block of taps.  Written with intrinsics where
 * the vectoriser does not find the form (cfqp-int8-cpu-gemm-c4.c's
 * reasoning); the generic one is plain C, ARM's in
 * cfqp-int16-cpu-gemm-neon.c.  The kernel config (cfqp-int8-cpu-config.c)
 * says which runs. */
#include "cfqp-int16-cpu-gemm.h"

/* the two int16 halves of a lane */
static inline gint32
low_half (gint32 v)
{
  return (gint16) ((guint32) v & 0xffff);
}

static inline gint32
high_half (gint32 v)
{
  return (gint16) ((guint32) v >> 16);
}

void
cfqp_int16_gemm_4x8__scalar (const gint32 *xh, const gint32 *xl, const gsize *off, guint n_taps,
    const gint32 *w, gsize w_stride, gint64 *acc, gsize acc_stride)
{
  for (guint t0 = 0; t0 < n_taps; t0 += CFQP_INT16_FOLD_PAIRS) {
    guint t1 = MIN (t0 + CFQP_INT16_FOLD_PAIRS, n_taps);
    gint32 h[CFQP_INT16_GEMM_OC][8] = { { 0 } }, l[CFQP_INT16_GEMM_OC][8] = { { 0 } };

    for (guint t = t0; t < t1; t++) {
      const gint32 *ht = xh + off[t], *lt = xl + off[t];

      for (guint o = 0; o < CFQP_INT16_GEMM_OC; o++) {
        gint32 wa = low_half (w[o * w_stride + t]), wb = high_half (w[o * w_stride + t]);

        for (guint i = 0; i < 8; i++) {
          h[o][i] += wa * low_half (ht[i]) + wb * high_half (ht[i]);
          l[o][i] += wa * low_half (lt[i]) + wb * high_half (lt[i]);
        }
      }
    }
    for (guint o = 0; o < CFQP_INT16_GEMM_OC; o++)
      for (guint i = 0; i < 8; i++)
        acc[o * acc_stride + i] = (t0 ? acc[o * acc_stride + i] : 0) + (gint64) h[o][i] * 256 +
            l[o][i];
  }
}

#if CFQP_GEMM_X86
#include <immintrin.h>

#define SSE41_TARGET __attribute__ ((target ("sse4.1")))

/* acc[0..4) = 256·h + l, plus acc's values unless first */
static inline SSE41_TARGET void
fold4_sse41 (gint64 *acc, __m128i h, __m128i l, gboolean first)
{
  __m128i h0 = _mm_cvtepi32_epi64 (h), h1 = _mm_cvtepi32_epi64 (_mm_srli_si128 (h, 8));
  __m128i l0 = _mm_cvtepi32_epi64 (l), l1 = _mm_cvtepi32_epi64 (_mm_srli_si128 (l, 8));
  __m128i a0 = first ? _mm_setzero_si128 () : _mm_loadu_si128 ((const __m128i *) acc);
  __m128i a1 = first ? _mm_setzero_si128 () : _mm_loadu_si128 ((const __m128i *) (acc + 2));

  a0 = _mm_add_epi64 (a0, _mm_add_epi64 (_mm_slli_epi64 (h0, 8), l0));
  a1 = _mm_add_epi64 (a1, _mm_add_epi64 (_mm_slli_epi64 (h1, 8), l1));
  _mm_storeu_si128 ((__m128i *) acc, a0);
  _mm_storeu_si128 ((__m128i *) (acc + 2), a1);
}

SSE41_TARGET void
cfqp_int16_gemm_4x4__sse41 (const gint32 *xh, const gint32 *xl, const gsize *off, guint n_taps,
    const gint32 *w, gsize w_stride, gint64 *acc, gsize acc_stride)
{
  for (guint t0 = 0; t0 < n_taps; t0 += CFQP_INT16_FOLD_PAIRS) {
    guint t1 = MIN (t0 + CFQP_INT16_FOLD_PAIRS, n_taps);
    __m128i h[CFQP_INT16_GEMM_OC], l[CFQP_INT16_GEMM_OC];

    for (guint o = 0; o < CFQP_INT16_GEMM_OC; o++)
      h[o] = l[o] = _mm_setzero_si128 ();
    for (guint t = t0; t < t1; t++) {
      __m128i ht = _mm_loadu_si128 ((const __m128i *) (xh + off[t]));
      __m128i lt = _mm_loadu_si128 ((const __m128i *) (xl + off[t]));

#pragma GCC unroll 4
      for (guint o = 0; o < CFQP_INT16_GEMM_OC; o++) {
        __m128i wo = _mm_set1_epi32 (w[o * w_stride + t]);

        h[o] = _mm_add_epi32 (h[o], _mm_madd_epi16 (ht, wo));
        l[o] = _mm_add_epi32 (l[o], _mm_madd_epi16 (lt, wo));
      }
    }
    for (guint o = 0; o < CFQP_INT16_GEMM_OC; o++)
      fold4_sse41 (acc + o * acc_stride, h[o], l[o], t0 == 0);
  }
}

#define AVX2_TARGET __attribute__ ((target ("avx2,fma")))

/* acc[0..8) = 256·h + l, plus acc's values unless first */
static inline AVX2_TARGET void
fold8_avx2 (gint64 *acc, __m256i h, __m256i l, gboolean first)
{
  __m256i h0 = _mm256_cvtepi32_epi64 (_mm256_castsi256_si128 (h));
  __m256i h1 = _mm256_cvtepi32_epi64 (_mm256_extracti128_si256 (h, 1));
  __m256i l0 = _mm256_cvtepi32_epi64 (_mm256_castsi256_si128 (l));
  __m256i l1 = _mm256_cvtepi32_epi64 (_mm256_extracti128_si256 (l, 1));
  __m256i a0 = first ? _mm256_setzero_si256 () : _mm256_loadu_si256 ((const __m256i *) acc);
  __m256i a1 = first ? _mm256_setzero_si256 () :
      _mm256_loadu_si256 ((const __m256i *) (acc + 4));

  a0 = _mm256_add_epi64 (a0, _mm256_add_epi64 (_mm256_slli_epi64 (h0, 8), l0));
  a1 = _mm256_add_epi64 (a1, _mm256_add_epi64 (_mm256_slli_epi64 (h1, 8), l1));
  _mm256_storeu_si256 ((__m256i *) acc, a0);
  _mm256_storeu_si256 ((__m256i *) (acc + 4), a1);
}

/* The 8-pixel ymm body, with the level's multiply-add step: pmaddwd and
 * an add (avx2), or vpdpwssd's fused one (avxvnni, VEX). */
#define GEMM_4X8_YMM(STEP) \
  for (guint t0 = 0; t0 < n_taps; t0 += CFQP_INT16_FOLD_PAIRS) { \
    guint t1 = MIN (t0 + CFQP_INT16_FOLD_PAIRS, n_taps); \
    __m256i h[CFQP_INT16_GEMM_OC], l[CFQP_INT16_GEMM_OC]; \
    \
    for (guint o = 0; o < CFQP_INT16_GEMM_OC; o++) \
      h[o] = l[o] = _mm256_setzero_si256 (); \
    for (guint t = t0; t < t1; t++) { \
      __m256i ht = _mm256_loadu_si256 ((const __m256i *) (xh + off[t])); \
      __m256i lt = _mm256_loadu_si256 ((const __m256i *) (xl + off[t])); \
      \
      _Pragma ("GCC unroll 4") \
      for (guint o = 0; o < CFQP_INT16_GEMM_OC; o++) { \
        __m256i wo = _mm256_set1_epi32 (w[o * w_stride + t]); \
        \
        h[o] = STEP (h[o], ht, wo); \
        l[o] = STEP (l[o], lt, wo); \
      } \
    } \
    for (guint o = 0; o < CFQP_INT16_GEMM_OC; o++) \
      fold8_avx2 (acc + o * acc_stride, h[o], l[o], t0 == 0); \
  }

#define STEP_MADD(a, x, w) _mm256_add_epi32 ((a), _mm256_madd_epi16 ((x), (w)))
#define STEP_VNNI(a, x, w) _mm256_dpwssd_avx_epi32 ((a), (x), (w))

AVX2_TARGET void
cfqp_int16_gemm_4x8__avx2 (const gint32 *xh, const gint32 *xl, const gsize *off, guint n_taps,
    const gint32 *w, gsize w_stride, gint64 *acc, gsize acc_stride)
{
  GEMM_4X8_YMM (STEP_MADD)
}

#define AVXVNNI_TARGET __attribute__ ((target ("avx2,fma,avxvnni")))

AVXVNNI_TARGET void
cfqp_int16_gemm_4x8__avxvnni (const gint32 *xh, const gint32 *xl, const gsize *off, guint n_taps,
    const gint32 *w, gsize w_stride, gint64 *acc, gsize acc_stride)
{
  GEMM_4X8_YMM (STEP_VNNI)
}

#define AVX512_TARGET __attribute__ ((target ("avx512f,avx512bw,avx512vl,avx512vnni")))

/* acc[0..16) = 256·h + l, plus acc's values unless first */
static inline AVX512_TARGET void
fold16_avx512 (gint64 *acc, __m512i h, __m512i l, gboolean first)
{
  __m512i h0 = _mm512_cvtepi32_epi64 (_mm512_castsi512_si256 (h));
  __m512i h1 = _mm512_cvtepi32_epi64 (_mm512_extracti64x4_epi64 (h, 1));
  __m512i l0 = _mm512_cvtepi32_epi64 (_mm512_castsi512_si256 (l));
  __m512i l1 = _mm512_cvtepi32_epi64 (_mm512_extracti64x4_epi64 (l, 1));
  __m512i a0 = first ? _mm512_setzero_si512 () : _mm512_loadu_si512 (acc);
  __m512i a1 = first ? _mm512_setzero_si512 () : _mm512_loadu_si512 (acc + 8);

  a0 = _mm512_add_epi64 (a0, _mm512_add_epi64 (_mm512_slli_epi64 (h0, 8), l0));
  a1 = _mm512_add_epi64 (a1, _mm512_add_epi64 (_mm512_slli_epi64 (h1, 8), l1));
  _mm512_storeu_si512 (acc, a0);
  _mm512_storeu_si512 (acc + 8, a1);
}

/* 32 pixels: two zmm per channel and byte, 16 accumulators */
AVX512_TARGET void
cfqp_int16_gemm_4x32__avx512vnni (const gint32 *xh, const gint32 *xl, const gsize *off,
    guint n_taps, const gint32 *w, gsize w_stride, gint64 *acc, gsize acc_stride)
{
  for (guint t0 = 0; t0 < n_taps; t0 += CFQP_INT16_FOLD_PAIRS) {
    guint t1 = MIN (t0 + CFQP_INT16_FOLD_PAIRS, n_taps);
    __m512i h[CFQP_INT16_GEMM_OC][2], l[CFQP_INT16_GEMM_OC][2];

    for (guint o = 0; o < CFQP_INT16_GEMM_OC; o++)
      h[o][0] = h[o][1] = l[o][0] = l[o][1] = _mm512_setzero_si512 ();
    for (guint t = t0; t < t1; t++) {
      __m512i h0 = _mm512_loadu_si512 (xh + off[t]), h1 = _mm512_loadu_si512 (xh + off[t] + 16);
      __m512i l0 = _mm512_loadu_si512 (xl + off[t]), l1 = _mm512_loadu_si512 (xl + off[t] + 16);

#pragma GCC unroll 4
      for (guint o = 0; o < CFQP_INT16_GEMM_OC; o++) {
        __m512i wo = _mm512_set1_epi32 (w[o * w_stride + t]);

        h[o][0] = _mm512_dpwssd_epi32 (h[o][0], h0, wo);
        h[o][1] = _mm512_dpwssd_epi32 (h[o][1], h1, wo);
        l[o][0] = _mm512_dpwssd_epi32 (l[o][0], l0, wo);
        l[o][1] = _mm512_dpwssd_epi32 (l[o][1], l1, wo);
      }
    }
    for (guint o = 0; o < CFQP_INT16_GEMM_OC; o++) {
      fold16_avx512 (acc + o * acc_stride, h[o][0], l[o][0], t0 == 0);
      fold16_avx512 (acc + o * acc_stride + 16, h[o][1], l[o][1], t0 == 0);
    }
  }
}
#endif
