/* Memory plan of a graph for one frame size (internal, backend-neutral).
 *
 * Every node output gets a slot; a slot is handed to a later value once
 * the value it holds is dead (after its last reader), so a chain of N
 * layers needs only a couple of buffers.  The graph input and output are
 * "external": the caller provides them.  Sizes are in elements, so a
 * backend multiplies by its own element size.
 */
#pragma once

#include "cfqp-graph.h"

G_BEGIN_DECLS

#define CFQP_PLAN_EXTERNAL G_MAXUINT

typedef struct {
  guint      width, height;   /* input size the plan is for; 0: none yet */
  guint      n_values;
  CfqpShape *shapes;          /* per value */
  guint     *slot_of_value;   /* per value; CFQP_PLAN_EXTERNAL for input/output/unused */
  guint      n_slots;
  gsize     *slot_elements;   /* per slot, the largest value it holds */
} CfqpPlan;

/* (Re)computes plan for width × height; a plan already at that size is kept. */
gboolean cfqp_plan_update (CfqpPlan *plan, const CfqpGraph *graph, guint width,
                           guint height, GError **error);
void     cfqp_plan_clear  (CfqpPlan *plan);
/* The slot assignment itself, for any per-value sizes (elements): fills
 * slot_of_value (n_values) and slot_elements (n_nodes + 1 entries), returns
 * the number of slots.  The graph input and output stay external. */
guint    cfqp_plan_assign_slots (const CfqpGraph *graph, const gsize *value_elements,
                                 guint *slot_of_value, gsize *slot_elements);

static inline gsize
cfqp_shape_elements (const CfqpShape *s)
{
  return (gsize) s->c * s->h * s->w;
}

G_END_DECLS
