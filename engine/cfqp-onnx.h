/* ONNX → CfqpGraph import (internal). */
#pragma once

#include "cfqp-engine.h"
#include "cfqp-graph.h"

G_BEGIN_DECLS

/* Parses a serialized ModelProto, folds every constant/shape-only subgraph,
 * recognises the supported ops and patterns and returns an unoptimised graph.
 * Anything outside the supported set fails with a message naming the node
 * and the op. */
CfqpGraph *cfqp_onnx_import (const guint8 *data, gsize size, GError **error);

/* The table a QDQ model's Q/DQ pairs give (cfqp-onnx-qdq.c), for the graph
 * as optimised: one entry per value, derived ones (input, output, data
 * moves) resolved when the file left them out; NULL when no value has
 * parameters.  Free with g_free. */
CfqpQParams *cfqp_graph_embedded_qparams (const CfqpGraph *graph);

G_END_DECLS
