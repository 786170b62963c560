/* FP32 kernels other than convs against the double-precision reference. */
#include "kernel-check.h"

static const guint sizes[][2] = { { 37, 23 }, { 1, 1 }, { 6, 12 } };

static void
test_activations (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (1);
  const CfqpActKind kinds[] = { CFQP_ACT_NONE, CFQP_ACT_RELU, CFQP_ACT_LEAKY_RELU,
                                CFQP_ACT_PRELU, CFQP_ACT_PRELU, CFQP_ACT_CLIP };

  for (guint k = 0; k < G_N_ELEMENTS (kinds); k++) {
    for (guint s = 0; s < G_N_ELEMENTS (sizes); s++) {
      CfqpNode *node;
      CfqpGraph *graph = single_node_graph (5, CFQP_OP_ACTIVATION, 5, &node);

      node->act.kind = kinds[k];
      node->act.alpha = 0.2f;
      node->act.lo = -0.3f;
      node->act.hi = 0.6f;
      if (kinds[k] == CFQP_ACT_PRELU) {
        /* The first PRelu has one shared slope, the second one per channel. */
        node->act.n_slopes = k == 3 ? 1 : 5;
        node->act.slopes = ref_random_floats (rand, node->act.n_slopes, -1, 1);
      }
      kernel_check_graph (graph, sizes[s][0], sizes[s][1], rand, 1e-6);
      cfqp_graph_free (graph);
    }
  }
}

static void
check_binary (CfqpBinaryKind kind, guint ca, guint cb, guint n_constant,
    gboolean constant_first, GRand *rand)
{
  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++) {
    CfqpNode node = { .name = "binary", .op = CFQP_OP_BINARY };
    CfqpShape in[2] = { { ca, sizes[s][1], sizes[s][0] }, { cb, sizes[s][1], sizes[s][0] } };
    CfqpShape out = { MAX (ca, n_constant ? ca : cb), sizes[s][1], sizes[s][0] };
    g_autofree float *constant = NULL;

    node.p.binary.kind = kind;
    node.act.kind = CFQP_ACT_RELU;
    if (n_constant) {
      constant = ref_random_floats (rand, n_constant, 0.5, 2);
      node.p.binary.constant = constant;
      node.p.binary.n_constant = n_constant;
      node.p.binary.constant_first = constant_first;
    }
    node.out_channels = out.c;
    kernel_check (&node, n_constant ? 1 : 2, in, out, rand, 1e-6);
  }
}

static void
test_binary (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (2);

  for (CfqpBinaryKind kind = CFQP_BINARY_ADD; kind <= CFQP_BINARY_DIV; kind++) {
    check_binary (kind, 4, 4, 0, FALSE, rand);      /* two tensors */
    check_binary (kind, 1, 4, 0, FALSE, rand);      /* first broadcast over channels */
    check_binary (kind, 4, 1, 0, FALSE, rand);      /* second broadcast */
    check_binary (kind, 4, 0, 1, FALSE, rand);      /* scalar constant */
    check_binary (kind, 4, 0, 4, FALSE, rand);      /* per-channel constant */
    check_binary (kind, 4, 0, 1, TRUE, rand);       /* constant ⊕ x */
    check_binary (kind, 4, 0, 4, TRUE, rand);
  }
}

static void
test_concat (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (3);

  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++) {
    guint w = sizes[s][0], h = sizes[s][1];
    CfqpNode node = { .name = "concat", .op = CFQP_OP_CONCAT, .n_inputs = 3, .out_channels = 6 };
    CfqpShape in[3] = { { 2, h, w }, { 1, h, w }, { 3, h, w } };

    kernel_check (&node, 3, in, (CfqpShape) { 6, h, w }, rand, 0);
  }
}

static void
check_single (CfqpOpType op, guint in_c, guint out_c, guint a, guint b, guint w, guint h,
    GRand *rand)
{
  CfqpNode *node;
  CfqpGraph *graph = single_node_graph (in_c, op, out_c, &node);

  switch (op) {
    case CFQP_OP_DEPTH_TO_SPACE:
    case CFQP_OP_SPACE_TO_DEPTH:
      node->p.shuffle.block = a;
      node->p.shuffle.mode = b;
      break;
    case CFQP_OP_RESIZE_NEAREST:
      node->p.resize.scale_h = a;
      node->p.resize.scale_w = b;
      break;
    case CFQP_OP_TILE_CHANNELS:
      node->p.tile.repeats = a;
      break;
    default:
      g_assert_not_reached ();
  }
  kernel_check_graph (graph, w, h, rand, 0);
  cfqp_graph_free (graph);
}

static void
test_depth_to_space (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (4);

  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++) {
    for (CfqpD2SMode mode = CFQP_D2S_DCR; mode <= CFQP_D2S_CRD; mode++) {
      check_single (CFQP_OP_DEPTH_TO_SPACE, 27, 3, 3, mode, sizes[s][0], sizes[s][1], rand);
      check_single (CFQP_OP_DEPTH_TO_SPACE, 8, 2, 2, mode, sizes[s][0], sizes[s][1], rand);
    }
  }
}

static void
test_space_to_depth (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (5);

  check_single (CFQP_OP_SPACE_TO_DEPTH, 3, 12, 2, 0, 38, 24, rand);
  check_single (CFQP_OP_SPACE_TO_DEPTH, 2, 18, 3, 0, 39, 21, rand);
  check_single (CFQP_OP_SPACE_TO_DEPTH, 3, 12, 2, 0, 2, 2, rand);
}

static void
test_resize_and_tile (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (6);

  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++) {
    check_single (CFQP_OP_RESIZE_NEAREST, 3, 3, 2, 2, sizes[s][0], sizes[s][1], rand);
    check_single (CFQP_OP_RESIZE_NEAREST, 2, 2, 3, 1, sizes[s][0], sizes[s][1], rand);
    check_single (CFQP_OP_TILE_CHANNELS, 3, 27, 9, 0, sizes[s][0], sizes[s][1], rand);
    check_single (CFQP_OP_TILE_CHANNELS, 1, 4, 4, 0, sizes[s][0], sizes[s][1], rand);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/f32/activation", test_activations);
  g_test_add_func ("/f32/binary", test_binary);
  g_test_add_func ("/f32/concat", test_concat);
  g_test_add_func ("/f32/depth-to-space", test_depth_to_space);
  g_test_add_func ("/f32/space-to-depth", test_space_to_depth);
  g_test_add_func ("/f32/resize-and-tile", test_resize_and_tile);
  return g_test_run ();
}
