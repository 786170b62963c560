/* QDQ export, the ONNX each op becomes: the protobuf-c messages (nodes,
 * attributes, raw little-endian initializers) built in the writer's pool,
 * a value's Q → DQ pair, a fused activation written back as its ONNX op,
 * and one emitter per op, which the op table (cfqp-op-table.c) names as
 * its row's emit_qdq.
 */
#include "cfqp-qdq-emit.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

gpointer
cfqp_qdq_keep (CfqpQdqWriter *e, gpointer p)
{
  g_ptr_array_add (e->pool, p);
  return p;
}

static char * G_GNUC_PRINTF (2, 3)
name_printf (CfqpQdqWriter *e, const char *fmt, ...)
{
  va_list ap;
  char *s;

  va_start (ap, fmt);
  s = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  return cfqp_qdq_keep (e, s);
}

/* A node reading the NULL-terminated inputs ("" for an absent optional one). */
static Onnx__NodeProto *
node_add (CfqpQdqWriter *e, const char *op, const char *output, ...)
{
  Onnx__NodeProto *n = CFQP_QDQ_NEW_MSG (e, Onnx__NodeProto, ONNX__NODE_PROTO__INIT);
  GPtrArray *ins = g_ptr_array_new ();
  va_list ap;
  const char *in;

  va_start (ap, output);
  while ((in = va_arg (ap, const char *)))
    g_ptr_array_add (ins, (gpointer) in);
  va_end (ap);
  n->n_input = ins->len;
  n->input = cfqp_qdq_keep (e, g_ptr_array_free (ins, FALSE));
  n->n_output = 1;
  n->output = cfqp_qdq_keep (e, g_new (char *, 1));
  n->output[0] = (char *) output;
  n->op_type = (char *) op;
  n->name = name_printf (e, "%s/%s", output, op);
  g_ptr_array_add (e->nodes, n);
  return n;
}

static Onnx__AttributeProto *
attr_add (CfqpQdqWriter *e, Onnx__NodeProto *n, const char *name,
    Onnx__AttributeProto__AttributeType type)
{
  Onnx__AttributeProto *a = CFQP_QDQ_NEW_MSG (e, Onnx__AttributeProto, ONNX__ATTRIBUTE_PROTO__INIT);
  Onnx__AttributeProto **list =
      cfqp_qdq_keep (e, g_new (Onnx__AttributeProto *, n->n_attribute + 1));

  if (n->n_attribute)
    memcpy (list, n->attribute, n->n_attribute * sizeof (gpointer));
  list[n->n_attribute++] = a;
  n->attribute = list;
  a->name = (char *) name;
  a->has_type = TRUE;
  a->type = type;
  return a;
}

static void
attr_int (CfqpQdqWriter *e, Onnx__NodeProto *n, const char *name, gint64 v)
{
  Onnx__AttributeProto *a = attr_add (e, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
  a->has_i = TRUE;
  a->i = v;
}

static void
attr_float (CfqpQdqWriter *e, Onnx__NodeProto *n, const char *name, float v)
{
  Onnx__AttributeProto *a = attr_add (e, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
  a->has_f = TRUE;
  a->f = v;
}

static void
attr_string (CfqpQdqWriter *e, Onnx__NodeProto *n, const char *name, const char *v)
{
  Onnx__AttributeProto *a = attr_add (e, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
  a->has_s = TRUE;
  a->s.data = (guint8 *) v;
  a->s.len = strlen (v);
}

static void
attr_ints (CfqpQdqWriter *e, Onnx__NodeProto *n, const char *name, guint count, ...)
{
  Onnx__AttributeProto *a = attr_add (e, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
  va_list ap;

  a->n_ints = count;
  a->ints = cfqp_qdq_keep (e, g_new (gint64, count));
  va_start (ap, count);
  for (guint k = 0; k < count; k++)
    a->ints[k] = va_arg (ap, gint64);
  va_end (ap);
}

/* An initializer; data (n elements of elem_size bytes) is copied as raw
 * little-endian bytes.  dims: ndim entries. */
static const char *
init_add (CfqpQdqWriter *e, const char *name, gint32 type, const gint64 *dims, guint ndim,
    const void *data, gsize n, gsize elem_size)
{
  Onnx__TensorProto *t = CFQP_QDQ_NEW_MSG (e, Onnx__TensorProto, ONNX__TENSOR_PROTO__INIT);

  t->name = (char *) name;
  t->has_data_type = TRUE;
  t->data_type = type;
  t->n_dims = ndim;
  t->dims = ndim ? cfqp_qdq_keep (e, g_memdup2 (dims, ndim * sizeof (gint64))) : NULL;
  t->has_raw_data = TRUE;
  t->raw_data.len = n * elem_size;
  t->raw_data.data = cfqp_qdq_keep (e, g_memdup2 (data, MAX (n * elem_size, 1)));
#if G_BYTE_ORDER == G_BIG_ENDIAN
  for (gsize k = 0; elem_size > 1 && k < n; k++)
    for (gsize b = 0; b < elem_size / 2; b++) {
      guint8 *p = t->raw_data.data + k * elem_size, tmp = p[b];
      p[b] = p[elem_size - 1 - b];
      p[elem_size - 1 - b] = tmp;
    }
#endif
  g_ptr_array_add (e->inits, t);
  return name;
}

static const char *
init_floats (CfqpQdqWriter *e, const char *name, const gint64 *dims, guint ndim, const float *v,
    gsize n)
{
  return init_add (e, name, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, dims, ndim, v, n, 4);
}

static const char *
init_int64s (CfqpQdqWriter *e, const char *name, guint n, ...)
{
  gint64 v[8], dim = n;
  va_list ap;

  g_assert (n <= G_N_ELEMENTS (v));
  va_start (ap, n);
  for (guint k = 0; k < n; k++)
    v[k] = va_arg (ap, gint64);
  va_end (ap);
  return init_add (e, name, ONNX__TENSOR_PROTO__DATA_TYPE__INT64, &dim, 1, v, n, 8);
}

/* Q → DQ of `src`, the float form of value `v`, on the writer's width
 * (uint8, or uint16 for a 16-bit program); returns the DQ output. */
const char *
cfqp_qdq_pair (CfqpQdqWriter *e, const char *vname, const char *src, const CfqpQParams *qp)
{
  guint8 zp8 = (guint8) qp->zero_point;
  guint16 zp16 = (guint16) qp->zero_point;
  const char *scale = init_floats (e, name_printf (e, "%s/scale", vname), NULL, 0, &qp->scale, 1);
  const char *zero = e->bits == 16 ?
      init_add (e, name_printf (e, "%s/zp", vname), ONNX__TENSOR_PROTO__DATA_TYPE__UINT16, NULL,
          0, &zp16, 1, 2) :
      init_add (e, name_printf (e, "%s/zp", vname), ONNX__TENSOR_PROTO__DATA_TYPE__UINT8, NULL,
          0, &zp8, 1, 1);
  const char *q = name_printf (e, "%s/q", vname), *dq = name_printf (e, "%s/dq", vname);

  node_add (e, "QuantizeLinear", q, src, scale, zero, NULL);
  node_add (e, "DequantizeLinear", dq, q, scale, zero, NULL);
  return dq;
}

const char *
cfqp_qdq_activation (CfqpQdqWriter *e, const CfqpActivation *act, const char *in, const char *out,
    guint channels)
{
  switch (act->kind) {
    case CFQP_ACT_NONE:
      return in;
    case CFQP_ACT_RELU:
      node_add (e, "Relu", out, in, NULL);
      break;
    case CFQP_ACT_LEAKY_RELU:
      attr_float (e, node_add (e, "LeakyRelu", out, in, NULL), "alpha", act->alpha);
      break;
    case CFQP_ACT_PRELU: {
      gint64 dims[3] = { act->n_slopes, 1, 1 };
      const char *slope = init_floats (e, name_printf (e, "%s/slope", out), dims,
          act->n_slopes == 1 ? 1 : 3, act->slopes, act->n_slopes);
      node_add (e, "PRelu", out, in, slope, NULL);
      break;
    }
    case CFQP_ACT_CLIP: {
      const char *lo = "", *hi = "";
      if (isfinite (act->lo))
        lo = init_floats (e, name_printf (e, "%s/min", out), NULL, 0, &act->lo, 1);
      if (isfinite (act->hi))
        hi = init_floats (e, name_printf (e, "%s/max", out), NULL, 0, &act->hi, 1);
      node_add (e, "Clip", out, in, lo, hi, NULL);
      break;
    }
  }
  return out;
}

/* Conv and ConvTranspose: int8 weights and int32 bias through DQ, the
 * scales the INT8 program used; a 16-bit program's int16 weights through
 * DQ and its int64 bias as the float it stands for (DequantizeLinear takes
 * no int64). */
gboolean
cfqp_qdq_emit_conv (CfqpQdqWriter *e, const CfqpGraph *g, const CfqpNode *node,
    const CfqpInt8Program *prog, const char *const *dq, const char *out, GError **error)
{
  const char *in = dq[node->inputs[0]];
  const CfqpConvParams *cp = &node->p.conv;
  const CfqpInt8Node *q = &prog->nodes[node - g->nodes];
  gboolean transpose = node->op == CFQP_OP_CONV_TRANSPOSE;
  const char *vname = g->values[node->output].name;
  guint oc_n = cp->out_channels, icg = cp->in_channels / cp->groups;
  gint64 wdims[4] = { transpose ? cp->in_channels : oc_n,
                      transpose ? oc_n / cp->groups : icg, cp->kernel_h, cp->kernel_w };
  gint64 odim = oc_n;
  gsize n_w = (gsize) oc_n * icg * cp->kernel_h * cp->kernel_w;
  g_autofree double *wscale = g_new (double, oc_n);
  g_autofree float *ws = g_new (float, oc_n), *bs = g_new (float, oc_n);
  /* the zero points, all 0: read as int8, int16 or int32 */
  g_autofree gint32 *zeros = g_new0 (gint32, oc_n);
  const char *w, *b;
  Onnx__NodeProto *n;

  if (cp->pad_value)
    for (guint c = 0; c < cp->in_channels; c++)
      if (cp->pad_value[c] != 0.f) {
        g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_UNSUPPORTED,
            "node '%s': an input normalisation folded into the conv pads with %g, "
            "which ONNX Conv cannot express", node->name, cp->pad_value[c]);
        return FALSE;
      }
  if (transpose && cp->groups > 1) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_UNSUPPORTED,
        "node '%s': grouped ConvTranspose has no per-output-channel axis in ONNX", node->name);
    return FALSE;
  }
  if (e->bits == 16)
    cfqp_int16_conv_weight_scales (cp, transpose, wscale);
  else
    cfqp_int8_conv_weight_scales (cp, transpose, wscale);
  for (guint oc = 0; oc < oc_n; oc++) {
    ws[oc] = (float) wscale[oc];
    bs[oc] = (float) ((double) prog->qparams[node->inputs[0]].scale * wscale[oc]);
  }
  if (e->bits == 16) {
    init_add (e, name_printf (e, "%s/w_q", vname), ONNX__TENSOR_PROTO__DATA_TYPE__INT16, wdims,
        4, q->weight16, n_w, 2);
    init_add (e, name_printf (e, "%s/w_zp", vname), ONNX__TENSOR_PROTO__DATA_TYPE__INT16, &odim,
        1, zeros, oc_n, 2);
  } else {
    init_add (e, name_printf (e, "%s/w_q", vname), ONNX__TENSOR_PROTO__DATA_TYPE__INT8, wdims,
        4, q->weight, n_w, 1);
    init_add (e, name_printf (e, "%s/w_zp", vname), ONNX__TENSOR_PROTO__DATA_TYPE__INT8, &odim,
        1, zeros, oc_n, 1);
  }
  init_floats (e, name_printf (e, "%s/w_scale", vname), &odim, 1, ws, oc_n);
  w = name_printf (e, "%s/w", vname);
  n = node_add (e, "DequantizeLinear", w, name_printf (e, "%s/w_q", vname),
      name_printf (e, "%s/w_scale", vname), name_printf (e, "%s/w_zp", vname), NULL);
  attr_int (e, n, "axis", transpose ? 1 : 0);

  if (e->bits == 16) {
    /* bias64 steps of s_in·s_w, as a float */
    g_autofree float *bf = g_new (float, oc_n);

    for (guint oc = 0; oc < oc_n; oc++)
      bf[oc] = (float) ((double) q->bias64[oc] * (double) prog->qparams[node->inputs[0]].scale *
          wscale[oc]);
    b = init_floats (e, name_printf (e, "%s/b", vname), &odim, 1, bf, oc_n);
  } else {
    init_add (e, name_printf (e, "%s/b_q", vname), ONNX__TENSOR_PROTO__DATA_TYPE__INT32, &odim,
        1, q->bias, oc_n, 4);
    init_floats (e, name_printf (e, "%s/b_scale", vname), &odim, 1, bs, oc_n);
    init_add (e, name_printf (e, "%s/b_zp", vname), ONNX__TENSOR_PROTO__DATA_TYPE__INT32, &odim,
        1, zeros, oc_n, 4);
    b = name_printf (e, "%s/b", vname);
    n = node_add (e, "DequantizeLinear", b, name_printf (e, "%s/b_q", vname),
        name_printf (e, "%s/b_scale", vname), name_printf (e, "%s/b_zp", vname), NULL);
    attr_int (e, n, "axis", 0);
  }

  n = node_add (e, transpose ? "ConvTranspose" : "Conv", out, in, w, b, NULL);
  attr_ints (e, n, "kernel_shape", 2, (gint64) cp->kernel_h, (gint64) cp->kernel_w);
  attr_ints (e, n, "strides", 2, (gint64) cp->stride_h, (gint64) cp->stride_w);
  attr_ints (e, n, "dilations", 2, (gint64) cp->dilation_h, (gint64) cp->dilation_w);
  attr_int (e, n, "group", cp->groups);
  if (cp->auto_pad == 1)
    attr_string (e, n, "auto_pad", "SAME_UPPER");
  else if (cp->auto_pad == 2)
    attr_string (e, n, "auto_pad", "SAME_LOWER");
  else
    attr_ints (e, n, "pads", 4, (gint64) cp->pad_t, (gint64) cp->pad_l, (gint64) cp->pad_b,
        (gint64) cp->pad_r);
  if (transpose)
    attr_ints (e, n, "output_padding", 2, (gint64) cp->output_pad_h, (gint64) cp->output_pad_w);
  return TRUE;
}

/* pixel_unshuffle (CRD): Reshape [1,C,H/b,b,W/b,b] → Transpose → Reshape,
 * the shapes computed from Shape(x) so H and W stay dynamic. */
static void
emit_space_to_depth_crd (CfqpQdqWriter *e, const char *vname, const char *in, guint c, guint b,
    const char *out)
{
  const char *shape = name_printf (e, "%s/shape", vname);
  const char *hw = name_printf (e, "%s/hw", vname), *hwb = name_printf (e, "%s/hwb", vname);
  const char *h = name_printf (e, "%s/hb", vname), *w = name_printf (e, "%s/wb", vname);
  const char *s6 = name_printf (e, "%s/shape6", vname), *s4 = name_printf (e, "%s/shape4", vname);
  const char *r6 = name_printf (e, "%s/r6", vname), *t6 = name_printf (e, "%s/t6", vname);
  Onnx__NodeProto *n;

  node_add (e, "Shape", shape, in, NULL);
  node_add (e, "Slice", hw, shape, init_int64s (e, name_printf (e, "%s/s2", vname), 1, (gint64) 2),
      init_int64s (e, name_printf (e, "%s/e4", vname), 1, (gint64) 4), NULL);
  node_add (e, "Div", hwb, hw, init_int64s (e, name_printf (e, "%s/bb", vname), 2, (gint64) b,
      (gint64) b), NULL);
  node_add (e, "Slice", h, hwb, init_int64s (e, name_printf (e, "%s/s0", vname), 1, (gint64) 0),
      init_int64s (e, name_printf (e, "%s/e1", vname), 1, (gint64) 1), NULL);
  node_add (e, "Slice", w, hwb, name_printf (e, "%s/e1", vname),
      init_int64s (e, name_printf (e, "%s/e2", vname), 1, (gint64) 2), NULL);
  n = node_add (e, "Concat", s6, init_int64s (e, name_printf (e, "%s/nc", vname), 2, (gint64) 1,
      (gint64) c), h, init_int64s (e, name_printf (e, "%s/b", vname), 1, (gint64) b), w,
      name_printf (e, "%s/b", vname), NULL);
  attr_int (e, n, "axis", 0);
  n = node_add (e, "Concat", s4, init_int64s (e, name_printf (e, "%s/nc4", vname), 2, (gint64) 1,
      (gint64) (c * b * b)), hwb, NULL);
  attr_int (e, n, "axis", 0);
  node_add (e, "Reshape", r6, in, s6, NULL);
  n = node_add (e, "Transpose", t6, r6, NULL);
  attr_ints (e, n, "perm", 6, (gint64) 0, (gint64) 1, (gint64) 3, (gint64) 5, (gint64) 2,
      (gint64) 4);
  node_add (e, "Reshape", out, t6, s4, NULL);
}

gboolean
cfqp_qdq_emit_activation (CfqpQdqWriter *e, const CfqpGraph *g, const CfqpNode *node,
    const CfqpInt8Program *prog, const char *const *dq, const char *out, GError **error)
{
  cfqp_qdq_activation (e, &node->act, dq[node->inputs[0]], out,
      g->values[node->inputs[0]].channels);
  return TRUE;
}

gboolean
cfqp_qdq_emit_binary (CfqpQdqWriter *e, const CfqpGraph *g, const CfqpNode *node,
    const CfqpInt8Program *prog, const char *const *dq, const char *out, GError **error)
{
  static const char *ops[] = { "Add", "Sub", "Mul", "Div" };
  const CfqpBinaryParams *bp = &node->p.binary;
  const char *in = dq[node->inputs[0]];

  if (bp->constant) {
    gint64 dims[4] = { 1, bp->n_constant, 1, 1 };
    const char *k = init_floats (e, name_printf (e, "%s/k", g->values[node->output].name), dims,
        bp->n_constant == 1 ? 1 : 4, bp->constant, bp->n_constant);
    node_add (e, ops[bp->kind], out, bp->constant_first ? k : in,
        bp->constant_first ? in : k, NULL);
  } else {
    node_add (e, ops[bp->kind], out, in, dq[node->inputs[1]], NULL);
  }
  return TRUE;
}

gboolean
cfqp_qdq_emit_concat (CfqpQdqWriter *e, const CfqpGraph *g, const CfqpNode *node,
    const CfqpInt8Program *prog, const char *const *dq, const char *out, GError **error)
{
  Onnx__NodeProto *n = node_add (e, "Concat", out, NULL);

  n->n_input = node->n_inputs;
  n->input = cfqp_qdq_keep (e, g_new (char *, node->n_inputs));
  for (guint k = 0; k < node->n_inputs; k++)
    n->input[k] = (char *) dq[node->inputs[k]];
  attr_int (e, n, "axis", 1);
  return TRUE;
}

gboolean
cfqp_qdq_emit_depth_to_space (CfqpQdqWriter *e, const CfqpGraph *g, const CfqpNode *node,
    const CfqpInt8Program *prog, const char *const *dq, const char *out, GError **error)
{
  Onnx__NodeProto *n = node_add (e, "DepthToSpace", out, dq[node->inputs[0]], NULL);

  attr_int (e, n, "blocksize", node->p.shuffle.block);
  attr_string (e, n, "mode", node->p.shuffle.mode == CFQP_D2S_CRD ? "CRD" : "DCR");
  return TRUE;
}

gboolean
cfqp_qdq_emit_space_to_depth (CfqpQdqWriter *e, const CfqpGraph *g, const CfqpNode *node,
    const CfqpInt8Program *prog, const char *const *dq, const char *out, GError **error)
{
  const char *in = dq[node->inputs[0]];

  if (node->p.shuffle.mode == CFQP_D2S_DCR) {
    Onnx__NodeProto *n = node_add (e, "SpaceToDepth", out, in, NULL);
    attr_int (e, n, "blocksize", node->p.shuffle.block);
  } else {
    emit_space_to_depth_crd (e, g->values[node->output].name, in,
        g->values[node->inputs[0]].channels, node->p.shuffle.block, out);
  }
  return TRUE;
}

gboolean
cfqp_qdq_emit_resize_nearest (CfqpQdqWriter *e, const CfqpGraph *g, const CfqpNode *node,
    const CfqpInt8Program *prog, const char *const *dq, const char *out, GError **error)
{
  float scales[4] = { 1, 1, node->p.resize.scale_h, node->p.resize.scale_w };
  gint64 four = 4;
  Onnx__NodeProto *n = node_add (e, "Resize", out, dq[node->inputs[0]], "",
      init_floats (e, name_printf (e, "%s/scales", g->values[node->output].name), &four, 1,
          scales, 4), NULL);

  attr_string (e, n, "mode", "nearest");
  attr_string (e, n, "coordinate_transformation_mode", "asymmetric");
  attr_string (e, n, "nearest_mode", "floor");
  return TRUE;
}

gboolean
cfqp_qdq_emit_tile_channels (CfqpQdqWriter *e, const CfqpGraph *g, const CfqpNode *node,
    const CfqpInt8Program *prog, const char *const *dq, const char *out, GError **error)
{
  const char *vname = g->values[node->output].name, *in = dq[node->inputs[0]];
  guint c_in = g->values[node->inputs[0]].channels;
  gint64 r = node->p.tile.repeats;

  if (!node->p.tile.interleave) {
    node_add (e, "Tile", out, in, init_int64s (e, name_printf (e, "%s/repeats", vname), 4,
        (gint64) 1, r, (gint64) 1, (gint64) 1), NULL);
  } else {
    /* repeat_interleave: Unsqueeze(2) → Expand [1,C,r,1,1] → Reshape */
    const char *u = name_printf (e, "%s/unsq", vname), *x = name_printf (e, "%s/exp", vname);
    const char *s = name_printf (e, "%s/shape", vname), *s4 = name_printf (e, "%s/shape4", vname);
    node_add (e, "Unsqueeze", u, in, init_int64s (e, name_printf (e, "%s/axes", vname), 1,
        (gint64) 2), NULL);
    node_add (e, "Expand", x, u, init_int64s (e, name_printf (e, "%s/rep", vname), 5,
        (gint64) 1, (gint64) c_in, r, (gint64) 1, (gint64) 1), NULL);
    node_add (e, "Shape", s, in, NULL);
    node_add (e, "Mul", s4, s, init_int64s (e, name_printf (e, "%s/mul", vname), 4,
        (gint64) 1, r, (gint64) 1, (gint64) 1), NULL);
    node_add (e, "Reshape", out, x, s4, NULL);
  }
  return TRUE;
}
