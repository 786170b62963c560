/* The OpenCL backend on whatever OpenCL device exists (PoCL in CI):
 * every op in FP32 against the CPU kernels (within FP32_TOL) and in INT8
 * against the ref kernels (bit-exact), at odd sizes, INT8 convs on both
 * kernel variants (CFQP_OPENCL_KERNELS=naive, tiled-32x8, tiled-64x8); the ABPN-like net
 * through the runner (variants chosen by measurement); program swaps;
 * device selection and its errors. */
#include "config.h"

#include "cfqp-f32-kernels.h"
#include "cfqp-int8.h"
#include "cfqp-model-private.h"
#include "cfqp-opencl.h"
#include "cfqp-plan.h"
#include "minmax-qparams.h"
#include "ref-f64.h"
#include "test-models.h"

#include <math.h>
#include <string.h>

#define FP32_TOL 1e-4

/* The device the tests run on: $CFQP_OPENCL_DEVICE or the first listed. */
static char *device_spec;

static gboolean
need_device (void)
{
  if (!device_spec)
    g_test_skip ("no OpenCL platform installed");
  return device_spec != NULL;
}

/* --- graph building --------------------------------------------------- */

static CfqpNode *
add_node (CfqpGraph *g, CfqpOpType op, guint n_inputs, const guint *inputs, guint out_c)
{
  char *name = g_strdup_printf ("n%u", g->n_nodes);
  guint out = cfqp_graph_add_value (g, name, out_c, g->n_nodes);
  CfqpNode *n = cfqp_graph_add_node (g, op, name);

  g_free (name);
  n->n_inputs = n_inputs;
  n->inputs = g_memdup2 (inputs, n_inputs * sizeof (guint));
  n->output = out;
  n->out_channels = out_c;
  g->output = out;
  return n;
}

static CfqpNode *
add_conv (CfqpGraph *g, CfqpOpType op, guint in, guint ic, guint oc, guint kh, guint kw,
    guint groups, GRand *rand)
{
  CfqpNode *n = add_node (g, op, 1, &in, oc);
  CfqpConvParams *c = &n->p.conv;
  gsize n_w = (gsize) oc * (ic / groups) * kh * kw;

  c->kernel_h = kh;
  c->kernel_w = kw;
  c->stride_h = c->stride_w = c->dilation_h = c->dilation_w = 1;
  c->groups = groups;
  c->in_channels = ic;
  c->out_channels = oc;
  c->weight = ref_random_floats (rand, n_w, -0.5, 0.5);
  c->bias = ref_random_floats (rand, oc, -0.2, 0.2);
  return n;
}

static void
set_act (CfqpNode *n, CfqpActKind kind, GRand *rand)
{
  n->act.kind = kind;
  n->act.alpha = 0.1f;
  n->act.lo = kind == CFQP_ACT_CLIP ? 0.f : -INFINITY;
  n->act.hi = kind == CFQP_ACT_CLIP ? 1.f : INFINITY;
  if (kind == CFQP_ACT_PRELU) {
    n->act.n_slopes = n->out_channels;
    n->act.slopes = ref_random_floats (rand, n->out_channels, 0.05, 0.3);
  }
}

static CfqpGraph *
graph_with_input (guint c)
{
  CfqpGraph *g = cfqp_graph_new ();
  cfqp_graph_add_value (g, "input", c, -1);
  return g;
}

/* A second activation from the input (for two-input ops): a 1×1 conv. */
static guint
side_tensor (CfqpGraph *g, guint ic, guint oc, GRand *rand)
{
  return add_conv (g, CFQP_OP_CONV, 0, ic, oc, 1, 1, 1, rand)->output;
}

typedef struct {
  const char *name;
  /* builds the graph; int8: FALSE when INT8 cannot express it */
  CfqpGraph *(*build) (GRand *rand, gboolean *int8);
  guint size_mul;   /* input sizes are multiplied by this (space-to-depth) */
} OpCase;

static CfqpGraph *
conv_3x3_relu (GRand *r, gboolean *int8)
{
  CfqpGraph *g = graph_with_input (3);
  CfqpNode *n = add_conv (g, CFQP_OP_CONV, 0, 3, 8, 3, 3, 1, r);
  n->p.conv.pad_t = n->p.conv.pad_l = n->p.conv.pad_b = n->p.conv.pad_r = 1;
  set_act (n, CFQP_ACT_RELU, r);
  return g;
}

static CfqpGraph *
conv_depthwise_leaky (GRand *r, gboolean *int8)
{
  CfqpGraph *g = graph_with_input (6);
  CfqpNode *n = add_conv (g, CFQP_OP_CONV, 0, 6, 6, 3, 3, 6, r);
  n->p.conv.pad_t = n->p.conv.pad_l = n->p.conv.pad_b = n->p.conv.pad_r = 1;
  set_act (n, CFQP_ACT_LEAKY_RELU, r);
  return g;
}

/* groups 2, non-square kernel, stride 2×1, dilation 1×2, asymmetric pads */
static CfqpGraph *
conv_grouped_strided_prelu (GRand *r, gboolean *int8)
{
  CfqpGraph *g = graph_with_input (6);
  CfqpNode *n = add_conv (g, CFQP_OP_CONV, 0, 6, 4, 5, 3, 2, r);
  n->p.conv.stride_h = 2;
  n->p.conv.dilation_w = 2;
  n->p.conv.pad_t = 2;
  n->p.conv.pad_l = 2;
  n->p.conv.pad_b = 2;
  n->p.conv.pad_r = 2;
  set_act (n, CFQP_ACT_PRELU, r);
  return g;
}

/* SAME_UPPER, stride 2, no bias, a folded normalisation's pad value, clip */
static CfqpGraph *
conv_same_padvalue_clip (GRand *r, gboolean *int8)
{
  CfqpGraph *g = graph_with_input (3);
  CfqpNode *n = add_conv (g, CFQP_OP_CONV, 0, 3, 5, 3, 3, 1, r);
  n->p.conv.auto_pad = 1;
  n->p.conv.stride_h = n->p.conv.stride_w = 2;
  g_clear_pointer (&n->p.conv.bias, g_free);
  n->p.conv.pad_value = ref_random_floats (r, 3, -0.5, 0.5);
  set_act (n, CFQP_ACT_CLIP, r);
  return g;
}

/* Tails for the tiled kernel: 27 input channels (the last quad has 3),
 * 27 output channels (the last block of 8 has 3), negative-side
 * multipliers (leaky). */
static CfqpGraph *
conv_3x3_tails_leaky (GRand *r, gboolean *int8)
{
  CfqpGraph *g = graph_with_input (3);
  guint v = add_conv (g, CFQP_OP_CONV, 0, 3, 27, 1, 1, 1, r)->output;
  CfqpNode *n = add_conv (g, CFQP_OP_CONV, v, 27, 27, 3, 3, 1, r);

  n->p.conv.pad_t = n->p.conv.pad_l = n->p.conv.pad_b = n->p.conv.pad_r = 1;
  set_act (n, CFQP_ACT_LEAKY_RELU, r);
  return g;
}

/* 52 input channels: 13 quads, more than one pass of the tiled kernel's
 * local patch; 5×5 dilated 2, stride 2, asymmetric pads, PReLU */
static CfqpGraph *
conv_5x5_many_channels (GRand *r, gboolean *int8)
{
  CfqpGraph *g = graph_with_input (3);
  guint v = add_conv (g, CFQP_OP_CONV, 0, 3, 52, 1, 1, 1, r)->output;
  CfqpNode *n = add_conv (g, CFQP_OP_CONV, v, 52, 9, 5, 5, 1, r);

  n->p.conv.stride_h = n->p.conv.stride_w = 2;
  n->p.conv.dilation_h = n->p.conv.dilation_w = 2;
  n->p.conv.pad_t = 4;
  n->p.conv.pad_l = 5;
  n->p.conv.pad_b = 5;
  n->p.conv.pad_r = 4;
  set_act (n, CFQP_ACT_PRELU, r);
  return g;
}

static CfqpGraph *
conv_1x1 (GRand *r, gboolean *int8)
{
  CfqpGraph *g = graph_with_input (5);
  add_conv (g, CFQP_OP_CONV, 0, 5, 7, 1, 1, 1, r);
  return g;
}

static CfqpGraph *
conv_transpose_s2_groups (GRand *r, gboolean *int8)
{
  CfqpGraph *g = graph_with_input (4);
  CfqpNode *n = add_conv (g, CFQP_OP_CONV_TRANSPOSE, 0, 4, 6, 3, 3, 2, r);
  n->p.conv.stride_h = n->p.conv.stride_w = 2;
  n->p.conv.pad_t = n->p.conv.pad_l = n->p.conv.pad_b = n->p.conv.pad_r = 1;
  n->p.conv.output_pad_h = n->p.conv.output_pad_w = 1;
  set_act (n, CFQP_ACT_RELU, r);
  return g;
}

static CfqpGraph *
conv_transpose_k2_dilated (GRand *r, gboolean *int8)
{
  CfqpGraph *g = graph_with_input (3);
  CfqpNode *n = add_conv (g, CFQP_OP_CONV_TRANSPOSE, 0, 3, 3, 2, 3, 1, r);
  n->p.conv.stride_h = 3;
  n->p.conv.stride_w = 2;
  n->p.conv.dilation_w = 2;
  return g;
}

static CfqpGraph *
activations (GRand *r, gboolean *int8)
{
  CfqpGraph *g = graph_with_input (4);
  guint v = 0;
  CfqpActKind kinds[] = { CFQP_ACT_LEAKY_RELU, CFQP_ACT_PRELU, CFQP_ACT_CLIP, CFQP_ACT_RELU };

  for (guint k = 0; k < G_N_ELEMENTS (kinds); k++) {
    CfqpNode *n = add_node (g, CFQP_OP_ACTIVATION, 1, &v, 4);
    set_act (n, kinds[k], r);
    v = n->output;
  }
  return g;
}

static CfqpGraph *
binary_two_inputs (GRand *r, gboolean *int8)
{
  CfqpGraph *g = graph_with_input (3);
  guint in[2] = { 0, side_tensor (g, 3, 3, r) }, in_b[2];
  CfqpNode *n = add_node (g, CFQP_OP_BINARY, 2, in, 3);

  n->p.binary.kind = CFQP_BINARY_ADD;
  set_act (n, CFQP_ACT_RELU, r);
  in_b[0] = n->output;
  in_b[1] = in[1];
  n = add_node (g, CFQP_OP_BINARY, 2, in_b, 3);
  n->p.binary.kind = CFQP_BINARY_SUB;
  in_b[0] = n->output;
  in_b[1] = 0;
  n = add_node (g, CFQP_OP_BINARY, 2, in_b, 3);
  n->p.binary.kind = CFQP_BINARY_MUL;
  set_act (n, CFQP_ACT_CLIP, r);
  return g;
}

/* a one-channel operand broadcast over the channels of the other */
static CfqpGraph *
binary_broadcast (GRand *r, gboolean *int8)
{
  CfqpGraph *g = graph_with_input (3);
  guint in[2] = { 0, side_tensor (g, 3, 1, r) };
  CfqpNode *n = add_node (g, CFQP_OP_BINARY, 2, in, 3);

  n->p.binary.kind = CFQP_BINARY_MUL;
  in[0] = n->output;
  n = add_node (g, CFQP_OP_BINARY, 2, (guint[]) { in[1], in[0] }, 3);
  n->p.binary.kind = CFQP_BINARY_SUB;
  return g;
}

static CfqpGraph *
binary_constants (GRand *r, gboolean *int8)
{
  CfqpGraph *g = graph_with_input (3);
  guint v = 0;
  struct { CfqpBinaryKind kind; guint n; gboolean first; } steps[] = {
    { CFQP_BINARY_SUB, 3, FALSE }, { CFQP_BINARY_MUL, 1, FALSE }, { CFQP_BINARY_ADD, 3, TRUE },
    { CFQP_BINARY_SUB, 1, TRUE }, { CFQP_BINARY_DIV, 3, FALSE },
  };

  for (guint k = 0; k < G_N_ELEMENTS (steps); k++) {
    CfqpNode *n = add_node (g, CFQP_OP_BINARY, 1, &v, 3);
    n->p.binary.kind = steps[k].kind;
    n->p.binary.n_constant = steps[k].n;
    n->p.binary.constant = ref_random_floats (r, steps[k].n, 0.5, 2.0);
    n->p.binary.constant_first = steps[k].first;
    v = n->output;
  }
  return g;
}

/* FP32 only: INT8 has no division by an activation */
static CfqpGraph *
binary_div_fp32 (GRand *r, gboolean *int8)
{
  CfqpGraph *g = graph_with_input (3);
  guint side = side_tensor (g, 3, 3, r);
  CfqpNode *n = add_node (g, CFQP_OP_BINARY, 1, &side, 3);
  guint in[2];

  /* divisor kept away from 0: side·side + 1 */
  n->p.binary.kind = CFQP_BINARY_MUL;
  n->n_inputs = 2;
  n->inputs = g_renew (guint, n->inputs, 2);
  n->inputs[1] = side;
  in[1] = n->output;
  n = add_node (g, CFQP_OP_BINARY, 1, &in[1], 3);
  n->p.binary.kind = CFQP_BINARY_ADD;
  n->p.binary.n_constant = 1;
  n->p.binary.constant = g_new (float, 1);
  n->p.binary.constant[0] = 1.f;
  in[0] = 0;
  in[1] = n->output;
  n = add_node (g, CFQP_OP_BINARY, 2, in, 3);
  n->p.binary.kind = CFQP_BINARY_DIV;
  set_act (n, CFQP_ACT_PRELU, r);
  *int8 = FALSE;
  return g;
}

static CfqpGraph *
concat3 (GRand *r, gboolean *int8)
{
  CfqpGraph *g = graph_with_input (3);
  guint in[3] = { side_tensor (g, 3, 2, r), 0, side_tensor (g, 3, 4, r) };
  CfqpNode *n = add_node (g, CFQP_OP_CONCAT, 3, in, 9);

  set_act (n, CFQP_ACT_LEAKY_RELU, r);
  return g;
}

static CfqpGraph *
shuffle (guint c, CfqpOpType op, guint block, CfqpD2SMode mode, GRand *r)
{
  CfqpGraph *g = graph_with_input (c);
  guint out_c = op == CFQP_OP_DEPTH_TO_SPACE ? c / (block * block) : c * block * block;
  CfqpNode *n = add_node (g, op, 1, (guint[]) { 0 }, out_c);

  n->p.shuffle.block = block;
  n->p.shuffle.mode = mode;
  set_act (n, CFQP_ACT_CLIP, r);
  return g;
}

static CfqpGraph *
d2s_dcr (GRand *r, gboolean *int8)
{
  return shuffle (18, CFQP_OP_DEPTH_TO_SPACE, 3, CFQP_D2S_DCR, r);
}

static CfqpGraph *
d2s_crd (GRand *r, gboolean *int8)
{
  return shuffle (8, CFQP_OP_DEPTH_TO_SPACE, 2, CFQP_D2S_CRD, r);
}

static CfqpGraph *
s2d_dcr (GRand *r, gboolean *int8)
{
  return shuffle (3, CFQP_OP_SPACE_TO_DEPTH, 2, CFQP_D2S_DCR, r);
}

static CfqpGraph *
s2d_crd (GRand *r, gboolean *int8)
{
  return shuffle (2, CFQP_OP_SPACE_TO_DEPTH, 2, CFQP_D2S_CRD, r);
}

static CfqpGraph *
resize_nearest (GRand *r, gboolean *int8)
{
  CfqpGraph *g = graph_with_input (3);
  CfqpNode *n = add_node (g, CFQP_OP_RESIZE_NEAREST, 1, (guint[]) { 0 }, 3);

  n->p.resize.scale_h = 2;
  n->p.resize.scale_w = 3;
  set_act (n, CFQP_ACT_RELU, r);
  return g;
}

static CfqpGraph *
tile (gboolean interleave)
{
  CfqpGraph *g = graph_with_input (3);
  CfqpNode *n = add_node (g, CFQP_OP_TILE_CHANNELS, 1, (guint[]) { 0 }, 12);

  n->p.tile.repeats = 4;
  n->p.tile.interleave = interleave;
  return g;
}

static CfqpGraph *
tile_interleave (GRand *r, gboolean *int8)
{
  return tile (TRUE);
}

static CfqpGraph *
tile_repeat (GRand *r, gboolean *int8)
{
  return tile (FALSE);
}

static const OpCase op_cases[] = {
  { "conv-3x3-relu", conv_3x3_relu, 1 },
  { "conv-depthwise-leaky", conv_depthwise_leaky, 1 },
  { "conv-grouped-strided-prelu", conv_grouped_strided_prelu, 1 },
  { "conv-same-padvalue-clip", conv_same_padvalue_clip, 1 },
  { "conv-1x1", conv_1x1, 1 },
  { "conv-3x3-tails-leaky", conv_3x3_tails_leaky, 2 },   /* 74×46: 64×8 tiles too */
  { "conv-5x5-many-channels", conv_5x5_many_channels, 1 },
  { "conv-transpose-s2-groups", conv_transpose_s2_groups, 1 },
  { "conv-transpose-k2x3-dilated", conv_transpose_k2_dilated, 1 },
  { "activations", activations, 1 },
  { "binary-two-inputs", binary_two_inputs, 1 },
  { "binary-broadcast", binary_broadcast, 1 },
  { "binary-constants", binary_constants, 1 },
  { "binary-div", binary_div_fp32, 1 },
  { "concat", concat3, 1 },
  { "depth-to-space-dcr", d2s_dcr, 1 },
  { "depth-to-space-crd", d2s_crd, 1 },
  { "space-to-depth-dcr", s2d_dcr, 2 },
  { "space-to-depth-crd", s2d_crd, 2 },
  { "resize-nearest", resize_nearest, 1 },
  { "tile-interleave", tile_interleave, 1 },
  { "tile-repeat", tile_repeat, 1 },
};

/* 37×23: more than one 32×8 tile each way, odd; 64×8 tiles cut at 37 */
static const guint sizes[][2] = { { 1, 1 }, { 17, 13 }, { 37, 23 } };

/* The INT8 conv variants the per-op tests force (CFQP_OPENCL_KERNELS). */
static const char *const variants[] = { "naive", "tiled-32x8", "tiled-64x8" };

/* --- host references -------------------------------------------------- */

/* Every value of graph on the CPU FP32 kernels; returns the output. */
static float *
host_f32 (const CfqpGraph *g, const CfqpShape *shapes, const float *in)
{
  g_autofree float **vals = g_new0 (float *, g->n_values);
  g_autofree CfqpF32View *views = g_new0 (CfqpF32View, g->n_values);
  float *out;

  for (guint v = 0; v < g->n_values; v++) {
    const CfqpShape *s = &shapes[v];
    vals[v] = v == 0 ? g_memdup2 (in, cfqp_shape_elements (s) * sizeof (float)) :
        g_new0 (float, cfqp_shape_elements (s));
    views[v] = (CfqpF32View) { vals[v], s->c, s->h, s->w, s->w, (gsize) s->w * s->h };
  }
  for (guint i = 0; i < g->n_nodes; i++) {
    const CfqpNode *n = &g->nodes[i];
    g_autofree CfqpF32View *ins = g_new (CfqpF32View, n->n_inputs);
    for (guint k = 0; k < n->n_inputs; k++)
      ins[k] = views[n->inputs[k]];
    cfqp_f32_ops[n->op] (n, ins, &views[n->output], 0, views[n->output].h);
  }
  out = g_steal_pointer (&vals[g->output]);
  for (guint v = 0; v < g->n_values; v++)
    g_free (vals[v]);
  return out;
}

/* The same on the INT8 ref kernels. */
static guint8 *
host_int8 (const CfqpGraph *g, const CfqpShape *shapes, const CfqpInt8Program *prog,
    const guint8 *in)
{
  g_autofree guint8 **vals = g_new0 (guint8 *, g->n_values);
  g_autofree CfqpU8View *views = g_new0 (CfqpU8View, g->n_values);
  guint8 *out;

  for (guint v = 0; v < g->n_values; v++) {
    const CfqpShape *s = &shapes[v];
    vals[v] = v == 0 ? g_memdup2 (in, cfqp_shape_elements (s)) :
        g_malloc0 (cfqp_shape_elements (s));
    views[v] = (CfqpU8View) { vals[v], s->c, s->h, s->w, s->w, (gsize) s->w * s->h };
  }
  for (guint i = 0; i < g->n_nodes; i++) {
    const CfqpNode *n = &g->nodes[i];
    g_autofree CfqpU8View *ins = g_new (CfqpU8View, n->n_inputs);
    for (guint k = 0; k < n->n_inputs; k++)
      ins[k] = views[n->inputs[k]];
    cfqp_int8_ref_backend.ops[n->op] (n, &prog->nodes[i], ins, &views[n->output], 0,
        views[n->output].h);
  }
  out = g_steal_pointer (&vals[g->output]);
  for (guint v = 0; v < g->n_values; v++)
    g_free (vals[v]);
  return out;
}

static CfqpQParams *
random_table (const CfqpGraph *g, GRand *rand)
{
  CfqpQParams *t = g_new (CfqpQParams, g->n_values);

  for (guint v = 0; v < g->n_values; v++) {
    t[v].scale = (float) g_rand_double_range (rand, 0.004, 0.03);
    t[v].zero_point = g_rand_int_range (rand, 0, 200);
  }
  return t;
}

static guint
count_convs (const CfqpGraph *g)
{
  guint n = 0;

  for (guint i = 0; i < g->n_nodes; i++)
    n += g->nodes[i].op == CFQP_OP_CONV;
  return n;
}

static CfqpExecutor *
device_exec (const CfqpGraph *g, CfqpPrecision precision)
{
  g_autoptr (GError) error = NULL;
  CfqpExecutor *exec = cfqp_opencl_exec_new (g, precision, 0, 1, device_spec, FALSE, &error);

  g_assert_no_error (error);
  g_assert_nonnull (exec);
  return exec;
}

/* --- per-op tests ----------------------------------------------------- */

static void
check_f32 (const OpCase *oc, CfqpGraph *g, GRand *rand)
{
  CfqpExecutor *exec = device_exec (g, CFQP_PRECISION_FP32);
  g_autoptr (GError) error = NULL;

  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++) {
    guint w = sizes[s][0] * oc->size_mul, h = sizes[s][1] * oc->size_mul;
    g_autofree CfqpShape *shapes = g_new (CfqpShape, g->n_values);
    g_autofree float *in = NULL, *want = NULL, *got = NULL;
    gsize n_out;
    double worst = 0;

    g_assert_true (cfqp_graph_infer_shapes (g, w, h, shapes, &error));
    in = ref_random_floats (rand, cfqp_shape_elements (&shapes[0]), -1, 1);
    want = host_f32 (g, shapes, in);
    n_out = cfqp_shape_elements (&shapes[g->output]);
    got = g_new (float, n_out);
    g_assert_true (exec->klass->run (exec, in, w, h, got, &error));
    g_assert_no_error (error);
    for (gsize k = 0; k < n_out; k++) {
      double d = fabs (got[k] - want[k]) / (1 + fabs (want[k]));
      if (!(d <= FP32_TOL))
        g_error ("%s FP32 %u×%u: element %" G_GSIZE_FORMAT " is %g, CPU says %g", oc->name,
            w, h, k, got[k], want[k]);
      worst = MAX (worst, d);
    }
    g_test_message ("%s FP32 %u×%u: worst relative error %.2g", oc->name, w, h, worst);
  }
  exec->klass->free (exec);
}

/* table: one CfqpQParams per tensor, NULL for random ones; variant: the
 * INT8 conv kernels forced (every plain conv of these graphs fits the tiled
 * one) */
static void
check_int8 (const OpCase *oc, CfqpGraph *g, GRand *rand, const CfqpQParams *table,
    const char *variant)
{
  CfqpExecutor *exec;
  g_autoptr (GError) error = NULL;
  g_autofree CfqpQParams *random = random_table (g, rand);
  CfqpInt8Program *prog = cfqp_int8_program_new (g, table ? table : random, &error);
  g_autofree char *kernels = NULL;

  g_setenv ("CFQP_OPENCL_KERNELS", variant, TRUE);
  exec = device_exec (g, CFQP_PRECISION_INT8);
  g_unsetenv ("CFQP_OPENCL_KERNELS");
  g_assert_cmpuint (cfqp_opencl_exec_count_tiled (exec), ==,
      g_str_equal (variant, "naive") ? 0 : count_convs (g));
  g_assert_no_error (error);
  g_assert_true (exec->klass->set_program (exec, prog, &error));
  g_assert_no_error (error);
  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++) {
    guint w = sizes[s][0] * oc->size_mul, h = sizes[s][1] * oc->size_mul;
    g_autofree CfqpShape *shapes = g_new (CfqpShape, g->n_values);
    g_autofree guint8 *in = NULL, *want = NULL, *got = NULL;
    gsize n_in, n_out;
    guint64 uploaded, up, down;

    g_assert_true (cfqp_graph_infer_shapes (g, w, h, shapes, &error));
    n_in = cfqp_shape_elements (&shapes[0]);
    in = g_malloc (n_in);
    for (gsize k = 0; k < n_in; k++)
      in[k] = g_rand_int_range (rand, 0, 256);
    want = host_int8 (g, shapes, prog, in);
    n_out = cfqp_shape_elements (&shapes[g->output]);
    got = g_malloc (n_out);
    uploaded = cfqp_opencl_exec_get_uploaded_bytes (exec);
    g_assert_true (exec->klass->run (exec, in, w, h, got, &error));
    g_assert_no_error (error);
    /* a frame is one upload and one download; no parameter moves */
    g_assert_cmpuint (cfqp_opencl_exec_get_frame_transfers (exec, &up, &down), ==, 2);
    g_assert_cmpuint (up, ==, n_in);
    g_assert_cmpuint (down, ==, n_out);
    g_assert_cmpuint (cfqp_opencl_exec_get_uploaded_bytes (exec), ==, uploaded);
    for (gsize k = 0; k < n_out; k++)
      if (got[k] != want[k])
        g_error ("%s INT8 (%s) %u×%u: byte %" G_GSIZE_FORMAT " is %u, ref says %u", oc->name,
            variant, w, h, k, got[k], want[k]);
  }
  kernels = cfqp_opencl_exec_describe_kernels (exec);
  g_test_message ("%s INT8: %s", oc->name, kernels);
  cfqp_int8_program_free (prog);
  exec->klass->free (exec);
}

static void
test_op (gconstpointer data)
{
  const OpCase *oc = data;
  g_autoptr (GRand) rand = g_rand_new_with_seed (g_str_hash (oc->name));
  gboolean int8 = TRUE;
  CfqpGraph *g;

  if (!need_device ())
    return;
  g = oc->build (rand, &int8);
  check_f32 (oc, g, rand);
  for (guint v = 0; int8 && v < G_N_ELEMENTS (variants); v++)
    check_int8 (oc, g, rand, NULL, variants[v]);
  cfqp_graph_free (g);
}

/* Scale ratios that are powers of two make exact halves common, so the
 * rounding rule (half away from zero, both signs) decides many bytes:
 * a rescale by 1/2 on both sides of the zero point with a leaky slope of
 * 1/4, an add whose 2^-20 sum lands on .5. */
static void
test_int8_ties (void)
{
  static const OpCase oc = { "int8-ties", NULL, 1 };
  g_autoptr (GRand) rand = g_rand_new_with_seed (17);
  CfqpGraph *g;
  CfqpNode *n;
  guint v1, v2, v3;
  CfqpQParams table[5] = {
    { 1 / 255.f, 0 }, { 2 / 255.f, 100 }, { 4 / 255.f, 60 }, { 8 / 255.f, 90 }, { 1 / 255.f, 0 },
  };

  if (!need_device ())
    return;
  g = graph_with_input (3);
  /* a conv, so that v1 falls on both sides of its zero point */
  v1 = add_conv (g, CFQP_OP_CONV, 0, 3, 3, 1, 1, 1, rand)->output;
  n = add_node (g, CFQP_OP_ACTIVATION, 1, &v1, 3);
  n->act.kind = CFQP_ACT_LEAKY_RELU;
  n->act.alpha = 0.25f;
  v2 = n->output;
  n = add_node (g, CFQP_OP_BINARY, 2, (guint[]) { v2, v1 }, 3);
  n->p.binary.kind = CFQP_BINARY_ADD;
  v3 = n->output;
  /* the output is the pixel grid whatever the table says: end on a conv so
   * that v3 keeps its parameters */
  add_conv (g, CFQP_OP_CONV, v3, 3, 3, 1, 1, 1, rand);
  g_assert_cmpuint (g->n_values, ==, G_N_ELEMENTS (table));
  for (guint v = 0; v < G_N_ELEMENTS (variants); v++)
    check_int8 (&oc, g, rand, table, variants[v]);
  cfqp_graph_free (g);
}

/* --- whole network through the runner ---------------------------------- */

static CfqpModel *
abpn_model (void)
{
  g_autoptr (GError) error = NULL;
  CfqpModel *model = cfqp_model_new_from_graph (test_model_abpn (3, 16, 3, 3, 11), "abpn",
      &error);

  g_assert_no_error (error);
  return model;
}

static CfqpRunner *
runner (CfqpModel *model, CfqpPrecision precision, CfqpBackendKind backend,
    const CfqpQParams *qp)
{
  CfqpRunnerOptions opts = CFQP_RUNNER_OPTIONS_INIT;
  g_autoptr (GError) error = NULL;
  CfqpRunner *r;

  opts.precision = precision;
  opts.backend = backend;
  opts.device = device_spec;
  opts.qparams = qp;
  opts.n_threads = 2;
  r = cfqp_runner_new (model, &opts, &error);
  g_assert_no_error (error);
  return r;
}

/* BGRx frames in, 37×23 and 1×1: the layout and odd sizes the element meets. */
static void
run_both_packed (CfqpRunner *cl, CfqpRunner *cpu, guint max_diff)
{
  CfqpPackedLayout bgrx = { 4, 2, 1, 0, -1 };
  static const guint dims[][2] = { { 37, 23 }, { 1, 1 } };
  g_autoptr (GRand) rand = g_rand_new_with_seed (5);
  g_autoptr (GError) error = NULL;

  for (guint d = 0; d < G_N_ELEMENTS (dims); d++) {
    guint w = dims[d][0], h = dims[d][1];
    gsize n_in = (gsize) 4 * w * h, n_out = n_in * 9;
    g_autofree guint8 *src = g_malloc (n_in), *a = g_malloc0 (n_out), *b = g_malloc0 (n_out);
    guint worst = 0;

    for (gsize k = 0; k < n_in; k++)
      src[k] = (guint8) (((k / 4) * 7 + (k % 4) * 50 + g_rand_int_range (rand, 0, 30)) & 255);
    g_assert_true (cfqp_runner_run_packed (cl, &bgrx, src, 4 * w, w, h, a, 12 * w, &error));
    g_assert_no_error (error);
    g_assert_true (cfqp_runner_run_packed (cpu, &bgrx, src, 4 * w, w, h, b, 12 * w, &error));
    g_assert_no_error (error);
    for (gsize k = 0; k < n_out; k++)
      if (k % 4 != 3)
        worst = MAX (worst, (guint) ABS ((gint) a[k] - (gint) b[k]));
    g_test_message ("%s vs %s at %u×%u: largest byte difference %u",
        cfqp_runner_get_active_backend (cl), cfqp_runner_get_active_backend (cpu), w, h, worst);
    g_assert_cmpuint (worst, <=, max_diff);
  }
}

static void
test_abpn_fp32 (void)
{
  g_autoptr (CfqpModel) model = NULL;
  g_autoptr (CfqpRunner) cl = NULL, cpu = NULL;

  if (!need_device ())
    return;
  model = abpn_model ();
  cl = runner (model, CFQP_PRECISION_FP32, CFQP_BACKEND_OPENCL, NULL);
  cpu = runner (model, CFQP_PRECISION_FP32, CFQP_BACKEND_CPU, NULL);
  g_assert_true (g_str_has_prefix (cfqp_runner_get_active_backend (cl), "opencl:"));
  /* float sums in another order may flip a rounding to the byte grid */
  run_both_packed (cl, cpu, 1);
}

/* Min/max parameters (tools/c/common) on a random frame, the scales
 * widened by widen. */
static CfqpQParams *
calibrate (CfqpModel *model, float widen)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (3);
  g_autoptr (GError) error = NULL;
  guint w = 29, h = 17, n_t = cfqp_model_get_n_tensors (model);
  g_autofree float *in = ref_random_floats (rand, 3 * w * h, 0, 1);
  CfqpQParams *qp = minmax_qparams_observe (model, in, w, h, NULL, &error);

  g_assert_no_error (error);
  for (guint t = 0; t < n_t; t++)
    qp[t].scale *= widen;
  return qp;
}

/* data: the CFQP_OPENCL_KERNELS value, "auto" (measured) included */
static void
test_abpn_int8 (gconstpointer data)
{
  g_autoptr (CfqpModel) model = NULL;
  g_autoptr (CfqpRunner) cl = NULL, ref = NULL;
  g_autofree CfqpQParams *qp = NULL, *qp2 = NULL;
  g_autoptr (GError) error = NULL;

  if (!need_device ())
    return;
  model = abpn_model ();
  qp = calibrate (model, 1.0f);
  g_setenv ("CFQP_OPENCL_KERNELS", data, TRUE);
  cl = runner (model, CFQP_PRECISION_INT8, CFQP_BACKEND_OPENCL, qp);
  g_unsetenv ("CFQP_OPENCL_KERNELS");
  ref = runner (model, CFQP_PRECISION_INT8, CFQP_BACKEND_REF, qp);
  g_assert_true (g_str_has_prefix (cfqp_runner_get_active_backend (cl), "opencl:"));
  run_both_packed (cl, ref, 0);

  /* a new calibration between frames: both follow it, still bit-exact */
  qp2 = calibrate (model, 1.5f);
  g_assert_true (cfqp_runner_set_qparams (cl, qp2, &error));
  g_assert_true (cfqp_runner_set_qparams (ref, qp2, &error));
  g_assert_no_error (error);
  run_both_packed (cl, ref, 0);

  /* a bad table is refused and the device keeps the running program */
  qp2[1].scale = -1.f;
  g_assert_false (cfqp_runner_set_qparams (cl, qp2, &error));
  g_assert_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID);
  run_both_packed (cl, ref, 0);
}

/* A CFQP_OPENCL_KERNELS the backend does not know is an error, not a
 * silent default. */
static void
test_kernels_env (void)
{
  g_autoptr (CfqpModel) model = NULL;
  g_autoptr (GError) error = NULL;
  CfqpExecutor *exec;

  if (!need_device ())
    return;
  model = abpn_model ();
  g_setenv ("CFQP_OPENCL_KERNELS", "fastest", TRUE);
  exec = cfqp_opencl_exec_new (cfqp_model_get_graph (model), CFQP_PRECISION_INT8, 0, 1,
      device_spec, FALSE, &error);
  g_unsetenv ("CFQP_OPENCL_KERNELS");
  g_assert_null (exec);
  g_assert_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "'fastest'"));
}

/* A swap uploads only what changed: int8 weights do not depend on the
 * activation scales, so they stay on the device. */
static void
test_program_swap_uploads (void)
{
  g_autoptr (CfqpModel) model = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree CfqpQParams *qp = NULL, *qp2 = NULL;
  CfqpInt8Program *p1, *p2;
  const CfqpGraph *g;
  CfqpExecutor *exec;
  guint64 first, again, swap, weight_bytes = 0;

  if (!need_device ())
    return;
  model = abpn_model ();
  g = cfqp_model_get_graph (model);
  qp = calibrate (model, 1.0f);
  qp2 = calibrate (model, 1.5f);
  p1 = cfqp_int8_program_new (g, qp, &error);
  p2 = cfqp_int8_program_new (g, qp2, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < g->n_nodes; i++)
    if (g->nodes[i].op == CFQP_OP_CONV)
      weight_bytes += (gsize) g->nodes[i].p.conv.out_channels * g->nodes[i].p.conv.in_channels *
          g->nodes[i].p.conv.kernel_h * g->nodes[i].p.conv.kernel_w / g->nodes[i].p.conv.groups;

  exec = device_exec (g, CFQP_PRECISION_INT8);
  g_assert_true (exec->klass->set_program (exec, p1, &error));
  first = cfqp_opencl_exec_get_uploaded_bytes (exec);
  g_assert_cmpuint (first, >, weight_bytes);
  g_assert_true (exec->klass->set_program (exec, p1, &error));
  again = cfqp_opencl_exec_get_uploaded_bytes (exec) - first;
  g_assert_cmpuint (again, ==, 0);
  g_assert_true (exec->klass->set_program (exec, p2, &error));
  g_assert_no_error (error);
  swap = cfqp_opencl_exec_get_uploaded_bytes (exec) - first;
  g_test_message ("program upload %" G_GUINT64_FORMAT " bytes, swap %" G_GUINT64_FORMAT
      " (int8 weights %" G_GUINT64_FORMAT ")", first, swap, weight_bytes);
  g_assert_cmpuint (swap, >, 0);
  g_assert_cmpuint (swap, <=, first - weight_bytes);
  exec->klass->free (exec);
  cfqp_int8_program_free (p1);
  cfqp_int8_program_free (p2);
}

/* --- devices ------------------------------------------------------------ */

static void
test_list_devices (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = cfqp_opencl_list_devices (&error);
  gboolean gpu = FALSE;

  g_assert_no_error (error);
  g_assert_nonnull (list);
  if (!need_device ())
    return;
  g_assert_cmpuint (list->len, >, 0);
  for (guint i = 0; i < list->len; i++) {
    CfqpOpenCLDevice *d = list->pdata[i];
    g_assert_cmpuint (d->index, ==, i);
    g_assert_true (d->name && *d->name);
    g_test_message ("device %u: %s (%s, %s)", d->index, d->name, d->platform,
        d->is_gpu ? "GPU" : "not a GPU");
    gpu |= d->is_gpu;
  }
  g_assert_cmpint (gpu, ==, cfqp_opencl_have_gpu ());
}

static void
test_missing_device (void)
{
  g_autoptr (CfqpModel) model = abpn_model ();
  g_autoptr (GError) error = NULL;
  CfqpRunnerOptions opts = CFQP_RUNNER_OPTIONS_INIT;

  opts.backend = CFQP_BACKEND_OPENCL;
  opts.device = "no-such-device";
  g_assert_null (cfqp_runner_new (model, &opts, &error));
  g_assert_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_BACKEND);
  g_assert_nonnull (strstr (error->message, "no OpenCL device 'no-such-device'"));
  g_clear_error (&error);

  opts.device = "999";
  g_assert_null (cfqp_runner_new (model, &opts, &error));
  g_assert_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_BACKEND);
  g_assert_nonnull (strstr (error->message, "'999'"));
  g_clear_error (&error);

  /* no device named: the first GPU, and an error naming that when none */
  opts.device = NULL;
  if (!cfqp_opencl_have_gpu ()) {
    g_assert_null (cfqp_runner_new (model, &opts, &error));
    g_assert_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_BACKEND);
    g_assert_nonnull (strstr (error->message, "no OpenCL device GPU"));
  }
}

/* AUTO never takes a CPU OpenCL device; it takes a GPU when there is one. */
static void
test_auto (void)
{
  g_autoptr (CfqpModel) model = abpn_model ();
  g_autoptr (GError) error = NULL;
  CfqpRunnerOptions opts = CFQP_RUNNER_OPTIONS_INIT;
  g_autoptr (CfqpRunner) r = cfqp_runner_new (model, &opts, &error);

  g_assert_no_error (error);
  g_assert_cmpint (g_str_has_prefix (cfqp_runner_get_active_backend (r), "opencl:"), ==,
      cfqp_opencl_have_gpu ());
}

/* Selection by name substring and by index reach the same device. */
static void
test_select_by_name (void)
{
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (CfqpModel) model = NULL;
  CfqpRunnerOptions opts = CFQP_RUNNER_OPTIONS_INIT;
  g_autoptr (GError) error = NULL;
  CfqpOpenCLDevice *first;
  g_autofree char *want = NULL, *upper = NULL;
  CfqpRunner *r;

  if (!need_device ())
    return;
  list = cfqp_opencl_list_devices (&error);
  first = list->pdata[0];
  model = abpn_model ();
  want = g_strdup_printf ("opencl:%s", first->name);
  opts.backend = CFQP_BACKEND_OPENCL;
  opts.device = "0";
  r = cfqp_runner_new (model, &opts, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (cfqp_runner_get_active_backend (r), ==, want);
  cfqp_runner_free (r);
  /* a middle piece of the name, in another case */
  upper = g_ascii_strup (first->name + strlen (first->name) / 3, 4);
  opts.device = upper;
  r = cfqp_runner_new (model, &opts, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (cfqp_runner_get_active_backend (r), "opencl:"));
  cfqp_runner_free (r);
}

int
main (int argc, char **argv)
{
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (GError) error = NULL;

  g_test_init (&argc, &argv, NULL);
  list = cfqp_opencl_list_devices (&error);
  g_assert_no_error (error);
  if (g_getenv ("CFQP_OPENCL_DEVICE"))
    device_spec = g_strdup (g_getenv ("CFQP_OPENCL_DEVICE"));
  else if (list->len)
    device_spec = g_strdup ("0");

  for (guint i = 0; i < G_N_ELEMENTS (op_cases); i++) {
    g_autofree char *path = g_strdup_printf ("/opencl/op/%s", op_cases[i].name);
    g_test_add_data_func (path, &op_cases[i], test_op);
  }
  g_test_add_func ("/opencl/op/int8-ties", test_int8_ties);
  g_test_add_func ("/opencl/abpn/fp32", test_abpn_fp32);
  g_test_add_data_func ("/opencl/abpn/int8-auto", "auto", test_abpn_int8);
  g_test_add_data_func ("/opencl/abpn/int8-naive", "naive", test_abpn_int8);
  g_test_add_data_func ("/opencl/abpn/int8-tiled-32x8", "tiled-32x8", test_abpn_int8);
  g_test_add_data_func ("/opencl/abpn/int8-tiled-64x8", "tiled-64x8", test_abpn_int8);
  g_test_add_func ("/opencl/kernels-env", test_kernels_env);
  g_test_add_func ("/opencl/program-swap-uploads", test_program_swap_uploads);
  g_test_add_func ("/opencl/devices/list", test_list_devices);
  g_test_add_func ("/opencl/devices/missing", test_missing_device);
  g_test_add_func ("/opencl/devices/auto", test_auto);
  g_test_add_func ("/opencl/devices/by-name", test_select_by_name);
  return g_test_run ();
}
