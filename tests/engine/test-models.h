/* Small hand-built SR graphs for the runner tests. */
#pragma once

#include "cfqp-graph.h"

G_BEGIN_DECLS

/* ABPN-like ×scale: conv3x3 in→f, n_body conv3x3 f→f with ReLU,
 * conv3x3 f→in·scale², plus the input tiled scale² times, depth-to-space.
 * Seeded random weights. */
CfqpGraph *test_model_abpn (guint in_channels, guint features, guint n_body, guint scale,
                            guint32 seed);
/* Nearest-neighbour ×scale: a single ResizeNearest. */
CfqpGraph *test_model_nearest (guint channels, guint scale);

G_END_DECLS
