/* Per-channel activation steps, folded into the convs around a tensor.
 *
 * A tensor whose channels span very different ranges wastes most of one
 * per-tensor uint8 grid on its narrow channels.  Channel c may instead have
 * the step scale × steps[c] (one zero point for all): the tensor the INT8
 * program carries then holds y_c / steps[c], which the producing conv
 * computes when its output channel c (weights and bias) is divided by
 * steps[c], and every consuming conv reads correctly when its input
 * channel c is multiplied by it.  ReLU, LeakyReLU and PReLU commute with a
 * positive factor, so the folded graph computes the same function in FP32;
 * the kernels and the arithmetic of docs/int8-arithmetic.md do not change,
 * only the weights, biases and multipliers the program is built from. */
#include "cfqp-model-private.h"
#include "cfqp-int8.h"

#include <math.h>
#include <string.h>

/* Whether value v may take per-channel steps: a Conv computes it (float
 * weights, an activation that commutes with a positive factor) and only
 * Convs read it, each as its activation input; never the input, the
 * output or a tensor whose grid follows another's. */
static gboolean
steps_allowed (const CfqpGraph *g, const gboolean *derived, guint v)
{
  const CfqpNode *p;
  guint n = 0;

  if (v == 0 || v == g->output || derived[v] || g->values[v].producer < 0)
    return FALSE;
  p = &g->nodes[g->values[v].producer];
  if (p->op != CFQP_OP_CONV || p->p.conv.weight_scale ||
      (p->act.kind != CFQP_ACT_NONE && p->act.kind != CFQP_ACT_RELU &&
       p->act.kind != CFQP_ACT_LEAKY_RELU && p->act.kind != CFQP_ACT_PRELU))
    return FALSE;
  for (guint i = 0; i < g->n_nodes; i++) {
    const CfqpNode *c = &g->nodes[i];
    for (guint k = 0; k < c->n_inputs; k++) {
      if (c->inputs[k] != v)
        continue;
      if (c->op != CFQP_OP_CONV || k != 0 || c->p.conv.weight_scale)
        return FALSE;
      n++;
    }
  }
  return n > 0;
}

static void
find_allowed (const CfqpGraph *g, gboolean *allowed)
{
  g_autofree gboolean *derived = g_new (gboolean, g->n_values);

  cfqp_int8_find_derived (g, derived);
  for (guint v = 0; v < g->n_values; v++)
    allowed[v] = steps_allowed (g, derived, v);
}

gboolean
cfqp_int8_check_channel_steps (const CfqpGraph *g, const CfqpChannelSteps *steps, guint n_steps,
    GError **error)
{
  g_autofree gboolean *allowed = g_new (gboolean, g->n_values);
  g_autofree gboolean *seen = g_new0 (gboolean, g->n_values);

  find_allowed (g, allowed);
  for (guint s = 0; s < n_steps; s++) {
    guint v = steps[s].tensor;
    const char *name = v < g->n_values ? g->values[v].name : "none";

    if (v >= g->n_values || !allowed[v] || seen[v]) {
      g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID,
          "channel steps for tensor %u ('%s'): %s", v, name, v < g->n_values && seen[v] ?
          "given twice" : "only a tensor that a Conv computes and only Convs read can take them");
      return FALSE;
    }
    if (steps[s].n_channels != g->values[v].channels || !steps[s].steps) {
      g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID,
          "channel steps for tensor '%s': %u given, it has %u channels", name,
          steps[s].steps ? steps[s].n_channels : 0, g->values[v].channels);
      return FALSE;
    }
    for (guint c = 0; c < steps[s].n_channels; c++)
      if (!(steps[s].steps[c] >= CFQP_MIN_CHANNEL_STEP &&
            steps[s].steps[c] <= 1.0 / CFQP_MIN_CHANNEL_STEP)) {
        g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID,
            "channel steps for tensor '%s': channel %u has %g, outside [%g, %g]", name, c,
            steps[s].steps[c], CFQP_MIN_CHANNEL_STEP, 1.0 / CFQP_MIN_CHANNEL_STEP);
        return FALSE;
      }
    seen[v] = TRUE;
  }
  return TRUE;
}

/* Multiplies input channel c of a conv's weights by f[c]. */
static void
scale_conv_inputs (CfqpConvParams *cp, const float *f)
{
  guint icg = cp->in_channels / cp->groups, ocg = cp->out_channels / cp->groups;
  gsize k = (gsize) cp->kernel_h * cp->kernel_w;

  for (guint oc = 0; oc < cp->out_channels; oc++)
    for (guint j = 0; j < icg; j++) {
      float s = f[oc / ocg * icg + j];
      float *w = cp->weight + ((gsize) oc * icg + j) * k;
      for (gsize t = 0; t < k; t++)
        w[t] *= s;
    }
  /* a pad stands for a value of the tensor, which now holds y / step */
  if (cp->pad_value)
    for (guint c = 0; c < cp->in_channels; c++)
      cp->pad_value[c] /= f[c];
}

CfqpGraph *
cfqp_int8_graph_with_channel_steps (const CfqpGraph *src, const CfqpChannelSteps *steps,
    guint n_steps, GError **error)
{
  CfqpGraph *g;

  if (!cfqp_int8_check_channel_steps (src, steps, n_steps, error))
    return NULL;
  g = cfqp_graph_copy (src);
  for (guint s = 0; s < n_steps; s++) {
    guint v = steps[s].tensor;
    const float *f = steps[s].steps;
    CfqpConvParams *p = &g->nodes[g->values[v].producer].p.conv;
    gsize per_oc = (gsize) (p->in_channels / p->groups) * p->kernel_h * p->kernel_w;

    for (guint oc = 0; oc < p->out_channels; oc++) {
      for (gsize t = 0; t < per_oc; t++)
        p->weight[oc * per_oc + t] /= f[oc];
      if (p->bias)
        p->bias[oc] /= f[oc];
    }
    for (guint i = 0; i < g->n_nodes; i++)
      if (g->nodes[i].op == CFQP_OP_CONV && g->nodes[i].inputs[0] == v)
        scale_conv_inputs (&g->nodes[i].p.conv, f);
  }
  return g;
}

void
cfqp_model_find_channel_step_tensors (const CfqpModel *model, gboolean *allowed)
{
  find_allowed (model->graph, allowed);
}

gboolean
cfqp_model_check_channel_steps (const CfqpModel *model, const CfqpChannelSteps *steps,
    guint n_steps, GError **error)
{
  return cfqp_int8_check_channel_steps (model->graph, steps, n_steps, error);
}

CfqpModel *
cfqp_model_new_with_channel_steps (CfqpModel *model, const CfqpChannelSteps *steps,
    guint n_steps, GError **error)
{
  CfqpGraph *g = cfqp_int8_graph_with_channel_steps (model->graph, steps, n_steps, error);
  CfqpModel *copy;

  if (!g)
    return NULL;
  copy = g_new0 (CfqpModel, 1);
  *copy = *model;
  copy->ref_count = 1;
  copy->name = g_strdup (model->name);
  copy->hash = g_strdup (model->hash);
  copy->graph = g;
  copy->embedded_qparams = model->embedded_qparams
      ? g_memdup2 (model->embedded_qparams, g->n_values * sizeof (CfqpQParams)) : NULL;
  return copy;
}
