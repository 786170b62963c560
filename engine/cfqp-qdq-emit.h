/* QDQ export, the ONNX each op becomes (internal): the writer the exporter
 * (cfqp-qdq-export.c) and the emitters (cfqp-qdq-emit.c) share, and the
 * emitters, which the op table names (CfqpOpQdqFunc).  Every string and
 * message lives in the writer's pool until the export ends.
 */
#pragma once

#include "cfqp-op-table.h"
#include "onnx.pb-c.h"

G_BEGIN_DECLS

struct _CfqpQdqWriter {
  guint      bits;          /* the program's activation width: 8 or 16 */
  GPtrArray *pool;          /* everything allocated, freed at the end */
  GPtrArray *nodes;         /* Onnx__NodeProto* */
  GPtrArray *inits;         /* Onnx__TensorProto* */
};

/* p, kept in the pool until the export ends. */
gpointer    cfqp_qdq_keep       (CfqpQdqWriter *e, gpointer p);

/* A message of Type set to INIT, in the pool. */
#define CFQP_QDQ_NEW_MSG(e, Type, INIT) \
  ((Type *) cfqp_qdq_keep ((e), g_memdup2 (&(Type) INIT, sizeof (Type))))

/* Q → DQ of src, the float form of value vname; returns the DQ output. */
const char *cfqp_qdq_pair       (CfqpQdqWriter *e, const char *vname, const char *src,
                                 const CfqpQParams *qp);
/* act from in to out as its ONNX op; returns out (in when act is none). */
const char *cfqp_qdq_activation (CfqpQdqWriter *e, const CfqpActivation *act, const char *in,
                                 const char *out, guint channels);

/* The emitters, one per op (CfqpOpQdqFunc). */
gboolean cfqp_qdq_emit_conv           (CfqpQdqWriter *e, const CfqpGraph *g, const CfqpNode *node,
                                       const CfqpInt8Program *prog, const char *const *dq,
                                       const char *out, GError **error);
gboolean cfqp_qdq_emit_activation      (CfqpQdqWriter *e, const CfqpGraph *g, const CfqpNode *node,
                                       const CfqpInt8Program *prog, const char *const *dq,
                                       const char *out, GError **error);
gboolean cfqp_qdq_emit_binary          (CfqpQdqWriter *e, const CfqpGraph *g, const CfqpNode *node,
                                       const CfqpInt8Program *prog, const char *const *dq,
                                       const char *out, GError **error);
gboolean cfqp_qdq_emit_concat          (CfqpQdqWriter *e, const CfqpGraph *g, const CfqpNode *node,
                                       const CfqpInt8Program *prog, const char *const *dq,
                                       const char *out, GError **error);
gboolean cfqp_qdq_emit_depth_to_space  (CfqpQdqWriter *e, const CfqpGraph *g, const CfqpNode *node,
                                       const CfqpInt8Program *prog, const char *const *dq,
                                       const char *out, GError **error);
gboolean cfqp_qdq_emit_space_to_depth  (CfqpQdqWriter *e, const CfqpGraph *g, const CfqpNode *node,
                                       const CfqpInt8Program *prog, const char *const *dq,
                                       const char *out, GError **error);
gboolean cfqp_qdq_emit_resize_nearest  (CfqpQdqWriter *e, const CfqpGraph *g, const CfqpNode *node,
                                       const CfqpInt8Program *prog, const char *const *dq,
                                       const char *out, GError **error);
gboolean cfqp_qdq_emit_tile_channels   (CfqpQdqWriter *e, const CfqpGraph *g, const CfqpNode *node,
                                       const CfqpInt8Program *prog, const char *const *dq,
                                       const char *out, GError **error);

G_END_DECLS
