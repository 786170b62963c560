/* The op descriptor table (internal): one row per CfqpOpType with all the
 * engine knows about an op outside its kernels — its name, its shape rule,
 * the input rows a range of output rows reads (stripes), whether it only
 * moves data, whether it can hold a fused activation, its MACs, the INT8
 * parameters it needs and the QDQ ONNX it exports as.
 *
 * The graph, the passes, the INT8 program, the stripe planner and the QDQ
 * exporter look an op up here instead of switching over its kind; the
 * kernels stay with each backend (cfqp_f32_ops, CfqpInt8Backend.ops, the
 * OpenCL executor), which is their job.
 */
#pragma once

#include "cfqp-graph.h"
#include "cfqp-int8.h"

G_BEGIN_DECLS

/* An exporter's state (cfqp-qdq-writer.h). */
typedef struct _CfqpQdqWriter CfqpQdqWriter;

/* What an op's entry of the INT8 program holds (cfqp-int8-program.c). */
typedef enum {
  CFQP_OP_INT8_MOVE,     /* nothing but its fused activation's bounds: data movement */
  CFQP_OP_INT8_CONV,     /* int8 weights, int32 bias, a requantisation per output channel */
  CFQP_OP_INT8_BINARY,   /* both operands (or the constant) rescaled onto the output */
  CFQP_OP_INT8_RESCALE,  /* each input rescaled onto the output's grid */
} CfqpOpInt8Params;

/* The output shape from the input shapes; the node's input count and
 * parameters are checked here.  On failure sets error to the detail only:
 * the caller names the node. */
typedef gboolean (*CfqpOpShapeFunc)  (const CfqpGraph *graph, const CfqpNode *node,
                                      const CfqpShape *shapes, CfqpShape *out, GError **error);
/* Input rows [lo, hi) that output rows [y0, y1) (y0 < y1) read, before
 * clipping to the input; in: the input's shape. */
typedef void     (*CfqpOpRowsFunc)   (const CfqpNode *node, const CfqpShape *in, guint y0,
                                      guint y1, gint64 *lo, gint64 *hi);
/* Multiply-accumulates of the whole node at these shapes. */
typedef double   (*CfqpOpMacsFunc)   (const CfqpNode *node, const CfqpShape *in,
                                      const CfqpShape *out);
/* Writes the ONNX node(s) computing the node's float output, named out,
 * from dq (per value, the name its readers read). */
typedef gboolean (*CfqpOpQdqFunc)    (CfqpQdqWriter *w, const CfqpGraph *graph,
                                      const CfqpNode *node, const CfqpInt8Program *prog,
                                      const char *const *dq, const char *out, GError **error);

typedef struct {
  const char       *name;
  /* output holds the input's values, moved: activations commute with it
   * and INT8 parameters pass through it */
  gboolean          data_movement;
  /* node->act is the op itself, not an activation fused after it */
  gboolean          act_is_op;
  /* an activation after it may fuse into it (not into a copy or a move) */
  gboolean          takes_activation;
  CfqpOpShapeFunc   shape;
  CfqpOpRowsFunc    input_rows;    /* NULL: output row y reads input row y */
  CfqpOpMacsFunc    macs;          /* NULL: no multiply-accumulates */
  CfqpOpInt8Params  int8;
  CfqpOpQdqFunc     emit_qdq;
} CfqpOpInfo;

/* The row of op, NULL for a value that is no op. */
const CfqpOpInfo *cfqp_op_info (CfqpOpType op);

G_END_DECLS
