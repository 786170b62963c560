/* Building CfqpGraphs node by node in the engine tests. */
#pragma once

#include "cfqp-graph.h"

G_BEGIN_DECLS

/* A node reading in0 (and in1 if ≥ 0) whose output, a new value named
 * name with out_c channels, becomes the graph output. */
CfqpNode *graph_add_node (CfqpGraph *g, CfqpOpType op, const char *name, guint in0, gint in1,
                          guint out_c);

G_END_DECLS
