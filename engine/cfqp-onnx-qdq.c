/* ONNX import, QDQ: QuantizeLinear and DequantizeLinear.
 *
 * A Q → DQ pair on an activation is the identity that records the value's
 * uint8 parameters (graph value has_qparams); DQ of int8/int32 constants
 * folds to float weights and biases, and int8 weights with zero point 0
 * keep their scales (Sym.wscale) so the INT8 program uses the file's own
 * integers.  Everything the engine's arithmetic cannot honour is refused
 * with the node's name.  Once the model is optimised, the parameters the
 * pairs recorded become its embedded table (cfqp_graph_embedded_qparams).
 */
#include "cfqp-onnx.h"
#include "cfqp-onnx-private.h"
#include "cfqp-int8.h"

#include <math.h>

static gint32
qdq_elem_type (Importer *imp, guint k)
{
  if (k >= imp->node->n_input || !imp->node->input[k] || !*imp->node->input[k])
    return 0;
  return GPOINTER_TO_INT (g_hash_table_lookup (imp->elem_types, imp->node->input[k]));
}

void
cfqp_onnx_qdq_copy_elem_type (Importer *imp)
{
  gint32 t = qdq_elem_type (imp, 0);
  if (t)
    g_hash_table_replace (imp->elem_types, g_strdup (cfqp_onnx_output_name (imp)), GINT_TO_POINTER (t));
}

static const char *
qdq_type_name (gint32 t)
{
  switch (t) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8: return "uint8";
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT8: return "int8";
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: return "int32";
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: return "float";
    default: return "unsupported type";
  }
}

/* Scales: finite, > 0, and 1 or dims[axis] of them. */
static gboolean
qdq_check_scale (Importer *imp, const CfqpConst *scale, gsize n_axis, GError **error)
{
  if (scale->is_int || scale->ndim > 1 || (scale->n != 1 && scale->n != n_axis)) {
    cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_INVALID,
        "scale must be a float scalar or a 1-D tensor of %zu (got %zu %s elements)",
        n_axis, scale->n, scale->is_int ? "integer" : "float");
    return FALSE;
  }
  for (gsize k = 0; k < scale->n; k++)
    if (!isfinite (scale->f[k]) || scale->f[k] <= 0.f) {
      cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_INVALID,
          "scale %g is not a positive finite number", scale->f[k]);
      return FALSE;
    }
  return TRUE;
}

/* Zero points: as many as scales, integers inside their type's range. */
static gboolean
qdq_check_zero_point (Importer *imp, const CfqpConst *zp, gint32 type, gsize n, GError **error)
{
  gint64 lo, hi;

  switch (type) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8: lo = 0; hi = 255; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT8: lo = -128; hi = 127; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: lo = G_MININT32; hi = G_MAXINT32; break;
    default:
      cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED,
          "zero point of %s: only uint8, int8 (and int32 for biases) are supported",
          qdq_type_name (type));
      return FALSE;
  }
  if (!zp->is_int || zp->n != n) {
    cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_INVALID,
        "zero point must be %zu integer(s) like the scale (got %zu)", n, zp->n);
    return FALSE;
  }
  for (gsize k = 0; k < n; k++)
    if (zp->i[k].sym != CFQP_SYM_KNOWN || zp->i[k].v < lo || zp->i[k].v > hi) {
      cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_INVALID,
          "zero point %" G_GINT64_FORMAT " is out of range for %s (%" G_GINT64_FORMAT "..%"
          G_GINT64_FORMAT ")", zp->i[k].v, qdq_type_name (type), lo, hi);
      return FALSE;
    }
  return TRUE;
}

/* Axis attribute (default 1) against a rank-ndim input; -1 when out of range. */
static gint
qdq_axis (Importer *imp, guint ndim, GError **error)
{
  gint64 axis = cfqp_onnx_attr_int (imp->node, "axis", 1);
  gint a = ndim ? cfqp_onnx_normalise_axis (axis, ndim) : 0;

  if (a < 0)
    cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_INVALID,
        "axis %" G_GINT64_FORMAT " is out of range for a %u-D tensor", axis, ndim);
  return a;
}

static gsize
qdq_channel (const CfqpConst *c, gint axis, gsize e)
{
  gsize inner = 1;
  for (guint d = (guint) axis + 1; d < c->ndim; d++)
    inner *= (gsize) c->dims[d];
  return (e / inner) % (gsize) c->dims[axis];
}

/* The (scale, zero point) of a per-tensor activation Q or DQ, uint8 domain. */
static gboolean
qdq_activation_params (Importer *imp, float *scale, gint32 *zero_point, GError **error)
{
  const CfqpConst *s, *z = NULL;
  gint32 zt = cfqp_onnx_input_sym (imp, 2) ? qdq_elem_type (imp, 2) : ONNX__TENSOR_PROTO__DATA_TYPE__UINT8;

  if (!(s = cfqp_onnx_require_const (imp, 1, error)) ||
      (cfqp_onnx_input_sym (imp, 2) && !(z = cfqp_onnx_require_const (imp, 2, error))))
    return FALSE;
  if (s->n != 1) {
    cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED,
        "per-channel quantisation of an activation is not supported (uint8 per tensor)");
    return FALSE;
  }
  if (!qdq_check_scale (imp, s, 1, error))
    return FALSE;
  if (zt == ONNX__TENSOR_PROTO__DATA_TYPE__INT32) {
    /* an int32 activation is no uint8 grid: say so by its value */
    if (z && z->is_int && z->n == 1 && (z->i[0].v < 0 || z->i[0].v > 255)) {
      cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_INVALID,
          "zero point %" G_GINT64_FORMAT " is out of range for a uint8 activation (0..255)",
          z->i[0].v);
      return FALSE;
    }
    cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED,
        "int32 activations are not supported (uint8 or int8)");
    return FALSE;
  }
  if (zt == 0)
    zt = ONNX__TENSOR_PROTO__DATA_TYPE__UINT8;
  if (z && !qdq_check_zero_point (imp, z, zt, 1, error))
    return FALSE;
  *scale = s->f[0];
  /* int8 activations are uint8 ones shifted by 128: same reals */
  *zero_point = (z ? (gint32) z->i[0].v : 0) + (zt == ONNX__TENSOR_PROTO__DATA_TYPE__INT8 ? 128 : 0);
  return TRUE;
}

gboolean
cfqp_onnx_op_quantize_linear (Importer *imp, GError **error)
{
  const Sym *x;
  Sym *r;

  if (!cfqp_onnx_require_input (imp, 0, &x, error))
    return FALSE;
  if (x->kind == SYM_CONST && !x->konst->is_int) {
    /* float weights quantised in the graph: fold with the file's rounding
     * (half to even) and saturation */
    const CfqpConst *s, *z = NULL;
    gint32 zt = cfqp_onnx_input_sym (imp, 2) ? qdq_elem_type (imp, 2)
                                             : ONNX__TENSOR_PROTO__DATA_TYPE__UINT8;
    gint axis;
    gsize n_axis;
    CfqpConst *q;

    if (!(s = cfqp_onnx_require_const (imp, 1, error)) ||
        (cfqp_onnx_input_sym (imp, 2) && !(z = cfqp_onnx_require_const (imp, 2, error))) ||
        (axis = qdq_axis (imp, x->konst->ndim, error)) < 0)
      return FALSE;
    n_axis = x->konst->ndim ? (gsize) x->konst->dims[axis] : 1;
    if (zt == 0)
      zt = ONNX__TENSOR_PROTO__DATA_TYPE__UINT8;
    if (!qdq_check_scale (imp, s, n_axis, error) ||
        (z && !qdq_check_zero_point (imp, z, zt, s->n, error)))
      return FALSE;
    if (zt == ONNX__TENSOR_PROTO__DATA_TYPE__INT32) {
      cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED, "QuantizeLinear to int32");
      return FALSE;
    }
    /* held as floats (exact), as large int8 initializers are */
    q = cfqp_const_new_float (x->konst->ndim, x->konst->dims);
    for (gsize e = 0; e < q->n; e++) {
      gsize c = s->n == 1 ? 0 : qdq_channel (x->konst, axis, e);
      double v = nearbyint ((double) x->konst->f[e] / s->f[c]) + (z ? z->i[c].v : 0);
      q->f[e] = zt == ONNX__TENSOR_PROTO__DATA_TYPE__INT8 ? (float) CLAMP (v, -128, 127)
                                                         : (float) CLAMP (v, 0, 255);
    }
    cfqp_onnx_define_const (imp, q);
    g_hash_table_replace (imp->elem_types, g_strdup (cfqp_onnx_output_name (imp)), GINT_TO_POINTER (zt));
    return TRUE;
  }
  if (x->kind != SYM_ACT) {
    cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED,
        "input '%s' must be an activation or a float constant", imp->node->input[0]);
    return FALSE;
  }
  r = g_new0 (Sym, 1);
  r->kind = SYM_QUANTIZED;
  r->value = x->value;
  if (!qdq_activation_params (imp, &r->q_scale, &r->q_zero_point, error)) {
    g_free (r);
    return FALSE;
  }
  cfqp_onnx_define (imp, r);
  return TRUE;
}

gboolean
cfqp_onnx_op_dequantize_linear (Importer *imp, GError **error)
{
  const Sym *x;

  if (!cfqp_onnx_require_input (imp, 0, &x, error))
    return FALSE;
  if (x->kind == SYM_QUANTIZED) {
    CfqpValueInfo *v = &imp->graph->values[x->value];
    float scale;
    gint32 zp;

    if (!qdq_activation_params (imp, &scale, &zp, error))
      return FALSE;
    if (scale != x->q_scale || zp != x->q_zero_point) {
      cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED,
          "parameters (%g, %d) differ from those of its QuantizeLinear (%g, %d)",
          scale, zp, x->q_scale, x->q_zero_point);
      return FALSE;
    }
    if (v->has_qparams && (v->q_scale != scale || v->q_zero_point != zp)) {
      cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED,
          "tensor '%s' is quantised twice, with (%g, %d) and (%g, %d)", v->name,
          v->q_scale, v->q_zero_point, scale, zp);
      return FALSE;
    }
    v->has_qparams = TRUE;
    v->q_scale = scale;
    v->q_zero_point = zp;
    cfqp_onnx_define_act (imp, x->value);
    return TRUE;
  }
  if (x->kind == SYM_CONST && (x->konst->is_int ||
        qdq_elem_type (imp, 0) == ONNX__TENSOR_PROTO__DATA_TYPE__INT8 ||
        qdq_elem_type (imp, 0) == ONNX__TENSOR_PROTO__DATA_TYPE__UINT8)) {
    const CfqpConst *c = x->konst, *s, *z = NULL;
    gint32 xt = qdq_elem_type (imp, 0), zt = cfqp_onnx_input_sym (imp, 2) ? qdq_elem_type (imp, 2) : 0;
    gboolean symmetric = TRUE;
    gint axis;
    gsize n_axis;
    CfqpConst *f;
    Sym *r;

    if (!xt)
      xt = zt ? zt : ONNX__TENSOR_PROTO__DATA_TYPE__INT8;
    if (!zt)
      zt = xt;
    if (xt != ONNX__TENSOR_PROTO__DATA_TYPE__INT8 && xt != ONNX__TENSOR_PROTO__DATA_TYPE__UINT8 &&
        xt != ONNX__TENSOR_PROTO__DATA_TYPE__INT32) {
      cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED,
          "input '%s' is %s: only int8, uint8 and int32 constants are dequantised",
          imp->node->input[0], qdq_type_name (xt));
      return FALSE;
    }
    if (zt != xt) {
      cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_INVALID,
          "zero point is %s but the input is %s", qdq_type_name (zt), qdq_type_name (xt));
      return FALSE;
    }
    if (!(s = cfqp_onnx_require_const (imp, 1, error)) ||
        (cfqp_onnx_input_sym (imp, 2) && !(z = cfqp_onnx_require_const (imp, 2, error))) ||
        (axis = qdq_axis (imp, c->ndim, error)) < 0)
      return FALSE;
    n_axis = c->ndim ? (gsize) c->dims[axis] : 1;
    if (!qdq_check_scale (imp, s, n_axis, error) ||
        (z && !qdq_check_zero_point (imp, z, zt, s->n, error)))
      return FALSE;
    f = cfqp_const_new_float (c->ndim, c->dims);
    for (gsize e = 0; e < c->n; e++) {
      gsize ch = s->n == 1 ? 0 : qdq_channel (c, axis, e);
      gint64 zv = z ? z->i[ch].v : 0;
      if (c->is_int && c->i[e].sym != CFQP_SYM_KNOWN) {
        cfqp_const_free (f);
        cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_INVALID, "input is not a constant tensor");
        return FALSE;
      }
      f->f[e] = (float) (((c->is_int ? (double) c->i[e].v : (double) c->f[e]) - zv) * s->f[ch]);
    }
    for (gsize k = 0; z && k < z->n; k++)
      symmetric = symmetric && z->i[k].v == 0;
    r = g_new0 (Sym, 1);
    r->kind = SYM_CONST;
    r->konst = f;
    if (xt == ONNX__TENSOR_PROTO__DATA_TYPE__INT8 && symmetric) {
      r->wscale = g_memdup2 (s->f, s->n * sizeof (float));
      r->n_wscale = (guint) s->n;
      r->wscale_axis = axis;
    }
    cfqp_onnx_define (imp, r);
    return TRUE;
  }
  if (x->kind == SYM_CONST) {
    cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_INVALID, "input '%s' is already a float tensor",
        imp->node->input[0]);
    return FALSE;
  }
  cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED,
      "input '%s' does not come from a QuantizeLinear (only float models with Q/DQ pairs)",
      imp->node->input[0]);
  return FALSE;
}

/* After a Conv/ConvTranspose took its weights: when they came from DQ of
 * int8 with zero point 0, per output channel (or per tensor), keep the
 * scales.  Anything else (input-channel axis, grouped transposed
 * per-channel) just stays float weights, quantised by the engine's rule. */
void
cfqp_onnx_qdq_keep_weight_scale (Importer *imp, CfqpConvParams *cp, gboolean transpose)
{
  const Sym *w = cfqp_onnx_input_sym (imp, 1);
  guint oc_n = cp->out_channels;

  if (!w || !w->wscale)
    return;
  if (w->n_wscale == 1) {
    cp->weight_scale = g_new (float, oc_n);
    for (guint oc = 0; oc < oc_n; oc++)
      cp->weight_scale[oc] = w->wscale[0];
  } else if ((!transpose && w->wscale_axis == 0 && w->n_wscale == oc_n) ||
      (transpose && cp->groups == 1 && w->wscale_axis == 1 && w->n_wscale == oc_n)) {
    cp->weight_scale = g_memdup2 (w->wscale, oc_n * sizeof (float));
  }
}

/* The table a QDQ model's own Q/DQ pairs give: one entry per tensor of the
 * optimised graph; derived tensors (input, output, data moves) resolved
 * when the file left them out; NULL when no tensor has parameters. */
CfqpQParams *
cfqp_graph_embedded_qparams (const CfqpGraph *g)
{
  CfqpQParams *table, *resolved;
  g_autofree gboolean *derived = NULL;
  gboolean any = FALSE;

  for (guint v = 0; v < g->n_values; v++)
    any = any || g->values[v].has_qparams;
  if (!any)
    return NULL;
  table = g_new0 (CfqpQParams, g->n_values);
  resolved = g_new0 (CfqpQParams, g->n_values);
  derived = g_new0 (gboolean, g->n_values);
  for (guint v = 0; v < g->n_values; v++)
    if (g->values[v].has_qparams) {
      table[v].scale = g->values[v].q_scale;
      table[v].zero_point = g->values[v].q_zero_point;
    }
  cfqp_int8_resolve_qparams (g, table, resolved, derived);
  for (guint v = 0; v < g->n_values; v++)
    if (derived[v])
      table[v] = resolved[v];
  g_free (resolved);
  return table;
}
