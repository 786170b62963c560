/* ONNX import, constants and shape-only ops: Identity, Dropout, Cast,
 * Constant, ConstantOfShape, Shape, Gather, Squeeze/Unsqueeze of constants
 * and Slice.  They fold to constants (or symbolic integers) and never
 * become graph nodes.
 */
#include "cfqp-onnx-private.h"

#include <string.h>

gboolean
cfqp_onnx_op_identity (Importer *imp, GError **error)
{
  const Sym *s;
  Sym *copy;

  if (!cfqp_onnx_require_input (imp, 0, &s, error))
    return FALSE;
  copy = g_memdup2 (s, sizeof (Sym));
  copy->konst = s->konst ? cfqp_const_copy (s->konst) : NULL;
  copy->wscale = s->wscale ? g_memdup2 (s->wscale, s->n_wscale * sizeof (float)) : NULL;
  cfqp_onnx_define (imp, copy);
  cfqp_onnx_qdq_copy_elem_type (imp);
  return TRUE;
}

gboolean
cfqp_onnx_op_cast (Importer *imp, GError **error)
{
  const Sym *s;
  gint64 to = cfqp_onnx_attr_int (imp->node, "to", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT);
  gboolean to_float = to == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT ||
      to == ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE;
  CfqpConst *r;

  if (!cfqp_onnx_require_input (imp, 0, &s, error))
    return FALSE;
  if (s->kind != SYM_CONST) {
    if (s->kind == SYM_ACT && to_float)
      return cfqp_onnx_op_identity (imp, error);
    cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED, "cast of an activation to type %"
        G_GINT64_FORMAT, to);
    return FALSE;
  }
  if (s->konst->is_int == !to_float) {
    cfqp_onnx_define_const (imp, cfqp_const_copy (s->konst));
    return TRUE;
  }
  if (to_float) {
    r = cfqp_const_new_float (s->konst->ndim, s->konst->dims);
    for (gsize k = 0; k < r->n; k++) {
      double v;
      if (!cfqp_const_get_known (s->konst, k, &v)) {
        cfqp_const_free (r);
        cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED,
            "float value depends on the frame size");
        return FALSE;
      }
      r->f[k] = (float) v;
    }
  } else {
    if (s->konst->n > CFQP_CONST_MAX_INTS) {
      cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_LIMIT, "integer tensor too large");
      return FALSE;
    }
    r = cfqp_const_new_int (s->konst->ndim, s->konst->dims);
    for (gsize k = 0; k < r->n; k++)
      r->i[k].v = (gint64) s->konst->f[k];
  }
  cfqp_onnx_define_const (imp, r);
  return TRUE;
}

gboolean
cfqp_onnx_op_constant (Importer *imp, GError **error)
{
  const Onnx__NodeProto *node = imp->node;
  const Onnx__AttributeProto *a;
  CfqpConst *c = NULL;
  gint64 n;

  if ((a = cfqp_onnx_find_attr (node, "value")) && a->t) {
    c = cfqp_const_from_tensor (a->t, error);
    if (!c) {
      g_prefix_error (error, "node '%s' (Constant): ", imp->node_name);
      return FALSE;
    }
    g_hash_table_replace (imp->elem_types, g_strdup (cfqp_onnx_output_name (imp)),
        GINT_TO_POINTER (a->t->data_type));
  } else if ((a = cfqp_onnx_find_attr (node, "value_float")) && a->has_f) {
    c = cfqp_const_new_float (0, NULL);
    c->f[0] = a->f;
  } else if ((a = cfqp_onnx_find_attr (node, "value_int")) && a->has_i) {
    c = cfqp_const_new_int (0, NULL);
    c->i[0].v = a->i;
  } else if ((a = cfqp_onnx_find_attr (node, "value_floats"))) {
    n = a->n_floats;
    c = cfqp_const_new_float (1, &n);
    memcpy (c->f, a->floats, n * sizeof (float));
  } else if ((a = cfqp_onnx_find_attr (node, "value_ints")) && a->n_ints <= CFQP_CONST_MAX_INTS) {
    n = a->n_ints;
    c = cfqp_const_new_int (1, &n);
    for (gint64 k = 0; k < n; k++)
      c->i[k].v = a->ints[k];
  } else {
    cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED, "no supported value attribute");
    return FALSE;
  }
  cfqp_onnx_define_const (imp, c);
  return TRUE;
}

gboolean
cfqp_onnx_op_constant_of_shape (Importer *imp, GError **error)
{
  const CfqpConst *shape = cfqp_onnx_require_const (imp, 0, error);
  const Onnx__AttributeProto *a = cfqp_onnx_find_attr (imp->node, "value");
  gint64 dims[CFQP_CONST_MAX_DIMS];
  g_autoptr (GError) inner = NULL;
  CfqpConst *value = NULL, *r;

  if (!shape)
    return FALSE;
  if (!cfqp_const_ints (shape, dims, CFQP_CONST_MAX_DIMS)) {
    cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED, "shape depends on the frame size");
    return FALSE;
  }
  if (a && a->t && !(value = cfqp_const_from_tensor (a->t, &inner))) {
    cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_PARSE, "%s", inner->message);
    return FALSE;
  }
  for (gsize d = 0; d < shape->n; d++)
    if (dims[d] < 0 || dims[d] > CFQP_CONST_MAX_INTS) {
      cfqp_const_free (value);
      cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_LIMIT, "shape out of bounds");
      return FALSE;
    }
  r = (value && value->is_int) ? cfqp_const_new_int (shape->n, dims)
                               : cfqp_const_new_float (shape->n, dims);
  if (r->n > CFQP_CONST_MAX_INTS) {
    cfqp_const_free (value);
    cfqp_const_free (r);
    cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_LIMIT, "constant too large");
    return FALSE;
  }
  for (gsize k = 0; k < r->n; k++) {
    if (r->is_int)
      r->i[k].v = value->i[0].v;
    else
      r->f[k] = value ? value->f[0] : 0.f;
  }
  cfqp_const_free (value);
  cfqp_onnx_define_const (imp, r);
  return TRUE;
}

gboolean
cfqp_onnx_op_shape (Importer *imp, GError **error)
{
  const Sym *s;
  gint64 four = 4, start = cfqp_onnx_attr_int (imp->node, "start", 0),
      end = cfqp_onnx_attr_int (imp->node, "end", 4);
  CfqpConst *full, *r;
  gint64 n;

  if (!cfqp_onnx_require_input (imp, 0, &s, error))
    return FALSE;
  if (s->kind == SYM_CONST) {
    gint64 nd = s->konst->ndim;
    full = cfqp_const_new_int (1, &nd);
    for (gint64 d = 0; d < nd; d++)
      full->i[d].v = s->konst->dims[d];
    four = nd;
  } else if (s->kind == SYM_ACT) {
    full = cfqp_const_new_int (1, &four);
    full->i[0].v = 1;
    full->i[1].v = cfqp_onnx_act_channels (imp, s->value);
    for (guint d = 2; d < 4; d++) {
      full->i[d].sym = (gint32) s->value;
      full->i[d].axis = d;
    }
  } else {
    cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED, "shape of a reshaped activation");
    return FALSE;
  }
  if (start < 0) start += four;
  if (end < 0) end += four;
  start = CLAMP (start, 0, four);
  end = CLAMP (end, start, four);
  n = end - start;
  r = cfqp_const_new_int (1, &n);
  memcpy (r->i, full->i + start, n * sizeof (CfqpSymInt));
  cfqp_const_free (full);
  cfqp_onnx_define_const (imp, r);
  return TRUE;
}

gboolean
cfqp_onnx_op_gather (Importer *imp, GError **error)
{
  const CfqpConst *data = cfqp_onnx_require_const (imp, 0, error), *idx;
  gint64 indices[64];
  CfqpConst *r;

  if (!data || !(idx = cfqp_onnx_require_const (imp, 1, error)))
    return FALSE;
  if (data->ndim != 1 || cfqp_onnx_normalise_axis (cfqp_onnx_attr_int (imp->node, "axis", 0), 1) != 0 ||
      !cfqp_const_ints (idx, indices, G_N_ELEMENTS (indices))) {
    cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED,
        "only gathers from 1-D constants (shape chains) are supported");
    return FALSE;
  }
  r = data->is_int ? cfqp_const_new_int (idx->ndim, idx->dims)
                   : cfqp_const_new_float (idx->ndim, idx->dims);
  for (gsize k = 0; k < idx->n; k++) {
    gint64 i = indices[k] < 0 ? indices[k] + (gint64) data->n : indices[k];
    if (i < 0 || i >= (gint64) data->n) {
      cfqp_const_free (r);
      cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_INVALID, "index %" G_GINT64_FORMAT
          " out of range", indices[k]);
      return FALSE;
    }
    if (r->is_int)
      r->i[k] = data->i[i];
    else
      r->f[k] = data->f[i];
  }
  cfqp_onnx_define_const (imp, r);
  return TRUE;
}

/* axes from the attribute (old opsets) or the second input (opset 13+) */
gint
cfqp_onnx_get_axes (Importer *imp, gint64 *axes, GError **error)
{
  gint n = cfqp_onnx_attr_ints (imp->node, "axes", axes, CFQP_CONST_MAX_DIMS);
  const Sym *s = cfqp_onnx_input_sym (imp, 1);

  if (n == -2)
    return -1;
  if (n >= 0)
    return n;
  if (!s)
    return 0;
  if (s->kind != SYM_CONST || !cfqp_const_ints (s->konst, axes, CFQP_CONST_MAX_DIMS)) {
    cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED, "axes must be constant");
    return -1;
  }
  return (gint) s->konst->n;
}

static gboolean
op_unsqueeze_squeeze (Importer *imp, gboolean unsqueeze, GError **error)
{
  const CfqpConst *c = cfqp_onnx_require_const (imp, 0, error);
  gint64 axes[CFQP_CONST_MAX_DIMS], dims[CFQP_CONST_MAX_DIMS];
  gboolean marked[CFQP_CONST_MAX_DIMS] = { 0 };
  gint n_axes;
  guint nd, out = 0;
  CfqpConst *r;

  if (!c)
    return FALSE;
  n_axes = cfqp_onnx_get_axes (imp, axes, error);
  if (n_axes < 0) {
    if (error && !*error)
      cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_LIMIT, "too many axes");
    return FALSE;
  }
  nd = unsqueeze ? c->ndim + n_axes : c->ndim;
  if (nd > CFQP_CONST_MAX_DIMS) {
    cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_LIMIT, "too many dimensions");
    return FALSE;
  }
  for (gint k = 0; k < n_axes; k++) {
    gint a = cfqp_onnx_normalise_axis (axes[k], nd);
    if (a < 0) {
      cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_INVALID, "axis %" G_GINT64_FORMAT
          " out of range", axes[k]);
      return FALSE;
    }
    marked[a] = TRUE;
  }
  if (unsqueeze) {
    for (guint d = 0, src = 0; d < nd; d++)
      dims[out++] = marked[d] ? 1 : c->dims[src++];
  } else {
    for (guint d = 0; d < c->ndim; d++)
      if (!((n_axes == 0 && c->dims[d] == 1) || (marked[d] && c->dims[d] == 1)))
        dims[out++] = c->dims[d];
  }
  r = cfqp_const_copy (c);
  r->ndim = out;
  memcpy (r->dims, dims, out * sizeof (gint64));
  cfqp_onnx_define_const (imp, r);
  return TRUE;
}

gboolean
cfqp_onnx_op_unsqueeze (Importer *imp, GError **error)
{
  return op_unsqueeze_squeeze (imp, TRUE, error);
}

gboolean
cfqp_onnx_op_squeeze (Importer *imp, GError **error)
{
  return op_unsqueeze_squeeze (imp, FALSE, error);
}

gboolean
cfqp_onnx_op_slice (Importer *imp, GError **error)
{
  const CfqpConst *c = cfqp_onnx_require_const (imp, 0, error);
  gint64 starts[1], ends[1], axes[1] = { 0 }, steps[1] = { 1 }, start, end, n;
  gboolean ok = TRUE;
  CfqpConst *r;

  if (!c)
    return FALSE;
  if (imp->opset < 10) {
    ok = cfqp_onnx_attr_ints (imp->node, "starts", starts, 1) == 1 &&
        cfqp_onnx_attr_ints (imp->node, "ends", ends, 1) == 1;
    cfqp_onnx_attr_ints (imp->node, "axes", axes, 1);
  } else {
    const Sym *s;
    for (guint k = 1; k < 5 && ok; k++) {
      gint64 *dst = k == 1 ? starts : k == 2 ? ends : k == 3 ? axes : steps;
      s = cfqp_onnx_input_sym (imp, k);
      if (!s)
        ok = k >= 3;
      else
        ok = s->kind == SYM_CONST && s->konst->n == 1 && cfqp_const_ints (s->konst, dst, 1);
    }
  }
  if (!ok || c->ndim != 1 || cfqp_onnx_normalise_axis (axes[0], 1) != 0 || steps[0] != 1) {
    cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED,
        "only unit-step slices of 1-D constants (shape chains) are supported");
    return FALSE;
  }
  n = (gint64) c->n;
  start = starts[0] < 0 ? starts[0] + n : starts[0];
  end = ends[0] < 0 ? ends[0] + n : ends[0];
  start = CLAMP (start, 0, n);
  end = CLAMP (end, start, n);
  n = end - start;
  r = c->is_int ? cfqp_const_new_int (1, &n) : cfqp_const_new_float (1, &n);
  for (gint64 k = 0; k < n; k++) {
    if (c->is_int)
      r->i[k] = c->i[start + k];
    else
      r->f[k] = c->f[start + k];
  }
  cfqp_onnx_define_const (imp, r);
  return TRUE;
}
