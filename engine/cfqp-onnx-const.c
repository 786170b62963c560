/* Decoding ONNX TensorProtos into constants, with hostile-input bounds. */
#include "cfqp-onnx-const.h"
#include "cfqp-engine.h"

#include <string.h>

static gsize
product (guint ndim, const gint64 *dims)
{
  gsize n = 1;
  for (guint d = 0; d < ndim; d++)
    n *= (gsize) dims[d];
  return n;
}

static CfqpConst *
const_new (guint ndim, const gint64 *dims, gboolean is_int)
{
  CfqpConst *c = g_new0 (CfqpConst, 1);

  c->ndim = ndim;
  if (ndim)
    memcpy (c->dims, dims, ndim * sizeof (gint64));
  c->n = product (ndim, dims);
  c->is_int = is_int;
  if (is_int) {
    c->i = g_new0 (CfqpSymInt, c->n ? c->n : 1);
    for (gsize k = 0; k < c->n; k++) {
      c->i[k].sym = CFQP_SYM_KNOWN;
      c->i[k].num = c->i[k].den = 1;
    }
  } else {
    c->f = g_new0 (float, c->n ? c->n : 1);
  }
  return c;
}

CfqpConst *
cfqp_const_new_float (guint ndim, const gint64 *dims)
{
  return const_new (ndim, dims, FALSE);
}

CfqpConst *
cfqp_const_new_int (guint ndim, const gint64 *dims)
{
  return const_new (ndim, dims, TRUE);
}

CfqpConst *
cfqp_const_copy (const CfqpConst *src)
{
  CfqpConst *c = const_new (src->ndim, src->dims, src->is_int);
  if (src->is_int)
    memcpy (c->i, src->i, src->n * sizeof (CfqpSymInt));
  else
    memcpy (c->f, src->f, src->n * sizeof (float));
  return c;
}

void
cfqp_const_free (CfqpConst *c)
{
  if (!c)
    return;
  g_free (c->f);
  g_free (c->i);
  g_free (c);
}

static gsize
element_size (gint32 type)
{
  switch (type) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: return 4;
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: return 8;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: return 8;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: return 4;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT16: return 2;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT8: return 1;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8: return 1;
    case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL: return 1;
    default: return 0;
  }
}

/* Element k of the tensor as a double, from raw_data or the typed field. */
static double
tensor_element (const Onnx__TensorProto *t, gsize k)
{
  if (t->has_raw_data) {
    const guint8 *p = t->raw_data.data + k * element_size (t->data_type);
    switch (t->data_type) {
      case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: {
        guint32 u; float f;
        memcpy (&u, p, 4); u = GUINT32_FROM_LE (u); memcpy (&f, &u, 4);
        return f;
      }
      case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: {
        guint64 u; double d;
        memcpy (&u, p, 8); u = GUINT64_FROM_LE (u); memcpy (&d, &u, 8);
        return d;
      }
      case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: {
        guint64 u;
        memcpy (&u, p, 8);
        return (double) (gint64) GUINT64_FROM_LE (u);
      }
      case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: {
        guint32 u;
        memcpy (&u, p, 4);
        return (double) (gint32) GUINT32_FROM_LE (u);
      }
      case ONNX__TENSOR_PROTO__DATA_TYPE__INT16: {
        guint16 u;
        memcpy (&u, p, 2);
        return (double) (gint16) GUINT16_FROM_LE (u);
      }
      case ONNX__TENSOR_PROTO__DATA_TYPE__INT8: return (double) (gint8) p[0];
      default: return (double) p[0];
    }
  }
  switch (t->data_type) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: return t->float_data[k];
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: return t->double_data[k];
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: return (double) t->int64_data[k];
    default: return (double) t->int32_data[k];   /* int32 and narrower, bool */
  }
}

static gsize
typed_field_count (const Onnx__TensorProto *t)
{
  switch (t->data_type) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: return t->n_float_data;
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: return t->n_double_data;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: return t->n_int64_data;
    default: return t->n_int32_data;
  }
}

CfqpConst *
cfqp_const_from_tensor (const Onnx__TensorProto *t, GError **error)
{
  const char *name = t->name && *t->name ? t->name : "(unnamed)";
  gsize esize = element_size (t->data_type);
  gboolean is_int;
  gsize n = 1;
  CfqpConst *c;

  if (esize == 0) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_UNSUPPORTED,
        "tensor '%s': data type %d is not supported", name, t->data_type);
    return NULL;
  }
  if (t->n_external_data > 0 || (t->has_data_location && t->data_location != 0)) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_UNSUPPORTED,
        "tensor '%s': external data is not supported (embed the weights)", name);
    return NULL;
  }
  if (t->n_dims > CFQP_CONST_MAX_DIMS) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_LIMIT,
        "tensor '%s': %zu dimensions (at most %d)", name, t->n_dims, CFQP_CONST_MAX_DIMS);
    return NULL;
  }
  for (gsize d = 0; d < t->n_dims; d++) {
    if (t->dims[d] < 0 || t->dims[d] > CFQP_MAX_WEIGHTS ||
        (t->dims[d] > 0 && n > CFQP_MAX_WEIGHTS / (gsize) t->dims[d])) {
      g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_LIMIT,
          "tensor '%s': dimension %zu (%" G_GINT64_FORMAT ") is negative or too large",
          name, d, t->dims[d]);
      return NULL;
    }
    n *= (gsize) t->dims[d];
  }
  is_int = t->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT &&
      t->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE;
  /* int8/uint8 beyond shape sizes are quantised weights (QDQ models): held
   * as floats, which represent them exactly */
  if (is_int && n > CFQP_CONST_MAX_INTS && (t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__INT8 ||
      t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__UINT8))
    is_int = FALSE;
  if (is_int && n > CFQP_CONST_MAX_INTS) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_LIMIT,
        "tensor '%s': %zu integers (at most %d)", name, n, CFQP_CONST_MAX_INTS);
    return NULL;
  }
  if (t->has_raw_data ? t->raw_data.len != n * esize : typed_field_count (t) != n) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_PARSE,
        "tensor '%s': holds %zu bytes/elements but its shape needs %zu elements", name,
        t->has_raw_data ? t->raw_data.len : typed_field_count (t), n);
    return NULL;
  }

  c = const_new ((guint) t->n_dims, t->dims, is_int);
  for (gsize k = 0; k < n; k++) {
    double v = tensor_element (t, k);
    if (!is_int)
      c->f[k] = (float) v;
    else if (t->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__INT64)
      c->i[k].v = (gint64) v;   /* int32 and narrower: exact */
  }
  /* int64 beyond 2^53 loses precision through double (and near 2^63 a
   * double cast back to int64 would overflow): read it exactly. */
  if (t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__INT64 && !t->has_raw_data)
    for (gsize k = 0; k < n; k++)
      c->i[k].v = t->int64_data[k];
  else if (t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__INT64)
    for (gsize k = 0; k < n; k++) {
      guint64 u;
      memcpy (&u, t->raw_data.data + 8 * k, 8);
      c->i[k].v = (gint64) GUINT64_FROM_LE (u);
    }
  return c;
}

gboolean
cfqp_const_get_known (const CfqpConst *c, gsize k, double *out)
{
  if (k >= c->n)
    return FALSE;
  if (!c->is_int) {
    *out = c->f[k];
    return TRUE;
  }
  if (c->i[k].sym != CFQP_SYM_KNOWN)
    return FALSE;
  *out = (double) c->i[k].v;
  return TRUE;
}

gboolean
cfqp_const_ints (const CfqpConst *c, gint64 *out, gsize max_n)
{
  if (c->n > max_n)
    return FALSE;
  for (gsize k = 0; k < c->n; k++) {
    if (c->is_int) {
      if (c->i[k].sym != CFQP_SYM_KNOWN)
        return FALSE;
      out[k] = c->i[k].v;
    } else {
      /* a float used as an integer: out-of-range or NaN casts are UB */
      if (!(c->f[k] > -1e15f && c->f[k] < 1e15f))
        return FALSE;
      out[k] = (gint64) c->f[k];
    }
  }
  return TRUE;
}
