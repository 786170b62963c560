/* The INT16 conv's output stage: int64 sums to uint16 bytes through
 * cfqp_requant_wide.  Where every lane of a vector is below 2^31 in
 * magnitude (nearly always) the product acc·m fits 64 bits and the
 * vectors do it: vpmuldq's signed 32×32 → 64 product, the rounding on the
 * magnitude (half away from zero), the sign after, the clamp.  A vector
 * with a larger lane, and the row's tail, go through cfqp_requant_wide
 * itself, so every value is ref's. */
#include "cfqp-int16-cpu-gemm.h"

void
cfqp_int16_requant_row__scalar (const gint64 *acc, guint n, gint64 base, CfqpRequant pos,
    CfqpRequant neg, gint32 z, gint32 lo, gint32 hi, guint16 *out)
{
  for (guint i = 0; i < n; i++) {
    gint64 v = base + acc[i];

    out[i] = cfqp_clamp_u16 (z + cfqp_requant_wide (v, v >= 0 ? pos : neg), lo, hi);
  }
}

#if CFQP_GEMM_X86
#include <immintrin.h>

#define AVX2_TARGET __attribute__ ((target ("avx2,fma")))

AVX2_TARGET void
cfqp_int16_requant_row__avx2 (const gint64 *acc, guint n, gint64 base, CfqpRequant pos,
    CfqpRequant neg, gint32 z, gint32 lo, gint32 hi, guint16 *out)
{
  const __m256i vbase = _mm256_set1_epi64x (base), zero = _mm256_setzero_si256 ();
  const __m256i top = _mm256_set1_epi64x (CFQP_REQUANT_NARROW - 1);
  const __m256i bottom = _mm256_set1_epi64x (-CFQP_REQUANT_NARROW);
  const __m256i m_pos = _mm256_set1_epi64x (pos.m), m_neg = _mm256_set1_epi64x (neg.m);
  const __m256i s_pos = _mm256_set1_epi64x (pos.shift), s_neg = _mm256_set1_epi64x (neg.shift);
  const __m256i h_pos = _mm256_set1_epi64x ((gint64) 1 << (pos.shift - 1));
  const __m256i h_neg = _mm256_set1_epi64x ((gint64) 1 << (neg.shift - 1));
  const __m256i vz = _mm256_set1_epi64x (z), vlo = _mm256_set1_epi64x (lo);
  const __m256i vhi = _mm256_set1_epi64x (hi);
  const __m256i low_words = _mm256_setr_epi8 (0, 1, 8, 9, -1, -1, -1, -1, -1, -1, -1, -1, -1,
      -1, -1, -1, 0, 1, 8, 9, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
  guint i = 0;

  for (; i + 4 <= n; i += 4) {
    __m256i v = _mm256_add_epi64 (vbase, _mm256_loadu_si256 ((const __m256i *) (acc + i)));
    __m256i wide = _mm256_or_si256 (_mm256_cmpgt_epi64 (v, top), _mm256_cmpgt_epi64 (bottom, v));
    __m256i neg_v, p, neg_p, mag, r;

    if (!_mm256_testz_si256 (wide, wide)) {
      cfqp_int16_requant_row__scalar (acc + i, 4, base, pos, neg, z, lo, hi, out + i);
      continue;
    }
    neg_v = _mm256_cmpgt_epi64 (zero, v);
    p = _mm256_mul_epi32 (v, _mm256_blendv_epi8 (m_pos, m_neg, neg_v));
    neg_p = _mm256_cmpgt_epi64 (zero, p);
    mag = _mm256_sub_epi64 (_mm256_xor_si256 (p, neg_p), neg_p);
    mag = _mm256_add_epi64 (mag, _mm256_blendv_epi8 (h_pos, h_neg, neg_v));
    r = _mm256_srlv_epi64 (mag, _mm256_blendv_epi8 (s_pos, s_neg, neg_v));
    r = _mm256_add_epi64 (vz, _mm256_sub_epi64 (_mm256_xor_si256 (r, neg_p), neg_p));
    r = _mm256_blendv_epi8 (r, vlo, _mm256_cmpgt_epi64 (vlo, r));
    r = _mm256_blendv_epi8 (r, vhi, _mm256_cmpgt_epi64 (r, vhi));
    /* each lane's low 16 bits, then the two halves' side by side */
    r = _mm256_shuffle_epi8 (r, low_words);
    _mm_storel_epi64 ((__m128i *) (out + i), _mm_unpacklo_epi32 (_mm256_castsi256_si128 (r),
            _mm256_extracti128_si256 (r, 1)));
  }
  cfqp_int16_requant_row__scalar (acc + i, n - i, base, pos, neg, z, lo, hi, out + i);
}

#define AVX512_TARGET __attribute__ ((target ("avx512f,avx512bw,avx512vl,avx512dq")))

AVX512_TARGET void
cfqp_int16_requant_row__avx512 (const gint64 *acc, guint n, gint64 base, CfqpRequant pos,
    CfqpRequant neg, gint32 z, gint32 lo, gint32 hi, guint16 *out)
{
  const __m512i vbase = _mm512_set1_epi64 (base);
  const __m512i top = _mm512_set1_epi64 (CFQP_REQUANT_NARROW - 1);
  const __m512i bottom = _mm512_set1_epi64 (-CFQP_REQUANT_NARROW);
  const __m512i m_pos = _mm512_set1_epi64 (pos.m), m_neg = _mm512_set1_epi64 (neg.m);
  const __m512i s_pos = _mm512_set1_epi64 (pos.shift), s_neg = _mm512_set1_epi64 (neg.shift);
  const __m512i h_pos = _mm512_set1_epi64 ((gint64) 1 << (pos.shift - 1));
  const __m512i h_neg = _mm512_set1_epi64 ((gint64) 1 << (neg.shift - 1));
  const __m512i vz = _mm512_set1_epi64 (z), vlo = _mm512_set1_epi64 (lo);
  const __m512i vhi = _mm512_set1_epi64 (hi), zero = _mm512_setzero_si512 ();
  guint i = 0;

  for (; i + 8 <= n; i += 8) {
    __m512i v = _mm512_add_epi64 (vbase, _mm512_loadu_si512 (acc + i));
    __mmask8 neg_v, neg_p;
    __m512i p, r;

    if (_mm512_cmpgt_epi64_mask (v, top) | _mm512_cmplt_epi64_mask (v, bottom)) {
      cfqp_int16_requant_row__scalar (acc + i, 8, base, pos, neg, z, lo, hi, out + i);
      continue;
    }
    neg_v = _mm512_cmplt_epi64_mask (v, zero);
    p = _mm512_mul_epi32 (v, _mm512_mask_blend_epi64 (neg_v, m_pos, m_neg));
    neg_p = _mm512_cmplt_epi64_mask (p, zero);
    r = _mm512_add_epi64 (_mm512_abs_epi64 (p), _mm512_mask_blend_epi64 (neg_v, h_pos, h_neg));
    r = _mm512_srlv_epi64 (r, _mm512_mask_blend_epi64 (neg_v, s_pos, s_neg));
    r = _mm512_mask_sub_epi64 (r, neg_p, zero, r);
    r = _mm512_min_epi64 (_mm512_max_epi64 (_mm512_add_epi64 (vz, r), vlo), vhi);
    _mm_storeu_si128 ((__m128i *) (out + i), _mm512_cvtepi64_epi16 (r));
  }
  cfqp_int16_requant_row__scalar (acc + i, n - i, base, pos, neg, z, lo, hi, out + i);
}
#endif
