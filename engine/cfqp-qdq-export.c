/* QDQ ONNX export: the optimised graph with its INT8 parameters, written as
 * QuantizeLinear/DequantizeLinear pairs so that other runtimes (ONNX
 * Runtime, TensorRT) compute what the INT8 program computes.
 *
 *   activations  Q → DQ after every value, uint8 per tensor, with the
 *                resolved parameters (cfqp_int8_resolve_qparams)
 *   weights      int8 initializers, DQ per channel (axis 0 for Conv, 1 for
 *                ConvTranspose), scales from cfqp_int8_conv_weight_scales
 *   bias         int32 initializers, DQ with scale s_in·s_w, zero point 0
 *   activations  fused ones written back after their op (Relu, Clip,
 *                LeakyRelu, PRelu), before the Q
 *
 * Names: the float output of the op computing value V is V's own name, so
 * a re-imported export names its tensors as the original did; a fused
 * activation writes "V/act", the pair "V/q" and "V/dq", and readers read
 * "V/dq".  Opset 13, input float NCHW with symbolic H and W.
 */
#include "cfqp-model-private.h"
#include "cfqp-int8.h"
#include "onnx.pb-c.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

#define QDQ_OPSET 13
#define QDQ_IR_VERSION 7

typedef struct {
  GPtrArray *pool;          /* everything allocated, freed at the end */
  GPtrArray *nodes;         /* Onnx__NodeProto* */
  GPtrArray *inits;         /* Onnx__TensorProto* */
} Exporter;

static gpointer
keep (Exporter *e, gpointer p)
{
  g_ptr_array_add (e->pool, p);
  return p;
}

static char * G_GNUC_PRINTF (2, 3)
name_printf (Exporter *e, const char *fmt, ...)
{
  va_list ap;
  char *s;

  va_start (ap, fmt);
  s = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  return keep (e, s);
}

#define NEW_MSG(e, Type, INIT) \
  ((Type *) keep ((e), g_memdup2 (&(Type) INIT, sizeof (Type))))

/* A node reading the NULL-terminated inputs ("" for an absent optional one). */
static Onnx__NodeProto *
node_add (Exporter *e, const char *op, const char *output, ...)
{
  Onnx__NodeProto *n = NEW_MSG (e, Onnx__NodeProto, ONNX__NODE_PROTO__INIT);
  GPtrArray *ins = g_ptr_array_new ();
  va_list ap;
  const char *in;

  va_start (ap, output);
  while ((in = va_arg (ap, const char *)))
    g_ptr_array_add (ins, (gpointer) in);
  va_end (ap);
  n->n_input = ins->len;
  n->input = keep (e, g_ptr_array_free (ins, FALSE));
  n->n_output = 1;
  n->output = keep (e, g_new (char *, 1));
  n->output[0] = (char *) output;
  n->op_type = (char *) op;
  n->name = name_printf (e, "%s/%s", output, op);
  g_ptr_array_add (e->nodes, n);
  return n;
}

static Onnx__AttributeProto *
attr_add (Exporter *e, Onnx__NodeProto *n, const char *name, Onnx__AttributeProto__AttributeType type)
{
  Onnx__AttributeProto *a = NEW_MSG (e, Onnx__AttributeProto, ONNX__ATTRIBUTE_PROTO__INIT);
  Onnx__AttributeProto **list = keep (e, g_new (Onnx__AttributeProto *, n->n_attribute + 1));

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
attr_int (Exporter *e, Onnx__NodeProto *n, const char *name, gint64 v)
{
  Onnx__AttributeProto *a = attr_add (e, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
  a->has_i = TRUE;
  a->i = v;
}

static void
attr_float (Exporter *e, Onnx__NodeProto *n, const char *name, float v)
{
  Onnx__AttributeProto *a = attr_add (e, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
  a->has_f = TRUE;
  a->f = v;
}

static void
attr_string (Exporter *e, Onnx__NodeProto *n, const char *name, const char *v)
{
  Onnx__AttributeProto *a = attr_add (e, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
  a->has_s = TRUE;
  a->s.data = (guint8 *) v;
  a->s.len = strlen (v);
}

static void
attr_ints (Exporter *e, Onnx__NodeProto *n, const char *name, guint count, ...)
{
  Onnx__AttributeProto *a = attr_add (e, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
  va_list ap;

  a->n_ints = count;
  a->ints = keep (e, g_new (gint64, count));
  va_start (ap, count);
  for (guint k = 0; k < count; k++)
    a->ints[k] = va_arg (ap, gint64);
  va_end (ap);
}

/* An initializer; data (n elements of elem_size bytes) is copied as raw
 * little-endian bytes.  dims: ndim entries. */
static const char *
init_add (Exporter *e, const char *name, gint32 type, const gint64 *dims, guint ndim,
    const void *data, gsize n, gsize elem_size)
{
  Onnx__TensorProto *t = NEW_MSG (e, Onnx__TensorProto, ONNX__TENSOR_PROTO__INIT);

  t->name = (char *) name;
  t->has_data_type = TRUE;
  t->data_type = type;
  t->n_dims = ndim;
  t->dims = ndim ? keep (e, g_memdup2 (dims, ndim * sizeof (gint64))) : NULL;
  t->has_raw_data = TRUE;
  t->raw_data.len = n * elem_size;
  t->raw_data.data = keep (e, g_memdup2 (data, MAX (n * elem_size, 1)));
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
init_floats (Exporter *e, const char *name, const gint64 *dims, guint ndim, const float *v,
    gsize n)
{
  return init_add (e, name, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, dims, ndim, v, n, 4);
}

static const char *
init_int64s (Exporter *e, const char *name, guint n, ...)
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

/* Q → DQ of `src`, the float form of value `v`; returns the DQ output. */
static const char *
emit_qdq (Exporter *e, const char *vname, const char *src, const CfqpQParams *qp)
{
  guint8 zp = (guint8) qp->zero_point;
  const char *scale = init_floats (e, name_printf (e, "%s/scale", vname), NULL, 0, &qp->scale, 1);
  const char *zero = init_add (e, name_printf (e, "%s/zp", vname),
      ONNX__TENSOR_PROTO__DATA_TYPE__UINT8, NULL, 0, &zp, 1, 1);
  const char *q = name_printf (e, "%s/q", vname), *dq = name_printf (e, "%s/dq", vname);

  node_add (e, "QuantizeLinear", q, src, scale, zero, NULL);
  node_add (e, "DequantizeLinear", dq, q, scale, zero, NULL);
  return dq;
}

static const char *
emit_activation (Exporter *e, const CfqpActivation *act, const char *in, const char *out,
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

static gboolean
emit_conv (Exporter *e, const CfqpGraph *g, const CfqpNode *node, const CfqpInt8Program *prog,
    const char *in, const char *out, GError **error)
{
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
  g_autofree gint8 *wzp = g_new0 (gint8, oc_n);
  g_autofree gint32 *bzp = g_new0 (gint32, oc_n);
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
  cfqp_int8_conv_weight_scales (cp, transpose, wscale);
  for (guint oc = 0; oc < oc_n; oc++) {
    ws[oc] = (float) wscale[oc];
    bs[oc] = (float) ((double) prog->qparams[node->inputs[0]].scale * wscale[oc]);
  }
  init_add (e, name_printf (e, "%s/w_q", vname), ONNX__TENSOR_PROTO__DATA_TYPE__INT8, wdims, 4,
      q->weight, n_w, 1);
  init_floats (e, name_printf (e, "%s/w_scale", vname), &odim, 1, ws, oc_n);
  init_add (e, name_printf (e, "%s/w_zp", vname), ONNX__TENSOR_PROTO__DATA_TYPE__INT8, &odim, 1,
      wzp, oc_n, 1);
  w = name_printf (e, "%s/w", vname);
  n = node_add (e, "DequantizeLinear", w, name_printf (e, "%s/w_q", vname),
      name_printf (e, "%s/w_scale", vname), name_printf (e, "%s/w_zp", vname), NULL);
  attr_int (e, n, "axis", transpose ? 1 : 0);

  init_add (e, name_printf (e, "%s/b_q", vname), ONNX__TENSOR_PROTO__DATA_TYPE__INT32, &odim, 1,
      q->bias, oc_n, 4);
  init_floats (e, name_printf (e, "%s/b_scale", vname), &odim, 1, bs, oc_n);
  init_add (e, name_printf (e, "%s/b_zp", vname), ONNX__TENSOR_PROTO__DATA_TYPE__INT32, &odim, 1,
      bzp, oc_n, 4);
  b = name_printf (e, "%s/b", vname);
  n = node_add (e, "DequantizeLinear", b, name_printf (e, "%s/b_q", vname),
      name_printf (e, "%s/b_scale", vname), name_printf (e, "%s/b_zp", vname), NULL);
  attr_int (e, n, "axis", 0);

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
emit_space_to_depth_crd (Exporter *e, const char *vname, const char *in, guint c, guint b,
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

static gboolean
emit_node (Exporter *e, const CfqpGraph *g, const CfqpNode *node, const CfqpInt8Program *prog,
    const char **dq, GError **error)
{
  const char *vname = g->values[node->output].name;
  const char *in = dq[node->inputs[0]], *out = vname;
  guint c_in = g->values[node->inputs[0]].channels;
  Onnx__NodeProto *n;

  switch (node->op) {
    case CFQP_OP_CONV:
    case CFQP_OP_CONV_TRANSPOSE:
      if (!emit_conv (e, g, node, prog, in, out, error))
        return FALSE;
      break;
    case CFQP_OP_ACTIVATION:
      emit_activation (e, &node->act, in, out, c_in);
      break;
    case CFQP_OP_BINARY: {
      static const char *ops[] = { "Add", "Sub", "Mul", "Div" };
      const CfqpBinaryParams *bp = &node->p.binary;
      if (bp->constant) {
        gint64 dims[4] = { 1, bp->n_constant, 1, 1 };
        const char *k = init_floats (e, name_printf (e, "%s/k", vname), dims,
            bp->n_constant == 1 ? 1 : 4, bp->constant, bp->n_constant);
        node_add (e, ops[bp->kind], out, bp->constant_first ? k : in,
            bp->constant_first ? in : k, NULL);
      } else {
        node_add (e, ops[bp->kind], out, in, dq[node->inputs[1]], NULL);
      }
      break;
    }
    case CFQP_OP_CONCAT: {
      n = node_add (e, "Concat", out, NULL);
      n->n_input = node->n_inputs;
      n->input = keep (e, g_new (char *, node->n_inputs));
      for (guint k = 0; k < node->n_inputs; k++)
        n->input[k] = (char *) dq[node->inputs[k]];
      attr_int (e, n, "axis", 1);
      break;
    }
    case CFQP_OP_DEPTH_TO_SPACE:
      n = node_add (e, "DepthToSpace", out, in, NULL);
      attr_int (e, n, "blocksize", node->p.shuffle.block);
      attr_string (e, n, "mode", node->p.shuffle.mode == CFQP_D2S_CRD ? "CRD" : "DCR");
      break;
    case CFQP_OP_SPACE_TO_DEPTH:
      if (node->p.shuffle.mode == CFQP_D2S_DCR) {
        n = node_add (e, "SpaceToDepth", out, in, NULL);
        attr_int (e, n, "blocksize", node->p.shuffle.block);
      } else {
        emit_space_to_depth_crd (e, vname, in, c_in, node->p.shuffle.block, out);
      }
      break;
    case CFQP_OP_RESIZE_NEAREST: {
      float scales[4] = { 1, 1, node->p.resize.scale_h, node->p.resize.scale_w };
      gint64 four = 4;
      n = node_add (e, "Resize", out, in, "",
          init_floats (e, name_printf (e, "%s/scales", vname), &four, 1, scales, 4), NULL);
      attr_string (e, n, "mode", "nearest");
      attr_string (e, n, "coordinate_transformation_mode", "asymmetric");
      attr_string (e, n, "nearest_mode", "floor");
      break;
    }
    case CFQP_OP_TILE_CHANNELS: {
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
      break;
    }
    default:
      g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_UNSUPPORTED,
          "node '%s': %s has no QDQ export", node->name, cfqp_op_type_to_string (node->op));
      return FALSE;
  }
  if (node->op != CFQP_OP_ACTIVATION && node->act.kind != CFQP_ACT_NONE)
    out = emit_activation (e, &node->act, out, name_printf (e, "%s/act", vname),
        node->out_channels);
  dq[node->output] = emit_qdq (e, vname, out, &prog->qparams[node->output]);
  return TRUE;
}

static Onnx__ValueInfoProto *
image_value_info (Exporter *e, const char *name, guint channels, const char *h, const char *w)
{
  Onnx__ValueInfoProto *vi = NEW_MSG (e, Onnx__ValueInfoProto, ONNX__VALUE_INFO_PROTO__INIT);
  Onnx__TypeProto *tp = NEW_MSG (e, Onnx__TypeProto, ONNX__TYPE_PROTO__INIT);
  Onnx__TypeProto__Tensor *tt = NEW_MSG (e, Onnx__TypeProto__Tensor, ONNX__TYPE_PROTO__TENSOR__INIT);
  Onnx__TensorShapeProto *sh = NEW_MSG (e, Onnx__TensorShapeProto, ONNX__TENSOR_SHAPE_PROTO__INIT);

  vi->name = (char *) name;
  vi->type = tp;
  tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  tp->tensor_type = tt;
  tt->has_elem_type = TRUE;
  tt->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
  tt->shape = sh;
  sh->n_dim = 4;
  sh->dim = keep (e, g_new (Onnx__TensorShapeProto__Dimension *, 4));
  for (guint d = 0; d < 4; d++) {
    Onnx__TensorShapeProto__Dimension *dim = NEW_MSG (e, Onnx__TensorShapeProto__Dimension,
        ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT);
    if (d < 2) {
      dim->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
      dim->dim_value = d == 0 ? 1 : channels;
    } else {
      dim->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
      dim->dim_param = (char *) (d == 2 ? h : w);
    }
    sh->dim[d] = dim;
  }
  return vi;
}

gboolean
cfqp_model_export_qdq (CfqpModel *model, const CfqpQParams *qparams, const char *path,
    GError **error)
{
  const CfqpGraph *g;
  CfqpInt8Program *prog;
  Exporter e;
  g_autofree const char **dq = NULL;
  Onnx__ModelProto mp = ONNX__MODEL_PROTO__INIT;
  Onnx__GraphProto gp = ONNX__GRAPH_PROTO__INIT;
  Onnx__OperatorSetIdProto opset = ONNX__OPERATOR_SET_ID_PROTO__INIT;
  Onnx__OperatorSetIdProto *opsets[1] = { &opset };
  Onnx__ValueInfoProto *input, *output;
  g_autofree guint8 *buf = NULL;
  gsize len;
  gboolean ok = TRUE;

  g_return_val_if_fail (model != NULL && path != NULL, FALSE);
  g = model->graph;
  if (!qparams)
    qparams = cfqp_model_get_embedded_qparams (model);
  if (!qparams) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID,
        "%s: QDQ export needs quantisation parameters (a calibration) for a float model",
        model->name);
    return FALSE;
  }
  if (!(prog = cfqp_int8_program_new (g, qparams, error)))
    return FALSE;

  e.pool = g_ptr_array_new_with_free_func (g_free);
  e.nodes = g_ptr_array_new ();
  e.inits = g_ptr_array_new ();
  dq = g_new0 (const char *, g->n_values);
  dq[0] = emit_qdq (&e, g->values[0].name, g->values[0].name, &prog->qparams[0]);
  for (guint i = 0; i < g->n_nodes && ok; i++)
    ok = emit_node (&e, g, &g->nodes[i], prog, dq, error);
  cfqp_int8_program_free (prog);

  if (ok) {
    input = image_value_info (&e, g->values[0].name, g->values[0].channels, "height", "width");
    output = image_value_info (&e, dq[g->output], g->values[g->output].channels,
        "out_height", "out_width");
    gp.name = (char *) "cfqp-qdq";
    gp.n_node = e.nodes->len;
    gp.node = (Onnx__NodeProto **) e.nodes->pdata;
    gp.n_initializer = e.inits->len;
    gp.initializer = (Onnx__TensorProto **) e.inits->pdata;
    gp.n_input = 1;
    gp.input = &input;
    gp.n_output = 1;
    gp.output = &output;
    opset.domain = (char *) "";
    opset.has_version = TRUE;
    opset.version = QDQ_OPSET;
    mp.has_ir_version = TRUE;
    mp.ir_version = QDQ_IR_VERSION;
    mp.producer_name = (char *) "cfqp";
    mp.producer_version = (char *) "qdq-export";
    mp.n_opset_import = 1;
    mp.opset_import = opsets;
    mp.graph = &gp;
    len = onnx__model_proto__get_packed_size (&mp);
    buf = g_malloc (len);
    onnx__model_proto__pack (&mp, buf);
    ok = g_file_set_contents (path, (const char *) buf, (gssize) len, error);
  }
  g_ptr_array_unref (e.nodes);
  g_ptr_array_unref (e.inits);
  g_ptr_array_unref (e.pool);
  return ok;
}
