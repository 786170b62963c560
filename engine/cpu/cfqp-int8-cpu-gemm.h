/* u8·s8 GEMM micro-kernels of the cpu INT8 set (internal). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define CFQP_GEMM_X86 1
#else
#define CFQP_GEMM_X86 0
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

/* The widest variant this CPU runs; isa (optional) gets its name. */
CfqpInt8GemmFunc cfqp_int8_cpu_gemm_select (const char **isa);

G_END_DECLS
