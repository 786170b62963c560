/* INT16 (16-bit activations, int16 taps): the grids it derives from an
 * INT8 table, the bytes it reads and writes, its program's bounds, the cpu
 * set's conv against ref's, and the runner on the shipped anchorless nets
 * with their shipped calibrations on a photo crop, against INT8 and FP32.
 * The ops themselves are test-int8's /int8/op-16bit/ cases. */
#include "cfqp-calib.h"
#include "cfqp-int8-cpu-config.h"
#include "cfqp-int8-cpu.h"
#include "cfqp-int8-exec.h"
#include "cfqp-int8.h"
#include "cfqp-model-private.h"
#include "minmax-qparams.h"
#include "test-models.h"
#include "test-png.h"

#include <math.h>
#include <string.h>

/* Every byte survives the trip onto the 16-bit pixel grid and back, every
 * level rounds to its nearest byte, ties up (64·b + 32), and the levels
 * beyond 255.5 bytes (the grid reaches 4.02) saturate. */
static void
test_bytes (void)
{
  for (guint b = 0; b < 256; b++)
    g_assert_cmpuint (cfqp_int16_to_byte ((guint16) (b * CFQP_INT16_STEPS_PER_U8)), ==, b);
  for (guint q = 0; q < 65536; q++) {
    double exact = q / 64.0;
    guint want = exact >= 255.5 ? 255 : (guint) floor (exact + 0.5);
    g_assert_cmpuint (cfqp_int16_to_byte ((guint16) q), ==, want);
  }
  g_assert_cmpuint (cfqp_int16_to_byte (64 * 7 + 32), ==, 8);
  g_assert_cmpuint (cfqp_int16_to_byte (64 * 7 + 31), ==, 7);
}

/* The same zero as the 8-bit grid, 64 times finer steps: the range grows
 * by 65535 / (64·255) on both sides. */
static void
test_grid (void)
{
  static const CfqpQParams grids[] = { { 1.f / 255.f, 0 }, { 0.0123f, 17 }, { 0.5f, 255 } };
  const double grow = 65535.0 / (64 * 255);

  for (guint i = 0; i < G_N_ELEMENTS (grids); i++) {
    CfqpQParams u8 = grids[i], w = cfqp_int16_grid (u8);
    double lo8 = -u8.zero_point * (double) u8.scale, hi8 = (255 - u8.zero_point) * (double) u8.scale;
    double lo16 = -w.zero_point * (double) w.scale, hi16 = (65535 - w.zero_point) * (double) w.scale;

    g_assert_cmpint (w.zero_point, ==, u8.zero_point * 64);
    g_assert_cmpfloat (fabs (w.scale * 64.0 - u8.scale), <=, 1e-7 * u8.scale);
    g_assert_cmpfloat (fabs (lo16 - lo8), <=, 1e-6 * MAX (1.0, fabs (lo8)));
    /* above: the 8-bit top plus 4.02 − 1 ranges more */
    g_assert_cmpfloat (fabs (hi16 - (hi8 + (grow - 1) * 255 * u8.scale)), <=, 1e-5 * hi16);
  }
}

/* The 128-bit product rounds as the 64-bit one: where both fit they agree;
 * beyond int64 exact ties go away from zero on both sides; ±2^62 caps. */
static void
test_requant_wide (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (16);
  const CfqpRequant half = { 1 << 30, 31 };          /* ×0.5 */
  const CfqpRequant one = { 1 << 30, 30 };           /* ×1 */
  const gint64 big = (gint64) 1 << 45;

  for (guint i = 0; i < 100000; i++) {
    CfqpRequant rq = { (gint32) g_rand_int_range (rand, -(1 << 30), 1 << 30),
                       (guint8) g_rand_int_range (rand, 1, 63) };
    gint64 acc = (gint64) g_rand_int (rand) - G_MAXINT32 / 2;
    g_assert_cmpint (cfqp_requant_wide (acc, rq), ==, cfqp_requant (acc, rq));
  }
  /* (2^45 + 1)·2^30 needs 76 bits; ×0.5 of an odd value is a tie */
  g_assert_cmpint (cfqp_requant_wide (big + 1, half), ==, big / 2 + 1);
  g_assert_cmpint (cfqp_requant_wide (-(big + 1), half), ==, -(big / 2 + 1));
  g_assert_cmpint (cfqp_requant_wide (big - 1, half), ==, big / 2);
  g_assert_cmpint (cfqp_requant_wide (-(big - 1), half), ==, -(big / 2));
  g_assert_cmpint (cfqp_requant_wide (3, half), ==, 2);
  g_assert_cmpint (cfqp_requant_wide (-3, half), ==, -2);
  g_assert_cmpint (cfqp_requant_wide (big * 1024, one), ==, big * 1024);
  g_assert_cmpint (cfqp_requant_wide (G_MAXINT64, one), ==, (gint64) 1 << 62);
  g_assert_cmpint (cfqp_requant_wide (G_MININT64 + 1, one), ==, -((gint64) 1 << 62));

  /* the form for targets without a 128-bit type gives the same values:
   * random accumulators of every size, multipliers of both signs, every
   * shift, exact ties and the saturation */
  for (guint i = 0; i < 1000000; i++) {
    CfqpRequant rq = { (gint32) g_rand_int_range (rand, G_MININT32 + 1, G_MAXINT32),
                       (guint8) g_rand_int_range (rand, 1, 63) };
    guint bits = g_rand_int_range (rand, 0, 64);
    gint64 acc = (gint64) (((guint64) g_rand_int (rand) << 32 | g_rand_int (rand)) >> (64 - MAX (bits, 1)));

    if (i % 3 == 0)
      acc = -acc;
    if (i % 7 == 0)      /* a tie: acc·m an odd multiple of 2^(shift-1) */
      acc = ((gint64) 1 << MIN (rq.shift - 1, 30)) | 1, rq.m = 1 << MIN (rq.shift - 1, 30);
    g_assert_cmpint (cfqp_requant_wide_portable (acc, rq), ==, cfqp_requant_wide (acc, rq));
  }
  g_assert_cmpint (cfqp_requant_wide_portable (big + 1, half), ==, big / 2 + 1);
  g_assert_cmpint (cfqp_requant_wide_portable (-(big + 1), half), ==, -(big / 2 + 1));
  g_assert_cmpint (cfqp_requant_wide_portable (G_MAXINT64, one), ==, (gint64) 1 << 62);
  g_assert_cmpint (cfqp_requant_wide_portable (G_MININT64 + 1, one), ==, -((gint64) 1 << 62));
  g_assert_cmpint (cfqp_requant_wide_portable (0, one), ==, 0);
}

static CfqpModel *
abpn_model (void)
{
  g_autoptr (GError) error = NULL;
  CfqpModel *model = cfqp_model_new_from_graph (test_model_abpn (3, 8, 2, 2, 5), "abpn", &error);

  g_assert_no_error (error);
  return model;
}

static CfqpQParams *
abpn_table (CfqpModel *model)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GRand) rand = g_rand_new_with_seed (9);
  guint w = 13, h = 9;
  g_autofree float *in = g_new (float, 3 * w * h), *out = g_new (float, 3 * 4 * w * h);
  CfqpQParams *qp;

  for (guint e = 0; e < 3 * w * h; e++)
    in[e] = (float) g_rand_int_range (rand, 0, 256) / 255.f;
  qp = minmax_qparams_observe (model, in, w, h, out, &error);
  g_assert_no_error (error);
  return qp;
}

/* A 16-bit program is the 8-bit one's with every grid spread and every
 * bound on 65535: the pixel grid at both ends, ReLU's bound at the zero
 * point, pads on the input's levels. */
static void
test_program (void)
{
  g_autoptr (CfqpModel) model = abpn_model ();
  g_autofree CfqpQParams *qp = abpn_table (model);
  const CfqpGraph *g = cfqp_model_get_graph (model);
  CfqpQuantisation q = { qp };
  g_autoptr (GError) error = NULL;
  CfqpInt8Program *p8 = cfqp_int8_program_new_bits (g, &q, 8, &error);
  CfqpInt8Program *p16 = cfqp_int8_program_new_bits (g, &q, 16, &error);
  guint n_conv = 0;

  g_assert_no_error (error);
  g_assert_cmpuint (p8->bits, ==, 8);
  g_assert_cmpuint (p16->bits, ==, 16);
  for (guint v = 0; v < g->n_values; v++) {
    CfqpQParams want = cfqp_int16_grid (p8->qparams[v]);
    g_assert_cmpfloat (p16->qparams[v].scale, ==, want.scale);
    g_assert_cmpint (p16->qparams[v].zero_point, ==, want.zero_point);
  }
  g_assert_cmpint (p16->qparams[0].zero_point, ==, 0);
  g_assert_cmpfloat (p16->qparams[0].scale, ==, cfqp_int16_grid (cfqp_int8_pixel_grid ()).scale);
  g_assert_cmpfloat (p16->qparams[g->output].scale, ==, p16->qparams[0].scale);
  for (guint i = 0; i < g->n_nodes; i++) {
    const CfqpNode *node = &g->nodes[i];
    const CfqpInt8Node *a = &p8->nodes[i], *b = &p16->nodes[i];

    g_assert_cmpint (b->hi, ==, a->hi == 255 ? 65535 : a->hi * 64);
    g_assert_cmpint (b->lo, ==, a->lo * 64);
    if (node->act.kind == CFQP_ACT_RELU)
      g_assert_cmpint (b->lo, ==, b->z_out);
    if (node->op != CFQP_OP_CONV)
      continue;
    n_conv++;
    g_assert_null (b->pad);
    g_assert_null (b->weight);
    g_assert_null (b->bias);
    g_assert_nonnull (b->pad16);
    for (guint ic = 0; ic < node->p.conv.in_channels; ic++)
      g_assert_cmpint (b->pad16[ic], ==, a->pad[ic] * 64);
    /* int16 taps: each within a step of w / (max|w| / 32767), the largest
     * of each output channel at ±32767 */
    {
      const CfqpConvParams *cp = &node->p.conv;
      gsize k = (gsize) cp->in_channels / cp->groups * cp->kernel_h * cp->kernel_w;
      for (guint oc = 0; oc < cp->out_channels; oc++) {
        double mx = 0;
        gint top = 0;
        for (gsize t = 0; t < k; t++)
          mx = MAX (mx, fabs (cp->weight[oc * k + t]));
        for (gsize t = 0; t < k; t++) {
          double u = cp->weight[oc * k + t] / (double) (float) (mx / 32767.0);
          g_assert_cmpfloat (fabs (u - b->weight16[oc * k + t]), <=, 1.0);
          top = MAX (top, ABS (b->weight16[oc * k + t]));
        }
        g_assert_cmpint (top, >=, 32766);
        g_assert_cmpint (top, <=, 32767);
      }
    }
  }
  g_assert_cmpuint (n_conv, >, 0);
  cfqp_int8_program_free (p8);
  cfqp_int8_program_free (p16);
}

/* A conv of tiny weights and a bias of many accumulator steps: kept whole
 * in int64 beyond int32's reach, refused beyond ±2^46 with a message that
 * names the node. */
static void
test_bias_range (void)
{
  static const float biases[] = { 2.0f, -2.0f, 500.0f };
  CfqpGraph *g = cfqp_graph_new ();
  CfqpNode *n;
  g_autofree CfqpQParams *table = g_new (CfqpQParams, 2);
  double wscale;
  guint refused = 0;

  cfqp_graph_add_value (g, "input", 1, -1);
  n = cfqp_graph_add_node (g, CFQP_OP_CONV, "conv");
  n->n_inputs = 1;
  n->inputs = g_new0 (guint, 1);
  n->out_channels = 1;
  n->output = cfqp_graph_add_value (g, "out", 1, 0);
  g->output = 0;
  n->p.conv = (CfqpConvParams) { .kernel_h = 1, .kernel_w = 1, .stride_h = 1, .stride_w = 1,
      .dilation_h = 1, .dilation_w = 1, .groups = 1, .in_channels = 1, .out_channels = 1 };
  n->p.conv.weight = g_new (float, 1);
  n->p.conv.weight[0] = 1e-3f;
  n->p.conv.bias = g_new (float, 1);
  table[0] = table[1] = (CfqpQParams) { 0.01f, 10 };
  cfqp_int16_conv_weight_scales (&n->p.conv, FALSE, &wscale);
  for (guint i = 0; i < G_N_ELEMENTS (biases); i++) {
    g_autoptr (GError) error = NULL;
    CfqpInt8Program *p;
    double steps;

    n->p.conv.bias[0] = biases[i];
    p = cfqp_int8_program_new_bits (g, &(CfqpQuantisation) { table }, 16, &error);
    /* the conv reads the graph input: the pixel grid on 16 bits */
    steps = round (biases[i] / ((double) cfqp_int16_grid (cfqp_int8_pixel_grid ()).scale *
        wscale));
    if (fabs (steps) > 70368744177664.0) {
      g_assert_null (p);
      g_assert_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_UNSUPPORTED);
      g_assert_nonnull (strstr (error->message, "'conv'"));
      g_assert_nonnull (strstr (error->message, "2^46"));
      refused++;
      continue;
    }
    g_assert_no_error (error);
    g_assert_cmpfloat (fabs (steps), >, 4294967296.0);
    g_assert_cmpint (p->nodes[0].bias64[0], ==, (gint64) steps);
    cfqp_int8_program_free (p);
  }
  g_assert_cmpuint (refused, ==, 1);
  cfqp_graph_free (g);
}

/* planar RGB crop of the shipped test photo */
static guint8 *
photo_crop (guint w, guint h)
{
  g_autofree char *png = test_data_path ("images", "demo-hr.png");
  guint pw, ph;
  g_autofree guint8 *packed = test_png_load_rgb (png, &pw, &ph);
  guint8 *crop = g_malloc ((gsize) 3 * w * h);

  g_assert_cmpuint (w, <=, pw);
  g_assert_cmpuint (h, <=, ph);
  for (guint c = 0; c < 3; c++)
    for (guint y = 0; y < h; y++)
      for (guint x = 0; x < w; x++)
        crop[((gsize) c * h + y) * w + x] = packed[((gsize) y * pw + x) * 3 + c];
  return crop;
}

static double
psnr_bytes (const guint8 *a, const guint8 *b, gsize n)
{
  double se = 0;

  for (gsize e = 0; e < n; e++)
    se += ((double) a[e] - b[e]) * ((double) a[e] - b[e]);
  return se == 0 ? 99.0 : 10 * log10 (255.0 * 255.0 / (se / n));
}

/* The runner's ×scale output of a planar crop, through the packed path an
 * element takes, as planar bytes. */
static guint8 *
run_planar (CfqpRunner *runner, const guint8 *in, guint w, guint h, guint scale)
{
  g_autoptr (GError) error = NULL;
  CfqpPackedLayout rgb = { 3, 0, 1, 2, -1 };
  guint ow = scale * w, oh = scale * h;
  g_autofree guint8 *packed = g_malloc ((gsize) 3 * w * h);
  g_autofree guint8 *packed_out = g_malloc ((gsize) 3 * ow * oh);
  guint8 *out = g_malloc ((gsize) 3 * ow * oh);

  for (guint c = 0; c < 3; c++)
    for (gsize p = 0; p < (gsize) w * h; p++)
      packed[p * 3 + c] = in[c * w * h + p];
  g_assert_true (cfqp_runner_run_packed (runner, &rgb, packed, (gsize) w * 3, w, h, packed_out,
      (gsize) ow * 3, &error));
  g_assert_no_error (error);
  for (guint c = 0; c < 3; c++)
    for (gsize p = 0; p < (gsize) ow * oh; p++)
      out[c * ow * oh + p] = packed_out[p * 3 + c];
  return out;
}

static CfqpRunner *
runner_new (CfqpModel *model, CfqpCalibration *calib, const CfqpQParams *qp,
    CfqpPrecision precision, CfqpBackendKind backend, gint stripe_rows)
{
  g_autoptr (GError) error = NULL;
  CfqpRunnerOptions o = CFQP_RUNNER_OPTIONS_INIT;
  CfqpRunner *r;

  o.precision = precision;
  o.backend = backend;
  o.n_threads = 2;
  o.stripe_rows = stripe_rows;
  if (calib)
    cfqp_calibration_fill_runner_options (calib, qp, &o);
  r = cfqp_runner_new (model, &o, &error);
  g_assert_no_error (error);
  return r;
}

static guint8 *
run_once (CfqpModel *model, CfqpCalibration *calib, const CfqpQParams *qp,
    CfqpPrecision precision, CfqpBackendKind backend, gint stripe_rows, const char *active,
    const guint8 *in, guint w, guint h, guint scale)
{
  CfqpRunner *r = runner_new (model, calib, qp, precision, backend, stripe_rows);
  guint8 *out;

  g_assert_cmpstr (cfqp_runner_get_active_backend (r), ==, active);
  g_assert_cmpint (cfqp_runner_get_precision (r), ==, precision);
  out = run_planar (r, in, w, h, scale);
  cfqp_runner_free (r);
  return out;
}

/* A shipped anchorless net with its shipped calibration on a photo crop: INT16 on the cpu set in stripes gives ref's bytes layer by
 * layer, and is FP32 to within the last byte's rounding where INT8 is not:
 * every tensor carries the picture, which INT8's 256 levels blur. */
static void
test_runner_shipped (gconstpointer data)
{
  const char *name = data;
  g_autoptr (GError) error = NULL;
  g_autofree char *mpath = g_strdup_printf ("%s/%s.onnx", CFQP_MODELS_DIR, name);
  g_autofree char *cpath = g_strdup_printf ("%s/%s.calib.json", CFQP_MODELS_DIR, name);
  g_autoptr (CfqpModel) loaded = cfqp_model_new_from_file (mpath, &error);
  g_autoptr (CfqpCalibration) calib = cfqp_calibration_load (cpath, NULL, &error);
  g_autoptr (CfqpModel) model = NULL;
  g_autofree CfqpQParams *qp = NULL;
  g_autofree guint8 *in = NULL, *fp32 = NULL, *int8 = NULL, *ref = NULL, *cpu = NULL;
  guint w = 62, h = 38, scale;   /* bicubicpp halves it first: odd inside */
  gsize n_out;
  double p8, p16;

  g_assert_no_error (error);
  model = cfqp_calibration_new_run_model (calib, loaded);
  qp = cfqp_calibration_to_qparams (calib, model, &error);
  g_assert_no_error (error);
  scale = cfqp_model_get_scale (model);
  n_out = (gsize) 3 * scale * w * scale * h;
  in = photo_crop (w, h);

  fp32 = run_once (model, NULL, NULL, CFQP_PRECISION_FP32, CFQP_BACKEND_CPU, CFQP_STRIPES_AUTO,
      "cpu", in, w, h, scale);
  int8 = run_once (model, calib, qp, CFQP_PRECISION_INT8, CFQP_BACKEND_CPU, CFQP_STRIPES_AUTO,
      "cpu", in, w, h, scale);
  ref = run_once (model, calib, qp, CFQP_PRECISION_INT16, CFQP_BACKEND_REF, CFQP_STRIPES_OFF,
      "ref", in, w, h, scale);
  cpu = run_once (model, calib, qp, CFQP_PRECISION_INT16, CFQP_BACKEND_AUTO, 8, "cpu", in, w, h,
      scale);
  g_assert_cmpmem (cpu, n_out, ref, n_out);

  p8 = psnr_bytes (int8, fp32, n_out);
  p16 = psnr_bytes (ref, fp32, n_out);
  g_test_message ("%s %u×%u: PSNR(INT8, FP32) %.2f dB, PSNR(INT16, FP32) %.2f dB", name, w, h,
      p8, p16);
  /* measured 50.8–51.9 and 68.1–69.0 dB: nearly every byte FP32's */
  g_assert_cmpfloat (p16, >, 65.0);
  g_assert_cmpfloat (p16, >, p8 + 15.0);
}

/* The cpu set's conv against ref's on hand-made nodes: every tap at full
 * scale on inputs at 0 and 65535 (a channel's byte sums at their int32
 * bound: 256 taps of 32767·255), zero points anywhere on both sides, pads,
 * strides, dilations, groups, odd widths, negative-side multipliers and
 * clamps inside the range. */
typedef struct {
  const char *name;
  guint k, stride, dil, groups, in_c, out_c, w, h, pt, pl, pb, pr;
  guint extreme;    /* 0: random; 1: full-scale taps on 0 and 65535; 2: every tap
                     * ±32767 on 65535: each channel's byte sums at their bound */
} ConvCase;

static const ConvCase conv_cases[] = {
  { "3x3", 3, 1, 1, 1, 5, 4, 37, 9, 1, 1, 1, 1, 0 },
  { "3x3-no-pad", 3, 1, 1, 1, 3, 2, 17, 7, 0, 0, 0, 0, 0 },
  { "3x3-pads-2-0", 3, 1, 1, 1, 2, 3, 13, 6, 2, 2, 0, 0, 0 },
  { "5x5-stride2", 5, 2, 1, 1, 3, 5, 23, 11, 2, 2, 2, 2, 0 },
  { "3x3-dilation2", 3, 1, 2, 1, 2, 3, 15, 8, 2, 2, 2, 2, 0 },
  { "3x3-groups2", 3, 1, 1, 2, 6, 4, 11, 5, 1, 1, 1, 1, 0 },
  { "3x3-depthwise", 3, 1, 1, 6, 6, 6, 9, 4, 1, 1, 1, 1, 0 },
  { "1x1", 1, 1, 1, 1, 32, 7, 31, 3, 0, 0, 0, 0, 0 },
  { "1x1-width1", 1, 1, 1, 1, 4, 3, 1, 2, 0, 0, 0, 0, 0 },
  { "16x16-full-scale", 16, 1, 1, 1, 2, 2, 5, 3, 8, 8, 7, 7, 1 },
  { "16x16-at-the-bound", 16, 1, 1, 1, 2, 2, 18, 17, 0, 0, 0, 0, 2 },
  { "17x17-one-channel", 17, 1, 1, 1, 1, 2, 19, 18, 0, 0, 0, 0, 2 },
  { "3x3-stride3-dilation2", 3, 3, 2, 1, 3, 5, 29, 13, 1, 2, 2, 1, 0 },
  { "1x1-stride2-wide", 1, 2, 1, 1, 3, 9, 151, 4, 0, 0, 0, 0, 0 },
  { "1x1-300-channels", 1, 1, 1, 1, 300, 5, 41, 2, 0, 0, 0, 0, 0 },
  { "3x3-wide-rows", 3, 1, 1, 1, 4, 6, 97, 3, 1, 1, 1, 1, 0 },
};

static void
test_cpu_conv (gconstpointer data)
{
  const ConvCase *tc = data;
  g_autoptr (GRand) rand = g_rand_new_with_seed (g_str_hash (tc->name));
  CfqpNode node = { 0 };
  CfqpInt8Node q = { 0 };
  CfqpConvParams *cp = &node.p.conv;
  guint icg = tc->in_c / tc->groups, ow, oh;
  gsize n_w = (gsize) tc->out_c * icg * tc->k * tc->k, n_in = (gsize) tc->in_c * tc->w * tc->h;
  g_autofree guint16 *in = g_new (guint16, n_in), *want = NULL, *got = NULL;
  CfqpU16View vin = { in, tc->in_c, tc->h, tc->w, tc->w, (gsize) tc->w * tc->h }, vwant, vgot;

  node.op = CFQP_OP_CONV;
  node.out_channels = tc->out_c;
  *cp = (CfqpConvParams) { .kernel_h = tc->k, .kernel_w = tc->k, .stride_h = tc->stride,
      .stride_w = tc->stride, .dilation_h = tc->dil, .dilation_w = tc->dil, .pad_t = tc->pt,
      .pad_l = tc->pl, .pad_b = tc->pb, .pad_r = tc->pr, .groups = tc->groups,
      .in_channels = tc->in_c, .out_channels = tc->out_c };
  ow = (tc->w + tc->pl + tc->pr - tc->dil * (tc->k - 1) - 1) / tc->stride + 1;
  oh = (tc->h + tc->pt + tc->pb - tc->dil * (tc->k - 1) - 1) / tc->stride + 1;
  q.weight16 = g_new (gint16, n_w);
  q.bias64 = g_new (gint64, tc->out_c);
  q.rq_pos = g_new (CfqpRequant, tc->out_c);
  q.rq_neg = g_new (CfqpRequant, tc->out_c);
  q.pad16 = g_new (guint16, tc->in_c);
  q.z_in[0] = tc->extreme ? 0 : g_rand_int_range (rand, 0, 65536);
  q.z_out = g_rand_int_range (rand, 0, 65536);
  q.lo = g_rand_int_range (rand, 0, 1000);
  q.hi = g_rand_int_range (rand, 64535, 65536);
  for (gsize e = 0; e < n_w; e++)
    q.weight16[e] = tc->extreme == 2 ? (e / (icg * tc->k * tc->k) % 2 ? -32767 : 32767) :
        tc->extreme ? (e % 3 ? 32767 : -32767) : (gint16) g_rand_int_range (rand, -32767, 32768);
  for (gsize e = 0; e < n_in; e++)
    in[e] = tc->extreme == 2 ? 65535 : tc->extreme ? (e % 2 ? 65535 : 0) :
        (guint16) g_rand_int_range (rand, 0, 65536);
  for (guint c = 0; c < tc->in_c; c++)
    q.pad16[c] = tc->extreme ? 65535 : (guint16) g_rand_int_range (rand, 0, 65536);
  {
    /* multipliers that bring a typical sum (random taps and inputs: about
     * √K·3.6e8; full scale: K·32767·65535/3) to ~2^15 around the zero
     * point, so that most outputs land inside the clamp */
    gsize k = (gsize) icg * tc->k * tc->k;
    double typical = tc->extreme ? k * 32767.0 * 65535.0 / (tc->extreme == 2 ? 1 : 3) :
        sqrt ((double) k) * 3.6e8;
    guint shift = (guint) ceil (log2 (typical)) - 15 + 31;

    q.z_out = g_rand_int_range (rand, 20000, 45000);
    for (guint oc = 0; oc < tc->out_c; oc++) {
      q.bias64[oc] = (gint64) g_rand_double_range (rand, -typical, typical);
      q.rq_pos[oc] = (CfqpRequant) { g_rand_int_range (rand, 1 << 30, G_MAXINT32),
          (guint8) shift };
      q.rq_neg[oc] = (CfqpRequant) { g_rand_int_range (rand, 1 << 30, G_MAXINT32),
          (guint8) (shift + 2) };
    }
  }
  want = g_new (guint16, (gsize) tc->out_c * ow * oh);
  got = g_new (guint16, (gsize) tc->out_c * ow * oh);
  vwant = (CfqpU16View) { want, tc->out_c, oh, ow, ow, (gsize) ow * oh };
  vgot = (CfqpU16View) { got, tc->out_c, oh, ow, ow, (gsize) ow * oh };
  cfqp_int8_ref_backend.ops16[CFQP_OP_CONV] (&node, &q, &vin, &vwant, 0, oh);
  /* packed once, as a program is; unpacked it would run ref's kernel */
  q.packed = cfqp_int8_cpu_backend.pack16 (&node, &q);
  g_assert_nonnull (q.packed);
  /* two calls, as two workers' rows */
  cfqp_int8_cpu_backend.ops16[CFQP_OP_CONV] (&node, &q, &vin, &vgot, 0, oh / 2);
  cfqp_int8_cpu_backend.ops16[CFQP_OP_CONV] (&node, &q, &vin, &vgot, oh / 2, oh);
  cfqp_int8_cpu_backend.free_packed (g_steal_pointer (&q.packed));
  g_assert_cmpmem (got, (gsize) tc->out_c * ow * oh * 2, want, (gsize) tc->out_c * ow * oh * 2);
  {
    /* the outputs are spread, not all clamped */
    guint inside = 0;
    for (gsize e = 0; e < (gsize) tc->out_c * ow * oh; e++)
      inside += want[e] > q.lo && want[e] < q.hi;
    g_test_message ("%s: %u×%u×%u outputs, %u inside the clamp", tc->name, tc->out_c, oh, ow,
        inside);
    g_assert_cmpuint (inside * 3, >=, tc->out_c * ow * oh);
  }
  cfqp_int8_node_clear (&q);
}

/* The kernel config of a level by name; NULL where this CPU lacks it. */
static const CfqpInt8CpuConfig *
level_config (const char *name)
{
  CfqpCpuIsa isa;

  g_assert_true (cfqp_cpu_isa_from_name (name, &isa));
  return cfqp_int8_cpu_config_for (isa);
}

/* Every ISA level's micro-kernel this CPU can run (x86-64's, ARM's NEON)
 * against the generic one, block by block: tap counts around the fold
 * (CFQP_INT16_FOLD_PAIRS), unaligned lanes, taps at ±32767 and bytes at
 * 255 (the int32 bound of a fold: 128 pairs of 2·32767·255), random
 * values elsewhere, sums written over what the buffer held. */
static void
test_gemm_every_level (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (5);
  const char *const *names = cfqp_cpu_isa_names ();
  const guint max_taps = 300, max_px = 32, span = 3 * max_taps + max_px + 3;
  g_autofree gint32 *xh = g_new (gint32, span), *xl = g_new (gint32, span);
  g_autofree gint32 *w = g_new (gint32, CFQP_INT16_GEMM_OC * max_taps);
  g_autofree gsize *off = g_new (gsize, max_taps);
  gint64 want[CFQP_INT16_GEMM_OC * 32], got[CFQP_INT16_GEMM_OC * 32];
  guint tried = 0;

  for (guint i = 0; names[i]; i++) {
    const CfqpInt8CpuConfig *cfg = level_config (names[i]);

    if (!cfg)
      continue;
    tried++;
    g_assert_cmpuint (cfg->int16_pixels, <=, max_px);
    /* every level above generic has its own kernel (each ARM level NEON's):
     * the comparison below would pass trivially on the generic one */
    if (!g_str_equal (names[i], "generic"))
      g_assert_true (cfg->int16_gemm != cfqp_int16_gemm_4x8__scalar);
    for (guint n = 1; n <= max_taps; n += n < 140 ? (n > 120 ? 1 : 13) : 53)
      for (guint extreme = 0; extreme < 2; extreme++) {
        guint px = cfg->int16_pixels;

        for (guint e = 0; e < span; e++) {
          guint a = extreme ? 255 : (guint) g_rand_int_range (rand, 0, 256);
          guint b = extreme ? 255 : (guint) g_rand_int_range (rand, 0, 256);
          xh[e] = cfqp_int16_pair (a, b);
          xl[e] = cfqp_int16_pair (g_rand_int_range (rand, 0, 256), b ^ 0x5a);
        }
        for (guint t = 0; t < n; t++) {
          off[t] = 3 * t + (t * 7) % 5;          /* unaligned, overlapping */
          for (guint o = 0; o < CFQP_INT16_GEMM_OC; o++)
            w[o * max_taps + t] = extreme ?
                cfqp_int16_pair (o % 2 ? -32767 : 32767, o % 2 ? -32767 : 32767) :
                cfqp_int16_pair (g_rand_int_range (rand, -32767, 32768),
                    g_rand_int_range (rand, -32767, 32768));
        }
        /* the kernel writes its sums: whatever was there goes */
        for (guint e = 0; e < CFQP_INT16_GEMM_OC * px; e++)
          want[e] = got[e] = (gint64) g_rand_int (rand) << 20;
        /* the generic kernel, 8 pixels at a time, is the reference */
        for (guint x0 = 0; x0 < px; x0 += 8) {
          gint64 part[CFQP_INT16_GEMM_OC * 8];
          for (guint o = 0; o < CFQP_INT16_GEMM_OC; o++)
            for (guint j = 0; j < 8; j++)
              part[o * 8 + j] = (gint64) g_rand_int (rand);
          cfqp_int16_gemm_4x8__scalar (xh + x0, xl + x0, off, n, w, max_taps, part, 8);
          for (guint o = 0; o < CFQP_INT16_GEMM_OC; o++)
            for (guint j = 0; j < 8 && x0 + j < px; j++)
              want[o * px + x0 + j] = part[o * 8 + j];
        }
        cfg->int16_gemm (xh, xl, off, n, w, max_taps, got, px);
        g_assert_cmpmem (got, CFQP_INT16_GEMM_OC * px * sizeof (gint64), want,
            CFQP_INT16_GEMM_OC * px * sizeof (gint64));
      }
    g_test_message ("%s: %s, %u pixels", names[i], cfg->int16_gemm_name, cfg->int16_pixels);
  }
  g_assert_cmpuint (tried, >, 0);
}

/* Every ISA level's output stage against the generic one (ref's
 * arithmetic): sums of every size on both sides, with vectors that mix
 * lanes below and beyond 2^31 (the 64-bit fast path's edge), exact
 * rounding ties on both sides, negative multipliers, clamps inside the
 * range, row lengths around the vector widths. */
static void
test_requant_every_level (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (31);
  const char *const *names = cfqp_cpu_isa_names ();
  gint64 acc[67];
  guint16 want[67], got[67];
  guint tried = 0;

  for (guint i = 0; names[i]; i++) {
    const CfqpInt8CpuConfig *cfg = level_config (names[i]);

    if (!cfg)
      continue;
    tried++;
    for (guint round = 0; round < 3000; round++) {
      guint n = round % 67, kind = round % 5;
      guint8 sp = (guint8) g_rand_int_range (rand, 20, 48);
      CfqpRequant pos = { g_rand_int_range (rand, 1 << 30, G_MAXINT32), sp };
      CfqpRequant neg = { g_rand_int_range (rand, 1 << 30, G_MAXINT32), (guint8) (sp + 1) };
      gint64 base = g_rand_int_range (rand, -1000, 1000);
      gint32 z = g_rand_int_range (rand, 0, 65536), lo = g_rand_int_range (rand, 0, 3000);
      gint32 hi = g_rand_int_range (rand, 62000, 65536);

      if (round % 4 == 1)
        pos.m = -pos.m;
      if (round % 4 == 2)
        neg.m = -neg.m;
      for (guint e = 0; e < n; e++) {
        /* the scale brings a sum of 2^(shift-15) to ~±2^15 around z */
        gint64 typical = (gint64) 1 << (sp - 15);
        switch (kind) {
          case 0:      /* around the output range */
            acc[e] = (gint64) g_rand_double_range (rand, -2.0 * typical, 2.0 * typical);
            break;
          case 1:      /* the fast path's edge, both sides */
            acc[e] = (e % 2 ? -1 : 1) * (CFQP_REQUANT_NARROW + g_rand_int_range (rand, -3, 3));
            break;
          case 2:      /* beyond int32 now and then */
            acc[e] = e % 5 == 0 ? ((gint64) g_rand_int (rand) << 12) - ((gint64) 1 << 43) :
                g_rand_int_range (rand, -100000, 100000);
            break;
          case 3:      /* ties: ×2^-1 of odd sums, both signs */
            pos = (CfqpRequant) { 1 << 30, 31 };
            neg = (CfqpRequant) { 1 << 30, 31 };
            acc[e] = (gint64) (2 * g_rand_int_range (rand, -20000, 20000) + 1);
            break;
          default:     /* 0 and ±1 */
            acc[e] = g_rand_int_range (rand, -1, 2);
            break;
        }
        acc[e] -= base;
      }
      cfqp_int16_requant_row__scalar (acc, n, base, pos, neg, z, lo, hi, want);
      for (guint e = 0; e < n; e++) {
        gint64 v = base + acc[e];
        g_assert_cmpuint (want[e], ==,
            cfqp_clamp_u16 (z + cfqp_requant_wide (v, v >= 0 ? pos : neg), lo, hi));
      }
      memset (got, 0xee, sizeof got);
      cfg->int16_requant (acc, n, base, pos, neg, z, lo, hi, got);
      g_assert_cmpmem (got, n * sizeof (guint16), want, n * sizeof (guint16));
      g_assert_cmpuint (got[n], ==, 0xeeee);
    }
    g_test_message ("%s: %s", names[i], cfg->int16_requant_name);
  }
  g_assert_cmpuint (tried, >, 0);
}

/* The generic kernel against the sums written out in int64, at the bound:
 * one fold of CFQP_INT16_FOLD_PAIRS pairs each at 2·32767·255, then more. */
static void
test_gemm_generic (void)
{
  const guint n = 2 * CFQP_INT16_FOLD_PAIRS + 5;
  g_autofree gint32 *xh = g_new (gint32, n + 8), *xl = g_new (gint32, n + 8);
  g_autofree gint32 *w = g_new (gint32, CFQP_INT16_GEMM_OC * n);
  g_autofree gsize *off = g_new (gsize, n);
  gint64 acc[CFQP_INT16_GEMM_OC * 8];

  for (guint e = 0; e < G_N_ELEMENTS (acc); e++)
    acc[e] = -((gint64) e << 40);    /* written over, not added to */

  for (guint e = 0; e < n + 8; e++) {
    xh[e] = cfqp_int16_pair (255, 255);
    xl[e] = cfqp_int16_pair (e % 256, 255 - e % 256);
  }
  for (guint t = 0; t < n; t++) {
    off[t] = t;
    for (guint o = 0; o < CFQP_INT16_GEMM_OC; o++)
      w[o * n + t] = cfqp_int16_pair (o == 1 ? -32767 : 32767, o == 2 ? -32767 : 32767);
  }
  cfqp_int16_gemm_4x8__scalar (xh, xl, off, n, w, n, acc, 8);
  for (guint o = 0; o < CFQP_INT16_GEMM_OC; o++)
    for (guint i = 0; i < 8; i++) {
      gint64 sum = 0, wa = o == 1 ? -32767 : 32767, wb = o == 2 ? -32767 : 32767;
      for (guint t = 0; t < n; t++)
        sum += 256 * (wa * 255 + wb * 255) +
            wa * (gint64) ((t + i) % 256) + wb * (gint64) (255 - (t + i) % 256);
      g_assert_cmpint (acc[o * 8 + i], ==, sum);
    }
}

/* The cpu set's concat copies only where every input is on the output's
 * grid: with one zero point or one multiplier off, it gives ref's values. */
static void
test_cpu_concat (void)
{
  CfqpNode node = { 0 };
  CfqpInt8Node q = { 0 };
  guint ins[2] = { 1, 2 };
  guint16 a[2 * 5 * 3], b[1 * 5 * 3], want[3 * 5 * 3], got[3 * 5 * 3];
  CfqpU16View in[2] = { { a, 2, 3, 5, 5, 15 }, { b, 1, 3, 5, 5, 15 } };
  CfqpU16View vw = { want, 3, 3, 5, 5, 15 }, vg = { got, 3, 3, 5, 5, 15 };
  CfqpRequant one;

  node.op = CFQP_OP_CONCAT;
  node.n_inputs = 2;
  node.inputs = ins;
  node.out_channels = 3;
  cfqp_requant_from_real (1.0, &one);
  q.rq_in = g_new (CfqpRequant, 2 * 2 * 3);
  q.z_inputs = g_new (gint32, 2);
  for (guint e = 0; e < G_N_ELEMENTS (a); e++)
    a[e] = (guint16) (e * 4099 + 7);
  for (guint e = 0; e < G_N_ELEMENTS (b); e++)
    b[e] = (guint16) (e * 3001 + 11);
  for (guint variant = 0; variant < 3; variant++) {
    for (guint e = 0; e < 12; e++)
      q.rq_in[e] = one;
    q.z_inputs[0] = q.z_inputs[1] = q.z_out = 640;
    q.lo = 0;
    q.hi = 65535;
    if (variant == 1)
      q.z_inputs[1] = 1280;
    else if (variant == 2)
      cfqp_requant_from_real (0.75, &q.rq_in[2 * 3 + 2]);   /* b, output channel 2 */
    cfqp_int8_ref_backend.ops16[CFQP_OP_CONCAT] (&node, &q, in, &vw, 0, 3);
    cfqp_int8_cpu_backend.ops16[CFQP_OP_CONCAT] (&node, &q, in, &vg, 0, 3);
    g_assert_cmpmem (got, sizeof got, want, sizeof want);
    /* the copy is a copy; the others are not */
    g_assert_true ((memcmp (want + 30, b, sizeof b) == 0) == (variant == 0));
    if (variant == 0)
      g_assert_cmpmem (want, sizeof a, a, sizeof a);
  }
  cfqp_int8_node_clear (&q);
}

/* INT16 without a calibration is an error, as INT8.  (OpenCL runs INT16:
 * test-int16-opencl.) */
static void
test_needs_calibration (void)
{
  g_autoptr (CfqpModel) model = abpn_model ();
  g_autoptr (GError) error = NULL;
  CfqpRunnerOptions o = CFQP_RUNNER_OPTIONS_INIT;

  o.precision = CFQP_PRECISION_INT16;
  o.backend = CFQP_BACKEND_AUTO;
  g_assert_null (cfqp_runner_new (model, &o, &error));
  g_assert_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/int16/bytes", test_bytes);
  g_test_add_func ("/int16/grid", test_grid);
  g_test_add_func ("/int16/requant-wide", test_requant_wide);
  g_test_add_func ("/int16/program", test_program);
  g_test_add_func ("/int16/bias-range", test_bias_range);
  g_test_add_func ("/int16/cpu-concat", test_cpu_concat);
  g_test_add_func ("/int16/gemm-generic", test_gemm_generic);
  g_test_add_func ("/int16/gemm-every-level", test_gemm_every_level);
  g_test_add_func ("/int16/requant-every-level", test_requant_every_level);
  for (guint i = 0; i < G_N_ELEMENTS (conv_cases); i++) {
    g_autofree char *path = g_strdup_printf ("/int16/cpu-conv/%s", conv_cases[i].name);
    g_test_add_data_func (path, &conv_cases[i], test_cpu_conv);
  }
  g_test_add_data_func ("/int16/runner/xlsr-x2", "xlsr-x2", test_runner_shipped);
  g_test_add_data_func ("/int16/runner/xlsr-x3", "xlsr-x3", test_runner_shipped);
  g_test_add_data_func ("/int16/runner/bicubicpp-x2", "bicubicpp-x2", test_runner_shipped);
  g_test_add_data_func ("/int16/runner/bicubicpp-x3", "bicubicpp-x3", test_runner_shipped);
  g_test_add_func ("/int16/needs-calibration", test_needs_calibration);
  return g_test_run ();
}
