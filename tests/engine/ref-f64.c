/* Reference ops in double precision. */
#include "ref-f64.h"

#include <string.h>

static double
ref_act (const CfqpActivation *act, guint c, double v)
{
  switch (act->kind) {
    case CFQP_ACT_NONE: return v;
    case CFQP_ACT_RELU: return v > 0 ? v : 0;
    case CFQP_ACT_LEAKY_RELU: return v >= 0 ? v : v * act->alpha;
    case CFQP_ACT_PRELU: return v >= 0 ? v : v * act->slopes[act->n_slopes == 1 ? 0 : c];
    case CFQP_ACT_CLIP: return v < act->lo ? act->lo : v > act->hi ? act->hi : v;
  }
  g_assert_not_reached ();
}

static void
ref_conv (const CfqpNode *node, const RefTensor *in, RefTensor *out)
{
  const CfqpConvParams *c = &node->p.conv;
  guint pt, pl, pb, pr, icg = c->in_channels / c->groups, ocg = c->out_channels / c->groups;

  cfqp_conv_resolve_pads (c, in->shape.h, in->shape.w, &pt, &pl, &pb, &pr);
  for (guint oc = 0; oc < out->shape.c; oc++)
    for (guint oy = 0; oy < out->shape.h; oy++)
      for (guint ox = 0; ox < out->shape.w; ox++) {
        double s = c->bias ? c->bias[oc] : 0;
        for (guint i = 0; i < icg; i++) {
          guint ic = oc / ocg * icg + i;
          for (guint ky = 0; ky < c->kernel_h; ky++)
            for (guint kx = 0; kx < c->kernel_w; kx++) {
              long iy = (long) oy * c->stride_h - pt + (long) ky * c->dilation_h;
              long ix = (long) ox * c->stride_w - pl + (long) kx * c->dilation_w;
              double v = iy >= 0 && iy < in->shape.h && ix >= 0 && ix < in->shape.w ?
                  *ref_at (in, ic, iy, ix) : (c->pad_value ? c->pad_value[ic] : 0);
              s += v * c->weight[(((gsize) oc * icg + i) * c->kernel_h + ky) * c->kernel_w + kx];
            }
        }
        *ref_at (out, oc, oy, ox) = s;
      }
}

static void
ref_conv_transpose (const CfqpNode *node, const RefTensor *in, RefTensor *out)
{
  const CfqpConvParams *c = &node->p.conv;
  guint pt, pl, pb, pr, icg = c->in_channels / c->groups, ocg = c->out_channels / c->groups;

  cfqp_conv_transpose_resolve_pads (c, &pt, &pl, &pb, &pr);
  for (guint oc = 0; oc < out->shape.c; oc++)
    for (guint y = 0; y < out->shape.h; y++)
      for (guint x = 0; x < out->shape.w; x++)
        *ref_at (out, oc, y, x) = c->bias ? c->bias[oc] : 0;
  /* Scatter form: every input pixel adds its weighted kernel. */
  for (guint ic = 0; ic < in->shape.c; ic++)
    for (guint iy = 0; iy < in->shape.h; iy++)
      for (guint ix = 0; ix < in->shape.w; ix++)
        for (guint o = 0; o < ocg; o++)
          for (guint ky = 0; ky < c->kernel_h; ky++)
            for (guint kx = 0; kx < c->kernel_w; kx++) {
              long oy = (long) iy * c->stride_h - pt + (long) ky * c->dilation_h;
              long ox = (long) ix * c->stride_w - pl + (long) kx * c->dilation_w;
              guint oc = ic / icg * ocg + o;
              if (oy < 0 || oy >= out->shape.h || ox < 0 || ox >= out->shape.w)
                continue;
              *ref_at (out, oc, oy, ox) += *ref_at (in, ic, iy, ix) *
                  c->weight[(((gsize) ic * ocg + o) * c->kernel_h + ky) * c->kernel_w + kx];
            }
}

static double
ref_binary (CfqpBinaryKind kind, double a, double b)
{
  switch (kind) {
    case CFQP_BINARY_ADD: return a + b;
    case CFQP_BINARY_SUB: return a - b;
    case CFQP_BINARY_MUL: return a * b;
    case CFQP_BINARY_DIV: return a / b;
  }
  g_assert_not_reached ();
}

void
ref_node (const CfqpNode *node, const RefTensor *inputs, RefTensor *out)
{
  const RefTensor *in = &inputs[0];
  CfqpShape *s = &out->shape;
  guint b = node->p.shuffle.block;

  out->data = g_new0 (double, (gsize) s->c * s->h * s->w);
  switch (node->op) {
    case CFQP_OP_CONV:
      ref_conv (node, in, out);
      break;
    case CFQP_OP_CONV_TRANSPOSE:
      ref_conv_transpose (node, in, out);
      break;
    case CFQP_OP_ACTIVATION:
      memcpy (out->data, in->data, sizeof (double) * s->c * s->h * s->w);
      break;
    case CFQP_OP_BINARY:
      for (guint c = 0; c < s->c; c++)
        for (guint y = 0; y < s->h; y++)
          for (guint x = 0; x < s->w; x++) {
            const CfqpBinaryParams *p = &node->p.binary;
            double a = *ref_at (in, in->shape.c == 1 ? 0 : c, y, x), k;
            if (p->constant)
              k = p->constant[p->n_constant == 1 ? 0 : c];
            else
              k = *ref_at (&inputs[1], inputs[1].shape.c == 1 ? 0 : c, y, x);
            *ref_at (out, c, y, x) = p->constant && p->constant_first ?
                ref_binary (p->kind, k, a) : ref_binary (p->kind, a, k);
          }
      break;
    case CFQP_OP_CONCAT: {
      guint oc = 0;
      for (guint i = 0; i < node->n_inputs; i++)
        for (guint c = 0; c < inputs[i].shape.c; c++, oc++)
          for (guint y = 0; y < s->h; y++)
            for (guint x = 0; x < s->w; x++)
              *ref_at (out, oc, y, x) = *ref_at (&inputs[i], c, y, x);
      break;
    }
    case CFQP_OP_DEPTH_TO_SPACE:
      /* ONNX: reshape to [b, b, C, H, W] (DCR) or [C, b, b, H, W] (CRD),
       * then interleave the two block axes into H and W. */
      for (guint ic = 0; ic < in->shape.c; ic++) {
        guint c, i, j;
        if (node->p.shuffle.mode == CFQP_D2S_DCR) {
          i = ic / (b * s->c);
          j = ic / s->c % b;
          c = ic % s->c;
        } else {
          c = ic / (b * b);
          i = ic / b % b;
          j = ic % b;
        }
        for (guint y = 0; y < in->shape.h; y++)
          for (guint x = 0; x < in->shape.w; x++)
            *ref_at (out, c, y * b + i, x * b + j) = *ref_at (in, ic, y, x);
      }
      break;
    case CFQP_OP_SPACE_TO_DEPTH:
      for (guint c = 0; c < in->shape.c; c++)
        for (guint y = 0; y < in->shape.h; y++)
          for (guint x = 0; x < in->shape.w; x++)
            *ref_at (out, ((y % b) * b + x % b) * in->shape.c + c, y / b, x / b) =
                *ref_at (in, c, y, x);
      break;
    case CFQP_OP_RESIZE_NEAREST:
      for (guint c = 0; c < s->c; c++)
        for (guint y = 0; y < s->h; y++)
          for (guint x = 0; x < s->w; x++)
            *ref_at (out, c, y, x) =
                *ref_at (in, c, y / node->p.resize.scale_h, x / node->p.resize.scale_w);
      break;
    case CFQP_OP_TILE_CHANNELS:
      for (guint c = 0; c < s->c; c++)
        for (guint y = 0; y < s->h; y++)
          for (guint x = 0; x < s->w; x++)
            *ref_at (out, c, y, x) = *ref_at (in, c % in->shape.c, y, x);
      break;
    default:
      g_assert_not_reached ();
  }
  for (guint c = 0; c < s->c; c++)
    for (guint y = 0; y < s->h; y++)
      for (guint x = 0; x < s->w; x++)
        *ref_at (out, c, y, x) = ref_act (&node->act, c, *ref_at (out, c, y, x));
}

RefTensor
ref_graph (const CfqpGraph *graph, const RefTensor *input)
{
  g_autofree CfqpShape *shapes = g_new0 (CfqpShape, graph->n_values);
  g_autofree RefTensor *values = g_new0 (RefTensor, graph->n_values);
  RefTensor result;

  g_assert_true (cfqp_graph_infer_shapes (graph, input->shape.w, input->shape.h, shapes, NULL));
  values[0] = *input;
  for (guint i = 0; i < graph->n_nodes; i++) {
    const CfqpNode *node = &graph->nodes[i];
    g_autofree RefTensor *ins = g_new0 (RefTensor, node->n_inputs);
    for (guint k = 0; k < node->n_inputs; k++)
      ins[k] = values[node->inputs[k]];
    values[node->output].shape = shapes[node->output];
    ref_node (node, ins, &values[node->output]);
  }
  result = values[graph->output];
  for (guint v = 1; v < graph->n_values; v++)
    if (v != graph->output)
      g_free (values[v].data);
  return result;
}

float *
ref_random_floats (GRand *rand, gsize n, float lo, float hi)
{
  float *f = g_new (float, n);

  for (gsize i = 0; i < n; i++)
    f[i] = g_rand_double_range (rand, lo, hi);
  return f;
}
