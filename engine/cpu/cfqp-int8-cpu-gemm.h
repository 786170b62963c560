/* u8·s8 GEMM micro-kernels of the cpu INT8 set (internal). */
#pragma once

#include "cfqp-int8.h"

G_BEGIN_DECLS

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define CFQP_GEMM_X86 1
#else
#define CFQP_GEMM_X86 0
#endif
/* 64-bit ARM: the NEON c4 conv kernels (cfqp-int8-cpu-gemm-c4-neon.c) */
#if defined(__aarch64__) && defined(__GNUC__) && !defined(__clang__)
#define CFQP_GEMM_ARM64 1
#else
#define CFQP_GEMM_ARM64 0
#endif

/* For px < n_px and oc < n_oc (a multiple of 4):
 *   acc[oc·acc_stride + px] = bias[oc] + Σ_{k<kp} col[px·kp + k] · w[oc·kp + k]
 * int32 arithmetic: the caller makes sure it cannot overflow. */
typedef void (*CfqpInt8GemmFunc) (const guint8 *col, gsize kp, guint n_px, const gint8 *w,
                                  guint n_oc, const gint32 *bias, gint32 *acc,
                                  gsize acc_stride);

void cfqp_int8_gemm_u8s8_1x4__scalar     (const guint8 *col, gsize kp, guint n_px,
                                          const gint8 *w, guint n_oc, const gint32 *bias,
                                          gint32 *acc, gsize acc_stride);
#if CFQP_GEMM_X86
void cfqp_int8_gemm_u8s8_1x4__sse41      (const guint8 *col, gsize kp, guint n_px,
                                          const gint8 *w, guint n_oc, const gint32 *bias,
                                          gint32 *acc, gsize acc_stride);
void cfqp_int8_gemm_u8s8_1x4__avx2       (const guint8 *col, gsize kp, guint n_px,
                                          const gint8 *w, guint n_oc, const gint32 *bias,
                                          gint32 *acc, gsize acc_stride);
void cfqp_int8_gemm_u8s8_1x4__avxvnni    (const guint8 *col, gsize kp, guint n_px,
                                          const gint8 *w, guint n_oc, const gint32 *bias,
                                          gint32 *acc, gsize acc_stride);
void cfqp_int8_gemm_u8s8_1x4__avx512vnni (const guint8 *col, gsize kp, guint n_px,
                                          const gint8 *w, guint n_oc, const gint32 *bias,
                                          gint32 *acc, gsize acc_stride);
#endif

/* Pixel lanes: n_px a multiple of 64, n_oc of 4, col4 in [k/4][px][4] order:
 *   acc[oc·acc_stride + px] = bias[oc] + Σ_k col4[((k/4)·n_px + px)·4 + k%4] · w[oc·kp + k] */
#if CFQP_GEMM_X86
void cfqp_int8_gemm_u8s8_64x4c4__avx512vnni (const guint8 *col4, gsize kp, guint n_px,
                                             const gint8 *w, guint n_oc, const gint32 *bias,
                                             gint32 *acc, gsize acc_stride);
#endif

/* The conv form with ref's output stage fused: for px < n_px, oc < n_oc
 *   acc = bias[oc] + Σ_{k4<k4n, j<4} a[k4][px·4 + j] · w(oc, 4·k4 + j)
 *   out[oc·out_stride + px] = clamp(z + requant(acc, acc < 0 ? neg[oc] : pos[oc]), lo, hi)
 * Each a[k4] is read for whole blocks of the kernel's pixels (the config's
 * c4_pixels: round n_px up), w and bias are padded to a multiple of 4
 * channels; bytes past n_px and channels past n_oc are not written.
 * w(oc, k) is packed as the kernel's CfqpInt8C4Weights says. */
typedef struct {
  const CfqpRequant *pos, *neg;   /* per output channel */
  gint32 z, lo, hi;
} CfqpInt8ConvOut;

typedef enum {
  /* w[oc·4·k4n + 4·k4 + j], int8 */
  CFQP_INT8_C4_WEIGHTS_S8,
  /* int16 pairs for vpmaddwd: per (oc, k4) two int32 words,
   * (w_j0, w_j2) then (w_j1, w_j3), at w16[(oc·k4n + k4)·2 + {0, 1}] */
  CFQP_INT8_C4_WEIGHTS_S16_PAIRS,
  /* for vpmaddubsw, which adds two u8·s8 products in int16 with
   * saturation: int8 weights split per 4-byte group g into a bounded part
   * f, whose byte pairs (f0, f1) and (f2, f3) cannot saturate for any u8
   * inputs, and a residual r = g − f (same signs as g), nonzero only
   * where a pair of g could saturate; see cfqp_int8_c4_weights_maddubs */
  CFQP_INT8_C4_WEIGHTS_S8_MADDUBS,
} CfqpInt8C4Weights;

/* CFQP_INT8_C4_WEIGHTS_S8_MADDUBS, one block per 4 output channels:
 *   guint32              n_fixups[4]     per channel of the block
 *   gint8                f[4][k4n][4]    the bounded weights
 *   CfqpInt8C4Fixup      fixups[]        channel 0's, then 1's, 2's, 3's
 * A pair (a, b) is bounded when 255·(max(a,0) + max(b,0)) ≤ 32767 and
 * 255·(min(a,0) + min(b,0)) ≥ −32768, i.e. its positive part sums to at
 * most 128 and its negative part to at least −128; the residual's pairs
 * then are bounded too (at most 127 + 127 − 128), so both go through
 * vpmaddubsw exactly. */
typedef struct {
  guint32 k4;      /* the 4-byte group */
  gint8   r[4];    /* the residual weights of that group */
} CfqpInt8C4Fixup;

#define CFQP_INT8_MADDUBS_PAIR_MAX 128   /* |sum of one sign| of a bounded pair */

/* The S8_MADDUBS form of [ocp][k4n·4] int8 weights (ocp a multiple of 4):
 * a new buffer (g_free), its size in *size, the number of fix-ups in
 * *n_fixups. */
gint8 *cfqp_int8_c4_weights_maddubs (const gint8 *w, guint ocp, gsize k4n, gsize *size,
                                     gsize *n_fixups);

typedef void (*CfqpInt8ConvC4Func) (const guint8 *const *a, gsize k4n, guint n_px,
                                    const gint8 *w, guint n_oc, const gint32 *bias,
                                    const CfqpInt8ConvOut *o, guint8 *out, gsize out_stride);

/* A c4 kernel's own pack step (the config's c4_pack; NULL: none): turns
 * the [ocp][k4n·4] int8 weights and a copy of the biases into the
 * kernel's form in place.  FALSE: the kernel cannot take these weights,
 * and that conv runs another path. */
typedef gboolean (*CfqpInt8C4PackFunc) (gint8 *w, guint ocp, gsize k4n, gint32 *bias);

#if CFQP_GEMM_ARM64
/* --- 64-bit ARM (cfqp-int8-cpu-gemm-c4-neon.c); w and bias as the
 * kernel's pack leaves them --- */
/* 16 pixels × 4 channels, usdot (u8 × s8) by lane */
void cfqp_int8_conv_u8s8_16x4c4__neoni8mm (const guint8 *const *a, gsize k4n, guint n_px,
                                           const gint8 *w, guint n_oc, const gint32 *bias,
                                           const CfqpInt8ConvOut *o, guint8 *out,
                                           gsize out_stride);
/* 16 pixels × 4 channels, sdot on inputs shifted to s8 (128·Σw in the bias) */
void cfqp_int8_conv_u8s8_16x4c4__neondot  (const guint8 *const *a, gsize k4n, guint n_px,
                                           const gint8 *w, guint n_oc, const gint32 *bias,
                                           const CfqpInt8ConvOut *o, guint8 *out,
                                           gsize out_stride);
/* 8 pixels × 4 channels, smull/smlal/sadalp; refuses −128 weights */
void cfqp_int8_conv_u8s8_8x4c4__neon      (const guint8 *const *a, gsize k4n, guint n_px,
                                           const gint8 *w, guint n_oc, const gint32 *bias,
                                           const CfqpInt8ConvOut *o, guint8 *out,
                                           gsize out_stride);
gboolean cfqp_int8_c4_pack__neoni8mm (gint8 *w, guint ocp, gsize k4n, gint32 *bias);
gboolean cfqp_int8_c4_pack__neondot  (gint8 *w, guint ocp, gsize k4n, gint32 *bias);
gboolean cfqp_int8_c4_pack__neon     (gint8 *w, guint ocp, gsize k4n, gint32 *bias);
#endif

#if CFQP_GEMM_X86
/* 64 pixels (4 zmm) × 4 channels, vpdpbusd zmm */
void cfqp_int8_conv_u8s8_64x4c4__avx512vnni (const guint8 *const *a, gsize k4n, guint n_px,
                                             const gint8 *w, guint n_oc, const gint32 *bias,
                                             const CfqpInt8ConvOut *o, guint8 *out,
                                             gsize out_stride);
/* 24 pixels (3 ymm) × 4 channels, vpdpbusd ymm (VEX) */
void cfqp_int8_conv_u8s8_24x4c4__avxvnni    (const guint8 *const *a, gsize k4n, guint n_px,
                                             const gint8 *w, guint n_oc, const gint32 *bias,
                                             const CfqpInt8ConvOut *o, guint8 *out,
                                             gsize out_stride);
/* 16 pixels × 4 channels, exact without VNNI: vpmaddubsw + vpmaddwd against
 * CFQP_INT8_C4_WEIGHTS_S8_MADDUBS (w is those blocks), then the fix-ups */
void cfqp_int8_conv_u8s8_16x4c4__avx2       (const guint8 *const *a, gsize k4n, guint n_px,
                                             const gint8 *w, guint n_oc, const gint32 *bias,
                                             const CfqpInt8ConvOut *o, guint8 *out,
                                             gsize out_stride);
/* 8 pixels × 4 channels, exact: bytes widened to int16 and pmaddwd against
 * CFQP_INT8_C4_WEIGHTS_S16_PAIRS (w is those words) */
void cfqp_int8_conv_u8s8_8x4c4__sse41       (const guint8 *const *a, gsize k4n, guint n_px,
                                             const gint8 *w, guint n_oc, const gint32 *bias,
                                             const CfqpInt8ConvOut *o, guint8 *out,
                                             gsize out_stride);
#endif

/* Winograd F(2×2, 3×3) (cfqp-int8-cpu-wino.c): two output rows of a 3×3
 * stride-1 conv from the 4 input rows it reads.  rows[r]: row r gathered
 * as [pair][E|O][n_tiles + 8][2] (E half at +0, O at +eo, pairs
 * pair_stride apart); u: cfqp_int8_wino_weights; out0, out1 the two rows
 * of channel 0 (out1 NULL: one row), channels out_stride apart, ow output
 * columns; vbuf (16·pairs·2·T int16) and mbuf (64·T int32), 64-byte aligned,
 * are the kernel's scratch, T its block of tiles (the config's wino_tiles;
 * n_tiles a multiple of it).  Bytes past ow are not written. */
typedef void (*CfqpInt8ConvWinoFunc) (const guint8 *const rows[4], gsize eo, gsize pair_stride,
                                      guint pairs, guint n_tiles, const gint32 *u, guint n_oc,
                                      const gint32 *bias, const CfqpInt8ConvOut *o,
                                      guint8 *out0, guint8 *out1, guint ow, gsize out_stride,
                                      gint16 *vbuf, gint32 *mbuf);
#if CFQP_GEMM_X86
/* 16 tiles × 4 channels per step, vpmaddwd on int16 pairs */
void cfqp_int8_conv_wino_f2x3_16x4__avx2 (const guint8 *const rows[4], gsize eo,
                                          gsize pair_stride, guint pairs, guint n_tiles,
                                          const gint32 *u, guint n_oc, const gint32 *bias,
                                          const CfqpInt8ConvOut *o, guint8 *out0, guint8 *out1,
                                          guint ow, gsize out_stride, gint16 *vbuf,
                                          gint32 *mbuf);
/* 8 tiles × 4 channels per step, pmaddwd on int16 pairs */
void cfqp_int8_conv_wino_f2x3_8x4__sse41  (const guint8 *const rows[4], gsize eo,
                                          gsize pair_stride, guint pairs, guint n_tiles,
                                          const gint32 *u, guint n_oc, const gint32 *bias,
                                          const CfqpInt8ConvOut *o, guint8 *out0, guint8 *out1,
                                          guint ow, gsize out_stride, gint16 *vbuf,
                                          gint32 *mbuf);
#endif

/* out[x] = clamp(z + requant(acc[x], acc[x] < 0 ? neg : pos), lo, hi): ref's
 * conv output stage. */
typedef void (*CfqpInt8RequantFunc) (const gint32 *acc, guint n, CfqpRequant pos,
                                     CfqpRequant neg, gint32 z, gint32 lo, gint32 hi,
                                     guint8 *out);

void cfqp_int8_requant_row_u8__scalar (const gint32 *acc, guint n, CfqpRequant pos,
                                       CfqpRequant neg, gint32 z, gint32 lo, gint32 hi,
                                       guint8 *out);
#if CFQP_GEMM_X86
void cfqp_int8_requant_row_u8__sse41  (const gint32 *acc, guint n, CfqpRequant pos,
                                       CfqpRequant neg, gint32 z, gint32 lo, gint32 hi,
                                       guint8 *out);
void cfqp_int8_requant_row_u8__avx2   (const gint32 *acc, guint n, CfqpRequant pos,
                                       CfqpRequant neg, gint32 z, gint32 lo, gint32 hi,
                                       guint8 *out);
void cfqp_int8_requant_row_u8__avx512 (const gint32 *acc, guint n, CfqpRequant pos,
                                       CfqpRequant neg, gint32 z, gint32 lo, gint32 hi,
                                       guint8 *out);
#endif
#if CFQP_GEMM_ARM64
void cfqp_int8_requant_row_u8__neon   (const gint32 *acc, guint n, CfqpRequant pos,
                                       CfqpRequant neg, gint32 z, gint32 lo, gint32 hi,
                                       guint8 *out);
#endif

G_END_DECLS
