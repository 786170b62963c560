/* Deep copy of a graph, for model variants (clip-free) that must not touch
 * the original's weights. */
#include "cfqp-graph.h"

#include <string.h>

static gpointer
dup_floats (const float *p, gsize n)
{
  return p ? g_memdup2 (p, n * sizeof (float)) : NULL;
}

CfqpGraph *
cfqp_graph_copy (const CfqpGraph *src)
{
  CfqpGraph *g = cfqp_graph_new ();

  g->n_values = src->n_values;
  g->values = g_memdup2 (src->values, src->n_values * sizeof (CfqpValueInfo));
  for (guint v = 0; v < g->n_values; v++)
    g->values[v].name = g_strdup (src->values[v].name);
  g->n_nodes = src->n_nodes;
  g->nodes = g_memdup2 (src->nodes, src->n_nodes * sizeof (CfqpNode));
  g->output = src->output;
  for (guint i = 0; i < g->n_nodes; i++) {
    CfqpNode *n = &g->nodes[i];
    const CfqpNode *s = &src->nodes[i];
    n->name = g_strdup (s->name);
    n->inputs = g_memdup2 (s->inputs, s->n_inputs * sizeof (guint));
    n->act.slopes = dup_floats (s->act.slopes, s->act.n_slopes);
    if (n->op == CFQP_OP_CONV || n->op == CFQP_OP_CONV_TRANSPOSE) {
      const CfqpConvParams *c = &s->p.conv;
      gsize nw = (gsize) c->out_channels * (c->in_channels / c->groups) * c->kernel_h * c->kernel_w;
      n->p.conv.weight = dup_floats (c->weight, nw);
      n->p.conv.bias = dup_floats (c->bias, c->out_channels);
      n->p.conv.pad_value = dup_floats (c->pad_value, c->in_channels);
      n->p.conv.weight_scale = dup_floats (c->weight_scale, c->out_channels);
    } else if (n->op == CFQP_OP_BINARY) {
      n->p.binary.constant = dup_floats (s->p.binary.constant, s->p.binary.n_constant);
    }
  }
  return g;
}
