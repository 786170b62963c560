/* The ONNX test builder (onnx-net.h). */
#include "onnx-net.h"

#include <string.h>


gpointer
own (Net *n, gpointer p)
{
  g_ptr_array_add (n->owned, p);
  return p;
}

char *
own_str (Net *n, const char *s)
{
  return own (n, g_strdup (s));
}

Onnx__ValueInfoProto *
value_info (Net *n, const char *name, gint64 channels)
{
  Onnx__ValueInfoProto *vi = own (n, g_new (Onnx__ValueInfoProto, 1));
  Onnx__TypeProto *tp = own (n, g_new (Onnx__TypeProto, 1));
  Onnx__TypeProto__Tensor *tt = own (n, g_new (Onnx__TypeProto__Tensor, 1));
  Onnx__TensorShapeProto *shape = own (n, g_new (Onnx__TensorShapeProto, 1));
  Onnx__TensorShapeProto__Dimension **dims = own (n, g_new (Onnx__TensorShapeProto__Dimension *, 4));
  const char *params[4] = { NULL, NULL, "height", "width" };
  gint64 values[4] = { 1, channels, 0, 0 };

  onnx__value_info_proto__init (vi);
  onnx__type_proto__init (tp);
  onnx__type_proto__tensor__init (tt);
  onnx__tensor_shape_proto__init (shape);
  for (guint d = 0; d < 4; d++) {
    dims[d] = own (n, g_new (Onnx__TensorShapeProto__Dimension, 1));
    onnx__tensor_shape_proto__dimension__init (dims[d]);
    if (params[d]) {
      dims[d]->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
      dims[d]->dim_param = own_str (n, params[d]);
    } else {
      dims[d]->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
      dims[d]->dim_value = values[d];
    }
  }
  shape->n_dim = 4;
  shape->dim = dims;
  tt->has_elem_type = TRUE;
  tt->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
  tt->shape = shape;
  tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  tp->tensor_type = tt;
  vi->name = own_str (n, name);
  vi->type = tp;
  return vi;
}

/* An RGB net with input "x" and output "y" (the last node must write "y"). */
Net *
net_new (void)
{
  Net *n = g_new0 (Net, 1);

  n->nodes = g_ptr_array_new ();
  n->inits = g_ptr_array_new ();
  n->inputs = g_ptr_array_new ();
  n->outputs = g_ptr_array_new ();
  n->owned = g_ptr_array_new_with_free_func (g_free);
  onnx__model_proto__init (&n->model);
  onnx__graph_proto__init (&n->graph);
  onnx__operator_set_id_proto__init (&n->opset);
  n->opset.domain = own_str (n, "");
  n->opset.has_version = TRUE;
  n->opset.version = 13;
  n->opsets[0] = &n->opset;
  n->model.has_ir_version = TRUE;
  n->model.ir_version = 8;
  n->model.n_opset_import = 1;
  n->model.opset_import = n->opsets;
  n->model.graph = &n->graph;
  n->graph.name = own_str (n, "test");
  g_ptr_array_add (n->inputs, value_info (n, "x", 3));
  g_ptr_array_add (n->outputs, value_info (n, "y", 3));
  return n;
}

void
net_free (Net *n)
{
  g_ptr_array_unref (n->nodes);
  g_ptr_array_unref (n->inits);
  g_ptr_array_unref (n->inputs);
  g_ptr_array_unref (n->outputs);
  g_ptr_array_unref (n->owned);
  g_free (n);
}

/* A float initializer; data NULL: dims only, no values (a lying header). */
Onnx__TensorProto *
net_init (Net *n, const char *name, const gint64 *dims, guint ndim, const float *data,
    gsize n_data)
{
  Onnx__TensorProto *t = own (n, g_new (Onnx__TensorProto, 1));

  onnx__tensor_proto__init (t);
  t->name = own_str (n, name);
  t->n_dims = ndim;
  t->dims = own (n, g_memdup2 (dims, ndim * sizeof (gint64)));
  t->has_data_type = TRUE;
  t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
  if (data) {
    t->n_float_data = n_data;
    t->float_data = (float *) data;
  }
  g_ptr_array_add (n->inits, t);
  return t;
}

/* A float initializer of zeros with these dims. */
void
net_zeros (Net *n, const char *name, const gint64 *dims, guint ndim)
{
  gsize count = 1;
  for (guint d = 0; d < ndim; d++)
    count *= dims[d];
  net_init (n, name, dims, ndim, own (n, g_new0 (float, count)), count);
}

Onnx__NodeProto *
net_node (Net *n, const char *op, const char *in0, const char *in1, const char *in2,
    const char *out)
{
  Onnx__NodeProto *node = own (n, g_new (Onnx__NodeProto, 1));
  const char *ins[3] = { in0, in1, in2 };
  char **inputs = own (n, g_new0 (char *, 3));

  onnx__node_proto__init (node);
  node->op_type = own_str (n, op);
  node->name = own (n, g_strdup_printf ("%s_%u", op, n->nodes->len));
  for (guint i = 0; i < 3 && ins[i]; i++)
    inputs[node->n_input++] = own_str (n, ins[i]);
  node->input = inputs;
  node->n_output = 1;
  node->output = own (n, g_new (char *, 1));
  node->output[0] = own_str (n, out);
  g_ptr_array_add (n->nodes, node);
  return node;
}

Onnx__AttributeProto *
node_attr (Net *n, Onnx__NodeProto *node, const char *name)
{
  Onnx__AttributeProto *a = own (n, g_new (Onnx__AttributeProto, 1));
  Onnx__AttributeProto **attrs = own (n, g_new (Onnx__AttributeProto *, node->n_attribute + 1));

  onnx__attribute_proto__init (a);
  a->name = own_str (n, name);
  if (node->n_attribute)
    memcpy (attrs, node->attribute, node->n_attribute * sizeof *attrs);
  attrs[node->n_attribute++] = a;
  node->attribute = attrs;
  return a;
}

/* A new attribute of this type on node. */
static Onnx__AttributeProto *
typed_attr (Net *n, Onnx__NodeProto *node, const char *name,
    Onnx__AttributeProto__AttributeType type)
{
  Onnx__AttributeProto *a = node_attr (n, node, name);

  a->has_type = TRUE;
  a->type = type;
  return a;
}

void
attr_int (Net *n, Onnx__NodeProto *node, const char *name, gint64 v)
{
  Onnx__AttributeProto *a =
      typed_attr (n, node, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);

  a->has_i = TRUE;
  a->i = v;
}

void
attr_ints (Net *n, Onnx__NodeProto *node, const char *name, const gint64 *v, gsize count)
{
  Onnx__AttributeProto *a =
      typed_attr (n, node, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);

  a->n_ints = count;
  a->ints = own (n, g_memdup2 (v, count * sizeof (gint64)));
}

GBytes *
net_pack (Net *n)
{
  gsize size;
  guint8 *buf;

  n->graph.n_node = n->nodes->len;
  n->graph.node = (Onnx__NodeProto **) n->nodes->pdata;
  n->graph.n_initializer = n->inits->len;
  n->graph.initializer = (Onnx__TensorProto **) n->inits->pdata;
  n->graph.n_input = n->inputs->len;
  n->graph.input = (Onnx__ValueInfoProto **) n->inputs->pdata;
  n->graph.n_output = n->outputs->len;
  n->graph.output = (Onnx__ValueInfoProto **) n->outputs->pdata;
  size = onnx__model_proto__get_packed_size (&n->model);
  buf = g_malloc (size);
  onnx__model_proto__pack (&n->model, buf);
  return g_bytes_new_take (buf, size);
}

/* Imports the net and frees it; the model when it imported. */
CfqpModel *
net_import (Net *n, GError **error)
{
  g_autoptr (GBytes) bytes = net_pack (n);
  CfqpModel *model = cfqp_model_new_from_bytes (bytes, "net", error);
  net_free (n);
  return model;
}

void
attr_float (Net *n, Onnx__NodeProto *node, const char *name, float v)
{
  Onnx__AttributeProto *a =
      typed_attr (n, node, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);

  a->has_f = TRUE;
  a->f = v;
}

void
attr_tensor (Net *n, Onnx__NodeProto *node, const char *name, const gint64 *dims, guint ndim,
    const float *data, gsize n_data)
{
  Onnx__AttributeProto *a =
      typed_attr (n, node, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);
  Onnx__TensorProto *t = own (n, g_new (Onnx__TensorProto, 1));

  onnx__tensor_proto__init (t);
  t->n_dims = ndim;
  t->dims = own (n, g_memdup2 (dims, ndim * sizeof (gint64)));
  t->has_data_type = TRUE;
  t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
  t->n_float_data = n_data;
  t->float_data = own (n, g_memdup2 (data, n_data * sizeof (float)));
  a->t = t;
}
