/* The engine's graph IR (internal).
 *
 * A network is a list of nodes in topological order.  Every node produces
 * one activation tensor (a "value").  Activations are batch-1 CHW tensors
 * whose channel count is static and whose height/width follow the frame:
 * they are computed per frame size by cfqp_graph_infer_shapes(), so one
 * imported model runs at any resolution.
 *
 * Weights and other constants live in the node that uses them (packed once
 * per backend at runner creation), never as graph values: the importer
 * folds every constant subgraph before it builds nodes.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  CFQP_OP_CONV,            /* weight [OC][IC/g][KH][KW], optional bias [OC] */
  CFQP_OP_CONV_TRANSPOSE,  /* weight [IC][OC/g][KH][KW], optional bias [OC] */
  CFQP_OP_ACTIVATION,      /* standalone activation (not fused) */
  CFQP_OP_BINARY,          /* add/sub/mul/div, two activations or one and a constant */
  CFQP_OP_CONCAT,          /* channel concat of n inputs */
  CFQP_OP_DEPTH_TO_SPACE,  /* block, DCR or CRD */
  CFQP_OP_SPACE_TO_DEPTH,  /* block; DCR = ONNX SpaceToDepth, CRD = PyTorch pixel_unshuffle */
  CFQP_OP_RESIZE_NEAREST,  /* integer scale_h, scale_w */
  CFQP_OP_TILE_CHANNELS,   /* channel repeat, repeats times (see p.tile) */
  CFQP_OP_N_OPS
} CfqpOpType;

typedef enum {
  CFQP_ACT_NONE,
  CFQP_ACT_RELU,
  CFQP_ACT_LEAKY_RELU,   /* alpha */
  CFQP_ACT_PRELU,        /* slopes[n_slopes], n_slopes 1 or C */
  CFQP_ACT_CLIP,         /* lo, hi (±INFINITY when absent) */
} CfqpActKind;

typedef struct {
  CfqpActKind kind;
  float       alpha;
  float       lo, hi;
  float      *slopes;    /* owned */
  guint       n_slopes;
} CfqpActivation;

typedef enum {
  CFQP_BINARY_ADD,
  CFQP_BINARY_SUB,
  CFQP_BINARY_MUL,
  CFQP_BINARY_DIV,
} CfqpBinaryKind;

typedef enum {
  CFQP_D2S_DCR,
  CFQP_D2S_CRD,
} CfqpD2SMode;

typedef struct {
  guint  kernel_h, kernel_w;
  guint  stride_h, stride_w;
  guint  dilation_h, dilation_w;
  /* Explicit pads (top, left, bottom, right).  auto_pad SAME_* is resolved
   * per frame size by cfqp_conv_resolve_pads(); auto_pad is then nonzero. */
  guint  pad_t, pad_l, pad_b, pad_r;
  gint   auto_pad;          /* 0 explicit/VALID, 1 SAME_UPPER, 2 SAME_LOWER */
  guint  output_pad_h, output_pad_w;   /* ConvTranspose only */
  guint  groups;
  guint  in_channels, out_channels;
  float *weight;            /* owned, layout above */
  float *bias;              /* owned, NULL = zero */
  /* Value that padding stands for, per input channel (NULL = 0).  Set when
   * an input normalisation (x − m)/s is folded into the first conv: the
   * border must still behave as if the normalised input were padded with 0. */
  float *pad_value;
  /* Per output channel int8 weight scale (NULL = max|w|/127): set when the
   * weights came from a QDQ model, so the INT8 program uses its integers. */
  float *weight_scale;      /* owned */
} CfqpConvParams;

typedef struct {
  CfqpBinaryKind kind;
  /* When constant is non-NULL the second operand is that constant,
   * broadcast: n_constant 1 (scalar) or C (per channel).  constant_first
   * swaps the operands (constant ⊕ x). */
  float   *constant;        /* owned */
  guint    n_constant;
  gboolean constant_first;
} CfqpBinaryParams;

typedef struct {
  guint  block;
  CfqpD2SMode mode;
} CfqpShuffleParams;

typedef struct {
  char       *name;         /* ONNX node name (or output name), for messages */
  CfqpOpType  op;
  guint       n_inputs;
  guint      *inputs;       /* value ids; value 0 is the graph input */
  guint       output;       /* value id */
  guint       out_channels;
  CfqpActivation act;       /* fused activation applied to the output */
  union {
    CfqpConvParams    conv;
    CfqpBinaryParams  binary;
    CfqpShuffleParams shuffle;
    struct { guint scale_h, scale_w; } resize;
    /* interleave: out[c] = in[c / repeats] (repeat_interleave);
     * otherwise out[c] = in[c % C_in] (Tile, concatenated copies). */
    struct { guint repeats; gboolean interleave; } tile;
  } p;
} CfqpNode;

typedef struct {
  char  *name;
  guint  channels;
  gint   producer;          /* node index, -1 for the graph input */
  /* Quantisation the model file itself gives this value (QDQ ONNX:
   * a QuantizeLinear → DequantizeLinear pair on it). */
  gboolean has_qparams;
  float    q_scale;
  gint32   q_zero_point;
} CfqpValueInfo;

typedef struct {
  guint          n_values;
  CfqpValueInfo *values;    /* values[0] is the graph input */
  guint          n_nodes;
  CfqpNode      *nodes;     /* topological order */
  guint          output;    /* value id of the graph output */
} CfqpGraph;

typedef struct {
  guint c, h, w;
} CfqpShape;

CfqpGraph *cfqp_graph_new            (void);
/* Deep copy (weights included). */
CfqpGraph *cfqp_graph_copy           (const CfqpGraph *graph);
void       cfqp_graph_free           (CfqpGraph *graph);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CfqpGraph, cfqp_graph_free)
guint      cfqp_graph_add_value      (CfqpGraph *graph, const char *name, guint channels,
                                      gint producer);
/* Appends a zeroed node and returns it; the pointer is valid until the next add. */
CfqpNode  *cfqp_graph_add_node       (CfqpGraph *graph, CfqpOpType op, const char *name);
void       cfqp_node_clear           (CfqpNode *node);
void       cfqp_activation_clear     (CfqpActivation *act);

/* The op's name in the op table (cfqp-op-table.c), "unknown" for no op. */
const char *cfqp_op_type_to_string   (CfqpOpType op);
const char *cfqp_act_kind_to_string  (CfqpActKind kind);

/* Spatial shape of every value for an input of width × height.
 * shapes has n_values entries.  Fails (with a message naming the node) when
 * a frame size makes the graph inconsistent, e.g. an add of mismatched sizes. */
/* Whether an output of out_w × out_h is a width × height input scaled by
 * num/den on both axes (den 0 counts as 1): the check every executor makes
 * before writing into the caller's buffer. */
static inline guint
cfqp_gcd (guint a, guint b)
{
  while (b) {
    guint t = a % b;
    a = b;
    b = t;
  }
  return a;
}

static inline gboolean
cfqp_is_upscale (guint64 out_w, guint64 out_h, guint width, guint height, guint num, guint den)
{
  den = den ? den : 1;
  return out_w * den == (guint64) width * num && out_h * den == (guint64) height * num;
}

gboolean   cfqp_graph_infer_shapes   (const CfqpGraph *graph, guint width, guint height,
                                      CfqpShape *shapes, GError **error);

/* Pads of a conv for a given input size (resolves SAME_* auto padding). */
void       cfqp_conv_resolve_pads    (const CfqpConvParams *conv, guint in_h, guint in_w,
                                      guint *pad_t, guint *pad_l, guint *pad_b, guint *pad_r);
/* The same for a ConvTranspose, whose SAME_* padding follows other rules. */
void       cfqp_conv_transpose_resolve_pads (const CfqpConvParams *conv,
                                      guint *pad_t, guint *pad_l, guint *pad_b, guint *pad_r);

/* Per value, the index of the last node that reads it (n_nodes for the
 * graph output, -1 for an unread value): what memory planning needs. */
void       cfqp_graph_last_uses      (const CfqpGraph *graph, gint *last_use);

/* Number of nodes reading a value. */
guint      cfqp_graph_count_consumers (const CfqpGraph *graph, guint value);

/* MACs per input pixel (convs only, at a large probe size). */
guint64    cfqp_graph_macs_per_pixel (const CfqpGraph *graph);

/* Ops that only move data: their output holds their input's values, so
 * activations commute with them and INT8 scales pass through them (the
 * op table's data_movement). */
gboolean   cfqp_op_is_data_movement  (CfqpOpType op);

/* Applies an activation to one float in place: the scalar definition. */
static inline float
cfqp_activation_apply (const CfqpActivation *act, guint channel, float v)
{
  switch (act->kind) {
    case CFQP_ACT_NONE:
      return v;
    case CFQP_ACT_RELU:
      return v > 0.f ? v : 0.f;
    case CFQP_ACT_LEAKY_RELU:
      return v >= 0.f ? v : v * act->alpha;
    case CFQP_ACT_PRELU:
      return v >= 0.f ? v : v * act->slopes[act->n_slopes == 1 ? 0 : channel];
    case CFQP_ACT_CLIP:
      return v < act->lo ? act->lo : (v > act->hi ? act->hi : v);
  }
  return v;
}

G_END_DECLS
