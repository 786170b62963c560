/* The Winograd conv path of the cpu INT8 set (internal): see
 * cfqp-int8-cpu-wino.c for the arithmetic and why it is exact. */
#pragma once

#include "cfqp-int8-cpu-gemm.h"
#include "cfqp-int8.h"

G_BEGIN_DECLS

/* The bound the path needs: 4·255·Σ|w| of every output channel < 2^31. */
#define CFQP_INT8_WINO_MAX_ABS_SUM (G_MAXINT32 / (4 * 255))

/* U' = G' g G'ᵀ of int8 3×3 weights [oc][ic][3][3], in the kernel's order
 * [ξ][oc/4][ic/2][4] of int32 words holding two int16 (even channel low);
 * channels past ic and oc are zero.  Free with g_free. */
gint32 *cfqp_int8_wino_weights (const gint8 *w, guint ic, guint oc);

/* Rows [y0, y1) of output through kernel, whose block is block tiles: in,
 * the conv's input (3×3, stride 1, dilation 1, top and left pads pt, pl);
 * u from cfqp_int8_wino_weights; bias with the input zero point folded in. */
void cfqp_int8_cpu_conv_wino (CfqpInt8ConvWinoFunc kernel, guint block, const gint32 *u,
                              const gint32 *bias, const CfqpInt8Node *q, const CfqpU8View *in,
                              const CfqpU8View *output, guint pt, guint pl, guint y0, guint y1);

G_END_DECLS
