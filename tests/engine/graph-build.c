/* Building CfqpGraphs node by node in the engine tests. */
#include "graph-build.h"

CfqpNode *
graph_add_node (CfqpGraph *g, CfqpOpType op, const char *name, guint in0, gint in1, guint out_c)
{
  guint out = cfqp_graph_add_value (g, name, out_c, g->n_nodes);
  CfqpNode *n = cfqp_graph_add_node (g, op, name);

  n->n_inputs = in1 < 0 ? 1 : 2;
  n->inputs = g_new (guint, 2);
  n->inputs[0] = in0;
  n->inputs[1] = in1;
  n->output = out;
  n->out_channels = out_c;
  g->output = out;
  return n;
}
