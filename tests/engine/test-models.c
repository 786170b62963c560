/* Test graph builders. */
#include "test-models.h"
#include "ref-f64.h"

#include <string.h>

static CfqpNode *
add_node (CfqpGraph *g, CfqpOpType op, const char *name, guint n_inputs, const guint *inputs,
    guint out_c)
{
  guint out = cfqp_graph_add_value (g, name, out_c, g->n_nodes);
  CfqpNode *n = cfqp_graph_add_node (g, op, name);

  n->n_inputs = n_inputs;
  n->inputs = g_new (guint, n_inputs);
  memcpy (n->inputs, inputs, n_inputs * sizeof (guint));
  n->output = out;
  n->out_channels = out_c;
  g->output = out;
  return n;
}

static guint
add_conv3x3 (CfqpGraph *g, guint in, guint ic, guint oc, gboolean relu, GRand *rand)
{
  CfqpNode *n = add_node (g, CFQP_OP_CONV, "conv", 1, &in, oc);
  float bound = 1.5f / (ic * 9);

  n->p.conv = (CfqpConvParams) { 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, ic, oc };
  n->p.conv.weight = ref_random_floats (rand, ic * oc * 9, -bound * 3, bound * 3);
  n->p.conv.bias = ref_random_floats (rand, oc, -0.1, 0.1);
  n->act.kind = relu ? CFQP_ACT_RELU : CFQP_ACT_NONE;
  return n->output;
}

CfqpGraph *
test_model_abpn (guint in_channels, guint features, guint n_body, guint scale, guint32 seed)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  CfqpGraph *g = cfqp_graph_new ();
  guint v, skip, sum[2];
  CfqpNode *n;

  cfqp_graph_add_value (g, "input", in_channels, -1);
  v = add_conv3x3 (g, 0, in_channels, features, TRUE, rand);
  for (guint i = 0; i < n_body; i++)
    v = add_conv3x3 (g, v, features, features, TRUE, rand);
  v = add_conv3x3 (g, v, features, in_channels * scale * scale, FALSE, rand);
  n = add_node (g, CFQP_OP_TILE_CHANNELS, "tile", 1, (guint[]) { 0 },
      in_channels * scale * scale);
  n->p.tile.repeats = scale * scale;
  skip = n->output;
  sum[0] = v;
  sum[1] = skip;
  n = add_node (g, CFQP_OP_BINARY, "add", 2, sum, in_channels * scale * scale);
  n->p.binary.kind = CFQP_BINARY_ADD;
  v = n->output;
  n = add_node (g, CFQP_OP_DEPTH_TO_SPACE, "d2s", 1, &v, in_channels);
  n->p.shuffle.block = scale;
  n->p.shuffle.mode = CFQP_D2S_CRD;
  return g;
}

CfqpGraph *
test_model_nearest (guint channels, guint scale)
{
  CfqpGraph *g = cfqp_graph_new ();
  CfqpNode *n;

  cfqp_graph_add_value (g, "input", channels, -1);
  n = add_node (g, CFQP_OP_RESIZE_NEAREST, "resize", 1, (guint[]) { 0 }, channels);
  n->p.resize.scale_h = n->p.resize.scale_w = scale;
  return g;
}
