/* Graph IR: construction, shape inference and the analyses planning needs. */
#include "cfqp-graph.h"
#include "cfqp-engine.h"

#include <math.h>
#include <string.h>

/* Intermediate tensors may be larger than a frame (after upscaling) but a
 * bound still keeps every size computation far from overflow. */
#define MAX_VALUE_DIM ((guint64) CFQP_MAX_FRAME_DIM * CFQP_MAX_SCALE)

CfqpGraph *
cfqp_graph_new (void)
{
  return g_new0 (CfqpGraph, 1);
}

void
cfqp_graph_free (CfqpGraph *graph)
{
  if (!graph)
    return;
  for (guint i = 0; i < graph->n_values; i++)
    g_free (graph->values[i].name);
  for (guint i = 0; i < graph->n_nodes; i++)
    cfqp_node_clear (&graph->nodes[i]);
  g_free (graph->values);
  g_free (graph->nodes);
  g_free (graph);
}

guint
cfqp_graph_add_value (CfqpGraph *graph, const char *name, guint channels, gint producer)
{
  CfqpValueInfo *v;

  graph->values = g_renew (CfqpValueInfo, graph->values, graph->n_values + 1);
  v = &graph->values[graph->n_values];
  v->name = g_strdup (name ? name : "");
  v->channels = channels;
  v->producer = producer;
  v->has_qparams = FALSE;
  v->q_scale = 0.f;
  v->q_zero_point = 0;
  return graph->n_values++;
}

CfqpNode *
cfqp_graph_add_node (CfqpGraph *graph, CfqpOpType op, const char *name)
{
  CfqpNode *node;

  graph->nodes = g_renew (CfqpNode, graph->nodes, graph->n_nodes + 1);
  node = &graph->nodes[graph->n_nodes++];
  memset (node, 0, sizeof *node);
  node->op = op;
  node->name = g_strdup (name ? name : "");
  return node;
}

void
cfqp_activation_clear (CfqpActivation *act)
{
  g_clear_pointer (&act->slopes, g_free);
  memset (act, 0, sizeof *act);
}

void
cfqp_node_clear (CfqpNode *node)
{
  g_free (node->name);
  g_free (node->inputs);
  cfqp_activation_clear (&node->act);
  switch (node->op) {
    case CFQP_OP_CONV:
    case CFQP_OP_CONV_TRANSPOSE:
      g_free (node->p.conv.weight);
      g_free (node->p.conv.bias);
      g_free (node->p.conv.pad_value);
      g_free (node->p.conv.weight_scale);
      break;
    case CFQP_OP_BINARY:
      g_free (node->p.binary.constant);
      break;
    default:
      break;
  }
  memset (node, 0, sizeof *node);
}

const char *
cfqp_op_type_to_string (CfqpOpType op)
{
  switch (op) {
    case CFQP_OP_CONV: return "Conv";
    case CFQP_OP_CONV_TRANSPOSE: return "ConvTranspose";
    case CFQP_OP_ACTIVATION: return "Activation";
    case CFQP_OP_BINARY: return "Binary";
    case CFQP_OP_CONCAT: return "Concat";
    case CFQP_OP_DEPTH_TO_SPACE: return "DepthToSpace";
    case CFQP_OP_SPACE_TO_DEPTH: return "SpaceToDepth";
    case CFQP_OP_RESIZE_NEAREST: return "ResizeNearest";
    case CFQP_OP_TILE_CHANNELS: return "TileChannels";
    case CFQP_OP_N_OPS: break;
  }
  return "unknown";
}

const char *
cfqp_act_kind_to_string (CfqpActKind kind)
{
  switch (kind) {
    case CFQP_ACT_NONE: return "none";
    case CFQP_ACT_RELU: return "relu";
    case CFQP_ACT_LEAKY_RELU: return "leaky-relu";
    case CFQP_ACT_PRELU: return "prelu";
    case CFQP_ACT_CLIP: return "clip";
  }
  return "unknown";
}

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

static void G_GNUC_PRINTF (3, 4)
set_node_error (GError **error, const CfqpNode *node, const char *format, ...)
{
  va_list args;
  g_autofree char *detail = NULL;

  va_start (args, format);
  detail = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID, "node '%s' (%s): %s",
      node->name, cfqp_op_type_to_string (node->op), detail);
}

#define FAIL(...) G_STMT_START { \
    set_node_error (error, node, __VA_ARGS__); \
    return FALSE; \
  } G_STMT_END

static gboolean
infer_conv (const CfqpNode *node, const CfqpShape *in, CfqpShape *out, GError **error)
{
  const CfqpConvParams *c = &node->p.conv;
  gboolean transpose = node->op == CFQP_OP_CONV_TRANSPOSE;
  guint pt, pl, pb, pr;
  gint64 eff_h, eff_w, oh, ow;

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

static gboolean
infer_node (const CfqpGraph *graph, const CfqpNode *node, const CfqpShape *shapes,
    CfqpShape *out, GError **error)
{
  const CfqpShape *in = &shapes[node->inputs[0]];
  guint64 h = in->h, w = in->w;

  switch (node->op) {
    case CFQP_OP_CONV:
    case CFQP_OP_CONV_TRANSPOSE:
      if (node->n_inputs != 1)
        FAIL ("takes one input, has %u", node->n_inputs);
      return infer_conv (node, in, out, error);

    case CFQP_OP_ACTIVATION:
      if (node->n_inputs != 1)
        FAIL ("takes one input, has %u", node->n_inputs);
      *out = *in;
      break;

    case CFQP_OP_BINARY:
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
      break;

    case CFQP_OP_CONCAT: {
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
      break;
    }

    case CFQP_OP_DEPTH_TO_SPACE: {
      guint b = node->p.shuffle.block;
      if (node->n_inputs != 1 || b == 0)
        FAIL ("needs one input and a block of at least 1");
      if (in->c % (b * b))
        FAIL ("%u channels do not divide by block² = %u", in->c, b * b);
      out->c = in->c / (b * b);
      h *= b;
      w *= b;
      break;
    }

    case CFQP_OP_SPACE_TO_DEPTH: {
      guint b = node->p.shuffle.block;
      if (node->n_inputs != 1 || b == 0)
        FAIL ("needs one input and a block of at least 1");
      if (in->h % b || in->w % b)
        FAIL ("a %u×%u input does not divide into %u×%u blocks", in->w, in->h, b, b);
      out->c = in->c * b * b;
      h /= b;
      w /= b;
      break;
    }

    case CFQP_OP_RESIZE_NEAREST:
      if (node->n_inputs != 1 || node->p.resize.scale_h == 0 || node->p.resize.scale_w == 0)
        FAIL ("needs one input and integer scales of at least 1");
      out->c = in->c;
      h *= node->p.resize.scale_h;
      w *= node->p.resize.scale_w;
      break;

    case CFQP_OP_TILE_CHANNELS:
      if (node->n_inputs != 1 || node->p.tile.repeats == 0)
        FAIL ("needs one input and at least one repeat");
      out->c = in->c * node->p.tile.repeats;
      out->h = in->h;
      out->w = in->w;
      break;

    default:
      FAIL ("unknown op %d", node->op);
  }

  if (node->op != CFQP_OP_ACTIVATION && node->op != CFQP_OP_BINARY &&
      node->op != CFQP_OP_CONCAT && node->op != CFQP_OP_TILE_CHANNELS) {
    if (h > MAX_VALUE_DIM || w > MAX_VALUE_DIM)
      FAIL ("output %" G_GUINT64_FORMAT "×%" G_GUINT64_FORMAT " is too large", w, h);
    out->h = h;
    out->w = w;
  }
  return TRUE;
}

gboolean
cfqp_graph_infer_shapes (const CfqpGraph *graph, guint width, guint height,
    CfqpShape *shapes, GError **error)
{
  g_autofree gboolean *known = g_new0 (gboolean, graph->n_values);

  g_return_val_if_fail (graph->n_values > 0, FALSE);
  if (width == 0 || height == 0) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID,
        "empty %u×%u input", width, height);
    return FALSE;
  }
  memset (shapes, 0, graph->n_values * sizeof *shapes);
  shapes[0] = (CfqpShape) { graph->values[0].channels, height, width };
  known[0] = TRUE;

  for (guint i = 0; i < graph->n_nodes; i++) {
    const CfqpNode *node = &graph->nodes[i];
    CfqpShape out = { 0 };

    if (node->n_inputs == 0)
      FAIL ("has no inputs");
    for (guint k = 0; k < node->n_inputs; k++) {
      if (node->inputs[k] >= graph->n_values || !known[node->inputs[k]])
        FAIL ("input %u (value %u) is not computed before it", k, node->inputs[k]);
    }
    if (node->output >= graph->n_values || known[node->output])
      FAIL ("output value %u is invalid or produced twice", node->output);
    if (node->act.kind == CFQP_ACT_PRELU && node->act.n_slopes != 1 &&
        node->act.n_slopes != node->out_channels)
      FAIL ("PRelu has %u slopes for %u channels", node->act.n_slopes, node->out_channels);
    if (!infer_node (graph, node, shapes, &out, error))
      return FALSE;
    if (out.c != node->out_channels || out.c != graph->values[node->output].channels)
      FAIL ("computes %u channels but declares %u (value '%s': %u)", out.c,
          node->out_channels, graph->values[node->output].name,
          graph->values[node->output].channels);
    shapes[node->output] = out;
    known[node->output] = TRUE;
  }
  if (!known[graph->output]) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID,
        "graph output '%s' is never computed", graph->values[graph->output].name);
    return FALSE;
  }
  return TRUE;
}

void
cfqp_graph_last_uses (const CfqpGraph *graph, gint *last_use)
{
  for (guint v = 0; v < graph->n_values; v++)
    last_use[v] = -1;
  for (guint i = 0; i < graph->n_nodes; i++)
    for (guint k = 0; k < graph->nodes[i].n_inputs; k++)
      last_use[graph->nodes[i].inputs[k]] = i;
  last_use[graph->output] = graph->n_nodes;
}

guint
cfqp_graph_count_consumers (const CfqpGraph *graph, guint value)
{
  guint n = 0;

  for (guint i = 0; i < graph->n_nodes; i++) {
    for (guint k = 0; k < graph->nodes[i].n_inputs; k++) {
      if (graph->nodes[i].inputs[k] == value) {
        n++;
        break;
      }
    }
  }
  return n;
}

guint64
cfqp_graph_macs_per_pixel (const CfqpGraph *graph)
{
  /* Large, and divisible by every block size a model may use, so that
   * border effects of padding are negligible and shapes always infer. */
  const guint probe = 1680;
  g_autofree CfqpShape *shapes = g_new0 (CfqpShape, graph->n_values);
  double macs = 0;

  if (!cfqp_graph_infer_shapes (graph, probe, probe, shapes, NULL))
    return 0;
  for (guint i = 0; i < graph->n_nodes; i++) {
    const CfqpNode *node = &graph->nodes[i];
    const CfqpConvParams *c = &node->p.conv;
    const CfqpShape *in = &shapes[node->inputs[0]];
    const CfqpShape *out = &shapes[node->output];
    double per_tap;

    if (node->op == CFQP_OP_CONV)
      per_tap = (double) out->c * out->h * out->w * (c->in_channels / c->groups);
    else if (node->op == CFQP_OP_CONV_TRANSPOSE)
      per_tap = (double) in->c * in->h * in->w * (c->out_channels / c->groups);
    else
      continue;
    macs += per_tap * c->kernel_h * c->kernel_w;
  }
  return (guint64) llround (macs / ((double) probe * probe));
}
