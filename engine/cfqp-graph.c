/* Graph IR: construction, shape inference and the analyses planning needs.
 * What each op does to shapes is its row of the op table (cfqp-op-table.c);
 * this file walks the graph with it. */
#include "cfqp-graph.h"
#include "cfqp-engine.h"
#include "cfqp-op-table.h"

#include <math.h>
#include <string.h>

CfqpGraph *
cfqp_graph_new (void)
{
  return g_new0 (CfqpGraph, 1);
}

void
cfqp_graph_free (CfqpGraph *graph)
{
  if (!graph)
    return;
  for (guint i = 0; i < graph->n_values; i++)
    g_free (graph->values[i].name);
  for (guint i = 0; i < graph->n_nodes; i++)
    cfqp_node_clear (&graph->nodes[i]);
  g_free (graph->values);
  g_free (graph->nodes);
  g_free (graph);
}

guint
cfqp_graph_add_value (CfqpGraph *graph, const char *name, guint channels, gint producer)
{
  CfqpValueInfo *v;

  graph->values = g_renew (CfqpValueInfo, graph->values, graph->n_values + 1);
  v = &graph->values[graph->n_values];
  v->name = g_strdup (name ? name : "");
  v->channels = channels;
  v->producer = producer;
  v->has_qparams = FALSE;
  v->q_scale = 0.f;
  v->q_zero_point = 0;
  return graph->n_values++;
}

CfqpNode *
cfqp_graph_add_node (CfqpGraph *graph, CfqpOpType op, const char *name)
{
  CfqpNode *node;

  graph->nodes = g_renew (CfqpNode, graph->nodes, graph->n_nodes + 1);
  node = &graph->nodes[graph->n_nodes++];
  memset (node, 0, sizeof *node);
  node->op = op;
  node->name = g_strdup (name ? name : "");
  return node;
}

void
cfqp_activation_clear (CfqpActivation *act)
{
  g_clear_pointer (&act->slopes, g_free);
  memset (act, 0, sizeof *act);
}

void
cfqp_node_clear (CfqpNode *node)
{
  g_free (node->name);
  g_free (node->inputs);
  cfqp_activation_clear (&node->act);
  switch (node->op) {
    case CFQP_OP_CONV:
    case CFQP_OP_CONV_TRANSPOSE:
      g_free (node->p.conv.weight);
      g_free (node->p.conv.bias);
      g_free (node->p.conv.pad_value);
      g_free (node->p.conv.weight_scale);
      break;
    case CFQP_OP_BINARY:
      g_free (node->p.binary.constant);
      break;
    default:
      break;
  }
  memset (node, 0, sizeof *node);
}

const char *
cfqp_act_kind_to_string (CfqpActKind kind)
{
  switch (kind) {
    case CFQP_ACT_NONE: return "none";
    case CFQP_ACT_RELU: return "relu";
    case CFQP_ACT_LEAKY_RELU: return "leaky-relu";
    case CFQP_ACT_PRELU: return "prelu";
    case CFQP_ACT_CLIP: return "clip";
  }
  return "unknown";
}

static void G_GNUC_PRINTF (3, 4)
set_node_error (GError **error, const CfqpNode *node, const char *format, ...)
{
  va_list args;
  g_autofree char *detail = NULL;

  va_start (args, format);
  detail = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID, "node '%s' (%s): %s",
      node->name, cfqp_op_type_to_string (node->op), detail);
}

#define FAIL(...) G_STMT_START { \
    set_node_error (error, node, __VA_ARGS__); \
    return FALSE; \
  } G_STMT_END

gboolean
cfqp_graph_infer_shapes (const CfqpGraph *graph, guint width, guint height,
    CfqpShape *shapes, GError **error)
{
  g_autofree gboolean *known = g_new0 (gboolean, graph->n_values);

  g_return_val_if_fail (graph->n_values > 0, FALSE);
  if (width == 0 || height == 0) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID,
        "empty %u×%u input", width, height);
    return FALSE;
  }
  memset (shapes, 0, graph->n_values * sizeof *shapes);
  shapes[0] = (CfqpShape) { graph->values[0].channels, height, width };
  known[0] = TRUE;

  for (guint i = 0; i < graph->n_nodes; i++) {
    const CfqpNode *node = &graph->nodes[i];
    const CfqpOpInfo *info = cfqp_op_info (node->op);
    CfqpShape out = { 0 };

    if (node->n_inputs == 0)
      FAIL ("has no inputs");
    for (guint k = 0; k < node->n_inputs; k++) {
      if (node->inputs[k] >= graph->n_values || !known[node->inputs[k]])
        FAIL ("input %u (value %u) is not computed before it", k, node->inputs[k]);
    }
    if (node->output >= graph->n_values || known[node->output])
      FAIL ("output value %u is invalid or produced twice", node->output);
    if (node->act.kind == CFQP_ACT_PRELU && node->act.n_slopes != 1 &&
        node->act.n_slopes != node->out_channels)
      FAIL ("PRelu has %u slopes for %u channels", node->act.n_slopes, node->out_channels);
    if (!info)
      FAIL ("unknown op %d", node->op);
    if (!info->shape (graph, node, shapes, &out, error)) {
      g_prefix_error (error, "node '%s' (%s): ", node->name, info->name);
      return FALSE;
    }
    if (out.c != node->out_channels || out.c != graph->values[node->output].channels)
      FAIL ("computes %u channels but declares %u (value '%s': %u)", out.c,
          node->out_channels, graph->values[node->output].name,
          graph->values[node->output].channels);
    shapes[node->output] = out;
    known[node->output] = TRUE;
  }
  if (!known[graph->output]) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID,
        "graph output '%s' is never computed", graph->values[graph->output].name);
    return FALSE;
  }
  return TRUE;
}

void
cfqp_graph_last_uses (const CfqpGraph *graph, gint *last_use)
{
  for (guint v = 0; v < graph->n_values; v++)
    last_use[v] = -1;
  for (guint i = 0; i < graph->n_nodes; i++)
    for (guint k = 0; k < graph->nodes[i].n_inputs; k++)
      last_use[graph->nodes[i].inputs[k]] = i;
  last_use[graph->output] = graph->n_nodes;
}

guint
cfqp_graph_count_consumers (const CfqpGraph *graph, guint value)
{
  guint n = 0;

  for (guint i = 0; i < graph->n_nodes; i++) {
    for (guint k = 0; k < graph->nodes[i].n_inputs; k++) {
      if (graph->nodes[i].inputs[k] == value) {
        n++;
        break;
      }
    }
  }
  return n;
}

guint64
cfqp_graph_macs_per_pixel (const CfqpGraph *graph)
{
  /* Large, and divisible by every block size a model may use, so that
   * border effects of padding are negligible and shapes always infer. */
  const guint probe = 1680;
  g_autofree CfqpShape *shapes = g_new0 (CfqpShape, graph->n_values);
  double macs = 0;

  if (!cfqp_graph_infer_shapes (graph, probe, probe, shapes, NULL))
    return 0;
  for (guint i = 0; i < graph->n_nodes; i++) {
    const CfqpNode *node = &graph->nodes[i];
    const CfqpOpInfo *info = cfqp_op_info (node->op);

    if (info->macs)
      macs += info->macs (node, &shapes[node->inputs[0]], &shapes[node->output]);
  }
  return (guint64) llround (macs / ((double) probe * probe));
}
