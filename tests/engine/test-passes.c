/* Graph passes, each shown to fire: input-normalisation folding, activation
 * fusion, dead-code removal, and the importer's constant folding.  Every
 * case checks the graph after the pass (node counts and op types) and that
 * the output is what the graph computed before it: the double-precision
 * reference on the unoptimised graph against the reference on the optimised
 * one, and against the FP32 executor (which runs all passes).  For each
 * pass there are cases where it must not apply. */
#include "cfqp-model-private.h"
#include "cfqp-onnx.h"
#include "cfqp-passes.h"
#include "graph-build.h"
#include "onnx-net.h"
#include "ref-f64.h"

#include <math.h>
#include <string.h>


/* --- graphs ----------------------------------------------------------------- */

static GRand *rng;

static CfqpGraph *
graph_new (guint channels)
{
  CfqpGraph *g = cfqp_graph_new ();

  cfqp_graph_add_value (g, "in", channels, -1);
  return g;
}

static guint
last (CfqpGraph *g)
{
  return g->nodes[g->n_nodes - 1].output;
}

/* k×k conv with explicit pads k/2, random weights and bias. */
static CfqpNode *
add_conv (CfqpGraph *g, const char *name, guint in, guint ic, guint oc, guint k, guint stride,
    guint groups)
{
  CfqpNode *n = graph_add_node (g, CFQP_OP_CONV, name, in, -1, oc);
  CfqpConvParams *c = &n->p.conv;
  guint p = k / 2;

  *c = (CfqpConvParams) { k, k, stride, stride, 1, 1, p, p, p, p, 0, 0, 0, groups, ic, oc };
  c->weight = ref_random_floats (rng, (gsize) oc * (ic / groups) * k * k, -0.5f, 0.5f);
  c->bias = ref_random_floats (rng, oc, -0.2f, 0.2f);
  return n;
}

static CfqpNode *
add_const_binary (CfqpGraph *g, const char *name, guint in, CfqpBinaryKind kind,
    const float *k, guint n_k, gboolean constant_first)
{
  CfqpNode *n = graph_add_node (g, CFQP_OP_BINARY, name, in, -1, g->values[in].channels);

  n->p.binary.kind = kind;
  n->p.binary.constant = g_memdup2 (k, n_k * sizeof (float));
  n->p.binary.n_constant = n_k;
  n->p.binary.constant_first = constant_first;
  return n;
}

static CfqpNode *
add_act (CfqpGraph *g, const char *name, guint in, CfqpActKind kind)
{
  guint c = g->values[in].channels;
  CfqpNode *n = graph_add_node (g, CFQP_OP_ACTIVATION, name, in, -1, c);

  n->act.kind = kind;
  switch (kind) {
    case CFQP_ACT_LEAKY_RELU:
      n->act.alpha = 0.1f;
      break;
    case CFQP_ACT_PRELU:
      n->act.slopes = ref_random_floats (rng, c, 0.05f, 0.5f);
      n->act.n_slopes = c;
      break;
    case CFQP_ACT_CLIP:
      n->act.lo = -0.1f;
      n->act.hi = 0.3f;
      break;
    default:
      break;
  }
  return n;
}

static CfqpNode *
add_d2s (CfqpGraph *g, guint in, guint block)
{
  CfqpNode *n = graph_add_node (g, CFQP_OP_DEPTH_TO_SPACE, "d2s", in, -1,
      g->values[in].channels / (block * block));

  n->p.shuffle.block = block;
  return n;
}

/* "Conv+relu Binary …": the graph as the assertions see it, for messages. */
static char *
describe (const CfqpGraph *g)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < g->n_nodes; i++)
    g_string_append_printf (s, "%s%s%s%s", i ? " " : "", cfqp_op_type_to_string (g->nodes[i].op),
        g->nodes[i].act.kind ? "+" : "",
        g->nodes[i].act.kind ? cfqp_act_kind_to_string (g->nodes[i].act.kind) : "");
  return g_string_free (s, FALSE);
}

static void
expect_graph (const CfqpGraph *g, const char *want)
{
  g_autofree char *have = describe (g);

  if (strcmp (have, want))
    g_error ("graph is '%s', want '%s'", have, want);
}

/* --- outputs ---------------------------------------------------------------- */

static RefTensor
ref_run (const CfqpGraph *g, const float *in, guint w, guint h)
{
  guint c = g->values[0].channels;
  g_autofree double *in64 = g_new (double, (gsize) c * w * h);
  RefTensor t = { { c, h, w }, in64 };

  for (gsize i = 0; i < (gsize) c * w * h; i++)
    in64[i] = in[i];
  return ref_graph (g, &t);
}

/* Largest |a − b| over the two outputs (same shape). */
static double
max_diff (const RefTensor *a, const RefTensor *b)
{
  gsize n = (gsize) a->shape.c * a->shape.h * a->shape.w;
  double m = 0;

  g_assert_cmpuint (a->shape.c, ==, b->shape.c);
  g_assert_cmpuint (a->shape.h, ==, b->shape.h);
  g_assert_cmpuint (a->shape.w, ==, b->shape.w);
  for (gsize i = 0; i < n; i++)
    m = MAX (m, fabs (a->data[i] - b->data[i]));
  return m;
}

static const guint sizes[][2] = { { 9, 7 }, { 1, 1 }, { 2, 5 } };

/* The reference on `before` and on `after` agree (double precision; a
 * folded weight or bias is rounded to float once, hence not exactly). */
static void
expect_same_ref (const CfqpGraph *before, const CfqpGraph *after)
{
  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++) {
    guint w = sizes[s][0], h = sizes[s][1];
    g_autofree float *in = ref_random_floats (rng, (gsize) before->values[0].channels * w * h,
        0, 1);
    RefTensor a = ref_run (before, in, w, h), b = ref_run (after, in, w, h);
    double d = max_diff (&a, &b);

    if (!(d < 1e-5))
      g_error ("%u×%u: output changed by %g", w, h, d);
    g_free (a.data);
    g_free (b.data);
  }
}

/* The FP32 executor on the model made from a copy of `before` (so with
 * every pass) matches the reference on `before`, without any. */
static void
expect_same_fp32 (const CfqpGraph *before)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CfqpModel) model = cfqp_model_new_from_graph (cfqp_graph_copy (before), "passes",
      &error);
  g_autoptr (CfqpRunner) runner = NULL;
  CfqpRunnerOptions options = CFQP_RUNNER_OPTIONS_INIT;
  guint c = before->values[0].channels;

  g_assert_no_error (error);
  options.backend = CFQP_BACKEND_CPU;
  options.n_threads = 1;
  runner = cfqp_runner_new (model, &options, &error);
  g_assert_no_error (error);
  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++) {
    guint w = sizes[s][0], h = sizes[s][1], scale = cfqp_model_get_scale (model);
    gsize n_out = (gsize) c * scale * scale * w * h;
    g_autofree float *in = ref_random_floats (rng, (gsize) c * w * h, 0, 1);
    g_autofree float *out = g_new (float, n_out);
    RefTensor want = ref_run (before, in, w, h);

    g_assert_true (cfqp_runner_run_f32 (runner, in, w, h, out, &error));
    g_assert_no_error (error);
    for (gsize i = 0; i < n_out; i++)
      if (!(fabs (out[i] - want.data[i]) < 1e-5))
        g_error ("%u×%u: FP32 element %" G_GSIZE_FORMAT " is %g, unoptimised reference %g",
            w, h, i, out[i], want.data[i]);
    g_free (want.data);
  }
}

/* Runs one pass on a copy of g, checks what it returned, then removes the
 * dead nodes (when the pass leaves any) and checks the reference output did
 * not change.  Returns the optimised copy. */
static CfqpGraph *
run_pass (const CfqpGraph *g, guint (*pass) (CfqpGraph *), guint want_changes,
    guint want_dead)
{
  CfqpGraph *after = cfqp_graph_copy (g);

  g_assert_cmpuint (pass (after), ==, want_changes);
  g_assert_cmpuint (cfqp_pass_remove_dead (after), ==, want_dead);
  expect_same_ref (g, after);
  return after;
}

/* --- input normalisation ------------------------------------------------ */

static const float mean[3] = { 0.485f, 0.456f, 0.406f }, inv_std[3] = { 0.229f, 0.224f, 0.225f };

/* An RGB input, (x − mean)/std per channel as torchvision writes it. */
static CfqpGraph *
graph_new_normalised (void)
{
  CfqpGraph *g = graph_new (3);

  add_const_binary (g, "sub", 0, CFQP_BINARY_SUB, mean, 3, FALSE);
  add_const_binary (g, "div", last (g), CFQP_BINARY_DIV, inv_std, 3, FALSE);
  return g;
}

/* Conv (the one read from the normalised input) → DepthToSpace 2: ×2 RGB. */
static void
finish_sr (CfqpGraph *g, guint in, guint stride, guint groups, guint k)
{
  add_conv (g, "conv", in, 3, 12, k, stride, groups);
  add_d2s (g, last (g), 2);
}

static void
check_folded (CfqpGraph *g, guint n_binary)
{
  g_autoptr (CfqpGraph) after = run_pass (g, cfqp_pass_fold_input_normalisation, n_binary,
      n_binary);
  g_autoptr (CfqpGraph) no_pad = NULL;
  const CfqpConvParams *cp = &after->nodes[0].p.conv;
  RefTensor a, b;
  guint w = 6, h = 5;
  g_autofree float *in = ref_random_floats (rng, 3 * w * h, 0, 1);
  guint border = 0, inside = 0;

  expect_graph (after, "Conv DepthToSpace");
  g_assert_cmpuint (after->nodes[0].inputs[0], ==, 0);
  g_assert_nonnull (cp->pad_value);
  /* Again: nothing left to fold. */
  g_assert_cmpuint (cfqp_pass_fold_input_normalisation (after), ==, 0);

  /* The pad value is what keeps the borders right: without it only the
   * pixels whose window stays inside the frame still match. */
  no_pad = cfqp_graph_copy (after);
  g_clear_pointer (&no_pad->nodes[0].p.conv.pad_value, g_free);
  a = ref_run (g, in, w, h);
  b = ref_run (no_pad, in, w, h);
  for (guint c = 0; c < 3; c++)
    for (guint y = 0; y < 2 * h; y++)
      for (guint x = 0; x < 2 * w; x++) {
        /* conv pixel (x/2, y/2); its k×k window (stride 1) */
        guint cx = x / 2, cy = y / 2, r = cp->kernel_w / 2;
        gboolean at_border = cp->stride_w > 1 || cx < r || cy < r || cx + r >= w || cy + r >= h;
        double d = fabs (*ref_at (&a, c, y, x) - *ref_at (&b, c, y, x));
        if (at_border) {
          border += d > 1e-3;
        } else {
          g_assert_cmpfloat (d, <, 1e-5);
          inside++;
        }
      }
  g_assert_cmpuint (border, >, 0);
  g_free (a.data);
  g_free (b.data);
  if (cp->stride_w == 1)
    g_assert_cmpuint (inside, >, 0);
  expect_same_fp32 (g);
}

static void
test_norm_sub_div (void)
{
  g_autoptr (CfqpGraph) g = graph_new_normalised ();

  finish_sr (g, last (g), 1, 1, 3);
  check_folded (g, 2);
}

/* INT8 can pad with a folded normalisation's value only where the input's
 * u8 grid holds it: x − 0.25 pads with 0.25 and runs; x + 0.5 pads with
 * −0.5, which would saturate to 0 and change the borders, so an INT8
 * runner refuses the table with an error naming the conv. */
static void
test_norm_pad_int8 (void)
{
  static const float quarter = 0.25f, half = 0.5f;

  for (guint k = 0; k < 2; k++) {
    Net *n = net_new ();
    gint64 one[1] = { 1 }, wd[4] = { 12, 3, 3, 3 }, pads[4] = { 1, 1, 1, 1 };
    g_autoptr (GError) error = NULL;
    g_autoptr (CfqpModel) model = NULL;
    g_autofree CfqpQParams *qp = NULL;
    CfqpRunnerOptions o = CFQP_RUNNER_OPTIONS_INIT;
    CfqpRunner *r;
    Onnx__NodeProto *conv;

    net_init (n, "c", one, 1, k ? &half : &quarter, 1);
    net_node (n, k ? "Add" : "Sub", "x", "c", NULL, "xn");
    net_zeros (n, "w", wd, 4);
    conv = net_node (n, "Conv", "xn", "w", NULL, "f");
    attr_ints (n, conv, "pads", pads, 4);
    attr_int (n, net_node (n, "DepthToSpace", "f", NULL, NULL, "y"), "blocksize", 2);
    model = net_import (n, &error);
    g_assert_no_error (error);
    qp = g_new (CfqpQParams, cfqp_model_get_n_tensors (model));
    for (guint v = 0; v < cfqp_model_get_n_tensors (model); v++)
      qp[v] = (CfqpQParams) { 1 / 255.f, 0 };
    o.precision = CFQP_PRECISION_INT8;
    o.n_threads = 1;
    o.qparams = qp;
    r = cfqp_runner_new (model, &o, &error);
    if (k == 0) {
      g_assert_no_error (error);
      g_assert_nonnull (r);
      cfqp_runner_free (r);
    } else {
      g_assert_null (r);
      g_assert_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_UNSUPPORTED);
      g_assert_nonnull (strstr (error->message, "pad value"));
      g_test_message ("refused: %s", error->message);
    }
  }
}

static void
test_norm_mul_add (void)
{
  /* x·2 − 1 (scalars), then +k per channel and k·x, a 5×5 SAME_UPPER conv */
  g_autoptr (CfqpGraph) g = graph_new (3);
  const float two = 2, one = 1, k[3] = { 0.1f, -0.2f, 0.3f }, m[3] = { 1.5f, -0.75f, 3 };

  add_const_binary (g, "mul", 0, CFQP_BINARY_MUL, &two, 1, FALSE);
  add_const_binary (g, "sub", last (g), CFQP_BINARY_SUB, &one, 1, FALSE);
  add_const_binary (g, "add", last (g), CFQP_BINARY_ADD, k, 3, TRUE);
  add_const_binary (g, "mul2", last (g), CFQP_BINARY_MUL, m, 3, TRUE);
  finish_sr (g, last (g), 1, 1, 5);
  g->nodes[4].p.conv.auto_pad = 1;
  check_folded (g, 4);
}

static void
test_norm_constant_first_sub (void)
{
  /* 1 − x (an inverted input) then /std, into a depthwise conv */
  g_autoptr (CfqpGraph) g = graph_new (3);
  const float one = 1;

  add_const_binary (g, "rsub", 0, CFQP_BINARY_SUB, &one, 1, TRUE);
  add_const_binary (g, "div", last (g), CFQP_BINARY_DIV, inv_std, 3, FALSE);
  add_conv (g, "dw", last (g), 3, 3, 3, 1, 3);
  add_conv (g, "conv", last (g), 3, 12, 3, 1, 1);
  add_d2s (g, last (g), 2);
  {
    g_autoptr (CfqpGraph) after = run_pass (g, cfqp_pass_fold_input_normalisation, 2, 2);
    expect_graph (after, "Conv Conv DepthToSpace");
    g_assert_nonnull (after->nodes[0].p.conv.pad_value);
    g_assert_null (after->nodes[1].p.conv.pad_value);
  }
  expect_same_fp32 (g);
}

static void
test_norm_strided (void)
{
  /* stride 2, k 3, pads 1: every output column touches a padded one or not */
  g_autoptr (CfqpGraph) g = graph_new_normalised ();

  add_conv (g, "s2", last (g), 3, 48, 3, 2, 1);
  add_d2s (g, last (g), 4);
  {
    /* (not an SR model at every size: the reference only) */
    g_autoptr (CfqpGraph) after = run_pass (g, cfqp_pass_fold_input_normalisation, 2, 2);
    expect_graph (after, "Conv DepthToSpace");
  }
}

/* The pass must leave g as it is (and the output with it). */
static void
expect_not_folded (CfqpGraph *g)
{
  g_autofree char *want = describe (g);
  g_autoptr (CfqpGraph) after = run_pass (g, cfqp_pass_fold_input_normalisation, 0, 0);

  expect_graph (after, want);
  for (guint i = 0; i < after->n_nodes; i++)
    if (after->nodes[i].op == CFQP_OP_CONV)
      g_assert_null (after->nodes[i].p.conv.pad_value);
  expect_same_fp32 (g);
}

static void
test_norm_not_folded (void)
{
  const float zero_mul[3] = { 1, 0, 1 }, one = 1;
  CfqpGraph *g;

  /* a ReLU between the normalisation and the conv */
  g = graph_new (3);
  add_const_binary (g, "sub", 0, CFQP_BINARY_SUB, mean, 3, FALSE);
  add_act (g, "relu", last (g), CFQP_ACT_RELU);
  finish_sr (g, last (g), 1, 1, 3);
  expect_not_folded (g);
  cfqp_graph_free (g);

  /* the normalised input read by the conv and by an add */
  g = graph_new (3);
  add_const_binary (g, "sub", 0, CFQP_BINARY_SUB, mean, 3, FALSE);
  add_conv (g, "conv", 1, 3, 3, 3, 1, 1);
  graph_add_node (g, CFQP_OP_BINARY, "res", last (g), 1, 3);
  expect_not_folded (g);
  cfqp_graph_free (g);

  /* k / x is not affine */
  g = graph_new (3);
  add_const_binary (g, "add", 0, CFQP_BINARY_ADD, &one, 1, FALSE);
  add_const_binary (g, "rdiv", last (g), CFQP_BINARY_DIV, inv_std, 3, TRUE);
  finish_sr (g, last (g), 1, 1, 3);
  expect_not_folded (g);
  cfqp_graph_free (g);

  /* ·0 on a channel: no pad value gives back 0 after it */
  g = graph_new (3);
  add_const_binary (g, "mul", 0, CFQP_BINARY_MUL, zero_mul, 3, FALSE);
  finish_sr (g, last (g), 1, 1, 3);
  expect_not_folded (g);
  cfqp_graph_free (g);

  /* into a ConvTranspose */
  g = graph_new (3);
  add_const_binary (g, "sub", 0, CFQP_BINARY_SUB, mean, 3, FALSE);
  {
    CfqpNode *n = add_conv (g, "up", last (g), 3, 3, 4, 2, 1);
    n->op = CFQP_OP_CONV_TRANSPOSE;
    n->p.conv.pad_t = n->p.conv.pad_l = n->p.conv.pad_b = n->p.conv.pad_r = 1;
  }
  expect_not_folded (g);
  cfqp_graph_free (g);

  /* a binary that carries a fused activation */
  g = graph_new (3);
  add_const_binary (g, "sub", 0, CFQP_BINARY_SUB, mean, 3, FALSE)->act.kind = CFQP_ACT_RELU;
  finish_sr (g, last (g), 1, 1, 3);
  expect_not_folded (g);
  cfqp_graph_free (g);

  /* a conv straight on the input: nothing to fold */
  g = graph_new (3);
  finish_sr (g, 0, 1, 1, 3);
  expect_not_folded (g);
  cfqp_graph_free (g);
}

/* espcn-x3-norm: PyTorch's (x − mean)/std … ·std + mean around the net. */
static char *
refnet_path (const char *name)
{
  return g_build_filename (g_getenv ("CFQP_TEST_DATA"), "refnets", name, NULL);
}

static CfqpGraph *
import_file (const char *name)
{
  g_autofree char *path = refnet_path (name), *data = NULL;
  g_autoptr (GError) error = NULL;
  gsize len;
  CfqpGraph *g;

  g_assert_true (g_file_get_contents (path, &data, &len, &error));
  g = cfqp_onnx_import ((const guint8 *) data, len, &error);
  g_assert_no_error (error);
  return g;
}

/* The FP32 runner on the file against PyTorch's output. */
static void
expect_pytorch_output (const char *model_name, const char *stem, guint w, guint h, guint scale)
{
  g_autofree char *path = refnet_path (model_name);
  g_autofree char *in_name = g_strdup_printf ("%s.in-%ux%u.f32", stem, w, h);
  g_autofree char *out_name = g_strdup_printf ("%s.out-%ux%u.f32", stem, w, h);
  g_autofree char *in_path = refnet_path (in_name), *out_path = refnet_path (out_name);
  g_autofree char *in = NULL, *want = NULL;
  gsize in_len, want_len;
  g_autoptr (GError) error = NULL;
  g_autoptr (CfqpModel) model = cfqp_model_new_from_file (path, &error);
  g_autoptr (CfqpRunner) runner = NULL;
  CfqpRunnerOptions options = CFQP_RUNNER_OPTIONS_INIT;
  g_autofree float *out = NULL;
  guint c = cfqp_model_get_graph (model)->values[0].channels;
  gsize n_out = (gsize) c * w * h * scale * scale;

  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (in_path, &in, &in_len, NULL));
  g_assert_true (g_file_get_contents (out_path, &want, &want_len, NULL));
  g_assert_cmpuint (in_len, ==, (gsize) c * w * h * 4);
  g_assert_cmpuint (want_len, ==, n_out * 4);
  options.backend = CFQP_BACKEND_CPU;
  options.n_threads = 1;
  runner = cfqp_runner_new (model, &options, &error);
  g_assert_no_error (error);
  out = g_new (float, n_out);
  g_assert_true (cfqp_runner_run_f32 (runner, (const float *) in, w, h, out, &error));
  for (gsize i = 0; i < n_out; i++)
    if (!(fabs (out[i] - ((const float *) want)[i]) < 1e-4))
      g_error ("%s: element %" G_GSIZE_FORMAT " is %g, PyTorch %g", model_name, i, out[i],
          ((const float *) want)[i]);
}

static void
test_norm_espcn (void)
{
  g_autoptr (CfqpGraph) g = import_file ("espcn-x3-norm-op13.onnx");
  g_autoptr (CfqpGraph) after = NULL;

  expect_graph (g, "Binary Binary Conv Activation+relu Conv Activation+relu Conv DepthToSpace "
      "Binary Binary");
  after = run_pass (g, cfqp_pass_fold_input_normalisation, 2, 2);
  /* the output's ·std + mean follows a DepthToSpace, not a conv's input: stays */
  expect_graph (after, "Conv Activation+relu Conv Activation+relu Conv DepthToSpace Binary Binary");
  g_assert_nonnull (after->nodes[0].p.conv.pad_value);
  /* a zero-padded (x − mean)/std is x padded with the mean */
  g_assert_cmpuint (g->nodes[0].p.binary.kind, ==, CFQP_BINARY_SUB);
  for (guint k = 0; k < 3; k++)
    g_assert_cmpfloat (fabs (after->nodes[0].p.conv.pad_value[k] -
        g->nodes[0].p.binary.constant[k]), <, 1e-6);
  expect_same_fp32 (g);
  expect_pytorch_output ("espcn-x3-norm-op13.onnx", "espcn-x3-norm", 12, 12, 3);
}

/* --- activation fusion ------------------------------------------------- */

static void
test_fuse_conv_act (void)
{
  static const CfqpActKind kinds[] = {
    CFQP_ACT_RELU, CFQP_ACT_LEAKY_RELU, CFQP_ACT_PRELU, CFQP_ACT_CLIP,
  };

  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++) {
    g_autoptr (CfqpGraph) g = graph_new (3);
    g_autoptr (CfqpGraph) after = NULL;
    g_autofree char *want = NULL;

    add_conv (g, "conv", 0, 3, 3, 3, 1, 1);
    add_act (g, "act", last (g), kinds[i]);
    after = run_pass (g, cfqp_pass_fuse_activations, 1, 1);
    want = g_strdup_printf ("Conv+%s", cfqp_act_kind_to_string (kinds[i]));
    expect_graph (after, want);
    g_assert_cmpuint (after->output, ==, 1);
    if (kinds[i] == CFQP_ACT_PRELU) {
      /* slopes copied, per channel */
      g_assert_cmpuint (after->nodes[0].act.n_slopes, ==, 3);
      g_assert_cmpmem (after->nodes[0].act.slopes, 3 * sizeof (float), g->nodes[1].act.slopes,
          3 * sizeof (float));
    }
    expect_same_fp32 (g);
  }
}

static void
test_fuse_more (void)
{
  CfqpGraph *g, *after;

  /* Clip(DepthToSpace(conv)): into the conv, through the shuffle */
  g = graph_new (3);
  add_conv (g, "conv", 0, 3, 12, 3, 1, 1);
  add_d2s (g, last (g), 2);
  add_act (g, "clip", last (g), CFQP_ACT_CLIP);
  after = run_pass (g, cfqp_pass_fuse_activations, 1, 1);
  expect_graph (after, "Conv+clip DepthToSpace");
  expect_same_fp32 (g);
  cfqp_graph_free (after);
  cfqp_graph_free (g);

  /* Relu then Clip(−0.1, 0.3): one clip [0, 0.3] */
  g = graph_new (3);
  add_conv (g, "conv", 0, 3, 3, 3, 1, 1);
  add_act (g, "relu", last (g), CFQP_ACT_RELU);
  add_act (g, "clip", last (g), CFQP_ACT_CLIP);
  after = run_pass (g, cfqp_pass_fuse_activations, 2, 2);
  expect_graph (after, "Conv+clip");
  g_assert_cmpfloat (after->nodes[0].act.lo, ==, 0);
  g_assert_cmpfloat (after->nodes[0].act.hi, ==, 0.3f);
  expect_same_fp32 (g);
  cfqp_graph_free (after);
  cfqp_graph_free (g);

  /* Relu(conv + x): into the add */
  g = graph_new (3);
  add_conv (g, "conv", 0, 3, 3, 3, 1, 1);
  graph_add_node (g, CFQP_OP_BINARY, "add", 1, 0, 3);
  add_act (g, "relu", last (g), CFQP_ACT_RELU);
  after = run_pass (g, cfqp_pass_fuse_activations, 1, 1);
  expect_graph (after, "Conv Binary+relu");
  expect_same_fp32 (g);
  cfqp_graph_free (after);
  cfqp_graph_free (g);
}

static void
expect_fused (CfqpGraph *g, guint n_fused, const char *want)
{
  g_autoptr (CfqpGraph) after = run_pass (g, cfqp_pass_fuse_activations, n_fused, n_fused);

  expect_graph (after, want);
  expect_same_fp32 (g);
}

static void
test_fuse_not_applied (void)
{
  CfqpGraph *g;

  /* the conv's output also read by the add: relu(conv) + conv */
  g = graph_new (3);
  add_conv (g, "conv", 0, 3, 3, 3, 1, 1);
  add_act (g, "relu", 1, CFQP_ACT_RELU);
  graph_add_node (g, CFQP_OP_BINARY, "add", 2, 1, 3);
  expect_fused (g, 0, "Conv Activation+relu Binary");
  cfqp_graph_free (g);

  /* a per-channel PRelu does not commute with DepthToSpace */
  g = graph_new (3);
  add_conv (g, "conv", 0, 3, 12, 3, 1, 1);
  add_d2s (g, last (g), 2);
  add_act (g, "prelu", last (g), CFQP_ACT_PRELU);
  expect_fused (g, 0, "Conv DepthToSpace Activation+prelu");
  cfqp_graph_free (g);

  /* the shuffled output read twice: clip(d2s) + d2s */
  g = graph_new (3);
  add_conv (g, "conv", 0, 3, 12, 3, 1, 1);
  add_d2s (g, last (g), 2);
  add_act (g, "clip", 2, CFQP_ACT_CLIP);
  graph_add_node (g, CFQP_OP_BINARY, "add", 3, 2, 3);
  expect_fused (g, 0, "Conv DepthToSpace Activation+clip Binary");
  cfqp_graph_free (g);

  /* LeakyRelu fuses, a Relu after it cannot join it */
  g = graph_new (3);
  add_conv (g, "conv", 0, 3, 3, 3, 1, 1);
  add_act (g, "leaky", last (g), CFQP_ACT_LEAKY_RELU);
  add_act (g, "relu", last (g), CFQP_ACT_RELU);
  expect_fused (g, 1, "Conv+leaky-relu Activation+relu");
  cfqp_graph_free (g);

  /* Clip(−3, −1) after a Relu is a constant −1: not one clip */
  g = graph_new (3);
  add_conv (g, "conv", 0, 3, 3, 3, 1, 1);
  add_act (g, "relu", last (g), CFQP_ACT_RELU);
  add_act (g, "clip", last (g), CFQP_ACT_CLIP);
  g->nodes[2].act.lo = -3;
  g->nodes[2].act.hi = -1;
  expect_fused (g, 1, "Conv+relu Activation+clip");
  cfqp_graph_free (g);

  /* after a concat, and on the graph input */
  g = graph_new (3);
  add_conv (g, "a", 0, 3, 1, 3, 1, 1);
  add_conv (g, "b", 0, 3, 2, 3, 1, 1);
  graph_add_node (g, CFQP_OP_CONCAT, "cat", 1, 2, 3);
  add_act (g, "relu", last (g), CFQP_ACT_RELU);
  expect_fused (g, 0, "Conv Conv Concat Activation+relu");
  cfqp_graph_free (g);

  g = graph_new (3);
  add_act (g, "relu", 0, CFQP_ACT_RELU);
  expect_fused (g, 0, "Activation+relu");
  cfqp_graph_free (g);
}

/* --- dead code ------------------------------------------------------------- */

static void
test_dead_removed (void)
{
  g_autoptr (CfqpGraph) g = graph_new (3);
  g_autoptr (CfqpGraph) after = NULL;

  add_conv (g, "dead1", 0, 3, 4, 3, 1, 1);          /* value 1: a dead branch of two */
  add_act (g, "dead2", 1, CFQP_ACT_RELU);            /* value 2 */
  add_conv (g, "live1", 0, 3, 3, 3, 1, 1);           /* value 3 */
  add_conv (g, "dead3", 3, 3, 3, 1, 1, 1);           /* value 4: reads a live value */
  add_conv (g, "live2", 3, 3, 12, 3, 1, 1);          /* value 5 */
  add_d2s (g, 5, 2);                                 /* value 6: the output */

  after = cfqp_graph_copy (g);
  g_assert_cmpuint (cfqp_pass_remove_dead (after), ==, 3);
  expect_graph (after, "Conv Conv DepthToSpace");
  g_assert_cmpuint (after->n_values, ==, 4);
  g_assert_cmpstr (after->nodes[0].name, ==, "live1");
  g_assert_cmpstr (after->nodes[1].name, ==, "live2");
  /* values renumbered, producers follow */
  g_assert_cmpuint (after->output, ==, 3);
  for (guint i = 0; i < after->n_nodes; i++) {
    g_assert_cmpuint (after->nodes[i].output, ==, i + 1);
    g_assert_cmpuint (after->nodes[i].inputs[0], ==, i);
    g_assert_cmpint (after->values[i + 1].producer, ==, i);
    g_assert_cmpstr (after->values[i + 1].name, ==, after->nodes[i].name);
  }
  g_assert_cmpstr (after->values[0].name, ==, "in");
  expect_same_ref (g, after);
  expect_same_fp32 (g);

  /* nothing more to remove */
  g_assert_cmpuint (cfqp_pass_remove_dead (after), ==, 0);
  expect_graph (after, "Conv Conv DepthToSpace");
}

static void
test_dead_onnx (void)
{
  /* An ONNX Conv whose output no one reads: imported, then gone. */
  Net *n = net_new ();
  gint64 wd[4] = { 12, 3, 1, 1 }, dd[4] = { 5, 3, 1, 1 };
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (CfqpGraph) imported = NULL;
  g_autoptr (CfqpModel) model = NULL;
  g_autoptr (GError) error = NULL;
  gconstpointer data;
  gsize size;

  net_init (n, "w", wd, 4, own (n, ref_random_floats (rng, 36, -1, 1)), 36);
  net_init (n, "wd", dd, 4, own (n, ref_random_floats (rng, 15, -1, 1)), 15);
  net_node (n, "Conv", "x", "wd", NULL, "unused");
  net_node (n, "Relu", "unused", NULL, NULL, "unused2");
  net_node (n, "Conv", "x", "w", NULL, "c");
  attr_int (n, net_node (n, "DepthToSpace", "c", NULL, NULL, "y"), "blocksize", 2);
  bytes = net_pack (n);
  net_free (n);
  data = g_bytes_get_data (bytes, &size);
  imported = cfqp_onnx_import (data, size, &error);
  g_assert_no_error (error);
  expect_graph (imported, "Conv Activation+relu Conv DepthToSpace");
  model = cfqp_model_new_from_bytes (bytes, "dead", &error);
  g_assert_no_error (error);
  expect_graph (cfqp_model_get_graph (model), "Conv DepthToSpace");
  expect_same_fp32 (imported);
}

/* --- constant folding (the importer) ---------------------------------- */

static void
test_const_fold_chain (void)
{
  /* The conv's weight is Reshape(Mul(w, Constant 0.5), Concat(Constant 12,
   * Gather(Shape(x), 1), Constant [1, 1]) as int64) and its bias
   * Add(b, Constant 1): all folded, two IR nodes. */
  Net *n = net_new ();
  gint64 flat[1] = { 36 }, one[1] = { 1 }, two[1] = { 2 }, bd[1] = { 12 }, scalar_dims[1] = { 1 };
  const float half = 0.5f, oc = 12, idx = 1, ones[2] = { 1, 1 }, bias_add = 1;
  /* kept after the net is freed */
  g_autofree float *w = ref_random_floats (rng, 36, -1, 1), *b = ref_random_floats (rng, 12, -1, 1);
  Onnx__NodeProto *node;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (CfqpGraph) g = NULL;
  g_autoptr (GError) error = NULL;
  gconstpointer data;
  gsize size;
  guint wd = 5, ht = 3;
  g_autofree float *in = NULL;
  RefTensor out;

  net_init (n, "w", flat, 1, w, 36);
  net_init (n, "b", bd, 1, b, 12);
  attr_tensor (n, net_node (n, "Constant", NULL, NULL, NULL, "half"), "value", NULL, 0, &half, 1);
  net_node (n, "Mul", "w", "half", NULL, "w_half");
  attr_tensor (n, net_node (n, "Constant", NULL, NULL, NULL, "oc_f"), "value", one, 1, &oc, 1);
  attr_int (n, net_node (n, "Cast", "oc_f", NULL, NULL, "oc"), "to", 7);
  net_node (n, "Shape", "x", NULL, NULL, "x_shape");
  attr_tensor (n, net_node (n, "Constant", NULL, NULL, NULL, "idx_f"), "value", scalar_dims, 1,
      &idx, 1);
  attr_int (n, net_node (n, "Cast", "idx_f", NULL, NULL, "idx"), "to", 7);
  attr_int (n, net_node (n, "Gather", "x_shape", "idx", NULL, "ic"), "axis", 0);
  attr_tensor (n, net_node (n, "Constant", NULL, NULL, NULL, "kk_f"), "value", two, 1, ones, 2);
  attr_int (n, net_node (n, "Cast", "kk_f", NULL, NULL, "kk"), "to", 7);
  node = net_node (n, "Concat", "oc", "ic", "kk", "w_shape");
  attr_int (n, node, "axis", 0);
  net_node (n, "Reshape", "w_half", "w_shape", NULL, "w4");
  attr_tensor (n, net_node (n, "Constant", NULL, NULL, NULL, "one"), "value", NULL, 0, &bias_add, 1);
  net_node (n, "Add", "b", "one", NULL, "b1");
  net_node (n, "Conv", "x", "w4", "b1", "c");
  attr_int (n, net_node (n, "DepthToSpace", "c", NULL, NULL, "y"), "blocksize", 2);
  g_assert_cmpuint (n->nodes->len, ==, 16);
  bytes = net_pack (n);
  net_free (n);

  data = g_bytes_get_data (bytes, &size);
  g = cfqp_onnx_import (data, size, &error);
  g_assert_no_error (error);
  expect_graph (g, "Conv DepthToSpace");
  g_assert_cmpuint (g->n_values, ==, 3);
  g_assert_cmpuint (g->nodes[0].p.conv.in_channels, ==, 3);
  g_assert_cmpuint (g->nodes[0].p.conv.out_channels, ==, 12);
  g_assert_cmpuint (g->nodes[0].p.conv.kernel_h, ==, 1);
  for (guint i = 0; i < 36; i++)
    g_assert_cmpfloat (g->nodes[0].p.conv.weight[i], ==, w[i] * 0.5f);
  for (guint i = 0; i < 12; i++)
    g_assert_cmpfloat (g->nodes[0].p.conv.bias[i], ==, b[i] + 1);

  /* The output, by hand: a 1×1 conv, then DCR depth-to-space. */
  in = ref_random_floats (rng, 3 * wd * ht, 0, 1);
  out = ref_run (g, in, wd, ht);
  for (guint o = 0; o < 12; o++)
    for (guint y = 0; y < ht; y++)
      for (guint x = 0; x < wd; x++) {
        double want = b[o] + 1.0f;
        for (guint c = 0; c < 3; c++)
          want += (double) (w[o * 3 + c] * 0.5f) * in[(c * ht + y) * wd + x];
        /* DCR: channel o = (i·2 + j)·3 + c */
        g_assert_cmpfloat (fabs (*ref_at (&out, o % 3, 2 * y + o / 6, 2 * x + o / 3 % 2) - want),
            <, 1e-9);
      }
  g_free (out.data);
  expect_same_fp32 (g);
}

static void
test_const_fold_quicksrnet (void)
{
  /* quicksrnet-x4-luma: the exporter's Shape → Gather → Unsqueeze → Concat
   * → Cast → Expand chain (a channel repeat of the input) is seen through:
   * one TileChannels where the file has 17 shape and constant nodes. */
  g_autoptr (CfqpGraph) g = import_file ("quicksrnet-x4-luma-op13.onnx");
  g_autoptr (CfqpGraph) after = NULL;

  expect_graph (g, "TileChannels Conv Activation+relu Conv Activation+relu Conv Activation+relu "
      "Conv Binary DepthToSpace Activation+relu");
  after = cfqp_graph_copy (g);
  cfqp_passes_optimise (after);
  /* (the last ReLU, after the shuffle, goes into the residual add) */
  expect_graph (after, "TileChannels Conv+relu Conv+relu Conv+relu Conv Binary+relu DepthToSpace");
  expect_same_ref (g, after);
  expect_same_fp32 (g);
  expect_pytorch_output ("quicksrnet-x4-luma-op13.onnx", "quicksrnet-x4-luma", 12, 12, 4);
}

static void
test_const_not_folded (void)
{
  /* A Mul of the activation by a constant stays a node; the constant is
   * folded into it (Constant 3 · Constant 0.5). */
  Net *n = net_new ();
  gint64 wd[4] = { 12, 3, 1, 1 };
  const float three = 3, half = 0.5f;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (CfqpGraph) g = NULL;
  g_autoptr (GError) error = NULL;
  gconstpointer data;
  gsize size;

  net_init (n, "w", wd, 4, own (n, ref_random_floats (rng, 36, -1, 1)), 36);
  net_node (n, "Conv", "x", "w", NULL, "c");
  attr_tensor (n, net_node (n, "Constant", NULL, NULL, NULL, "three"), "value", NULL, 0, &three, 1);
  attr_tensor (n, net_node (n, "Constant", NULL, NULL, NULL, "half"), "value", NULL, 0, &half, 1);
  net_node (n, "Mul", "three", "half", NULL, "k");
  net_node (n, "Mul", "c", "k", NULL, "ck");
  attr_int (n, net_node (n, "DepthToSpace", "ck", NULL, NULL, "y"), "blocksize", 2);
  bytes = net_pack (n);
  net_free (n);
  data = g_bytes_get_data (bytes, &size);
  g = cfqp_onnx_import (data, size, &error);
  g_assert_no_error (error);
  expect_graph (g, "Conv Binary DepthToSpace");
  g_assert_cmpuint (g->nodes[1].p.binary.kind, ==, CFQP_BINARY_MUL);
  g_assert_cmpuint (g->nodes[1].p.binary.n_constant, ==, 1);
  g_assert_cmpfloat (g->nodes[1].p.binary.constant[0], ==, 1.5f);
  expect_same_fp32 (g);
}

int
main (int argc, char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  rng = g_rand_new_with_seed (2024);
  g_test_add_func ("/passes/norm/sub-div", test_norm_sub_div);
  g_test_add_func ("/passes/norm/mul-add", test_norm_mul_add);
  g_test_add_func ("/passes/norm/pad-value-int8", test_norm_pad_int8);
  g_test_add_func ("/passes/norm/constant-first-sub", test_norm_constant_first_sub);
  g_test_add_func ("/passes/norm/strided", test_norm_strided);
  g_test_add_func ("/passes/norm/not-folded", test_norm_not_folded);
  g_test_add_func ("/passes/norm/espcn", test_norm_espcn);
  g_test_add_func ("/passes/fuse/conv-act", test_fuse_conv_act);
  g_test_add_func ("/passes/fuse/more", test_fuse_more);
  g_test_add_func ("/passes/fuse/not-applied", test_fuse_not_applied);
  g_test_add_func ("/passes/dead/removed", test_dead_removed);
  g_test_add_func ("/passes/dead/onnx", test_dead_onnx);
  g_test_add_func ("/passes/const/chain", test_const_fold_chain);
  g_test_add_func ("/passes/const/quicksrnet", test_const_fold_quicksrnet);
  g_test_add_func ("/passes/const/not-folded", test_const_not_folded);
  ret = g_test_run ();
  g_rand_free (rng);
  return ret;
}
