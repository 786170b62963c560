/* ONNX import: ModelProto (protobuf-c, generated from Debian's onnx.proto)
 * → CfqpGraph.  This file is the driver: the wire check, the opset, the
 * initializers, the one image input, then every node in file order through
 * the handler of its op type, and the one output.
 *
 * Every ONNX tensor name maps to a symbol (cfqp-onnx-private.h): an
 * activation (a graph value), a constant (folded here, never a graph
 * value), or one step of a Reshape→Transpose→Reshape pixel-shuffle pattern
 * still being matched.  Anything else is refused with the node's name and
 * op.  The handlers live by kind: cfqp-onnx-shape-ops.c,
 * cfqp-onnx-layer-ops.c, cfqp-onnx-reshape.c, cfqp-onnx-qdq.c.
 */
#include "cfqp-onnx.h"
#include "cfqp-onnx-private.h"

#include <string.h>

#define OPSET_MIN 7
#define OPSET_MAX 18

static const struct {
  const char *op_type;
  CfqpOnnxOpHandler handler;
} handlers[] = {
  { "Conv", cfqp_onnx_op_conv },
  { "ConvTranspose", cfqp_onnx_op_conv_transpose },
  { "Relu", cfqp_onnx_op_activation },
  { "LeakyRelu", cfqp_onnx_op_activation },
  { "PRelu", cfqp_onnx_op_activation },
  { "Clip", cfqp_onnx_op_activation },
  { "Add", cfqp_onnx_op_binary },
  { "Sub", cfqp_onnx_op_binary },
  { "Mul", cfqp_onnx_op_binary },
  { "Div", cfqp_onnx_op_binary },
  { "Concat", cfqp_onnx_op_concat },
  { "DepthToSpace", cfqp_onnx_op_depth_to_space },
  { "SpaceToDepth", cfqp_onnx_op_space_to_depth },
  { "Reshape", cfqp_onnx_op_reshape },
  { "Transpose", cfqp_onnx_op_transpose },
  { "Resize", cfqp_onnx_op_resize },
  { "Upsample", cfqp_onnx_op_resize },
  { "Tile", cfqp_onnx_op_tile },
  { "Expand", cfqp_onnx_op_expand },
  { "Identity", cfqp_onnx_op_identity },
  { "Dropout", cfqp_onnx_op_identity },
  { "Constant", cfqp_onnx_op_constant },
  { "ConstantOfShape", cfqp_onnx_op_constant_of_shape },
  { "Shape", cfqp_onnx_op_shape },
  { "Gather", cfqp_onnx_op_gather },
  { "Cast", cfqp_onnx_op_cast },
  { "Unsqueeze", cfqp_onnx_op_unsqueeze_any },
  { "Squeeze", cfqp_onnx_op_squeeze_any },
  { "Slice", cfqp_onnx_op_slice },
  { "QuantizeLinear", cfqp_onnx_op_quantize_linear },
  { "DequantizeLinear", cfqp_onnx_op_dequantize_linear },
};

static gboolean
import_input (Importer *imp, const Onnx__GraphProto *graph, GError **error)
{
  const Onnx__ValueInfoProto *input = NULL;
  const Onnx__TypeProto__Tensor *tt;
  gint64 channels = -1;
  guint n_inputs = 0;

  for (gsize i = 0; i < graph->n_input; i++) {
    const char *name = graph->input[i]->name;
    if (name && g_hash_table_contains (imp->syms, name))
      continue;  /* an initializer listed as input (IR < 4) */
    input = graph->input[i];
    n_inputs++;
  }
  if (n_inputs != 1) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID,
        "the graph has %u inputs: an SR model has exactly one image input", n_inputs);
    return FALSE;
  }
  if (!input->name || !input->type || input->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE ||
      !(tt = input->type->tensor_type) ||
      (tt->has_elem_type && tt->elem_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT)) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID,
        "input '%s' is not a float tensor", input->name ? input->name : "?");
    return FALSE;
  }
  if (tt->shape && tt->shape->n_dim == 4 &&
      tt->shape->dim[1]->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE)
    channels = tt->shape->dim[1]->dim_value;
  if (!tt->shape || tt->shape->n_dim != 4 || (channels != 1 && channels != 3)) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID,
        "input '%s' must be NCHW with 3 (RGB) or 1 (luma) channels", input->name);
    return FALSE;
  }
  cfqp_graph_add_value (imp->graph, input->name, (guint) channels, -1);
  {
    Sym *s = g_new0 (Sym, 1);
    s->kind = SYM_ACT;
    s->value = 0;
    g_hash_table_replace (imp->syms, g_strdup (input->name), s);
  }
  return TRUE;
}

static gboolean
import_graph (Importer *imp, const Onnx__GraphProto *graph, GError **error)
{
  const Sym *out;

  if (graph->n_node > CFQP_MAX_NODES) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_LIMIT,
        "%zu nodes (at most %d)", graph->n_node, CFQP_MAX_NODES);
    return FALSE;
  }
  for (gsize i = 0; i < graph->n_initializer; i++) {
    const Onnx__TensorProto *t = graph->initializer[i];
    CfqpConst *c;
    Sym *s;
    if (!t->name) {
      g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_PARSE, "unnamed initializer");
      return FALSE;
    }
    if (!(c = cfqp_const_from_tensor (t, error)))
      return FALSE;
    g_hash_table_replace (imp->elem_types, g_strdup (t->name), GINT_TO_POINTER (t->data_type));
    s = g_new0 (Sym, 1);
    s->kind = SYM_CONST;
    s->konst = c;
    g_hash_table_replace (imp->syms, g_strdup (t->name), s);
  }
  if (!import_input (imp, graph, error))
    return FALSE;

  for (gsize i = 0; i < graph->n_node; i++) {
    const Onnx__NodeProto *node = graph->node[i];
    g_autofree char *fallback = g_strdup_printf ("#%zu", i);
    CfqpOnnxOpHandler handler = NULL;

    imp->node = node;
    imp->node_name = node->name && *node->name ? node->name
        : node->n_output > 0 && node->output[0] && *node->output[0] ? node->output[0] : fallback;
    if (!node->op_type || node->n_output < 1 || !node->output[0] || !*node->output[0]) {
      g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_PARSE,
          "node '%s' has no op type or no output", imp->node_name);
      return FALSE;
    }
    if (node->domain && *node->domain && strcmp (node->domain, "ai.onnx") != 0) {
      cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED, "domain '%s' is not supported",
          node->domain);
      return FALSE;
    }
    /* ONNX graphs assign each name once; a second definition would also
     * free the symbol it replaces while the handler still reads it (a
     * Conv whose output is named like its weights) */
    if (g_hash_table_contains (imp->syms, node->output[0])) {
      cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_INVALID,
          "output '%s' is already defined (a graph assigns each name once)", node->output[0]);
      return FALSE;
    }
    for (guint h = 0; h < G_N_ELEMENTS (handlers); h++)
      if (!strcmp (handlers[h].op_type, node->op_type))
        handler = handlers[h].handler;
    if (!handler) {
      cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED, "op %s is not supported",
          node->op_type);
      return FALSE;
    }
    if (!handler (imp, error)) {
      if (error && !*error)
        cfqp_onnx_error (imp, error, CFQP_ENGINE_ERROR_UNSUPPORTED, "could not be imported");
      return FALSE;
    }
    if (imp->graph->n_nodes > CFQP_MAX_NODES) {
      g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_LIMIT, "too many nodes");
      return FALSE;
    }
  }

  if (graph->n_output != 1 || !graph->output[0]->name) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID,
        "the graph has %zu outputs: an SR model has exactly one", graph->n_output);
    return FALSE;
  }
  out = g_hash_table_lookup (imp->syms, graph->output[0]->name);
  if (!out || out->kind != SYM_ACT) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID,
        "output '%s' is not an image tensor computed from the input", graph->output[0]->name);
    return FALSE;
  }
  imp->graph->output = out->value;
  return TRUE;
}

CfqpGraph *
cfqp_onnx_import (const guint8 *data, gsize size, GError **error)
{
  Onnx__ModelProto *model;
  Importer imp = { 0 };
  gboolean ok;

  if (!cfqp_onnx_wire_check (data, size, error))
    return NULL;
  model = onnx__model_proto__unpack (NULL, size, data);
  if (!model) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_PARSE,
        "not a valid ONNX model (protobuf parse failed)");
    return NULL;
  }
  if (!model->graph) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_PARSE, "the model has no graph");
    onnx__model_proto__free_unpacked (model, NULL);
    return NULL;
  }
  imp.opset = -1;
  for (gsize i = 0; i < model->n_opset_import; i++) {
    const Onnx__OperatorSetIdProto *o = model->opset_import[i];
    if (!o->domain || !*o->domain || !strcmp (o->domain, "ai.onnx"))
      imp.opset = o->has_version ? o->version : 1;
  }
  if (imp.opset < OPSET_MIN || imp.opset > OPSET_MAX) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_UNSUPPORTED,
        "opset %" G_GINT64_FORMAT " is not supported (%d–%d)", imp.opset, OPSET_MIN, OPSET_MAX);
    onnx__model_proto__free_unpacked (model, NULL);
    return NULL;
  }

  imp.graph = cfqp_graph_new ();
  imp.syms = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, cfqp_onnx_sym_free);
  imp.elem_types = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  ok = import_graph (&imp, model->graph, error);
  g_hash_table_unref (imp.syms);
  g_hash_table_unref (imp.elem_types);
  onnx__model_proto__free_unpacked (model, NULL);
  if (!ok) {
    cfqp_graph_free (imp.graph);
    return NULL;
  }
  return imp.graph;
}
