/* ONNX import internals, shared by the importer's files (cfqp-onnx*.c)
 * and nothing else: the importer's state, what a tensor name stands for
 * (a symbol), and the helpers and op handlers the driver (cfqp-onnx.c)
 * wires together.  A helper that fails sets an error naming the node.
 */
#pragma once

#include "cfqp-engine.h"
#include "cfqp-graph.h"
#include "cfqp-onnx-const.h"

G_BEGIN_DECLS

typedef enum {
  SYM_ACT,
  SYM_CONST,
  SYM_RESHAPED,    /* activation viewed through a Reshape to konst's shape */
  SYM_TRANSPOSED,  /* ... then through a Transpose by perm */
  SYM_QUANTIZED,   /* activation through a QuantizeLinear (q_scale, q_zero_point) */
} SymKind;

typedef struct {
  SymKind    kind;
  guint      value;
  CfqpConst *konst;
  guint      nperm;
  gint64     perm[CFQP_CONST_MAX_DIMS];
  gboolean   expanded;   /* RESHAPED by Unsqueeze → Expand (repeat_interleave) */
  guint      view_ndim;  /* TRANSPOSED: rank of the current view */
  /* QUANTIZED: uint8 parameters (int8 zero points moved by +128) */
  float      q_scale;
  gint32     q_zero_point;
  /* CONST made by DequantizeLinear of int8 weights with zero point 0: the
   * scales along axis wscale_axis (n_wscale 1: per tensor) */
  float     *wscale;
  guint      n_wscale;
  gint       wscale_axis;
} Sym;

typedef struct {
  CfqpGraph *graph;
  GHashTable *syms;          /* tensor name → Sym */
  GHashTable *elem_types;    /* constant tensor name → ONNX data type (QDQ checks) */
  gint64 opset;
  gsize weight_elems;
  const Onnx__NodeProto *node;
  const char *node_name;
} Importer;

typedef gboolean (*CfqpOnnxOpHandler) (Importer *imp, GError **error);

/* cfqp-onnx-sym.c: the node being imported, its inputs, its output */
void cfqp_onnx_sym_free (gpointer p);
/* Sets error to "node 'NAME' (OP): message". */
void cfqp_onnx_error (Importer *imp, GError **error, CfqpEngineError code, const char *fmt,
    ...) G_GNUC_PRINTF (4, 5);
const Sym *cfqp_onnx_input_sym (Importer *imp, guint k);
gboolean cfqp_onnx_require_input (Importer *imp, guint k, const Sym **out, GError **error);
gboolean cfqp_onnx_require_act (Importer *imp, guint k, guint *value, GError **error);
const CfqpConst *cfqp_onnx_require_const (Importer *imp, guint k, GError **error);
/* Reshape's and Expand's shape input: a 1-D integer constant (ONNX says
 * int64; a float one would leave the symbolic ints unset). */
const CfqpConst *cfqp_onnx_require_shape (Importer *imp, guint k, GError **error);
const char *cfqp_onnx_output_name (Importer *imp);
void cfqp_onnx_define (Importer *imp, Sym *s);
void cfqp_onnx_define_const (Importer *imp, CfqpConst *c);
void cfqp_onnx_define_act (Importer *imp, guint value);
guint cfqp_onnx_act_channels (Importer *imp, guint value);
/* Adds a node reading the given values and defines its output. */
CfqpNode *cfqp_onnx_add_node (Importer *imp, CfqpOpType op, const guint *inputs, guint n_inputs,
    guint out_channels);
gboolean cfqp_onnx_check_channels (Importer *imp, gint64 c, GError **error);
float *cfqp_onnx_take_weights (Importer *imp, const CfqpConst *c, GError **error);
/* Per-channel constants broadcast against a [1,C,H,W] activation: shape
 * [C,1,1] or [1,C,1,1] (or anything with one element).  A 1-D [C] would
 * broadcast over W in ONNX semantics, so it is refused. */
gboolean cfqp_onnx_channel_constant (Importer *imp, const CfqpConst *c, guint channels, float **out,
    guint *n_out, GError **error);

/* cfqp-onnx-attr.c: attributes, ONNX defaults when absent */
const Onnx__AttributeProto *cfqp_onnx_find_attr (const Onnx__NodeProto *node, const char *name);
gint64 cfqp_onnx_attr_int (const Onnx__NodeProto *node, const char *name, gint64 def);
float cfqp_onnx_attr_float (const Onnx__NodeProto *node, const char *name, float def);
/* Returns the number of ints, -1 when absent, -2 when more than max. */
gint cfqp_onnx_attr_ints (const Onnx__NodeProto *node, const char *name, gint64 *out, guint max);
gboolean cfqp_onnx_attr_string_is (const Onnx__NodeProto *node, const char *name, const char *def,
    const char *expected);
char *cfqp_onnx_attr_string (const Onnx__NodeProto *node, const char *name, const char *def);

/* cfqp-onnx-fold.c: ops on constants; NULL when they do not apply */
/* Elementwise op on two constants with numpy broadcasting. */
CfqpConst *cfqp_onnx_fold_binary (const char *op, const CfqpConst *a, const CfqpConst *b);
gint cfqp_onnx_normalise_axis (gint64 axis, guint ndim);
CfqpConst *cfqp_onnx_fold_concat (const CfqpConst **parts, guint n, gint64 axis_in);
/* Reshape of a constant; 0 copies a dimension, -1 is inferred. */
CfqpConst *cfqp_onnx_fold_reshape (const CfqpConst *c, const gint64 *shape, guint nd);
CfqpConst *cfqp_onnx_fold_transpose (const CfqpConst *c, const gint64 *perm);

/* cfqp-onnx-qdq.c: QuantizeLinear, DequantizeLinear */
void cfqp_onnx_qdq_copy_elem_type (Importer *imp);
gboolean cfqp_onnx_op_quantize_linear (Importer *imp, GError **error);
gboolean cfqp_onnx_op_dequantize_linear (Importer *imp, GError **error);
/* After a Conv/ConvTranspose took its weights: when they came from DQ of
 * int8 with zero point 0, per output channel (or per tensor), keep the
 * scales.  Anything else (input-channel axis, grouped transposed
 * per-channel) just stays float weights, quantised by the engine's rule. */
void cfqp_onnx_qdq_keep_weight_scale (Importer *imp, CfqpConvParams *cp, gboolean transpose);

/* cfqp-onnx-shape-ops.c: handlers that fold to constants */
gboolean cfqp_onnx_op_identity (Importer *imp, GError **error);
gboolean cfqp_onnx_op_cast (Importer *imp, GError **error);
gboolean cfqp_onnx_op_constant (Importer *imp, GError **error);
gboolean cfqp_onnx_op_constant_of_shape (Importer *imp, GError **error);
gboolean cfqp_onnx_op_shape (Importer *imp, GError **error);
gboolean cfqp_onnx_op_gather (Importer *imp, GError **error);
/* axes from the attribute (old opsets) or the second input (opset 13+) */
gint cfqp_onnx_get_axes (Importer *imp, gint64 *axes, GError **error);
gboolean cfqp_onnx_op_unsqueeze (Importer *imp, GError **error);
gboolean cfqp_onnx_op_squeeze (Importer *imp, GError **error);
gboolean cfqp_onnx_op_slice (Importer *imp, GError **error);

/* cfqp-onnx-layer-ops.c: handlers that add graph nodes */
gboolean cfqp_onnx_op_conv (Importer *imp, GError **error);
gboolean cfqp_onnx_op_conv_transpose (Importer *imp, GError **error);
/* Relu, LeakyRelu, PRelu, Clip: a standalone activation node; the fusion
 * pass moves it into its producer. */
gboolean cfqp_onnx_op_activation (Importer *imp, GError **error);
gboolean cfqp_onnx_op_binary (Importer *imp, GError **error);
gboolean cfqp_onnx_op_concat (Importer *imp, GError **error);
gboolean cfqp_onnx_op_depth_to_space (Importer *imp, GError **error);
gboolean cfqp_onnx_op_space_to_depth (Importer *imp, GError **error);

/* cfqp-onnx-reshape.c: handlers that follow views of activations */
gboolean cfqp_onnx_op_reshape (Importer *imp, GError **error);
gboolean cfqp_onnx_op_transpose (Importer *imp, GError **error);
/* Resize / Upsample, nearest, integer scales.  Every coordinate mode that
 * maps output y to input floor(y/s) for integer s is accepted. */
gboolean cfqp_onnx_op_resize (Importer *imp, GError **error);
gboolean cfqp_onnx_op_tile (Importer *imp, GError **error);
gboolean cfqp_onnx_op_expand (Importer *imp, GError **error);
/* Unsqueeze of an activation starts a view: repeat_interleave
 * (axis 2, then Expand) or a pixel shuffle written with extra unit dims. */
gboolean cfqp_onnx_op_unsqueeze_any (Importer *imp, GError **error);
/* Squeeze of a constant, or the end of a shuffle pattern's view. */
gboolean cfqp_onnx_op_squeeze_any (Importer *imp, GError **error);

/* cfqp-onnx-wire.c: FALSE (error set) when data is no protobuf protobuf-c
 * could unpack safely: malformed, or nested deeper than the walk allows. */
gboolean cfqp_onnx_wire_check (const guint8 *data, gsize size, GError **error);

G_END_DECLS
