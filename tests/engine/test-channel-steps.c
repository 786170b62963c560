/* Per-channel activation steps (engine/cfqp-channel-steps.c): which tensors
 * may take them, that folding them keeps the FP32 function, that a narrow
 * channel on its own step is carried exactly, and what is refused. */
#include "cfqp-model-private.h"
#include "minmax-qparams.h"
#include "onnx-net.h"
#include "ref-f64.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

static guint
tensor_named (CfqpModel *model, const char *name)
{
  for (guint v = 0; v < cfqp_model_get_n_tensors (model); v++)
    if (g_str_equal (cfqp_model_get_tensor_name (model, v), name))
      return v;
  g_error ("no tensor '%s'", name);
}

/* x → conv h1, ReLU → grouped conv h2, PReLU per channel → conv h3,
 * LeakyReLU → conv h4, Clip(0, 0.75) → conv r; y = depth-to-space of
 * r + x four times.  Biases everywhere.  (A fused activation's tensor keeps
 * its conv's name.) */
static CfqpModel *
chain_model (void)
{
  Net *n = net_new ();
  g_autoptr (GRand) rng = g_rand_new_with_seed (11);
  gint64 w1[4] = { 8, 3, 3, 3 }, w2[4] = { 8, 4, 3, 3 }, w3[4] = { 8, 8, 1, 1 },
      w4[4] = { 8, 8, 3, 3 }, wr[4] = { 12, 8, 3, 3 }, b8[1] = { 8 }, b12[1] = { 12 },
      sl[3] = { 8, 1, 1 };
  g_autoptr (GError) error = NULL;
  CfqpModel *model;
  Onnx__NodeProto *node;
  float *w1v = own (n, ref_random_floats (rng, 216, -1, 1));

  /* unequal channel ranges: output channel k of the first conv scaled by 2^-k/2 */
  for (guint k = 0; k < 8; k++)
    for (guint t = 0; t < 27; t++)
      w1v[k * 27 + t] *= ldexpf (1.f, -(gint) k / 2);
  net_init (n, "w1", w1, 4, w1v, 216);
  net_init (n, "b1", b8, 1, own (n, ref_random_floats (rng, 8, -0.1f, 0.1f)), 8);
  net_init (n, "w2", w2, 4, own (n, ref_random_floats (rng, 288, -0.3f, 0.3f)), 288);
  net_init (n, "b2", b8, 1, own (n, ref_random_floats (rng, 8, -0.1f, 0.1f)), 8);
  net_init (n, "slope", sl, 3, own (n, ref_random_floats (rng, 8, 0.05f, 0.5f)), 8);
  net_init (n, "w3", w3, 4, own (n, ref_random_floats (rng, 64, -0.5f, 0.5f)), 64);
  net_init (n, "b3", b8, 1, own (n, ref_random_floats (rng, 8, -0.1f, 0.1f)), 8);
  net_init (n, "w4", w4, 4, own (n, ref_random_floats (rng, 576, -0.2f, 0.2f)), 576);
  net_init (n, "b4", b8, 1, own (n, ref_random_floats (rng, 8, 0.f, 0.2f)), 8);
  net_init (n, "wr", wr, 4, own (n, ref_random_floats (rng, 864, -0.05f, 0.05f)), 864);
  net_init (n, "br", b12, 1, own (n, ref_random_floats (rng, 12, -0.02f, 0.02f)), 12);
  node = net_node (n, "Conv", "x", "w1", "b1", "h1");
  attr_ints (n, node, "pads", (gint64[]) { 1, 1, 1, 1 }, 4);
  net_node (n, "Relu", "h1", NULL, NULL, "a");
  node = net_node (n, "Conv", "a", "w2", "b2", "h2");
  attr_ints (n, node, "pads", (gint64[]) { 1, 1, 1, 1 }, 4);
  attr_int (n, node, "group", 2);
  net_node (n, "PRelu", "h2", "slope", NULL, "b");
  net_node (n, "Conv", "b", "w3", "b3", "h3");
  attr_float (n, net_node (n, "LeakyRelu", "h3", NULL, NULL, "c"), "alpha", 0.1f);
  node = net_node (n, "Conv", "c", "w4", "b4", "h4");
  attr_ints (n, node, "pads", (gint64[]) { 1, 1, 1, 1 }, 4);
  node = net_node (n, "Clip", "h4", NULL, NULL, "d");
  attr_float (n, node, "min", 0.f);
  attr_float (n, node, "max", 0.75f);
  node = net_node (n, "Conv", "d", "wr", "br", "r");
  attr_ints (n, node, "pads", (gint64[]) { 1, 1, 1, 1 }, 4);
  node = net_node (n, "Concat", "x", "x", "x", "anchor");
  node->n_input = 4;
  node->input = own (n, g_new (char *, 4));
  for (guint i = 0; i < 4; i++)
    node->input[i] = own_str (n, "x");
  attr_int (n, node, "axis", 1);
  net_node (n, "Add", "r", "anchor", NULL, "s");
  attr_int (n, net_node (n, "DepthToSpace", "s", NULL, NULL, "y"), "blocksize", 2);
  model = net_import (n, &error);
  g_assert_no_error (error);
  return model;
}

static char *
allowed_names (CfqpModel *model)
{
  guint nt = cfqp_model_get_n_tensors (model);
  g_autofree gboolean *allowed = g_new (gboolean, nt);
  GString *s = g_string_new ("");

  cfqp_model_find_channel_step_tensors (model, allowed);
  for (guint v = 0; v < nt; v++)
    if (allowed[v])
      g_string_append_printf (s, "%s%s", s->len ? " " : "", cfqp_model_get_tensor_name (model, v));
  return g_string_free (s, FALSE);
}

/* Conv outputs with ReLU, PReLU, LeakyReLU that only convs read; not the
 * clipped one (its bounds are one per tensor), nor the residual an Add
 * reads, nor the input or the output. */
static void
test_allowed (void)
{
  g_autoptr (CfqpModel) model = chain_model ();
  g_autofree char *names = allowed_names (model);

  g_test_message ("allowed: %s", names);
  g_assert_cmpstr (names, ==, "h1 h2 h3");
}

static float *
random_input (guint w, guint h, guint32 seed)
{
  g_autoptr (GRand) rng = g_rand_new_with_seed (seed);
  float *x = g_new (float, 3 * w * h);

  for (guint e = 0; e < 3 * w * h; e++)
    x[e] = (float) g_rand_int_range (rng, 0, 256) / 255.f;
  return x;
}

static float *
run (CfqpModel *model, const CfqpRunnerOptions *o, const float *x, guint w, guint h)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CfqpRunner) r = cfqp_runner_new (model, o, &error);
  float *y = g_new (float, 12 * w * h);

  g_assert_no_error (error);
  g_assert_true (cfqp_runner_run_f32 (r, x, w, h, y, &error));
  g_assert_no_error (error);
  return y;
}

/* Steps of every allowed tensor: 2^(−k/2) for channel k, as the chain's
 * first conv scales its channels, and odd ones elsewhere. */
static void
chain_steps (CfqpModel *model, CfqpChannelSteps *steps, float *values)
{
  const char *names[] = { "h1", "h2", "h3" };

  for (guint i = 0; i < 3; i++) {
    float *f = values + i * 8;
    for (guint k = 0; k < 8; k++)
      f[k] = i == 0 ? ldexpf (1.f, -(gint) k / 2) : (float) (0.3 + 0.37 * k);
    steps[i] = (CfqpChannelSteps) { tensor_named (model, names[i]), 8, f };
  }
}

/* The model with steps folded in computes what the model does in FP32
 * (weights and biases of the producer divided per output channel, the
 * readers' input channels multiplied, through groups and PReLU slopes). */
static void
test_same_function (void)
{
  g_autoptr (CfqpModel) model = chain_model ();
  g_autoptr (CfqpModel) folded = NULL;
  g_autoptr (GError) error = NULL;
  CfqpRunnerOptions o = CFQP_RUNNER_OPTIONS_INIT;
  CfqpChannelSteps steps[3];
  float values[24];
  guint w = 23, h = 11;
  g_autofree float *x = random_input (w, h, 3);
  g_autofree float *y0 = NULL, *y1 = NULL;
  double worst = 0;

  chain_steps (model, steps, values);
  folded = cfqp_model_new_with_channel_steps (model, steps, 3, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (cfqp_model_get_hash (folded), ==, cfqp_model_get_hash (model));
  o.n_threads = 1;
  y0 = run (model, &o, x, w, h);
  y1 = run (folded, &o, x, w, h);
  for (gsize e = 0; e < (gsize) 12 * w * h; e++)
    worst = MAX (worst, fabs (y0[e] - y1[e]));
  g_test_message ("FP32, folded against as given: max |Δ| %.3g", worst);
  g_assert_cmpfloat (worst, <, 1e-5);
}

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

/* Per channel maxima of h1..h3 over x: steps that give every channel the
 * widest one's range. */
typedef struct {
  guint t[3];
  float hi[3][8];
} ChannelMax;

static void
watch_channels (guint t, const float *d, guint c, guint h, guint w, gpointer user_data)
{
  ChannelMax *m = user_data;

  for (guint i = 0; i < 3; i++)
    if (m->t[i] == t)
      for (guint k = 0; k < c; k++)
        for (gsize e = 0; e < (gsize) h * w; e++)
          m->hi[i][k] = MAX (m->hi[i][k], d[k * h * w + e]);
}

static void
range_steps (CfqpModel *model, const float *x, guint w, guint h, CfqpChannelSteps *steps,
             float *values)
{
  ChannelMax m = { { tensor_named (model, "h1"), tensor_named (model, "h2"),
      tensor_named (model, "h3") } };
  g_autoptr (GError) error = NULL;

  g_assert_true (cfqp_model_observe_f32 (model, x, w, h, NULL, watch_channels, &m, &error));
  for (guint i = 0; i < 3; i++) {
    float top = 0;
    for (guint k = 0; k < 8; k++)
      top = MAX (top, m.hi[i][k]);
    for (guint k = 0; k < 8; k++)
      values[i * 8 + k] = MAX (m.hi[i][k] / top, 1.f / 16);
    steps[i] = (CfqpChannelSteps) { m.t[i], 8, values + i * 8 };
  }
}

/* INT8 with the steps: the same bytes as the folded model's INT8 with its
 * own table (the steps live only in the convs); steps of 1 change nothing;
 * the unequal channels of a gain on their own steps; every backend agrees,
 * and a runner takes steps on and off between frames. */
static void
test_int8 (void)
{
  g_autoptr (CfqpModel) model = chain_model ();
  g_autoptr (CfqpModel) folded = NULL;
  g_autoptr (GError) error = NULL;
  CfqpRunnerOptions o = CFQP_RUNNER_OPTIONS_INIT;
  CfqpChannelSteps steps[3], ones[3];
  float values[24], one[24];
  guint w = 37, h = 13;
  gsize n = (gsize) 12 * w * h;
  g_autofree float *x = random_input (w, h, 9);
  g_autofree CfqpQParams *table = NULL, *folded_table = NULL;
  g_autofree float *fp32 = NULL, *plain = NULL, *stepped = NULL, *via_copy = NULL,
      *unit = NULL, *cpu = NULL, *swapped = NULL, *back = NULL;
  g_autoptr (CfqpRunner) r = NULL;
  double p_plain, p_stepped;

  range_steps (model, x, w, h, steps, values);
  for (guint i = 0; i < 24; i++)
    one[i] = 1.f;
  for (guint i = 0; i < 3; i++)
    ones[i] = (CfqpChannelSteps) { steps[i].tensor, 8, one + 8 * i };
  folded = cfqp_model_new_with_channel_steps (model, steps, 3, &error);
  g_assert_no_error (error);
  /* one grid per tensor from x's min/max, of the model and of its folded copy */
  table = minmax_qparams_observe (model, x, w, h, NULL, &error);
  folded_table = minmax_qparams_observe (folded, x, w, h, NULL, &error);
  g_assert_no_error (error);
  o.n_threads = 1;
  fp32 = run (model, &o, x, w, h);
  o.precision = CFQP_PRECISION_INT8;
  o.backend = CFQP_BACKEND_REF;
  o.qparams = table;
  plain = run (model, &o, x, w, h);
  o.channel_steps = ones;
  o.n_channel_steps = 3;
  unit = run (model, &o, x, w, h);
  g_assert_cmpmem (plain, n * sizeof (float), unit, n * sizeof (float));
  o.qparams = folded_table;
  o.channel_steps = steps;
  stepped = run (model, &o, x, w, h);
  o.backend = CFQP_BACKEND_CPU;
  cpu = run (model, &o, x, w, h);
  g_assert_cmpmem (stepped, n * sizeof (float), cpu, n * sizeof (float));
  o.backend = CFQP_BACKEND_REF;
  o.channel_steps = NULL;
  o.n_channel_steps = 0;
  via_copy = run (folded, &o, x, w, h);
  g_assert_cmpmem (stepped, n * sizeof (float), via_copy, n * sizeof (float));
  p_plain = psnr (fp32, plain, n);
  p_stepped = psnr (fp32, stepped, n);
  g_test_message ("PSNR(INT8, FP32): one grid per tensor %.2f dB, per channel %.2f dB",
      p_plain, p_stepped);
  g_assert_cmpfloat (p_stepped, >, p_plain);

  /* between frames: steps on, then off again */
  o.qparams = table;
  r = cfqp_runner_new (model, &o, &error);
  g_assert_no_error (error);
  g_assert_true (cfqp_runner_set_quantisation (r, &(CfqpQuantisation) { folded_table, NULL, 0,
      steps, 3 }, &error));
  g_assert_no_error (error);
  swapped = g_new (float, n);
  g_assert_true (cfqp_runner_run_f32 (r, x, w, h, swapped, &error));
  g_assert_cmpmem (stepped, n * sizeof (float), swapped, n * sizeof (float));
  g_assert_true (cfqp_runner_set_qparams (r, table, &error));
  back = g_new (float, n);
  g_assert_true (cfqp_runner_run_f32 (r, x, w, h, back, &error));
  g_assert_cmpmem (plain, n * sizeof (float), back, n * sizeof (float));

  /* the QDQ export writes the steps folded: re-imported, it runs the same
   * bytes on its own parameters */
  {
    g_autofree char *dir = g_dir_make_tmp ("cfqp-steps-XXXXXX", &error);
    g_autofree char *path = g_build_filename (dir, "q.onnx", NULL);
    g_autoptr (CfqpModel) q = NULL;
    g_autofree float *again = NULL;
    CfqpRunnerOptions oq = CFQP_RUNNER_OPTIONS_INIT;

    g_assert_true (cfqp_model_export_qdq_full (model, &(CfqpQuantisation) { folded_table, NULL,
        0, steps, 3 }, path, &error));
    g_assert_no_error (error);
    q = cfqp_model_new_from_file (path, &error);
    g_assert_no_error (error);
    oq.precision = CFQP_PRECISION_INT8;
    oq.backend = CFQP_BACKEND_REF;
    oq.n_threads = 1;
    oq.qparams = cfqp_model_get_embedded_qparams (q);
    again = run (q, &oq, x, w, h);
    g_assert_cmpmem (stepped, n * sizeof (float), again, n * sizeof (float));
    g_unlink (path);
    g_rmdir (dir);
  }
}

/* x → conv (3 → 6, 1×1, ReLU): channel 2c is x_c, 2c + 1 is x_c / 4 → conv
 * (6 → 12, 1×1): output 4c + i is 0.5 · t_2c + 2 · t_2c+1 = x_c → depth-to-space:
 * y is x, nearest-upscaled.  On one pixel grid for t, the quarter channels
 * hold x / 4 rounded to a quarter of the pixel step, and y misses x; with
 * steps of 1/4 on them they hold x exactly, and so does y, every byte, for
 * every level (every tap and multiplier of the folded convs is exact). */
static void
test_quarter_channel_exact (void)
{
  Net *net = net_new ();
  gint64 wa[4] = { 6, 3, 1, 1 }, wb[4] = { 12, 6, 1, 1 };
  float *a = own (net, g_new0 (float, 18)), *b = own (net, g_new0 (float, 72));
  g_autoptr (CfqpModel) model = NULL;
  g_autoptr (GError) error = NULL;
  CfqpRunnerOptions o = CFQP_RUNNER_OPTIONS_INIT;
  float quarter[6] = { 1.f, 0.25f, 1.f, 0.25f, 1.f, 0.25f };
  CfqpChannelSteps steps;
  guint w = 16, h = 16, nt, misses = 0;
  g_autofree float *x = g_new (float, 3 * w * h);
  g_autofree CfqpQParams *table = NULL;
  static const CfqpBackendKind backends[] = { CFQP_BACKEND_REF, CFQP_BACKEND_CPU };

  for (guint c = 0; c < 3; c++) {
    a[(2 * c) * 3 + c] = 1.f;
    a[(2 * c + 1) * 3 + c] = 0.25f;
    for (guint i = 0; i < 4; i++) {
      b[(4 * c + i) * 6 + 2 * c] = 0.5f;
      b[(4 * c + i) * 6 + 2 * c + 1] = 2.f;
    }
  }
  net_init (net, "wa", wa, 4, a, 18);
  net_init (net, "wb", wb, 4, b, 72);
  net_node (net, "Conv", "x", "wa", NULL, "h");
  net_node (net, "Relu", "h", NULL, NULL, "t");
  net_node (net, "Conv", "t", "wb", NULL, "u");
  attr_int (net, net_node (net, "DepthToSpace", "u", NULL, NULL, "y"), "blocksize", 2);
  model = net_import (net, &error);
  g_assert_no_error (error);
  for (guint e = 0; e < 3 * w * h; e++)
    x[e] = (float) ((e * 7) % 256) / 255.f;   /* every level, in each channel */
  nt = cfqp_model_get_n_tensors (model);
  table = g_new (CfqpQParams, nt);
  for (guint v = 0; v < nt; v++)
    table[v] = (CfqpQParams) { 1.f / 255.f, 0 };
  steps = (CfqpChannelSteps) { tensor_named (model, "h"), 6, quarter };
  o.precision = CFQP_PRECISION_INT8;
  o.qparams = table;
  o.n_threads = 1;
  for (guint k = 0; k < G_N_ELEMENTS (backends); k++) {
    g_autofree float *y = NULL;

    o.backend = backends[k];
    o.channel_steps = &steps;
    o.n_channel_steps = 1;
    y = run (model, &o, x, w, h);
    for (guint c = 0; c < 3; c++)
      for (guint yy = 0; yy < 2 * h; yy++)
        for (guint xx = 0; xx < 2 * w; xx++)
          g_assert_cmpint (lroundf (y[(c * 2 * h + yy) * 2 * w + xx] * 255.f), ==,
              lroundf (x[(c * h + yy / 2) * w + xx / 2] * 255.f));
  }
  {
    g_autofree float *y = NULL;

    o.backend = CFQP_BACKEND_REF;
    o.channel_steps = NULL;
    o.n_channel_steps = 0;
    y = run (model, &o, x, w, h);
    for (guint c = 0; c < 3; c++)
      for (guint e = 0; e < w * h; e++) {
        guint yy = e / w, xx = e % w;
        misses += lroundf (y[(c * 2 * h + 2 * yy) * 2 * w + 2 * xx] * 255.f) !=
            lroundf (x[c * w * h + e] * 255.f);
      }
  }
  g_test_message ("one grid for t: %u of %u bytes miss x", misses, 3 * w * h);
  g_assert_cmpuint (misses, >, 0);
}

/* Refused with the tensor named: tensors that cannot take steps, steps
 * given twice, a count that is not the channels', steps out of range. */
static void
test_refused (void)
{
  g_autoptr (CfqpModel) model = chain_model ();
  guint nt = cfqp_model_get_n_tensors (model);
  g_autofree CfqpQParams *table = g_new (CfqpQParams, nt);
  float ok[8] = { 1, 1, 1, 1, 1, 1, 1, 1 };
  float zero[8] = { 1, 1, 0, 1, 1, 1, 1, 1 }, tiny[8] = { 1, 1, 1, 1, 1, 1, 1, 0.003f };
  float huge[8] = { 300, 1, 1, 1, 1, 1, 1, 1 }, nan[8] = { 1, NAN, 1, 1, 1, 1, 1, 1 };
  guint a = tensor_named (model, "h1");
  const struct {
    CfqpChannelSteps s[2];
    guint n;
    const char *msg;
  } cases[] = {
    { { { 0, 3, ok } }, 1, "only a tensor that a Conv computes" },
    { { { cfqp_model_get_output_tensor (model), 3, ok } }, 1, "only a tensor" },
    { { { tensor_named (model, "h4"), 8, ok } }, 1, "('h4')" },
    { { { tensor_named (model, "r"), 12, ok } }, 1, "('r')" },
    { { { nt, 8, ok } }, 1, "channel steps for tensor" },
    { { { a, 8, ok }, { a, 8, ok } }, 2, "given twice" },
    { { { a, 7, ok } }, 1, "7 given, it has 8 channels" },
    { { { a, 8, NULL } }, 1, "0 given" },
    { { { a, 8, zero } }, 1, "channel 2 has 0" },
    { { { a, 8, tiny } }, 1, "channel 7 has 0.003" },
    { { { a, 8, huge } }, 1, "channel 0 has 300" },
    { { { a, 8, nan } }, 1, "channel 1 has nan" },
  };

  for (guint v = 0; v < nt; v++)
    table[v] = (CfqpQParams) { 0.01f, 10 };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (CfqpRunner) r = NULL;
    CfqpRunnerOptions o = CFQP_RUNNER_OPTIONS_INIT;

    g_assert_false (cfqp_model_check_channel_steps (model, cases[i].s, cases[i].n, &error));
    g_assert_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID);
    g_test_message ("%s", error->message);
    g_assert_nonnull (strstr (error->message, cases[i].msg));
    g_clear_error (&error);
    g_assert_null (cfqp_model_new_with_channel_steps (model, cases[i].s, cases[i].n, &error));
    g_assert_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID);
    g_clear_error (&error);
    o.precision = CFQP_PRECISION_INT8;
    o.qparams = table;
    o.channel_steps = cases[i].s;
    o.n_channel_steps = cases[i].n;
    r = cfqp_runner_new (model, &o, &error);
    g_assert_null (r);
    g_assert_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/channel-steps/allowed", test_allowed);
  g_test_add_func ("/channel-steps/same-function", test_same_function);
  g_test_add_func ("/channel-steps/int8", test_int8);
  g_test_add_func ("/channel-steps/quarter-channel-exact", test_quarter_channel_exact);
  g_test_add_func ("/channel-steps/refused", test_refused);
  return g_test_run ();
}
