/* The INT16 conv's micro-kernel for 64-bit ARM (every level: NEON is the
 * AArch64 baseline): 4 output channels × 8 pixels on the pair-interleaved
 * lanes of cfqp-int16-cpu-gemm.h.  NEON has no pmaddwd, so ld2 splits a
 * row's pairs into the first and the second channel's values (8 pixels
 * each), and smlal/smlal2 by element multiply each by its channel's tap
 * from one vector holding the 4 output channels' pairs: 32 multiply-adds
 * of 4 lanes per tap into 16 int32x4 accumulators.  The same int32 sums
 * as the generic kernel, folded into int64 as 256·h + l every
 * CFQP_INT16_FOLD_PAIRS pairs, so its values.  Not speed-tested: qemu
 * only (docs/performance.md). */
#include "cfqp-int16-cpu-gemm.h"

#if CFQP_GEMM_ARM64
#include <arm_neon.h>

/* acc[0..4) = 256·h + l, plus acc's values unless first */
static inline void
fold4 (gint64 *acc, int32x4_t h, int32x4_t l, gboolean first)
{
  int64x2_t a0 = first ? vdupq_n_s64 (0) : vld1q_s64 (acc);
  int64x2_t a1 = first ? vdupq_n_s64 (0) : vld1q_s64 (acc + 2);

  a0 = vaddq_s64 (a0, vaddq_s64 (vshlq_n_s64 (vmovl_s32 (vget_low_s32 (h)), 8),
          vmovl_s32 (vget_low_s32 (l))));
  a1 = vaddq_s64 (a1, vaddq_s64 (vshlq_n_s64 (vmovl_high_s32 (h), 8), vmovl_high_s32 (l)));
  vst1q_s64 (acc, a0);
  vst1q_s64 (acc + 2, a1);
}

/* s[0..2) += x's 8 values times lane k of w, pixels 0-3 and 4-7 */
#define MLA_LANE(s, x, w, k) \
  do { \
    (s)[0] = vmlal_laneq_s16 ((s)[0], vget_low_s16 (x), (w), (k)); \
    (s)[1] = vmlal_high_laneq_s16 ((s)[1], (x), (w), (k)); \
  } while (0)

void
cfqp_int16_gemm_4x8__neon (const gint32 *xh, const gint32 *xl, const gsize *off, guint n_taps,
    const gint32 *w, gsize w_stride, gint64 *acc, gsize acc_stride)
{
  for (guint t0 = 0; t0 < n_taps; t0 += CFQP_INT16_FOLD_PAIRS) {
    guint t1 = MIN (t0 + CFQP_INT16_FOLD_PAIRS, n_taps);
    int32x4_t h[CFQP_INT16_GEMM_OC][2], l[CFQP_INT16_GEMM_OC][2];

    for (guint o = 0; o < CFQP_INT16_GEMM_OC; o++)
      h[o][0] = h[o][1] = l[o][0] = l[o][1] = vdupq_n_s32 (0);
    for (guint t = t0; t < t1; t++) {
      /* val[0]: the first channel's 8 values (low halves), val[1]: the second's */
      int16x8x2_t ht = vld2q_s16 ((const int16_t *) (xh + off[t]));
      int16x8x2_t lt = vld2q_s16 ((const int16_t *) (xl + off[t]));
      /* lanes 2o and 2o + 1: output channel o's taps for the two channels */
      int32x4_t wv = vdupq_n_s32 (w[t]);

      wv = vld1q_lane_s32 (w + w_stride + t, wv, 1);
      wv = vld1q_lane_s32 (w + 2 * w_stride + t, wv, 2);
      wv = vld1q_lane_s32 (w + 3 * w_stride + t, wv, 3);
      {
        int16x8_t wp = vreinterpretq_s16_s32 (wv);

        MLA_LANE (h[0], ht.val[0], wp, 0);
        MLA_LANE (h[0], ht.val[1], wp, 1);
        MLA_LANE (l[0], lt.val[0], wp, 0);
        MLA_LANE (l[0], lt.val[1], wp, 1);
        MLA_LANE (h[1], ht.val[0], wp, 2);
        MLA_LANE (h[1], ht.val[1], wp, 3);
        MLA_LANE (l[1], lt.val[0], wp, 2);
        MLA_LANE (l[1], lt.val[1], wp, 3);
        MLA_LANE (h[2], ht.val[0], wp, 4);
        MLA_LANE (h[2], ht.val[1], wp, 5);
        MLA_LANE (l[2], lt.val[0], wp, 4);
        MLA_LANE (l[2], lt.val[1], wp, 5);
        MLA_LANE (h[3], ht.val[0], wp, 6);
        MLA_LANE (h[3], ht.val[1], wp, 7);
        MLA_LANE (l[3], lt.val[0], wp, 6);
        MLA_LANE (l[3], lt.val[1], wp, 7);
      }
    }
    for (guint o = 0; o < CFQP_INT16_GEMM_OC; o++) {
      fold4 (acc + o * acc_stride, h[o][0], l[o][0], t0 == 0);
      fold4 (acc + o * acc_stride + 4, h[o][1], l[o][1], t0 == 0);
    }
  }
}
#endif
