/* ONNX import, the ops that become graph nodes: Conv, ConvTranspose, the
 * activations, Add/Sub/Mul/Div, Concat, DepthToSpace and SpaceToDepth.
 * Each handler checks every attribute and refuses what the engine does
 * not run, naming the node.
 */
#include "cfqp-onnx-private.h"

#include <math.h>
#include <string.h>

/* The part Conv and ConvTranspose share once their attributes are checked:
 * the pad bounds, the node, its geometry, weights and bias. */
static CfqpConvParams *
add_conv_node (Importer *imp, CfqpOpType op, guint x, gint64 ic, gint64 oc, gint64 group,
    const CfqpConst *w, const CfqpConst *b, const gint64 *strides, const gint64 *dil,
    const gint64 *pads, GError **error)
{
  CfqpConvParams *cp;

  for (guint k = 0; k < 4; k++)
    if (pads[k] < 0 || pads[k] > 64) {
      cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED, "pad %" G_GINT64_FORMAT
          " out of range", pads[k]);
      return NULL;
    }
  cp = &cfqp_onnx_add_node (imp, op, &x, 1, (guint) oc)->p.conv;
  cp->in_channels = (guint) ic;
  cp->out_channels = (guint) oc;
  cp->groups = (guint) group;
  cp->kernel_h = (guint) w->dims[2];
  cp->kernel_w = (guint) w->dims[3];
  cp->stride_h = (guint) strides[0];
  cp->stride_w = (guint) strides[1];
  cp->dilation_h = (guint) dil[0];
  cp->dilation_w = (guint) dil[1];
  cp->pad_t = (guint) pads[0];
  cp->pad_l = (guint) pads[1];
  cp->pad_b = (guint) pads[2];
  cp->pad_r = (guint) pads[3];
  if (!(cp->weight = cfqp_onnx_take_weights (imp, w, error)))
    return NULL;
  if (b && !(cp->bias = cfqp_onnx_take_weights (imp, b, error)))
    return NULL;
  cfqp_onnx_qdq_keep_weight_scale (imp, cp, op == CFQP_OP_CONV_TRANSPOSE);
  return cp;
}

gboolean
cfqp_onnx_op_conv (Importer *imp, GError **error)
{
  const Onnx__NodeProto *node = imp->node;
  const CfqpConst *w, *b = NULL;
  gint64 strides[2] = { 1, 1 }, dil[2] = { 1, 1 }, pads[4] = { 0, 0, 0, 0 }, ks[2];
  gint64 group = cfqp_onnx_attr_int (node, "group", 1), ic;
  guint x;
  CfqpConvParams *cp;

  if (!cfqp_onnx_require_act (imp, 0, &x, error) || !(w = cfqp_onnx_require_const (imp, 1, error)))
    return FALSE;
  if (cfqp_onnx_input_sym (imp, 2) && !(b = cfqp_onnx_require_const (imp, 2, error)))
    return FALSE;
  if (w->ndim != 4) {
    cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED, "only 2-D convolutions are supported");
    return FALSE;
  }
  if (!cfqp_onnx_check_channels (imp, w->dims[0], error))
    return FALSE;
  ic = cfqp_onnx_act_channels (imp, x);
  if (group < 1 || w->dims[0] % group || w->dims[1] * group != ic) {
    cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_INVALID,
        "weights [%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT ",…] with group %" G_GINT64_FORMAT
        " do not fit %" G_GINT64_FORMAT " input channels", w->dims[0], w->dims[1], group, ic);
    return FALSE;
  }
  if (w->dims[2] < 1 || w->dims[3] < 1 || w->dims[2] > CFQP_MAX_KERNEL ||
      w->dims[3] > CFQP_MAX_KERNEL) {
    cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_LIMIT, "kernel %" G_GINT64_FORMAT "×%"
        G_GINT64_FORMAT " (at most %d)", w->dims[2], w->dims[3], CFQP_MAX_KERNEL);
    return FALSE;
  }
  if (cfqp_onnx_attr_ints (node, "kernel_shape", ks, 2) == 2 &&
      (ks[0] != w->dims[2] || ks[1] != w->dims[3])) {
    cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_INVALID, "kernel_shape disagrees with the weights");
    return FALSE;
  }
  if (b && b->n != (gsize) w->dims[0]) {
    cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_INVALID, "bias has %zu elements for %"
        G_GINT64_FORMAT " outputs", b->n, w->dims[0]);
    return FALSE;
  }
  if (cfqp_onnx_attr_ints (node, "strides", strides, 2) == -2 ||
      cfqp_onnx_attr_ints (node, "dilations", dil, 2) == -2 ||
      cfqp_onnx_attr_ints (node, "pads", pads, 4) == -2 ||
      strides[0] < 1 || strides[1] < 1 || strides[0] > 8 || strides[1] > 8 ||
      dil[0] < 1 || dil[1] < 1 || dil[0] > CFQP_MAX_KERNEL || dil[1] > CFQP_MAX_KERNEL) {
    cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED, "strides/dilations/pads out of range");
    return FALSE;
  }
  if (!(cp = add_conv_node (imp, CFQP_OP_CONV, x, ic, w->dims[0], group, w, b, strides, dil,
          pads, error)))
    return FALSE;
  if (cfqp_onnx_attr_string_is (node, "auto_pad", "NOTSET", "SAME_UPPER"))
    cp->auto_pad = 1;
  else if (cfqp_onnx_attr_string_is (node, "auto_pad", "NOTSET", "SAME_LOWER"))
    cp->auto_pad = 2;
  else if (cfqp_onnx_attr_string_is (node, "auto_pad", "NOTSET", "VALID"))
    cp->pad_t = cp->pad_l = cp->pad_b = cp->pad_r = 0;
  return TRUE;
}

gboolean
cfqp_onnx_op_conv_transpose (Importer *imp, GError **error)
{
  const Onnx__NodeProto *node = imp->node;
  const CfqpConst *w, *b = NULL;
  gint64 strides[2] = { 1, 1 }, dil[2] = { 1, 1 }, pads[4] = { 0, 0, 0, 0 }, opad[2] = { 0, 0 };
  gint64 group = cfqp_onnx_attr_int (node, "group", 1), ic, oc, tmp[4];
  guint x;
  CfqpConvParams *cp;

  if (!cfqp_onnx_require_act (imp, 0, &x, error) || !(w = cfqp_onnx_require_const (imp, 1, error)))
    return FALSE;
  if (cfqp_onnx_input_sym (imp, 2) && !(b = cfqp_onnx_require_const (imp, 2, error)))
    return FALSE;
  if (w->ndim != 4) {
    cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED, "only 2-D transposed convolutions");
    return FALSE;
  }
  ic = cfqp_onnx_act_channels (imp, x);
  oc = w->dims[1] * group;
  if (group < 1 || w->dims[0] != ic || ic % group || !cfqp_onnx_check_channels (imp, oc, error)) {
    if (error && !*error)
      cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_INVALID, "weights do not fit %" G_GINT64_FORMAT
          " input channels with group %" G_GINT64_FORMAT, ic, group);
    return FALSE;
  }
  if (w->dims[2] < 1 || w->dims[3] < 1 || w->dims[2] > CFQP_MAX_KERNEL || w->dims[3] > CFQP_MAX_KERNEL) {
    cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_LIMIT, "kernel too large");
    return FALSE;
  }
  if (b && b->n != (gsize) oc) {
    cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_INVALID, "bias size mismatch");
    return FALSE;
  }
  if (cfqp_onnx_attr_ints (node, "output_shape", tmp, 4) != -1 ||
      !(cfqp_onnx_attr_string_is (node, "auto_pad", "NOTSET", "NOTSET") ||
        cfqp_onnx_attr_string_is (node, "auto_pad", "NOTSET", "VALID"))) {
    cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED,
        "output_shape and SAME auto_pad are not supported (use pads/output_padding)");
    return FALSE;
  }
  if (cfqp_onnx_attr_ints (node, "strides", strides, 2) == -2 ||
      cfqp_onnx_attr_ints (node, "dilations", dil, 2) == -2 ||
      cfqp_onnx_attr_ints (node, "pads", pads, 4) == -2 ||
      cfqp_onnx_attr_ints (node, "output_padding", opad, 2) == -2 ||
      strides[0] < 1 || strides[1] < 1 || strides[0] > 8 || strides[1] > 8 || dil[0] < 1 ||
      dil[1] < 1 || dil[0] > 8 || dil[1] > 8 || opad[0] < 0 || opad[1] < 0 ||
      opad[0] >= MAX (strides[0], dil[0]) || opad[1] >= MAX (strides[1], dil[1])) {
    cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED,
        "strides/dilations/output_padding out of range");
    return FALSE;
  }
  if (!(cp = add_conv_node (imp, CFQP_OP_CONV_TRANSPOSE, x, ic, oc, group, w, b, strides, dil,
          pads, error)))
    return FALSE;
  if (cfqp_onnx_attr_string_is (node, "auto_pad", "NOTSET", "VALID"))
    cp->pad_t = cp->pad_l = cp->pad_b = cp->pad_r = 0;
  cp->output_pad_h = (guint) opad[0];
  cp->output_pad_w = (guint) opad[1];
  return TRUE;
}

/* Relu, LeakyRelu, PRelu, Clip: a standalone activation node; the fusion
 * pass moves it into its producer. */
gboolean
cfqp_onnx_op_activation (Importer *imp, GError **error)
{
  const char *type = imp->node->op_type;
  CfqpActivation act = { CFQP_ACT_NONE, 0, -INFINITY, INFINITY, NULL, 0 };
  const Sym *s;
  guint x;
  CfqpNode *n;

  if (!cfqp_onnx_require_input (imp, 0, &s, error))
    return FALSE;
  if (!strcmp (type, "Relu")) {
    act.kind = CFQP_ACT_RELU;
  } else if (!strcmp (type, "LeakyRelu")) {
    act.kind = CFQP_ACT_LEAKY_RELU;
    act.alpha = cfqp_onnx_attr_float (imp->node, "alpha", 0.01f);
  } else if (!strcmp (type, "Clip")) {
    act.kind = CFQP_ACT_CLIP;
    if (imp->opset < 11) {
      act.lo = cfqp_onnx_attr_float (imp->node, "min", -INFINITY);
      act.hi = cfqp_onnx_attr_float (imp->node, "max", INFINITY);
    } else {
      for (guint k = 1; k <= 2; k++) {
        const CfqpConst *c;
        double v;
        if (!cfqp_onnx_input_sym (imp, k))
          continue;
        if (!(c = cfqp_onnx_require_const (imp, k, error)))
          return FALSE;
        if (c->n != 1 || !cfqp_const_get_known (c, 0, &v)) {
          cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED, "bounds must be scalars");
          return FALSE;
        }
        if (k == 1) act.lo = (float) v; else act.hi = (float) v;
      }
    }
  } else { /* PRelu */
    const CfqpConst *slope;
    act.kind = CFQP_ACT_PRELU;
    if (s->kind != SYM_ACT) {
      cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED, "PRelu of a constant");
      return FALSE;
    }
    if (!(slope = cfqp_onnx_require_const (imp, 1, error)) ||
        !cfqp_onnx_channel_constant (imp, slope, cfqp_onnx_act_channels (imp, s->value), &act.slopes,
            &act.n_slopes, error))
      return FALSE;
  }

  if (s->kind == SYM_CONST && !s->konst->is_int) {
    CfqpConst *r = cfqp_const_copy (s->konst);
    for (gsize k = 0; k < r->n; k++)
      r->f[k] = cfqp_activation_apply (&act, 0, r->f[k]);
    cfqp_onnx_define_const (imp, r);
    return TRUE;
  }
  if (!cfqp_onnx_require_act (imp, 0, &x, error)) {
    cfqp_activation_clear (&act);
    return FALSE;
  }
  n = cfqp_onnx_add_node (imp, CFQP_OP_ACTIVATION, &x, 1, cfqp_onnx_act_channels (imp, x));
  n->act = act;
  return TRUE;
}

gboolean
cfqp_onnx_op_binary (Importer *imp, GError **error)
{
  const char *type = imp->node->op_type;
  CfqpBinaryKind kind = !strcmp (type, "Add") ? CFQP_BINARY_ADD
      : !strcmp (type, "Sub") ? CFQP_BINARY_SUB
      : !strcmp (type, "Mul") ? CFQP_BINARY_MUL : CFQP_BINARY_DIV;
  const Sym *a, *b;
  CfqpNode *n;

  if (!cfqp_onnx_require_input (imp, 0, &a, error) || !cfqp_onnx_require_input (imp, 1, &b, error))
    return FALSE;
  if (a->kind == SYM_CONST && b->kind == SYM_CONST) {
    CfqpConst *r = cfqp_onnx_fold_binary (type, a->konst, b->konst);
    if (!r) {
      cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_INVALID, "constant shapes do not broadcast");
      return FALSE;
    }
    cfqp_onnx_define_const (imp, r);
    return TRUE;
  }
  if (a->kind == SYM_ACT && b->kind == SYM_ACT) {
    guint in[2] = { a->value, b->value };
    guint ca = cfqp_onnx_act_channels (imp, a->value), cb = cfqp_onnx_act_channels (imp, b->value);
    if (ca != cb && ca != 1 && cb != 1) {
      cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_INVALID,
          "operands have %u and %u channels", ca, cb);
      return FALSE;
    }
    n = cfqp_onnx_add_node (imp, CFQP_OP_BINARY, in, 2, MAX (ca, cb));
    n->p.binary.kind = kind;
    return TRUE;
  }
  if ((a->kind == SYM_ACT && b->kind == SYM_CONST) || (a->kind == SYM_CONST && b->kind == SYM_ACT)) {
    const Sym *act = a->kind == SYM_ACT ? a : b, *k = a->kind == SYM_ACT ? b : a;
    guint channels = cfqp_onnx_act_channels (imp, act->value);
    float *values;
    guint n_values;

    if (!cfqp_onnx_channel_constant (imp, k->konst, channels, &values, &n_values, error))
      return FALSE;
    n = cfqp_onnx_add_node (imp, CFQP_OP_BINARY, &act->value, 1, channels);
    n->p.binary.kind = kind;
    n->p.binary.constant = values;
    n->p.binary.n_constant = n_values;
    n->p.binary.constant_first = a->kind == SYM_CONST;
    return TRUE;
  }
  cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED, "operand is a reshaped view");
  return FALSE;
}

gboolean
cfqp_onnx_op_concat (Importer *imp, GError **error)
{
  const Onnx__NodeProto *node = imp->node;
  gint64 axis = cfqp_onnx_attr_int (node, "axis", 1);
  guint n_in = (guint) node->n_input, n_act = 0, channels = 0;
  g_autofree const CfqpConst **parts = NULL;
  g_autofree guint *values = NULL;

  if (n_in == 0) {
    cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_INVALID, "no inputs");
    return FALSE;
  }
  if (n_in > CFQP_MAX_CHANNELS) {
    cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_LIMIT, "%u inputs (at most %d)", n_in,
        CFQP_MAX_CHANNELS);
    return FALSE;
  }
  parts = g_new0 (const CfqpConst *, n_in);
  values = g_new0 (guint, n_in);
  for (guint k = 0; k < n_in; k++) {
    const Sym *s;
    if (!cfqp_onnx_require_input (imp, k, &s, error))
      return FALSE;
    if (s->kind == SYM_ACT) {
      values[n_act++] = s->value;
      channels += cfqp_onnx_act_channels (imp, s->value);
    } else if (s->kind == SYM_CONST) {
      parts[k] = s->konst;
    } else {
      cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED, "operand is a reshaped view");
      return FALSE;
    }
  }
  if (n_act == 0) {
    CfqpConst *r = cfqp_onnx_fold_concat (parts, n_in, axis);
    if (!r) {
      cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_INVALID, "constant shapes do not concatenate");
      return FALSE;
    }
    cfqp_onnx_define_const (imp, r);
    return TRUE;
  }
  if (n_act != n_in || cfqp_onnx_normalise_axis (axis, 4) != 1) {
    cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED,
        "only concatenation of activations along channels (axis 1) is supported");
    return FALSE;
  }
  if (!cfqp_onnx_check_channels (imp, channels, error))
    return FALSE;
  cfqp_onnx_add_node (imp, CFQP_OP_CONCAT, values, n_act, channels);
  return TRUE;
}

gboolean
cfqp_onnx_op_depth_to_space (Importer *imp, GError **error)
{
  gint64 block = cfqp_onnx_attr_int (imp->node, "blocksize", 0);
  gboolean crd = cfqp_onnx_attr_string_is (imp->node, "mode", "DCR", "CRD");
  guint x, c;
  CfqpNode *n;

  if (!cfqp_onnx_require_act (imp, 0, &x, error))
    return FALSE;
  c = cfqp_onnx_act_channels (imp, x);
  if (block < 1 || block > CFQP_MAX_SCALE * 2 || c % (block * block)) {
    cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_INVALID, "blocksize %" G_GINT64_FORMAT
        " does not divide %u channels", block, c);
    return FALSE;
  }
  n = cfqp_onnx_add_node (imp, CFQP_OP_DEPTH_TO_SPACE, &x, 1, c / (guint) (block * block));
  n->p.shuffle.block = (guint) block;
  n->p.shuffle.mode = crd ? CFQP_D2S_CRD : CFQP_D2S_DCR;
  return TRUE;
}

gboolean
cfqp_onnx_op_space_to_depth (Importer *imp, GError **error)
{
  gint64 block = cfqp_onnx_attr_int (imp->node, "blocksize", 0);
  guint x;
  CfqpNode *n;

  if (!cfqp_onnx_require_act (imp, 0, &x, error))
    return FALSE;
  if (block < 1 || block > CFQP_MAX_SCALE * 2 ||
      !cfqp_onnx_check_channels (imp, cfqp_onnx_act_channels (imp, x) * block * block, error)) {
    if (error && !*error)
      cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_INVALID, "blocksize %" G_GINT64_FORMAT, block);
    return FALSE;
  }
  n = cfqp_onnx_add_node (imp, CFQP_OP_SPACE_TO_DEPTH, &x, 1,
      cfqp_onnx_act_channels (imp, x) * block * block);
  n->p.shuffle.block = (guint) block;
  n->p.shuffle.mode = CFQP_D2S_DCR;
  return TRUE;
}
