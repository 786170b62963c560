/* ONNX import, symbols: what every tensor name stands for while importing
 * (an activation, a folded constant, a pattern half matched), errors that
 * name the node, and the steps every op handler shares: fetching its inputs
 * by kind, defining its output, adding a graph node, taking weights and
 * per-channel constants under the engine's limits.
 */
#include "cfqp-onnx-private.h"

#include <math.h>

void
cfqp_onnx_sym_free (gpointer p)
{
  Sym *s = p;
  cfqp_const_free (s->konst);
  g_free (s->wscale);
  g_free (s);
}

void
cfqp_onnx_error (Importer *imp, GError **error, CfqpEngineError code, const char *fmt, ...)
{
  va_list ap;
  g_autofree char *msg = NULL;

  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (error, CFQP_ENGINE_ERROR, code, "node '%s' (%s): %s", imp->node_name,
      imp->node->op_type ? imp->node->op_type : "?", msg);
}

const Sym *
cfqp_onnx_input_sym (Importer *imp, guint k)
{
  if (k >= imp->node->n_input || !imp->node->input[k] || !*imp->node->input[k])
    return NULL;
  return g_hash_table_lookup (imp->syms, imp->node->input[k]);
}

gboolean
cfqp_onnx_require_input (Importer *imp, guint k, const Sym **out, GError **error)
{
  *out = cfqp_onnx_input_sym (imp, k);
  if (*out)
    return TRUE;
  if (k >= imp->node->n_input || !*imp->node->input[k])
    cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_PARSE, "input %u is missing", k);
  else
    cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_PARSE,
        "input '%s' is not produced by any earlier node (graph not topologically sorted?)",
        imp->node->input[k]);
  return FALSE;
}

gboolean
cfqp_onnx_require_act (Importer *imp, guint k, guint *value, GError **error)
{
  const Sym *s;
  if (!cfqp_onnx_require_input (imp, k, &s, error))
    return FALSE;
  if (s->kind != SYM_ACT) {
    cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED,
        "input '%s' must be an activation tensor", imp->node->input[k]);
    return FALSE;
  }
  *value = s->value;
  return TRUE;
}

const CfqpConst *
cfqp_onnx_require_const (Importer *imp, guint k, GError **error)
{
  const Sym *s;
  if (!cfqp_onnx_require_input (imp, k, &s, error))
    return NULL;
  if (s->kind != SYM_CONST) {
    cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED,
        "input '%s' must be a constant", imp->node->input[k]);
    return NULL;
  }
  return s->konst;
}

/* Reshape's and Expand's shape input: a 1-D integer constant (ONNX says
 * int64; a float one would leave the symbolic ints unset). */
const CfqpConst *
cfqp_onnx_require_shape (Importer *imp, guint k, GError **error)
{
  const CfqpConst *shape = cfqp_onnx_require_const (imp, k, error);
  if (shape && (!shape->is_int || shape->ndim != 1 || shape->n > CFQP_CONST_MAX_DIMS)) {
    cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED, "shape must be a 1-D integer tensor");
    return NULL;
  }
  return shape;
}

const char *
cfqp_onnx_output_name (Importer *imp)
{
  return imp->node->n_output > 0 ? imp->node->output[0] : NULL;
}

void
cfqp_onnx_define (Importer *imp, Sym *s)
{
  g_hash_table_replace (imp->syms, g_strdup (cfqp_onnx_output_name (imp)), s);
}

void
cfqp_onnx_define_const (Importer *imp, CfqpConst *c)
{
  Sym *s = g_new0 (Sym, 1);
  s->kind = SYM_CONST;
  s->konst = c;
  cfqp_onnx_define (imp, s);
}

void
cfqp_onnx_define_act (Importer *imp, guint value)
{
  Sym *s = g_new0 (Sym, 1);
  s->kind = SYM_ACT;
  s->value = value;
  cfqp_onnx_define (imp, s);
}

guint
cfqp_onnx_act_channels (Importer *imp, guint value)
{
  return imp->graph->values[value].channels;
}

/* Adds a node reading the given values and defines its output. */
CfqpNode *
cfqp_onnx_add_node (Importer *imp, CfqpOpType op, const guint *inputs, guint n_inputs,
    guint out_channels)
{
  CfqpGraph *g = imp->graph;
  CfqpNode *node = cfqp_graph_add_node (g, op, imp->node_name);
  guint node_index = g->n_nodes - 1;

  node->n_inputs = n_inputs;
  node->inputs = g_memdup2 (inputs, n_inputs * sizeof (guint));
  node->out_channels = out_channels;
  node->output = cfqp_graph_add_value (g, cfqp_onnx_output_name (imp), out_channels, node_index);
  cfqp_onnx_define_act (imp, node->output);
  return &g->nodes[node_index];
}

gboolean
cfqp_onnx_check_channels (Importer *imp, gint64 c, GError **error)
{
  if (c < 1 || c > CFQP_MAX_CHANNELS) {
    cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_LIMIT,
        "%" G_GINT64_FORMAT " channels (1..%d supported)", c, CFQP_MAX_CHANNELS);
    return FALSE;
  }
  return TRUE;
}

float *
cfqp_onnx_take_weights (Importer *imp, const CfqpConst *c, GError **error)
{
  imp->weight_elems += c->n;
  if (imp->weight_elems > CFQP_MAX_WEIGHTS) {
    cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_LIMIT, "the model has more than %u weights",
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
      cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_INVALID, "weight %zu is not finite", k);
      return NULL;
    }
  return g_memdup2 (c->f, c->n * sizeof (float));
}

/* Per-channel constants broadcast against a [1,C,H,W] activation: shape
 * [C,1,1] or [1,C,1,1] (or anything with one element).  A 1-D [C] would
 * broadcast over W in ONNX semantics, so it is refused. */
gboolean
cfqp_onnx_channel_constant (Importer *imp, const CfqpConst *c, guint channels, float **out,
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
    cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED,
        "constant of %zu elements does not broadcast per channel over %u channels "
        "(expected a scalar or shape [1,%u,1,1])", c->n, channels, channels);
    return FALSE;
  }
  *out = g_new (float, c->n);
  for (gsize k = 0; k < c->n; k++) {
    double v;
    if (!cfqp_const_get_known (c, k, &v)) {
      g_free (*out);
      cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED, "operand depends on the frame size");
      return FALSE;
    }
    if (!isfinite ((float) v)) {
      g_free (*out);
      cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_INVALID, "constant operand is not finite");
      return FALSE;
    }
    (*out)[k] = (float) v;
  }
  *n_out = (guint) c->n;
  return TRUE;
}
