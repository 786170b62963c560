/* Graph passes: input-normalisation folding, activation fusion, dead code. */
#include "cfqp-passes.h"
#include "cfqp-op-table.h"

#include <math.h>
#include <string.h>

/* Every reader of value `from` reads `to` instead. */
static void
replace_uses (CfqpGraph *g, guint from, guint to)
{
  for (guint i = 0; i < g->n_nodes; i++)
    for (guint k = 0; k < g->nodes[i].n_inputs; k++)
      if (g->nodes[i].inputs[k] == from)
        g->nodes[i].inputs[k] = to;
  if (g->output == from)
    g->output = to;
}

/* The only node reading value v, or NULL. */
static CfqpNode *
sole_consumer (CfqpGraph *g, guint v)
{
  CfqpNode *found = NULL;

  if (v == g->output)
    return NULL;
  for (guint i = 0; i < g->n_nodes; i++)
    for (guint k = 0; k < g->nodes[i].n_inputs; k++)
      if (g->nodes[i].inputs[k] == v) {
        if (found)
          return NULL;
        found = &g->nodes[i];
      }
  return found;
}

/* Composes `next` after `first` when the result is still one activation. */
static gboolean
compose_activation (CfqpActivation *first, const CfqpActivation *next)
{
  if (first->kind == CFQP_ACT_NONE) {
    *first = *next;
    first->slopes = next->slopes ? g_memdup2 (next->slopes, next->n_slopes * sizeof (float)) : NULL;
    return TRUE;
  }
  if (first->kind == CFQP_ACT_RELU && next->kind == CFQP_ACT_CLIP) {
    first->kind = CFQP_ACT_CLIP;
    first->lo = MAX (0.f, next->lo);
    first->hi = next->hi;
    return first->lo <= first->hi;
  }
  if (first->kind == CFQP_ACT_CLIP && next->kind == CFQP_ACT_RELU) {
    first->lo = MAX (0.f, first->lo);
    first->hi = MAX (0.f, first->hi);
    return TRUE;
  }
  if (first->kind == CFQP_ACT_CLIP && next->kind == CFQP_ACT_CLIP) {
    first->lo = CLAMP (first->lo, next->lo, next->hi);
    first->hi = CLAMP (first->hi, next->lo, next->hi);
    return TRUE;
  }
  if (first->kind == CFQP_ACT_RELU && next->kind == CFQP_ACT_RELU)
    return TRUE;
  return FALSE;
}

guint
cfqp_pass_fuse_activations (CfqpGraph *g)
{
  guint fused = 0;

  for (guint i = 0; i < g->n_nodes; i++) {
    CfqpNode *act = &g->nodes[i];
    CfqpNode *producer, *reader = act;
    gint p = act->op == CFQP_OP_ACTIVATION ? g->values[act->inputs[0]].producer : -1;
    CfqpActivation merged;

    /* An elementwise activation commutes with pure data movement, so
     * Clip(DepthToSpace(conv)) fuses into the conv — the trailing clamp
     * of many SR nets then costs nothing.  Per-channel slopes don't
     * commute with channel shuffles, so only uniform activations move. */
    while (p >= 0 && cfqp_op_is_data_movement (g->nodes[p].op) && act->act.kind != CFQP_ACT_PRELU &&
        sole_consumer (g, g->nodes[p].output) == reader) {
      reader = &g->nodes[p];
      p = g->values[reader->inputs[0]].producer;
    }
    if (p < 0)
      continue;
    producer = &g->nodes[p];
    if (!cfqp_op_info (producer->op)->takes_activation ||
        sole_consumer (g, producer->output) != reader)
      continue;
    merged = producer->act;
    if (merged.kind != CFQP_ACT_NONE && (merged.kind == CFQP_ACT_PRELU ||
        merged.kind == CFQP_ACT_LEAKY_RELU))
      continue;
    if (!compose_activation (&merged, &act->act))
      continue;
    producer->act = merged;
    /* A QDQ model's parameters for the activation's output now belong
     * to the value that stands for it. */
    if (g->values[act->output].has_qparams) {
      CfqpValueInfo *to = &g->values[act->inputs[0]];
      to->has_qparams = TRUE;
      to->q_scale = g->values[act->output].q_scale;
      to->q_zero_point = g->values[act->output].q_zero_point;
    }
    /* the activation node is now dead: its readers read what it read */
    replace_uses (g, act->output, act->inputs[0]);
    act->n_inputs = 0;
    fused++;
  }
  return fused;
}

guint
cfqp_pass_fold_input_normalisation (CfqpGraph *g)
{
  guint c = g->values[0].channels, v = 0, folded = 0;
  g_autofree double *a = g_new (double, c), *b = g_new (double, c);
  CfqpNode *node;

  /* x' = a·x + b per channel, accumulated along the chain */
  for (guint k = 0; k < c; k++) {
    a[k] = 1;
    b[k] = 0;
  }
  while ((node = sole_consumer (g, v)) && node->op == CFQP_OP_BINARY &&
      node->p.binary.constant && node->act.kind == CFQP_ACT_NONE) {
    const CfqpBinaryParams *bp = &node->p.binary;
    for (guint k = 0; k < c; k++) {
      double q = bp->constant[bp->n_constant == 1 ? 0 : k];
      switch (bp->kind) {
        case CFQP_BINARY_ADD: b[k] += q; break;
        case CFQP_BINARY_SUB:
          if (bp->constant_first) { a[k] = -a[k]; b[k] = q - b[k]; } else b[k] -= q;
          break;
        case CFQP_BINARY_MUL: a[k] *= q; b[k] *= q; break;
        case CFQP_BINARY_DIV:
          if (bp->constant_first)
            return 0;
          a[k] /= q; b[k] /= q;
          break;
      }
    }
    v = node->output;
    folded++;
  }
  if (!folded || !node || node->op != CFQP_OP_CONV || node->p.conv.pad_value)
    return 0;
  for (guint k = 0; k < c; k++)
    if (a[k] == 0 || !isfinite (a[k]) || !isfinite (b[k]))
      return 0;

  {
    CfqpConvParams *cp = &node->p.conv;
    guint icg = cp->in_channels / cp->groups, ocg = cp->out_channels / cp->groups;
    gsize ksize = (gsize) cp->kernel_h * cp->kernel_w;

    if (!cp->bias)
      cp->bias = g_new0 (float, cp->out_channels);
    /* the weights change per input channel: a QDQ model's scales no longer fit */
    g_clear_pointer (&cp->weight_scale, g_free);
    for (guint oc = 0; oc < cp->out_channels; oc++) {
      guint group = oc / ocg;
      double shift = 0;
      for (guint j = 0; j < icg; j++) {
        guint ic = group * icg + j;
        float *w = cp->weight + ((gsize) oc * icg + j) * ksize;
        for (gsize t = 0; t < ksize; t++) {
          shift += (double) w[t] * b[ic];
          w[t] = (float) (w[t] * a[ic]);
        }
      }
      cp->bias[oc] += (float) shift;
    }
    /* A zero-padded normalised input is the raw input padded with −b/a. */
    cp->pad_value = g_new (float, c);
    for (guint k = 0; k < c; k++)
      cp->pad_value[k] = (float) (-b[k] / a[k]);
  }
  node->inputs[0] = 0;
  return folded;
}

guint
cfqp_pass_remove_dead (CfqpGraph *g)
{
  g_autofree gboolean *live_value = g_new0 (gboolean, g->n_values);
  g_autofree gint *new_value = g_new (gint, g->n_values);
  guint removed = 0, n_nodes = 0, n_values = 0;

  live_value[g->output] = TRUE;
  live_value[0] = TRUE;
  for (gint i = (gint) g->n_nodes - 1; i >= 0; i--) {
    CfqpNode *node = &g->nodes[i];
    if (!live_value[node->output])
      continue;
    for (guint k = 0; k < node->n_inputs; k++)
      live_value[node->inputs[k]] = TRUE;
  }
  for (guint v = 0; v < g->n_values; v++) {
    new_value[v] = live_value[v] ? (gint) n_values : -1;
    if (live_value[v])
      g->values[n_values++] = g->values[v];
    else
      g_free (g->values[v].name);
  }
  for (guint i = 0; i < g->n_nodes; i++) {
    CfqpNode *node = &g->nodes[i];
    if (new_value[node->output] < 0) {
      cfqp_node_clear (node);
      removed++;
      continue;
    }
    node->output = (guint) new_value[node->output];
    for (guint k = 0; k < node->n_inputs; k++)
      node->inputs[k] = (guint) new_value[node->inputs[k]];
    g->values[node->output].producer = (gint) n_nodes;
    g->nodes[n_nodes++] = *node;
  }
  g->n_nodes = n_nodes;
  g->n_values = n_values;
  g->output = (guint) new_value[g->output];
  return removed;
}

void
cfqp_passes_optimise (CfqpGraph *graph)
{
  cfqp_pass_fold_input_normalisation (graph);
  cfqp_pass_fuse_activations (graph);
  cfqp_pass_remove_dead (graph);
}
