/* CfqpModel internals: the struct, a model made around a graph built in
 * code and read access to the graph.  For
 * the engine files that make or run a model (cfqp-model.c, cfqp-tensors.c,
 * cfqp-runner.c, cfqp-qdq-export.c) and for engine tests and tools; the
 * importer returns a bare graph and calib/ sees only cfqp-engine.h. */
#pragma once

#include "cfqp-engine.h"
#include "cfqp-graph.h"

G_BEGIN_DECLS

struct _CfqpModel {
  gint       ref_count;
  char      *name;
  char      *hash;          /* sha256 of the file bytes, hex */
  CfqpGraph *graph;         /* optimised graph, immutable after load */
  guint      scale;         /* scale_num/scale_den rounded up: the most a side grows */
  guint      scale_num, scale_den;  /* the exact upscale, lowest terms (×3: 3/1) */
  guint      channels;
  guint64    macs_per_pixel;
  gboolean   clip_free;     /* made by cfqp_model_new_clip_free() */
  CfqpQParams *embedded_qparams;  /* a QDQ model's own table (n_values), or NULL */
};

/* Wraps a graph built in code (tests, calib/): runs the default passes,
 * checks the SR model convention, takes ownership of graph (freed on error). */
CfqpModel *cfqp_model_new_from_graph (CfqpGraph *graph, const char *name, GError **error);

/* Graph access for calib/ and the backends. */
const CfqpGraph *cfqp_model_get_graph (const CfqpModel *model);

G_END_DECLS
