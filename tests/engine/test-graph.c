/* Graph IR: shape inference, pad resolution, errors, liveness, MACs. */
#include "cfqp-engine.h"
#include "cfqp-graph.h"
#include "cfqp-op-table.h"
#include "graph-build.h"

#include <string.h>

static CfqpNode *
add_conv (CfqpGraph *g, CfqpOpType op, const char *name, guint in, guint ic, guint oc,
    guint k, guint stride, guint pad)
{
  CfqpNode *n = graph_add_node (g, op, name, in, -1, oc);
  CfqpConvParams *c = &n->p.conv;

  *c = (CfqpConvParams) { k, k, stride, stride, 1, 1, pad, pad, pad, pad, 0, 0, 0, 1, ic, oc };
  c->weight = g_new0 (float, (gsize) ic * oc * k * k);
  return n;
}

static void
test_conv_shapes (void)
{
  CfqpGraph *g = cfqp_graph_new ();
  CfqpShape s[4];
  CfqpNode *n;

  cfqp_graph_add_value (g, "in", 3, -1);
  add_conv (g, CFQP_OP_CONV, "s2", 0, 3, 8, 3, 2, 1);
  n = add_conv (g, CFQP_OP_CONV_TRANSPOSE, "up", 1, 8, 4, 3, 2, 1);
  n->p.conv.output_pad_h = n->p.conv.output_pad_w = 1;
  n = add_conv (g, CFQP_OP_CONV, "dil", 2, 4, 3, 3, 1, 0);
  n->p.conv.dilation_h = 2;
  g_assert_true (cfqp_graph_infer_shapes (g, 37, 23, s, NULL));
  g_assert_cmpuint (s[1].w, ==, 19);   /* floor((37 + 2 − 3) / 2) + 1 */
  g_assert_cmpuint (s[1].h, ==, 12);
  g_assert_cmpuint (s[2].w, ==, 38);   /* (19 − 1)·2 − 2 + 3 + 1 */
  g_assert_cmpuint (s[2].h, ==, 24);
  g_assert_cmpuint (s[3].w, ==, 36);
  g_assert_cmpuint (s[3].h, ==, 20);   /* 24 − 2·2 */
  g_assert_cmpuint (s[3].c, ==, 3);
  cfqp_graph_free (g);
}

static void
test_same_pads (void)
{
  CfqpConvParams c = { 4, 3, 1, 2, 1, 1, 0, 0, 0, 0, 1, 0, 0, 1, 1, 1 };
  guint t, l, b, r;

  /* Height: k4 s1 → total 3, the odd one at the end (UPPER). */
  /* Width: k3 s2 on 38 → out 19, total 18·2 + 3 − 38 = 1. */
  cfqp_conv_resolve_pads (&c, 20, 38, &t, &l, &b, &r);
  g_assert_cmpuint (t, ==, 1);
  g_assert_cmpuint (b, ==, 2);
  g_assert_cmpuint (l, ==, 0);
  g_assert_cmpuint (r, ==, 1);
  c.auto_pad = 2;
  cfqp_conv_resolve_pads (&c, 20, 38, &t, &l, &b, &r);
  g_assert_cmpuint (t, ==, 2);
  g_assert_cmpuint (b, ==, 1);
  g_assert_cmpuint (l, ==, 1);
  g_assert_cmpuint (r, ==, 0);
  /* Explicit pads pass through. */
  c.auto_pad = 0;
  c.pad_t = 5;
  c.pad_r = 7;
  cfqp_conv_resolve_pads (&c, 20, 38, &t, &l, &b, &r);
  g_assert_cmpuint (t, ==, 5);
  g_assert_cmpuint (r, ==, 7);

  /* ConvTranspose k4 s2 SAME_UPPER: total 4 − 2 = 2, output = 2·input. */
  c = (CfqpConvParams) { 4, 4, 2, 2, 1, 1, 0, 0, 0, 0, 1, 0, 0, 1, 1, 1 };
  cfqp_conv_transpose_resolve_pads (&c, &t, &l, &b, &r);
  g_assert_cmpuint (t + b, ==, 2);
  g_assert_cmpuint (l, ==, 1);
}

static void
expect_error (CfqpGraph *g, guint w, guint h, const char *node_name)
{
  g_autofree CfqpShape *s = g_new (CfqpShape, g->n_values);
  g_autoptr (GError) error = NULL;
  g_autofree char *quoted = g_strdup_printf ("'%s'", node_name);

  g_assert_false (cfqp_graph_infer_shapes (g, w, h, s, &error));
  g_assert_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, quoted));
}

static void
test_errors (void)
{
  CfqpGraph *g;
  CfqpNode *n;
  CfqpShape s[3];

  /* An add of a full-size and a half-size tensor. */
  g = cfqp_graph_new ();
  cfqp_graph_add_value (g, "in", 3, -1);
  add_conv (g, CFQP_OP_CONV, "down", 0, 3, 3, 3, 2, 1);
  graph_add_node (g, CFQP_OP_BINARY, "bad_add", 0, 1, 3);
  expect_error (g, 16, 16, "bad_add");
  cfqp_graph_free (g);

  /* Concat of mismatched sizes. */
  g = cfqp_graph_new ();
  cfqp_graph_add_value (g, "in", 3, -1);
  add_conv (g, CFQP_OP_CONV, "down", 0, 3, 3, 3, 2, 1);
  n = graph_add_node (g, CFQP_OP_CONCAT, "bad_concat", 0, 1, 6);
  expect_error (g, 16, 16, "bad_concat");
  cfqp_graph_free (g);

  /* Space-to-depth of a size the block does not divide: fine at 16, not at 15. */
  g = cfqp_graph_new ();
  cfqp_graph_add_value (g, "in", 3, -1);
  n = graph_add_node (g, CFQP_OP_SPACE_TO_DEPTH, "s2d", 0, -1, 12);
  n->p.shuffle.block = 2;
  g_assert_true (cfqp_graph_infer_shapes (g, 16, 16, s, NULL));
  g_assert_cmpuint (s[1].w, ==, 8);
  expect_error (g, 15, 16, "s2d");
  cfqp_graph_free (g);

  /* Conv whose weights expect other channels; and declared channels wrong. */
  g = cfqp_graph_new ();
  cfqp_graph_add_value (g, "in", 3, -1);
  add_conv (g, CFQP_OP_CONV, "wrong_in", 0, 4, 3, 3, 1, 1);
  expect_error (g, 16, 16, "wrong_in");
  cfqp_graph_free (g);

  g = cfqp_graph_new ();
  cfqp_graph_add_value (g, "in", 3, -1);
  n = graph_add_node (g, CFQP_OP_DEPTH_TO_SPACE, "d2s", 0, -1, 2);
  n->p.shuffle.block = 2;   /* 3 channels do not divide by 4 */
  expect_error (g, 16, 16, "d2s");
  cfqp_graph_free (g);

  /* A kernel larger than the padded input. */
  g = cfqp_graph_new ();
  cfqp_graph_add_value (g, "in", 3, -1);
  add_conv (g, CFQP_OP_CONV, "big_kernel", 0, 3, 3, 5, 1, 0);
  g_assert_true (cfqp_graph_infer_shapes (g, 5, 5, s, NULL));
  expect_error (g, 4, 5, "big_kernel");
  cfqp_graph_free (g);
}

static void
test_liveness_and_macs (void)
{
  CfqpGraph *g = cfqp_graph_new ();
  gint last[5];

  cfqp_graph_add_value (g, "in", 3, -1);
  add_conv (g, CFQP_OP_CONV, "c1", 0, 3, 28, 3, 1, 1);          /* value 1, node 0 */
  add_conv (g, CFQP_OP_CONV, "c2", 1, 28, 27, 3, 1, 1);         /* value 2, node 1 */
  graph_add_node (g, CFQP_OP_TILE_CHANNELS, "tile", 0, -1, 27)->p.tile.repeats = 9;  /* value 3 */
  graph_add_node (g, CFQP_OP_BINARY, "add", 2, 3, 27);                /* value 4, node 3 */
  cfqp_graph_last_uses (g, last);
  g_assert_cmpint (last[0], ==, 2);
  g_assert_cmpint (last[1], ==, 1);
  g_assert_cmpint (last[2], ==, 3);
  g_assert_cmpint (last[3], ==, 3);
  g_assert_cmpint (last[4], ==, 4);   /* the graph output: n_nodes */
  g_assert_cmpuint (cfqp_graph_count_consumers (g, 0), ==, 2);
  g_assert_cmpuint (cfqp_graph_count_consumers (g, 4), ==, 0);
  g_assert_cmpuint (cfqp_graph_macs_per_pixel (g), ==, 3 * 28 * 9 + 28 * 27 * 9);
  cfqp_graph_free (g);
}

static void
test_names (void)
{
  g_assert_cmpstr (cfqp_op_type_to_string (CFQP_OP_DEPTH_TO_SPACE), ==, "DepthToSpace");
  g_assert_cmpstr (cfqp_op_type_to_string (CFQP_OP_CONV_TRANSPOSE), ==, "ConvTranspose");
  g_assert_cmpstr (cfqp_act_kind_to_string (CFQP_ACT_PRELU), ==, "prelu");
}

/* Every op has a complete row, and the rows say what the switches they
 * replaced said: which ops move data, take a fused activation, hold which
 * INT8 parameters. */
static void
test_op_table (void)
{
  static const struct {
    CfqpOpType op;
    gboolean move, takes_act, act_is_op, macs;
    CfqpOpInt8Params int8;
  } expect[] = {
    { CFQP_OP_CONV, FALSE, TRUE, FALSE, TRUE, CFQP_OP_INT8_CONV },
    { CFQP_OP_CONV_TRANSPOSE, FALSE, TRUE, FALSE, TRUE, CFQP_OP_INT8_CONV },
    { CFQP_OP_ACTIVATION, FALSE, TRUE, TRUE, FALSE, CFQP_OP_INT8_RESCALE },
    { CFQP_OP_BINARY, FALSE, TRUE, FALSE, FALSE, CFQP_OP_INT8_BINARY },
    { CFQP_OP_CONCAT, FALSE, FALSE, FALSE, FALSE, CFQP_OP_INT8_RESCALE },
    { CFQP_OP_DEPTH_TO_SPACE, TRUE, FALSE, FALSE, FALSE, CFQP_OP_INT8_MOVE },
    { CFQP_OP_SPACE_TO_DEPTH, TRUE, FALSE, FALSE, FALSE, CFQP_OP_INT8_MOVE },
    { CFQP_OP_RESIZE_NEAREST, TRUE, FALSE, FALSE, FALSE, CFQP_OP_INT8_MOVE },
    { CFQP_OP_TILE_CHANNELS, TRUE, FALSE, FALSE, FALSE, CFQP_OP_INT8_MOVE },
  };

  G_STATIC_ASSERT (G_N_ELEMENTS (expect) == CFQP_OP_N_OPS);
  for (guint k = 0; k < G_N_ELEMENTS (expect); k++) {
    const CfqpOpInfo *info = cfqp_op_info (expect[k].op);

    g_assert_nonnull (info);
    g_assert_nonnull (info->name);
    g_assert_nonnull (info->shape);
    g_assert_nonnull (info->emit_qdq);
    for (guint j = 0; j < k; j++)
      g_assert_cmpstr (info->name, !=, cfqp_op_info (expect[j].op)->name);
    g_assert_cmpint (info->data_movement, ==, expect[k].move);
    g_assert_cmpint (cfqp_op_is_data_movement (expect[k].op), ==, expect[k].move);
    g_assert_cmpint (info->takes_activation, ==, expect[k].takes_act);
    g_assert_cmpint (info->act_is_op, ==, expect[k].act_is_op);
    g_assert_cmpint (info->macs != NULL, ==, expect[k].macs);
    g_assert_cmpint (info->int8, ==, expect[k].int8);
  }
  g_assert_null (cfqp_op_info (CFQP_OP_N_OPS));
  g_assert_cmpstr (cfqp_op_type_to_string (CFQP_OP_N_OPS), ==, "unknown");
  g_assert_false (cfqp_op_is_data_movement (CFQP_OP_N_OPS));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/graph/conv-shapes", test_conv_shapes);
  g_test_add_func ("/graph/same-pads", test_same_pads);
  g_test_add_func ("/graph/errors", test_errors);
  g_test_add_func ("/graph/liveness-and-macs", test_liveness_and_macs);
  g_test_add_func ("/graph/names", test_names);
  g_test_add_func ("/graph/op-table", test_op_table);
  return g_test_run ();
}
