/* The model's tensors and convs as the public API shows them, FP32
 * observation for calibration, and the clip-free variant of a model. */
#include "cfqp-model-private.h"
#include "cfqp-f32-kernels.h"
#include "cfqp-int8.h"

#include <math.h>
#include <string.h>

guint
cfqp_model_get_n_tensors (const CfqpModel *model)
{
  return model->graph->n_values;
}

const char *
cfqp_model_get_tensor_name (const CfqpModel *model, guint tensor)
{
  g_return_val_if_fail (tensor < model->graph->n_values, NULL);
  return model->graph->values[tensor].name;
}

guint
cfqp_model_get_output_tensor (const CfqpModel *model)
{
  return model->graph->output;
}

gboolean
cfqp_model_tensor_is_derived (const CfqpModel *model, guint tensor)
{
  const CfqpGraph *g = model->graph;
  g_autofree gboolean *derived = g_new (gboolean, g->n_values);

  g_return_val_if_fail (tensor < g->n_values, FALSE);
  cfqp_int8_find_derived (g, derived);
  return derived[tensor];
}

void
cfqp_model_find_pixel_residuals (const CfqpModel *model, const CfqpQParams *table,
    gboolean *residual)
{
  const CfqpGraph *g = model->graph;
  g_autofree CfqpQParams *resolved = g_new (CfqpQParams, g->n_values);
  g_autofree gboolean *derived = g_new (gboolean, g->n_values);

  cfqp_int8_resolve_qparams (g, table, resolved, derived);
  memset (residual, 0, g->n_values * sizeof (gboolean));
  for (guint i = 0; i < g->n_nodes; i++) {
    const CfqpNode *n = &g->nodes[i];

    if (n->op != CFQP_OP_BINARY || n->p.binary.kind != CFQP_BINARY_ADD ||
        n->p.binary.constant != NULL || n->n_inputs != 2 ||
        !cfqp_int8_on_pixel_grid (resolved[n->output]))
      continue;
    for (guint k = 0; k < 2; k++) {
      guint r = n->inputs[k], anchor = n->inputs[1 - k];

      if (!derived[r] && cfqp_int8_on_pixel_grid (resolved[anchor]))
        residual[r] = TRUE;
    }
  }
}

gboolean
cfqp_model_observe_f32 (CfqpModel *model, const float *in, guint width, guint height,
    float *out, CfqpTensorFunc func, gpointer user_data, GError **error)
{
  const CfqpGraph *g = model->graph;
  g_autofree CfqpShape *shapes = g_new0 (CfqpShape, g->n_values);
  g_autofree CfqpF32View *views = g_new0 (CfqpF32View, g->n_values);
  g_autofree CfqpF32View *inputs = NULL;
  g_autofree gint *last_use = g_new (gint, g->n_values);
  guint max_inputs = 1;

  if (width == 0 || height == 0 || width > CFQP_MAX_FRAME_DIM || height > CFQP_MAX_FRAME_DIM) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID,
        "frame size %u×%u is out of range", width, height);
    return FALSE;
  }
  if (!cfqp_graph_infer_shapes (g, width, height, shapes, error))
    return FALSE;
  /* out holds scale × the input: some graphs break that at some sizes. */
  if (!cfqp_is_upscale (shapes[g->output].w, shapes[g->output].h, width, height,
          model->scale_num, model->scale_den)) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID,
        "output is %u×%u for a %u×%u input, not a ×%u/%u upscale", shapes[g->output].w,
        shapes[g->output].h, width, height, model->scale_num, model->scale_den);
    return FALSE;
  }
  cfqp_graph_last_uses (g, last_use);
  for (guint i = 0; i < g->n_nodes; i++)
    max_inputs = MAX (max_inputs, g->nodes[i].n_inputs);
  inputs = g_new0 (CfqpF32View, max_inputs);

  /* Calibration frames are small crops: one buffer per live tensor, freed
   * once dead, single-threaded. */
  for (guint v = 0; v < g->n_values; v++) {
    views[v].c = shapes[v].c;
    views[v].h = shapes[v].h;
    views[v].w = shapes[v].w;
    views[v].row_stride = shapes[v].w;
    views[v].plane_stride = (gsize) shapes[v].w * shapes[v].h;
  }
  views[0].data = (float *) in;
  if (func)
    func (0, in, shapes[0].c, shapes[0].h, shapes[0].w, user_data);
  for (guint i = 0; i < g->n_nodes; i++) {
    const CfqpNode *node = &g->nodes[i];
    CfqpF32View *o = &views[node->output];

    o->data = g_new (float, (gsize) o->c * o->plane_stride);
    for (guint k = 0; k < node->n_inputs; k++)
      inputs[k] = views[node->inputs[k]];
    cfqp_f32_ops[node->op] (node, inputs, o, 0, o->h);
    if (func)
      func (node->output, o->data, o->c, o->h, o->w, user_data);
    for (guint k = 0; k < node->n_inputs; k++) {
      guint v = node->inputs[k];
      if (v != 0 && last_use[v] == (gint) i && v != g->output)
        g_clear_pointer (&views[v].data, g_free);
    }
  }
  if (out)
    memcpy (out, views[g->output].data, (gsize) views[g->output].c *
        views[g->output].plane_stride * sizeof (float));
  for (guint v = 1; v < g->n_values; v++)
    g_free (views[v].data);
  return TRUE;
}

/* --- convs, for calibrations that round their weights ------------------- */

static const CfqpNode *
nth_conv (const CfqpGraph *g, guint i)
{
  for (guint k = 0; k < g->n_nodes; k++)
    if (g->nodes[k].op == CFQP_OP_CONV && i-- == 0)
      return &g->nodes[k];
  return NULL;
}

guint
cfqp_model_get_n_convs (const CfqpModel *model)
{
  guint n = 0;

  for (guint k = 0; k < model->graph->n_nodes; k++)
    n += model->graph->nodes[k].op == CFQP_OP_CONV;
  return n;
}

void
cfqp_model_get_conv (const CfqpModel *model, guint i, guint in_height, guint in_width,
    CfqpConvInfo *info)
{
  const CfqpNode *node = nth_conv (model->graph, i);
  const CfqpConvParams *cp;

  g_return_if_fail (node != NULL && info != NULL);
  cp = &node->p.conv;
  *info = (CfqpConvInfo) { node->inputs[0], node->output, cp->in_channels, cp->out_channels,
    cp->groups, cp->kernel_h, cp->kernel_w, cp->stride_h, cp->stride_w, cp->dilation_h,
    cp->dilation_w, 0, 0, 0, 0, cp->weight, cp->pad_value, cp->weight_scale != NULL };
  cfqp_conv_resolve_pads (cp, in_height, in_width, &info->pad_top, &info->pad_left,
      &info->pad_bottom, &info->pad_right);
}

gboolean
cfqp_model_check_conv_taps (const CfqpModel *model, const CfqpConvTaps *taps, guint n_taps,
    GError **error)
{
  return cfqp_int8_check_conv_taps (model->graph, taps, n_taps, NULL, error);
}

void
cfqp_model_get_conv_weight_scales (const CfqpModel *model, guint i, double *scales)
{
  const CfqpNode *node = nth_conv (model->graph, i);

  g_return_if_fail (node != NULL && scales != NULL);
  cfqp_int8_conv_weight_scales (&node->p.conv, FALSE, scales);
}

/* --- clip removal -------------------------------------------------------- */

/* Removes clips from a graph: the activation that produces the output
 * (through data moves) loses a clamp to [0,1] (the byte output saturates
 * anyway), and every other Clip(lo ≥ 0, hi) — a clipped ReLU or
 * Hardtanh(0, x) — becomes a ReLU. */
static guint
remove_clips (CfqpGraph *g, GString *report)
{
  guint removed = 0;
  gint p = g->values[g->output].producer;

  while (p >= 0 && cfqp_op_is_data_movement (g->nodes[p].op) && g->nodes[p].act.kind == CFQP_ACT_NONE)
    p = g->values[g->nodes[p].inputs[0]].producer;
  if (p >= 0 && g->nodes[p].act.kind == CFQP_ACT_CLIP && g->nodes[p].act.lo <= 0.f &&
      g->nodes[p].act.hi >= 1.f) {
    g_string_append_printf (report, "%s%s: output clamp [%g,%g] removed", removed ? "; " : "",
        g->nodes[p].name, g->nodes[p].act.lo, g->nodes[p].act.hi);
    g->nodes[p].act.kind = CFQP_ACT_NONE;
    removed++;
  }
  for (guint i = 0; i < g->n_nodes; i++) {
    CfqpActivation *act = &g->nodes[i].act;
    if (act->kind != CFQP_ACT_CLIP || act->lo < 0.f || !isfinite (act->hi))
      continue;
    g_string_append_printf (report, "%s%s: clip [%g,%g] → ReLU", removed ? "; " : "",
        g->nodes[i].name, act->lo, act->hi);
    act->kind = act->lo == 0.f ? CFQP_ACT_RELU : CFQP_ACT_CLIP;
    act->hi = INFINITY;
    removed++;
  }
  return removed;
}

gboolean
cfqp_model_is_clip_free (const CfqpModel *model)
{
  return model->clip_free;
}

CfqpModel *
cfqp_model_new_clip_free (CfqpModel *model, guint *n_removed, char **report)
{
  CfqpModel *copy = g_new0 (CfqpModel, 1);
  g_autoptr (GString) text = g_string_new (NULL);
  guint removed;

  *copy = *model;
  copy->ref_count = 1;
  copy->name = g_strdup (model->name);
  copy->hash = g_strdup (model->hash);
  copy->graph = cfqp_graph_copy (model->graph);
  copy->embedded_qparams = model->embedded_qparams
      ? g_memdup2 (model->embedded_qparams, model->graph->n_values * sizeof (CfqpQParams)) : NULL;
  removed = remove_clips (copy->graph, text);
  copy->clip_free = TRUE;
  if (n_removed)
    *n_removed = removed;
  if (report)
    *report = g_strdup (removed ? text->str : "no clipped activations");
  return copy;
}
