/* CfqpModel internals, shared by the importer, the runners and calib/. */
#pragma once

#include "cfqp-engine.h"
#include "cfqp-graph.h"

G_BEGIN_DECLS

struct _CfqpModel {
  gint       ref_count;
  char      *name;
  char      *hash;          /* sha256 of the file bytes, hex */
  CfqpGraph *graph;         /* optimised graph, immutable after load */
  guint      scale;
  guint      channels;
  guint64    macs_per_pixel;
};

/* Graph access for calib/ and the backends. */
const CfqpGraph *cfqp_model_get_graph (const CfqpModel *model);

G_END_DECLS
