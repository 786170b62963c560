/* The pixel-lanes conv kernels for 64-bit ARM: the c4 form of
 * cfqp-int8-cpu-gemm-c4.c (input ring rows read in place through one
 * pointer per k/4, each int32 lane one pixel holding its 4 gathered bytes,
 * ref's requantisation fused in the epilogue) at three ISA levels:
 *
 *   i8mm     16x4c4__neoni8mm  usdot: u8 inputs times s8 weights directly
 *   dotprod  16x4c4__neondot   sdot on inputs shifted to s8 (x ^ 0x80 = x − 128),
 *                              128·Σw folded into the bias
 *   neon     8x4c4__neon       no dot product (Cortex-A53/A72): smull/smlal of
 *                              the same s8 inputs into int16 pairs, sadalp
 *
 * Weights are packed [oc/4][k/4][4 channels][4 taps], so one 16-byte load
 * per k/4 feeds the 4 channels' by-lane dot products.  int32 sums wrap
 * (sdot, sadalp, add): the conv's overflow guard bounds the true result, so
 * the shifted forms give ref's accumulator exactly even where a partial
 * sum of the shifted terms would pass 2^31.
 *
 * The kernel config table (cfqp-int8-cpu-config.c) names them for the
 * levels i8mm, dotprod and neon, from getauxval's hardware capabilities
 * under the CFQP_MAX_CPU_ISA cap, with their pack functions below as its
 * c4_pack (docs/architecture.md).  Not speed-tested: no ARM
 * hardware here, only qemu (docs/performance.md). */
#include "cfqp-int8-cpu-gemm.h"

#if CFQP_GEMM_ARM64
#include "cfqp-int8-cpu-neon.h"

#include <string.h>

#define DOT_TARGET  __attribute__ ((target ("arch=armv8.2-a+dotprod")))
#define I8MM_TARGET __attribute__ ((target ("arch=armv8.2-a+i8mm")))
#define INLINE      CFQP_NEON_INLINE

/* --- epilogue: ref's output stage on int32x4 pixel lanes (cfqp-int8-cpu-neon.h) --- */

typedef struct {
  int32x4_t z, loz, hiz;
} RqBounds;

/* Requantises nv (2 or 4) vectors of one channel's pixels and stores the
 * first `left` of their bytes. */
INLINE void
store_channel (const int32x4_t *acc, guint nv, CfqpRequant p, CfqpRequant n,
    const RqBounds *b, guint8 *dst, guint left)
{
  int32x4_t v[4];
  guint8 tmp[16];

  if (p.m == n.m && p.shift == n.shift) {
    int32x4_t m = vdupq_n_s32 (p.m);
    int64x2_t ns = vdupq_n_s64 (-(gint64) p.shift);
    for (guint i = 0; i < nv; i++)
      v[i] = rq_clamp (rq1 (acc[i], m, ns), b->loz, b->hiz, b->z);
  } else {
    int32x4_t mp = vdupq_n_s32 (p.m), mn = vdupq_n_s32 (n.m);
    int32x4_t nsp = vdupq_n_s32 (-(gint32) p.shift), nsn = vdupq_n_s32 (-(gint32) n.shift);
    for (guint i = 0; i < nv; i++)
      v[i] = rq_clamp (rq2 (acc[i], mp, mn, nsp, nsn), b->loz, b->hiz, b->z);
  }
  /* values in [lo, hi] ⊂ [0, 255]: narrowing keeps the low byte, as the cast does */
  if (nv == 4) {
    uint8x16_t bytes = rq_bytes16 (v[0], v[1], v[2], v[3]);
    if (left >= 16) {
      vst1q_u8 (dst, bytes);
      return;
    }
    vst1q_u8 (tmp, bytes);
  } else {
    uint8x8_t bytes = vmovn_u16 (vreinterpretq_u16_s16 (
        vcombine_s16 (vmovn_s32 (v[0]), vmovn_s32 (v[1]))));
    if (left >= 8) {
      vst1_u8 (dst, bytes);
      return;
    }
    vst1_u8 (tmp, bytes);
  }
  memcpy (dst, tmp, left);
}

/* --- the dot-product kernels: 16 pixels × 4 channels ------------------------------ */

/* One k/4 step of 16 accumulators: x0..x3 the 16 pixels' groups, b the 4
 * channels' 4 weights; DOT (acc, x, b, lane) adds x's 4-byte groups dotted
 * with channel `lane`'s weights. */
#define C4_STEP(DOT) \
  do { \
    a00 = DOT (a00, x0, b, 0); a01 = DOT (a01, x1, b, 0); \
    a02 = DOT (a02, x2, b, 0); a03 = DOT (a03, x3, b, 0); \
    a10 = DOT (a10, x0, b, 1); a11 = DOT (a11, x1, b, 1); \
    a12 = DOT (a12, x2, b, 1); a13 = DOT (a13, x3, b, 1); \
    a20 = DOT (a20, x0, b, 2); a21 = DOT (a21, x1, b, 2); \
    a22 = DOT (a22, x2, b, 2); a23 = DOT (a23, x3, b, 2); \
    a30 = DOT (a30, x0, b, 3); a31 = DOT (a31, x1, b, 3); \
    a32 = DOT (a32, x2, b, 3); a33 = DOT (a33, x3, b, 3); \
  } while (0)

/* The loop around it; LOAD (p) gives one 16-byte input vector. */
#define C4_KERNEL_16x4(XTYPE, LOAD, DOT) \
  RqBounds bnd = { vdupq_n_s32 (o->z), vdupq_n_s32 (o->lo - o->z), vdupq_n_s32 (o->hi - o->z) }; \
  for (guint px = 0; px < n_px; px += 16) \
    for (guint oc = 0; oc < n_oc; oc += 4) { \
      const gint8 *wb = w + (gsize) oc * k4n * 4; \
      gsize off = (gsize) px * 4; \
      guint left = n_px - px; \
      guint8 *dst = out + oc * out_stride + px; \
      int32x4_t a00, a01, a02, a03, a10, a11, a12, a13; \
      int32x4_t a20, a21, a22, a23, a30, a31, a32, a33; \
      a00 = a01 = a02 = a03 = vdupq_n_s32 (bias[oc]); \
      a10 = a11 = a12 = a13 = vdupq_n_s32 (bias[oc + 1]); \
      a20 = a21 = a22 = a23 = vdupq_n_s32 (bias[oc + 2]); \
      a30 = a31 = a32 = a33 = vdupq_n_s32 (bias[oc + 3]); \
      for (gsize k4 = 0; k4 < k4n; k4++) { \
        const guint8 *c = a[k4] + off; \
        XTYPE x0 = LOAD (c), x1 = LOAD (c + 16), x2 = LOAD (c + 32), x3 = LOAD (c + 48); \
        int8x16_t b = vld1q_s8 (wb + 16 * k4); \
        C4_STEP (DOT); \
      } \
      { \
        int32x4_t c0[4] = { a00, a01, a02, a03 }, c1[4] = { a10, a11, a12, a13 }; \
        int32x4_t c2[4] = { a20, a21, a22, a23 }, c3[4] = { a30, a31, a32, a33 }; \
        store_channel (c0, 4, o->pos[oc], o->neg[oc], &bnd, dst, left); \
        if (oc + 1 < n_oc) \
          store_channel (c1, 4, o->pos[oc + 1], o->neg[oc + 1], &bnd, dst + out_stride, left); \
        if (oc + 2 < n_oc) \
          store_channel (c2, 4, o->pos[oc + 2], o->neg[oc + 2], &bnd, dst + 2 * out_stride, \
              left); \
        if (oc + 3 < n_oc) \
          store_channel (c3, 4, o->pos[oc + 3], o->neg[oc + 3], &bnd, dst + 3 * out_stride, \
              left); \
      } \
    }

#define LOAD_U8(p)      vld1q_u8 (p)
#define LOAD_S8_FLIP(p) vreinterpretq_s8_u8 (veorq_u8 (vld1q_u8 (p), vdupq_n_u8 (0x80)))

I8MM_TARGET void
cfqp_int8_conv_u8s8_16x4c4__neoni8mm (const guint8 *const *a, gsize k4n, guint n_px,
    const gint8 *w, guint n_oc, const gint32 *bias, const CfqpInt8ConvOut *o, guint8 *out,
    gsize out_stride)
{
  C4_KERNEL_16x4 (uint8x16_t, LOAD_U8, vusdotq_laneq_s32)
}

DOT_TARGET void
cfqp_int8_conv_u8s8_16x4c4__neondot (const guint8 *const *a, gsize k4n, guint n_px,
    const gint8 *w, guint n_oc, const gint32 *bias, const CfqpInt8ConvOut *o, guint8 *out,
    gsize out_stride)
{
  C4_KERNEL_16x4 (int8x16_t, LOAD_S8_FLIP, vdotq_laneq_s32)
}

/* --- plain NEON: 8 pixels × 4 channels ---------------------------------------------- */

/* Two k/4 steps per round: smull + smlal give each int16 lane x·w + x'·w'
 * of one tap j, |·| ≤ 2·128·127 < 2^15 (weights in [−127, 127]: the pack
 * refuses −128); sadalp adds tap pairs into int32 lanes, so each pixel's
 * sum is spread over two adjacent lanes until one addp at the end. */
#define MAC_PAIR(acc, xa, xb, wa, wb, HALF) \
  acc = vpadalq_s16 (acc, HALF##_pair (xa, xb, wa, wb))

INLINE int16x8_t
lo_pair (int8x16_t xa, int8x16_t xb, int8x16_t wa, int8x16_t wb)
{
  return vmlal_s8 (vmull_s8 (vget_low_s8 (xa), vget_low_s8 (wa)), vget_low_s8 (xb),
      vget_low_s8 (wb));
}

INLINE int16x8_t
hi_pair (int8x16_t xa, int8x16_t xb, int8x16_t wa, int8x16_t wb)
{
  return vmlal_high_s8 (vmull_high_s8 (xa, wa), xb, wb);
}

/* channel lane's 4 weights in every 32-bit lane */
#define W_DUP(b, lane) vreinterpretq_s8_s32 (vdupq_laneq_s32 (vreinterpretq_s32_s8 (b), lane))

void
cfqp_int8_conv_u8s8_8x4c4__neon (const guint8 *const *a, gsize k4n, guint n_px,
    const gint8 *w, guint n_oc, const gint32 *bias, const CfqpInt8ConvOut *o, guint8 *out,
    gsize out_stride)
{
  RqBounds bnd = { vdupq_n_s32 (o->z), vdupq_n_s32 (o->lo - o->z), vdupq_n_s32 (o->hi - o->z) };
  const int8x16_t zero = vdupq_n_s8 (0);

  for (guint px = 0; px < n_px; px += 8)
    for (guint oc = 0; oc < n_oc; oc += 4) {
      const gint8 *wb = w + (gsize) oc * k4n * 4;
      gsize off = (gsize) px * 4;
      guint left = n_px - px;
      guint8 *dst = out + oc * out_stride + px;
      /* p<o><v>: channel o, pixels 2v and 2v + 1 as tap pairs */
      int32x4_t p00, p01, p02, p03, p10, p11, p12, p13;
      int32x4_t p20, p21, p22, p23, p30, p31, p32, p33;

      p00 = p01 = p02 = p03 = p10 = p11 = p12 = p13 = vdupq_n_s32 (0);
      p20 = p21 = p22 = p23 = p30 = p31 = p32 = p33 = vdupq_n_s32 (0);
      for (gsize k4 = 0; k4 < k4n; k4 += 2) {
        const guint8 *c = a[k4] + off;
        int8x16_t x0 = LOAD_S8_FLIP (c), x1 = LOAD_S8_FLIP (c + 16);
        int8x16_t b = vld1q_s8 (wb + 16 * k4), b2 = zero, y0 = zero, y1 = zero;
        if (k4 + 1 < k4n) {   /* an odd last step pairs with zero weights */
          const guint8 *d = a[k4 + 1] + off;
          y0 = LOAD_S8_FLIP (d);
          y1 = LOAD_S8_FLIP (d + 16);
          b2 = vld1q_s8 (wb + 16 * (k4 + 1));
        }
        {
          int8x16_t wa = W_DUP (b, 0), wc = W_DUP (b2, 0);
          MAC_PAIR (p00, x0, y0, wa, wc, lo);
          MAC_PAIR (p01, x0, y0, wa, wc, hi);
          MAC_PAIR (p02, x1, y1, wa, wc, lo);
          MAC_PAIR (p03, x1, y1, wa, wc, hi);
        }
        {
          int8x16_t wa = W_DUP (b, 1), wc = W_DUP (b2, 1);
          MAC_PAIR (p10, x0, y0, wa, wc, lo);
          MAC_PAIR (p11, x0, y0, wa, wc, hi);
          MAC_PAIR (p12, x1, y1, wa, wc, lo);
          MAC_PAIR (p13, x1, y1, wa, wc, hi);
        }
        {
          int8x16_t wa = W_DUP (b, 2), wc = W_DUP (b2, 2);
          MAC_PAIR (p20, x0, y0, wa, wc, lo);
          MAC_PAIR (p21, x0, y0, wa, wc, hi);
          MAC_PAIR (p22, x1, y1, wa, wc, lo);
          MAC_PAIR (p23, x1, y1, wa, wc, hi);
        }
        {
          int8x16_t wa = W_DUP (b, 3), wc = W_DUP (b2, 3);
          MAC_PAIR (p30, x0, y0, wa, wc, lo);
          MAC_PAIR (p31, x0, y0, wa, wc, hi);
          MAC_PAIR (p32, x1, y1, wa, wc, lo);
          MAC_PAIR (p33, x1, y1, wa, wc, hi);
        }
      }
      {
        /* addp joins each pixel's two halves: pixels 0–3, then 4–7 */
        int32x4_t c0[2] = { vaddq_s32 (vpaddq_s32 (p00, p01), vdupq_n_s32 (bias[oc])),
                            vaddq_s32 (vpaddq_s32 (p02, p03), vdupq_n_s32 (bias[oc])) };
        int32x4_t c1[2] = { vaddq_s32 (vpaddq_s32 (p10, p11), vdupq_n_s32 (bias[oc + 1])),
                            vaddq_s32 (vpaddq_s32 (p12, p13), vdupq_n_s32 (bias[oc + 1])) };
        int32x4_t c2[2] = { vaddq_s32 (vpaddq_s32 (p20, p21), vdupq_n_s32 (bias[oc + 2])),
                            vaddq_s32 (vpaddq_s32 (p22, p23), vdupq_n_s32 (bias[oc + 2])) };
        int32x4_t c3[2] = { vaddq_s32 (vpaddq_s32 (p30, p31), vdupq_n_s32 (bias[oc + 3])),
                            vaddq_s32 (vpaddq_s32 (p32, p33), vdupq_n_s32 (bias[oc + 3])) };
        store_channel (c0, 2, o->pos[oc], o->neg[oc], &bnd, dst, left);
        if (oc + 1 < n_oc)
          store_channel (c1, 2, o->pos[oc + 1], o->neg[oc + 1], &bnd, dst + out_stride, left);
        if (oc + 2 < n_oc)
          store_channel (c2, 2, o->pos[oc + 2], o->neg[oc + 2], &bnd, dst + 2 * out_stride,
              left);
        if (oc + 3 < n_oc)
          store_channel (c3, 2, o->pos[oc + 3], o->neg[oc + 3], &bnd, dst + 3 * out_stride,
              left);
      }
    }
}

/* --- packing ------------------------------------------------------------------------ */

/* [ocp][k4n·4] → [ocp/4][k4n][4][4] */
static void
relayout (gint8 *w, guint ocp, gsize k4n)
{
  gsize n = (gsize) ocp * k4n * 4;
  g_autofree gint8 *src = g_memdup2 (w, n);

  for (guint oc = 0; oc < ocp; oc++)
    for (gsize k4 = 0; k4 < k4n; k4++)
      memcpy (w + (((gsize) oc / 4 * k4n + k4) * 4 + oc % 4) * 4, src + ((gsize) oc * k4n + k4) * 4,
          4);
}

gboolean
cfqp_int8_c4_pack__neoni8mm (gint8 *w, guint ocp, gsize k4n, G_GNUC_UNUSED gint32 *bias)
{
  relayout (w, ocp, k4n);
  return TRUE;
}

/* inputs shifted by −128: Σ w·x = Σ w·(x − 128) + 128·Σw, the last term
 * into the bias (mod 2^32, see the top) */
gboolean
cfqp_int8_c4_pack__neondot (gint8 *w, guint ocp, gsize k4n, gint32 *bias)
{
  for (guint oc = 0; oc < ocp; oc++) {
    gint64 sum = 0;
    for (gsize k = 0; k < k4n * 4; k++)
      sum += w[(gsize) oc * k4n * 4 + k];
    bias[oc] = (gint32) (guint32) ((guint32) bias[oc] + (guint32) (sum * 128));
  }
  relayout (w, ocp, k4n);
  return TRUE;
}

gboolean
cfqp_int8_c4_pack__neon (gint8 *w, guint ocp, gsize k4n, gint32 *bias)
{
  /* the int16 tap pairs need |w| ≤ 127 (the weight quantiser's range) */
  for (gsize e = 0; e < (gsize) ocp * k4n * 4; e++)
    if (w[e] == G_MININT8)
      return FALSE;
  return cfqp_int8_c4_pack__neondot (w, ocp, k4n, bias);
}
#endif
