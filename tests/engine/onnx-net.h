/* A tiny ONNX builder for the engine tests (protobuf-c): nets whose input
 * is "x" and output "y", both batch-1 with symbolic height and width. */
#pragma once

#include "cfqp-engine.h"
#include "onnx.pb-c.h"

G_BEGIN_DECLS

typedef struct {
  Onnx__ModelProto model;
  Onnx__GraphProto graph;
  Onnx__OperatorSetIdProto opset;
  Onnx__OperatorSetIdProto *opsets[1];
  GPtrArray *nodes, *inits, *inputs, *outputs;
  GPtrArray *owned;   /* every other allocation, freed with the net */
} Net;

/* p (g_free-able) is freed with the net; returns p. */
gpointer  own         (Net *n, gpointer p);
char     *own_str     (Net *n, const char *s);
Onnx__ValueInfoProto *value_info (Net *n, const char *name, gint64 channels);
/* An RGB net, opset 13, with input "x" and output "y" (the last node must
 * write "y"). */
Net      *net_new     (void);
void      net_free    (Net *n);
/* A float initializer; data NULL: dims only, no values (a lying header).
 * data is not copied: own() it or keep it alive. */
Onnx__TensorProto *net_init (Net *n, const char *name, const gint64 *dims, guint ndim,
                             const float *data, gsize n_data);
/* A float initializer of zeros with these dims. */
void      net_zeros   (Net *n, const char *name, const gint64 *dims, guint ndim);
/* A node; in1, in2 may be NULL (in0 too, for Constant). */
Onnx__NodeProto *net_node (Net *n, const char *op, const char *in0, const char *in1,
                           const char *in2, const char *out);
Onnx__AttributeProto *node_attr (Net *n, Onnx__NodeProto *node, const char *name);
void      attr_int    (Net *n, Onnx__NodeProto *node, const char *name, gint64 v);
void      attr_ints   (Net *n, Onnx__NodeProto *node, const char *name, const gint64 *v,
                       gsize count);
void      attr_float  (Net *n, Onnx__NodeProto *node, const char *name, float v);
/* A float tensor attribute (a Constant node's "value"); data is copied. */
void      attr_tensor (Net *n, Onnx__NodeProto *node, const char *name, const gint64 *dims,
                       guint ndim, const float *data, gsize n_data);
/* The serialized ModelProto (the net stays usable). */
GBytes   *net_pack    (Net *n);
/* Imports the net and frees it; the model when it imported. */
CfqpModel *net_import (Net *n, GError **error);

G_END_DECLS
