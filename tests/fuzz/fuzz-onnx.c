/* libFuzzer target: ONNX import (cfqp_model_new_from_bytes), and for what
 * imports, everything a model file reaches next: describe, clip-free copy,
 * an FP32 run and an INT8 run (pixel-grid qparams) on a small odd frame.
 * Covers QDQ import too, since that goes through the same importer.
 *
 * Built with -Dfuzzing=true (libFuzzer) and, in every build, linked with
 * fuzz-replay.c into a replayer that runs tests/data/fuzz-regressions/. */
#include "cfqp-engine.h"

#include <string.h>

/* Runs are skipped for models heavier than this (a 4096-node, 4096-channel
 * graph is legal and would take minutes per frame: a timeout, not a bug). */
#define FUZZ_MAX_MACS_PER_PIXEL 200000

static void
quiet_log (const gchar *domain, GLogLevelFlags level, const gchar *msg, gpointer data)
{
}

static void
try_run (CfqpModel *model, CfqpPrecision precision)
{
  CfqpRunnerOptions opt = CFQP_RUNNER_OPTIONS_INIT;
  g_autoptr (GError) error = NULL;
  g_autofree CfqpQParams *qp = NULL;
  guint w = 5, h = 3, c = cfqp_model_get_channels (model), s = cfqp_model_get_scale (model);
  guint n = cfqp_model_get_n_tensors (model);
  g_autofree float *in = g_new (float, (gsize) c * w * h);
  g_autofree float *out = g_new (float, (gsize) c * w * h * s * s);
  g_autofree guint8 *src = g_new (guint8, (gsize) 4 * w * h);
  g_autofree guint8 *dst = g_new (guint8, (gsize) 4 * w * h * s * s);
  const CfqpPackedLayout rgbx = { 4, 0, 1, 2, -1 };
  CfqpRunner *runner;

  for (gsize i = 0; i < (gsize) c * w * h; i++)
    in[i] = (float) ((i * 37) % 256) / 255.0f;
  for (gsize i = 0; i < (gsize) 4 * w * h; i++)
    src[i] = (guint8) (i * 53);

  opt.precision = precision;
  opt.backend = CFQP_BACKEND_REF;
  opt.n_threads = 1;
  if (cfqp_precision_is_quantised (precision)) {
    qp = g_new (CfqpQParams, n);
    for (guint i = 0; i < n; i++) {
      qp[i].scale = 1.0f / 64;
      qp[i].zero_point = 128;
    }
    opt.qparams = qp;
  }
  runner = cfqp_runner_new (model, &opt, &error);
  if (!runner)
    return;
  if (precision == CFQP_PRECISION_FP32)
    cfqp_runner_run_f32 (runner, in, w, h, out, NULL);
  cfqp_runner_run_packed (runner, &rgbx, src, 4 * w, w, h, dst, 4 * w * s, NULL);
  cfqp_runner_free (runner);
}

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  static gboolean init;
  g_autoptr (GBytes) bytes = g_bytes_new_static (data, size);
  g_autoptr (GError) error = NULL;
  g_autoptr (CfqpModel) model = NULL;

  if (!init) {
    /* Warnings (e.g. FP32 fallbacks) are not findings; criticals are. */
    g_log_set_handler ("cfqp-engine", G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE |
        G_LOG_LEVEL_INFO | G_LOG_LEVEL_DEBUG, quiet_log, NULL);
    init = TRUE;
  }

  model = cfqp_model_new_from_bytes (bytes, "fuzz", &error);
  if (!model) {
    /* Every refusal must say why. */
    if (!error || error->domain != CFQP_ENGINE_ERROR || !error->message || !*error->message)
      __builtin_trap ();
    return 0;
  }
  {
    g_autofree char *desc = cfqp_model_describe (model);
    guint n = cfqp_model_get_n_tensors (model);
    if (!desc || n < 2 || cfqp_model_get_output_tensor (model) >= n)
      __builtin_trap ();
    for (guint i = 0; i < n; i++)
      if (!cfqp_model_get_tensor_name (model, i))
        __builtin_trap ();
  }
  {
    guint removed = 0;
    g_autofree char *report = NULL;
    g_autoptr (CfqpModel) cf = cfqp_model_new_clip_free (model, &removed, &report);
    if (cf && cfqp_model_get_macs_per_pixel (cf) <= FUZZ_MAX_MACS_PER_PIXEL)
      try_run (cf, CFQP_PRECISION_INT8);
  }
  if (cfqp_model_get_macs_per_pixel (model) <= FUZZ_MAX_MACS_PER_PIXEL) {
    try_run (model, CFQP_PRECISION_FP32);
    try_run (model, CFQP_PRECISION_INT8);
    try_run (model, CFQP_PRECISION_INT16);
  }
  return 0;
}
