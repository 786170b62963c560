/* QDQ ONNX export: the optimised graph with its INT8 parameters, written as
 * QuantizeLinear/DequantizeLinear pairs so that other runtimes (ONNX
 * Runtime, TensorRT) compute what the INT8 program computes.
 *
 *   activations  Q → DQ after every value, uint8 per tensor, with the
 *                resolved parameters (cfqp_int8_resolve_qparams)
 *   weights      int8 initializers, DQ per channel (axis 0 for Conv, 1 for
 *                ConvTranspose), scales from cfqp_int8_conv_weight_scales
 *   bias         int32 initializers, DQ with scale s_in·s_w, zero point 0
 *   activations  fused ones written back after their op (Relu, Clip,
 *                LeakyRelu, PRelu), before the Q
 *
 * Names: the float output of the op computing value V is V's own name, so
 * a re-imported export names its tensors as the original did; a fused
 * activation writes "V/act", the pair "V/q" and "V/dq", and readers read
 * "V/dq".  Opset 13, input float NCHW with symbolic H and W.
 *
 * This file walks the graph; what each op becomes is its row of the op
 * table (emit_qdq, in cfqp-qdq-emit.c).
 */
#include "cfqp-model-private.h"
#include "cfqp-qdq-emit.h"

#include <string.h>

#define QDQ_OPSET 13
#define QDQ_IR_VERSION 7
/* 16-bit Q/DQ: uint16 and int16 are in QuantizeLinear from opset 21 (IR 10) */
#define QDQ16_OPSET 21
#define QDQ16_IR_VERSION 10

static gboolean
emit_node (CfqpQdqWriter *e, const CfqpGraph *g, const CfqpNode *node, const CfqpInt8Program *prog,
    const char **dq, GError **error)
{
  const CfqpOpInfo *info = cfqp_op_info (node->op);
  const char *vname = g->values[node->output].name, *out = vname;

  if (!info || !info->emit_qdq) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_UNSUPPORTED,
        "node '%s': %s has no QDQ export", node->name, cfqp_op_type_to_string (node->op));
    return FALSE;
  }
  if (!info->emit_qdq (e, g, node, prog, dq, out, error))
    return FALSE;
  if (!info->act_is_op && node->act.kind != CFQP_ACT_NONE)
    out = cfqp_qdq_activation (e, &node->act, out,
        cfqp_qdq_keep (e, g_strdup_printf ("%s/act", vname)), node->out_channels);
  dq[node->output] = cfqp_qdq_pair (e, vname, out, &prog->qparams[node->output]);
  return TRUE;
}

static Onnx__ValueInfoProto *
image_value_info (CfqpQdqWriter *e, const char *name, guint channels, const char *h, const char *w)
{
  Onnx__ValueInfoProto *vi =
      CFQP_QDQ_NEW_MSG (e, Onnx__ValueInfoProto, ONNX__VALUE_INFO_PROTO__INIT);
  Onnx__TypeProto *tp = CFQP_QDQ_NEW_MSG (e, Onnx__TypeProto, ONNX__TYPE_PROTO__INIT);
  Onnx__TypeProto__Tensor *tt =
      CFQP_QDQ_NEW_MSG (e, Onnx__TypeProto__Tensor, ONNX__TYPE_PROTO__TENSOR__INIT);
  Onnx__TensorShapeProto *sh =
      CFQP_QDQ_NEW_MSG (e, Onnx__TensorShapeProto, ONNX__TENSOR_SHAPE_PROTO__INIT);

  vi->name = (char *) name;
  vi->type = tp;
  tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  tp->tensor_type = tt;
  tt->has_elem_type = TRUE;
  tt->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
  tt->shape = sh;
  sh->n_dim = 4;
  sh->dim = cfqp_qdq_keep (e, g_new (Onnx__TensorShapeProto__Dimension *, 4));
  for (guint d = 0; d < 4; d++) {
    Onnx__TensorShapeProto__Dimension *dim = CFQP_QDQ_NEW_MSG (e, Onnx__TensorShapeProto__Dimension,
        ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT);
    if (d < 2) {
      dim->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
      dim->dim_value = d == 0 ? 1 : channels;
    } else {
      dim->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
      dim->dim_param = (char *) (d == 2 ? h : w);
    }
    sh->dim[d] = dim;
  }
  return vi;
}

gboolean
cfqp_model_export_qdq (CfqpModel *model, const CfqpQParams *qparams, const char *path,
    GError **error)
{
  return cfqp_model_export_qdq_full (model, &(CfqpQuantisation) { qparams, NULL, 0, NULL, 0 },
      path, error);
}

gboolean
cfqp_model_export_qdq_full (CfqpModel *model, const CfqpQuantisation *q, const char *path,
    GError **error)
{
  return cfqp_model_export_qdq_precision (model, q, CFQP_PRECISION_INT8, path, error);
}

gboolean
cfqp_model_export_qdq_precision (CfqpModel *model, const CfqpQuantisation *q,
    CfqpPrecision precision, const char *path, GError **error)
{
  const CfqpQParams *qparams = q->qparams;
  g_autoptr (CfqpGraph) folded = NULL;
  const CfqpGraph *g;
  CfqpInt8Program *prog;
  CfqpQdqWriter e;
  g_autofree const char **dq = NULL;
  Onnx__ModelProto mp = ONNX__MODEL_PROTO__INIT;
  Onnx__GraphProto gp = ONNX__GRAPH_PROTO__INIT;
  Onnx__OperatorSetIdProto opset = ONNX__OPERATOR_SET_ID_PROTO__INIT;
  Onnx__OperatorSetIdProto *opsets[1] = { &opset };
  Onnx__ValueInfoProto *input, *output;
  g_autofree guint8 *buf = NULL;
  gsize len;
  gboolean ok = TRUE;

  g_return_val_if_fail (model != NULL && q != NULL && path != NULL, FALSE);
  if (!cfqp_precision_is_quantised (precision)) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID,
        "QDQ export is for a quantised precision (int8, int16), not fp32");
    return FALSE;
  }
  g = model->graph;
  /* channel steps are written as the convs the program folds them into */
  if (q->n_channel_steps) {
    if (!(folded = cfqp_int8_graph_with_channel_steps (g, q->channel_steps, q->n_channel_steps,
            error)))
      return FALSE;
    g = folded;
  }
  if (!qparams)
    qparams = cfqp_model_get_embedded_qparams (model);
  if (!qparams) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID,
        "%s: QDQ export needs quantisation parameters (a calibration) for a float model",
        model->name);
    return FALSE;
  }
  /* the folded graph with the steps' work done: what remains is the table
   * and the taps */
  if (!(prog = cfqp_int8_program_new_bits (g, &(CfqpQuantisation) { qparams, q->conv_taps,
          q->n_conv_taps, NULL, 0 }, cfqp_int8_program_bits (precision), error)))
    return FALSE;

  e.bits = prog->bits;
  e.pool = g_ptr_array_new_with_free_func (g_free);
  e.nodes = g_ptr_array_new ();
  e.inits = g_ptr_array_new ();
  dq = g_new0 (const char *, g->n_values);
  dq[0] = cfqp_qdq_pair (&e, g->values[0].name, g->values[0].name, &prog->qparams[0]);
  for (guint i = 0; i < g->n_nodes && ok; i++)
    ok = emit_node (&e, g, &g->nodes[i], prog, dq, error);
  cfqp_int8_program_free (prog);

  if (ok) {
    input = image_value_info (&e, g->values[0].name, g->values[0].channels, "height", "width");
    output = image_value_info (&e, dq[g->output], g->values[g->output].channels,
        "out_height", "out_width");
    gp.name = (char *) "cfqp-qdq";
    gp.n_node = e.nodes->len;
    gp.node = (Onnx__NodeProto **) e.nodes->pdata;
    gp.n_initializer = e.inits->len;
    gp.initializer = (Onnx__TensorProto **) e.inits->pdata;
    gp.n_input = 1;
    gp.input = &input;
    gp.n_output = 1;
    gp.output = &output;
    opset.domain = (char *) "";
    opset.has_version = TRUE;
    opset.version = e.bits == 16 ? QDQ16_OPSET : QDQ_OPSET;
    mp.has_ir_version = TRUE;
    mp.ir_version = e.bits == 16 ? QDQ16_IR_VERSION : QDQ_IR_VERSION;
    mp.producer_name = (char *) "cfqp";
    mp.producer_version = (char *) "qdq-export";
    mp.n_opset_import = 1;
    mp.opset_import = opsets;
    mp.graph = &gp;
    len = onnx__model_proto__get_packed_size (&mp);
    buf = g_malloc (len);
    onnx__model_proto__pack (&mp, buf);
    ok = g_file_set_contents (path, (const char *) buf, (gssize) len, error);
  }
  g_ptr_array_unref (e.nodes);
  g_ptr_array_unref (e.inits);
  g_ptr_array_unref (e.pool);
  return ok;
}
