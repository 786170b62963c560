/* ONNX import, constant folding: arithmetic, Concat, Reshape and Transpose
 * on constant tensors, symbolic integers included ("axis 2 of value 7,
 * times 3"), so that shape-only chains fold without knowing H and W.
 */
#include "cfqp-onnx-private.h"

#include <string.h>

static gint64
gcd64 (gint64 a, gint64 b)
{
  a = ABS (a); b = ABS (b);
  while (b) { gint64 t = a % b; a = b; b = t; }
  return a ? a : 1;
}

static CfqpSymInt
sym_binary (const char *op, CfqpSymInt a, CfqpSymInt b)
{
  CfqpSymInt r = { 0, CFQP_SYM_UNKNOWN, 0, 1, 1 };

  if (a.sym == CFQP_SYM_KNOWN && b.sym == CFQP_SYM_KNOWN) {
    r.sym = CFQP_SYM_KNOWN;
    if (!strcmp (op, "Add")) r.v = a.v + b.v;
    else if (!strcmp (op, "Sub")) r.v = a.v - b.v;
    else if (!strcmp (op, "Mul")) r.v = a.v * b.v;
    else r.v = b.v ? a.v / b.v : 0;
    return r;
  }
  /* A dimension times or over a known factor stays symbolic. */
  if (a.sym >= 0 && b.sym == CFQP_SYM_KNOWN && b.v > 0 &&
      (!strcmp (op, "Mul") || !strcmp (op, "Div"))) {
    r = a;
    if (!strcmp (op, "Mul")) r.num *= b.v; else r.den *= b.v;
  } else if (b.sym >= 0 && a.sym == CFQP_SYM_KNOWN && a.v > 0 && !strcmp (op, "Mul")) {
    r = b;
    r.num *= a.v;
  } else if (a.sym >= 0 && b.sym == CFQP_SYM_KNOWN && b.v == 0 &&
      (!strcmp (op, "Add") || !strcmp (op, "Sub"))) {
    r = a;
  }
  if (r.sym >= 0) {
    gint64 d = gcd64 (r.num, r.den);
    r.num /= d; r.den /= d;
  }
  return r;
}

/* Elementwise op on two constants with numpy broadcasting. */
CfqpConst *
cfqp_onnx_fold_binary (const char *op, const CfqpConst *a, const CfqpConst *b)
{
  guint nd = MAX (a->ndim, b->ndim);
  gint64 dims[CFQP_CONST_MAX_DIMS], sa[CFQP_CONST_MAX_DIMS], sb[CFQP_CONST_MAX_DIMS];
  gsize stride_a = 1, stride_b = 1;
  CfqpConst *r;

  for (gint d = nd - 1; d >= 0; d--) {
    gint da = d - (gint) (nd - a->ndim), db = d - (gint) (nd - b->ndim);
    gint64 ea = da >= 0 ? a->dims[da] : 1, eb = db >= 0 ? b->dims[db] : 1;
    if (ea != eb && ea != 1 && eb != 1)
      return NULL;
    dims[d] = MAX (ea, eb);
    sa[d] = ea == 1 ? 0 : (gint64) stride_a;
    sb[d] = eb == 1 ? 0 : (gint64) stride_b;
    stride_a *= ea;
    stride_b *= eb;
  }
  r = (a->is_int && b->is_int) ? cfqp_const_new_int (nd, dims) : cfqp_const_new_float (nd, dims);
  if (r->is_int && r->n > CFQP_CONST_MAX_INTS) {
    cfqp_const_free (r);
    return NULL;
  }
  for (gsize k = 0; k < r->n; k++) {
    gsize rem = k, ia = 0, ib = 0;
    for (gint d = nd - 1; d >= 0; d--) {
      gsize idx = rem % dims[d];
      rem /= dims[d];
      ia += idx * sa[d];
      ib += idx * sb[d];
    }
    if (r->is_int) {
      r->i[k] = sym_binary (op, a->i[ia], b->i[ib]);
    } else {
      double x = 0, y = 0, v;
      cfqp_const_get_known (a, ia, &x);
      cfqp_const_get_known (b, ib, &y);
      if (!strcmp (op, "Add")) v = x + y;
      else if (!strcmp (op, "Sub")) v = x - y;
      else if (!strcmp (op, "Mul")) v = x * y;
      else v = x / y;
      r->f[k] = (float) v;
    }
  }
  return r;
}

gint
cfqp_onnx_normalise_axis (gint64 axis, guint ndim)
{
  if (axis < 0)
    axis += ndim;
  return (axis < 0 || axis >= (gint64) ndim) ? -1 : (gint) axis;
}

CfqpConst *
cfqp_onnx_fold_concat (const CfqpConst **parts, guint n, gint64 axis_in)
{
  const CfqpConst *first = parts[0];
  gint axis = cfqp_onnx_normalise_axis (axis_in, first->ndim);
  gint64 dims[CFQP_CONST_MAX_DIMS];
  gboolean is_int = TRUE;
  gsize outer = 1, inner = 1, offset = 0;
  CfqpConst *r;

  if (axis < 0)
    return NULL;
  memcpy (dims, first->dims, sizeof dims);
  dims[axis] = 0;
  for (guint p = 0; p < n; p++) {
    if (parts[p]->ndim != first->ndim)
      return NULL;
    for (guint d = 0; d < first->ndim; d++)
      if (d != (guint) axis && parts[p]->dims[d] != first->dims[d])
        return NULL;
    dims[axis] += parts[p]->dims[axis];
    is_int = is_int && parts[p]->is_int;
  }
  for (gint d = 0; d < axis; d++)
    outer *= dims[d];
  for (guint d = axis + 1; d < first->ndim; d++)
    inner *= dims[d];
  r = is_int ? cfqp_const_new_int (first->ndim, dims) : cfqp_const_new_float (first->ndim, dims);
  if (is_int && r->n > CFQP_CONST_MAX_INTS) {
    cfqp_const_free (r);
    return NULL;
  }
  for (guint p = 0; p < n; p++) {
    gsize chunk = parts[p]->dims[axis] * inner;
    for (gsize o = 0; o < outer; o++)
      for (gsize k = 0; k < chunk; k++) {
        gsize dst = o * dims[axis] * inner + offset + k, src = o * chunk + k;
        if (is_int) {
          r->i[dst] = parts[p]->i[src];
        } else {
          double v = 0;
          cfqp_const_get_known (parts[p], src, &v);
          r->f[dst] = (float) v;
        }
      }
    offset += chunk;
  }
  return r;
}

/* Reshape of a constant; 0 copies a dimension, -1 is inferred. */
CfqpConst *
cfqp_onnx_fold_reshape (const CfqpConst *c, const gint64 *shape, guint nd)
{
  gint64 dims[CFQP_CONST_MAX_DIMS];
  gint infer = -1;
  gsize known = 1;
  CfqpConst *r;

  if (nd > CFQP_CONST_MAX_DIMS)
    return NULL;
  for (guint d = 0; d < nd; d++) {
    dims[d] = shape[d] == 0 && d < c->ndim ? c->dims[d] : shape[d];
    if (dims[d] == -1) {
      if (infer >= 0)
        return NULL;
      infer = d;
    } else if (dims[d] <= 0) {
      return NULL;
    } else {
      known *= dims[d];
    }
  }
  if (infer >= 0) {
    if (known == 0 || c->n % known)
      return NULL;
    dims[infer] = c->n / known;
    known *= dims[infer];
  }
  if (known != c->n)
    return NULL;
  r = cfqp_const_copy (c);
  r->ndim = nd;
  memcpy (r->dims, dims, nd * sizeof (gint64));
  return r;
}

CfqpConst *
cfqp_onnx_fold_transpose (const CfqpConst *c, const gint64 *perm)
{
  gint64 dims[CFQP_CONST_MAX_DIMS];
  gsize in_strides[CFQP_CONST_MAX_DIMS], s = 1;
  CfqpConst *r;

  for (gint d = c->ndim - 1; d >= 0; d--) {
    in_strides[d] = s;
    s *= c->dims[d];
  }
  for (guint d = 0; d < c->ndim; d++) {
    if (perm[d] < 0 || perm[d] >= c->ndim)
      return NULL;
    dims[d] = c->dims[perm[d]];
  }
  r = c->is_int ? cfqp_const_new_int (c->ndim, dims) : cfqp_const_new_float (c->ndim, dims);
  for (gsize k = 0; k < r->n; k++) {
    gsize rem = k, src = 0;
    for (gint d = c->ndim - 1; d >= 0; d--) {
      src += (rem % dims[d]) * in_strides[perm[d]];
      rem /= dims[d];
    }
    if (c->is_int)
      r->i[k] = c->i[src];
    else
      r->f[k] = c->f[src];
  }
  return r;
}
