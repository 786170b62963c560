/* The default model of each scale beats bicubic on the shipped validation
 * crops (photos it was not trained on), through the engine, FP32 and INT8
 * with the shipped calibration. */
#include "cfqp-engine.h"
#include "cfqp-calib.h"
#include "test-png.h"

#include <math.h>

/* Asserted gain of the default model over bicubic, Y-PSNR dB, mean over
 * the three crops: well below what models/README.md reports, so the test
 * catches a broken model or engine, not training noise. */
#define MIN_GAIN_DB 0.5

static double
y_psnr (const float *a, const float *b, guint w, guint h, guint shave)
{
  gsize n = (gsize) w * h;
  double se = 0;

  for (guint y = shave; y < h - shave; y++)
    for (guint x = shave; x < w - shave; x++) {
      gsize p = (gsize) y * w + x;
      double ya = 0, yb = 0;
      static const double k[3] = { 65.481, 128.553, 24.966 };
      for (guint c = 0; c < 3; c++) {
        ya += k[c] * nearbyint (CLAMP (a[c * n + p], 0.f, 1.f) * 255.0) / 255.0;
        yb += k[c] * nearbyint (CLAMP (b[c * n + p], 0.f, 1.f) * 255.0) / 255.0;
      }
      se += (ya - yb) * (ya - yb);
    }
  return 10 * log10 (255.0 * 255.0 / (se / ((double) (w - 2 * shave) * (h - 2 * shave))));
}

static void
test_scale (gconstpointer data)
{
  guint scale = GPOINTER_TO_UINT (data);
  const char *crops[] = { "boats", "forest", "grass" };
  g_autofree char *model_path = g_strdup_printf ("%s/models/default-x%u.onnx",
      CFQP_SOURCE_ROOT, scale);
  g_autofree char *calib_path = g_strdup_printf ("%s/models/default-x%u.calib.json",
      CFQP_SOURCE_ROOT, scale);
  g_autoptr (GError) error = NULL;
  g_autoptr (CfqpModel) loaded = cfqp_model_new_from_file (model_path, &error);
  g_autoptr (CfqpModel) model = NULL;
  g_autoptr (CfqpRunner) fp32 = NULL, int8 = NULL;
  g_autofree CfqpQParams *qp = NULL;
  double gain_fp32 = 0, gain_int8 = 0;

  g_assert_no_error (error);
  /* what cfqpsr runs by default: the clip-free copy */
  model = cfqp_model_new_clip_free (loaded, NULL, NULL);
  g_assert_cmpuint (cfqp_model_get_scale (model), ==, scale);
  fp32 = cfqp_runner_new (model, NULL, &error);
  g_assert_no_error (error);
  if (g_file_test (calib_path, G_FILE_TEST_EXISTS)) {
    g_autoptr (CfqpCalibration) calib = cfqp_calibration_load (calib_path, model, &error);
    CfqpRunnerOptions opts = CFQP_RUNNER_OPTIONS_INIT;
    g_assert_no_error (error);
    qp = cfqp_calibration_to_qparams (calib, model, &error);
    g_assert_no_error (error);
    opts.precision = CFQP_PRECISION_INT8;
    cfqp_calibration_fill_runner_options (calib, qp, &opts);
    int8 = cfqp_runner_new (model, &opts, &error);
    g_assert_no_error (error);
  }

  for (guint i = 0; i < G_N_ELEMENTS (crops); i++) {
    g_autofree char *lr_name = g_strdup_printf ("%s-x%u.png", crops[i], scale);
    g_autofree char *hr_name = g_strdup_printf ("%s-hr.png", crops[i]);
    g_autofree char *lr_path = test_data_path ("images", lr_name);
    g_autofree char *hr_path = test_data_path ("images", hr_name);
    guint lw, lh, hw, hh;
    g_autofree float *lr = test_png_load_planar (lr_path, &lw, &lh);
    g_autofree float *hr = test_png_load_planar (hr_path, &hw, &hh);
    g_autoptr (CfqpImage) lr_img = cfqp_image_new_from_data (lr, 3, lw, lh);
    g_autoptr (CfqpImage) bic = cfqp_image_resize_bicubic (lr_img, hw, hh);
    g_autofree float *sr = g_new (float, (gsize) 3 * hw * hh);
    double p_bic, p_sr;

    g_assert_cmpuint (lw * scale, ==, hw);
    g_assert_true (cfqp_runner_run_f32 (fp32, lr, lw, lh, sr, &error));
    p_bic = y_psnr (bic->data, hr, hw, hh, scale);
    p_sr = y_psnr (sr, hr, hw, hh, scale);
    gain_fp32 += (p_sr - p_bic) / G_N_ELEMENTS (crops);
    g_test_message ("x%u %s: bicubic %.2f dB, FP32 %.2f dB", scale, crops[i], p_bic, p_sr);
    if (int8) {
      g_assert_true (cfqp_runner_run_f32 (int8, lr, lw, lh, sr, &error));
      p_sr = y_psnr (sr, hr, hw, hh, scale);
      gain_int8 += (p_sr - p_bic) / G_N_ELEMENTS (crops);
      g_test_message ("x%u %s: INT8 %.2f dB", scale, crops[i], p_sr);
    }
  }
  g_test_message ("x%u: mean gain FP32 %+.2f dB, INT8 %+.2f dB", scale, gain_fp32, gain_int8);
  g_assert_cmpfloat (gain_fp32, >, MIN_GAIN_DB);
  if (int8)
    g_assert_cmpfloat (gain_int8, >, MIN_GAIN_DB);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (guint s = 2; s <= 4; s++) {
    g_autofree char *model = g_strdup_printf ("%s/models/default-x%u.onnx", CFQP_SOURCE_ROOT, s);
    g_autofree char *path = g_strdup_printf ("/quality/default-x%u", s);
    /* a scale whose default model is not shipped yet has nothing to test */
    if (g_file_test (model, G_FILE_TEST_EXISTS))
      g_test_add_data_func (path, GUINT_TO_POINTER (s), test_scale);
  }
  return g_test_run ();
}
