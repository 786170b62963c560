/* Runs one FP32 kernel on strided views and compares it with ref_node(). */
#pragma once

#include "cfqp-f32-kernels.h"
#include "ref-f64.h"

G_BEGIN_DECLS

/* Random inputs of the given shapes; the kernel runs over three row ranges
 * on views whose rows and planes carry padding, which must stay untouched.
 * Fails the test when an output differs from the reference by more than
 * tol·(1 + |ref|). */
void kernel_check (const CfqpNode *node, guint n_inputs, const CfqpShape *in_shapes,
                   CfqpShape out_shape, GRand *rand, double tol);

/* A one-node graph on a c-channel input; the node's output is value 1. */
CfqpGraph *single_node_graph (guint in_channels, CfqpOpType op, guint out_channels,
                              CfqpNode **node);

/* Checks a single-input node of a single_node_graph at width × height,
 * with the output shape from cfqp_graph_infer_shapes(). */
void kernel_check_graph (CfqpGraph *graph, guint width, guint height, GRand *rand,
                         double tol);

G_END_DECLS
