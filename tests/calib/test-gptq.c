/* GPTQ weight rounding: the taps a calibration carries, how runners take
 * them, and what a hostile file or table gets. */
#include "cfqp-calib-private.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include "calib-test-utils.h"

static const char *const train[] = { "boats-x2.png", "forest-x2.png" };

static CfqpCalibration *
calibrate_grids (CfqpModel *model, CfqpWeightRounding rounding, CfqpActivationGrids grids)
{
  CfqpCalibSettings s;
  g_autoptr (CfqpCalibrator) cal = NULL;
  g_autoptr (GError) err = NULL;
  CfqpCalibration *c;

  cfqp_calib_settings_init (&s);
  s.weight_rounding = rounding;
  s.activation_grids = grids;
  cal = cfqp_calibrator_new (model, &s);
  for (guint i = 0; i < G_N_ELEMENTS (train); i++) {
    g_autoptr (CfqpImage) x = calib_test_load_png (train[i]);
    cfqp_calibrator_add_frame (cal, x->data, x->width, x->height);
  }
  c = cfqp_calibrator_compute (cal, NULL, &err);
  g_assert_no_error (err);
  return c;
}

static CfqpCalibration *
calibrate (CfqpModel *model, CfqpWeightRounding rounding)
{
  CfqpCalibSettings s;

  cfqp_calib_settings_init (&s);
  return calibrate_grids (model, rounding, s.activation_grids);
}

/* The calibrations are deterministic: each (model, rounding) is computed
 * once per run (the ARM64 leg runs this under qemu), a new ref each call. */
static CfqpCalibration *
calibrate_cached (CfqpModel *model, CfqpWeightRounding rounding)
{
  static GHashTable *cache;
  g_autofree char *key = g_strdup_printf ("%s/%d", cfqp_model_get_hash (model), rounding);
  CfqpCalibration *c;

  if (!cache)
    cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
        (GDestroyNotify) cfqp_calibration_unref);
  if (!(c = g_hash_table_lookup (cache, key))) {
    c = calibrate (model, rounding);
    g_hash_table_insert (cache, g_steal_pointer (&key), c);
  }
  return cfqp_calibration_ref (c);
}

/* --- the rounding itself --------------------------------------------- */

typedef struct {
  CfqpModel *model;
  guint      conv;
  const gint8 *gptq;
  gint8     *nearest;
  double    *scales;
  double     err_gptq, err_nearest;
} ConvError;

/* Σ over the conv's outputs of (Σ (w − q·s) x)², for both roundings, on
 * the FP32 input the conv sees. */
static void
conv_error_func (guint tensor, const float *data, guint channels, guint height, guint width,
                 gpointer user_data)
{
  ConvError *ce = user_data;
  CfqpConvInfo c;
  guint icg, k, ocg;
  gint64 oh, ow;

  cfqp_model_get_conv (ce->model, ce->conv, height, width, &c);
  if (tensor != c.input)
    return;
  (void) channels;
  icg = c.in_channels / c.groups;
  ocg = c.out_channels / c.groups;
  k = icg * c.kernel_h * c.kernel_w;
  oh = ((gint64) height + c.pad_top + c.pad_bottom - c.dilation_h * (c.kernel_h - 1) - 1) /
      c.stride_h + 1;
  ow = ((gint64) width + c.pad_left + c.pad_right - c.dilation_w * (c.kernel_w - 1) - 1) /
      c.stride_w + 1;
  for (guint oc = 0; oc < c.out_channels; oc++) {
    guint gi = oc / ocg;

    for (gint64 oy = 0; oy < oh; oy++)
      for (gint64 ox = 0; ox < ow; ox++) {
        double eg = 0, en = 0;

        for (guint e = 0; e < k; e++) {
          guint ci = e / (c.kernel_h * c.kernel_w), ky = e / c.kernel_w % c.kernel_h,
              kx = e % c.kernel_w, ch = gi * icg + ci;
          gint64 y = oy * c.stride_h + (gint64) ky * c.dilation_h - c.pad_top;
          gint64 x = ox * c.stride_w + (gint64) kx * c.dilation_w - c.pad_left;
          double v = y < 0 || y >= height || x < 0 || x >= width ?
              (c.pad_value ? c.pad_value[ch] : 0) : data[((gsize) ch * height + y) * width + x];
          double w = c.weight[(gsize) oc * k + e], s = ce->scales[oc];

          eg += (w - ce->gptq[(gsize) oc * k + e] * s) * v;
          en += (w - ce->nearest[(gsize) oc * k + e] * s) * v;
        }
        ce->err_gptq += eg * eg;
        ce->err_nearest += en * en;
      }
  }
}

/* On the frames it was fitted on, every conv's output error with the GPTQ
 * taps is well under nearest rounding's: a sign or index slip in the
 * error feedback makes it larger instead. */
static void
test_least_conv_error (gconstpointer data)
{
  g_autoptr (CfqpModel) model = calib_test_load_model (data);
  g_autoptr (CfqpCalibration) c = calibrate_cached (model, CFQP_WEIGHT_ROUNDING_GPTQ);
  g_autoptr (CfqpModel) clip_free = cfqp_model_new_clip_free (model, NULL, NULL);
  g_autoptr (CfqpModel) run = NULL;
  guint n_taps, n_steps;
  const CfqpConvTaps *taps = cfqp_calibration_get_conv_taps (c, &n_taps);
  const CfqpChannelSteps *steps = cfqp_calibration_get_channel_steps (c, &n_steps);
  g_autoptr (GError) error = NULL;

  /* with channel steps the taps round the weights they are folded into */
  run = cfqp_model_new_with_channel_steps (clip_free, steps, n_steps, &error);
  g_assert_no_error (error);
  g_test_message ("%u tensors with channel steps", n_steps);
  g_assert_cmpuint (n_taps, ==, cfqp_model_get_n_convs (run));
  for (guint t = 0; t < n_taps; t++) {
    ConvError ce = { run, 0 };
    CfqpConvInfo info;
    gboolean differs = FALSE;

    for (ce.conv = 0; ce.conv < cfqp_model_get_n_convs (run); ce.conv++) {
      cfqp_model_get_conv (run, ce.conv, 1, 1, &info);
      if (info.output == taps[t].output)
        break;
    }
    g_assert_cmpuint (ce.conv, <, cfqp_model_get_n_convs (run));
    ce.gptq = taps[t].taps;
    ce.scales = g_new (double, info.out_channels);
    cfqp_model_get_conv_weight_scales (run, ce.conv, ce.scales);
    ce.nearest = g_new (gint8, taps[t].n_taps);
    for (guint e = 0; e < taps[t].n_taps; e++) {
      double v = info.weight[e] / ce.scales[e / (taps[t].n_taps / info.out_channels)];

      ce.nearest[e] = (gint8) CLAMP (v < 0 ? -floor (-v + 0.5) : floor (v + 0.5), -127, 127);
      g_assert_cmpint (taps[t].taps[e], >=, -127);
      /* GPTQ moves taps, not far */
      g_assert_cmpint (ABS (taps[t].taps[e] - ce.nearest[e]), <=, 8);
      differs |= taps[t].taps[e] != ce.nearest[e];
    }
    g_assert_true (differs);
    for (guint i = 0; i < G_N_ELEMENTS (train); i++) {
      g_autoptr (CfqpImage) x = calib_test_load_png (train[i]);
      g_autoptr (GError) err = NULL;

      g_assert_true (cfqp_model_observe_f32 (run, x->data, x->width, x->height, NULL,
              conv_error_func, &ce, &err));
      g_assert_no_error (err);
    }
    g_test_message ("conv %u: output error gptq/nearest %.3f", ce.conv,
        ce.err_gptq / ce.err_nearest);
    g_assert_cmpfloat (ce.err_gptq, <, 0.8 * ce.err_nearest);
    g_free (ce.nearest);
    g_free (ce.scales);
  }
}

/* --- runners take the taps ------------------------------------------- */

/* The output bytes of runner on x (newly allocated). */
static guint8 *
upscale_bytes (CfqpRunner *runner, const CfqpImage *x)
{
  guint s = cfqp_model_get_scale (cfqp_runner_get_model (runner));
  gsize n = (gsize) x->channels * x->width * s * x->height * s;
  g_autofree float *y = g_new (float, n);
  g_autoptr (GError) err = NULL;
  guint8 *b = g_new (guint8, n);

  g_assert_true (cfqp_runner_run_f32 (runner, x->data, x->width, x->height, y, &err));
  g_assert_no_error (err);
  for (gsize i = 0; i < n; i++)
    b[i] = (guint8) CLAMP (lrintf (y[i] * 255.f), 0, 255);
  return b;
}

/* A single-threaded INT8 runner with the calibration (and its taps). */
static CfqpRunner *
int8_runner (CfqpModel *model, CfqpBackendKind backend, const CfqpCalibration *c,
             gboolean with_taps)
{
  CfqpRunnerOptions o = CFQP_RUNNER_OPTIONS_INIT;
  g_autoptr (GError) err = NULL;
  g_autofree CfqpQParams *qp = cfqp_calibration_to_qparams (c, model, &err);
  CfqpRunner *r;

  g_assert_no_error (err);
  o.precision = CFQP_PRECISION_INT8;
  o.backend = backend;
  o.n_threads = 1;
  cfqp_calibration_fill_runner_options (c, qp, &o);
  if (!with_taps) {
    o.conv_taps = NULL;
    o.n_conv_taps = 0;
  }
  r = cfqp_runner_new (model, &o, &err);
  g_assert_no_error (err);
  return r;
}

static guint8 *
run_int8 (CfqpModel *model, CfqpBackendKind backend, const CfqpCalibration *c,
          gboolean with_taps, const CfqpImage *x)
{
  g_autoptr (CfqpRunner) r = int8_runner (model, backend, c, with_taps);

  return upscale_bytes (r, x);
}

static double
psnr_bytes (const guint8 *a, const guint8 *b, gsize n)
{
  double se = 0;

  for (gsize i = 0; i < n; i++)
    se += (double) (a[i] - b[i]) * (a[i] - b[i]);
  return se == 0 ? 99 : 10 * log10 (255.0 * 255.0 * n / se);
}

/* The cpu kernels give ref's bytes with the taps; the taps change the
 * bytes; and on a frame it never saw, the shipped XLSR ×2 (trained: an
 * untrained reference net has no picture to carry) is closer to FP32 with
 * them. */
static void
test_runner_takes_taps (void)
{
  g_autofree char *path = g_build_filename (CFQP_MODELS_DIR, "xlsr-x2.onnx", NULL);
  g_autoptr (CfqpModel) model = cfqp_model_new_from_file (path, NULL);
  g_autoptr (CfqpModel) run = cfqp_model_new_clip_free (model, NULL, NULL);
  g_autoptr (CfqpCalibration) c = calibrate_cached (model, CFQP_WEIGHT_ROUNDING_GPTQ);
  g_autoptr (CfqpImage) x = calib_test_load_png ("grass-x2.png");
  g_autofree guint8 *ref = run_int8 (run, CFQP_BACKEND_REF, c, TRUE, x);
  g_autofree guint8 *cpu = run_int8 (run, CFQP_BACKEND_CPU, c, TRUE, x);
  g_autofree guint8 *nearest = run_int8 (run, CFQP_BACKEND_REF, c, FALSE, x);
  CfqpRunnerOptions o = CFQP_RUNNER_OPTIONS_INIT;
  g_autoptr (CfqpRunner) fp32 = NULL;
  g_autoptr (GError) err = NULL;
  gsize n = (gsize) 3 * x->width * 2 * x->height * 2;
  g_autofree guint8 *yb = NULL;
  double p_gptq, p_nearest;

  g_assert_cmpmem (ref, n, cpu, n);
  g_assert_true (memcmp (ref, nearest, n) != 0);
  o.n_threads = 1;
  fp32 = cfqp_runner_new (run, &o, &err);
  g_assert_no_error (err);
  yb = upscale_bytes (fp32, x);
  p_gptq = psnr_bytes (ref, yb, n);
  p_nearest = psnr_bytes (nearest, yb, n);
  g_test_message ("PSNR(INT8, FP32): gptq %.2f dB, nearest %.2f dB", p_gptq, p_nearest);
  g_assert_cmpfloat (p_gptq, >, p_nearest + 1.0);
}

/* A QDQ export with the taps, imported again, runs to the same bytes. */
static void
test_qdq_export_keeps_taps (void)
{
  g_autoptr (CfqpModel) model = calib_test_load_model ("xlsr-x2-clip-op13.onnx");
  g_autoptr (CfqpModel) run = cfqp_model_new_clip_free (model, NULL, NULL);
  g_autoptr (CfqpCalibration) c = calibrate_cached (model, CFQP_WEIGHT_ROUNDING_GPTQ);
  g_autoptr (CfqpImage) x = calib_test_load_png ("grass-x2.png");
  g_autofree guint8 *direct = run_int8 (run, CFQP_BACKEND_REF, c, TRUE, x);
  g_autoptr (GError) err = NULL;
  g_autofree CfqpQParams *qp = cfqp_calibration_to_qparams (c, run, &err);
  g_autofree char *dir = g_dir_make_tmp ("cfqp-gptq-XXXXXX", &err);
  g_autofree char *path = g_build_filename (dir, "q.onnx", NULL);
  g_autoptr (CfqpModel) q = NULL;
  CfqpRunnerOptions o = CFQP_RUNNER_OPTIONS_INIT;
  g_autoptr (CfqpRunner) r = NULL;
  CfqpQuantisation quant = cfqp_calibration_get_quantisation (c, qp);
  gsize n = (gsize) 3 * x->width * 2 * x->height * 2;
  g_autofree guint8 *b = NULL;

  g_assert_no_error (err);
  g_assert_true (cfqp_model_export_qdq_full (run, &quant, path, &err));
  g_assert_no_error (err);
  q = cfqp_model_new_from_file (path, &err);
  g_assert_no_error (err);
  o.precision = CFQP_PRECISION_INT8;
  o.backend = CFQP_BACKEND_REF;
  o.n_threads = 1;
  o.qparams = cfqp_model_get_embedded_qparams (q);
  r = cfqp_runner_new (q, &o, &err);
  g_assert_no_error (err);
  b = upscale_bytes (r, x);
  g_assert_cmpmem (direct, n, b, n);
  /* taps for a QDQ model's integer weights are refused */
  {
    CfqpConvInfo info;
    g_autoptr (CfqpRunner) r2 = NULL;
    CfqpConvTaps one = quant.conv_taps[0];

    cfqp_model_get_conv (q, 0, 1, 1, &info);
    g_assert_true (info.fixed);
    one.output = info.output;
    o.conv_taps = &one;
    o.n_conv_taps = 1;
    r2 = cfqp_runner_new (q, &o, &err);
    g_assert_null (r2);
    g_assert_error (err, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID);
    g_assert_nonnull (strstr (err->message, "QDQ"));
  }
  g_unlink (path);
  g_rmdir (dir);
}

/* Bad tables are refused with the node named, and leave the running
 * program as it was. */
static void
test_bad_taps_refused (void)
{
  g_autoptr (CfqpModel) model = calib_test_load_model ("xlsr-x2-clip-op13.onnx");
  g_autoptr (CfqpModel) run = cfqp_model_new_clip_free (model, NULL, NULL);
  g_autoptr (CfqpCalibration) c = calibrate_cached (model, CFQP_WEIGHT_ROUNDING_GPTQ);
  g_autoptr (CfqpImage) x = calib_test_load_png ("grass-x2.png");
  g_autofree guint8 *before = run_int8 (run, CFQP_BACKEND_REF, c, TRUE, x);
  g_autoptr (GError) err = NULL;
  g_autofree CfqpQParams *qp = cfqp_calibration_to_qparams (c, run, &err);
  g_autoptr (CfqpRunner) r = int8_runner (run, CFQP_BACKEND_REF, c, TRUE);
  guint n_taps;
  const CfqpConvTaps *taps = cfqp_calibration_get_conv_taps (c, &n_taps);
  g_autofree CfqpConvTaps *bad = g_memdup2 (taps, 2 * sizeof (CfqpConvTaps));
  g_autofree gint8 *minus128 = g_memdup2 (taps[0].taps, taps[0].n_taps);
  gsize n = (gsize) 3 * x->width * 2 * x->height * 2;
  g_autofree guint8 *after = NULL;
  struct { guint output, n_taps; const gint8 *t; guint n; const char *msg; } cases[] = {
    { taps[0].output, taps[0].n_taps - 1, taps[0].taps, 1, "weight count" },
    { taps[0].output, taps[0].n_taps, minus128, 1, "outside" },
    { 0, taps[0].n_taps, taps[0].taps, 1, "no Conv" },
    { 9999, taps[0].n_taps, taps[0].taps, 1, "no Conv" },
    { taps[0].output, taps[0].n_taps, taps[0].taps, 2, "twice" },
  };

  g_assert_no_error (err);
  g_assert_cmpuint (n_taps, >=, 2);
  minus128[taps[0].n_taps / 2] = -128;
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    bad[0] = (CfqpConvTaps) { cases[i].output, cases[i].n_taps, cases[i].t };
    bad[1] = bad[0];
    g_assert_false (cfqp_runner_set_quantisation (r, &(CfqpQuantisation) { qp, bad, cases[i].n,
        NULL, 0 }, &err));
    g_assert_error (err, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID);
    g_test_message ("%s", err->message);
    g_assert_nonnull (strstr (err->message, cases[i].msg));
    g_clear_error (&err);
  }
  after = upscale_bytes (r, x);
  g_assert_cmpmem (before, n, after, n);
}

/* --- the file -------------------------------------------------------- */

static void
test_file_round_trip (void)
{
  g_autoptr (CfqpModel) model = calib_test_load_model ("xlsr-x2-clip-op13.onnx");
  g_autoptr (CfqpModel) run = cfqp_model_new_clip_free (model, NULL, NULL);
  g_autoptr (CfqpCalibration) c = calibrate_cached (model, CFQP_WEIGHT_ROUNDING_GPTQ);
  g_autoptr (CfqpCalibration) nearest = calibrate (model, CFQP_WEIGHT_ROUNDING_NEAREST);
  g_autofree char *json = cfqp_calibration_to_json (c, NULL);
  g_autofree char *json_nearest = cfqp_calibration_to_json (nearest, NULL);
  g_autoptr (GError) err = NULL;
  g_autoptr (CfqpCalibration) back = cfqp_calibration_new_from_json (json, -1, run, &err);
  guint n, n_back;
  const CfqpConvTaps *a = cfqp_calibration_get_conv_taps (c, &n);
  const CfqpConvTaps *b;

  g_assert_no_error (err);
  b = cfqp_calibration_get_conv_taps (back, &n_back);
  g_assert_cmpuint (n, ==, n_back);
  g_assert_cmpuint (n, >, 0);
  for (guint i = 0; i < n; i++) {
    g_assert_cmpuint (a[i].output, ==, b[i].output);
    g_assert_cmpmem (a[i].taps, a[i].n_taps, b[i].taps, b[i].n_taps);
  }
  g_assert_cmpint (cfqp_calibration_get_settings (back)->weight_rounding, ==,
      CFQP_WEIGHT_ROUNDING_GPTQ);
  g_assert_nonnull (strstr (json, "\"weight_rounding\" : \"gptq\""));
  /* nearest: no taps, and on the same grids the ranges do not depend on
   * the rounding (which grids the calibrator keeps may: it judges INT8
   * with the taps it rounded) */
  cfqp_calibration_get_conv_taps (nearest, &n);
  g_assert_cmpuint (n, ==, 0);
  g_assert_nonnull (strstr (json_nearest, "\"conv_taps\""));
  {
    g_autoptr (CfqpCalibration) g = calibrate_grids (model, CFQP_WEIGHT_ROUNDING_GPTQ,
        CFQP_ACTIVATION_GRIDS_TENSOR);
    g_autoptr (CfqpCalibration) r = calibrate_grids (model, CFQP_WEIGHT_ROUNDING_NEAREST,
        CFQP_ACTIVATION_GRIDS_TENSOR);

    for (guint i = 0; i < cfqp_calibration_get_n_tensors (g); i++)
      g_assert_cmpfloat (cfqp_calibration_get_tensor (g, i)->qparams.scale, ==,
          cfqp_calibration_get_tensor (r, i)->qparams.scale);
  }
}

static char *
replace (const char *s, const char *old, const char *new)
{
  const char *at = strstr (s, old);

  g_assert_nonnull (at);
  return g_strdup_printf ("%.*s%s%s", (int) (at - s), s, new, at + strlen (old));
}

/* Hostile conv_taps: each refused with a clear error, none reaches a runner. */
static void
test_file_hostile_taps (void)
{
  g_autoptr (CfqpModel) model = calib_test_load_model ("xlsr-x2-clip-op13.onnx");
  g_autoptr (CfqpModel) run = cfqp_model_new_clip_free (model, NULL, NULL);
  g_autoptr (CfqpCalibration) c = calibrate_cached (model, CFQP_WEIGHT_ROUNDING_GPTQ);
  g_autofree char *json = cfqp_calibration_to_json (c, NULL);
  guint n;
  const CfqpConvTaps *taps = cfqp_calibration_get_conv_taps (c, &n);
  const char *conv0 = cfqp_calibration_get_tensor (c, taps[0].output)->name;
  const char *conv1 = cfqp_calibration_get_tensor (c, taps[1].output)->name;
  g_autofree char *b64 = g_base64_encode ((const guchar *) taps[0].taps, taps[0].n_taps);
  g_autofree char *short_b64 = g_base64_encode ((const guchar *) taps[0].taps,
      taps[0].n_taps - 3);
  g_autofree gint8 *m128 = g_memdup2 (taps[0].taps, taps[0].n_taps);
  g_autofree char *m128_b64 = NULL;
  g_autofree char *key0 = g_strdup_printf ("\"conv\" : \"%s\"", conv0);
  g_autofree char *key1 = g_strdup_printf ("\"conv\" : \"%s\"", conv1);
  g_autofree char *taps0 = g_strdup_printf ("\"taps\" : \"%s\"", b64);
  struct { char *text; gint code; gboolean with_model; } cases[9];
  guint k = 0;

  m128[1] = -128;
  m128_b64 = g_base64_encode ((const guchar *) m128, taps[0].n_taps);
  cases[k++] = (typeof (cases[0])) { replace (json, taps0, "\"taps\" : \"!!!!\""),
    CFQP_CALIB_ERROR_INVALID, FALSE };
  cases[k++] = (typeof (cases[0])) { replace (json, taps0, "\"taps\" : \"QUJD=\""),
    CFQP_CALIB_ERROR_INVALID, FALSE };
  cases[k++] = (typeof (cases[0])) { replace (json, taps0, "\"taps\" : \"\""),
    CFQP_CALIB_ERROR_INVALID, FALSE };
  {
    g_autofree char *t = g_strdup_printf ("\"taps\" : \"%s\"", m128_b64);
    cases[k++] = (typeof (cases[0])) { replace (json, taps0, t), CFQP_CALIB_ERROR_INVALID,
      FALSE };
  }
  cases[k++] = (typeof (cases[0])) { replace (json, key0, "\"conv\" : \"no-such-tensor\""),
    CFQP_CALIB_ERROR_INVALID, FALSE };
  cases[k++] = (typeof (cases[0])) { replace (json, key1, key0), CFQP_CALIB_ERROR_INVALID,
    FALSE };
  cases[k++] = (typeof (cases[0])) { replace (json, "\"conv_taps\" : [", "\"conv_taps\" : 3, \"x\" : ["),
    CFQP_CALIB_ERROR_FORMAT, FALSE };
  {
    g_autofree char *t = g_strdup_printf ("\"taps\" : \"%s\"", short_b64);
    cases[k++] = (typeof (cases[0])) { replace (json, taps0, t),
      CFQP_CALIB_ERROR_TENSOR_MISMATCH, TRUE };
  }
  cases[k++] = (typeof (cases[0])) { replace (json, "\"gptq\"", "\"stochastic\""),
    CFQP_CALIB_ERROR_FORMAT, FALSE };
  g_assert_cmpuint (k, ==, G_N_ELEMENTS (cases));
  for (guint i = 0; i < k; i++) {
    g_autoptr (GError) err = NULL;
    g_autoptr (CfqpCalibration) bad = cfqp_calibration_new_from_json (cases[i].text, -1,
        cases[i].with_model ? run : NULL, &err);

    g_assert_null (bad);
    g_assert_error (err, CFQP_CALIB_ERROR, cases[i].code);
    g_test_message ("case %u: %s", i, err->message);
    g_free (cases[i].text);
  }
  /* a conv of the graph input's name: a tensor, but no conv computes it */
  {
    g_autoptr (GError) err = NULL;
    g_autofree char *in_key = g_strdup_printf ("\"conv\" : \"%s\"",
        cfqp_calibration_get_tensor (c, 0)->name);
    g_autofree char *text = replace (json, key0, in_key);
    g_autoptr (CfqpCalibration) bad = cfqp_calibration_new_from_json (text, -1, run, &err);

    g_assert_null (bad);
    g_assert_error (err, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_TENSOR_MISMATCH);
    g_assert_nonnull (strstr (err->message, "no Conv"));
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* grouped and depthwise convs; SAME auto padding; an input normalisation
   * folded into the first conv, whose border pads with its pad value */
  g_test_add_data_func ("/calib/gptq/least-conv-error/xlsr", "xlsr-x2-clip-op13.onnx",
      test_least_conv_error);
  g_test_add_data_func ("/calib/gptq/least-conv-error/samepad", "samepad-x2-op13.onnx",
      test_least_conv_error);
  g_test_add_data_func ("/calib/gptq/least-conv-error/espcn-norm", "espcn-x3-norm-op13.onnx",
      test_least_conv_error);
  g_test_add_func ("/calib/gptq/runner-takes-taps", test_runner_takes_taps);
  g_test_add_func ("/calib/gptq/qdq-export-keeps-taps", test_qdq_export_keeps_taps);
  g_test_add_func ("/calib/gptq/bad-taps-refused", test_bad_taps_refused);
  g_test_add_func ("/calib/gptq/file-round-trip", test_file_round_trip);
  g_test_add_func ("/calib/gptq/file-hostile-taps", test_file_hostile_taps);
  return g_test_run ();
}
