/* The u8·s8 → int32 GEMM micro-kernel of the cpu conv: one column (an
 * output pixel's gathered inputs) against four output channels' weights.
 *
 * Written for the compiler's vectorizer: the four reductions over k are
 * recognised as dot products (GCC 12 emits vpdpbusd for AVX-512 VNNI and
 * AVX-VNNI, widening multiplies for plain AVX2), and one copy is compiled
 * per ISA with target attributes.  Not target_clones: it takes VNNI only as
 * arch=icelake-server, which dispatches on the CPU model and so misses AMD
 * Zen 4; here the kernel config (cfqp-int8-cpu-config.c) picks by feature.  k is padded to a multiple of 32 with zero weights, so the
 * vector loop has no scalar tail worth speaking of. */
#include "cfqp-int8-cpu-gemm.h"

#include "cfqp-int8-cpu.h"

/* The body, inlined into one function per ISA so each is vectorised
 * for its own instructions. */
static inline __attribute__ ((always_inline)) void
gemm_u8s8_1x4 (const guint8 *restrict col, gsize kp, guint n_px,
    const gint8 *restrict w, guint n_oc, const gint32 *restrict bias,
    gint32 *restrict acc, gsize acc_stride)
{
  for (guint px = 0; px < n_px; px++) {
    const guint8 *restrict c = col + px * kp;
    for (guint oc = 0; oc < n_oc; oc += 4) {
      const gint8 *restrict w0 = w + oc * kp, *restrict w1 = w0 + kp;
      const gint8 *restrict w2 = w1 + kp, *restrict w3 = w2 + kp;
      gint32 s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (gsize k = 0; k < kp; k++) {
        gint32 x = c[k];
        s0 += x * w0[k];
        s1 += x * w1[k];
        s2 += x * w2[k];
        s3 += x * w3[k];
      }
      acc[(oc + 0) * acc_stride + px] = bias[oc + 0] + s0;
      acc[(oc + 1) * acc_stride + px] = bias[oc + 1] + s1;
      acc[(oc + 2) * acc_stride + px] = bias[oc + 2] + s2;
      acc[(oc + 3) * acc_stride + px] = bias[oc + 3] + s3;
    }
  }
}

/* requant of one row of accumulators, ref's expression rearranged so the
 * vectorizer takes it (64-bit lanes): sign-selected multiplier, rounding
 * half away from zero, the clamp applied before adding the zero point
 * (in 64 bits: a tiny zero-multiplier-free shift can leave huge values). */
static inline __attribute__ ((always_inline)) void
requant_row (const gint32 *restrict acc, guint n, CfqpRequant pos, CfqpRequant neg,
    gint32 z, gint32 lo, gint32 hi, guint8 *restrict out)
{
  gint64 half_pos = (gint64) 1 << (pos.shift - 1), half_neg = (gint64) 1 << (neg.shift - 1);
  gint64 sh_pos = pos.shift, sh_neg = neg.shift, rlo = (gint64) lo - z, rhi = (gint64) hi - z;

  for (guint x = 0; x < n; x++) {
    gint64 a = acc[x];
    gboolean negative = a < 0;
    gint64 p = a * (negative ? neg.m : pos.m);
    gint64 mag = p < 0 ? -p : p;
    gint64 r = (mag + (negative ? half_neg : half_pos)) >> (negative ? sh_neg : sh_pos);
    r = p < 0 ? -r : r;
    r = r < rlo ? rlo : (r > rhi ? rhi : r);   /* cfqp_clamp_u8's order, even if lo > hi */
    out[x] = (guint8) (r + z);
  }
}

#define DEFINE_REQUANT(isa, attr) \
  attr void \
  cfqp_int8_requant_row_u8__##isa (const gint32 *acc, guint n, CfqpRequant pos, \
      CfqpRequant neg, gint32 z, gint32 lo, gint32 hi, guint8 *out) \
  { \
    requant_row (acc, n, pos, neg, z, lo, hi, out); \
  }

DEFINE_REQUANT (scalar, )
#if CFQP_GEMM_X86
DEFINE_REQUANT (sse41, __attribute__ ((target ("sse4.1"))))
DEFINE_REQUANT (avx2, __attribute__ ((target ("avx2,fma"))))
DEFINE_REQUANT (avx512, __attribute__ ((target ("avx512f,avx512bw,avx512vl,avx512dq"))))
#endif

#define DEFINE_GEMM(isa, attr) \
  attr void \
  cfqp_int8_gemm_u8s8_1x4__##isa (const guint8 *col, gsize kp, guint n_px, const gint8 *w, \
      guint n_oc, const gint32 *bias, gint32 *acc, gsize acc_stride) \
  { \
    gemm_u8s8_1x4 (col, kp, n_px, w, n_oc, bias, acc, acc_stride); \
  }

DEFINE_GEMM (scalar, )
#if CFQP_GEMM_X86
DEFINE_GEMM (sse41, __attribute__ ((target ("sse4.1"))))
DEFINE_GEMM (avx2, __attribute__ ((target ("avx2,fma"))))
DEFINE_GEMM (avxvnni, __attribute__ ((target ("avx2,fma,avxvnni"))))
DEFINE_GEMM (avx512vnni, __attribute__ ((target ("avx512f,avx512bw,avx512vl,avx512vnni"))))
#endif
