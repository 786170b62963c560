/* cfqp-bench-engine: steady-state time per frame of a model on the engine.
 *
 *   cfqp-bench-engine MODEL.onnx WIDTH HEIGHT [--threads N] [--frames N]
 *                     [--precision fp32|int8]
 *
 * Prints each frame's time, then one machine-readable line
 * "median_ms=<x>" last.
 */
#include "cfqp-engine.h"

#include <stdio.h>
#include <stdlib.h>

#define WARMUP_FRAMES 2

static gint
compare_doubles (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

int
main (int argc, char **argv)
{
  gint threads = 0, frames = 10;
  const char *precision = "fp32";
  GOptionEntry entries[] = {
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads, "Worker threads (0: one per CPU)", "N" },
    { "frames", 0, 0, G_OPTION_ARG_INT, &frames, "Timed frames after warm-up", "N" },
    { "precision", 0, 0, G_OPTION_ARG_STRING, &precision, "fp32 or int8", "P" },
    { NULL }
  };
  g_autoptr (GOptionContext) context =
      g_option_context_new ("MODEL.onnx WIDTH HEIGHT - time the engine per frame");
  g_autoptr (GError) error = NULL;
  g_autoptr (CfqpModel) model = NULL;
  g_autoptr (CfqpRunner) runner = NULL;
  CfqpRunnerOptions options = CFQP_RUNNER_OPTIONS_INIT;
  g_autofree float *in = NULL, *out = NULL;
  g_autofree double *times = NULL;
  guint width, height, channels, scale;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || argc != 4) {
    fprintf (stderr, "%s\n", error ? error->message :
        "usage: cfqp-bench-engine MODEL.onnx WIDTH HEIGHT [--threads N] [--frames N] "
        "[--precision fp32|int8]");
    return 2;
  }
  width = atoi (argv[2]);
  height = atoi (argv[3]);
  if (width == 0 || height == 0 || threads < 0 || frames < 1) {
    fprintf (stderr, "WIDTH, HEIGHT and --frames must be positive\n");
    return 2;
  }
  if (g_str_equal (precision, "int8"))
    options.precision = CFQP_PRECISION_INT8;
  else if (!g_str_equal (precision, "fp32")) {
    fprintf (stderr, "unknown precision '%s'\n", precision);
    return 2;
  }
  options.n_threads = threads;

  model = cfqp_model_new_from_file (argv[1], &error);
  if (model)
    runner = cfqp_runner_new (model, &options, &error);
  if (!runner) {
    fprintf (stderr, "%s\n", error->message);
    return 1;
  }
  channels = cfqp_model_get_channels (model);
  scale = cfqp_model_get_scale (model);
  in = g_new (float, (gsize) channels * width * height);
  out = g_new (float, (gsize) channels * width * height * scale * scale);
  /* A smooth ramp: content does not change FP32 timings. */
  for (gsize i = 0; i < (gsize) channels * width * height; i++)
    in[i] = (i % 256) / 255.f;

  printf ("model %s: ×%u, %u channel(s), %" G_GUINT64_FORMAT " MACs/pixel; %u×%u, "
      "backend %s, %d thread(s)\n", cfqp_model_get_name (model), scale, channels,
      cfqp_model_get_macs_per_pixel (model), width, height,
      cfqp_runner_get_active_backend (runner), threads);
  times = g_new (double, frames);
  for (gint f = -WARMUP_FRAMES; f < frames; f++) {
    gint64 start = g_get_monotonic_time ();
    if (!cfqp_runner_run_f32 (runner, in, width, height, out, &error)) {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
    if (f >= 0) {
      times[f] = (g_get_monotonic_time () - start) / 1000.0;
      printf ("frame %d: %.2f ms\n", f, times[f]);
    }
  }
  qsort (times, frames, sizeof (double), compare_doubles);
  printf ("median_ms=%.3f\n", frames % 2 ? times[frames / 2] :
      (times[frames / 2 - 1] + times[frames / 2]) / 2);
  return 0;
}
