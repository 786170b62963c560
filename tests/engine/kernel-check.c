/* Kernel test harness. */
#include "kernel-check.h"

#include <math.h>

#define ROW_PAD 5
#define SENTINEL 12345.f

static CfqpF32View
padded_view (CfqpShape s)
{
  CfqpF32View v = { NULL, s.c, s.h, s.w, s.w + ROW_PAD, (gsize) (s.h + 1) * (s.w + ROW_PAD) };

  v.data = g_new (float, v.plane_stride * s.c);
  for (gsize i = 0; i < v.plane_stride * s.c; i++)
    v.data[i] = SENTINEL;
  return v;
}

void
kernel_check (const CfqpNode *node, guint n_inputs, const CfqpShape *in_shapes,
    CfqpShape out_shape, GRand *rand, double tol)
{
  g_autofree RefTensor *ref_in = g_new0 (RefTensor, n_inputs);
  g_autofree CfqpF32View *views = g_new0 (CfqpF32View, n_inputs);
  RefTensor ref_out = { out_shape, NULL };
  CfqpF32View out = padded_view (out_shape);
  guint h = out_shape.h, cuts[4] = { 0, h / 3, 2 * h / 3, h };
  double max_err = 0;

  for (guint i = 0; i < n_inputs; i++) {
    CfqpShape s = in_shapes[i];
    ref_in[i].shape = s;
    ref_in[i].data = g_new (double, (gsize) s.c * s.h * s.w);
    views[i] = padded_view (s);
    for (guint c = 0; c < s.c; c++)
      for (guint y = 0; y < s.h; y++)
        for (guint x = 0; x < s.w; x++) {
          /* Away from 0 so that division stays well conditioned. */
          float v = g_rand_double_range (rand, -1, 1);
          if (node->op == CFQP_OP_BINARY && fabsf (v) < 0.1f)
            v = 0.5f;
          views[i].data[c * views[i].plane_stride + y * views[i].row_stride + x] = v;
          *ref_at (&ref_in[i], c, y, x) = v;
        }
  }
  ref_node (node, ref_in, &ref_out);

  for (guint r = 0; r < 3; r++)
    if (cuts[r] < cuts[r + 1])
      cfqp_f32_ops[node->op] (node, views, &out, cuts[r], cuts[r + 1]);

  for (guint c = 0; c < out_shape.c; c++)
    for (guint y = 0; y <= out_shape.h; y++)
      for (guint x = 0; x < out.row_stride; x++) {
        float got = out.data[c * out.plane_stride + y * out.row_stride + x];
        double want, err;

        if (y == out_shape.h || x >= out_shape.w) {
          if (got != SENTINEL)
            g_error ("%s wrote outside its output at c=%u y=%u x=%u",
                cfqp_op_type_to_string (node->op), c, y, x);
          continue;
        }
        want = *ref_at (&ref_out, c, y, x);
        err = fabs (got - want);
        max_err = MAX (max_err, err);
        if (!(err <= tol * (1 + fabs (want))))
          g_error ("%s '%s' at c=%u y=%u x=%u of %u×%u×%u: got %.7g, want %.7g",
              cfqp_op_type_to_string (node->op), node->name, c, y, x,
              out_shape.c, out_shape.h, out_shape.w, got, want);
      }
  g_test_message ("%s '%s' %u×%u×%u: max error %.3g", cfqp_op_type_to_string (node->op),
      node->name, out_shape.c, out_shape.h, out_shape.w, max_err);

  for (guint i = 0; i < n_inputs; i++) {
    g_free (ref_in[i].data);
    g_free (views[i].data);
  }
  g_free (ref_out.data);
  g_free (out.data);
}

CfqpGraph *
single_node_graph (guint in_channels, CfqpOpType op, guint out_channels, CfqpNode **node)
{
  CfqpGraph *graph = cfqp_graph_new ();
  CfqpNode *n;

  cfqp_graph_add_value (graph, "input", in_channels, -1);
  cfqp_graph_add_value (graph, "output", out_channels, 0);
  n = cfqp_graph_add_node (graph, op, cfqp_op_type_to_string (op));
  n->n_inputs = 1;
  n->inputs = g_new0 (guint, 1);
  n->output = 1;
  n->out_channels = out_channels;
  graph->output = 1;
  *node = n;
  return graph;
}

void
kernel_check_graph (CfqpGraph *graph, guint width, guint height, GRand *rand, double tol)
{
  CfqpShape shapes[2];
  g_autoptr (GError) error = NULL;

  g_assert_cmpuint (graph->n_values, ==, 2);
  if (!cfqp_graph_infer_shapes (graph, width, height, shapes, &error))
    g_error ("infer_shapes %u×%u: %s", width, height, error->message);
  kernel_check (&graph->nodes[0], 1, &shapes[0], shapes[1], rand, tol);
}
