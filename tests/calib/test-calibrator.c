/* End to end: calibrate reference networks on the shipped test images
 * through the engine, then run them in INT8 and compare with FP32. */
#include "cfqp-calib-private.h"

#include <math.h>
#include <glib/gstdio.h>
#include "calib-test-utils.h"
#include <string.h>

static double
psnr (const float *a, const float *b, gsize n)
{
  double se = 0;

  for (gsize i = 0; i < n; i++) {
    /* What reaches the screen: both saturated to the pixel range. */
    double d = CLAMP (a[i], 0.0f, 1.0f) - CLAMP (b[i], 0.0f, 1.0f);
    se += d * d;
  }
  return se == 0 ? 99.0 : 10 * log10 (n / se);
}

/* PSNR of INT8 (with the calibration) against FP32 on one image. */
static double
int8_psnr (CfqpModel *model, const CfqpCalibration *calib, const CfqpImage *x)
{
  CfqpRunnerOptions o8 = CFQP_RUNNER_OPTIONS_INIT, o32 = CFQP_RUNNER_OPTIONS_INIT;
  g_autoptr (GError) err = NULL;
  g_autofree CfqpQParams *qp = cfqp_calibration_to_qparams (calib, model, &err);
  g_autoptr (CfqpRunner) r8 = NULL, r32 = NULL;
  guint num, den;
  gsize n;
  g_autofree float *y8 = NULL, *y32 = NULL;

  cfqp_model_get_scale_ratio (model, &num, &den);   /* ×3/2 nets too */
  n = (gsize) x->channels * (x->width * num / den) * (x->height * num / den);
  y8 = g_new (float, n);
  y32 = g_new (float, n);

  g_assert_no_error (err);
  o8.precision = CFQP_PRECISION_INT8;
  o8.backend = CFQP_BACKEND_REF;
  o8.n_threads = 1;
  cfqp_calibration_fill_runner_options (calib, qp, &o8);
  o32.n_threads = 1;
  r8 = cfqp_runner_new (model, &o8, &err);
  g_assert_no_error (err);
  r32 = cfqp_runner_new (model, &o32, &err);
  g_assert_no_error (err);
  g_assert_true (cfqp_runner_run_f32 (r8, x->data, x->width, x->height, y8, &err));
  g_assert_no_error (err);
  g_assert_true (cfqp_runner_run_f32 (r32, x->data, x->width, x->height, y32, &err));
  g_assert_no_error (err);
  return psnr (y8, y32, n);
}

/* A calibrator whose RD is two of the test images. */
static CfqpCalibrator *
calibrator_on_two_frames (CfqpModel *model, const CfqpCalibSettings *s)
{
  const char *train[] = { "boats-x3.png", "forest-x3.png" };
  CfqpCalibrator *cal = cfqp_calibrator_new (model, s);

  for (guint i = 0; i < G_N_ELEMENTS (train); i++) {
    g_autoptr (CfqpImage) x = calib_test_load_png (train[i]);
    g_assert_true (cfqp_calibrator_add_frame (cal, x->data, x->width, x->height));
  }
  return cal;
}

static CfqpCalibration *
calibrate (CfqpModel *model, const CfqpCalibSettings *s, CfqpCalibrator **out_cal)
{
  g_autoptr (CfqpCalibrator) cal = calibrator_on_two_frames (model, s);
  g_autoptr (GError) err = NULL;
  CfqpCalibration *c;

  c = cfqp_calibrator_compute (cal, NULL, &err);
  g_assert_no_error (err);
  g_assert_nonnull (c);
  if (out_cal)
    *out_cal = g_steal_pointer (&cal);
  return c;
}

/* ABPN-like ×3 (concat, no clips): calibrated on two images, INT8 stays
 * close to FP32 on a third it never saw, for each observer. */
static void
test_abpn_int8 (void)
{
  g_autoptr (CfqpModel) model = calib_test_load_model ("abpn-x3-cat-op13.onnx");
  g_autoptr (CfqpImage) held_out = calib_test_load_png ("grass-x3.png");
  CfqpObserverKind kinds[] = { CFQP_OBSERVER_MINMAX, CFQP_OBSERVER_PERCENTILE,
    CFQP_OBSERVER_MSE };

  for (guint k = 0; k < G_N_ELEMENTS (kinds); k++) {
    CfqpCalibSettings s;
    g_autoptr (CfqpCalibration) c = NULL;
    guint out;
    double p;

    cfqp_calib_settings_init (&s);
    s.observer = kinds[k];
    s.clip_free = FALSE;   /* no clips: the model runs as it is */
    c = calibrate (model, &s, NULL);
    g_assert_cmpuint (cfqp_calibration_get_n_tensors (c), ==, cfqp_model_get_n_tensors (model));
    g_assert_cmpuint (cfqp_calibration_get_n_samples (c), ==, 2);
    /* 2 frames + review, 2 crops and (unless flat) a range copy each. */
    g_assert_cmpuint (cfqp_calibration_get_n_images (c), ==, 2 * 5);
    g_assert_cmpstr (cfqp_calibration_get_model_hash (c), ==, cfqp_model_get_hash (model));
    out = cfqp_model_get_output_tensor (model);
    g_assert_cmpfloat (cfqp_calibration_get_tensor (c, 0)->qparams.scale, ==, 1.0f / 255.0f);
    g_assert_cmpfloat (cfqp_calibration_get_tensor (c, out)->qparams.scale, ==, 1.0f / 255.0f);
    for (guint i = 0; i < cfqp_calibration_get_n_tensors (c); i++) {
      const CfqpCalibTensor *t = cfqp_calibration_get_tensor (c, i);
      g_autoptr (GError) err = NULL;

      g_assert_true (cfqp_calib_tensor_validate (t, &err));
      g_assert_cmpstr (t->name, ==, cfqp_model_get_tensor_name (model, i));
    }
    p = int8_psnr (model, c, held_out);
    g_test_message ("abpn x3, observer %s: PSNR(INT8, FP32) on grass = %.2f dB",
        cfqp_observer_kind_to_nick (kinds[k]), p);
    g_assert_cmpfloat (p, >, 36.0);
  }
}

/* Why the default is full CFQP and not range targeting alone (which the
 * ablation of docs/cfqp.md, on a 16-crop RD, cannot tell apart): from an
 * RD of only two frames — a live stream's first — the re-viewed outputs
 * and output crops are what carry the ranges over to unseen content. */
static void
test_tiny_rd_needs_review_and_crops (void)
{
  g_autoptr (CfqpModel) model = calib_test_load_model ("abpn-x3-cat-op13.onnx");
  g_autoptr (CfqpImage) held_out = calib_test_load_png ("grass-x3.png");
  double p[2];

  for (guint k = 0; k < 2; k++) {
    CfqpCalibSettings s;
    g_autoptr (CfqpCalibration) c = NULL;

    cfqp_calib_settings_init (&s);
    s.observer = CFQP_OBSERVER_MINMAX;
    s.clip_free = FALSE;
    s.augment = k ? cfqp_augment_preset_get_flags (CFQP_AUGMENT_PRESET_FULL)
                  : cfqp_augment_preset_get_flags (CFQP_AUGMENT_PRESET_RANGE);
    c = calibrate (model, &s, NULL);
    p[k] = int8_psnr (model, c, held_out);
  }
  g_test_message ("2-frame RD, minmax: PSNR(INT8, FP32) on grass: range %.2f dB, full %.2f dB",
      p[0], p[1]);
  g_assert_cmpfloat (p[1], >, p[0] + 3.0);
}

/* The check can fail: the same calibration with every internal range cut
 * to an eighth (heavy clipping) drops far below the threshold. */
static void
test_bad_ranges_detected (void)
{
  g_autoptr (CfqpModel) model = calib_test_load_model ("abpn-x3-cat-op13.onnx");
  g_autoptr (CfqpImage) held_out = calib_test_load_png ("grass-x3.png");
  g_autoptr (CfqpCalibration) good = calibrate (model, NULL, NULL);
  g_autoptr (CfqpCalibration) bad = NULL;
  guint n = cfqp_calibration_get_n_tensors (good);
  g_autofree CfqpCalibTensor *t = g_new (CfqpCalibTensor, n);
  double p;

  for (guint i = 0; i < n; i++) {
    t[i] = *cfqp_calibration_get_tensor (good, i);
    t[i].qparams = cfqp_qparams_from_range (t[i].min / 8, t[i].max / 8);
  }
  bad = cfqp_calibration_new (cfqp_calibration_get_model_hash (good), FALSE,
      cfqp_calibration_get_settings (good), 2, 2, t, n);
  p = int8_psnr (model, bad, held_out);
  g_test_message ("ranges / 8: PSNR(INT8, FP32) = %.2f dB", p);
  g_assert_cmpfloat (p, <, 30.0);
}

/* A clipped model (clamp after the tile residual) is calibrated
 * clip-free: the calibrator runs the clip-free copy, whose hash and tensors
 * the calibration matches, and INT8 tracks that copy's FP32 output. */
static void
test_clip_free (void)
{
  g_autoptr (CfqpModel) model = calib_test_load_model ("abpn-x3-tile-clip-op13.onnx");
  g_autoptr (CfqpImage) held_out = calib_test_load_png ("grass-x3.png");
  g_autoptr (CfqpCalibrator) cal = NULL;
  g_autoptr (CfqpCalibration) c = NULL;
  CfqpCalibSettings s;
  CfqpModel *cf;
  double p;

  cfqp_calib_settings_init (&s);
  s.clip_free = TRUE;
  c = calibrate (model, &s, &cal);
  cf = cfqp_calibrator_get_model (cal);
  g_assert_true (cf != model);
  g_assert_true (cfqp_calibration_get_clip_free (c));
  p = int8_psnr (cf, c, held_out);
  g_test_message ("abpn x3 tile-clip, clip-free: PSNR(INT8, FP32) on grass = %.2f dB", p);
  /* same hash and tensor names, but the clipped graph: refused */
  {
    g_autoptr (GError) err = NULL;
    g_autofree CfqpQParams *qp = cfqp_calibration_to_qparams (c, model, &err);
    g_assert_null (qp);
    g_assert_error (err, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_MODEL_MISMATCH);
  }
  g_assert_cmpfloat (p, >, 36.0);
}

/* Save, load against the model, run: the loaded file drives the runner to
 * the same bytes as the in-memory calibration.  A different model is
 * refused by hash. */
static void
test_file_with_model (void)
{
  g_autoptr (CfqpModel) model = calib_test_load_model ("abpn-x3-cat-op13.onnx");
  g_autoptr (CfqpModel) other = calib_test_load_model ("espcn-x3-norm-op13.onnx");
  g_autoptr (CfqpCalibration) c = NULL, loaded = NULL;
  g_autoptr (GError) err = NULL;
  g_autofree char *dir = g_dir_make_tmp ("cfqp-calib-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "abpn.calib.json", NULL);
  g_autofree CfqpQParams *a = NULL, *b = NULL;
  CfqpCalibSettings s;

  cfqp_calib_settings_init (&s);
  s.clip_free = FALSE;
  s.augment = CFQP_AUGMENT_REVIEW;
  c = calibrate (model, &s, NULL);
  g_assert_true (cfqp_calibration_save (c, path, &err));
  g_assert_no_error (err);
  loaded = cfqp_calibration_load (path, model, &err);
  g_assert_no_error (err);
  a = cfqp_calibration_to_qparams (c, model, &err);
  g_assert_no_error (err);
  b = cfqp_calibration_to_qparams (loaded, model, &err);
  g_assert_no_error (err);
  g_assert_cmpmem (a, cfqp_model_get_n_tensors (model) * sizeof *a, b,
      cfqp_model_get_n_tensors (model) * sizeof *b);

  g_assert_null (cfqp_calibration_load (path, other, &err));
  g_assert_error (err, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_MODEL_MISMATCH);
  g_assert_nonnull (strstr (err->message, path));
  g_clear_error (&err);
  g_assert_null (cfqp_calibration_to_qparams (c, other, &err));
  g_assert_error (err, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_MODEL_MISMATCH);
  g_unlink (path);
  g_rmdir (dir);
}

/* Same frames, same seed: the same calibration, twice from one
 * calibrator and from a second one. */
static void
test_deterministic (void)
{
  g_autoptr (CfqpModel) model = calib_test_load_model ("abpn-x3-cat-op13.onnx");
  g_autoptr (CfqpCalibrator) cal = NULL;
  g_autoptr (CfqpCalibration) a = NULL, b = NULL, c = NULL;
  g_autoptr (GError) err = NULL;
  g_autofree char *ja = NULL, *jb = NULL, *jc = NULL;
  CfqpCalibSettings s;

  cfqp_calib_settings_init (&s);
  s.crop_size = 24;
  a = calibrate (model, &s, &cal);
  b = cfqp_calibrator_compute (cal, NULL, &err);
  g_assert_no_error (err);
  c = calibrate (model, &s, NULL);
  ja = cfqp_calibration_to_json (a, NULL);
  jb = cfqp_calibration_to_json (b, NULL);
  jc = cfqp_calibration_to_json (c, NULL);
  g_assert_cmpstr (ja, ==, jb);
  g_assert_cmpstr (ja, ==, jc);
}

/* The residuals that find_pixel_residuals marks for c's own grids, and
 * how many. */
static guint
pixel_residuals (CfqpModel *model, const CfqpCalibration *c, gboolean *residual)
{
  guint n = cfqp_calibration_get_n_tensors (c), count = 0;
  g_autofree CfqpQParams *table = g_new (CfqpQParams, n);

  for (guint i = 0; i < n; i++)
    table[i] = cfqp_calibration_get_tensor (c, i)->qparams;
  cfqp_model_find_pixel_residuals (model, table, residual);
  for (guint i = 0; i < n; i++)
    count += residual[i];
  return count;
}

static CfqpModel *
load_shipped_model (const char *name)
{
  g_autofree char *path = g_build_filename (CFQP_MODELS_DIR, name, NULL);
  g_autoptr (GError) err = NULL;
  CfqpModel *m = cfqp_model_new_from_file (path, &err);

  g_assert_no_error (err);
  return m;
}

/* Calibrates model (clip_free as given) with residual_grid pixel and
 * calibrated: every tensor but the marked residual (expected: its name, or
 * NULL for none) has the same grid in both, and the residual has its
 * snapped form.  PSNR(INT8, FP32) on grass with each: [0] pixel, [1]
 * calibrated. */
static void
check_residual_grids (CfqpModel *model, const char *image, gboolean clip_free,
    const char *expected, double *psnr_out)
{
  g_autoptr (CfqpImage) held_out = calib_test_load_png (image);
  g_autoptr (CfqpCalibrator) cal = NULL;
  g_autoptr (CfqpCalibration) pix = NULL, obs = NULL;
  g_autofree gboolean *residual = NULL;
  CfqpModel *run;
  CfqpCalibSettings s;
  guint n;

  cfqp_calib_settings_init (&s);
  g_assert_cmpint (s.residual_grid, ==, CFQP_RESIDUAL_GRID_PIXEL);   /* the default */
  s.clip_free = clip_free;
  /* not the subject; the faster (the ARM64 leg runs this under qemu) */
  s.weight_rounding = CFQP_WEIGHT_ROUNDING_NEAREST;
  s.augment = CFQP_AUGMENT_REVIEW;
  s.activation_grids = CFQP_ACTIVATION_GRIDS_TENSOR;
  pix = calibrate (model, &s, &cal);
  run = cfqp_calibrator_get_model (cal);
  /* one grid per tensor by choice: no cross-check, nothing measured */
  g_assert_false (cfqp_calibration_get_fidelity (pix, NULL));
  s.residual_grid = CFQP_RESIDUAL_GRID_CALIBRATED;
  obs = calibrate (model, &s, NULL);
  g_assert_cmpint (cfqp_calibration_get_settings (pix)->residual_grid, ==,
      CFQP_RESIDUAL_GRID_PIXEL);
  g_assert_cmpint (cfqp_calibration_get_settings (obs)->residual_grid, ==,
      CFQP_RESIDUAL_GRID_CALIBRATED);
  n = cfqp_calibration_get_n_tensors (obs);
  residual = g_new (gboolean, n);
  g_assert_cmpuint (pixel_residuals (run, obs, residual), ==, expected ? 1 : 0);
  for (guint i = 0; i < n; i++) {
    CfqpQParams a = cfqp_calibration_get_tensor (pix, i)->qparams;
    CfqpQParams b = cfqp_calibration_get_tensor (obs, i)->qparams;

    if (residual[i]) {
      CfqpQParams want = cfqp_qparams_snap_to_pixel_step (b);

      g_assert_cmpstr (cfqp_model_get_tensor_name (run, i), ==, expected);
      g_test_message ("%s: observer's grid %.3f pixel steps, z %d; now %.3f, z %d",
          expected, b.scale * 255, b.zero_point, a.scale * 255, a.zero_point);
      g_assert_cmpfloat (a.scale, ==, want.scale);
      g_assert_cmpint (a.zero_point, ==, want.zero_point);
    } else {
      g_assert_cmpfloat (a.scale, ==, b.scale);
      g_assert_cmpint (a.zero_point, ==, b.zero_point);
    }
  }
  psnr_out[0] = int8_psnr (run, pix, held_out);
  psnr_out[1] = int8_psnr (run, obs, held_out);
  g_test_message ("%s: PSNR(INT8, FP32) on %s, residual-grid pixel %.2f dB, calibrated %.2f dB",
      expected ? expected : "(no residual)", image, psnr_out[0], psnr_out[1]);
}

/* The shipped anchored nets add their last conv onto the input pixels into
 * the output, on a grid finer than the pixel step: that residual, and only
 * it, takes the pixel step, and INT8 comes closer to FP32 (the sum onto the
 * pixels is no longer rounded twice).  So does a clipped twin calibrated
 * with its clamp: the engine moves the clamp before the depth-to-space and
 * fuses it into the sum, which stays on the pixel grid.
 *
 * A residual on a grid coarser than the pixel step (the reference ABPN's
 * random weights) keeps it.  Nets without an anchor have no residual, nor
 * has the ×3/2 net, whose anchor is a conv (not on the pixel grid; the
 * engine's /int8/pixel-residuals checks the other shapes): nothing changes. */
static const struct {
  const char *model;      /* "refnet:" a reference net, else models/ */
  const char *image;
  gboolean    clip_free;
  const char *residual;   /* NULL: none */
  gboolean    gains;      /* INT8 closer to FP32 by > 0.3 dB; else the same */
} residual_cases[] = {
  { "abpn-x3.onnx", "grass-x3.png", TRUE, "/last/Conv_output_0", TRUE },
  { "quicksrnet_s-x2.onnx", "grass-x2.png", TRUE, "/last/Conv_output_0", TRUE },
  { "abpn-x3-clipped.onnx", "grass-x3.png", FALSE, "/last/Conv_output_0", TRUE },
  { "quicksrnet_s2d-x1.5.onnx", "grass-x1.5.png", TRUE, NULL, FALSE },
  { "refnet:abpn-x3-cat-op13.onnx", "grass-x3.png", FALSE, "/body/body.8/Conv_output_0", FALSE },
  { "refnet:xlsr-x2-clip-op13.onnx", "grass-x2.png", TRUE, NULL, FALSE },
};

static void
test_residual_grid (gconstpointer data)
{
  guint k = GPOINTER_TO_UINT (data);
  const char *name = residual_cases[k].model;
  g_autoptr (CfqpModel) model = g_str_has_prefix (name, "refnet:") ?
      calib_test_load_model (name + strlen ("refnet:")) : load_shipped_model (name);
  double p[2];

  check_residual_grids (model, residual_cases[k].image, residual_cases[k].clip_free,
      residual_cases[k].residual, p);
  if (residual_cases[k].gains)
    g_assert_cmpfloat (p[0], >, p[1] + 0.3);
  else
    g_assert_cmpfloat (p[0], ==, p[1]);
}

/* One candidate of the calibrator's (exponent < 0: one grid per tensor)
 * on the two-frame RD, and INT8's squared error on it. */
static CfqpCalibration *
calibrate_candidate (CfqpModel *model, const CfqpCalibSettings *s, double exponent,
                     double *rd_error)
{
  g_autoptr (CfqpCalibrator) cal = calibrator_on_two_frames (model, s);
  g_autoptr (GError) err = NULL;
  CfqpCalibration *c = exponent < 0 ?
      cfqp_calibrator_compute_candidates (cal, NULL, 0, TRUE, rd_error, NULL, &err) :
      cfqp_calibrator_compute_candidates (cal, &exponent, 1, FALSE, rd_error, NULL, &err);

  g_assert_no_error (err);
  g_assert_nonnull (c);
  return c;
}

/* Each candidate's steps: one per channel for exactly the tensors that may
 * take them, the widest channel's 1, none under min. */
static void
check_steps (CfqpModel *model, const CfqpCalibration *c, float min)
{
  guint nt = cfqp_model_get_n_tensors (model), n_steps, n_allowed = 0;
  g_autofree gboolean *allowed = g_new (gboolean, nt);
  const CfqpChannelSteps *steps = cfqp_calibration_get_channel_steps (c, &n_steps);

  cfqp_model_find_channel_step_tensors (model, allowed);
  for (guint v = 0; v < nt; v++)
    n_allowed += allowed[v];
  g_assert_cmpuint (n_allowed, >, 0);
  g_assert_cmpuint (n_steps, ==, n_allowed);
  for (guint i = 0; i < n_steps; i++) {
    float top = 0;

    g_assert_true (allowed[steps[i].tensor]);
    g_assert_true (i == 0 || steps[i].tensor > steps[i - 1].tensor);
    for (guint c = 0; c < steps[i].n_channels; c++) {
      g_assert_cmpfloat (steps[i].steps[c], >=, min);
      g_assert_cmpfloat (steps[i].steps[c], <=, 1.f);
      top = MAX (top, steps[i].steps[c]);
    }
    g_assert_cmpfloat (top, ==, 1.f);
  }
  g_assert_true (cfqp_calibration_check_model (c, model, NULL));
}

/* Per-channel grids (the default).  The candidates: steps as the square
 * root of the range ratio (none under the floor's 1/4), as the ratio
 * itself (the square of the former, none under 1/16), one grid per tensor
 * (no steps).  The calibrator keeps, byte for byte, the candidate whose
 * INT8 errs least against FP32 on the RD's frames; on a held-out image the
 * two frames of this RD need not show every channel's range (PSNR printed:
 * the reason an RD must be representative). */
static void
test_channel_steps (void)
{
  g_autoptr (CfqpModel) model = calib_test_load_model ("abpn-x3-cat-op13.onnx");
  g_autoptr (CfqpImage) held_out = calib_test_load_png ("grass-x3.png");
  g_autoptr (CfqpCalibration) kept = NULL;
  CfqpCalibration *cand[3];
  const char *what[3] = { "one grid per tensor", "steps ratio^0.5", "steps ratio^1" };
  const CfqpChannelSteps *sqrt_steps, *linear_steps;
  g_autofree char *kept_json = NULL, *best_json = NULL;
  guint n_steps, n_linear, best = 0;
  CfqpCalibSettings s;
  double rd[3], n_values = 0;

  cfqp_calib_settings_init (&s);
  g_assert_cmpint (s.activation_grids, ==, CFQP_ACTIVATION_GRIDS_CHANNEL);
  s.clip_free = FALSE;
  kept = calibrate (model, &s, NULL);
  cand[0] = calibrate_candidate (model, &s, -1, &rd[0]);
  cand[1] = calibrate_candidate (model, &s, 0.5, &rd[1]);
  cand[2] = calibrate_candidate (model, &s, 1.0, &rd[2]);
  cfqp_calibration_get_channel_steps (cand[0], &n_steps);
  g_assert_cmpuint (n_steps, ==, 0);
  check_steps (model, cand[1], 0.25f);
  check_steps (model, cand[2], 1.f / 16);
  sqrt_steps = cfqp_calibration_get_channel_steps (cand[1], &n_steps);
  linear_steps = cfqp_calibration_get_channel_steps (cand[2], &n_linear);
  g_assert_cmpuint (n_steps, ==, n_linear);
  for (guint i = 0; i < n_steps; i++)
    for (guint c = 0; c < sqrt_steps[i].n_channels; c++)
      if (linear_steps[i].steps[c] > 1.f / 16)
        g_assert_cmpfloat_with_epsilon (linear_steps[i].steps[c],
            sqrt_steps[i].steps[c] * sqrt_steps[i].steps[c], 1e-6);
  {
    /* the steps named for the output tensor: refused against the model */
    g_autofree char *json = cfqp_calibration_to_json (cand[1], NULL);
    g_autofree char *from = g_strdup_printf ("\"tensor\" : \"%s\"",
        cfqp_model_get_tensor_name (model, sqrt_steps[0].tensor));
    g_autofree char *to = g_strdup_printf ("\"tensor\" : \"%s\"",
        cfqp_model_get_tensor_name (model, cfqp_model_get_output_tensor (model)));
    char *at = strstr (json, from);
    g_autofree char *bad = NULL;
    g_autoptr (GError) err = NULL;
    g_autoptr (CfqpCalibration) loaded = NULL;

    g_assert_nonnull (at);
    bad = g_strdup_printf ("%.*s%s%s", (int) (at - json), json, to, at + strlen (from));
    loaded = cfqp_calibration_new_from_json (bad, -1, model, &err);
    g_assert_null (loaded);
    g_assert_error (err, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_TENSOR_MISMATCH);
    g_test_message ("%s", err->message);
    g_assert_nonnull (strstr (err->message, "calibration's channel steps"));
  }
  {
    /* the per-channel side observes what the model with the steps folded
     * in computes: calibrated as such, one grid per tensor, it sees the
     * same ranges (but for float rounding) */
    g_autoptr (GError) err = NULL;
    g_autoptr (CfqpModel) folded = cfqp_model_new_with_channel_steps (model, sqrt_steps,
        n_steps, &err);
    g_autoptr (CfqpCalibration) plain = NULL;

    g_assert_no_error (err);
    plain = calibrate_candidate (folded, &s, -1, NULL);
    for (guint i = 0; i < cfqp_model_get_n_tensors (model); i++) {
      const CfqpCalibTensor *a = cfqp_calibration_get_tensor (cand[1], i);
      const CfqpCalibTensor *b = cfqp_calibration_get_tensor (plain, i);

      g_assert_cmpfloat_with_epsilon (a->min, b->min, 1e-4 * MAX (1, fabs (b->min)));
      g_assert_cmpfloat_with_epsilon (a->max, b->max, 1e-4 * MAX (1, fabs (b->max)));
      g_assert_cmpfloat_with_epsilon (a->qparams.scale, b->qparams.scale,
          1e-3 * b->qparams.scale);
    }
  }
  {
    /* the values the cross-check summed over: both frames' outputs, ×3 */
    const char *train[] = { "boats-x3.png", "forest-x3.png" };

    for (guint i = 0; i < G_N_ELEMENTS (train); i++) {
      g_autoptr (CfqpImage) x = calib_test_load_png (train[i]);

      n_values += (double) x->channels * (3 * x->width) * (3 * x->height);
    }
  }
  for (guint k = 0; k < 3; k++) {
    CfqpCalibFidelity f;

    /* each candidate's fidelity is its own cross-check error as a PSNR */
    g_assert_true (cfqp_calibration_get_fidelity (cand[k], &f));
    g_assert_true (f.held_out);
    g_assert_cmpuint (f.n_frames, ==, 2);
    g_assert_cmpfloat_with_epsilon (f.psnr, 10 * log10 (n_values / rd[k]), 1e-9);
    g_test_message ("abpn x3, %s: INT8 squared error against FP32 on the RD frames %.6g "
        "(PSNR %.2f dB), PSNR on held-out grass %.2f dB", what[k], rd[k], f.psnr,
        int8_psnr (model, cand[k], held_out));
    g_assert_cmpuint (cfqp_calibration_get_n_images (cand[k]), ==,
        cfqp_calibration_get_n_images (kept));
    if (rd[k] < rd[best])
      best = k;
  }
  /* the candidates differ, so keeping another than the least is seen */
  g_assert_cmpfloat (rd[0], !=, rd[1]);
  g_assert_cmpfloat (rd[1], !=, rd[2]);
  g_assert_cmpfloat (rd[0], !=, rd[2]);
  kept_json = cfqp_calibration_to_json (kept, NULL);
  best_json = cfqp_calibration_to_json (cand[best], NULL);
  g_assert_cmpstr (kept_json, ==, best_json);   /* the fidelity included */
  g_assert_nonnull (strstr (kept_json, "\"held_out\" : true"));
  for (guint k = 0; k < 3; k++)
    cfqp_calibration_unref (cand[k]);
}

/* A model none of whose tensors can take channel steps (a clipped net,
 * calibrated with its clips) has one candidate, one grid per tensor; with
 * activation-grids=channel (the default) it is still checked, so that its
 * calibration carries what INT8 costs. */
static void
test_fidelity_without_steps (void)
{
  g_autoptr (CfqpModel) model = load_shipped_model ("quicksrnet_s-x2-clipped.onnx");
  g_autoptr (CfqpCalibrator) cal = NULL;
  g_autoptr (CfqpCalibration) c = NULL;
  g_autofree gboolean *allowed = NULL;
  CfqpModel *run;
  CfqpCalibSettings s;
  CfqpCalibFidelity f;
  guint n_steps;

  cfqp_calib_settings_init (&s);
  s.clip_free = FALSE;   /* its clips keep every tensor from taking steps */
  s.weight_rounding = CFQP_WEIGHT_ROUNDING_NEAREST;   /* not the subject */
  s.augment = CFQP_AUGMENT_REVIEW;
  c = calibrate (model, &s, &cal);
  run = cfqp_calibrator_get_model (cal);
  allowed = g_new0 (gboolean, cfqp_model_get_n_tensors (run));
  cfqp_model_find_channel_step_tensors (run, allowed);
  for (guint v = 0; v < cfqp_model_get_n_tensors (run); v++)
    g_assert_false (allowed[v]);
  cfqp_calibration_get_channel_steps (c, &n_steps);
  g_assert_cmpuint (n_steps, ==, 0);
  g_assert_true (cfqp_calibration_get_fidelity (c, &f));
  g_assert_true (f.held_out);
  g_assert_cmpuint (f.n_frames, ==, 2);
  g_assert_cmpfloat (f.psnr, >, 20);
  g_test_message ("quicksrnet_s x2 clipped: PSNR(INT8, FP32) %.2f dB on held-out frames",
      f.psnr);
}

static void
test_errors (void)
{
  g_autoptr (CfqpModel) model = calib_test_load_model ("abpn-x3-cat-op13.onnx");
  g_autoptr (CfqpCalibrator) cal = cfqp_calibrator_new (model, NULL);
  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  g_autoptr (CfqpImage) x = calib_test_load_png ("boats-x3.png");
  g_autoptr (GError) err = NULL;

  g_assert_null (cfqp_calibrator_compute (cal, NULL, &err));
  g_assert_error (err, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_NO_DATA);
  g_clear_error (&err);
  cfqp_calibrator_add_frame (cal, x->data, x->width, x->height);
  g_cancellable_cancel (cancel);
  g_assert_null (cfqp_calibrator_compute (cal, cancel, &err));
  g_assert_error (err, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

/* A ×3/2 net takes even sides only: an odd frame (79×53 of boats-x1.5)
 * is calibrated on its even top-left part, with the full CFQP
 * augmentation, instead of failing the computation. */
static void
test_ratio_net_odd_frame (void)
{
  g_autofree char *path = test_data_path ("elements", "tiny-x1.5.onnx");
  g_autoptr (GError) err = NULL;
  g_autoptr (CfqpModel) model = cfqp_model_new_from_file (path, &err);
  g_autoptr (CfqpCalibrator) cal = NULL;
  g_autoptr (CfqpImage) x = calib_test_load_png ("boats-x1.5.png");
  g_autoptr (CfqpImage) odd = cfqp_image_crop (x, 1, 1, 79, 53);
  g_autoptr (CfqpCalibration) c = NULL;

  g_assert_no_error (err);
  cal = cfqp_calibrator_new (model, NULL);
  g_assert_true (cfqp_calibrator_add_frame (cal, odd->data, odd->width, odd->height));
  c = cfqp_calibrator_compute (cal, NULL, &err);
  g_assert_no_error (err);
  g_assert_nonnull (c);
  {
    /* one frame: judged on itself, and said so */
    CfqpCalibFidelity f;

    g_assert_true (cfqp_calibration_get_fidelity (c, &f));
    g_assert_false (f.held_out);
    g_assert_cmpuint (f.n_frames, ==, 1);
    g_assert_cmpfloat (f.psnr, >, 20);
    g_assert_cmpfloat (f.psnr, <=, CFQP_FIDELITY_MAX_PSNR);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/calib/calibrator/abpn-int8", test_abpn_int8);
  g_test_add_func ("/calib/calibrator/tiny-rd-needs-review-and-crops",
      test_tiny_rd_needs_review_and_crops);
  g_test_add_func ("/calib/calibrator/bad-ranges-detected", test_bad_ranges_detected);
  g_test_add_func ("/calib/calibrator/clip-free", test_clip_free);
  g_test_add_func ("/calib/calibrator/file-with-model", test_file_with_model);
  g_test_add_func ("/calib/calibrator/deterministic", test_deterministic);
  g_test_add_func ("/calib/calibrator/ratio-net-odd-frame", test_ratio_net_odd_frame);
  g_test_add_func ("/calib/calibrator/errors", test_errors);
  g_test_add_func ("/calib/calibrator/channel-steps", test_channel_steps);
  g_test_add_func ("/calib/calibrator/fidelity-without-steps", test_fidelity_without_steps);
  for (guint k = 0; k < G_N_ELEMENTS (residual_cases); k++) {
    g_autofree char *path = g_strdup_printf ("/calib/calibrator/residual-grid/%s",
        residual_cases[k].model);

    g_test_add_data_func (path, GUINT_TO_POINTER (k), test_residual_grid);
  }
  return g_test_run ();
}
