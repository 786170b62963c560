/* Data moves over elements of any size (internal), like XNNPACK's x8/x32
 * kernels: depth-to-space, space-to-depth, nearest resize, channel tile and
 * channel concat only address data, so one kernel serves the bytes of
 * INT8 (engine/cpu) and the floats of FP32 (cfqp-f32-ops.c).  The `ref`
 * INT8 set keeps its own scalar loops: it stays the definition these are
 * checked against. */
#pragma once

#include "cfqp-graph.h"
#include "cfqp-view.h"

G_BEGIN_DECLS

/* Whether op is one cfqp_moves_run computes. */
gboolean cfqp_moves_handles (CfqpOpType op);
/* d[b·x + j] = s[j][x] for n bytes: a caller's kernel for the byte case
 * (the cpu set's config: NEON on ARM); FALSE for a block it does not take. */
typedef gboolean (*CfqpMovesInterleaveFunc) (guint8 *d, const guint8 *const *s, guint b,
    guint n);

/* Output rows [y0, y1) of node (an op cfqp_moves_handles) on elements of
 * esize bytes; interleave (or NULL) is tried first for depth-to-space rows
 * of bytes.  Fused activations are the caller's: the values are copied. */
void     cfqp_moves_run     (const CfqpNode *node, gsize esize,
                             CfqpMovesInterleaveFunc interleave, const CfqpView *inputs,
                             const CfqpView *output, guint y0, guint y1);
/* How node's rows are moved at esize, for kernel descriptions. */
const char *cfqp_moves_describe (const CfqpNode *node, gsize esize);

G_END_DECLS
