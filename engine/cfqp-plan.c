/* Memory planning: slot assignment by liveness. */
#include "cfqp-plan.h"
#include "cfqp-engine.h"

#include <string.h>

void
cfqp_plan_clear (CfqpPlan *plan)
{
  g_free (plan->shapes);
  g_free (plan->slot_of_value);
  g_free (plan->slot_elements);
  memset (plan, 0, sizeof *plan);
}

/* Best fit among the free slots: the smallest that holds n elements, else
 * the largest (which then grows), else a new slot. */
static guint
take_slot (guint *n_slots, gsize *slot_elements, gboolean *is_free, gsize n)
{
  guint best = G_MAXUINT, largest = G_MAXUINT;

  for (guint s = 0; s < *n_slots; s++) {
    if (!is_free[s])
      continue;
    if (slot_elements[s] >= n && (best == G_MAXUINT || slot_elements[s] < slot_elements[best]))
      best = s;
    if (largest == G_MAXUINT || slot_elements[s] > slot_elements[largest])
      largest = s;
  }
  if (best == G_MAXUINT)
    best = largest;
  if (best == G_MAXUINT) {
    best = (*n_slots)++;
    slot_elements[best] = 0;
  }
  is_free[best] = FALSE;
  slot_elements[best] = MAX (slot_elements[best], n);
  return best;
}

guint
cfqp_plan_assign_slots (const CfqpGraph *graph, const gsize *value_elements,
    guint *slot_of_value, gsize *slot_elements)
{
  g_autofree gint *last_use = g_new (gint, graph->n_values);
  g_autofree gboolean *is_free = g_new0 (gboolean, graph->n_nodes + 1);
  guint n_slots = 0;

  cfqp_graph_last_uses (graph, last_use);
  for (guint v = 0; v < graph->n_values; v++)
    slot_of_value[v] = CFQP_PLAN_EXTERNAL;
  for (guint i = 0; i < graph->n_nodes; i++) {
    const CfqpNode *node = &graph->nodes[i];

    /* The output slot is taken before the inputs' slots are released:
     * kernels read their inputs while they write the output. */
    if (node->output != graph->output)
      slot_of_value[node->output] =
          take_slot (&n_slots, slot_elements, is_free, value_elements[node->output]);
    for (guint k = 0; k < node->n_inputs; k++) {
      guint v = node->inputs[k];
      if (last_use[v] == (gint) i && slot_of_value[v] != CFQP_PLAN_EXTERNAL)
        is_free[slot_of_value[v]] = TRUE;
    }
    /* A value nobody reads is dead at once. */
    if (last_use[node->output] < 0 && slot_of_value[node->output] != CFQP_PLAN_EXTERNAL)
      is_free[slot_of_value[node->output]] = TRUE;
  }
  return n_slots;
}

gboolean
cfqp_plan_update (CfqpPlan *plan, const CfqpGraph *graph, guint width, guint height,
    GError **error)
{
  g_autofree gsize *elements = NULL;

  if (plan->width == width && plan->height == height && plan->n_values == graph->n_values)
    return TRUE;
  cfqp_plan_clear (plan);
  if (width == 0 || height == 0 || width > CFQP_MAX_FRAME_DIM || height > CFQP_MAX_FRAME_DIM) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_LIMIT,
        "frame %u×%u is outside 1..%u on each side", width, height, CFQP_MAX_FRAME_DIM);
    return FALSE;
  }

  plan->n_values = graph->n_values;
  plan->shapes = g_new0 (CfqpShape, graph->n_values);
  if (!cfqp_graph_infer_shapes (graph, width, height, plan->shapes, error)) {
    cfqp_plan_clear (plan);
    return FALSE;
  }
  plan->slot_of_value = g_new (guint, graph->n_values);
  plan->slot_elements = g_new0 (gsize, graph->n_nodes + 1);
  elements = g_new (gsize, graph->n_values);
  for (guint v = 0; v < graph->n_values; v++)
    elements[v] = cfqp_shape_elements (&plan->shapes[v]);
  plan->n_slots = cfqp_plan_assign_slots (graph, elements, plan->slot_of_value,
      plan->slot_elements);
  plan->width = width;
  plan->height = height;
  return TRUE;
}
