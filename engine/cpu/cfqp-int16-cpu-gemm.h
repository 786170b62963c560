/* The INT16 conv's micro-kernels (internal): 4 output channels × a block
 * of pixels, int16 tap pairs on the activations' bytes. */
#pragma once

#include "cfqp-int8-cpu-gemm.h"

G_BEGIN_DECLS

/* Output channels per kernel call. */
#define CFQP_INT16_GEMM_OC 4
/* Tap pairs summed in int32 between two folds into int64:
 * 128 · 2 · 32767 · 255 < 2^31. */
#define CFQP_INT16_FOLD_PAIRS 128

/* For o < 4 and i < the kernel's pixels (its config's int16_pixels):
 *   acc[o·acc_stride + i] = Σ_t 256·(w_ot · h_t[i]) + (w_ot · l_t[i])
 * where h_t = xh + off[t] and l_t = xl + off[t] are int32 lanes of two
 * int16 values each (an activation's high or low byte, for two input
 * channels: the first channel in the low half), w_ot = w[o·w_stride + t]
 * holds the two channels' int16 taps in the same order, and a·b is the
 * sum of the two products.  Exact: the sums stay in int32 for at most
 * CFQP_INT16_FOLD_PAIRS taps, then go to int64.  n_taps ≥ 1. */
typedef void (*CfqpInt16GemmFunc) (const gint32 *xh, const gint32 *xl, const gsize *off,
                                   guint n_taps, const gint32 *w, gsize w_stride, gint64 *acc,
                                   gsize acc_stride);

void cfqp_int16_gemm_4x8__scalar (const gint32 *xh, const gint32 *xl, const gsize *off,
                                  guint n_taps, const gint32 *w, gsize w_stride, gint64 *acc,
                                  gsize acc_stride);
#if CFQP_GEMM_X86
void cfqp_int16_gemm_4x4__sse41 (const gint32 *xh, const gint32 *xl, const gsize *off,
                                 guint n_taps, const gint32 *w, gsize w_stride, gint64 *acc,
                                 gsize acc_stride);
void cfqp_int16_gemm_4x8__avx2 (const gint32 *xh, const gint32 *xl, const gsize *off,
                                guint n_taps, const gint32 *w, gsize w_stride, gint64 *acc,
                                gsize acc_stride);
void cfqp_int16_gemm_4x8__avxvnni (const gint32 *xh, const gint32 *xl, const gsize *off,
                                   guint n_taps, const gint32 *w, gsize w_stride, gint64 *acc,
                                   gsize acc_stride);
void cfqp_int16_gemm_4x32__avx512vnni (const gint32 *xh, const gint32 *xl, const gsize *off,
                                       guint n_taps, const gint32 *w, gsize w_stride,
                                       gint64 *acc, gsize acc_stride);
#endif
#if CFQP_GEMM_ARM64
/* cfqp-int16-cpu-gemm-neon.c */
void cfqp_int16_gemm_4x8__neon (const gint32 *xh, const gint32 *xl, const gsize *off,
                                guint n_taps, const gint32 *w, gsize w_stride, gint64 *acc,
                                gsize acc_stride);
#endif

/* The INT16 conv's output stage, ref's arithmetic (cfqp-int16-cpu-requant.c):
 *   out[i] = clamp (z + cfqp_requant_wide (v, v ≥ 0 ? pos : neg), lo, hi)
 * with v = base + acc[i], for i < n. */
typedef void (*CfqpInt16RequantFunc) (const gint64 *acc, guint n, gint64 base, CfqpRequant pos,
                                      CfqpRequant neg, gint32 z, gint32 lo, gint32 hi,
                                      guint16 *out);

void cfqp_int16_requant_row__scalar (const gint64 *acc, guint n, gint64 base, CfqpRequant pos,
                                     CfqpRequant neg, gint32 z, gint32 lo, gint32 hi,
                                     guint16 *out);
#if CFQP_GEMM_X86
void cfqp_int16_requant_row__avx2 (const gint64 *acc, guint n, gint64 base, CfqpRequant pos,
                                   CfqpRequant neg, gint32 z, gint32 lo, gint32 hi,
                                   guint16 *out);
void cfqp_int16_requant_row__avx512 (const gint64 *acc, guint n, gint64 base, CfqpRequant pos,
                                     CfqpRequant neg, gint32 z, gint32 lo, gint32 hi,
                                     guint16 *out);
#endif

/* Two int16 values in one int32 lane, a in the low half. */
static inline gint32
cfqp_int16_pair (gint32 a, gint32 b)
{
  return (gint32) (((guint32) (guint16) a) | ((guint32) (guint16) b << 16));
}

G_END_DECLS
