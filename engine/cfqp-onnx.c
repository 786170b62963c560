/* ONNX import: ModelProto (protobuf-c, generated from Debian's onnx.proto)
 * → CfqpGraph.
 *
 * Nodes are translated in file order.  Every ONNX tensor name maps to a
 * symbol: an activation (a graph value), a constant (folded here, never a
 * graph value), or one step of a Reshape→Transpose→Reshape pixel-shuffle
 * pattern still being matched.  Anything else is refused with the node's
 * name and op.
 */
#include "cfqp-onnx.h"
#include "cfqp-onnx-const.h"
#include "cfqp-engine.h"

#include <math.h>
#include <string.h>

#define OPSET_MIN 7
#define OPSET_MAX 18

typedef enum {
  SYM_ACT,
  SYM_CONST,
  SYM_RESHAPED,    /* activation viewed through a Reshape to konst's shape */
  SYM_TRANSPOSED,  /* ... then through a Transpose by perm */
  SYM_QUANTIZED,   /* activation through a QuantizeLinear (q_scale, q_zero_point) */
} SymKind;

typedef struct {
  SymKind    kind;
  guint      value;
  CfqpConst *konst;
  guint      nperm;
  gint64     perm[CFQP_CONST_MAX_DIMS];
  gboolean   expanded;   /* RESHAPED by Unsqueeze → Expand (repeat_interleave) */
  guint      view_ndim;  /* TRANSPOSED: rank of the current view */
  /* QUANTIZED: uint8 parameters (int8 zero points moved by +128) */
  float      q_scale;
  gint32     q_zero_point;
  /* CONST made by DequantizeLinear of int8 weights with zero point 0: the
   * scales along axis wscale_axis (n_wscale 1: per tensor) */
  float     *wscale;
  guint      n_wscale;
  gint       wscale_axis;
} Sym;

typedef struct {
  CfqpGraph *graph;
  GHashTable *syms;          /* tensor name → Sym */
  GHashTable *elem_types;    /* constant tensor name → ONNX data type (QDQ checks) */
  gint64 opset;
  gsize weight_elems;
  const Onnx__NodeProto *node;
  const char *node_name;
} Importer;

static void
sym_free (gpointer p)
{
  Sym *s = p;
  cfqp_const_free (s->konst);
  g_free (s->wscale);
  g_free (s);
}

/* --- errors, attributes, symbols ---------------------------------------- */

static void G_GNUC_PRINTF (4, 5)
node_error (Importer *imp, GError **error, CfqpEngineError code, const char *fmt, ...)
{
  va_list ap;
  g_autofree char *msg = NULL;

  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (error, CFQP_ENGINE_ERROR, code, "node '%s' (%s): %s", imp->node_name,
      imp->node->op_type ? imp->node->op_type : "?", msg);
}

static const Onnx__AttributeProto *
find_attr (const Onnx__NodeProto *node, const char *name)
{
  for (gsize i = 0; i < node->n_attribute; i++)
    if (node->attribute[i]->name && strcmp (node->attribute[i]->name, name) == 0)
      return node->attribute[i];
  return NULL;
}

static gint64
attr_int (const Onnx__NodeProto *node, const char *name, gint64 def)
{
  const Onnx__AttributeProto *a = find_attr (node, name);
  return a && a->has_i ? a->i : def;
}

static float
attr_float (const Onnx__NodeProto *node, const char *name, float def)
{
  const Onnx__AttributeProto *a = find_attr (node, name);
  return a && a->has_f ? a->f : def;
}

/* Returns the number of ints, -1 when absent, -2 when more than max. */
static gint
attr_ints (const Onnx__NodeProto *node, const char *name, gint64 *out, guint max)
{
  const Onnx__AttributeProto *a = find_attr (node, name);
  if (!a)
    return -1;
  if (a->n_ints > max)
    return -2;
  for (gsize i = 0; i < a->n_ints; i++)
    out[i] = a->ints[i];
  return (gint) a->n_ints;
}

static gboolean
attr_string_is (const Onnx__NodeProto *node, const char *name, const char *def,
    const char *expected)
{
  const Onnx__AttributeProto *a = find_attr (node, name);
  if (!a || !a->has_s)
    return g_strcmp0 (def, expected) == 0;
  return a->s.len == strlen (expected) && memcmp (a->s.data, expected, a->s.len) == 0;
}

static char *
attr_string (const Onnx__NodeProto *node, const char *name, const char *def)
{
  const Onnx__AttributeProto *a = find_attr (node, name);
  if (!a || !a->has_s)
    return g_strdup (def);
  return g_strndup ((const char *) a->s.data, a->s.len);
}

static const Sym *
input_sym (Importer *imp, guint k)
{
  if (k >= imp->node->n_input || !imp->node->input[k] || !*imp->node->input[k])
    return NULL;
  return g_hash_table_lookup (imp->syms, imp->node->input[k]);
}

static gboolean
require_input (Importer *imp, guint k, const Sym **out, GError **error)
{
  *out = input_sym (imp, k);
  if (*out)
    return TRUE;
  if (k >= imp->node->n_input || !*imp->node->input[k])
    node_error (imp, error, CFQP_ENGINE_ERROR_PARSE, "input %u is missing", k);
  else
    node_error (imp, error, CFQP_ENGINE_ERROR_PARSE,
        "input '%s' is not produced by any earlier node (graph not topologically sorted?)",
        imp->node->input[k]);
  return FALSE;
}

static gboolean
require_act (Importer *imp, guint k, guint *value, GError **error)
{
  const Sym *s;
  if (!require_input (imp, k, &s, error))
    return FALSE;
  if (s->kind != SYM_ACT) {
    node_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED,
        "input '%s' must be an activation tensor", imp->node->input[k]);
    return FALSE;
  }
  *value = s->value;
  return TRUE;
}

static const CfqpConst *
require_const (Importer *imp, guint k, GError **error)
{
  const Sym *s;
  if (!require_input (imp, k, &s, error))
    return NULL;
  if (s->kind != SYM_CONST) {
    node_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED,
        "input '%s' must be a constant", imp->node->input[k]);
    return NULL;
  }
  return s->konst;
}

/* Reshape's and Expand's shape input: a 1-D integer constant (ONNX says
 * int64; a float one would leave the symbolic ints unset). */
static const CfqpConst *
require_shape (Importer *imp, guint k, GError **error)
{
  const CfqpConst *shape = require_const (imp, k, error);
  if (shape && (!shape->is_int || shape->ndim != 1 || shape->n > CFQP_CONST_MAX_DIMS)) {
    node_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED, "shape must be a 1-D integer tensor");
    return NULL;
  }
  return shape;
}

static const char *
output_name (Importer *imp)
{
  return imp->node->n_output > 0 ? imp->node->output[0] : NULL;
}

static void
define (Importer *imp, Sym *s)
{
  g_hash_table_replace (imp->syms, g_strdup (output_name (imp)), s);
}

static void
define_const (Importer *imp, CfqpConst *c)
{
  Sym *s = g_new0 (Sym, 1);
  s->kind = SYM_CONST;
  s->konst = c;
  define (imp, s);
}

static void
define_act (Importer *imp, guint value)
{
  Sym *s = g_new0 (Sym, 1);
  s->kind = SYM_ACT;
  s->value = value;
  define (imp, s);
}

static guint
act_channels (Importer *imp, guint value)
{
  return imp->graph->values[value].channels;
}

/* Adds a node reading the given values and defines its output. */
static CfqpNode *
add_node (Importer *imp, CfqpOpType op, const guint *inputs, guint n_inputs,
    guint out_channels)
{
  CfqpGraph *g = imp->graph;
  CfqpNode *node = cfqp_graph_add_node (g, op, imp->node_name);
  guint node_index = g->n_nodes - 1;

  node->n_inputs = n_inputs;
  node->inputs = g_memdup2 (inputs, n_inputs * sizeof (guint));
  node->out_channels = out_channels;
  node->output = cfqp_graph_add_value (g, output_name (imp), out_channels, node_index);
  define_act (imp, node->output);
  return &g->nodes[node_index];
}

static gboolean
check_channels (Importer *imp, gint64 c, GError **error)
{
  if (c < 1 || c > CFQP_MAX_CHANNELS) {
    node_error (imp, error, CFQP_ENGINE_ERROR_LIMIT,
        "%" G_GINT64_FORMAT " channels (1..%d supported)", c, CFQP_MAX_CHANNELS);
    return FALSE;
  }
  return TRUE;
}

static float *
take_weights (Importer *imp, const CfqpConst *c, GError **error)
{
  imp->weight_elems += c->n;
  if (imp->weight_elems > CFQP_MAX_WEIGHTS) {
    node_error (imp, error, CFQP_ENGINE_ERROR_LIMIT, "the model has more than %u weights",
        CFQP_MAX_WEIGHTS);
    return NULL;
  }
  if (c->is_int) {
    float *w = g_new (float, c->n);
    for (gsize k = 0; k < c->n; k++)
      w[k] = (float) c->i[k].v;
    return w;
  }
  /* NaN/inf weights mean a broken file; INT8 quantisation of them is UB. */
  for (gsize k = 0; k < c->n; k++)
    if (!isfinite (c->f[k])) {
      node_error (imp, error, CFQP_ENGINE_ERROR_INVALID, "weight %zu is not finite", k);
      return NULL;
    }
  return g_memdup2 (c->f, c->n * sizeof (float));
}

/* Per-channel constants broadcast against a [1,C,H,W] activation: shape
 * [C,1,1] or [1,C,1,1] (or anything with one element).  A 1-D [C] would
 * broadcast over W in ONNX semantics, so it is refused. */
static gboolean
channel_constant (Importer *imp, const CfqpConst *c, guint channels, float **out,
    guint *n_out, GError **error)
{
  gboolean per_channel = FALSE;

  if (c->n == 1) {
    per_channel = TRUE;
  } else if (c->n == channels && c->ndim >= 3 && c->ndim <= 4) {
    per_channel = c->dims[c->ndim - 1] == 1 && c->dims[c->ndim - 2] == 1 &&
        c->dims[c->ndim - 3] == channels && (c->ndim == 3 || c->dims[0] == 1);
  }
  if (!per_channel) {
    node_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED,
        "constant of %zu elements does not broadcast per channel over %u channels "
        "(expected a scalar or shape [1,%u,1,1])", c->n, channels, channels);
    return FALSE;
  }
  *out = g_new (float, c->n);
  for (gsize k = 0; k < c->n; k++) {
    double v;
    if (!cfqp_const_get_known (c, k, &v)) {
      g_free (*out);
      node_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED, "operand depends on the frame size");
      return FALSE;
    }
    if (!isfinite ((float) v)) {
      g_free (*out);
      node_error (imp, error, CFQP_ENGINE_ERROR_INVALID, "constant operand is not finite");
      return FALSE;
    }
    (*out)[k] = (float) v;
  }
  *n_out = (guint) c->n;
  return TRUE;
}

/* --- constant folding ---------------------------------------------------- */

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
static CfqpConst *
fold_binary (const char *op, const CfqpConst *a, const CfqpConst *b)
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

static gint
normalise_axis (gint64 axis, guint ndim)
{
  if (axis < 0)
    axis += ndim;
  return (axis < 0 || axis >= (gint64) ndim) ? -1 : (gint) axis;
}

static CfqpConst *
fold_concat (const CfqpConst **parts, guint n, gint64 axis_in)
{
  const CfqpConst *first = parts[0];
  gint axis = normalise_axis (axis_in, first->ndim);
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
static CfqpConst *
fold_reshape (const CfqpConst *c, const gint64 *shape, guint nd)
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

static CfqpConst *
fold_transpose (const CfqpConst *c, const gint64 *perm)
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

/* --- QDQ (QuantizeLinear / DequantizeLinear) ----------------------------- */

/* A Q → DQ pair on an activation is the identity that records the value's
 * uint8 parameters (graph value has_qparams); DQ of int8/int32 constants
 * folds to float weights and biases, and int8 weights with zero point 0
 * keep their scales (Sym.wscale) so the INT8 program uses the file's own
 * integers.  Everything the engine's arithmetic cannot honour is refused
 * with the node's name. */

static gint32
qdq_elem_type (Importer *imp, guint k)
{
  if (k >= imp->node->n_input || !imp->node->input[k] || !*imp->node->input[k])
    return 0;
  return GPOINTER_TO_INT (g_hash_table_lookup (imp->elem_types, imp->node->input[k]));
}

static void
qdq_copy_elem_type (Importer *imp)
{
  gint32 t = qdq_elem_type (imp, 0);
  if (t)
    g_hash_table_replace (imp->elem_types, g_strdup (output_name (imp)), GINT_TO_POINTER (t));
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
    node_error (imp, error, CFQP_ENGINE_ERROR_INVALID,
        "scale must be a float scalar or a 1-D tensor of %zu (got %zu %s elements)",
        n_axis, scale->n, scale->is_int ? "integer" : "float");
    return FALSE;
  }
  for (gsize k = 0; k < scale->n; k++)
    if (!isfinite (scale->f[k]) || scale->f[k] <= 0.f) {
      node_error (imp, error, CFQP_ENGINE_ERROR_INVALID,
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
      node_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED,
          "zero point of %s: only uint8, int8 (and int32 for biases) are supported",
          qdq_type_name (type));
      return FALSE;
  }
  if (!zp->is_int || zp->n != n) {
    node_error (imp, error, CFQP_ENGINE_ERROR_INVALID,
        "zero point must be %zu integer(s) like the scale (got %zu)", n, zp->n);
    return FALSE;
  }
  for (gsize k = 0; k < n; k++)
    if (zp->i[k].sym != CFQP_SYM_KNOWN || zp->i[k].v < lo || zp->i[k].v > hi) {
      node_error (imp, error, CFQP_ENGINE_ERROR_INVALID,
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
  gint64 axis = attr_int (imp->node, "axis", 1);
  gint a = ndim ? normalise_axis (axis, ndim) : 0;

  if (a < 0)
    node_error (imp, error, CFQP_ENGINE_ERROR_INVALID,
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
  gint32 zt = input_sym (imp, 2) ? qdq_elem_type (imp, 2) : ONNX__TENSOR_PROTO__DATA_TYPE__UINT8;

  if (!(s = require_const (imp, 1, error)) || (input_sym (imp, 2) && !(z = require_const (imp, 2, error))))
    return FALSE;
  if (s->n != 1) {
    node_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED,
        "per-channel quantisation of an activation is not supported (uint8 per tensor)");
    return FALSE;
  }
  if (!qdq_check_scale (imp, s, 1, error))
    return FALSE;
  if (zt == ONNX__TENSOR_PROTO__DATA_TYPE__INT32) {
    /* an int32 activation is no uint8 grid: say so by its value */
    if (z && z->is_int && z->n == 1 && (z->i[0].v < 0 || z->i[0].v > 255)) {
      node_error (imp, error, CFQP_ENGINE_ERROR_INVALID,
          "zero point %" G_GINT64_FORMAT " is out of range for a uint8 activation (0..255)",
          z->i[0].v);
      return FALSE;
    }
    node_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED,
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

static gboolean
op_quantize_linear (Importer *imp, GError **error)
{
  const Sym *x;
  Sym *r;

  if (!require_input (imp, 0, &x, error))
    return FALSE;
  if (x->kind == SYM_CONST && !x->konst->is_int) {
    /* float weights quantised in the graph: fold with the file's rounding
     * (half to even) and saturation */
    const CfqpConst *s, *z = NULL;
    gint32 zt = input_sym (imp, 2) ? qdq_elem_type (imp, 2) : ONNX__TENSOR_PROTO__DATA_TYPE__UINT8;
    gint axis;
    gsize n_axis;
    CfqpConst *q;

    if (!(s = require_const (imp, 1, error)) ||
        (input_sym (imp, 2) && !(z = require_const (imp, 2, error))) ||
        (axis = qdq_axis (imp, x->konst->ndim, error)) < 0)
      return FALSE;
    n_axis = x->konst->ndim ? (gsize) x->konst->dims[axis] : 1;
    if (zt == 0)
      zt = ONNX__TENSOR_PROTO__DATA_TYPE__UINT8;
    if (!qdq_check_scale (imp, s, n_axis, error) ||
        (z && !qdq_check_zero_point (imp, z, zt, s->n, error)))
      return FALSE;
    if (zt == ONNX__TENSOR_PROTO__DATA_TYPE__INT32) {
      node_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED, "QuantizeLinear to int32");
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
    define_const (imp, q);
    g_hash_table_replace (imp->elem_types, g_strdup (output_name (imp)), GINT_TO_POINTER (zt));
    return TRUE;
  }
  if (x->kind != SYM_ACT) {
    node_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED,
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
  define (imp, r);
  return TRUE;
}

static gboolean
op_dequantize_linear (Importer *imp, GError **error)
{
  const Sym *x;

  if (!require_input (imp, 0, &x, error))
    return FALSE;
  if (x->kind == SYM_QUANTIZED) {
    CfqpValueInfo *v = &imp->graph->values[x->value];
    float scale;
    gint32 zp;

    if (!qdq_activation_params (imp, &scale, &zp, error))
      return FALSE;
    if (scale != x->q_scale || zp != x->q_zero_point) {
      node_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED,
          "parameters (%g, %d) differ from those of its QuantizeLinear (%g, %d)",
          scale, zp, x->q_scale, x->q_zero_point);
      return FALSE;
    }
    if (v->has_qparams && (v->q_scale != scale || v->q_zero_point != zp)) {
      node_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED,
          "tensor '%s' is quantised twice, with (%g, %d) and (%g, %d)", v->name,
          v->q_scale, v->q_zero_point, scale, zp);
      return FALSE;
    }
    v->has_qparams = TRUE;
    v->q_scale = scale;
    v->q_zero_point = zp;
    define_act (imp, x->value);
    return TRUE;
  }
  if (x->kind == SYM_CONST && (x->konst->is_int ||
        qdq_elem_type (imp, 0) == ONNX__TENSOR_PROTO__DATA_TYPE__INT8 ||
        qdq_elem_type (imp, 0) == ONNX__TENSOR_PROTO__DATA_TYPE__UINT8)) {
    const CfqpConst *c = x->konst, *s, *z = NULL;
    gint32 xt = qdq_elem_type (imp, 0), zt = input_sym (imp, 2) ? qdq_elem_type (imp, 2) : 0;
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
      node_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED,
          "input '%s' is %s: only int8, uint8 and int32 constants are dequantised",
          imp->node->input[0], qdq_type_name (xt));
      return FALSE;
    }
    if (zt != xt) {
      node_error (imp, error, CFQP_ENGINE_ERROR_INVALID,
          "zero point is %s but the input is %s", qdq_type_name (zt), qdq_type_name (xt));
      return FALSE;
    }
    if (!(s = require_const (imp, 1, error)) ||
        (input_sym (imp, 2) && !(z = require_const (imp, 2, error))) ||
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
        node_error (imp, error, CFQP_ENGINE_ERROR_INVALID, "input is not a constant tensor");
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
    define (imp, r);
    return TRUE;
  }
  if (x->kind == SYM_CONST) {
    node_error (imp, error, CFQP_ENGINE_ERROR_INVALID, "input '%s' is already a float tensor",
        imp->node->input[0]);
    return FALSE;
  }
  node_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED,
      "input '%s' does not come from a QuantizeLinear (only float models with Q/DQ pairs)",
      imp->node->input[0]);
  return FALSE;
}

/* After a Conv/ConvTranspose took its weights: when they came from DQ of
 * int8 with zero point 0, per output channel (or per tensor), keep the
 * scales.  Anything else (input-channel axis, grouped transposed
 * per-channel) just stays float weights, quantised by the engine's rule. */
static void
qdq_keep_weight_scale (Importer *imp, CfqpConvParams *cp, gboolean transpose)
{
  const Sym *w = input_sym (imp, 1);
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

/* --- op handlers --------------------------------------------------------- */

typedef gboolean (*OpHandler) (Importer *imp, GError **error);

static gboolean
op_identity (Importer *imp, GError **error)
{
  const Sym *s;
  Sym *copy;

  if (!require_input (imp, 0, &s, error))
    return FALSE;
  copy = g_memdup2 (s, sizeof (Sym));
  copy->konst = s->konst ? cfqp_const_copy (s->konst) : NULL;
  copy->wscale = s->wscale ? g_memdup2 (s->wscale, s->n_wscale * sizeof (float)) : NULL;
  define (imp, copy);
  qdq_copy_elem_type (imp);
  return TRUE;
}

static gboolean
op_cast (Importer *imp, GError **error)
{
  const Sym *s;
  gint64 to = attr_int (imp->node, "to", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT);
  gboolean to_float = to == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT ||
      to == ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE;
  CfqpConst *r;

  if (!require_input (imp, 0, &s, error))
    return FALSE;
  if (s->kind != SYM_CONST) {
    if (s->kind == SYM_ACT && to_float)
      return op_identity (imp, error);
    node_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED, "cast of an activation to type %"
        G_GINT64_FORMAT, to);
    return FALSE;
  }
  if (s->konst->is_int == !to_float) {
    define_const (imp, cfqp_const_copy (s->konst));
    return TRUE;
  }
  if (to_float) {
    r = cfqp_const_new_float (s->konst->ndim, s->konst->dims);
    for (gsize k = 0; k < r->n; k++) {
      double v;
      if (!cfqp_const_get_known (s->konst, k, &v)) {
        cfqp_const_free (r);
        node_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED,
            "float value depends on the frame size");
        return FALSE;
      }
      r->f[k] = (float) v;
    }
  } else {
    if (s->konst->n > CFQP_CONST_MAX_INTS) {
      node_error (imp, error, CFQP_ENGINE_ERROR_LIMIT, "integer tensor too large");
      return FALSE;
    }
    r = cfqp_const_new_int (s->konst->ndim, s->konst->dims);
    for (gsize k = 0; k < r->n; k++)
      r->i[k].v = (gint64) s->konst->f[k];
  }
  define_const (imp, r);
  return TRUE;
}

static gboolean
op_constant (Importer *imp, GError **error)
{
  const Onnx__NodeProto *node = imp->node;
  const Onnx__AttributeProto *a;
  CfqpConst *c = NULL;
  gint64 n;

  if ((a = find_attr (node, "value")) && a->t) {
    c = cfqp_const_from_tensor (a->t, error);
    if (!c) {
      g_prefix_error (error, "node '%s' (Constant): ", imp->node_name);
      return FALSE;
    }
    g_hash_table_replace (imp->elem_types, g_strdup (output_name (imp)),
        GINT_TO_POINTER (a->t->data_type));
  } else if ((a = find_attr (node, "value_float")) && a->has_f) {
    c = cfqp_const_new_float (0, NULL);
    c->f[0] = a->f;
  } else if ((a = find_attr (node, "value_int")) && a->has_i) {
    c = cfqp_const_new_int (0, NULL);
    c->i[0].v = a->i;
  } else if ((a = find_attr (node, "value_floats"))) {
    n = a->n_floats;
    c = cfqp_const_new_float (1, &n);
    memcpy (c->f, a->floats, n * sizeof (float));
  } else if ((a = find_attr (node, "value_ints")) && a->n_ints <= CFQP_CONST_MAX_INTS) {
    n = a->n_ints;
    c = cfqp_const_new_int (1, &n);
    for (gint64 k = 0; k < n; k++)
      c->i[k].v = a->ints[k];
  } else {
    node_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED, "no supported value attribute");
    return FALSE;
  }
  define_const (imp, c);
  return TRUE;
}

static gboolean
op_constant_of_shape (Importer *imp, GError **error)
{
  const CfqpConst *shape = require_const (imp, 0, error);
  const Onnx__AttributeProto *a = find_attr (imp->node, "value");
  gint64 dims[CFQP_CONST_MAX_DIMS];
  g_autoptr (GError) inner = NULL;
  CfqpConst *value = NULL, *r;

  if (!shape)
    return FALSE;
  if (!cfqp_const_ints (shape, dims, CFQP_CONST_MAX_DIMS)) {
    node_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED, "shape depends on the frame size");
    return FALSE;
  }
  if (a && a->t && !(value = cfqp_const_from_tensor (a->t, &inner))) {
    node_error (imp, error, CFQP_ENGINE_ERROR_PARSE, "%s", inner->message);
    return FALSE;
  }
  for (gsize d = 0; d < shape->n; d++)
    if (dims[d] < 0 || dims[d] > CFQP_CONST_MAX_INTS) {
      cfqp_const_free (value);
      node_error (imp, error, CFQP_ENGINE_ERROR_LIMIT, "shape out of bounds");
      return FALSE;
    }
  r = (value && value->is_int) ? cfqp_const_new_int (shape->n, dims)
                               : cfqp_const_new_float (shape->n, dims);
  if (r->n > CFQP_CONST_MAX_INTS) {
    cfqp_const_free (value);
    cfqp_const_free (r);
    node_error (imp, error, CFQP_ENGINE_ERROR_LIMIT, "constant too large");
    return FALSE;
  }
  for (gsize k = 0; k < r->n; k++) {
    if (r->is_int)
      r->i[k].v = value->i[0].v;
    else
      r->f[k] = value ? value->f[0] : 0.f;
  }
  cfqp_const_free (value);
  define_const (imp, r);
  return TRUE;
}

static gboolean
op_shape (Importer *imp, GError **error)
{
  const Sym *s;
  gint64 four = 4, start = attr_int (imp->node, "start", 0), end = attr_int (imp->node, "end", 4);
  CfqpConst *full, *r;
  gint64 n;

  if (!require_input (imp, 0, &s, error))
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
    full->i[1].v = act_channels (imp, s->value);
    for (guint d = 2; d < 4; d++) {
      full->i[d].sym = (gint32) s->value;
      full->i[d].axis = d;
    }
  } else {
    node_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED, "shape of a reshaped activation");
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
  define_const (imp, r);
  return TRUE;
}

static gboolean
op_gather (Importer *imp, GError **error)
{
  const CfqpConst *data = require_const (imp, 0, error), *idx;
  gint64 indices[64];
  CfqpConst *r;

  if (!data || !(idx = require_const (imp, 1, error)))
    return FALSE;
  if (data->ndim != 1 || normalise_axis (attr_int (imp->node, "axis", 0), 1) != 0 ||
      !cfqp_const_ints (idx, indices, G_N_ELEMENTS (indices))) {
    node_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED,
        "only gathers from 1-D constants (shape chains) are supported");
    return FALSE;
  }
  r = data->is_int ? cfqp_const_new_int (idx->ndim, idx->dims)
                   : cfqp_const_new_float (idx->ndim, idx->dims);
  for (gsize k = 0; k < idx->n; k++) {
    gint64 i = indices[k] < 0 ? indices[k] + (gint64) data->n : indices[k];
    if (i < 0 || i >= (gint64) data->n) {
      cfqp_const_free (r);
      node_error (imp, error, CFQP_ENGINE_ERROR_INVALID, "index %" G_GINT64_FORMAT
          " out of range", indices[k]);
      return FALSE;
    }
    if (r->is_int)
      r->i[k] = data->i[i];
    else
      r->f[k] = data->f[i];
  }
  define_const (imp, r);
  return TRUE;
}

/* axes from the attribute (old opsets) or the second input (opset 13+) */
static gint
get_axes (Importer *imp, gint64 *axes, GError **error)
{
  gint n = attr_ints (imp->node, "axes", axes, CFQP_CONST_MAX_DIMS);
  const Sym *s = input_sym (imp, 1);

  if (n == -2)
    return -1;
  if (n >= 0)
    return n;
  if (!s)
    return 0;
  if (s->kind != SYM_CONST || !cfqp_const_ints (s->konst, axes, CFQP_CONST_MAX_DIMS)) {
    node_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED, "axes must be constant");
    return -1;
  }
  return (gint) s->konst->n;
}

static gboolean
op_unsqueeze_squeeze (Importer *imp, gboolean unsqueeze, GError **error)
{
  const CfqpConst *c = require_const (imp, 0, error);
  gint64 axes[CFQP_CONST_MAX_DIMS], dims[CFQP_CONST_MAX_DIMS];
  gboolean marked[CFQP_CONST_MAX_DIMS] = { 0 };
  gint n_axes;
  guint nd, out = 0;
  CfqpConst *r;

  if (!c)
    return FALSE;
  n_axes = get_axes (imp, axes, error);
  if (n_axes < 0) {
    if (error && !*error)
      node_error (imp, error, CFQP_ENGINE_ERROR_LIMIT, "too many axes");
    return FALSE;
  }
  nd = unsqueeze ? c->ndim + n_axes : c->ndim;
  if (nd > CFQP_CONST_MAX_DIMS) {
    node_error (imp, error, CFQP_ENGINE_ERROR_LIMIT, "too many dimensions");
    return FALSE;
  }
  for (gint k = 0; k < n_axes; k++) {
    gint a = normalise_axis (axes[k], nd);
    if (a < 0) {
      node_error (imp, error, CFQP_ENGINE_ERROR_INVALID, "axis %" G_GINT64_FORMAT
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
  define_const (imp, r);
  return TRUE;
}

static gboolean
op_unsqueeze (Importer *imp, GError **error)
{
  return op_unsqueeze_squeeze (imp, TRUE, error);
}

static gboolean
op_squeeze (Importer *imp, GError **error)
{
  return op_unsqueeze_squeeze (imp, FALSE, error);
}

static gboolean
op_slice (Importer *imp, GError **error)
{
  const CfqpConst *c = require_const (imp, 0, error);
  gint64 starts[1], ends[1], axes[1] = { 0 }, steps[1] = { 1 }, start, end, n;
  gboolean ok = TRUE;
  CfqpConst *r;

  if (!c)
    return FALSE;
  if (imp->opset < 10) {
    ok = attr_ints (imp->node, "starts", starts, 1) == 1 &&
        attr_ints (imp->node, "ends", ends, 1) == 1;
    attr_ints (imp->node, "axes", axes, 1);
  } else {
    const Sym *s;
    for (guint k = 1; k < 5 && ok; k++) {
      gint64 *dst = k == 1 ? starts : k == 2 ? ends : k == 3 ? axes : steps;
      s = input_sym (imp, k);
      if (!s)
        ok = k >= 3;
      else
        ok = s->kind == SYM_CONST && s->konst->n == 1 && cfqp_const_ints (s->konst, dst, 1);
    }
  }
  if (!ok || c->ndim != 1 || normalise_axis (axes[0], 1) != 0 || steps[0] != 1) {
    node_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED,
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
  define_const (imp, r);
  return TRUE;
}

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
      node_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED, "pad %" G_GINT64_FORMAT
          " out of range", pads[k]);
      return NULL;
    }
  cp = &add_node (imp, op, &x, 1, (guint) oc)->p.conv;
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
  if (!(cp->weight = take_weights (imp, w, error)))
    return NULL;
  if (b && !(cp->bias = take_weights (imp, b, error)))
    return NULL;
  qdq_keep_weight_scale (imp, cp, op == CFQP_OP_CONV_TRANSPOSE);
  return cp;
}

static gboolean
op_conv (Importer *imp, GError **error)
{
  const Onnx__NodeProto *node = imp->node;
  const CfqpConst *w, *b = NULL;
  gint64 strides[2] = { 1, 1 }, dil[2] = { 1, 1 }, pads[4] = { 0, 0, 0, 0 }, ks[2];
  gint64 group = attr_int (node, "group", 1), ic;
  guint x;
  CfqpConvParams *cp;

  if (!require_act (imp, 0, &x, error) || !(w = require_const (imp, 1, error)))
    return FALSE;
  if (input_sym (imp, 2) && !(b = require_const (imp, 2, error)))
    return FALSE;
  if (w->ndim != 4) {
    node_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED, "only 2-D convolutions are supported");
    return FALSE;
  }
  if (!check_channels (imp, w->dims[0], error))
    return FALSE;
  ic = act_channels (imp, x);
  if (group < 1 || w->dims[0] % group || w->dims[1] * group != ic) {
    node_error (imp, error, CFQP_ENGINE_ERROR_INVALID,
        "weights [%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT ",…] with group %" G_GINT64_FORMAT
        " do not fit %" G_GINT64_FORMAT " input channels", w->dims[0], w->dims[1], group, ic);
    return FALSE;
  }
  if (w->dims[2] < 1 || w->dims[3] < 1 || w->dims[2] > CFQP_MAX_KERNEL ||
      w->dims[3] > CFQP_MAX_KERNEL) {
    node_error (imp, error, CFQP_ENGINE_ERROR_LIMIT, "kernel %" G_GINT64_FORMAT "×%"
        G_GINT64_FORMAT " (at most %d)", w->dims[2], w->dims[3], CFQP_MAX_KERNEL);
    return FALSE;
  }
  if (attr_ints (node, "kernel_shape", ks, 2) == 2 && (ks[0] != w->dims[2] || ks[1] != w->dims[3])) {
    node_error (imp, error, CFQP_ENGINE_ERROR_INVALID, "kernel_shape disagrees with the weights");
    return FALSE;
  }
  if (b && b->n != (gsize) w->dims[0]) {
    node_error (imp, error, CFQP_ENGINE_ERROR_INVALID, "bias has %zu elements for %"
        G_GINT64_FORMAT " outputs", b->n, w->dims[0]);
    return FALSE;
  }
  if (attr_ints (node, "strides", strides, 2) == -2 || attr_ints (node, "dilations", dil, 2) == -2 ||
      attr_ints (node, "pads", pads, 4) == -2 ||
      strides[0] < 1 || strides[1] < 1 || strides[0] > 8 || strides[1] > 8 ||
      dil[0] < 1 || dil[1] < 1 || dil[0] > CFQP_MAX_KERNEL || dil[1] > CFQP_MAX_KERNEL) {
    node_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED, "strides/dilations/pads out of range");
    return FALSE;
  }
  if (!(cp = add_conv_node (imp, CFQP_OP_CONV, x, ic, w->dims[0], group, w, b, strides, dil,
          pads, error)))
    return FALSE;
  if (attr_string_is (node, "auto_pad", "NOTSET", "SAME_UPPER"))
    cp->auto_pad = 1;
  else if (attr_string_is (node, "auto_pad", "NOTSET", "SAME_LOWER"))
    cp->auto_pad = 2;
  else if (attr_string_is (node, "auto_pad", "NOTSET", "VALID"))
    cp->pad_t = cp->pad_l = cp->pad_b = cp->pad_r = 0;
  return TRUE;
}

static gboolean
op_conv_transpose (Importer *imp, GError **error)
{
  const Onnx__NodeProto *node = imp->node;
  const CfqpConst *w, *b = NULL;
  gint64 strides[2] = { 1, 1 }, dil[2] = { 1, 1 }, pads[4] = { 0, 0, 0, 0 }, opad[2] = { 0, 0 };
  gint64 group = attr_int (node, "group", 1), ic, oc, tmp[4];
  guint x;
  CfqpConvParams *cp;

  if (!require_act (imp, 0, &x, error) || !(w = require_const (imp, 1, error)))
    return FALSE;
  if (input_sym (imp, 2) && !(b = require_const (imp, 2, error)))
    return FALSE;
  if (w->ndim != 4) {
    node_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED, "only 2-D transposed convolutions");
    return FALSE;
  }
  ic = act_channels (imp, x);
  oc = w->dims[1] * group;
  if (group < 1 || w->dims[0] != ic || ic % group || !check_channels (imp, oc, error)) {
    if (error && !*error)
      node_error (imp, error, CFQP_ENGINE_ERROR_INVALID, "weights do not fit %" G_GINT64_FORMAT
          " input channels with group %" G_GINT64_FORMAT, ic, group);
    return FALSE;
  }
  if (w->dims[2] < 1 || w->dims[3] < 1 || w->dims[2] > CFQP_MAX_KERNEL || w->dims[3] > CFQP_MAX_KERNEL) {
    node_error (imp, error, CFQP_ENGINE_ERROR_LIMIT, "kernel too large");
    return FALSE;
  }
  if (b && b->n != (gsize) oc) {
    node_error (imp, error, CFQP_ENGINE_ERROR_INVALID, "bias size mismatch");
    return FALSE;
  }
  if (attr_ints (node, "output_shape", tmp, 4) != -1 ||
      !(attr_string_is (node, "auto_pad", "NOTSET", "NOTSET") ||
        attr_string_is (node, "auto_pad", "NOTSET", "VALID"))) {
    node_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED,
        "output_shape and SAME auto_pad are not supported (use pads/output_padding)");
    return FALSE;
  }
  if (attr_ints (node, "strides", strides, 2) == -2 || attr_ints (node, "dilations", dil, 2) == -2 ||
      attr_ints (node, "pads", pads, 4) == -2 || attr_ints (node, "output_padding", opad, 2) == -2 ||
      strides[0] < 1 || strides[1] < 1 || strides[0] > 8 || strides[1] > 8 || dil[0] < 1 ||
      dil[1] < 1 || dil[0] > 8 || dil[1] > 8 || opad[0] < 0 || opad[1] < 0 ||
      opad[0] >= MAX (strides[0], dil[0]) || opad[1] >= MAX (strides[1], dil[1])) {
    node_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED, "strides/dilations/output_padding out of range");
    return FALSE;
  }
  if (!(cp = add_conv_node (imp, CFQP_OP_CONV_TRANSPOSE, x, ic, oc, group, w, b, strides, dil,
          pads, error)))
    return FALSE;
  if (attr_string_is (node, "auto_pad", "NOTSET", "VALID"))
    cp->pad_t = cp->pad_l = cp->pad_b = cp->pad_r = 0;
  cp->output_pad_h = (guint) opad[0];
  cp->output_pad_w = (guint) opad[1];
  return TRUE;
}

/* Relu, LeakyRelu, PRelu, Clip: a standalone activation node; the fusion
 * pass moves it into its producer. */
static gboolean
op_activation (Importer *imp, GError **error)
{
  const char *type = imp->node->op_type;
  CfqpActivation act = { CFQP_ACT_NONE, 0, -INFINITY, INFINITY, NULL, 0 };
  const Sym *s;
  guint x;
  CfqpNode *n;

  if (!require_input (imp, 0, &s, error))
    return FALSE;
  if (!strcmp (type, "Relu")) {
    act.kind = CFQP_ACT_RELU;
  } else if (!strcmp (type, "LeakyRelu")) {
    act.kind = CFQP_ACT_LEAKY_RELU;
    act.alpha = attr_float (imp->node, "alpha", 0.01f);
  } else if (!strcmp (type, "Clip")) {
    act.kind = CFQP_ACT_CLIP;
    if (imp->opset < 11) {
      act.lo = attr_float (imp->node, "min", -INFINITY);
      act.hi = attr_float (imp->node, "max", INFINITY);
    } else {
      for (guint k = 1; k <= 2; k++) {
        const CfqpConst *c;
        double v;
        if (!input_sym (imp, k))
          continue;
        if (!(c = require_const (imp, k, error)))
          return FALSE;
        if (c->n != 1 || !cfqp_const_get_known (c, 0, &v)) {
          node_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED, "bounds must be scalars");
          return FALSE;
        }
        if (k == 1) act.lo = (float) v; else act.hi = (float) v;
      }
    }
  } else { /* PRelu */
    const CfqpConst *slope;
    act.kind = CFQP_ACT_PRELU;
    if (s->kind != SYM_ACT) {
      node_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED, "PRelu of a constant");
      return FALSE;
    }
    if (!(slope = require_const (imp, 1, error)) ||
        !channel_constant (imp, slope, act_channels (imp, s->value), &act.slopes,
            &act.n_slopes, error))
      return FALSE;
  }

  if (s->kind == SYM_CONST && !s->konst->is_int) {
    CfqpConst *r = cfqp_const_copy (s->konst);
    for (gsize k = 0; k < r->n; k++)
      r->f[k] = cfqp_activation_apply (&act, 0, r->f[k]);
    define_const (imp, r);
    return TRUE;
  }
  if (!require_act (imp, 0, &x, error)) {
    cfqp_activation_clear (&act);
    return FALSE;
  }
  n = add_node (imp, CFQP_OP_ACTIVATION, &x, 1, act_channels (imp, x));
  n->act = act;
  return TRUE;
}

static gboolean
op_binary (Importer *imp, GError **error)
{
  const char *type = imp->node->op_type;
  CfqpBinaryKind kind = !strcmp (type, "Add") ? CFQP_BINARY_ADD
      : !strcmp (type, "Sub") ? CFQP_BINARY_SUB
      : !strcmp (type, "Mul") ? CFQP_BINARY_MUL : CFQP_BINARY_DIV;
  const Sym *a, *b;
  CfqpNode *n;

  if (!require_input (imp, 0, &a, error) || !require_input (imp, 1, &b, error))
    return FALSE;
  if (a->kind == SYM_CONST && b->kind == SYM_CONST) {
    CfqpConst *r = fold_binary (type, a->konst, b->konst);
    if (!r) {
      node_error (imp, error, CFQP_ENGINE_ERROR_INVALID, "constant shapes do not broadcast");
      return FALSE;
    }
    define_const (imp, r);
    return TRUE;
  }
  if (a->kind == SYM_ACT && b->kind == SYM_ACT) {
    guint in[2] = { a->value, b->value };
    guint ca = act_channels (imp, a->value), cb = act_channels (imp, b->value);
    if (ca != cb && ca != 1 && cb != 1) {
      node_error (imp, error, CFQP_ENGINE_ERROR_INVALID,
          "operands have %u and %u channels", ca, cb);
      return FALSE;
    }
    n = add_node (imp, CFQP_OP_BINARY, in, 2, MAX (ca, cb));
    n->p.binary.kind = kind;
    return TRUE;
  }
  if ((a->kind == SYM_ACT && b->kind == SYM_CONST) || (a->kind == SYM_CONST && b->kind == SYM_ACT)) {
    const Sym *act = a->kind == SYM_ACT ? a : b, *k = a->kind == SYM_ACT ? b : a;
    guint channels = act_channels (imp, act->value);
    float *values;
    guint n_values;

    if (!channel_constant (imp, k->konst, channels, &values, &n_values, error))
      return FALSE;
    n = add_node (imp, CFQP_OP_BINARY, &act->value, 1, channels);
    n->p.binary.kind = kind;
    n->p.binary.constant = values;
    n->p.binary.n_constant = n_values;
    n->p.binary.constant_first = a->kind == SYM_CONST;
    return TRUE;
  }
  node_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED, "operand is a reshaped view");
  return FALSE;
}

static gboolean
op_concat (Importer *imp, GError **error)
{
  const Onnx__NodeProto *node = imp->node;
  gint64 axis = attr_int (node, "axis", 1);
  guint n_in = (guint) node->n_input, n_act = 0, channels = 0;
  g_autofree const CfqpConst **parts = NULL;
  g_autofree guint *values = NULL;

  if (n_in == 0) {
    node_error (imp, error, CFQP_ENGINE_ERROR_INVALID, "no inputs");
    return FALSE;
  }
  if (n_in > CFQP_MAX_CHANNELS) {
    node_error (imp, error, CFQP_ENGINE_ERROR_LIMIT, "%u inputs (at most %d)", n_in,
        CFQP_MAX_CHANNELS);
    return FALSE;
  }
  parts = g_new0 (const CfqpConst *, n_in);
  values = g_new0 (guint, n_in);
  for (guint k = 0; k < n_in; k++) {
    const Sym *s;
    if (!require_input (imp, k, &s, error))
      return FALSE;
    if (s->kind == SYM_ACT) {
      values[n_act++] = s->value;
      channels += act_channels (imp, s->value);
    } else if (s->kind == SYM_CONST) {
      parts[k] = s->konst;
    } else {
      node_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED, "operand is a reshaped view");
      return FALSE;
    }
  }
  if (n_act == 0) {
    CfqpConst *r = fold_concat (parts, n_in, axis);
    if (!r) {
      node_error (imp, error, CFQP_ENGINE_ERROR_INVALID, "constant shapes do not concatenate");
      return FALSE;
    }
    define_const (imp, r);
    return TRUE;
  }
  if (n_act != n_in || normalise_axis (axis, 4) != 1) {
    node_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED,
        "only concatenation of activations along channels (axis 1) is supported");
    return FALSE;
  }
  if (!check_channels (imp, channels, error))
    return FALSE;
  add_node (imp, CFQP_OP_CONCAT, values, n_act, channels);
  return TRUE;
}

static gboolean
op_depth_to_space (Importer *imp, GError **error)
{
  gint64 block = attr_int (imp->node, "blocksize", 0);
  gboolean crd = attr_string_is (imp->node, "mode", "DCR", "CRD");
  guint x, c;
  CfqpNode *n;

  if (!require_act (imp, 0, &x, error))
    return FALSE;
  c = act_channels (imp, x);
  if (block < 1 || block > CFQP_MAX_SCALE * 2 || c % (block * block)) {
    node_error (imp, error, CFQP_ENGINE_ERROR_INVALID, "blocksize %" G_GINT64_FORMAT
        " does not divide %u channels", block, c);
    return FALSE;
  }
  n = add_node (imp, CFQP_OP_DEPTH_TO_SPACE, &x, 1, c / (guint) (block * block));
  n->p.shuffle.block = (guint) block;
  n->p.shuffle.mode = crd ? CFQP_D2S_CRD : CFQP_D2S_DCR;
  return TRUE;
}

static gboolean
op_space_to_depth (Importer *imp, GError **error)
{
  gint64 block = attr_int (imp->node, "blocksize", 0);
  guint x;
  CfqpNode *n;

  if (!require_act (imp, 0, &x, error))
    return FALSE;
  if (block < 1 || block > CFQP_MAX_SCALE * 2 ||
      !check_channels (imp, act_channels (imp, x) * block * block, error)) {
    if (error && !*error)
      node_error (imp, error, CFQP_ENGINE_ERROR_INVALID, "blocksize %" G_GINT64_FORMAT, block);
    return FALSE;
  }
  n = add_node (imp, CFQP_OP_SPACE_TO_DEPTH, &x, 1, act_channels (imp, x) * block * block);
  n->p.shuffle.block = (guint) block;
  n->p.shuffle.mode = CFQP_D2S_DCR;
  return TRUE;
}

/* --- reshape patterns ---------------------------------------------------- */

/* Is dimension d of a shape "axis `axis` of value v, unchanged"? 0 (copy)
 * and -1 (infer) count too: the channel dims pin everything else. */
static gboolean
dim_is_same (const CfqpConst *shape, guint d, guint value, guint axis)
{
  const CfqpSymInt *e;
  if (!shape->is_int || d >= shape->n)
    return FALSE;
  e = &shape->i[d];
  if (e->sym == (gint32) value && e->axis == axis && e->num == e->den)
    return TRUE;
  return e->sym == CFQP_SYM_KNOWN && (e->v == 0 || e->v == -1);
}

/* Dimension d of an integer shape when known; -1 for a symbolic one or
 * for one the shape does not have. */
static gint64
known_dim (const CfqpConst *shape, guint d)
{
  if (!shape->is_int || d >= shape->n)
    return -1;
  return shape->i[d].sym == CFQP_SYM_KNOWN ? shape->i[d].v : -1;
}

static gboolean
perm_is (const Sym *s, const gint64 *perm, guint n)
{
  return s->nperm == n && memcmp (s->perm, perm, n * sizeof (gint64)) == 0;
}

static gboolean
add_shuffle (Importer *imp, CfqpOpType op, CfqpD2SMode mode, guint value, gint64 block,
    const CfqpConst *out_shape, GError **error)
{
  guint c = act_channels (imp, value), out_c;
  CfqpNode *n;

  if (block < 1 || block > 2 * CFQP_MAX_SCALE ||
      (op == CFQP_OP_DEPTH_TO_SPACE && c % (block * block))) {
    node_error (imp, error, CFQP_ENGINE_ERROR_INVALID, "pixel shuffle block %" G_GINT64_FORMAT
        " does not fit %u channels", block, c);
    return FALSE;
  }
  out_c = op == CFQP_OP_DEPTH_TO_SPACE ? c / (guint) (block * block) : c * (guint) (block * block);
  if (!check_channels (imp, out_c, error))
    return FALSE;
  if (out_shape->n != 4 || (known_dim (out_shape, 1) > 0 && known_dim (out_shape, 1) != out_c)) {
    node_error (imp, error, CFQP_ENGINE_ERROR_INVALID,
        "pixel shuffle pattern ends in a shape that is not [1,%u,H,W]", out_c);
    return FALSE;
  }
  n = add_node (imp, op, &value, 1, out_c);
  n->p.shuffle.block = (guint) block;
  n->p.shuffle.mode = mode;
  return TRUE;
}

/* Reshape(6-D) → Transpose → Reshape(4-D), as exporters write pixel
 * (un)shuffle when DepthToSpace/SpaceToDepth is unavailable or unused. */
static gboolean
match_shuffle (Importer *imp, const Sym *t, const CfqpConst *out_shape, GError **error)
{
  static const gint64 d2s_crd[] = { 0, 1, 4, 2, 5, 3 }, d2s_dcr[] = { 0, 3, 4, 1, 5, 2 };
  static const gint64 s2d_crd[] = { 0, 1, 3, 5, 2, 4 }, s2d_dcr[] = { 0, 3, 5, 1, 2, 4 };
  const CfqpConst *r = t->konst;

  if (r->n == 6 && perm_is (t, d2s_crd, 6) && known_dim (r, 2) > 0 && known_dim (r, 2) == known_dim (r, 3))
    return add_shuffle (imp, CFQP_OP_DEPTH_TO_SPACE, CFQP_D2S_CRD, t->value, known_dim (r, 2),
        out_shape, error);
  if (r->n == 6 && perm_is (t, d2s_dcr, 6) && known_dim (r, 1) > 0 && known_dim (r, 1) == known_dim (r, 2))
    return add_shuffle (imp, CFQP_OP_DEPTH_TO_SPACE, CFQP_D2S_DCR, t->value, known_dim (r, 1),
        out_shape, error);
  if (r->n == 6 && perm_is (t, s2d_crd, 6) && known_dim (r, 3) > 0 && known_dim (r, 3) == known_dim (r, 5))
    return add_shuffle (imp, CFQP_OP_SPACE_TO_DEPTH, CFQP_D2S_CRD, t->value, known_dim (r, 3),
        out_shape, error);
  if (r->n == 6 && perm_is (t, s2d_dcr, 6) && known_dim (r, 3) > 0 && known_dim (r, 3) == known_dim (r, 5))
    return add_shuffle (imp, CFQP_OP_SPACE_TO_DEPTH, CFQP_D2S_DCR, t->value, known_dim (r, 3),
        out_shape, error);
  node_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED,
      "Reshape→Transpose→Reshape is not a recognised pixel (un)shuffle pattern");
  return FALSE;
}

static gboolean
is_identity_shape (Importer *imp, const CfqpConst *shape, guint value)
{
  return shape->n == 4 && (known_dim (shape, 0) == 1 || known_dim (shape, 0) == 0) &&
      (known_dim (shape, 1) == (gint64) act_channels (imp, value) || known_dim (shape, 1) == 0) &&
      dim_is_same (shape, 2, value, 2) && dim_is_same (shape, 3, value, 3);
}

static gboolean
add_tile (Importer *imp, guint value, guint repeats, gboolean interleave, GError **error)
{
  CfqpNode *n;
  if (!check_channels (imp, (gint64) act_channels (imp, value) * repeats, error))
    return FALSE;
  n = add_node (imp, CFQP_OP_TILE_CHANNELS, &value, 1, act_channels (imp, value) * repeats);
  n->p.tile.repeats = repeats;
  n->p.tile.interleave = interleave;
  return TRUE;
}

static gboolean
op_reshape (Importer *imp, GError **error)
{
  const Sym *s;
  const CfqpConst *shape;
  Sym *r;

  if (!require_input (imp, 0, &s, error) || !(shape = require_shape (imp, 1, error)))
    return FALSE;
  switch (s->kind) {
    case SYM_QUANTIZED:
      node_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED,
          "input '%s' is quantised: reshape its DequantizeLinear output", imp->node->input[0]);
      return FALSE;
    case SYM_CONST: {
      gint64 dims[CFQP_CONST_MAX_DIMS];
      CfqpConst *c;
      if (!cfqp_const_ints (shape, dims, CFQP_CONST_MAX_DIMS) ||
          !(c = fold_reshape (s->konst, dims, (guint) shape->n))) {
        node_error (imp, error, CFQP_ENGINE_ERROR_INVALID, "cannot reshape constant");
        return FALSE;
      }
      define_const (imp, c);
      return TRUE;
    }
    case SYM_TRANSPOSED:
      /* After the transpose the element order is fixed: reshapes only
       * regroup dimensions, so the pattern ends wherever the view is 4-D. */
      if (shape->n == 4)
        return match_shuffle (imp, s, shape, error);
      r = g_memdup2 (s, sizeof (Sym));
      r->konst = cfqp_const_copy (s->konst);
      r->view_ndim = (guint) shape->n;
      define (imp, r);
      return TRUE;
    case SYM_RESHAPED:
      if (s->expanded) {
        /* [1,C,r,H,W] → [1,C·r,H,W]: repeat_interleave along channels */
        guint c = act_channels (imp, s->value);
        gint64 rep = known_dim (s->konst, 2);
        if (shape->n == 4 && (known_dim (shape, 1) == (gint64) c * rep || known_dim (shape, 1) == -1))
          return add_tile (imp, s->value, (guint) rep, TRUE, error);
        node_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED, "unrecognised expand/reshape pattern");
        return FALSE;
      }
      if (is_identity_shape (imp, shape, s->value))
        break;
      /* a reshape of a reshape keeps only the last shape, its zeros
       * copying the previous view's dimensions */
      r = g_new0 (Sym, 1);
      r->kind = SYM_RESHAPED;
      r->value = s->value;
      r->konst = cfqp_const_copy (shape);
      for (guint d = 0; d < shape->n && d < s->konst->n; d++)
        if (known_dim (shape, d) == 0)
          r->konst->i[d] = s->konst->i[d];
      define (imp, r);
      return TRUE;
    case SYM_ACT:
      if (is_identity_shape (imp, shape, s->value))
        break;
      r = g_new0 (Sym, 1);
      r->kind = SYM_RESHAPED;
      r->value = s->value;
      r->konst = cfqp_const_copy (shape);
      define (imp, r);
      return TRUE;
  }
  define_act (imp, s->value);
  return TRUE;
}

static gboolean
op_transpose (Importer *imp, GError **error)
{
  const Sym *s;
  gint64 perm[CFQP_CONST_MAX_DIMS] = { 0 };
  gint n;
  Sym *r;

  if (!require_input (imp, 0, &s, error))
    return FALSE;
  n = attr_ints (imp->node, "perm", perm, CFQP_CONST_MAX_DIMS);
  if (s->kind == SYM_CONST) {
    CfqpConst *c;
    if (n == -1) {
      n = s->konst->ndim;
      for (gint d = 0; d < n; d++)
        perm[d] = n - 1 - d;
    }
    if (n != (gint) s->konst->ndim || !(c = fold_transpose (s->konst, perm))) {
      node_error (imp, error, CFQP_ENGINE_ERROR_INVALID, "bad permutation");
      return FALSE;
    }
    define_const (imp, c);
    return TRUE;
  }
  if (s->kind == SYM_ACT && n == 4 && perm[0] == 0 && perm[1] == 1 && perm[2] == 2 && perm[3] == 3) {
    define_act (imp, s->value);
    return TRUE;
  }
  if (s->kind != SYM_RESHAPED || s->expanded || n != (gint) s->konst->n) {
    node_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED,
        "transposes are supported only inside pixel (un)shuffle patterns");
    return FALSE;
  }
  r = g_new0 (Sym, 1);
  r->kind = SYM_TRANSPOSED;
  r->value = s->value;
  r->konst = cfqp_const_copy (s->konst);
  r->nperm = (guint) n;
  r->view_ndim = (guint) n;
  memcpy (r->perm, perm, n * sizeof (gint64));
  define (imp, r);
  return TRUE;
}

/* Resize / Upsample, nearest, integer scales.  Every coordinate mode that
 * maps output y to input floor(y/s) for integer s is accepted. */
static gboolean
op_resize (Importer *imp, GError **error)
{
  const Onnx__NodeProto *node = imp->node;
  gboolean upsample = !strcmp (node->op_type, "Upsample");
  g_autofree char *mode = attr_string (node, "mode", "nearest");
  g_autofree char *ctm = attr_string (node, "coordinate_transformation_mode",
      upsample || imp->opset < 11 ? "asymmetric" : "half_pixel");
  g_autofree char *nm = attr_string (node, "nearest_mode",
      upsample || imp->opset < 11 ? "floor" : "round_prefer_floor");
  double scales[4] = { 1, 1, 0, 0 };
  const Sym *ss = NULL;
  guint x;
  CfqpNode *n;

  if (!require_act (imp, 0, &x, error))
    return FALSE;
  if (strcmp (mode, "nearest") != 0) {
    node_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED, "mode '%s' (only nearest)", mode);
    return FALSE;
  }
  if (!((!strcmp (ctm, "asymmetric") && !strcmp (nm, "floor")) ||
        ((!strcmp (ctm, "half_pixel") || !strcmp (ctm, "pytorch_half_pixel")) &&
         g_str_has_prefix (nm, "round_prefer_")))) {
    node_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED,
        "coordinate mode '%s' with nearest mode '%s'", ctm, nm);
    return FALSE;
  }
  if (upsample && imp->opset < 9) {
    const Onnx__AttributeProto *a = find_attr (node, "scales");
    if (a && a->n_floats == 4)
      for (guint k = 0; k < 4; k++)
        scales[k] = a->floats[k];
  } else {
    guint scales_input = (upsample || imp->opset < 11) ? 1 : 2;
    const Sym *sz = imp->opset >= 11 && !upsample ? input_sym (imp, 3) : NULL;
    ss = input_sym (imp, scales_input);
    if (ss && ss->kind == SYM_CONST && ss->konst->n == 4) {
      for (guint k = 0; k < 4; k++)
        cfqp_const_get_known (ss->konst, k, &scales[k]);
    } else if (sz && sz->kind == SYM_CONST && sz->konst->n == 4 && sz->konst->is_int) {
      /* sizes = [N, C, H·s, W·s] computed from Shape(x) */
      for (guint d = 2; d < 4; d++) {
        const CfqpSymInt *e = &sz->konst->i[d];
        if (e->sym == (gint32) x && e->axis == d && e->num % e->den == 0)
          scales[d] = (double) (e->num / e->den);
      }
    }
  }
  for (guint d = 2; d < 4; d++)
    if (scales[d] < 1 || scales[d] > 2 * CFQP_MAX_SCALE || scales[d] != floor (scales[d])) {
      node_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED,
          "scales must be constant integers ≥ 1 on H and W (got %g, %g)", scales[2], scales[3]);
      return FALSE;
    }
  if (scales[0] != 1 || scales[1] != 1) {
    node_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED, "batch/channel scales must be 1");
    return FALSE;
  }
  n = add_node (imp, CFQP_OP_RESIZE_NEAREST, &x, 1, act_channels (imp, x));
  n->p.resize.scale_h = (guint) scales[2];
  n->p.resize.scale_w = (guint) scales[3];
  return TRUE;
}

static gboolean
op_tile (Importer *imp, GError **error)
{
  const CfqpConst *rep;
  gint64 r[4];
  guint x;

  if (!require_act (imp, 0, &x, error) || !(rep = require_const (imp, 1, error)))
    return FALSE;
  if (!cfqp_const_ints (rep, r, 4) || rep->n != 4 || r[0] != 1 || r[2] != 1 || r[3] != 1 ||
      r[1] < 1) {
    node_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED,
        "only channel repeats [1,k,1,1] are supported");
    return FALSE;
  }
  if (r[1] == 1) {
    define_act (imp, x);
    return TRUE;
  }
  return add_tile (imp, x, (guint) r[1], FALSE, error);
}

static gboolean
op_expand (Importer *imp, GError **error)
{
  const Sym *s;
  const CfqpConst *shape;
  Sym *r;

  if (!require_input (imp, 0, &s, error) || !(shape = require_shape (imp, 1, error)))
    return FALSE;
  if (s->kind == SYM_ACT && shape->n <= 4) {
    guint c = act_channels (imp, s->value);
    gint64 target = shape->n >= 3 ? known_dim (shape, shape->n - 3) : 1;
    gboolean spatial_ok = TRUE;
    for (guint d = shape->n >= 2 ? shape->n - 2 : 0; d < shape->n; d++)
      spatial_ok = spatial_ok && (shape->i[d].sym != CFQP_SYM_KNOWN || shape->i[d].v == 1);
    if (spatial_ok && (target == 1 || target == (gint64) c)) {
      define_act (imp, s->value);
      return TRUE;
    }
    if (spatial_ok && c == 1 && target > 1)
      return add_tile (imp, s->value, (guint) target, FALSE, error);
  }
  /* Unsqueeze(x, 2) → Expand([1,C,r,H,W]) → Reshape: repeat_interleave */
  if (s->kind == SYM_RESHAPED && !s->expanded && s->konst->n == 5 && shape->n == 5 &&
      known_dim (s->konst, 2) == 1 && known_dim (shape, 2) > 1 &&
      known_dim (shape, 2) <= CFQP_MAX_CHANNELS) {
    r = g_new0 (Sym, 1);
    r->kind = SYM_RESHAPED;
    r->value = s->value;
    r->konst = cfqp_const_copy (s->konst);
    r->konst->i[2].v = known_dim (shape, 2);
    r->expanded = TRUE;
    define (imp, r);
    return TRUE;
  }
  node_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED,
      "only channel broadcasts of a 1-channel tensor and repeat_interleave patterns");
  return FALSE;
}

/* Unsqueeze of an activation starts a view: repeat_interleave
 * (axis 2, then Expand) or a pixel shuffle written with extra unit dims. */
static gboolean
op_unsqueeze_any (Importer *imp, GError **error)
{
  const Sym *s;
  gint64 axes[CFQP_CONST_MAX_DIMS], nd;
  gboolean marked[CFQP_CONST_MAX_DIMS] = { 0 };
  gint n;
  Sym *r;

  if (!require_input (imp, 0, &s, error))
    return FALSE;
  if (s->kind == SYM_CONST)
    return op_unsqueeze (imp, error);
  n = get_axes (imp, axes, error);
  nd = 4 + n;
  if (s->kind != SYM_ACT || n < 1 || nd > CFQP_CONST_MAX_DIMS) {
    if (error && !*error)
      node_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED,
          "unsqueeze of an activation is supported only inside shuffle/repeat patterns");
    return FALSE;
  }
  for (gint k = 0; k < n; k++) {
    gint a = normalise_axis (axes[k], (guint) nd);
    if (a < 0) {
      node_error (imp, error, CFQP_ENGINE_ERROR_INVALID, "axis out of range");
      return FALSE;
    }
    marked[a] = TRUE;
  }
  r = g_new0 (Sym, 1);
  r->kind = SYM_RESHAPED;
  r->value = s->value;
  r->konst = cfqp_const_new_int (1, &nd);
  for (guint d = 0, src = 0; d < nd; d++) {
    if (marked[d]) {
      r->konst->i[d].v = 1;
      continue;
    }
    if (src < 2) {
      r->konst->i[d].v = src == 0 ? 1 : act_channels (imp, s->value);
    } else {
      r->konst->i[d].sym = (gint32) s->value;
      r->konst->i[d].axis = src;
    }
    src++;
  }
  define (imp, r);
  return TRUE;
}

/* Squeeze of a constant, or the end of a shuffle pattern's view. */
static gboolean
op_squeeze_any (Importer *imp, GError **error)
{
  const Sym *s;
  gint64 axes[CFQP_CONST_MAX_DIMS];
  gint n;
  Sym *r;

  if (!require_input (imp, 0, &s, error))
    return FALSE;
  if (s->kind == SYM_CONST)
    return op_squeeze (imp, error);
  n = get_axes (imp, axes, error);
  if (s->kind != SYM_TRANSPOSED || n < 1 || (guint) n >= s->view_ndim) {
    if (error && !*error)
      node_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED,
          "squeeze of an activation is supported only inside pixel shuffle patterns");
    return FALSE;
  }
  if (s->view_ndim - n == 4) {
    gint64 four = 4;
    g_autoptr (GPtrArray) keep = g_ptr_array_new_with_free_func ((GDestroyNotify) cfqp_const_free);
    CfqpConst *shape = cfqp_const_new_int (1, &four);
    g_ptr_array_add (keep, shape);
    for (guint d = 0; d < 4; d++)
      shape->i[d].v = d == 0 ? 1 : -1;
    return match_shuffle (imp, s, shape, error);
  }
  r = g_memdup2 (s, sizeof (Sym));
  r->konst = cfqp_const_copy (s->konst);
  r->view_ndim = s->view_ndim - n;
  define (imp, r);
  return TRUE;
}

/* --- driver -------------------------------------------------------------- */

static const struct {
  const char *op_type;
  OpHandler handler;
} handlers[] = {
  { "Conv", op_conv },
  { "ConvTranspose", op_conv_transpose },
  { "Relu", op_activation },
  { "LeakyRelu", op_activation },
  { "PRelu", op_activation },
  { "Clip", op_activation },
  { "Add", op_binary },
  { "Sub", op_binary },
  { "Mul", op_binary },
  { "Div", op_binary },
  { "Concat", op_concat },
  { "DepthToSpace", op_depth_to_space },
  { "SpaceToDepth", op_space_to_depth },
  { "Reshape", op_reshape },
  { "Transpose", op_transpose },
  { "Resize", op_resize },
  { "Upsample", op_resize },
  { "Tile", op_tile },
  { "Expand", op_expand },
  { "Identity", op_identity },
  { "Dropout", op_identity },
  { "Constant", op_constant },
  { "ConstantOfShape", op_constant_of_shape },
  { "Shape", op_shape },
  { "Gather", op_gather },
  { "Cast", op_cast },
  { "Unsqueeze", op_unsqueeze_any },
  { "Squeeze", op_squeeze_any },
  { "Slice", op_slice },
  { "QuantizeLinear", op_quantize_linear },
  { "DequantizeLinear", op_dequantize_linear },
};

static gboolean
import_input (Importer *imp, const Onnx__GraphProto *graph, GError **error)
{
  const Onnx__ValueInfoProto *input = NULL;
  const Onnx__TypeProto__Tensor *tt;
  gint64 channels = -1;
  guint n_inputs = 0;

  for (gsize i = 0; i < graph->n_input; i++) {
    const char *name = graph->input[i]->name;
    if (name && g_hash_table_contains (imp->syms, name))
      continue;  /* an initializer listed as input (IR < 4) */
    input = graph->input[i];
    n_inputs++;
  }
  if (n_inputs != 1) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID,
        "the graph has %u inputs: an SR model has exactly one image input", n_inputs);
    return FALSE;
  }
  if (!input->name || !input->type || input->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE ||
      !(tt = input->type->tensor_type) ||
      (tt->has_elem_type && tt->elem_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT)) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID,
        "input '%s' is not a float tensor", input->name ? input->name : "?");
    return FALSE;
  }
  if (tt->shape && tt->shape->n_dim == 4 &&
      tt->shape->dim[1]->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE)
    channels = tt->shape->dim[1]->dim_value;
  if (!tt->shape || tt->shape->n_dim != 4 || (channels != 1 && channels != 3)) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID,
        "input '%s' must be NCHW with 3 (RGB) or 1 (luma) channels", input->name);
    return FALSE;
  }
  cfqp_graph_add_value (imp->graph, input->name, (guint) channels, -1);
  {
    Sym *s = g_new0 (Sym, 1);
    s->kind = SYM_ACT;
    s->value = 0;
    g_hash_table_replace (imp->syms, g_strdup (input->name), s);
  }
  return TRUE;
}

static gboolean
import_graph (Importer *imp, const Onnx__GraphProto *graph, GError **error)
{
  const Sym *out;

  if (graph->n_node > CFQP_MAX_NODES) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_LIMIT,
        "%zu nodes (at most %d)", graph->n_node, CFQP_MAX_NODES);
    return FALSE;
  }
  for (gsize i = 0; i < graph->n_initializer; i++) {
    const Onnx__TensorProto *t = graph->initializer[i];
    CfqpConst *c;
    Sym *s;
    if (!t->name) {
      g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_PARSE, "unnamed initializer");
      return FALSE;
    }
    if (!(c = cfqp_const_from_tensor (t, error)))
      return FALSE;
    g_hash_table_replace (imp->elem_types, g_strdup (t->name), GINT_TO_POINTER (t->data_type));
    s = g_new0 (Sym, 1);
    s->kind = SYM_CONST;
    s->konst = c;
    g_hash_table_replace (imp->syms, g_strdup (t->name), s);
  }
  if (!import_input (imp, graph, error))
    return FALSE;

  for (gsize i = 0; i < graph->n_node; i++) {
    const Onnx__NodeProto *node = graph->node[i];
    g_autofree char *fallback = g_strdup_printf ("#%zu", i);
    OpHandler handler = NULL;

    imp->node = node;
    imp->node_name = node->name && *node->name ? node->name
        : node->n_output > 0 && node->output[0] && *node->output[0] ? node->output[0] : fallback;
    if (!node->op_type || node->n_output < 1 || !node->output[0] || !*node->output[0]) {
      g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_PARSE,
          "node '%s' has no op type or no output", imp->node_name);
      return FALSE;
    }
    if (node->domain && *node->domain && strcmp (node->domain, "ai.onnx") != 0) {
      node_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED, "domain '%s' is not supported",
          node->domain);
      return FALSE;
    }
    for (guint h = 0; h < G_N_ELEMENTS (handlers); h++)
      if (!strcmp (handlers[h].op_type, node->op_type))
        handler = handlers[h].handler;
    if (!handler) {
      node_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED, "op %s is not supported",
          node->op_type);
      return FALSE;
    }
    if (!handler (imp, error)) {
      if (error && !*error)
        node_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED, "could not be imported");
      return FALSE;
    }
    if (imp->graph->n_nodes > CFQP_MAX_NODES) {
      g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_LIMIT, "too many nodes");
      return FALSE;
    }
  }

  if (graph->n_output != 1 || !graph->output[0]->name) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID,
        "the graph has %zu outputs: an SR model has exactly one", graph->n_output);
    return FALSE;
  }
  out = g_hash_table_lookup (imp->syms, graph->output[0]->name);
  if (!out || out->kind != SYM_ACT) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID,
        "output '%s' is not an image tensor computed from the input", graph->output[0]->name);
    return FALSE;
  }
  imp->graph->output = out->value;
  return TRUE;
}

/* protobuf-c unpacks nested messages recursively with no depth bound: a
 * hostile file of a few MB nesting Graph → Node → Attribute.g → Graph …
 * 100k deep overflows the stack.  So the wire format is walked first
 * (iteratively per message, recursing only into message-typed fields, at
 * most MAX_NESTING deep).  ONNX models nest a handful of levels (subgraphs
 * of If/Loop add a few each).  Anything the walk cannot parse protobuf-c
 * would not either: refused as well. */
#define MAX_NESTING 64

typedef enum { WIRE_OK, WIRE_TOO_DEEP, WIRE_MALFORMED } WireCheck;

static gboolean
wire_varint (const guint8 **p, const guint8 *end, guint64 *v)
{
  *v = 0;
  for (guint shift = 0; shift < 64; shift += 7) {
    if (*p >= end)
      return FALSE;
    *v |= (guint64) (**p & 0x7f) << shift;
    if (!(*(*p)++ & 0x80))
      return TRUE;
  }
  return FALSE;
}

static WireCheck
wire_check (const guint8 *p, const guint8 *end, const ProtobufCMessageDescriptor *desc,
    guint depth)
{
  if (depth > MAX_NESTING)
    return WIRE_TOO_DEEP;
  while (p < end) {
    guint64 key, len;
    const ProtobufCFieldDescriptor *field;

    if (!wire_varint (&p, end, &key))
      return WIRE_MALFORMED;
    switch (key & 7) {
      case 0:
        if (!wire_varint (&p, end, &len))
          return WIRE_MALFORMED;
        break;
      case 1:
        if (end - p < 8)
          return WIRE_MALFORMED;
        p += 8;
        break;
      case 5:
        if (end - p < 4)
          return WIRE_MALFORMED;
        p += 4;
        break;
      case 2:
        if (!wire_varint (&p, end, &len) || len > (guint64) (end - p))
          return WIRE_MALFORMED;
        field = key >> 3 <= G_MAXUINT32
            ? protobuf_c_message_descriptor_get_field (desc, (unsigned) (key >> 3)) : NULL;
        if (field && field->type == PROTOBUF_C_TYPE_MESSAGE) {
          WireCheck r = wire_check (p, p + len, field->descriptor, depth + 1);
          if (r != WIRE_OK)
            return r;
        }
        p += len;
        break;
      default:   /* groups: protobuf-c refuses them too */
        return WIRE_MALFORMED;
    }
  }
  return WIRE_OK;
}

CfqpGraph *
cfqp_onnx_import (const guint8 *data, gsize size, GError **error)
{
  Onnx__ModelProto *model;
  Importer imp = { 0 };
  gboolean ok;

  switch (wire_check (data, data + size, &onnx__model_proto__descriptor, 0)) {
    case WIRE_OK:
      break;
    case WIRE_TOO_DEEP:
      g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_LIMIT,
          "messages nested more than %d deep", MAX_NESTING);
      return NULL;
    case WIRE_MALFORMED:
      g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_PARSE,
          "not a valid ONNX model (malformed protobuf)");
      return NULL;
  }
  model = onnx__model_proto__unpack (NULL, size, data);
  if (!model) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_PARSE,
        "not a valid ONNX model (protobuf parse failed)");
    return NULL;
  }
  if (!model->graph) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_PARSE, "the model has no graph");
    onnx__model_proto__free_unpacked (model, NULL);
    return NULL;
  }
  imp.opset = -1;
  for (gsize i = 0; i < model->n_opset_import; i++) {
    const Onnx__OperatorSetIdProto *o = model->opset_import[i];
    if (!o->domain || !*o->domain || !strcmp (o->domain, "ai.onnx"))
      imp.opset = o->has_version ? o->version : 1;
  }
  if (imp.opset < OPSET_MIN || imp.opset > OPSET_MAX) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_UNSUPPORTED,
        "opset %" G_GINT64_FORMAT " is not supported (%d–%d)", imp.opset, OPSET_MIN, OPSET_MAX);
    onnx__model_proto__free_unpacked (model, NULL);
    return NULL;
  }

  imp.graph = cfqp_graph_new ();
  imp.syms = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, sym_free);
  imp.elem_types = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  ok = import_graph (&imp, model->graph, error);
  g_hash_table_unref (imp.syms);
  g_hash_table_unref (imp.elem_types);
  onnx__model_proto__free_unpacked (model, NULL);
  if (!ok) {
    cfqp_graph_free (imp.graph);
    return NULL;
  }
  return imp.graph;
}
