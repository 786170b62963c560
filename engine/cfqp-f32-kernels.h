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

/* Indexed by CfqpOpType; never NULL for a supported op. */
extern const CfqpF32OpFunc cfqp_f32_ops[CFQP_OP_N_OPS];

G_END_DECLS
