/* The pixel-lanes u8·s8 GEMM: 64 output pixels × 4 output channels per
 * block, each int32 lane one pixel, each vpdpbusd a 4-deep dot product of
 * the pixel's 4 gathered bytes with the channel's 4 weights (broadcast).
 * No horizontal reductions and the output lands in [oc][px] rows, as the
 * requant pass reads them.  The vectorizer does not find this form, so it
 * is written with AVX-512 VNNI intrinsics; CPUs without it use the
 * dot-product kernels of cfqp-int8-cpu-gemm.c. */
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
#endif
