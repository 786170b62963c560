/* cfqp-rd-recency: should cfqpcalib's representative dataset favour recent
 * frames?  A measurement, not part of the element.
 *
 *   cfqp-rd-recency --model M.onnx --scene-a A.ppm[,A2.ppm…] --scene-b B.ppm[,…]
 *                   [--frames 10000] [--switch 9000] [--max-samples 8]
 *                   [--crop 64] [--b-gain 1.0]
 *
 * A stream of --frames frames: panning --crop×--crop windows of the scene A
 * images, then from frame --switch on of the scene B images (their pixels
 * times --b-gain: < 1 for a scene that turned dark).  Every frame is offered
 * to cfqpcalib's reservoir (CfqpReservoir through a CfqpCalibrator, the
 * element's defaults: scene test 0.02, full CFQP augmentation, MSE
 * observer), as the element does; beside it a sliding window keeps the last
 * --max-samples distinct frames (what "favour recent frames" means at its
 * most).  Each RD is calibrated and the INT8 output compared with the FP32
 * output (PSNR of the bytes an element writes) on fixed test windows of
 * scene A and of scene B.  One line per RD; the reservoir's scene mix too.
 */
#include "cfqp-engine.h"
#include "cfqp-calib.h"
#include "ppm.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static GPtrArray *
read_scene (const char *list, float gain, guint crop)
{
  g_auto (GStrv) paths = g_strsplit (list, ",", -1);
  GPtrArray *imgs = g_ptr_array_new_with_free_func ((GDestroyNotify) cfqp_image_free);

  for (guint i = 0; paths[i]; i++) {
    g_autoptr (GError) error = NULL;
    CfqpImage *img = ppm_read_image (paths[i], &error);

    if (!img || img->width < crop || img->height < crop) {
      g_printerr ("%s: %s\n", paths[i], img ? "smaller than --crop" : error->message);
      exit (1);
    }
    for (gsize k = 0; k < cfqp_image_get_n_values (img); k++)
      img->data[k] *= gain;
    g_ptr_array_add (imgs, img);
  }
  return imgs;
}

/* Frame i of a scene: a window panning over its images (a triangle wave in
 * x and y at different speeds, the image changing every 97 frames). */
static CfqpImage *
scene_frame (GPtrArray *scene, guint i, guint crop)
{
  const CfqpImage *img = g_ptr_array_index (scene, (i / 97) % scene->len);
  guint rx = img->width - crop, ry = img->height - crop;
  guint px = rx ? (i * 3) % (2 * rx) : 0, py = ry ? (i * 2) % (2 * ry) : 0;

  return cfqp_image_crop (img, px > rx ? 2 * rx - px : px, py > ry ? 2 * ry - py : py,
      crop, crop);
}

static guint8
to_byte (float v)
{
  float q = nearbyintf (v * 255.f);
  return (guint8) (q < 0.f ? 0.f : (q > 255.f ? 255.f : q));
}

/* Mean PSNR (INT8 against FP32 bytes) over test windows of a scene. */
static double
int8_vs_fp32 (CfqpModel *model, const CfqpCalibration *calib, const CfqpQParams *qp,
    GPtrArray *tests)
{
  CfqpRunnerOptions o = CFQP_RUNNER_OPTIONS_INIT;
  g_autoptr (CfqpRunner) fp32 = NULL, int8 = NULL;
  g_autoptr (GError) error = NULL;
  guint scale = cfqp_model_get_scale (model);
  double sum = 0;

  o.backend = CFQP_BACKEND_CPU;
  o.precision = CFQP_PRECISION_FP32;
  fp32 = cfqp_runner_new (model, &o, &error);
  o.precision = CFQP_PRECISION_INT8;
  cfqp_calibration_fill_runner_options (calib, qp, &o);
  int8 = cfqp_runner_new (model, &o, &error);
  if (!fp32 || !int8) {
    g_printerr ("%s\n", error->message);
    exit (1);
  }
  for (guint t = 0; t < tests->len; t++) {
    const CfqpImage *x = g_ptr_array_index (tests, t);
    gsize n = cfqp_image_get_n_values (x) * scale * scale;
    g_autofree float *a = g_new (float, n), *b = g_new (float, n);
    double se = 0;

    if (!cfqp_runner_run_f32 (fp32, x->data, x->width, x->height, a, &error) ||
        !cfqp_runner_run_f32 (int8, x->data, x->width, x->height, b, &error)) {
      g_printerr ("%s\n", error->message);
      exit (1);
    }
    for (gsize k = 0; k < n; k++) {
      double d = (double) to_byte (a[k]) - to_byte (b[k]);
      se += d * d;
    }
    sum += se > 0 ? 10 * log10 (255.0 * 255.0 * n / se) : 99;
  }
  return sum / tests->len;
}

static void
report (const char *name, CfqpCalibrator *cal, CfqpModel *model, GPtrArray *tests_a,
    GPtrArray *tests_b, const char *mix)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CfqpCalibration) calib = cfqp_calibrator_compute (cal, NULL, &error);
  g_autofree CfqpQParams *qp = NULL;
  CfqpModel *run = cfqp_calibrator_get_model (cal);

  if (!calib || !(qp = cfqp_calibration_to_qparams (calib, run, &error))) {
    g_printerr ("%s: %s\n", name, error->message);
    exit (1);
  }
  (void) model;
  g_print ("%-16s  RD %-22s  INT8 vs FP32: scene A %.2f dB, scene B %.2f dB\n", name, mix,
      int8_vs_fp32 (run, calib, qp, tests_a), int8_vs_fp32 (run, calib, qp, tests_b));
}

int
main (int argc, char **argv)
{
  g_autofree char *model_path = NULL, *scene_a = NULL, *scene_b = NULL;
  gint frames = 10000, switch_at = 9000, max_samples = 8, crop = 64;
  double b_gain = 1.0;
  GOptionEntry entries[] = {
    { "model", 0, 0, G_OPTION_ARG_FILENAME, &model_path, "ONNX model", "M.onnx" },
    { "scene-a", 0, 0, G_OPTION_ARG_STRING, &scene_a, "scene A images (PPM, comma-separated)", "A.ppm" },
    { "scene-b", 0, 0, G_OPTION_ARG_STRING, &scene_b, "scene B images", "B.ppm" },
    { "frames", 0, 0, G_OPTION_ARG_INT, &frames, "stream length", "N" },
    { "switch", 0, 0, G_OPTION_ARG_INT, &switch_at, "first frame of scene B", "N" },
    { "max-samples", 0, 0, G_OPTION_ARG_INT, &max_samples, "RD size", "N" },
    { "crop", 0, 0, G_OPTION_ARG_INT, &crop, "frame size", "PX" },
    { "b-gain", 0, 0, G_OPTION_ARG_DOUBLE, &b_gain, "scene B pixels times this", "G" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- RD recency measurement");
  g_autoptr (GError) error = NULL;
  g_autoptr (CfqpModel) model = NULL;
  g_autoptr (GPtrArray) a = NULL, b = NULL, window = NULL, tests_a = NULL, tests_b = NULL;
  CfqpCalibSettings settings;
  CfqpCalibrator *classic, *recent, *only_b;
  guint n_b = 0;
  g_autofree char *mix = NULL, *mix_w = NULL;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || !model_path || !scene_a ||
      !scene_b) {
    g_printerr ("%s\n", error ? error->message : "--model, --scene-a and --scene-b needed");
    return 2;
  }
  if (!(model = cfqp_model_new_from_file (model_path, &error))) {
    g_printerr ("%s\n", error->message);
    return 1;
  }
  a = read_scene (scene_a, 1.f, crop);
  b = read_scene (scene_b, (float) b_gain, crop);

  cfqp_calib_settings_init (&settings);   /* cfqpcalib's defaults */
  settings.max_samples = max_samples;
  classic = cfqp_calibrator_new (model, &settings);
  window = g_ptr_array_new_with_free_func ((GDestroyNotify) cfqp_image_free);
  for (gint i = 0; i < frames; i++) {
    gboolean in_b = i >= switch_at;
    g_autoptr (CfqpImage) f = scene_frame (in_b ? b : a, i, crop);

    cfqp_calibrator_add_frame (classic, f->data, f->width, f->height);
    g_ptr_array_add (window, cfqp_image_copy (f));
    if (window->len > (guint) max_samples)
      g_ptr_array_remove_index (window, 0);
  }
  /* which scene the reservoir's samples are from: match against B frames */
  for (guint s = 0; s < cfqp_reservoir_get_n_samples (cfqp_calibrator_get_reservoir (classic));
      s++) {
    const CfqpImage *x = cfqp_reservoir_get_sample (cfqp_calibrator_get_reservoir (classic), s);

    for (gint i = switch_at; i < frames; i++) {
      g_autoptr (CfqpImage) f = scene_frame (b, i, crop);

      if (!memcmp (f->data, x->data, cfqp_image_get_n_values (f) * sizeof (float))) {
        n_b++;
        break;
      }
    }
  }
  mix = g_strdup_printf ("%u A + %u B", cfqp_reservoir_get_n_samples
      (cfqp_calibrator_get_reservoir (classic)) - n_b, n_b);

  settings.scene_threshold = 0;   /* the window's frames go in as they are */
  recent = cfqp_calibrator_new (model, &settings);
  for (guint i = 0; i < window->len; i++) {
    const CfqpImage *f = g_ptr_array_index (window, i);
    cfqp_calibrator_add_frame (recent, f->data, f->width, f->height);
  }
  mix_w = g_strdup_printf ("%u B (last %d)", window->len, max_samples);
  /* scene B alone, drawn over all of its frames: the target for B */
  only_b = cfqp_calibrator_new (model, &settings);
  for (gint k = 0; k < max_samples; k++) {
    g_autoptr (CfqpImage) f = scene_frame (b, switch_at + k * (frames - switch_at) /
        max_samples, crop);
    cfqp_calibrator_add_frame (only_b, f->data, f->width, f->height);
  }

  tests_a = g_ptr_array_new_with_free_func ((GDestroyNotify) cfqp_image_free);
  tests_b = g_ptr_array_new_with_free_func ((GDestroyNotify) cfqp_image_free);
  for (guint t = 0; t < 6; t++) {
    g_ptr_array_add (tests_a, scene_frame (a, 13 + t * 389, crop));
    g_ptr_array_add (tests_b, scene_frame (b, 7 + t * 389, crop));
  }
  g_print ("%s: %d frames, scene B from frame %d (gain %.2f), max-samples %d, %dx%d frames\n",
      model_path, frames, switch_at, b_gain, max_samples, crop, crop);
  report ("reservoir", classic, model, tests_a, tests_b, mix);
  report ("sliding window", recent, model, tests_a, tests_b, mix_w);
  report ("scene B only", only_b, model, tests_a, tests_b, "uniform over B");
  cfqp_calibrator_free (classic);
  cfqp_calibrator_free (recent);
  cfqp_calibrator_free (only_b);
  return 0;
}
