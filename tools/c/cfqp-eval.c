/* cfqp-eval: quality of a model through the engine (never PyTorch).
 *
 *   cfqp-eval --model M.onnx --val pairs.txt [--rd rd.txt] [--clip-free]
 *             [--observers minmax,percentile,mse] [--augments none,full,…]
 *             [--weight-rounding nearest|gptq] [--residual-grid calibrated|pixel]
 *             [--backend ref|cpu] [--precision int8|int16] [--save-dir DIR]
 *
 * pairs.txt: one "LR.ppm HR.ppm" per line; rd.txt: one LR.ppm per line
 * (the representative dataset).  For every validation pair it prints one
 * JSON line per method: bicubic, fp32, and int8 for every observer ×
 * augmentation calibrated on the RD, with Y-PSNR (BT.601, 16–235, border
 * shave = scale), RGB PSNR, SSIM on Y and, for int8, PSNR against the FP32
 * output.  Outputs are compared as the bytes an element would write.
 * --precision int16 runs the same calibrations with 16-bit activations
 * and weights
 * (rows of method "int16").
 */
#include "cfqp-engine.h"
#include "cfqp-calib.h"
#include "ppm.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* --precision: what the calibrated rows run */
static CfqpPrecision int_precision = CFQP_PRECISION_INT8;

typedef struct {
  char      *name;
  CfqpImage *lr, *hr;
  guint8    *fp32;     /* bytes of the FP32 output, planar */
} Pair;

/* --- metrics ------------------------------------------------------------- */

static guint8
to_byte (float v)
{
  float q = nearbyintf (v * 255.f);
  return (guint8) (q < 0.f ? 0.f : (q > 255.f ? 255.f : q));
}

/* BT.601 luma on the 16–235 scale, from planar bytes. */
static double *
luma (const guint8 *rgb, guint w, guint h)
{
  gsize n = (gsize) w * h;
  double *y = g_new (double, n);
  for (gsize p = 0; p < n; p++)
    y[p] = 16.0 + (65.481 * rgb[p] + 128.553 * rgb[n + p] + 24.966 * rgb[2 * n + p]) / 255.0;
  return y;
}

static double
psnr_from_mse (double mse)
{
  return 10.0 * log10 (255.0 * 255.0 / MAX (mse, 1e-10));
}

typedef struct {
  double y_psnr, rgb_psnr, ssim;
} Metrics;

/* SSIM on Y, 11×11 Gaussian window (σ 1.5), as in the SR literature. */
static double
ssim_y (const double *a, const double *b, guint w, guint h)
{
  const double c1 = 6.5025, c2 = 58.5225;
  double g[11], sum = 0, total = 0;
  guint n = 0;

  for (gint i = -5; i <= 5; i++)
    sum += g[i + 5] = exp (-(i * i) / (2 * 1.5 * 1.5));
  for (guint i = 0; i < 11; i++)
    g[i] /= sum;
  for (guint y = 0; y + 11 <= h; y++)
    for (guint x = 0; x + 11 <= w; x++) {
      double ma = 0, mb = 0, saa = 0, sbb = 0, sab = 0;
      for (guint j = 0; j < 11; j++)
        for (guint i = 0; i < 11; i++) {
          double wgt = g[j] * g[i], va = a[(y + j) * w + x + i], vb = b[(y + j) * w + x + i];
          ma += wgt * va; mb += wgt * vb;
          saa += wgt * va * va; sbb += wgt * vb * vb; sab += wgt * va * vb;
        }
      saa -= ma * ma; sbb -= mb * mb; sab -= ma * mb;
      total += ((2 * ma * mb + c1) * (2 * sab + c2)) /
          ((ma * ma + mb * mb + c1) * (saa + sbb + c2));
      n++;
    }
  return n ? total / n : 1.0;
}

/* Metrics of planar bytes `out` against `ref`, border of `shave` pixels. */
static Metrics
measure (const guint8 *out, const guint8 *ref, guint w, guint h, guint shave)
{
  Metrics m;
  guint sw = w - 2 * shave, sh = h - 2 * shave;
  gsize n = (gsize) w * h;
  g_autofree double *ya = luma (out, w, h), *yb = luma (ref, w, h);
  g_autofree double *ca = g_new (double, (gsize) sw * sh), *cb = g_new (double, (gsize) sw * sh);
  double se_y = 0, se_rgb = 0;

  for (guint y = shave; y < h - shave; y++)
    for (guint x = shave; x < w - shave; x++) {
      gsize p = (gsize) y * w + x;
      double d = ya[p] - yb[p];
      se_y += d * d;
      for (guint c = 0; c < 3; c++) {
        double e = (double) out[c * n + p] - ref[c * n + p];
        se_rgb += e * e;
      }
      ca[(y - shave) * sw + x - shave] = ya[p];
      cb[(y - shave) * sw + x - shave] = yb[p];
    }
  m.y_psnr = psnr_from_mse (se_y / ((double) sw * sh));
  m.rgb_psnr = psnr_from_mse (se_rgb / (3.0 * sw * sh));
  m.ssim = ssim_y (ca, cb, sw, sh);
  return m;
}

static double
psnr_bytes (const guint8 *a, const guint8 *b, gsize n)
{
  double se = 0;
  for (gsize i = 0; i < n; i++) {
    double d = (double) a[i] - b[i];
    se += d * d;
  }
  return psnr_from_mse (se / n);
}

/* --- running ------------------------------------------------------------- */

static guint8 *
image_bytes (const CfqpImage *img)
{
  gsize n = cfqp_image_get_n_values (img);
  guint8 *b = g_new (guint8, n);
  for (gsize i = 0; i < n; i++)
    b[i] = to_byte (img->data[i]);
  return b;
}

static guint8 *
upscale (CfqpRunner *runner, const CfqpImage *lr, guint scale, GError **error)
{
  gsize n = cfqp_image_get_n_values (lr) * scale * scale;
  g_autofree float *out = g_new (float, n);
  guint8 *b;

  if (!cfqp_runner_run_f32 (runner, lr->data, lr->width, lr->height, out, error))
    return NULL;
  b = g_new (guint8, n);
  for (gsize i = 0; i < n; i++)
    b[i] = to_byte (out[i]);
  return b;
}

static void
print_row (const Pair *p, const char *method, const char *observer, const char *augment,
    Metrics m, double vs_fp32)
{
  g_print ("{\"image\": \"%s\", \"method\": \"%s\", \"observer\": \"%s\", \"augment\": \"%s\", "
      "\"y_psnr\": %.4f, \"rgb_psnr\": %.4f, \"ssim\": %.5f", p->name, method, observer,
      augment, m.y_psnr, m.rgb_psnr, m.ssim);
  if (vs_fp32 >= 0)
    g_print (", \"psnr_vs_fp32\": %.4f", vs_fp32);
  g_print ("}\n");
}

/* INT8 outputs of every pair with one calibration, as JSON rows. */
static gboolean
evaluate_int8 (CfqpModel *model, const CfqpRunnerOptions *opts, const char *backend,
    CfqpCalibration *calib, GArray *pairs, guint scale, const char *observer,
    const char *augment, const char *save_dir)
{
  CfqpRunnerOptions iopts = *opts;
  g_autoptr (CfqpRunner) int8 = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree CfqpQParams *qp = cfqp_calibration_to_qparams (calib, model, &error);

  if (!qp) {
    g_printerr ("%s\n", error->message);
    return FALSE;
  }
  iopts.precision = int_precision;
  iopts.backend = !g_strcmp0 (backend, "ref") ? CFQP_BACKEND_REF :
      int_precision == CFQP_PRECISION_INT16 ? CFQP_BACKEND_AUTO : CFQP_BACKEND_CPU;
  cfqp_calibration_fill_runner_options (calib, qp, &iopts);
  if (!(int8 = cfqp_runner_new (model, &iopts, &error))) {
    g_printerr ("%s\n", error->message);
    return FALSE;
  }
  for (guint i = 0; i < pairs->len; i++) {
    Pair *p = &g_array_index (pairs, Pair, i);
    g_autofree guint8 *hr_bytes = image_bytes (p->hr);
    g_autofree guint8 *out = upscale (int8, p->lr, scale, &error);
    gsize n = cfqp_image_get_n_values (p->hr);
    if (!out) {
      g_printerr ("%s: %s\n", p->name, error->message);
      return FALSE;
    }
    print_row (p, int_precision == CFQP_PRECISION_INT16 ? "int16" : "int8", observer, augment,
        measure (out, hr_bytes, p->hr->width, p->hr->height, scale),
        psnr_bytes (out, p->fp32, n));
    if (save_dir) {
      g_autofree char *path = g_strdup_printf ("%s/%s-%s-%s-%s.ppm", save_dir, p->name,
          int_precision == CFQP_PRECISION_INT16 ? "int16" : "int8", observer, augment);
      ppm_write_planar_u8 (path, out, p->hr->width, p->hr->height);
    }
  }
  return TRUE;
}

static GPtrArray *
read_list (const char *path, GError **error)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  GPtrArray *out;

  if (!g_file_get_contents (path, &text, NULL, error))
    return NULL;
  lines = g_strsplit (text, "\n", -1);
  out = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; lines[i]; i++)
    if (*g_strstrip (lines[i]) && lines[i][0] != '#')
      g_ptr_array_add (out, g_strdup (lines[i]));
  return out;
}

int
main (int argc, char **argv)
{
  g_autofree char *model_path = NULL, *val_path = NULL, *rd_path = NULL, *save_dir = NULL;
  g_autofree char *observers = g_strdup ("mse"), *augments = g_strdup ("full");
  g_autofree char *backend = g_strdup ("cpu"), *calib_out = NULL, *calib_in = NULL;
  g_autofree char *rounding = NULL;
  g_autofree char *residual_grid = NULL;
  g_autofree char *activation_grids = NULL, *precision = NULL;
  gboolean clip_free = FALSE, fp32_only = FALSE;
  gint threads = 2, max_samples = 64;
  g_autoptr (GError) error = NULL;
  g_autoptr (GOptionContext) ctx = g_option_context_new ("— SR quality through the cfqp engine");
  GOptionEntry entries[] = {
    { "model", 0, 0, G_OPTION_ARG_FILENAME, &model_path, "FP32 ONNX model", "M.onnx" },
    { "val", 0, 0, G_OPTION_ARG_FILENAME, &val_path, "validation pairs list", "FILE" },
    { "rd", 0, 0, G_OPTION_ARG_FILENAME, &rd_path, "representative dataset list", "FILE" },
    { "clip-free", 0, 0, G_OPTION_ARG_NONE, &clip_free, "remove clipped activations", NULL },
    { "observers", 0, 0, G_OPTION_ARG_STRING, &observers, "comma list (minmax,percentile,mse)", "L" },
    { "augments", 0, 0, G_OPTION_ARG_STRING, &augments, "comma list of presets", "L" },
    { "weight-rounding", 0, 0, G_OPTION_ARG_STRING, &rounding,
      "nearest or gptq (default: the calibrator's)", "R" },
    { "residual-grid", 0, 0, G_OPTION_ARG_STRING, &residual_grid,
      "calibrated or pixel (default: the calibrator's)", "G" },
    { "activation-grids", 0, 0, G_OPTION_ARG_STRING, &activation_grids,
      "tensor or channel (default: the calibrator's)", "A" },
    { "backend", 0, 0, G_OPTION_ARG_STRING, &backend, "INT8 backend: ref or cpu", "B" },
    { "precision", 0, 0, G_OPTION_ARG_STRING, &precision,
      "int8 (default) or int16 (16 bits, the same calibrations)", "P" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads, "threads", "N" },
    { "max-samples", 0, 0, G_OPTION_ARG_INT, &max_samples, "RD reservoir size", "N" },
    { "fp32-only", 0, 0, G_OPTION_ARG_NONE, &fp32_only, "skip INT8", NULL },
    { "save-dir", 0, 0, G_OPTION_ARG_FILENAME, &save_dir, "write outputs as PPM", "DIR" },
    { "calibration-out", 0, 0, G_OPTION_ARG_FILENAME, &calib_out, "save the last calibration", "F" },
    { "calibration", 0, 0, G_OPTION_ARG_FILENAME, &calib_in,
      "evaluate INT8 with this calibration file instead of calibrating", "F" },
    { NULL }
  };
  g_autoptr (CfqpModel) loaded = NULL, model = NULL;
  g_autoptr (GPtrArray) val_lines = NULL, rd_lines = NULL, rd = NULL;
  g_autoptr (GArray) pairs = g_array_new (FALSE, TRUE, sizeof (Pair));
  CfqpRunnerOptions opts = CFQP_RUNNER_OPTIONS_INIT;
  g_autoptr (CfqpRunner) fp32 = NULL;
  g_auto (GStrv) obs_list = NULL, aug_list = NULL;
  guint scale;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || !model_path || !val_path) {
    g_printerr ("%s\n", error ? error->message : "--model and --val are required");
    return 2;
  }
  if (precision && g_strcmp0 (precision, "int8") && g_strcmp0 (precision, "int16")) {
    g_printerr ("--precision: int8 or int16, not '%s'\n", precision);
    return 2;
  }
  if (!g_strcmp0 (precision, "int16"))
    int_precision = CFQP_PRECISION_INT16;
  if (!(loaded = cfqp_model_new_from_file (model_path, &error))) {
    g_printerr ("%s\n", error->message);
    return 1;
  }
  if (calib_in) {
    /* a clip-free calibration runs on the clip-free copy, as in cfqpsr */
    g_autoptr (CfqpCalibration) peek = cfqp_calibration_load (calib_in, NULL, &error);
    if (!peek) {
      g_printerr ("%s\n", error->message);
      return 1;
    }
    clip_free = clip_free || cfqp_calibration_get_clip_free (peek);
  }
  model = clip_free ? cfqp_model_new_clip_free (loaded, NULL, NULL) : cfqp_model_ref (loaded);
  scale = cfqp_model_get_scale (model);
  g_print ("{\"model\": \"%s\", \"scale\": %u, \"macs_per_pixel\": %" G_GUINT64_FORMAT "}\n",
      model_path, scale, cfqp_model_get_macs_per_pixel (model));
  opts.n_threads = threads;
  cfqp_runner_options_from_env (&opts);
  fp32 = cfqp_runner_new (model, &opts, &error);

  if (!(val_lines = read_list (val_path, &error))) {
    g_printerr ("%s\n", error->message);
    return 1;
  }
  for (guint i = 0; i < val_lines->len; i++) {
    g_auto (GStrv) f = g_strsplit_set (g_ptr_array_index (val_lines, i), " \t", 2);
    Pair p = { 0 };
    g_autofree guint8 *hr_bytes = NULL, *bic_bytes = NULL;
    g_autoptr (CfqpImage) bic = NULL;

    if (!f[0] || !f[1] || !(p.lr = ppm_read_image (f[0], &error)) ||
        !(p.hr = ppm_read_image (f[1], &error))) {
      g_printerr ("%s\n", error ? error->message : "bad pairs line");
      return 1;
    }
    p.name = g_path_get_basename (f[1]);
    hr_bytes = image_bytes (p.hr);
    bic = cfqp_image_resize_bicubic (p.lr, p.lr->width * scale, p.lr->height * scale);
    cfqp_image_clamp (bic, 0.f, 1.f);
    bic_bytes = image_bytes (bic);
    print_row (&p, "bicubic", "", "", measure (bic_bytes, hr_bytes, p.hr->width, p.hr->height,
        scale), -1);
    if (!(p.fp32 = upscale (fp32, p.lr, scale, &error))) {
      g_printerr ("%s: %s\n", p.name, error->message);
      return 1;
    }
    print_row (&p, "fp32", "", "", measure (p.fp32, hr_bytes, p.hr->width, p.hr->height,
        scale), -1);
    if (save_dir) {
      g_autofree char *fpath = g_strdup_printf ("%s/%s-fp32.ppm", save_dir, p.name);
      g_autofree char *bpath = g_strdup_printf ("%s/%s-bicubic.ppm", save_dir, p.name);
      g_mkdir_with_parents (save_dir, 0755);
      ppm_write_planar_u8 (fpath, p.fp32, p.hr->width, p.hr->height);
      ppm_write_planar_u8 (bpath, bic_bytes, p.hr->width, p.hr->height);
    }
    g_array_append_val (pairs, p);
  }
  if (calib_in) {
    g_autoptr (CfqpCalibration) calib = cfqp_calibration_load (calib_in, model, &error);
    if (!calib) {
      g_printerr ("%s\n", error->message);
      return 1;
    }
    return evaluate_int8 (model, &opts, backend, calib, pairs, scale, "file", "file", save_dir) ? 0 : 1;
  }
  if (fp32_only || !rd_path)
    return 0;

  if (!(rd_lines = read_list (rd_path, &error))) {
    g_printerr ("%s\n", error->message);
    return 1;
  }
  rd = g_ptr_array_new_with_free_func ((GDestroyNotify) cfqp_image_free);
  for (guint i = 0; i < rd_lines->len; i++) {
    CfqpImage *img = ppm_read_image (g_ptr_array_index (rd_lines, i), &error);
    if (!img) {
      g_printerr ("%s\n", error->message);
      return 1;
    }
    g_ptr_array_add (rd, img);
  }

  obs_list = g_strsplit (observers, ",", -1);
  aug_list = g_strsplit (augments, ",", -1);
  for (guint a = 0; aug_list[a]; a++)
    for (guint o = 0; obs_list[o]; o++) {
      CfqpCalibSettings settings;
      g_autoptr (CfqpCalibrator) cal = NULL;
      g_autoptr (CfqpCalibration) calib = NULL;
      CfqpAugmentPreset preset;

      cfqp_calib_settings_init (&settings);
      /* the calibrator makes its own clip-free copy, like cfqpcalib does */
      settings.clip_free = clip_free;
      settings.max_samples = (guint) max_samples;
      settings.scene_threshold = 0;
      if (!cfqp_observer_kind_from_nick (obs_list[o], &settings.observer) ||
          !cfqp_augment_preset_from_nick (aug_list[a], &preset)) {
        g_printerr ("unknown observer '%s' or augmentation '%s'\n", obs_list[o], aug_list[a]);
        return 2;
      }
      settings.augment = cfqp_augment_preset_get_flags (preset);
      if (rounding && !cfqp_weight_rounding_from_nick (rounding, &settings.weight_rounding)) {
        g_printerr ("unknown weight rounding '%s'\n", rounding);
        return 2;
      }
      if (residual_grid &&
          !cfqp_residual_grid_from_nick (residual_grid, &settings.residual_grid)) {
        g_printerr ("unknown residual grid '%s'\n", residual_grid);
        return 2;
      }
      if (activation_grids &&
          !cfqp_activation_grids_from_nick (activation_grids, &settings.activation_grids)) {
        g_printerr ("unknown activation grids '%s'\n", activation_grids);
        return 2;
      }
      cal = cfqp_calibrator_new (loaded, &settings);
      for (guint i = 0; i < rd->len; i++) {
        const CfqpImage *img = g_ptr_array_index (rd, i);
        cfqp_calibrator_add_frame (cal, img->data, img->width, img->height);
      }
      if (!(calib = cfqp_calibrator_compute (cal, NULL, &error))) {
        g_printerr ("calibration failed: %s\n", error->message);
        return 1;
      }
      if (calib_out && !cfqp_calibration_save (calib, calib_out, &error)) {
        g_printerr ("%s\n", error->message);
        return 1;
      }
      if (!evaluate_int8 (model, &opts, backend, calib, pairs, scale, obs_list[o], aug_list[a],
              save_dir))
        return 1;
    }
  return 0;
}
