/* Graph passes (internal).  Each returns the number of changes it made. */
#pragma once

#include "cfqp-graph.h"

G_BEGIN_DECLS

/* (x − m)/s, x·a + b … by per-channel constants on the graph input, folded
 * into the first conv's weights, bias and pad value. */
guint cfqp_pass_fold_input_normalisation (CfqpGraph *graph);
/* Standalone activations that follow a conv/binary with a single consumer
 * become that node's fused activation. */
guint cfqp_pass_fuse_activations (CfqpGraph *graph);
/* Nodes whose output never reaches the graph output go; values renumbered. */
guint cfqp_pass_remove_dead (CfqpGraph *graph);
/* Runs the default pipeline above in order. */
void  cfqp_passes_optimise (CfqpGraph *graph);

G_END_DECLS
