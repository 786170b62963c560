/* cfqp-bench-engine: steady-state time per frame of a model on the engine.
 *
 *   cfqp-bench-engine MODEL.onnx WIDTH HEIGHT [options]
 *   cfqp-bench-engine --abpn F,N,S WIDTH HEIGHT [options]
 *
 *   --threads N            worker threads (0: one per CPU)
 *   --frames N             timed frames after warm-up
 *   --precision fp32|int8|int16  int8 and int16 run packed RGB bytes in
 *                          and out, with min/max parameters observed on
 *                          the first frame
 *   --backend auto|cpu|ref INT8 kernel set; opencl: the whole graph on an
 *                          OpenCL device (FP32 or INT8)
 *   --cpu-kernels K        cpu INT8 convs: auto (fastest measured per layer),
 *                          orc, native or winograd (forced)
 *   --device SPEC          OpenCL device index or name substring (default:
 *                          the first GPU)
 *   --abpn F,N,S           instead of a file: an ABPN-like ×S net, conv3x3
 *                          3→F, N × conv3x3 F→F ReLU, F→3·S², anchor add,
 *                          depth-to-space, seeded random weights
 *   --calibration FILE     int8: parameters from a cfqpcalib calibration
 *                          (a clip-free one runs the clip-free model, as
 *                          cfqpsr does) instead of min/max on the first frame;
 *                          a QDQ model uses its embedded parameters
 *   --frame FILE           the timed frame: raw packed RGB bytes, W×H×3
 *                          (default: a smooth ramp)
 *   --qdq-out FILE         int8: also write the model with the parameters it
 *                          runs as QDQ ONNX (for ONNX Runtime, tools/bench)
 *
 * Prints each frame's wall and process CPU time, the kernels (cpu INT8 and INT16),
 * then "median_cpu_ms=<x>" (CPU time of all threads: on a loaded machine
 * the steadier number), "gmacs=<x>" (from wall time) and, last,
 * "median_ms=<x>" (wall).
 */
#include "cfqp-engine.h"
#ifdef CFQP_BENCH_HAVE_CALIB
#include "cfqp-calib.h"
#endif
#include "cfqp-int8-cpu.h"
#include "cfqp-int8-cpu-config.h"
#include "cfqp-model-private.h"
#include "bench-clock.h"
#include "minmax-qparams.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WARMUP_FRAMES 2

/* --- a synthetic ABPN ------------------------------------------------------ */

static guint
add_node (CfqpGraph *g, CfqpOpType op, const char *name, guint n_inputs, const guint *inputs,
    guint out_c, CfqpNode **node)
{
  guint out = cfqp_graph_add_value (g, name, out_c, g->n_nodes);
  CfqpNode *n = cfqp_graph_add_node (g, op, name);

  n->n_inputs = n_inputs;
  n->inputs = g_memdup2 (inputs, n_inputs * sizeof (guint));
  n->output = out;
  n->out_channels = out_c;
  g->output = out;
  *node = n;
  return out;
}

static guint
add_conv3x3 (CfqpGraph *g, guint in, guint ic, guint oc, gboolean relu, GRand *rand)
{
  CfqpNode *n;
  guint out = add_node (g, CFQP_OP_CONV, relu ? "conv-relu" : "conv", 1, &in, oc, &n);
  /* He-like init, so activations neither vanish nor explode through the body */
  float bound = sqrtf (6.f / (ic * 9));

  n->p.conv = (CfqpConvParams) { 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, ic, oc };
  n->p.conv.weight = g_new (float, (gsize) oc * ic * 9);
  n->p.conv.bias = g_new (float, oc);
  for (gsize e = 0; e < (gsize) oc * ic * 9; e++)
    n->p.conv.weight[e] = (float) g_rand_double_range (rand, -bound, bound);
  for (guint c = 0; c < oc; c++)
    n->p.conv.bias[c] = (float) g_rand_double_range (rand, -0.05, 0.05);
  n->act.kind = relu ? CFQP_ACT_RELU : CFQP_ACT_NONE;
  return out;
}

static CfqpModel *
abpn_model (const char *spec, GError **error)
{
  guint f, n, s;
  g_autoptr (GRand) rand = g_rand_new_with_seed (2024);
  CfqpGraph *g;
  CfqpNode *node;
  guint v, sum[2];

  if (sscanf (spec, "%u,%u,%u", &f, &n, &s) != 3 || !f || !s || s > CFQP_MAX_SCALE) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID,
        "--abpn wants FEATURES,BODY,SCALE, got '%s'", spec);
    return NULL;
  }
  g = cfqp_graph_new ();
  cfqp_graph_add_value (g, "input", 3, -1);
  v = add_conv3x3 (g, 0, 3, f, TRUE, rand);
  for (guint i = 0; i < n; i++)
    v = add_conv3x3 (g, v, f, f, TRUE, rand);
  sum[0] = add_conv3x3 (g, v, f, 3 * s * s, FALSE, rand);
  sum[1] = add_node (g, CFQP_OP_TILE_CHANNELS, "anchor", 1, (guint[]) { 0 }, 3 * s * s, &node);
  node->p.tile.repeats = s * s;
  v = add_node (g, CFQP_OP_BINARY, "add", 2, sum, 3 * s * s, &node);
  node->p.binary.kind = CFQP_BINARY_ADD;
  add_node (g, CFQP_OP_DEPTH_TO_SPACE, "d2s", 1, &v, 3, &node);
  node->p.shuffle = (CfqpShuffleParams) { s, CFQP_D2S_CRD };
  return cfqp_model_new_from_graph (g, "abpn", error);
}

/* The cpu set's choice per node, from a program built aside. */
static void
print_cpu_kernels (CfqpModel *model, const CfqpQParams *qp, const CfqpInt8Backend *set)
{
  const CfqpGraph *g = cfqp_model_get_graph (model);
  CfqpInt8Program *prog = cfqp_int8_program_new (g, qp, NULL);
  g_autofree char *text = NULL;

  if (!prog)
    return;
  for (guint i = 0; i < g->n_nodes; i++)
    prog->nodes[i].packed = set->pack (&g->nodes[i], &prog->nodes[i]);
  text = cfqp_int8_cpu_describe (g, prog);
  printf ("kernels:\n%s\n", text);
  for (guint i = 0; i < g->n_nodes; i++)
    if (prog->nodes[i].packed)
      set->free_packed (g_steal_pointer (&prog->nodes[i].packed));
  cfqp_int8_program_free (prog);
}

int
main (int argc, char **argv)
{
  gint threads = 0, frames = 10;
  const char *precision = "fp32", *backend = "auto", *abpn = NULL, *device = NULL;
  const char *calibration = NULL, *frame = NULL, *qdq_out = NULL, *cpu_kernels = "auto";
  GOptionEntry entries[] = {
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads, "Worker threads (0: one per CPU)", "N" },
    { "frames", 0, 0, G_OPTION_ARG_INT, &frames, "Timed frames after warm-up", "N" },
    { "precision", 0, 0, G_OPTION_ARG_STRING, &precision, "fp32, int8 or int16", "P" },
    { "backend", 0, 0, G_OPTION_ARG_STRING, &backend, "auto, cpu, ref (INT8 kernels) or opencl",
      "B" },
    { "cpu-kernels", 0, 0, G_OPTION_ARG_STRING, &cpu_kernels,
      "cpu INT8 convs: auto, orc or native", "K" },
    { "device", 0, 0, G_OPTION_ARG_STRING, &device, "OpenCL device index or name", "SPEC" },
    { "abpn", 0, 0, G_OPTION_ARG_STRING, &abpn, "Synthetic ABPN instead of a file", "F,N,S" },
    { "calibration", 0, 0, G_OPTION_ARG_FILENAME, &calibration,
      "INT8 parameters from a calibration file", "FILE" },
    { "frame", 0, 0, G_OPTION_ARG_FILENAME, &frame, "Timed frame, raw packed RGB W×H×3", "FILE" },
    { "qdq-out", 0, 0, G_OPTION_ARG_FILENAME, &qdq_out,
      "INT8: write the model with its parameters as QDQ ONNX", "FILE" },
    { NULL }
  };
  g_autoptr (GOptionContext) context =
      g_option_context_new ("MODEL.onnx|--abpn F,N,S WIDTH HEIGHT - time the engine per frame");
  g_autoptr (GError) error = NULL;
  g_autoptr (CfqpModel) model = NULL;
  g_autoptr (CfqpRunner) runner = NULL;
  CfqpRunnerOptions options = CFQP_RUNNER_OPTIONS_INIT;
  g_autofree float *in = NULL, *out = NULL;
  g_autofree guint8 *in_u8 = NULL, *out_u8 = NULL;
  g_autofree CfqpQParams *qp = NULL;
  g_autofree double *times = NULL, *cpu_times = NULL;
  const CfqpPackedLayout rgb = { 3, 0, 1, 2, -1 };
  guint width, height, channels, scale, n_args;
  gboolean int8, on_cpu;
  double median, macs;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) ||
      argc != (abpn ? 3 : 4)) {
    fprintf (stderr, "%s\n", error ? error->message :
        "usage: cfqp-bench-engine MODEL.onnx|--abpn F,N,S WIDTH HEIGHT [--threads N] "
        "[--frames N] [--precision fp32|int8|int16] [--backend auto|cpu|ref|opencl] "
        "[--cpu-kernels auto|orc|native|winograd] [--device SPEC] "
        "[--calibration FILE] [--frame FILE] [--qdq-out FILE]");
    return 2;
  }
  n_args = abpn ? 1 : 2;
  if (g_str_equal (cpu_kernels, "orc"))
    options.cpu_kernels = CFQP_CPU_KERNELS_ORC;
  else if (g_str_equal (cpu_kernels, "native"))
    options.cpu_kernels = CFQP_CPU_KERNELS_NATIVE;
  else if (g_str_equal (cpu_kernels, "winograd"))
    options.cpu_kernels = CFQP_CPU_KERNELS_WINOGRAD;
  else if (!g_str_equal (cpu_kernels, "auto")) {
    fprintf (stderr, "--cpu-kernels: auto, orc, native or winograd, not '%s'\n", cpu_kernels);
    return 2;
  }
  width = atoi (argv[n_args]);
  height = atoi (argv[n_args + 1]);
  if (width == 0 || height == 0 || threads < 0 || frames < 1) {
    fprintf (stderr, "WIDTH, HEIGHT and --frames must be positive\n");
    return 2;
  }
  /* int8: either integer precision (the same calibration, bytes in and out) */
  int8 = g_str_equal (precision, "int8") || g_str_equal (precision, "int16");
  if (int8)
    options.precision = g_str_equal (precision, "int16") ? CFQP_PRECISION_INT16 :
        CFQP_PRECISION_INT8;
  else if (!g_str_equal (precision, "fp32")) {
    fprintf (stderr, "unknown precision '%s'\n", precision);
    return 2;
  }
  if (g_str_equal (backend, "cpu"))
    options.backend = CFQP_BACKEND_CPU;
  else if (g_str_equal (backend, "ref"))
    options.backend = CFQP_BACKEND_REF;
  else if (g_str_equal (backend, "opencl"))
    options.backend = CFQP_BACKEND_OPENCL;
  else if (!g_str_equal (backend, "auto")) {
    fprintf (stderr, "unknown backend '%s'\n", backend);
    return 2;
  }
  options.n_threads = threads;
  cfqp_runner_options_from_env (&options);
  options.device = device;

  model = abpn ? abpn_model (abpn, &error) : cfqp_model_new_from_file (argv[1], &error);
  if (!model) {
    fprintf (stderr, "%s\n", error->message);
    return 1;
  }
  if (calibration && int8) {
#ifdef CFQP_BENCH_HAVE_CALIB
    g_autoptr (CfqpCalibration) calib = cfqp_calibration_load (calibration, NULL, &error);
    if (calib) {
      CfqpModel *run = cfqp_calibration_new_run_model (calib, model);
      g_clear_pointer (&model, cfqp_model_unref);
      model = run;
    }
    if (!calib || !model || !cfqp_calibration_check_model (calib, model, &error) ||
        !(qp = cfqp_calibration_to_qparams (calib, model, &error))) {
      fprintf (stderr, "%s: %s\n", calibration, error ? error->message : "no model");
      return 1;
    }
#else
    fprintf (stderr, "--calibration: built without the calib library\n");
    return 2;
#endif
  }
  channels = cfqp_model_get_channels (model);
  scale = cfqp_model_get_scale (model);
  in = g_new (float, (gsize) channels * width * height);
  out = g_new (float, (gsize) channels * width * height * scale * scale);
  if (frame) {
    g_autofree guint8 *bytes = NULL;
    gsize len;
    if (channels != 3 || !g_file_get_contents (frame, (char **) &bytes, &len, &error) ||
        len != (gsize) 3 * width * height) {
      fprintf (stderr, "%s: %s\n", frame, error ? error->message :
          "not W×H×3 packed RGB bytes (or the model is not RGB)");
      return 1;
    }
    for (gsize p = 0; p < (gsize) width * height; p++)
      for (guint c = 0; c < 3; c++)
        in[c * (gsize) width * height + p] = bytes[p * 3 + c] / 255.f;
  } else {
    /* A smooth ramp: content does not change the timings. */
    for (gsize i = 0; i < (gsize) channels * width * height; i++)
      in[i] = (i % 256) / 255.f;
  }
  if (int8) {
    if (channels != 3) {
      fprintf (stderr, "int8 timing runs RGB frames; the model has %u channel(s)\n", channels);
      return 1;
    }
    if (!qp && cfqp_model_get_embedded_qparams (model))
      qp = g_memdup2 (cfqp_model_get_embedded_qparams (model),
          cfqp_model_get_n_tensors (model) * sizeof (CfqpQParams));
    if (!qp)
      qp = minmax_qparams_observe (model, in, width, height, NULL, &error);
    if (!qp) {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
    if (qdq_out && !cfqp_model_export_qdq (model, qp, qdq_out, &error)) {
      fprintf (stderr, "%s: %s\n", qdq_out, error->message);
      return 1;
    }
    options.qparams = qp;
    /* the frame as packed RGB bytes, the float ramp's own bytes */
    in_u8 = g_new (guint8, (gsize) 3 * width * height);
    out_u8 = g_new (guint8, (gsize) 3 * width * height * scale * scale);
    for (gsize p = 0; p < (gsize) width * height; p++)
      for (guint c = 0; c < 3; c++)
        in_u8[p * 3 + c] = (guint8) lroundf (in[c * (gsize) width * height + p] * 255.f);
  }
  runner = cfqp_runner_new (model, &options, &error);
  if (!runner) {
    fprintf (stderr, "%s\n", error->message);
    return 1;
  }

  printf ("model %s: ×%u, %u channel(s), %" G_GUINT64_FORMAT " MACs/pixel; %u×%u, %s, "
      "backend %s, %d thread(s)%s\n", cfqp_model_get_name (model), scale, channels,
      cfqp_model_get_macs_per_pixel (model), width, height, precision,
      cfqp_runner_get_active_backend (runner), threads,
      int8 ? ", packed RGB in and out" : "");
  on_cpu = g_str_equal (cfqp_runner_get_active_backend (runner), "cpu");
  if (options.precision == CFQP_PRECISION_INT16 && on_cpu) {
    /* INT16 convs run the ISA level's one micro-kernel (but one too large
     * to pack, which takes ref's) */
    const CfqpInt8CpuConfig *cfg = cfqp_int8_cpu_config ();
    printf ("kernels: INT16 convs %s (%u pixels a call), requantisation %s\n",
        cfg->int16_gemm_name, cfg->int16_pixels, cfg->int16_requant_name);
  } else if (int8 && on_cpu)
    print_cpu_kernels (model, qp, cfqp_int8_cpu_backend_for (options.cpu_kernels));
  times = g_new (double, frames);
  cpu_times = g_new (double, frames);
  for (gint f = -WARMUP_FRAMES; f < frames; f++) {
    gint64 start = g_get_monotonic_time ();
    double cpu_start = bench_process_cpu_ms ();
    gboolean ok = int8 ?
        cfqp_runner_run_packed (runner, &rgb, in_u8, (gsize) 3 * width, width, height, out_u8,
            (gsize) 3 * width * scale, &error) :
        cfqp_runner_run_f32 (runner, in, width, height, out, &error);
    if (!ok) {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
    if (f >= 0) {
      times[f] = (g_get_monotonic_time () - start) / 1000.0;
      cpu_times[f] = bench_process_cpu_ms () - cpu_start;
      printf ("frame %d: %.2f ms (cpu %.2f ms)\n", f, times[f], cpu_times[f]);
    }
  }
  median = bench_median (times, frames);
  printf ("median_cpu_ms=%.3f\n", bench_median (cpu_times, frames));
  macs = (double) cfqp_model_get_macs_per_pixel (model) * width * height;
  printf ("gmacs=%.2f\n", macs / (median * 1e-3) / 1e9);
  printf ("median_ms=%.3f\n", median);
  return 0;
}
