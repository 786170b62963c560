/* cfqp-qdq: QDQ ONNX export and INT8 runs of QDQ models, for checks
 * against other runtimes (tools/pipeline/ort_check).
 *
 *   cfqp-qdq export --model M.onnx --out Q.onnx --rd a.u8:W:H[,b.u8:W:H…]
 *                   [--observer mse|minmax|percentile] [--no-clip-free]
 *       calibrates M on the RD images (CFQP defaults otherwise) and writes
 *       the calibrated model as QDQ ONNX
 *   cfqp-qdq export --model M.onnx --out Q.onnx --calib M.calib.json
 *       exports M with an existing calibration (a shipped one), as cfqpsr
 *       runs it: the clip-free copy of M if the calibration is clip-free
 *   cfqp-qdq run --model Q.onnx --in x.u8 --width W --height H --out y.u8
 *                [--backend ref|cpu] [--calib M.calib.json]
 *       runs a QDQ model in INT8 with its own embedded parameters (with
 *       --calib: a float model with that calibration, as cfqpsr does)
 *
 * --precision int16 (export, and run with --calib): the 16-bit program
 * (uint16 activations, int16 weights; an export of opset 21, which the
 * engine itself does not import).
 *
 * Images are raw planar 8-bit C×H×W (C: the model's channels).
 */
#include "cfqp-engine.h"
#include "cfqp-calib.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static float *
read_u8_planar (const char *path, gsize n, GError **error)
{
  g_autofree guint8 *data = NULL;
  gsize len;
  float *f;

  if (!g_file_get_contents (path, (char **) &data, &len, error))
    return NULL;
  if (len != n) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: %zu bytes, expected %zu", path,
        len, n);
    return NULL;
  }
  f = g_new (float, n);
  for (gsize k = 0; k < n; k++)
    f[k] = data[k] / 255.f;
  return f;
}

/* QDQ export with the calibration's taps and steps, as cfqpsr would run it. */
static gboolean
export_with_taps (CfqpModel *model, const CfqpQParams *qp, const CfqpCalibration *calib,
    CfqpPrecision precision, const char *out, GError **error)
{
  CfqpQuantisation q = cfqp_calibration_get_quantisation (calib, qp);

  return cfqp_model_export_qdq_precision (model, &q, precision, out, error);
}

static int
do_export (const char *model_path, const char *out, const char *rd, const char *observer,
    gboolean clip_free, CfqpPrecision precision)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CfqpModel) model = cfqp_model_new_from_file (model_path, &error);
  g_autoptr (CfqpCalibrator) cal = NULL;
  g_autoptr (CfqpCalibration) calib = NULL;
  g_autofree CfqpQParams *qp = NULL;
  g_auto (GStrv) items = NULL;
  CfqpCalibSettings settings;

  if (!model) {
    g_printerr ("%s\n", error->message);
    return 1;
  }
  cfqp_calib_settings_init (&settings);
  settings.clip_free = clip_free;
  if (observer && !cfqp_observer_kind_from_nick (observer, &settings.observer)) {
    g_printerr ("unknown observer '%s'\n", observer);
    return 2;
  }
  cal = cfqp_calibrator_new (model, &settings);
  items = g_strsplit (rd, ",", -1);
  for (guint i = 0; items[i]; i++) {
    g_auto (GStrv) f = g_strsplit (items[i], ":", 3);
    guint w, h, c = cfqp_model_get_channels (model);
    g_autofree float *img = NULL;
    if (g_strv_length (f) != 3) {
      g_printerr ("--rd entries are PATH:W:H\n");
      return 2;
    }
    w = (guint) atoi (f[1]);
    h = (guint) atoi (f[2]);
    if (!(img = read_u8_planar (f[0], (gsize) c * w * h, &error))) {
      g_printerr ("%s\n", error->message);
      return 1;
    }
    cfqp_calibrator_add_frame (cal, img, w, h);
  }
  if (!(calib = cfqp_calibrator_compute (cal, NULL, &error)) ||
      !(qp = cfqp_calibration_to_qparams (calib, cfqp_calibrator_get_model (cal), &error)) ||
      !export_with_taps (cfqp_calibrator_get_model (cal), qp, calib, precision, out, &error)) {
    g_printerr ("%s\n", error->message);
    return 1;
  }
  g_print ("wrote %s (%u tensors, %s, %s observer, %u RD images)\n", out,
      cfqp_model_get_n_tensors (model), clip_free ? "clip-free" : "clipped",
      cfqp_observer_kind_to_nick (settings.observer), g_strv_length (items));
  return 0;
}

/* The model cfqpsr runs with calib_path (the clip-free copy for a
 * clip-free calibration), its calibration and table; NULL on error. */
static CfqpModel *
load_with_calibration (const char *model_path, const char *calib_path, CfqpQParams **qp,
    CfqpCalibration **calib_out, GError **error)
{
  g_autoptr (CfqpModel) model = cfqp_model_new_from_file (model_path, error);
  g_autoptr (CfqpModel) run_model = NULL;
  g_autoptr (CfqpCalibration) calib = NULL;

  if (!model || !(calib = cfqp_calibration_load (calib_path, NULL, error)))
    return NULL;
  run_model = cfqp_calibration_new_run_model (calib, model);
  if (!cfqp_calibration_check_model (calib, run_model, error) ||
      !(*qp = cfqp_calibration_to_qparams (calib, run_model, error)))
    return NULL;
  *calib_out = g_steal_pointer (&calib);
  return g_steal_pointer (&run_model);
}

static int
do_export_calib (const char *model_path, const char *out, const char *calib_path,
    CfqpPrecision precision)
{
  g_autoptr (GError) error = NULL;
  g_autofree CfqpQParams *qp = NULL;
  g_autoptr (CfqpCalibration) calib = NULL;
  g_autoptr (CfqpModel) run_model = load_with_calibration (model_path, calib_path, &qp, &calib,
      &error);

  if (!run_model || !export_with_taps (run_model, qp, calib, precision, out, &error)) {
    g_printerr ("%s\n", error->message);
    return 1;
  }
  g_print ("wrote %s (%u tensors, %s, calibration %s)\n", out,
      cfqp_model_get_n_tensors (run_model),
      cfqp_model_is_clip_free (run_model) ? "clip-free" : "as shipped", calib_path);
  return 0;
}

static int
do_run (const char *model_path, const char *in, guint w, guint h, const char *out,
    const char *backend, const char *calib_path, CfqpPrecision precision)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CfqpModel) model = NULL;
  g_autofree CfqpQParams *calib_qp = NULL;
  g_autoptr (CfqpCalibration) calib = NULL;
  g_autoptr (CfqpRunner) runner = NULL;
  CfqpRunnerOptions opt = CFQP_RUNNER_OPTIONS_INIT;
  g_autofree float *img = NULL, *res = NULL;
  g_autofree guint8 *bytes = NULL;
  guint s, c;
  gsize n;

  model = calib_path ? load_with_calibration (model_path, calib_path, &calib_qp, &calib, &error) :
      cfqp_model_new_from_file (model_path, &error);
  if (!model) {
    g_printerr ("%s\n", error->message);
    return 1;
  }
  if (!calib_qp && !cfqp_model_get_embedded_qparams (model)) {
    g_printerr ("%s: not a QDQ model (no Q/DQ pairs)\n", model_path);
    return 1;
  }
  s = cfqp_model_get_scale (model);
  c = cfqp_model_get_channels (model);
  opt.precision = precision;
  opt.backend = backend && !strcmp (backend, "cpu") ? CFQP_BACKEND_CPU : CFQP_BACKEND_REF;
  opt.qparams = calib_qp ? calib_qp : cfqp_model_get_embedded_qparams (model);
  if (calib)
    cfqp_calibration_fill_runner_options (calib, calib_qp, &opt);
  if (!(runner = cfqp_runner_new (model, &opt, &error)) ||
      !(img = read_u8_planar (in, (gsize) c * w * h, &error))) {
    g_printerr ("%s\n", error->message);
    return 1;
  }
  n = (gsize) c * w * s * h * s;
  res = g_new (float, n);
  if (!cfqp_runner_run_f32 (runner, img, w, h, res, &error)) {
    g_printerr ("%s\n", error->message);
    return 1;
  }
  bytes = g_new (guint8, n);
  /* ties up, the 16-bit program's byte rule (cfqp_int16_to_byte); an
   * INT8 output is on the byte grid already */
  for (gsize k = 0; k < n; k++)
    bytes[k] = (guint8) CLAMP (floor ((double) res[k] * 255.0 + 0.5), 0, 255);
  if (!g_file_set_contents (out, (const char *) bytes, (gssize) n, &error)) {
    g_printerr ("%s\n", error->message);
    return 1;
  }
  return 0;
}

int
main (int argc, char **argv)
{
  g_autofree char *model = NULL, *out = NULL, *rd = NULL, *in = NULL, *backend = NULL;
  g_autofree char *observer = NULL, *calib = NULL, *precision_name = NULL;
  CfqpPrecision precision = CFQP_PRECISION_INT8;
  gboolean no_clip_free = FALSE;
  gint width = 0, height = 0;
  GOptionEntry entries[] = {
    { "model", 0, 0, G_OPTION_ARG_FILENAME, &model, "ONNX model", "M" },
    { "out", 0, 0, G_OPTION_ARG_FILENAME, &out, "output file", "F" },
    { "rd", 0, 0, G_OPTION_ARG_STRING, &rd, "export: RD images PATH:W:H,…", "L" },
    { "observer", 0, 0, G_OPTION_ARG_STRING, &observer, "export: minmax|percentile|mse", "O" },
    { "no-clip-free", 0, 0, G_OPTION_ARG_NONE, &no_clip_free, "export: keep clipped activations", NULL },
    { "calib", 0, 0, G_OPTION_ARG_FILENAME, &calib, "export/run: use this calibration", "C" },
    { "in", 0, 0, G_OPTION_ARG_FILENAME, &in, "run: planar u8 input", "F" },
    { "width", 0, 0, G_OPTION_ARG_INT, &width, "run: input width", "W" },
    { "height", 0, 0, G_OPTION_ARG_INT, &height, "run: input height", "H" },
    { "backend", 0, 0, G_OPTION_ARG_STRING, &backend, "run: ref|cpu", "B" },
    { "precision", 0, 0, G_OPTION_ARG_STRING, &precision_name, "int8 (default) | int16", "P" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("export|run — QDQ ONNX export and INT8 runs");
  g_autoptr (GError) error = NULL;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("%s\n", error->message);
    return 2;
  }
  if (precision_name && !strcmp (precision_name, "int16"))
    precision = CFQP_PRECISION_INT16;
  else if (precision_name && strcmp (precision_name, "int8")) {
    g_printerr ("--precision is int8 or int16, not '%s'\n", precision_name);
    return 2;
  }
  if (argc == 2 && !strcmp (argv[1], "export") && model && out && calib && !rd)
    return do_export_calib (model, out, calib, precision);
  if (argc == 2 && !strcmp (argv[1], "export") && model && out && rd && !calib)
    return do_export (model, out, rd, observer, !no_clip_free, precision);
  if (argc == 2 && !strcmp (argv[1], "run") && model && in && out && width > 0 && height > 0)
    return do_run (model, in, (guint) width, (guint) height, out, backend, calib, precision);
  g_printerr ("%s", g_option_context_get_help (ctx, TRUE, NULL));
  return 2;
}
