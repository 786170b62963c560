/* Memory planning: slots are reused once values are dead, never while live. */
#include "cfqp-engine.h"
#include "cfqp-plan.h"

static guint
add_conv (CfqpGraph *g, guint in, guint ic, guint oc)
{
  guint out = cfqp_graph_add_value (g, "v", oc, g->n_nodes);
  CfqpNode *n = cfqp_graph_add_node (g, CFQP_OP_CONV, "conv");

  n->n_inputs = 1;
  n->inputs = g_new (guint, 1);
  n->inputs[0] = in;
  n->output = out;
  n->out_channels = oc;
  n->p.conv = (CfqpConvParams) { 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, ic, oc };
  n->p.conv.weight = g_new0 (float, ic * oc * 9);
  g->output = out;
  return out;
}

static guint
add_add (CfqpGraph *g, guint a, guint b, guint c)
{
  guint out = cfqp_graph_add_value (g, "sum", c, g->n_nodes);
  CfqpNode *n = cfqp_graph_add_node (g, CFQP_OP_BINARY, "add");

  n->n_inputs = 2;
  n->inputs = g_new (guint, 2);
  n->inputs[0] = a;
  n->inputs[1] = b;
  n->output = out;
  n->out_channels = c;
  g->output = out;
  return out;
}

/* Two values whose lifetimes [producer, last use] overlap never share a slot,
 * and every slot holds the values put in it. */
static void
assert_plan_sound (const CfqpGraph *g, const CfqpPlan *plan)
{
  g_autofree gint *last = g_new (gint, g->n_values);

  cfqp_graph_last_uses (g, last);
  for (guint a = 1; a < g->n_values; a++) {
    guint sa = plan->slot_of_value[a];
    if (sa == CFQP_PLAN_EXTERNAL)
      continue;
    g_assert_cmpuint (plan->slot_elements[sa], >=, cfqp_shape_elements (&plan->shapes[a]));
    for (guint b = a + 1; b < g->n_values; b++) {
      gint start_a = g->values[a].producer, start_b = g->values[b].producer;
      if (plan->slot_of_value[b] != sa)
        continue;
      /* Same slot: one must be dead before (or when) the other is written…
       * strictly before, since a node reads while it writes. */
      g_assert_true (last[a] < start_b || last[b] < start_a);
    }
  }
}

static void
test_chain_reuses_slots (void)
{
  CfqpGraph *g = cfqp_graph_new ();
  CfqpPlan plan = { 0 };
  guint v = 0;
  g_autoptr (GError) error = NULL;

  cfqp_graph_add_value (g, "in", 3, -1);
  v = add_conv (g, v, 3, 8);
  for (guint i = 0; i < 8; i++)
    v = add_conv (g, v, 8, 8);
  add_conv (g, v, 8, 3);
  g_assert_true (cfqp_plan_update (&plan, g, 40, 30, &error));
  g_assert_no_error (error);
  /* 11 values: input and output external, 9 intermediates in 2 slots. */
  g_assert_cmpuint (plan.n_slots, ==, 2);
  g_assert_cmpuint (plan.slot_of_value[0], ==, CFQP_PLAN_EXTERNAL);
  g_assert_cmpuint (plan.slot_of_value[g->output], ==, CFQP_PLAN_EXTERNAL);
  assert_plan_sound (g, &plan);
  g_assert_cmpuint (plan.slot_elements[0], ==, 8 * 40 * 30);

  /* Same size: kept; another size: replanned. */
  g_assert_true (cfqp_plan_update (&plan, g, 40, 30, NULL));
  g_assert_true (cfqp_plan_update (&plan, g, 20, 10, NULL));
  g_assert_cmpuint (plan.shapes[1].w, ==, 20);
  g_assert_cmpuint (plan.slot_elements[0], ==, 8 * 20 * 10);
  cfqp_plan_clear (&plan);
  cfqp_graph_free (g);
}

static void
test_skip_connection (void)
{
  CfqpGraph *g = cfqp_graph_new ();
  CfqpPlan plan = { 0 };
  guint head, v;

  cfqp_graph_add_value (g, "in", 3, -1);
  head = add_conv (g, 0, 3, 8);
  v = head;
  for (guint i = 0; i < 4; i++)
    v = add_conv (g, v, 8, 8);
  v = add_add (g, v, head, 8);   /* head stays live across the body */
  add_conv (g, v, 8, 3);
  g_assert_true (cfqp_plan_update (&plan, g, 17, 9, NULL));
  g_assert_cmpuint (plan.n_slots, ==, 3);
  assert_plan_sound (g, &plan);
  cfqp_plan_clear (&plan);
  cfqp_graph_free (g);
}

static void
test_limits (void)
{
  CfqpGraph *g = cfqp_graph_new ();
  CfqpPlan plan = { 0 };
  g_autoptr (GError) error = NULL;

  cfqp_graph_add_value (g, "in", 3, -1);
  add_conv (g, 0, 3, 3);
  g_assert_false (cfqp_plan_update (&plan, g, CFQP_MAX_FRAME_DIM + 1, 8, &error));
  g_assert_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_LIMIT);
  g_clear_error (&error);
  g_assert_false (cfqp_plan_update (&plan, g, 8, 0, &error));
  g_assert_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_LIMIT);
  cfqp_plan_clear (&plan);
  cfqp_graph_free (g);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/plan/chain-reuses-slots", test_chain_reuses_slots);
  g_test_add_func ("/plan/skip-connection", test_skip_connection);
  g_test_add_func ("/plan/limits", test_limits);
  return g_test_run ();
}
