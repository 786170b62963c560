/* Naive double-precision definitions of every op, for the engine tests.
 * Written from the ONNX formulas, independently of the kernels. */
#pragma once

#include "cfqp-graph.h"

G_BEGIN_DECLS

typedef struct {
  CfqpShape shape;
  double   *data;     /* c×h×w, dense */
} RefTensor;

static inline double *
ref_at (const RefTensor *t, guint c, guint y, guint x)
{
  return &t->data[((gsize) c * t->shape.h + y) * t->shape.w + x];
}

/* Computes node into out (allocated here, out->shape must be set). */
void ref_node  (const CfqpNode *node, const RefTensor *inputs, RefTensor *out);
/* Whole graph on an input tensor; returns the output (free data with g_free). */
RefTensor ref_graph (const CfqpGraph *graph, const RefTensor *input);

/* Random floats in [lo, hi) from a seeded generator. */
float *ref_random_floats (GRand *rand, gsize n, float lo, float hi);

G_END_DECLS
