/* INT8 arithmetic: requantisation edge cases, every ref kernel against a
 * float fake-quant simulation (within 1 LSB; on 16-bit programs too),
 * and the INT8 runner on an ABPN-like network against FP32. */
#include "cfqp-f32-kernels.h"
#include "cfqp-int8.h"
#include "cfqp-model-private.h"
#include "minmax-qparams.h"
#include "onnx-net.h"
#include "ref-f64.h"
#include "test-models.h"

#include <math.h>
#include <string.h>

static void
test_rshift_round (void)
{
  /* half away from zero, both signs */
  g_assert_cmpint (cfqp_rshift_round (3, 1), ==, 2);     /* 1.5 */
  g_assert_cmpint (cfqp_rshift_round (-3, 1), ==, -2);   /* −1.5 */
  g_assert_cmpint (cfqp_rshift_round (5, 2), ==, 1);     /* 1.25 */
  g_assert_cmpint (cfqp_rshift_round (-5, 2), ==, -1);
  g_assert_cmpint (cfqp_rshift_round (6, 2), ==, 2);     /* 1.5 */
  g_assert_cmpint (cfqp_rshift_round (-6, 2), ==, -2);
  g_assert_cmpint (cfqp_rshift_round (7, 2), ==, 2);     /* 1.75 */
  g_assert_cmpint (cfqp_rshift_round (0, 5), ==, 0);
  g_assert_cmpint (cfqp_rshift_round (G_GINT64_CONSTANT (1) << 61, 62), ==, 1);
}

static void
test_requant_from_real (void)
{
  CfqpRequant rq;
  g_autoptr (GRand) rand = g_rand_new_with_seed (7);
  guint exact = 0, n = 20000;

  g_assert_true (cfqp_requant_from_real (0.5, &rq));
  g_assert_cmpint (rq.m, ==, 1 << 30);
  g_assert_cmpint (rq.shift, ==, 31);
  g_assert_true (cfqp_requant_from_real (1.0, &rq));
  g_assert_cmpint (cfqp_requant (123, rq), ==, 123);
  g_assert_true (cfqp_requant_from_real (-0.25, &rq));
  g_assert_cmpint (cfqp_requant (-6, rq), ==, 2);        /* 1.5 → 2 */
  g_assert_cmpint (cfqp_requant (6, rq), ==, -2);
  g_assert_true (cfqp_requant_from_real (0.0, &rq));
  g_assert_cmpint (cfqp_requant (1000000, rq), ==, 0);
  g_assert_true (cfqp_requant_from_real (1e-12, &rq));   /* tiny: shift capped */
  g_assert_cmpint (rq.shift, ==, 62);
  g_assert_cmpint (cfqp_requant (G_MAXINT32, rq), ==, 0);
  g_assert_false (cfqp_requant_from_real (2e9, &rq));
  g_assert_false (cfqp_requant_from_real (NAN, &rq));
  /* just under 2^30: the mantissa rounds up to 2^31, which would leave
   * shift 0 (and a shift by −1 in cfqp_rshift_round): refused */
  g_assert_false (cfqp_requant_from_real (1073741824.0 - 0.1, &rq));
  g_assert_false (cfqp_requant_from_real (-(1073741824.0 - 0.2), &rq));
  g_assert_true (cfqp_requant_from_real (1073741824.0 - 0.5, &rq));
  g_assert_cmpint (rq.shift, ==, 1);
  g_assert_cmpint (cfqp_requant (1, rq), ==, 1073741824);   /* 2^30 − 0.5, rounded away */
  /* every accepted multiplier has shift in [1, 62] */
  for (guint i = 0; i < n; i++) {
    double real = ldexp (g_rand_double_range (rand, -1, 1), g_rand_int_range (rand, -70, 31));
    if (cfqp_requant_from_real (real, &rq)) {
      g_assert_cmpuint (rq.shift, >=, 1);
      g_assert_cmpuint (rq.shift, <=, 62);
    }
  }

  /* against double rounding: never more than 1 off, nearly always exact */
  for (guint i = 0; i < n; i++) {
    double real = exp (g_rand_double_range (rand, log (1e-6), log (1e3)));
    /* int32 accumulators, results in the range requantisation produces */
    double bound = MIN (1e6, 2e9 * real);
    gint64 acc = (gint64) (g_rand_double_range (rand, -bound, bound) / real);
    double want = acc * real;
    gint64 got;
    g_assert_true (cfqp_requant_from_real (real, &rq));
    got = cfqp_requant (acc, rq);
    g_assert_cmpfloat (fabs (got - want), <=, 0.5 + 1e-6 * fabs (want) + 1e-9);
    exact += got == (gint64) (want >= 0 ? floor (want + 0.5) : -floor (-want + 0.5));
  }
  g_assert_cmpuint (exact, >=, n * 999 / 1000);
}

static void
test_clamp_u8 (void)
{
  g_assert_cmpuint (cfqp_clamp_u8 (-5, 0, 255), ==, 0);
  g_assert_cmpuint (cfqp_clamp_u8 (300, 0, 255), ==, 255);
  g_assert_cmpuint (cfqp_clamp_u8 (12, 17, 255), ==, 17);
  g_assert_cmpuint (cfqp_clamp_u8 (200, 0, 180), ==, 180);
  /* ONNX Clip: min(max(v, lo), hi), so hi everywhere when lo > hi */
  g_assert_cmpuint (cfqp_clamp_u8 (5, 200, 100), ==, 100);
  g_assert_cmpuint (cfqp_clamp_u8 (150, 200, 100), ==, 100);
  g_assert_cmpuint (cfqp_clamp_u8 (250, 200, 100), ==, 100);
}

/* A one-conv graph (3 → oc channels, k×k) whose output keeps its table
 * entry: the graph output is the input value. */
static CfqpGraph *
lone_conv_graph (guint ic, guint oc, guint k, CfqpNode **node)
{
  CfqpGraph *g = cfqp_graph_new ();
  CfqpNode *n;
  gsize nw = (gsize) oc * ic * k * k;

  cfqp_graph_add_value (g, "input", ic, -1);
  n = cfqp_graph_add_node (g, CFQP_OP_CONV, "conv");
  n->n_inputs = 1;
  n->inputs = g_new0 (guint, 1);
  n->out_channels = oc;
  n->output = cfqp_graph_add_value (g, "out", oc, 0);
  g->output = 0;
  n->p.conv = (CfqpConvParams) { 0 };
  n->p.conv.kernel_h = n->p.conv.kernel_w = k;
  n->p.conv.stride_h = n->p.conv.stride_w = n->p.conv.dilation_h = n->p.conv.dilation_w = 1;
  n->p.conv.groups = 1;
  n->p.conv.in_channels = ic;
  n->p.conv.out_channels = oc;
  n->p.conv.weight = g_new (float, nw);
  for (gsize e = 0; e < nw; e++)
    n->p.conv.weight[e] = e % 3 ? 0.5f : -0.5f;
  n->p.conv.bias = g_new0 (float, oc);
  *node = n;
  return g;
}

/* The hostile layer: 4096 channels × 31×31 taps of full-scale
 * weights could accumulate 2^37, whose product with a 31-bit multiplier
 * overflows int64 (UBSan: signed overflow in ref).  Refused when the
 * program is built; a 3×3 of the same channels is not. */
static void
test_acc_overflow_refused (void)
{
  static const guint ks[] = { 31, 3 };

  for (guint i = 0; i < G_N_ELEMENTS (ks); i++) {
    CfqpNode *n;
    CfqpGraph *g = lone_conv_graph (4096, 1, ks[i], &n);
    CfqpQParams table[2] = { { 1.f / 255.f, 0 }, { 1.f / 255.f, 128 } };
    g_autoptr (GError) error = NULL;
    CfqpInt8Program *prog = cfqp_int8_program_new (g, table, &error);

    if (ks[i] == 31) {
      g_assert_null (prog);
      g_assert_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_UNSUPPORTED);
      g_test_message ("%s", error->message);
      g_assert_nonnull (strstr (error->message, "too much to requantise exactly in 64 bits"));
    } else {
      g_assert_no_error (error);
      cfqp_int8_program_free (prog);
    }
    cfqp_graph_free (g);
  }
}

/* A bias of more than 2^30 accumulator steps was saturated silently:
 * refused, naming the channel; 2^29 steps is kept exactly. */
static void
test_bias_range (void)
{
  static const double steps[] = { 3e9, -2e9, 536870912.0 };

  for (guint i = 0; i < G_N_ELEMENTS (steps); i++) {
    CfqpNode *n;
    CfqpGraph *g = lone_conv_graph (3, 2, 1, &n);
    CfqpQParams table[2] = { { 1.f / 255.f, 0 }, { 1.f, 128 } };
    double acc_scale = (1.0 / 255.0) * (double) (float) (0.5 / 127.0);
    g_autoptr (GError) error = NULL;
    CfqpInt8Program *prog;

    table[0].scale = 1.f / 255.f;
    n->p.conv.bias[1] = (float) (steps[i] * acc_scale);
    prog = cfqp_int8_program_new (g, table, &error);
    if (fabs (steps[i]) > 1073741824.0) {
      g_assert_null (prog);
      g_assert_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_UNSUPPORTED);
      g_test_message ("%s", error->message);
      g_assert_nonnull (strstr (error->message, "output channel 1"));
      g_assert_nonnull (strstr (error->message, "2^30"));
    } else {
      g_assert_no_error (error);
      g_assert_cmpfloat (fabs (prog->nodes[0].bias[1] - steps[i]), <=, 64);
      cfqp_int8_program_free (prog);
    }
    cfqp_graph_free (g);
  }
}

/* Clip with min > max (ONNX: everything becomes max): the program's bounds
 * collapse onto hi, so every backend's clamp gives hi; FP32 likewise. */
static void
test_clip_min_over_max (void)
{
  CfqpNode *n;
  CfqpGraph *g = lone_conv_graph (3, 2, 1, &n);
  CfqpQParams table[2] = { { 1.f / 255.f, 0 }, { 1.f / 255.f, 10 } };
  g_autoptr (GError) error = NULL;
  CfqpInt8Program *prog;
  float row[5] = { -1.f, 0.1f, 0.3f, 0.7f, NAN };
  CfqpF32View v = { row, 1, 1, 5, 5, 5 };
  CfqpNode act = { 0 };

  n->act = (CfqpActivation) { CFQP_ACT_CLIP, 0, 0.6f, 0.2f, NULL, 0 };
  prog = cfqp_int8_program_new (g, table, &error);
  g_assert_no_error (error);
  g_assert_cmpint (prog->nodes[0].hi, ==, 10 + 51);
  g_assert_cmpint (prog->nodes[0].lo, ==, prog->nodes[0].hi);
  cfqp_int8_program_free (prog);
  cfqp_graph_free (g);

  act.op = CFQP_OP_ACTIVATION;
  act.n_inputs = 1;
  act.out_channels = 1;
  act.act = (CfqpActivation) { CFQP_ACT_CLIP, 0, 0.6f, 0.2f, NULL, 0 };
  cfqp_f32_ops[CFQP_OP_ACTIVATION] (&act, &v, &v, 0, 1);
  for (guint x = 0; x < 4; x++)
    g_assert_cmpfloat (row[x], ==, 0.2f);
  g_assert_true (isnan (row[4]));   /* NaN stays NaN, as before */
}

/* A QDQ file's weight scale far below its weights: lround of ratios of
 * 1e30 was unspecified; the taps saturate at ±127 instead, and the tap
 * sum stays in range. */
static void
test_weight_ratio_saturates (void)
{
  CfqpConvParams cp = { 0 };
  float w[9] = { 1.f, -1.f, 0.f, 3.f, -3.f, 0.f, 1.f, 1.f, -1.f };
  double wscale[1] = { 1e-32 };
  gint8 q[9];

  cp.kernel_h = cp.kernel_w = 3;
  cp.stride_h = cp.stride_w = cp.dilation_h = cp.dilation_w = 1;
  cp.groups = 1;
  cp.in_channels = cp.out_channels = 1;
  cp.weight = w;
  g_assert_true (cfqp_int8_quantize_conv_weights (&cp, FALSE, wscale, q));
  for (guint t = 0; t < 9; t++)
    g_assert_cmpint (q[t], ==, w[t] > 0 ? 127 : (w[t] < 0 ? -127 : 0));
}

/* --- one op against fake-quant float ------------------------------------ */

typedef struct {
  const char *name;
  CfqpOpType  op;
  guint       in_c, out_c, n_inputs;
  guint       w, h;
  void      (*setup) (CfqpNode *node, GRand *rand);
} OpCase;

static void
setup_conv (CfqpNode *n, GRand *rand, guint k, guint stride, guint dil, guint groups)
{
  CfqpConvParams *c = &n->p.conv;
  guint ic = n->inputs ? 0 : 0;
  (void) ic;
  c->kernel_h = c->kernel_w = k;
  c->stride_h = c->stride_w = stride;
  c->dilation_h = c->dilation_w = dil;
  c->pad_t = c->pad_l = (k / 2) * dil;
  c->pad_b = c->pad_r = (k / 2) * dil + (k == 2);
  c->groups = groups;
}

static void
finish_conv (CfqpNode *n, guint in_c, GRand *rand, gboolean transpose)
{
  CfqpConvParams *c = &n->p.conv;
  gsize nw;
  c->in_channels = in_c;
  c->out_channels = n->out_channels;
  nw = (gsize) c->out_channels * (c->in_channels / c->groups) * c->kernel_h * c->kernel_w;
  c->weight = ref_random_floats (rand, nw, -0.5f, 0.5f);
  c->bias = ref_random_floats (rand, c->out_channels, -0.3f, 0.3f);
  (void) transpose;
}

static void conv3 (CfqpNode *n, GRand *r) { setup_conv (n, r, 3, 1, 1, 1); }
static void conv3_relu (CfqpNode *n, GRand *r) { setup_conv (n, r, 3, 1, 1, 1); n->act.kind = CFQP_ACT_RELU; }
static void conv3_clip (CfqpNode *n, GRand *r)
{
  setup_conv (n, r, 3, 1, 1, 1);
  n->act = (CfqpActivation) { CFQP_ACT_CLIP, 0, 0.f, 0.6f, NULL, 0 };
}
static void conv3_prelu (CfqpNode *n, GRand *r)
{
  setup_conv (n, r, 3, 1, 1, 1);
  n->act.kind = CFQP_ACT_PRELU;
  n->act.n_slopes = n->out_channels;
  n->act.slopes = ref_random_floats (r, n->out_channels, 0.05f, 0.4f);
}
static void conv5_s2 (CfqpNode *n, GRand *r) { setup_conv (n, r, 5, 2, 1, 1); }
static void conv3_dil2 (CfqpNode *n, GRand *r) { setup_conv (n, r, 3, 1, 2, 1); }
static void conv3_groups (CfqpNode *n, GRand *r) { setup_conv (n, r, 3, 1, 1, 2); }
static void conv3_dw (CfqpNode *n, GRand *r) { setup_conv (n, r, 3, 1, 1, 6); }
static void conv1 (CfqpNode *n, GRand *r) { setup_conv (n, r, 1, 1, 1, 1); }
static void convt3_s2 (CfqpNode *n, GRand *r)
{
  setup_conv (n, r, 3, 2, 1, 1);
  n->p.conv.pad_b = n->p.conv.pad_r = 1;
  n->p.conv.output_pad_h = n->p.conv.output_pad_w = 1;
}
static void add_acts (CfqpNode *n, GRand *r) { n->p.binary.kind = CFQP_BINARY_ADD; }
static void sub_acts_relu (CfqpNode *n, GRand *r) { n->p.binary.kind = CFQP_BINARY_SUB; n->act.kind = CFQP_ACT_RELU; }
static void mul_acts (CfqpNode *n, GRand *r) { n->p.binary.kind = CFQP_BINARY_MUL; }
static void add_const (CfqpNode *n, GRand *r)
{
  n->p.binary.kind = CFQP_BINARY_ADD;
  n->p.binary.n_constant = n->out_channels;
  n->p.binary.constant = ref_random_floats (r, n->out_channels, -0.5f, 0.5f);
}
static void rsub_const (CfqpNode *n, GRand *r)
{
  n->p.binary.kind = CFQP_BINARY_SUB;
  n->p.binary.constant_first = TRUE;
  n->p.binary.n_constant = 1;
  n->p.binary.constant = ref_random_floats (r, 1, 0.5f, 1.f);
}
static void mul_const (CfqpNode *n, GRand *r)
{
  n->p.binary.kind = CFQP_BINARY_MUL;
  n->p.binary.n_constant = n->out_channels;
  n->p.binary.constant = ref_random_floats (r, n->out_channels, -2.f, 2.f);
}
static void div_const (CfqpNode *n, GRand *r)
{
  n->p.binary.kind = CFQP_BINARY_DIV;
  n->p.binary.n_constant = 1;
  n->p.binary.constant = ref_random_floats (r, 1, 0.5f, 3.f);
}
static void act_relu (CfqpNode *n, GRand *r) { n->act.kind = CFQP_ACT_RELU; }
static void act_leaky (CfqpNode *n, GRand *r) { n->act.kind = CFQP_ACT_LEAKY_RELU; n->act.alpha = 0.1f; }
static void concat (CfqpNode *n, GRand *r) { }
static void d2s_crd (CfqpNode *n, GRand *r) { n->p.shuffle = (CfqpShuffleParams) { 2, CFQP_D2S_CRD }; }
static void d2s_dcr (CfqpNode *n, GRand *r) { n->p.shuffle = (CfqpShuffleParams) { 3, CFQP_D2S_DCR }; }
static void s2d (CfqpNode *n, GRand *r) { n->p.shuffle = (CfqpShuffleParams) { 2, CFQP_D2S_CRD }; }
static void resize (CfqpNode *n, GRand *r) { n->p.resize.scale_h = 3; n->p.resize.scale_w = 2; }
static void tile_il (CfqpNode *n, GRand *r) { n->p.tile.repeats = 4; n->p.tile.interleave = TRUE; }

static const OpCase cases[] = {
  { "conv3x3", CFQP_OP_CONV, 5, 7, 1, 37, 23, conv3 },
  { "conv3x3-relu", CFQP_OP_CONV, 3, 8, 1, 17, 13, conv3_relu },
  { "conv3x3-clip", CFQP_OP_CONV, 4, 4, 1, 9, 11, conv3_clip },
  { "conv3x3-prelu", CFQP_OP_CONV, 4, 6, 1, 10, 7, conv3_prelu },
  { "conv5x5-stride2", CFQP_OP_CONV, 3, 5, 1, 21, 17, conv5_s2 },
  { "conv3x3-dilation2", CFQP_OP_CONV, 2, 3, 1, 15, 12, conv3_dil2 },
  { "conv3x3-groups2", CFQP_OP_CONV, 6, 4, 1, 13, 9, conv3_groups },
  { "conv3x3-depthwise", CFQP_OP_CONV, 6, 6, 1, 1, 1, conv3_dw },
  { "conv1x1", CFQP_OP_CONV, 9, 27, 1, 31, 5, conv1 },
  { "convtranspose3x3-s2", CFQP_OP_CONV_TRANSPOSE, 4, 3, 1, 11, 7, convt3_s2 },
  { "add", CFQP_OP_BINARY, 3, 3, 2, 19, 11, add_acts },
  { "sub-relu", CFQP_OP_BINARY, 3, 3, 2, 8, 8, sub_acts_relu },
  { "mul", CFQP_OP_BINARY, 2, 2, 2, 12, 5, mul_acts },
  { "add-const", CFQP_OP_BINARY, 3, 3, 1, 7, 9, add_const },
  { "const-sub", CFQP_OP_BINARY, 3, 3, 1, 7, 9, rsub_const },
  { "mul-const", CFQP_OP_BINARY, 4, 4, 1, 7, 9, mul_const },
  { "div-const", CFQP_OP_BINARY, 2, 2, 1, 7, 9, div_const },
  { "relu", CFQP_OP_ACTIVATION, 3, 3, 1, 13, 3, act_relu },
  { "leaky-relu", CFQP_OP_ACTIVATION, 3, 3, 1, 13, 3, act_leaky },
  { "concat", CFQP_OP_CONCAT, 3, 6, 2, 9, 7, concat },
  { "depth-to-space-crd", CFQP_OP_DEPTH_TO_SPACE, 12, 3, 1, 5, 7, d2s_crd },
  { "depth-to-space-dcr", CFQP_OP_DEPTH_TO_SPACE, 27, 3, 1, 4, 3, d2s_dcr },
  { "space-to-depth", CFQP_OP_SPACE_TO_DEPTH, 3, 12, 1, 10, 6, s2d },
  { "resize-nearest", CFQP_OP_RESIZE_NEAREST, 3, 3, 1, 5, 4, resize },
  { "tile-interleave", CFQP_OP_TILE_CHANNELS, 3, 12, 1, 6, 5, tile_il },
};

static CfqpQParams
random_qparams (GRand *rand)
{
  CfqpQParams q = { (float) g_rand_double_range (rand, 0.004, 0.02),
                    g_rand_int_range (rand, 0, 200) };
  return q;
}

/* Dequantised copy of a quantised conv's weights and bias, so the float
 * kernel computes exactly what the integer one approximates. */
static void
fake_quant_conv (CfqpNode *f, const CfqpNode *node, const CfqpInt8Node *q, float s_in)
{
  const CfqpConvParams *c = &node->p.conv;
  gboolean transpose = node->op == CFQP_OP_CONV_TRANSPOSE;
  guint icg = c->in_channels / c->groups, ocg = c->out_channels / c->groups;
  gsize k = (gsize) c->kernel_h * c->kernel_w;
  gsize nw = (gsize) c->out_channels * icg * k;
  g_autofree double *sw = g_new0 (double, c->out_channels);

  /* a 16-bit program's taps are int16 on max|w| / 32767 */
  double top = q->weight16 ? 32767.0 : 127.0;

  for (gsize e = 0; e < nw; e++) {
    guint oc = transpose ? (guint) ((e / (ocg * k)) / icg * ocg + (e / k) % ocg)
                         : (guint) (e / (icg * k));
    sw[oc] = MAX (sw[oc], fabs (c->weight[e]) / top);
  }
  for (gsize e = 0; e < nw; e++) {
    guint oc = transpose ? (guint) ((e / (ocg * k)) / icg * ocg + (e / k) % ocg)
                         : (guint) (e / (icg * k));
    f->p.conv.weight[e] = (float) ((q->weight16 ? q->weight16[e] : q->weight[e]) * sw[oc]);
  }
  for (guint oc = 0; oc < c->out_channels; oc++)
    f->p.conv.bias[oc] = (float) ((q->bias64 ? (double) q->bias64[oc] : q->bias[oc]) * s_in *
        sw[oc]);
}

/* The op's ref kernel on a bits-wide program (8: INT8, 16: INT16) against
 * the float op on dequantised inputs and weights: within 1 step of the
 * output grid. */
static void
run_op_case (const OpCase *tc, guint bits)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (g_str_hash (tc->name));
  CfqpGraph *g = cfqp_graph_new ();
  CfqpGraph *fg;
  CfqpNode *node;
  guint in_ids[2] = { 1, 2 };
  g_autofree CfqpQParams *table = NULL;
  CfqpInt8Program *prog;
  g_autoptr (GError) error = NULL;
  CfqpShape shapes[4];
  CfqpU8View qin[2], qout;
  CfqpU16View win[2], wout;
  CfqpF32View fin[2], fout;
  guint worst = 0, levels = (1u << bits) - 1;

  /* value 0: a dummy graph input; 1..n: the op's inputs; last: its output.
   * The graph output is value 0, so no tensor of interest is forced onto
   * the pixel grid. */
  cfqp_graph_add_value (g, "input", tc->in_c, -1);
  for (guint k = 0; k < tc->n_inputs; k++)
    cfqp_graph_add_value (g, k ? "b" : "a", tc->in_c, -1);
  node = cfqp_graph_add_node (g, tc->op, tc->name);
  node->n_inputs = tc->n_inputs;
  node->inputs = g_memdup2 (in_ids, tc->n_inputs * sizeof (guint));
  node->out_channels = tc->out_c;
  node->output = cfqp_graph_add_value (g, "out", tc->out_c, 0);
  g->output = 0;
  tc->setup (node, rand);
  if (tc->op == CFQP_OP_CONV || tc->op == CFQP_OP_CONV_TRANSPOSE)
    finish_conv (node, tc->in_c, rand, tc->op == CFQP_OP_CONV_TRANSPOSE);

  /* shape inference sees the op reading the graph input (same shape) */
  memset (node->inputs, 0, tc->n_inputs * sizeof (guint));
  g_assert_true (cfqp_graph_infer_shapes (g, tc->w, tc->h, shapes, &error));
  g_assert_no_error (error);
  memcpy (node->inputs, in_ids, tc->n_inputs * sizeof (guint));
  for (guint k = 1; k <= tc->n_inputs; k++)
    shapes[k] = shapes[0];

  table = g_new (CfqpQParams, g->n_values);
  for (guint v = 0; v < g->n_values; v++)
    table[v] = random_qparams (rand);
  prog = cfqp_int8_program_new_bits (g, &(CfqpQuantisation) { table }, bits, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (prog->bits, ==, bits);

  /* quantised inputs and their dequantised float twins */
  for (guint k = 0; k < tc->n_inputs; k++) {
    CfqpShape *s = &shapes[1 + k];
    gsize n = (gsize) s->c * s->h * s->w;
    const CfqpQParams *qp = &prog->qparams[1 + k];
    qin[k] = (CfqpU8View) { g_malloc (n), s->c, s->h, s->w, s->w, (gsize) s->w * s->h };
    win[k] = (CfqpU16View) { g_new (guint16, n), s->c, s->h, s->w, s->w, (gsize) s->w * s->h };
    fin[k] = (CfqpF32View) { g_new (float, n), s->c, s->h, s->w, s->w, (gsize) s->w * s->h };
    for (gsize e = 0; e < n; e++) {
      guint32 v = g_rand_int_range (rand, 0, levels + 1);
      qin[k].data[e] = (guint8) v;
      win[k].data[e] = (guint16) v;
      fin[k].data[e] = qp->scale * ((gint32) v - qp->zero_point);
    }
  }
  {
    CfqpShape *s = &shapes[node->output];
    gsize n = (gsize) s->c * s->h * s->w;
    qout = (CfqpU8View) { g_malloc (n), s->c, s->h, s->w, s->w, (gsize) s->w * s->h };
    wout = (CfqpU16View) { g_new (guint16, n), s->c, s->h, s->w, s->w, (gsize) s->w * s->h };
    fout = (CfqpF32View) { g_new (float, n), s->c, s->h, s->w, s->w, (gsize) s->w * s->h };
  }

  if (bits == 16)
    cfqp_int8_ref_backend.ops16[tc->op] (node, &prog->nodes[0], win, &wout, 0, wout.h);
  else
    cfqp_int8_ref_backend.ops[tc->op] (node, &prog->nodes[0], qin, &qout, 0, qout.h);

  fg = cfqp_graph_copy (g);
  if (tc->op == CFQP_OP_CONV || tc->op == CFQP_OP_CONV_TRANSPOSE)
    fake_quant_conv (&fg->nodes[0], node, &prog->nodes[0], prog->qparams[1].scale);
  cfqp_f32_ops[tc->op] (&fg->nodes[0], fin, &fout, 0, fout.h);

  {
    const CfqpQParams *qo = &prog->qparams[node->output];
    gsize n = (gsize) qout.c * qout.plane_stride;
    for (gsize e = 0; e < n; e++) {
      double want = CLAMP (round (fout.data[e] / qo->scale) + qo->zero_point, 0, levels);
      guint have = bits == 16 ? wout.data[e] : qout.data[e];
      guint diff = (guint) fabs (want - have);
      if (diff > 1)
        g_error ("%s (%u bits): element %zu: %u, fake-quant %g", tc->name, bits, e, have, want);
      worst = MAX (worst, diff);
    }
  }
  g_test_message ("%s (%u bits): worst difference %u LSB", tc->name, bits, worst);

  for (guint k = 0; k < tc->n_inputs; k++) {
    g_free (qin[k].data);
    g_free (win[k].data);
    g_free (fin[k].data);
  }
  g_free (qout.data);
  g_free (wout.data);
  g_free (fout.data);
  cfqp_int8_program_free (prog);
  cfqp_graph_free (fg);
  cfqp_graph_free (g);
}

static void
test_op_case (gconstpointer data)
{
  run_op_case (data, 8);
}

static void
test_op_case_wide (gconstpointer data)
{
  run_op_case (data, 16);
}

/* --- whole network ------------------------------------------------------- */

static double
psnr (const float *a, const float *b, gsize n)
{
  double se = 0;
  for (gsize e = 0; e < n; e++) {
    double d = CLAMP (a[e], 0.f, 1.f) - CLAMP (b[e], 0.f, 1.f);
    se += d * d;
  }
  return 10 * log10 (1.0 / MAX (se / n, 1e-12));
}

static void
test_runner_abpn (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CfqpModel) model = cfqp_model_new_from_graph (test_model_abpn (3, 16, 3, 3, 11),
      "abpn", &error);
  g_autoptr (GRand) rand = g_rand_new_with_seed (3);
  guint w = 29, h = 17;
  gsize n_in = 3 * w * h, n_out = n_in * 9;
  g_autofree float *in = NULL, *ref = g_new (float, n_out), *got = g_new (float, n_out);
  g_autofree CfqpQParams *qp = NULL;
  g_autofree guint8 *packed = g_malloc (n_in), *out_packed = g_malloc (n_out);
  CfqpRunnerOptions opts = CFQP_RUNNER_OPTIONS_INIT;
  g_autoptr (CfqpRunner) runner = NULL;
  double p;

  g_assert_no_error (error);
  /* smooth-ish input: quantised to the pixel grid like a frame */
  in = g_new (float, n_in);
  for (gsize e = 0; e < n_in; e++)
    in[e] = (float) g_rand_int_range (rand, 0, 256) / 255.f;
  qp = minmax_qparams_observe (model, in, w, h, ref, &error);
  g_assert_true (qp != NULL);
  opts.precision = CFQP_PRECISION_INT8;
  opts.qparams = qp;
  opts.n_threads = 2;
  runner = cfqp_runner_new (model, &opts, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (cfqp_runner_get_active_backend (runner), ==, "cpu");
  g_assert_true (cfqp_runner_run_f32 (runner, in, w, h, got, &error));
  p = psnr (ref, got, n_out);
  g_test_message ("ABPN-like x3, INT8 vs FP32: %.2f dB", p);
  g_assert_cmpfloat (p, >, 38.0);

  /* the packed path gives the same bytes as the float path */
  {
    CfqpPackedLayout rgb = { 3, 0, 1, 2, -1 };
    for (guint y = 0; y < h; y++)
      for (guint x = 0; x < w; x++)
        for (guint c = 0; c < 3; c++)
          packed[(y * w + x) * 3 + c] = (guint8) lroundf (in[(c * h + y) * w + x] * 255.f);
    g_assert_true (cfqp_runner_run_packed (runner, &rgb, packed, w * 3, w, h, out_packed,
        w * 9, &error));
    for (guint y = 0; y < 3 * h; y++)
      for (guint x = 0; x < 3 * w; x++)
        for (guint c = 0; c < 3; c++)
          g_assert_cmpint (out_packed[(y * 3 * w + x) * 3 + c], ==,
              lroundf (got[(c * 3 * h + y) * 3 * w + x] * 255.f));
  }

  /* a bad table is refused and the running program stays */
  qp[1].scale = -1.f;
  g_assert_false (cfqp_runner_set_qparams (runner, qp, &error));
  g_assert_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_true (cfqp_runner_run_f32 (runner, in, w, h, ref, &error));
  g_assert_cmpmem (ref, n_out * sizeof (float), got, n_out * sizeof (float));

  /* INT8 without parameters is an error, not a silent FP32 */
  opts.qparams = NULL;
  g_assert_null (cfqp_runner_new (model, &opts, &error));
  g_assert_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID);
}

static void
test_clip_free (void)
{
  g_autoptr (GError) error = NULL;
  CfqpGraph *g = test_model_abpn (3, 8, 2, 2, 5);
  g_autoptr (CfqpModel) model = NULL, free_model = NULL;
  g_autofree char *report = NULL;
  guint removed = 0;
  const CfqpGraph *fg;

  /* clipped ReLU inside, clamp [0,1] on the last conv */
  for (guint i = 0; i < g->n_nodes; i++)
    if (g->nodes[i].act.kind == CFQP_ACT_RELU)
      g->nodes[i].act = (CfqpActivation) { CFQP_ACT_CLIP, 0, 0.f, 1.f, NULL, 0 };
  model = cfqp_model_new_from_graph (g, "clipped", &error);
  g_assert_no_error (error);
  free_model = cfqp_model_new_clip_free (model, &removed, &report);
  g_test_message ("%s", report);
  g_assert_cmpuint (removed, >=, 2);
  fg = cfqp_model_get_graph (free_model);
  for (guint i = 0; i < fg->n_nodes; i++)
    g_assert_cmpint (fg->nodes[i].act.kind, !=, CFQP_ACT_CLIP);
  /* the original is untouched */
  g_assert_cmpint (cfqp_model_get_graph (model)->nodes[1].act.kind, ==, CFQP_ACT_CLIP);
}

/* Parameter resolution: input/output on the pixel grid, concat inputs
 * unified with the concat, data movement sharing its neighbour's. */
static void
test_resolve_qparams (void)
{
  CfqpGraph *g = cfqp_graph_new ();
  CfqpNode *n;
  guint in0 = 0, a, b, cat, ins[2];
  CfqpQParams table[5], out[5];
  gboolean derived[5];

  cfqp_graph_add_value (g, "input", 3, -1);
  for (guint k = 0; k < 2; k++) {
    n = cfqp_graph_add_node (g, CFQP_OP_ACTIVATION, k ? "b" : "a");
    n->n_inputs = 1;
    n->inputs = g_memdup2 (&in0, sizeof (guint));
    n->out_channels = 3;
    n->act.kind = CFQP_ACT_RELU;
    n->output = cfqp_graph_add_value (g, k ? "b" : "a", 3, g->n_nodes - 1);
  }
  a = 1;
  b = 2;
  ins[0] = a;
  ins[1] = b;
  n = cfqp_graph_add_node (g, CFQP_OP_CONCAT, "cat");
  n->n_inputs = 2;
  n->inputs = g_memdup2 (ins, sizeof ins);
  n->out_channels = 6;
  cat = n->output = cfqp_graph_add_value (g, "cat", 6, g->n_nodes - 1);
  n = cfqp_graph_add_node (g, CFQP_OP_DEPTH_TO_SPACE, "d2s");
  n->n_inputs = 1;
  n->inputs = g_memdup2 (&cat, sizeof (guint));
  n->out_channels = 6;
  n->p.shuffle.block = 1;
  g->output = n->output = cfqp_graph_add_value (g, "out", 6, g->n_nodes - 1);

  for (guint v = 0; v < 5; v++)
    table[v] = (CfqpQParams) { 0.01f * (v + 1), (gint32) (10 * v) };
  cfqp_int8_resolve_qparams (g, table, out, derived);
  g_assert_cmpfloat (out[0].scale, ==, 1.f / 255.f);
  g_assert_cmpint (out[0].zero_point, ==, 0);
  /* the output is the pixel grid; d2s pulls it back onto the concat, and
   * the concat onto both its inputs */
  for (guint v = 1; v < 5; v++) {
    g_assert_cmpfloat (out[v].scale, ==, 1.f / 255.f);
    g_assert_true (derived[v]);
  }
  cfqp_graph_free (g);
}

/* An anchor: concat(input, input) → Relu → output.  The concat cannot
 * unify the input (it stays on the pixel grid), so the concat must hold the
 * pixel grid too, whatever narrower range the table gives it (a dim RD):
 * found by tools/research/fakequant_check.py, where the engine clipped every input
 * byte above the RD's brightest.  Mixed: concat(input, relu(input)): the
 * same, and the sole-consumer relu takes the widened range. */
static void
test_resolve_anchor (void)
{
  for (guint mixed = 0; mixed < 2; mixed++) {
    CfqpGraph *g = cfqp_graph_new ();
    CfqpNode *n;
    guint in0 = 0, a = 0, cat, ins[2];
    CfqpQParams table[4], out[4];

    cfqp_graph_add_value (g, "input", 3, -1);
    if (mixed) {
      n = cfqp_graph_add_node (g, CFQP_OP_ACTIVATION, "a");
      n->n_inputs = 1;
      n->inputs = g_memdup2 (&in0, sizeof (guint));
      n->out_channels = 3;
      n->act.kind = CFQP_ACT_RELU;
      a = n->output = cfqp_graph_add_value (g, "a", 3, g->n_nodes - 1);
    }
    ins[0] = 0;
    ins[1] = a;
    n = cfqp_graph_add_node (g, CFQP_OP_CONCAT, "cat");
    n->n_inputs = 2;
    n->inputs = g_memdup2 (ins, sizeof ins);
    n->out_channels = 6;
    cat = n->output = cfqp_graph_add_value (g, "cat", 6, g->n_nodes - 1);
    n = cfqp_graph_add_node (g, CFQP_OP_ACTIVATION, "relu");
    n->n_inputs = 1;
    n->inputs = g_memdup2 (&cat, sizeof (guint));
    n->out_channels = 6;
    n->act.kind = CFQP_ACT_RELU;
    g->output = n->output = cfqp_graph_add_value (g, "out", 6, g->n_nodes - 1);

    /* a dim RD: everything seen in [0, 0.45] */
    for (guint v = 0; v < 4; v++)
      table[v] = (CfqpQParams) { 0.45f / 255.f, 0 };
    cfqp_int8_resolve_qparams (g, table, out, NULL);
    g_assert_cmpfloat (out[cat].scale, ==, 1.f / 255.f);
    g_assert_cmpint (out[cat].zero_point, ==, 0);
    if (mixed) {
      g_assert_cmpfloat (out[a].scale, ==, out[cat].scale);
      g_assert_cmpint (out[a].zero_point, ==, out[cat].zero_point);
    }
    /* a wider range of the concat's own is kept, not narrowed */
    table[cat] = (CfqpQParams) { 1.5f / 255.f, 51 };
    cfqp_int8_resolve_qparams (g, table, out, NULL);
    g_assert_cmpfloat (out[cat].scale, ==, table[cat].scale);
    g_assert_cmpint (out[cat].zero_point, ==, table[cat].zero_point);
    cfqp_graph_free (g);
  }
}

/* x → conv, relu → conv r (12 channels); an anchor of x's pixels ("cat": x four times)
 * or of a conv ("conv"); s = r + anchor; then the output: s's depth-to-space
 * ("out"), or a 1×1 conv of s first ("inner"); or the sum of the two
 * depth-to-spaces as the output ("hr").  The tensors
 * cfqp_model_find_pixel_residuals marks, by name, space-separated. */
static char *
pixel_residuals_of (const char *anchor, const char *after)
{
  Net *n = net_new ();
  g_autoptr (GRand) rng = g_rand_new_with_seed (5);
  gint64 wd[4] = { 12, 3, 1, 1 }, w2d[4] = { 12, 12, 1, 1 };
  g_autoptr (GError) error = NULL;
  g_autoptr (CfqpModel) model = NULL;
  g_autofree CfqpQParams *table = NULL;
  g_autofree gboolean *marked = NULL;
  GString *names = g_string_new ("");
  guint nt;

  net_init (n, "w", wd, 4, own (n, ref_random_floats (rng, 36, -1, 1)), 36);
  net_init (n, "wa", wd, 4, own (n, ref_random_floats (rng, 36, -1, 1)), 36);
  net_init (n, "w2", w2d, 4, own (n, ref_random_floats (rng, 144, -1, 1)), 144);
  net_init (n, "wr", w2d, 4, own (n, ref_random_floats (rng, 144, -1, 1)), 144);
  /* r two convs deep: a conv of x alone would take the anchor into its taps */
  net_node (n, "Conv", "x", "w", NULL, "h");
  net_node (n, "Relu", "h", NULL, NULL, "hr");
  net_node (n, "Conv", "hr", "wr", NULL, "r");
  if (g_str_equal (anchor, "cat")) {
    Onnx__NodeProto *cat = net_node (n, "Concat", "x", "x", "x", "a");

    cat->n_input = 4;
    cat->input = own (n, g_new (char *, 4));
    for (guint i = 0; i < 4; i++)
      cat->input[i] = own_str (n, "x");
    attr_int (n, cat, "axis", 1);
  } else {
    net_node (n, "Conv", "x", "wa", NULL, "a");
  }
  if (g_str_equal (after, "hr")) {
    /* the sum at the output's size, of two depth-to-spaces */
    attr_int (n, net_node (n, "DepthToSpace", "r", NULL, NULL, "rh"), "blocksize", 2);
    attr_int (n, net_node (n, "DepthToSpace", "a", NULL, NULL, "ah"), "blocksize", 2);
    net_node (n, "Add", "rh", "ah", NULL, "y");
  } else if (g_str_equal (after, "inner")) {
    net_node (n, "Add", "r", "a", NULL, "s");
    net_node (n, "Conv", "s", "w2", NULL, "t");
    attr_int (n, net_node (n, "DepthToSpace", "t", NULL, NULL, "y"), "blocksize", 2);
  } else {
    net_node (n, "Add", "r", "a", NULL, "s");
    attr_int (n, net_node (n, "DepthToSpace", "s", NULL, NULL, "y"), "blocksize", 2);
  }
  model = net_import (n, &error);
  g_assert_no_error (error);
  nt = cfqp_model_get_n_tensors (model);
  table = g_new (CfqpQParams, nt);
  marked = g_new (gboolean, nt);
  for (guint v = 0; v < nt; v++)
    table[v] = (CfqpQParams) { 0.45f / 255.f, 0 };   /* a dim RD: the cat widens to pixels */
  cfqp_model_find_pixel_residuals (model, table, marked);
  for (guint v = 0; v < nt; v++)
    if (marked[v])
      g_string_append_printf (names, "%s%s", names->len ? " " : "",
          cfqp_model_get_tensor_name (model, v));
  return g_string_free (names, FALSE);
}

/* Only a residual added onto a tensor on the pixel grid into one on the
 * pixel grid is marked: not when the sum goes on to another conv, nor when
 * the anchor is a conv of its own, nor a residual whose grid is another
 * tensor's. */
static void
test_pixel_residuals (void)
{
  const struct { const char *anchor, *after, *marked; } cases[] = {
    { "cat", "out", "r" },
    { "cat", "inner", "" },
    { "conv", "out", "" },
    { "cat", "hr", "" },   /* rh is derived: its grid is r's */
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *got = pixel_residuals_of (cases[i].anchor, cases[i].after);

    g_test_message ("anchor %s, sum to %s: marked '%s'", cases[i].anchor, cases[i].after, got);
    g_assert_cmpstr (got, ==, cases[i].marked);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/int8/rshift-round", test_rshift_round);
  g_test_add_func ("/int8/requant-from-real", test_requant_from_real);
  g_test_add_func ("/int8/clamp", test_clamp_u8);
  g_test_add_func ("/int8/acc-overflow-refused", test_acc_overflow_refused);
  g_test_add_func ("/int8/bias-range", test_bias_range);
  g_test_add_func ("/int8/clip-min-over-max", test_clip_min_over_max);
  g_test_add_func ("/int8/weight-ratio-saturates", test_weight_ratio_saturates);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *path = g_strdup_printf ("/int8/op/%s", cases[i].name);
    g_autofree char *wide = g_strdup_printf ("/int8/op-16bit/%s", cases[i].name);
    g_test_add_data_func (path, &cases[i], test_op_case);
    g_test_add_data_func (wide, &cases[i], test_op_case_wide);
  }
  g_test_add_func ("/int8/resolve-qparams", test_resolve_qparams);
  g_test_add_func ("/int8/resolve-anchor", test_resolve_anchor);
  g_test_add_func ("/int8/pixel-residuals", test_pixel_residuals);
  g_test_add_func ("/int8/runner-abpn", test_runner_abpn);
  g_test_add_func ("/int8/clip-free", test_clip_free);
  return g_test_run ();
}
