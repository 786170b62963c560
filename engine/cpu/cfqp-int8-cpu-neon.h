/* ref's requantisation on int32x4 lanes for the NEON kernels (internal):
 * the conv epilogue of cfqp-int8-cpu-gemm-c4-neon.c and the rows of
 * cfqp-int8-cpu-rows-neon.c share these, so the rounding is written once.
 * AArch64 only (include under CFQP_GEMM_ARM64). */
#pragma once

#include <arm_neon.h>
#include <glib.h>

#define CFQP_NEON_INLINE static inline __attribute__ ((always_inline))

/* rshift_round (p, s), half away from zero, as one rounding shift: for
 * p < 0, −((−p + h) >> s) = (p − 1 + h) >> s, and srshl by −s adds h = 2^(s−1)
 * before shifting, so adding p >> 63 (−1 or 0) first is exact.  |p| < 2^62. */
CFQP_NEON_INLINE int64x2_t
rq_round (int64x2_t p, int64x2_t nshift)
{
  return vrshlq_s64 (vaddq_s64 (p, vshrq_n_s64 (p, 63)), nshift);
}

/* one multiplier (and shift) for all lanes; the result saturated to int32,
 * which keeps order, so the clamp after it is the 64-bit one */
CFQP_NEON_INLINE int32x4_t
rq1 (int32x4_t acc, int32x4_t m, int64x2_t nshift)
{
  int64x2_t lo = vmull_s32 (vget_low_s32 (acc), vget_low_s32 (m));
  int64x2_t hi = vmull_high_s32 (acc, m);
  return vqmovn_high_s64 (vqmovn_s64 (rq_round (lo, nshift)), rq_round (hi, nshift));
}

/* the negative-side multiplier and shift where acc < 0 (LeakyReLU, PReLU) */
CFQP_NEON_INLINE int32x4_t
rq2 (int32x4_t acc, int32x4_t mp, int32x4_t mn, int32x4_t nsp, int32x4_t nsn)
{
  uint32x4_t neg = vcltzq_s32 (acc);
  int32x4_t m = vbslq_s32 (neg, mn, mp), ns = vbslq_s32 (neg, nsn, nsp);
  int64x2_t lo = vmull_s32 (vget_low_s32 (acc), vget_low_s32 (m));
  int64x2_t hi = vmull_high_s32 (acc, m);
  return vqmovn_high_s64 (vqmovn_s64 (rq_round (lo, vmovl_s32 (vget_low_s32 (ns)))),
      rq_round (hi, vmovl_high_s32 (ns)));
}

/* cfqp_clamp_u8's order (ONNX Clip's: hi wins over lo), on r = requant − z */
CFQP_NEON_INLINE int32x4_t
rq_clamp (int32x4_t r, int32x4_t loz, int32x4_t hiz, int32x4_t z)
{
  int32x4_t t = vminq_s32 (vmaxq_s32 (r, loz), hiz);
  return vaddq_s32 (t, z);
}

/* 16 clamped values (each in 0..255) to bytes: narrowing keeps the low
 * byte, as the cast does */
CFQP_NEON_INLINE uint8x16_t
rq_bytes16 (int32x4_t v0, int32x4_t v1, int32x4_t v2, int32x4_t v3)
{
  return vcombine_u8 (
      vmovn_u16 (vreinterpretq_u16_s16 (vcombine_s16 (vmovn_s32 (v0), vmovn_s32 (v1)))),
      vmovn_u16 (vreinterpretq_u16_s16 (vcombine_s16 (vmovn_s32 (v2), vmovn_s32 (v3)))));
}
