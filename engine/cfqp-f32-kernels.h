/* FP32 kernel interface (internal).
 *
 * One function per op, computing output rows [y0, y1) of a node, so that the
 * runner can split a node over threads by rows.  Tensors are batch-1 planar
 * CHW views; kernels never allocate.
 */
#pragma once

#include "cfqp-graph.h"

G_BEGIN_DECLS

typedef struct {
  float *data;
  guint  c, h, w;
  gsize  row_stride;    /* in floats */
  gsize  plane_stride;  /* in floats */
} CfqpF32View;

typedef void (*CfqpF32OpFunc) (const CfqpNode *node, const CfqpF32View *inputs,
                               const CfqpF32View *output, guint y0, guint y1);

/* The conv family (cfqp-f32-conv.c); pad_value applies to Conv only. */
void cfqp_f32_conv           (const CfqpNode *node, const CfqpF32View *inputs,
                              const CfqpF32View *output, guint y0, guint y1);
void cfqp_f32_conv_transpose (const CfqpNode *node, const CfqpF32View *inputs,
                              const CfqpF32View *output, guint y0, guint y1);

/* cfqp_activation_apply over n floats of one channel, vectorizable. */
void cfqp_f32_activate_row   (const CfqpActivation *act, guint channel, float *row, guint n);

/* Indexed by CfqpOpType; never NULL for a supported op. */
extern const CfqpF32OpFunc cfqp_f32_ops[CFQP_OP_N_OPS];

G_END_DECLS
