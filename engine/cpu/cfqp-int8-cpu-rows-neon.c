/* The row kernels of the cpu set for 64-bit ARM, the NEON forms of the
 * generic C ones, for every ARM level (NEON is the AArch64 baseline):
 *
 *   requant_row_u8__neon  the conv output stage of the dot and orc paths
 *                         (cfqp-int8-cpu-gemm.c's requant_row)
 *   add_row_u8__neon      residual add/sub per element (the x86 add_row's
 *                         arithmetic, cfqp-int8-cpu-lut.c): each input's term
 *                         rshift_round((v − z)·m, s) in int64 lanes, their sum
 *                         plus the offset rounded onto the output
 *
 * Both round with cfqp-int8-cpu-neon.h's rq_round (half away from zero) and
 * clamp in cfqp_clamp_u8's order, so they give ref's bytes; the scalar loop
 * after the vector one is ref's expression itself.  Not speed-tested: no ARM
 * hardware here (docs/performance.md). */
#include "cfqp-int8-cpu-gemm.h"
#include "cfqp-int8-cpu-lut.h"

#if CFQP_GEMM_ARM64
#include "cfqp-int8-cpu-neon.h"

void
cfqp_int8_requant_row_u8__neon (const gint32 *acc, guint n, CfqpRequant pos, CfqpRequant neg,
    gint32 z, gint32 lo, gint32 hi, guint8 *out)
{
  int32x4_t mp = vdupq_n_s32 (pos.m), mn = vdupq_n_s32 (neg.m);
  int32x4_t nsp = vdupq_n_s32 (-(gint32) pos.shift), nsn = vdupq_n_s32 (-(gint32) neg.shift);
  int32x4_t vz = vdupq_n_s32 (z), loz = vdupq_n_s32 (lo - z), hiz = vdupq_n_s32 (hi - z);
  guint x = 0;

  for (; x + 16 <= n; x += 16) {
    int32x4_t v[4];
    for (guint i = 0; i < 4; i++)
      v[i] = rq_clamp (rq2 (vld1q_s32 (acc + x + 4 * i), mp, mn, nsp, nsn), loz, hiz, vz);
    vst1q_u8 (out + x, rq_bytes16 (v[0], v[1], v[2], v[3]));
  }
  for (; x < n; x++)
    out[x] = cfqp_clamp_u8 (z + cfqp_requant (acc[x], acc[x] < 0 ? neg : pos), lo, hi);
}

/* rshift_round ((v − z)·m, s) for 4 bytes' differences d (|d| ≤ 255) */
CFQP_NEON_INLINE void
add_terms (int32x4_t d, int32x4_t m, int64x2_t ns, int64x2_t *t_lo, int64x2_t *t_hi)
{
  *t_lo = vaddq_s64 (*t_lo, rq_round (vmull_s32 (vget_low_s32 (d), vget_low_s32 (m)), ns));
  *t_hi = vaddq_s64 (*t_hi, rq_round (vmull_high_s32 (d, m), ns));
}

/* 4 bytes of a row widened to int32 and their zero point taken off */
CFQP_NEON_INLINE int32x4_t
diff4 (uint16x8_t v16, gboolean high, int32x4_t z)
{
  uint16x4_t h = high ? vget_high_u16 (v16) : vget_low_u16 (v16);
  return vsubq_s32 (vreinterpretq_s32_u32 (vmovl_u16 (h)), z);
}

void
cfqp_int8_add_row_u8__neon (const guint8 *a, const guint8 *b, guint8 *o, guint n, gint64 za,
    CfqpRequant ra, gint64 zb, CfqpRequant rb, gint64 off, gint32 zo, gint32 lo, gint32 hi)
{
  int32x4_t vza = vdupq_n_s32 ((gint32) za), vzb = vdupq_n_s32 ((gint32) zb);
  int32x4_t ma = vdupq_n_s32 (ra.m), mb = vdupq_n_s32 (rb.m);
  int64x2_t nsa = vdupq_n_s64 (-(gint64) ra.shift), nsb = vdupq_n_s64 (-(gint64) rb.shift);
  int64x2_t nsf = vdupq_n_s64 (-CFQP_INT8_FRAC_BITS), voff = vdupq_n_s64 (off);
  int32x4_t vz = vdupq_n_s32 (zo), loz = vdupq_n_s32 (lo - zo), hiz = vdupq_n_s32 (hi - zo);
  guint x = 0;

  for (; x + 8 <= n; x += 8) {
    uint16x8_t va = vmovl_u8 (vld1_u8 (a + x)), vb = b ? vmovl_u8 (vld1_u8 (b + x)) : va;
    int32x4_t r[2];
    for (guint h = 0; h < 2; h++) {
      int64x2_t t_lo = voff, t_hi = voff;
      add_terms (diff4 (va, h, vza), ma, nsa, &t_lo, &t_hi);
      if (b)
        add_terms (diff4 (vb, h, vzb), mb, nsb, &t_lo, &t_hi);
      /* saturating to int32 keeps order: the clamp is the 64-bit one */
      r[h] = rq_clamp (vqmovn_high_s64 (vqmovn_s64 (rq_round (t_lo, nsf)),
          rq_round (t_hi, nsf)), loz, hiz, vz);
    }
    vst1_u8 (o + x, vmovn_u16 (vreinterpretq_u16_s16 (vcombine_s16 (vmovn_s32 (r[0]),
        vmovn_s32 (r[1])))));
  }
  for (; x < n; x++) {
    gint64 t = cfqp_requant (a[x] - za, ra) + off + (b ? cfqp_requant (b[x] - zb, rb) : 0);
    o[x] = cfqp_clamp_u8 (zo + cfqp_rshift_round (t, CFQP_INT8_FRAC_BITS), lo, hi);
  }
}
#endif
