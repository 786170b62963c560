/* ONNX → CfqpGraph import (internal). */
#pragma once

#include "cfqp-graph.h"

G_BEGIN_DECLS

/* Parses a serialized ModelProto, folds every constant/shape-only subgraph,
 * recognises the supported ops and patterns and returns an unoptimised graph.
 * Anything outside the supported set fails with a message naming the node
 * and the op. */
CfqpGraph *cfqp_onnx_import (const guint8 *data, gsize size, GError **error);

G_END_DECLS
