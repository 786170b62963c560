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

/* The conv form with ref's output stage fused: for px < n_px, oc < n_oc
 *   acc = bias[oc] + Σ_{k4<k4n, j<4} a[k4][px·4 + j] · w[oc·4·k4n + 4·k4 + j]
 *   out[oc·out_stride + px] = clamp(z + requant(acc, acc < 0 ? neg[oc] : pos[oc]), lo, hi)
 * (the ARM kernels take w as their pack leaves it).  Each a[k4] is read for
 * the whole pixel blocks (the kernel's `pixels`: round n_px up), w and bias
 * are padded to a multiple of 4 channels; bytes past n_px and channels past
 * n_oc are not written. */
typedef struct {
  const CfqpRequant *pos, *neg;   /* per output channel */
  gint32 z, lo, hi;
} CfqpInt8ConvOut;

typedef void (*CfqpInt8ConvC4Func) (const guint8 *const *a, gsize k4n, guint n_px,
                                    const gint8 *w, guint n_oc, const gint32 *bias,
                                    const CfqpInt8ConvOut *o, guint8 *out, gsize out_stride);

/* A c4 conv kernel and what the pack does for it.  pack (NULL: nothing)
 * turns the [ocp][k4n·4] weights and the biases into the kernel's own form
 * in place; FALSE: the kernel cannot take these weights. */
typedef struct {
  const char        *name;      /* cfqp_int8_conv_u8s8_… */
  const char        *short_name;
  guint              isa;       /* the level it needs (CfqpArmIsa on ARM) */
  CfqpInt8ConvC4Func conv;
  guint              pixels;    /* pixel block: a[k4] is read up to n_px rounded up to it */
  gboolean         (*pack) (gint8 *w, guint ocp, gsize k4n, gint32 *bias);
} CfqpInt8ConvC4Kernel;

/* The c4 kernel the conv uses on this CPU (under the ISA cap), NULL if none
 * (cfqp-int8-cpu-conv.c). */
const CfqpInt8ConvC4Kernel *cfqp_int8_cpu_conv_c4_select (void);

#if CFQP_GEMM_ARM64
/* --- 64-bit ARM (cfqp-int8-cpu-gemm-c4-neon.c) --- */
typedef enum {
  CFQP_ARM_ISA_GENERIC,   /* scalar C and ORC */
  CFQP_ARM_ISA_NEON,      /* 8x4c4__neon: smull/smlal/sadalp */
  CFQP_ARM_ISA_DOTPROD,   /* 16x4c4__neondot: sdot */
  CFQP_ARM_ISA_I8MM,      /* 16x4c4__neoni8mm: usdot */
} CfqpArmIsa;

void cfqp_int8_conv_u8s8_16x4c4__neoni8mm (const guint8 *const *a, gsize k4n, guint n_px,
                                           const gint8 *w, guint n_oc, const gint32 *bias,
                                           const CfqpInt8ConvOut *o, guint8 *out,
                                           gsize out_stride);
void cfqp_int8_conv_u8s8_16x4c4__neondot  (const guint8 *const *a, gsize k4n, guint n_px,
                                           const gint8 *w, guint n_oc, const gint32 *bias,
                                           const CfqpInt8ConvOut *o, guint8 *out,
                                           gsize out_stride);
void cfqp_int8_conv_u8s8_8x4c4__neon      (const guint8 *const *a, gsize k4n, guint n_px,
                                           const gint8 *w, guint n_oc, const gint32 *bias,
                                           const CfqpInt8ConvOut *o, guint8 *out,
                                           gsize out_stride);

const char *cfqp_int8_cpu_arm_isa_name (CfqpArmIsa isa);
/* What the CPU has (getauxval), and that under CFQP_MAX_CPU_ISA. */
CfqpArmIsa cfqp_int8_cpu_arm_isa_detected (void);
CfqpArmIsa cfqp_int8_cpu_arm_isa (void);
/* Every ARM c4 kernel built, widest first (tests). */
const CfqpInt8ConvC4Kernel *cfqp_int8_cpu_arm_c4_kernels (guint *n);
/* The widest one at the capped level, NULL at generic: the hook the
 * kernel config table calls for ARM. */
const CfqpInt8ConvC4Kernel *cfqp_int8_cpu_conv_c4_arm_select (void);
#endif

#if CFQP_GEMM_X86
#define CFQP_GEMM_C4_PIXELS 64
/* Pixel lanes: n_px a multiple of 64, n_oc of 4, col4 in [k/4][px][4] order:
 *   acc[oc·acc_stride + px] = bias[oc] + Σ_k col4[((k/4)·n_px + px)·4 + k%4] · w[oc·kp + k] */
void cfqp_int8_gemm_u8s8_64x4c4__avx512vnni (const guint8 *col4, gsize kp, guint n_px,
                                             const gint8 *w, guint n_oc, const gint32 *bias,
                                             gint32 *acc, gsize acc_stride);

void cfqp_int8_conv_u8s8_64x4c4__avx512vnni (const guint8 *const *a, gsize k4n, guint n_px,
                                             const gint8 *w, guint n_oc, const gint32 *bias,
                                             const CfqpInt8ConvOut *o, guint8 *out,
                                             gsize out_stride);
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
void cfqp_int8_requant_row_u8__avx2   (const gint32 *acc, guint n, CfqpRequant pos,
                                       CfqpRequant neg, gint32 z, gint32 lo, gint32 hi,
                                       guint8 *out);
void cfqp_int8_requant_row_u8__avx512 (const gint32 *acc, guint n, CfqpRequant pos,
                                       CfqpRequant neg, gint32 z, gint32 lo, gint32 hi,
                                       guint8 *out);
#endif

CfqpInt8RequantFunc cfqp_int8_cpu_requant_select (void);
/* AVX-512 F, BW, VL and DQ: what the avx512 requantisation variants and the
 * direct add/sub need (always FALSE off x86). */
gboolean cfqp_int8_cpu_have_avx512 (void);

/* The widest variant this CPU runs; isa (optional) gets its name. */
CfqpInt8GemmFunc cfqp_int8_cpu_gemm_select (const char **isa);

G_END_DECLS
