/* FP32 Conv and ConvTranspose against the double-precision reference. */
#include "kernel-check.h"

#include <math.h>

typedef struct {
  const char *name;
  CfqpOpType op;
  guint ic, oc, groups;
  guint kh, kw, sh, sw, dh, dw;
  guint pt, pl, pb, pr;
  gint auto_pad;
  guint oph, opw;
  gboolean bias, pad_value;
  CfqpActKind act;
  guint width, height;
} ConvCase;

#define CONV CFQP_OP_CONV
#define CONVT CFQP_OP_CONV_TRANSPOSE

static const ConvCase cases[] = {
  /* name                    op    ic  oc  g  kh kw sh sw dh dw pt pl pb pr auto op  bias pv  act                 w   h */
  { "3x3 28→28 relu",        CONV, 28, 28, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0, CFQP_ACT_RELU,       37, 23 },
  { "3x3 3→28 1x1 frame",    CONV,  3, 28, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0, CFQP_ACT_RELU,        1,  1 },
  { "3x3 3→27 wide",         CONV,  3, 27, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0, CFQP_ACT_NONE,      101,  7 },
  { "1x1 8→5 no bias",       CONV,  8,  5, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, CFQP_ACT_NONE,       37, 23 },
  { "5x5 asymmetric pads",   CONV,  4,  7, 1, 5, 5, 1, 1, 1, 1, 2, 1, 0, 3, 0, 0, 0, 1, 0, CFQP_ACT_NONE,       37, 23 },
  { "3x3 dilation 2",        CONV,  5, 11, 1, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 0, 0, 0, 1, 0, CFQP_ACT_LEAKY_RELU, 40, 17 },
  { "3x3 dilation 3x1",      CONV,  3,  4, 1, 3, 3, 1, 1, 3, 1, 3, 1, 3, 1, 0, 0, 0, 1, 0, CFQP_ACT_NONE,       29, 13 },
  { "3x3 stride 2",          CONV,  6,  9, 1, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0, CFQP_ACT_RELU,       37, 23 },
  { "3x3 stride 2x1",        CONV,  6,  8, 1, 3, 3, 2, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0, CFQP_ACT_NONE,       37, 23 },
  { "4x4 stride 3 valid",    CONV,  3,  5, 1, 4, 4, 3, 3, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, CFQP_ACT_NONE,       37, 23 },
  { "groups 4",              CONV,  8, 12, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0, CFQP_ACT_NONE,       37, 23 },
  { "depthwise",             CONV,  6,  6, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0, CFQP_ACT_RELU,       37, 23 },
  { "depthwise ×2 stride 2", CONV,  3,  6, 3, 5, 5, 2, 2, 1, 1, 2, 2, 2, 2, 0, 0, 0, 1, 0, CFQP_ACT_NONE,       37, 23 },
  { "SAME_UPPER 4x4",        CONV,  3,  5, 1, 4, 4, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0, 1, 0, CFQP_ACT_NONE,       37, 23 },
  { "SAME_LOWER 4x4",        CONV,  3,  5, 1, 4, 4, 1, 1, 1, 1, 0, 0, 0, 0, 2, 0, 0, 1, 0, CFQP_ACT_NONE,       37, 23 },
  { "SAME_UPPER stride 2",   CONV,  3,  4, 1, 3, 3, 2, 2, 1, 1, 0, 0, 0, 0, 1, 0, 0, 1, 0, CFQP_ACT_NONE,       37, 23 },
  { "SAME_LOWER stride 2",   CONV,  3,  4, 1, 4, 4, 2, 2, 1, 1, 0, 0, 0, 0, 2, 0, 0, 1, 0, CFQP_ACT_NONE,       37, 23 },
  { "pad_value 3x3",         CONV,  3,  8, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, CFQP_ACT_NONE,       37, 23 },
  { "pad_value 5x5 asym",    CONV,  3,  7, 1, 5, 5, 1, 1, 1, 1, 2, 2, 1, 3, 0, 0, 0, 1, 1, CFQP_ACT_NONE,       37, 23 },
  { "pad_value stride 2",    CONV,  3,  5, 1, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, CFQP_ACT_NONE,       37, 23 },
  { "pad_value 1x1 frame",   CONV,  3,  4, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, CFQP_ACT_NONE,        1,  1 },
  { "prelu per channel",     CONV,  4, 10, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0, CFQP_ACT_PRELU,      37, 23 },
  { "clip",                  CONV,  4,  3, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0, CFQP_ACT_CLIP,       37, 23 },
  { "1x7 kernel",            CONV,  2,  3, 1, 1, 7, 1, 1, 1, 1, 0, 3, 0, 3, 0, 0, 0, 1, 0, CFQP_ACT_NONE,       37, 23 },
  { "T k3 s2 p1 op1",        CONVT, 4,  6, 1, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 0, CFQP_ACT_NONE,       37, 23 },
  { "T k4 s2 p1",            CONVT, 3,  3, 1, 4, 4, 2, 2, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0, CFQP_ACT_RELU,       17, 11 },
  { "T k3 s3 op2 asym",      CONVT, 2,  4, 1, 3, 3, 3, 3, 1, 1, 0, 1, 2, 0, 0, 2, 1, 0, 0, CFQP_ACT_NONE,       13,  9 },
  { "T groups 2 dilation 2", CONVT, 4,  6, 2, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 1, 0, CFQP_ACT_NONE,       13,  9 },
  { "T SAME_UPPER k4 s2",    CONVT, 3,  2, 1, 4, 4, 2, 2, 1, 1, 0, 0, 0, 0, 1, 0, 0, 1, 0, CFQP_ACT_NONE,       13,  9 },
  { "T SAME_LOWER k3 s2",    CONVT, 3,  2, 1, 3, 3, 2, 2, 1, 1, 0, 0, 0, 0, 2, 1, 1, 1, 0, CFQP_ACT_NONE,       13,  9 },
  { "T 1x1 frame",           CONVT, 3,  5, 1, 3, 3, 2, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, CFQP_ACT_NONE,        1,  1 },
};

static void
test_conv_case (gconstpointer data)
{
  const ConvCase *t = data;
  g_autoptr (GRand) rand = g_rand_new_with_seed (42);
  CfqpNode *node;
  CfqpGraph *graph = single_node_graph (t->ic, t->op, t->oc, &node);
  CfqpConvParams *c = &node->p.conv;
  guint n_weights = t->ic * (t->oc / t->groups) * t->kh * t->kw;

  g_free (node->name);
  node->name = g_strdup (t->name);
  *c = (CfqpConvParams) { t->kh, t->kw, t->sh, t->sw, t->dh, t->dw, t->pt, t->pl, t->pb, t->pr,
                          t->auto_pad, t->oph, t->opw, t->groups, t->ic, t->oc };
  c->weight = ref_random_floats (rand, n_weights, -0.5, 0.5);
  if (t->bias)
    c->bias = ref_random_floats (rand, t->oc, -0.5, 0.5);
  if (t->pad_value)
    c->pad_value = ref_random_floats (rand, t->ic, -2, 2);
  node->act.kind = t->act;
  node->act.alpha = 0.1f;
  node->act.lo = -0.25f;
  node->act.hi = 0.3f;
  if (t->act == CFQP_ACT_PRELU) {
    node->act.n_slopes = t->oc;
    node->act.slopes = ref_random_floats (rand, t->oc, -0.5, 0.5);
  }
  kernel_check_graph (graph, t->width, t->height, rand, 1e-5);
  cfqp_graph_free (graph);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *path = g_strdup_printf ("/f32/%s/%s",
        cases[i].op == CONV ? "conv" : "conv-transpose", cases[i].name);
    g_test_add_data_func (path, &cases[i], test_conv_case);
  }
  return g_test_run ();
}
