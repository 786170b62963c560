/* The op descriptor table: one row per op (cfqp-op-table.h) and the rules
 * its rows point to — shapes, the rows a stripe reads, MACs — with the
 * conv geometry they share (SAME_* pads).  The QDQ emitters are in
 * cfqp-qdq-emit.c.
 */
#include "cfqp-op-table.h"
#include "cfqp-engine.h"
#include "cfqp-qdq-emit.h"

/* Intermediate tensors may be larger than a frame (after upscaling) but a
 * bound still keeps every size computation far from overflow. */
#define MAX_VALUE_DIM ((guint64) CFQP_MAX_FRAME_DIM * CFQP_MAX_SCALE)

/* The detail only: cfqp_graph_infer_shapes names the node. */
#define FAIL(...) G_STMT_START { \
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID, __VA_ARGS__); \
    return FALSE; \
  } G_STMT_END

/* --- conv geometry --------------------------------------------------------- */

/* ONNX SAME_*: output = ceil(in / stride); the odd pad goes to the end
 * (UPPER) or the beginning (LOWER). */
static void
same_pads (guint in, guint kernel, guint stride, guint dilation, gboolean lower,
    guint *begin, guint *end)
{
  gint64 out = ((gint64) in + stride - 1) / stride;
  gint64 eff = (gint64) dilation * (kernel - 1) + 1;
  gint64 total = MAX ((out - 1) * stride + eff - (gint64) in, 0);

  *begin = lower ? total - total / 2 : total / 2;
  *end = total - *begin;
}

void
cfqp_conv_resolve_pads (const CfqpConvParams *conv, guint in_h, guint in_w,
    guint *pad_t, guint *pad_l, guint *pad_b, guint *pad_r)
{
  if (conv->auto_pad == 0) {
    *pad_t = conv->pad_t;
    *pad_l = conv->pad_l;
    *pad_b = conv->pad_b;
    *pad_r = conv->pad_r;
    return;
  }
  same_pads (in_h, conv->kernel_h, MAX (conv->stride_h, 1), MAX (conv->dilation_h, 1),
      conv->auto_pad == 2, pad_t, pad_b);
  same_pads (in_w, conv->kernel_w, MAX (conv->stride_w, 1), MAX (conv->dilation_w, 1),
      conv->auto_pad == 2, pad_l, pad_r);
}

/* ONNX ConvTranspose SAME_*: output = in · stride, so the total padding
 * (output_pad + effective kernel − stride) does not depend on the input. */
static void
same_transpose_pads (guint kernel, guint stride, guint dilation, guint output_pad,
    gboolean lower, guint *begin, guint *end)
{
  gint64 eff = (gint64) dilation * (kernel - 1) + 1;
  gint64 total = MAX ((gint64) output_pad + eff - (gint64) stride, 0);

  *begin = lower ? total - total / 2 : total / 2;
  *end = total - *begin;
}

void
cfqp_conv_transpose_resolve_pads (const CfqpConvParams *conv,
    guint *pad_t, guint *pad_l, guint *pad_b, guint *pad_r)
{
  if (conv->auto_pad == 0) {
    *pad_t = conv->pad_t;
    *pad_l = conv->pad_l;
    *pad_b = conv->pad_b;
    *pad_r = conv->pad_r;
    return;
  }
  same_transpose_pads (conv->kernel_h, MAX (conv->stride_h, 1), MAX (conv->dilation_h, 1),
      conv->output_pad_h, conv->auto_pad == 2, pad_t, pad_b);
  same_transpose_pads (conv->kernel_w, MAX (conv->stride_w, 1), MAX (conv->dilation_w, 1),
      conv->output_pad_w, conv->auto_pad == 2, pad_l, pad_r);
}

static gboolean
shape_conv (const CfqpGraph *graph, const CfqpNode *node, const CfqpShape *shapes,
    CfqpShape *out, GError **error)
{
  const CfqpShape *in = &shapes[node->inputs[0]];
  const CfqpConvParams *c = &node->p.conv;
  gboolean transpose = node->op == CFQP_OP_CONV_TRANSPOSE;
  guint pt, pl, pb, pr;
  gint64 eff_h, eff_w, oh, ow;

  if (node->n_inputs != 1)
    FAIL ("takes one input, has %u", node->n_inputs);
  if (c->kernel_h == 0 || c->kernel_w == 0 || c->stride_h == 0 || c->stride_w == 0 ||
      c->dilation_h == 0 || c->dilation_w == 0 || c->groups == 0)
    FAIL ("kernel, stride, dilation and groups must all be at least 1");
  if (c->in_channels != in->c)
    FAIL ("expects %u input channels, its input has %u", c->in_channels, in->c);
  if (c->in_channels % c->groups || c->out_channels % c->groups)
    FAIL ("%u→%u channels do not divide into %u groups",
        c->in_channels, c->out_channels, c->groups);
  if (!c->weight)
    FAIL ("has no weights");

  eff_h = (gint64) c->dilation_h * (c->kernel_h - 1) + 1;
  eff_w = (gint64) c->dilation_w * (c->kernel_w - 1) + 1;
  if (transpose) {
    cfqp_conv_transpose_resolve_pads (c, &pt, &pl, &pb, &pr);
    oh = ((gint64) in->h - 1) * c->stride_h - pt - pb + eff_h + c->output_pad_h;
    ow = ((gint64) in->w - 1) * c->stride_w - pl - pr + eff_w + c->output_pad_w;
    if (oh < 1 || ow < 1)
      FAIL ("pads %u,%u,%u,%u leave no output for a %u×%u input",
          pt, pl, pb, pr, in->w, in->h);
  } else {
    cfqp_conv_resolve_pads (c, in->h, in->w, &pt, &pl, &pb, &pr);
    if ((gint64) in->h + pt + pb < eff_h || (gint64) in->w + pl + pr < eff_w)
      FAIL ("a %u×%u kernel (dilation %u,%u) does not fit a padded %u×%u input",
          c->kernel_w, c->kernel_h, c->dilation_w, c->dilation_h, in->w, in->h);
    oh = ((gint64) in->h + pt + pb - eff_h) / c->stride_h + 1;
    ow = ((gint64) in->w + pl + pr - eff_w) / c->stride_w + 1;
  }
  out->c = c->out_channels;
  out->h = oh;
  out->w = ow;
  if (oh > (gint64) MAX_VALUE_DIM || ow > (gint64) MAX_VALUE_DIM)
    FAIL ("output %" G_GINT64_FORMAT "×%" G_GINT64_FORMAT " is too large", ow, oh);
  return TRUE;
}

static void
rows_conv (const CfqpNode *node, const CfqpShape *in, guint y0, guint y1, gint64 *lo,
    gint64 *hi)
{
  /* output row oy reads oy·s − pt + ky·d, ky in [0, kh) */
  const CfqpConvParams *cp = &node->p.conv;
  guint pt, pl, pb, pr;

  cfqp_conv_resolve_pads (cp, in->h, in->w, &pt, &pl, &pb, &pr);
  *lo = (gint64) y0 * cp->stride_h - pt;
  *hi = (gint64) (y1 - 1) * cp->stride_h - pt + (gint64) (cp->kernel_h - 1) * cp->dilation_h + 1;
}

static gint64
floor_div (gint64 a, gint64 b)
{
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

static void
rows_conv_transpose (const CfqpNode *node, const CfqpShape *in, guint y0, guint y1, gint64 *lo,
    gint64 *hi)
{
  /* output row oy reads (oy + pt − ky·d) / s where that divides */
  const CfqpConvParams *cp = &node->p.conv;
  guint pt, pl, pb, pr;
  gint64 n_lo, n_hi;

  cfqp_conv_transpose_resolve_pads (cp, &pt, &pl, &pb, &pr);
  n_lo = (gint64) y0 + pt - (gint64) (cp->kernel_h - 1) * cp->dilation_h;
  n_hi = (gint64) y1 - 1 + pt;
  *lo = -floor_div (-MAX (n_lo, 0), cp->stride_h);   /* ceil */
  *hi = n_hi < 0 ? *lo : floor_div (n_hi, cp->stride_h) + 1;
}

static double
macs_conv (const CfqpNode *node, const CfqpShape *in, const CfqpShape *out)
{
  const CfqpConvParams *c = &node->p.conv;
  double per_tap = (double) out->c * out->h * out->w * (c->in_channels / c->groups);
  return per_tap * c->kernel_h * c->kernel_w;
}

static double
macs_conv_transpose (const CfqpNode *node, const CfqpShape *in, const CfqpShape *out)
{
  const CfqpConvParams *c = &node->p.conv;
  double per_tap = (double) in->c * in->h * in->w * (c->out_channels / c->groups);
  return per_tap * c->kernel_h * c->kernel_w;
}

/* --- the other ops ----------------------------------------------------------- */

static gboolean
shape_activation (const CfqpGraph *graph, const CfqpNode *node, const CfqpShape *shapes,
    CfqpShape *out, GError **error)
{
  if (node->n_inputs != 1)
    FAIL ("takes one input, has %u", node->n_inputs);
  *out = shapes[node->inputs[0]];
  return TRUE;
}

static gboolean
shape_binary (const CfqpGraph *graph, const CfqpNode *node, const CfqpShape *shapes,
    CfqpShape *out, GError **error)
{
  const CfqpShape *in = &shapes[node->inputs[0]];

  if (node->p.binary.constant) {
    guint n = node->p.binary.n_constant;
    if (node->n_inputs != 1)
      FAIL ("with a constant takes one input, has %u", node->n_inputs);
    if (n != 1 && n != in->c)
      FAIL ("constant has %u values for %u channels", n, in->c);
    *out = *in;
  } else {
    const CfqpShape *b;
    if (node->n_inputs != 2)
      FAIL ("takes two inputs, has %u", node->n_inputs);
    b = &shapes[node->inputs[1]];
    if (in->h != b->h || in->w != b->w)
      FAIL ("inputs '%s' (%u×%u) and '%s' (%u×%u) differ in size",
          graph->values[node->inputs[0]].name, in->w, in->h,
          graph->values[node->inputs[1]].name, b->w, b->h);
    if (in->c != b->c && in->c != 1 && b->c != 1)
      FAIL ("inputs have %u and %u channels", in->c, b->c);
    *out = *in;
    out->c = MAX (in->c, b->c);
  }
  return TRUE;
}

static gboolean
shape_concat (const CfqpGraph *graph, const CfqpNode *node, const CfqpShape *shapes,
    CfqpShape *out, GError **error)
{
  const CfqpShape *in = &shapes[node->inputs[0]];
  guint64 c = 0;

  if (node->n_inputs < 1)
    FAIL ("has no inputs");
  for (guint i = 0; i < node->n_inputs; i++) {
    const CfqpShape *s = &shapes[node->inputs[i]];
    if (s->h != in->h || s->w != in->w)
      FAIL ("input '%s' is %u×%u, input '%s' is %u×%u",
          graph->values[node->inputs[i]].name, s->w, s->h,
          graph->values[node->inputs[0]].name, in->w, in->h);
    c += s->c;
  }
  *out = *in;
  out->c = c;
  return TRUE;
}

/* Height and width of an op that changes them, bounded. */
static gboolean
spatial_out (guint64 h, guint64 w, CfqpShape *out, GError **error)
{
  if (h > MAX_VALUE_DIM || w > MAX_VALUE_DIM)
    FAIL ("output %" G_GUINT64_FORMAT "×%" G_GUINT64_FORMAT " is too large", w, h);
  out->h = h;
  out->w = w;
  return TRUE;
}

static gboolean
shape_depth_to_space (const CfqpGraph *graph, const CfqpNode *node, const CfqpShape *shapes,
    CfqpShape *out, GError **error)
{
  const CfqpShape *in = &shapes[node->inputs[0]];
  guint b = node->p.shuffle.block;

  if (node->n_inputs != 1 || b == 0)
    FAIL ("needs one input and a block of at least 1");
  if (in->c % (b * b))
    FAIL ("%u channels do not divide by block² = %u", in->c, b * b);
  out->c = in->c / (b * b);
  return spatial_out ((guint64) in->h * b, (guint64) in->w * b, out, error);
}

static void
rows_depth_to_space (const CfqpNode *node, const CfqpShape *in, guint y0, guint y1, gint64 *lo,
    gint64 *hi)
{
  *lo = y0 / node->p.shuffle.block;
  *hi = (y1 - 1) / node->p.shuffle.block + 1;
}

static gboolean
shape_space_to_depth (const CfqpGraph *graph, const CfqpNode *node, const CfqpShape *shapes,
    CfqpShape *out, GError **error)
{
  const CfqpShape *in = &shapes[node->inputs[0]];
  guint b = node->p.shuffle.block;

  if (node->n_inputs != 1 || b == 0)
    FAIL ("needs one input and a block of at least 1");
  if (in->h % b || in->w % b)
    FAIL ("a %u×%u input does not divide into %u×%u blocks", in->w, in->h, b, b);
  out->c = in->c * b * b;
  return spatial_out (in->h / b, in->w / b, out, error);
}

static void
rows_space_to_depth (const CfqpNode *node, const CfqpShape *in, guint y0, guint y1, gint64 *lo,
    gint64 *hi)
{
  *lo = (gint64) y0 * node->p.shuffle.block;
  *hi = (gint64) y1 * node->p.shuffle.block;
}

static gboolean
shape_resize_nearest (const CfqpGraph *graph, const CfqpNode *node, const CfqpShape *shapes,
    CfqpShape *out, GError **error)
{
  const CfqpShape *in = &shapes[node->inputs[0]];

  if (node->n_inputs != 1 || node->p.resize.scale_h == 0 || node->p.resize.scale_w == 0)
    FAIL ("needs one input and integer scales of at least 1");
  out->c = in->c;
  return spatial_out ((guint64) in->h * node->p.resize.scale_h,
      (guint64) in->w * node->p.resize.scale_w, out, error);
}

static void
rows_resize_nearest (const CfqpNode *node, const CfqpShape *in, guint y0, guint y1, gint64 *lo,
    gint64 *hi)
{
  *lo = y0 / node->p.resize.scale_h;
  *hi = (y1 - 1) / node->p.resize.scale_h + 1;
}

static gboolean
shape_tile_channels (const CfqpGraph *graph, const CfqpNode *node, const CfqpShape *shapes,
    CfqpShape *out, GError **error)
{
  const CfqpShape *in = &shapes[node->inputs[0]];

  if (node->n_inputs != 1 || node->p.tile.repeats == 0)
    FAIL ("needs one input and at least one repeat");
  out->c = in->c * node->p.tile.repeats;
  out->h = in->h;
  out->w = in->w;
  return TRUE;
}

/* --- the table --------------------------------------------------------------- */

static const CfqpOpInfo op_table[CFQP_OP_N_OPS] = {
  [CFQP_OP_CONV] = {
    .name = "Conv", .takes_activation = TRUE,
    .shape = shape_conv, .input_rows = rows_conv, .macs = macs_conv,
    .int8 = CFQP_OP_INT8_CONV, .emit_qdq = cfqp_qdq_emit_conv,
  },
  [CFQP_OP_CONV_TRANSPOSE] = {
    .name = "ConvTranspose", .takes_activation = TRUE,
    .shape = shape_conv, .input_rows = rows_conv_transpose, .macs = macs_conv_transpose,
    .int8 = CFQP_OP_INT8_CONV, .emit_qdq = cfqp_qdq_emit_conv,
  },
  [CFQP_OP_ACTIVATION] = {
    .name = "Activation", .act_is_op = TRUE, .takes_activation = TRUE,
    .shape = shape_activation,
    .int8 = CFQP_OP_INT8_RESCALE, .emit_qdq = cfqp_qdq_emit_activation,
  },
  [CFQP_OP_BINARY] = {
    .name = "Binary", .takes_activation = TRUE,
    .shape = shape_binary,
    .int8 = CFQP_OP_INT8_BINARY, .emit_qdq = cfqp_qdq_emit_binary,
  },
  [CFQP_OP_CONCAT] = {
    .name = "Concat",
    .shape = shape_concat,
    .int8 = CFQP_OP_INT8_RESCALE, .emit_qdq = cfqp_qdq_emit_concat,
  },
  [CFQP_OP_DEPTH_TO_SPACE] = {
    .name = "DepthToSpace", .data_movement = TRUE,
    .shape = shape_depth_to_space, .input_rows = rows_depth_to_space,
    .int8 = CFQP_OP_INT8_MOVE, .emit_qdq = cfqp_qdq_emit_depth_to_space,
  },
  [CFQP_OP_SPACE_TO_DEPTH] = {
    .name = "SpaceToDepth", .data_movement = TRUE,
    .shape = shape_space_to_depth, .input_rows = rows_space_to_depth,
    .int8 = CFQP_OP_INT8_MOVE, .emit_qdq = cfqp_qdq_emit_space_to_depth,
  },
  [CFQP_OP_RESIZE_NEAREST] = {
    .name = "ResizeNearest", .data_movement = TRUE,
    .shape = shape_resize_nearest, .input_rows = rows_resize_nearest,
    .int8 = CFQP_OP_INT8_MOVE, .emit_qdq = cfqp_qdq_emit_resize_nearest,
  },
  [CFQP_OP_TILE_CHANNELS] = {
    .name = "TileChannels", .data_movement = TRUE,
    .shape = shape_tile_channels,
    .int8 = CFQP_OP_INT8_MOVE, .emit_qdq = cfqp_qdq_emit_tile_channels,
  },
};

const CfqpOpInfo *
cfqp_op_info (CfqpOpType op)
{
  /* a row left out would be all zeroes: no name means no op */
  if ((guint) op >= CFQP_OP_N_OPS || !op_table[op].name)
    return NULL;
  return &op_table[op];
}

const char *
cfqp_op_type_to_string (CfqpOpType op)
{
  const CfqpOpInfo *info = cfqp_op_info (op);
  return info ? info->name : "unknown";
}

gboolean
cfqp_op_is_data_movement (CfqpOpType op)
{
  const CfqpOpInfo *info = cfqp_op_info (op);
  return info && info->data_movement;
}
