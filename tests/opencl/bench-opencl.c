/* bench-opencl: time the OpenCL backend (not a test; tools/ci/gpu-check.sh and
 * docs/performance.md run it).
 *
 *   bench-opencl [--device SPEC] [--width 640] [--height 360] [--frames 5]
 *       The ABPN-like ×3 net (tests/engine/test-models.h, 28 features, 4
 *       body convs), FP32 and INT8, with a trailing Clip(0,1) fused into the
 *       last kernel or run as its own pass: one line per configuration with
 *       the median wall time and the median process CPU time per frame
 *       (PoCL runs kernels on threads of this process, so on a loaded
 *       machine CPU time is the steadier number; on a GPU only wall time
 *       means anything).  With $CFQP_OPENCL_PROFILE set, also the device
 *       time of all kernels, of the input upload and output download, and of
 *       the last node, before the line of its configuration.
 *
 *   bench-opencl --model M.onnx [--calibration M.calib.json] [--kernels LIST] ...
 *       INT8 on a model file (the clip-free model when the calibration is
 *       clip-free, as cfqpsr runs it; without a calibration, parameters
 *       from min/max of one frame), once per INT8 conv variant in LIST
 *       (default naive,tiled-32x8,tiled-64x8,auto; CFQP_OPENCL_KERNELS),
 *       always with profiling events: a "node" line per node (device ms of
 *       the last frame), the variant each conv ran ("kernel" lines), then a
 *       "net" line: median wall ms per frame, median process CPU ms per frame
 *       (on PoCL, whose threads are this process's, the steadier number on
 *       a loaded machine), device ms of all kernels, upload and download ms,
 *       and GMAC/s of wall and device time.
 *
 *   bench-opencl --peak
 *       The device's INT8 dot-product and FP32 multiply-add rates, measured
 *       by kernels that do nothing else (a "peak" line), and a "device" line
 *       (name, platform, driver, compute units, clock).
 *
 * The --model and --peak lines are "key=value" words, for scripts. */
#include "config.h"

#include "bench-clock.h"
#include "cfqp-calib.h"
#include "cfqp-model-private.h"
#include "cfqp-opencl.h"
#include "test-models.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- the synthetic ABPN-like net -------------------------------------------- */

/* clip: 0 none, 1 fused into the depth-to-space, 2 a separate activation node */
static CfqpGraph *
build (int clip)
{
  CfqpGraph *g = test_model_abpn (3, 28, 4, 3, 1);
  CfqpNode *last = &g->nodes[g->n_nodes - 1], *n;
  guint in = g->output, out;

  if (clip == 1) {
    last->act.kind = CFQP_ACT_CLIP;
    last->act.lo = 0.f;
    last->act.hi = 1.f;
  } else if (clip == 2) {
    out = cfqp_graph_add_value (g, "clip", 3, g->n_nodes);
    n = cfqp_graph_add_node (g, CFQP_OP_ACTIVATION, "clip");
    n->n_inputs = 1;
    n->inputs = g_new (guint, 1);
    n->inputs[0] = in;
    n->output = out;
    n->out_channels = 3;
    n->act.kind = CFQP_ACT_CLIP;
    n->act.lo = 0.f;
    n->act.hi = 1.f;
    g->output = out;
  }
  return g;
}

static void
die (const char *what, GError *error)
{
  fprintf (stderr, "%s%s%s\n", what ? what : "", what ? ": " : "",
      error ? error->message : "failed");
  exit (1);
}

static double
bench (const char *device, CfqpPrecision precision, int clip, guint w, guint h, int frames,
    char **name, double *cpu_ms)
{
  CfqpGraph *g = build (clip);
  g_autoptr (GError) error = NULL;
  /* the tool maps the variable onto the option (the engine reads none) */
  CfqpExecutor *exec = cfqp_opencl_exec_new (g, precision, 3, 1, device,
      g_getenv ("CFQP_OPENCL_PROFILE") != NULL, &error);
  gsize el = precision == CFQP_PRECISION_FP32 ? 4 : 1;
  g_autofree guint8 *in = g_malloc0 ((gsize) 3 * w * h * el);
  g_autofree guint8 *out = g_malloc ((gsize) 27 * w * h * el);
  g_autofree double *times = g_new (double, frames), *cpu = g_new (double, frames);
  g_autofree CfqpQParams *qp = g_new (CfqpQParams, g->n_values);
  CfqpInt8Program *prog = NULL;
  double wall_ms;

  if (!exec)
    die (NULL, error);
  *name = g_strdup (exec->name);
  if (precision == CFQP_PRECISION_INT8) {
    /* timings do not depend on the scales */
    for (guint v = 0; v < g->n_values; v++)
      qp[v] = (CfqpQParams) { 0.02f, 128 };
    prog = cfqp_int8_program_new (g, qp, &error);
    if (!prog || !exec->klass->set_program (exec, prog, &error))
      die (NULL, error);
  }
  for (int f = -2; f < frames; f++) {
    gint64 start = g_get_monotonic_time ();
    double cpu_start = bench_process_cpu_ms ();
    if (!exec->klass->run (exec, in, w, h, out, &error))
      die (NULL, error);
    if (f >= 0) {
      times[f] = (g_get_monotonic_time () - start) / 1000.0;
      cpu[f] = bench_process_cpu_ms () - cpu_start;
    }
  }
  if (cfqp_opencl_exec_get_node_ms (exec)) {
    const double *node_ms = cfqp_opencl_exec_get_node_ms (exec);
    double total = 0, up = 0, down = 0;
    for (guint i = 0; i < g->n_nodes; i++)
      total += node_ms[i];
    cfqp_opencl_exec_get_transfer_ms (exec, &up, &down);
    printf ("  kernels %.1f ms, upload %.2f ms, download %.2f ms, last node (%s) %.1f ms\n",
        total, up, down, cfqp_op_type_to_string (g->nodes[g->n_nodes - 1].op),
        node_ms[g->n_nodes - 1]);
  }
  wall_ms = bench_median (times, frames);
  *cpu_ms = bench_median (cpu, frames);
  exec->klass->free (exec);
  cfqp_int8_program_free (prog);
  cfqp_graph_free (g);
  return wall_ms;
}

static void
bench_synthetic (const char *device, guint width, guint height, int frames)
{
  static const char *clips[] = { "no-clip", "clip-fused", "clip-separate" };

  for (int p = 0; p < 2; p++)
    for (int clip = 0; clip < 3; clip++) {
      g_autofree char *name = NULL;
      CfqpPrecision prec = p ? CFQP_PRECISION_INT8 : CFQP_PRECISION_FP32;
      double cpu_ms, ms = bench (device, prec, clip, width, height, frames, &name, &cpu_ms);
      printf ("%s %s %s %dx%d median_ms=%.1f median_cpu_ms=%.1f\n", name, p ? "int8" : "fp32",
          clips[clip], width, height, ms, cpu_ms);
      fflush (stdout);
    }
}

/* --- a model file, per conv variant ----------------------------------------- */

static CfqpModel *
load_model (const char *path, const char *calibration, CfqpQParams **qp)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CfqpModel) model = cfqp_model_new_from_file (path, &error);

  if (!model)
    die (path, error);
  if (calibration) {
    g_autoptr (CfqpCalibration) calib = cfqp_calibration_load (calibration, NULL, &error);

    if (!calib)
      die (calibration, error);
    /* a clip-free calibration runs the clip-free model, as cfqpsr does */
    {
      CfqpModel *run = cfqp_calibration_new_run_model (calib, model);
      g_clear_pointer (&model, cfqp_model_unref);
      model = run;
    }
    if (!cfqp_calibration_check_model (calib, model, &error) ||
        !(*qp = cfqp_calibration_to_qparams (calib, model, &error)))
      die (calibration, error);
  } else if (cfqp_model_get_embedded_qparams (model)) {
    *qp = g_memdup2 (cfqp_model_get_embedded_qparams (model),
        cfqp_model_get_n_tensors (model) * sizeof (CfqpQParams));
  } else {
    /* timings do not depend on the scales: any valid table */
    *qp = g_new (CfqpQParams, cfqp_model_get_n_tensors (model));
    for (guint t = 0; t < cfqp_model_get_n_tensors (model); t++)
      (*qp)[t] = (CfqpQParams) { 0.02f, 128 };
  }
  return g_steal_pointer (&model);
}

static void
bench_model (const char *device, const char *path, const char *calibration,
    const char *kernels, guint w, guint h, int frames)
{
  g_autofree CfqpQParams *qp = NULL;
  g_autoptr (CfqpModel) model = load_model (path, calibration, &qp);
  const CfqpGraph *g = cfqp_model_get_graph (model);
  guint scale = cfqp_model_get_scale (model), channels = cfqp_model_get_channels (model);
  g_autoptr (GError) error = NULL;
  g_autofree char *base = g_path_get_basename (path);
  g_auto (GStrv) variants = g_strsplit (kernels, ",", -1);
  gsize n_in = (gsize) channels * w * h;
  g_autofree guint8 *in = g_malloc (n_in), *out = g_malloc (n_in * scale * scale);
  g_autofree double *times = g_new (double, frames), *cpu = g_new (double, frames);
  double macs = (double) cfqp_model_get_macs_per_pixel (model) * w * h;
  CfqpInt8Program *prog = cfqp_int8_program_new (g, qp, &error);

  if (!prog)
    die (path, error);
  /* a smooth ramp: content does not change the timings */
  for (gsize k = 0; k < n_in; k++)
    in[k] = (guint8) (k % 256);
  for (guint v = 0; variants[v]; v++) {
    CfqpExecutor *exec;
    const double *node_ms;
    double device_ms = 0, up = 0, down = 0, wall;
    g_autofree char *described = NULL;
    g_auto (GStrv) lines = NULL;

    g_setenv ("CFQP_OPENCL_KERNELS", variants[v], TRUE);
    exec = cfqp_opencl_exec_new (g, CFQP_PRECISION_INT8, scale, 1, device, TRUE, &error);
    g_unsetenv ("CFQP_OPENCL_KERNELS");
    if (!exec || !exec->klass->set_program (exec, prog, &error))
      die (path, error);
    for (int f = -2; f < frames; f++) {
      gint64 start = g_get_monotonic_time ();
      double cpu_start = bench_process_cpu_ms ();
      if (!exec->klass->run (exec, in, w, h, out, &error))
        die (path, error);
      if (f >= 0) {
        times[f] = (g_get_monotonic_time () - start) / 1000.0;
        cpu[f] = bench_process_cpu_ms () - cpu_start;
      }
    }
    node_ms = cfqp_opencl_exec_get_node_ms (exec);
    cfqp_opencl_exec_get_transfer_ms (exec, &up, &down);
    for (guint i = 0; i < g->n_nodes; i++) {
      printf ("node model=%s variant=%s size=%ux%u node=%s op=%s ms=%.3f\n", base, variants[v],
          w, h, g->nodes[i].name, cfqp_op_type_to_string (g->nodes[i].op), node_ms[i]);
      device_ms += node_ms[i];
    }
    described = cfqp_opencl_exec_describe_kernels (exec);
    lines = g_strsplit (g_strstrip (described), "\n", -1);
    for (guint k = 0; lines[k]; k++)
      printf ("kernel model=%s variant=%s size=%ux%u %s\n", base, variants[v], w, h, lines[k]);
    wall = bench_median (times, frames);
    printf ("net model=%s variant=%s size=%ux%u out=%ux%u frames=%d ms_wall=%.3f "
        "ms_cpu=%.3f ms_device=%.3f ms_upload=%.3f ms_download=%.3f gmacs_wall=%.2f "
        "gmacs_device=%.2f device=\"%s\"\n", base, variants[v], w, h, w * scale, h * scale,
        frames, wall, bench_median (cpu, frames), device_ms, up, down, macs / (wall * 1e6),
        macs / (device_ms * 1e6), exec->name);
    fflush (stdout);
    exec->klass->free (exec);
  }
  cfqp_int8_program_free (prog);
}

/* --- peak rates --------------------------------------------------------------- */

/* Eight independent chains per work-item, each step feeding the next (so
 * nothing is loop-invariant): one 4-wide dot product (4 MACs), built as the
 * tiled convs' is (dot_4x8packed_su_int, dp4a or mad24), or one fma (1 MAC). */
static const char peak_source[] =
  "#if defined(CFQP_DOT) && defined(cl_khr_integer_dot_product)\n"
  "#define DOT4_ACC(c, a, b) ((c) + dot_4x8packed_su_int ((a), (b)))\n"
  "#elif defined(CFQP_NV_DP4A)\n"
  "inline int dp4a (int c, uint a, uint b) { int d;\n"
  "  asm (\"dp4a.s32.u32 %0, %1, %2, %3;\" : \"=r\" (d) : \"r\" (a), \"r\" (b), \"r\" (c));\n"
  "  return d; }\n"
  "#define DOT4_ACC(c, a, b) dp4a ((c), (a), (b))\n"
  "#else\n"
  "inline int dot4 (int c, uint a, uint b) { char4 x = as_char4 (a); uchar4 y = as_uchar4 (b);\n"
  "  return mad24 ((int) x.x, (int) y.x, mad24 ((int) x.y, (int) y.y,\n"
  "      mad24 ((int) x.z, (int) y.z, mad24 ((int) x.w, (int) y.w, c)))); }\n"
  "#define DOT4_ACC(c, a, b) dot4 ((c), (a), (b))\n"
  "#endif\n"
  "#define STEP8(f) f(s0) f(s1) f(s2) f(s3) f(s4) f(s5) f(s6) f(s7)\n"
  "__kernel void peak_int8 (__global int *out, int iters, uint w) {\n"
  "  int s0 = get_global_id (0), s1 = s0 + 1, s2 = s0 + 2, s3 = s0 + 3,\n"
  "      s4 = s0 + 4, s5 = s0 + 5, s6 = s0 + 6, s7 = s0 + 7;\n"
  "#define D(s) s = DOT4_ACC (s, w, as_uint (s));\n"
  "  for (int i = 0; i < iters; i++) { STEP8 (D) }\n"
  "  out[get_global_id (0)] = s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7;\n"
  "}\n"
  "__kernel void peak_fp32 (__global float *out, int iters, float a, float b) {\n"
  "  float s0 = get_global_id (0), s1 = s0 + 1, s2 = s0 + 2, s3 = s0 + 3,\n"
  "        s4 = s0 + 4, s5 = s0 + 5, s6 = s0 + 6, s7 = s0 + 7;\n"
  "#define F(s) s = fma (s, a, b);\n"
  "  for (int i = 0; i < iters; i++) { STEP8 (F) }\n"
  "  out[get_global_id (0)] = s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7;\n"
  "}\n";

static char *
device_info_string (cl_device_id id, cl_device_info what)
{
  size_t n = 0;
  char *s;

  if (clGetDeviceInfo (id, what, 0, NULL, &n) != CL_SUCCESS || !n)
    return g_strdup ("?");
  s = g_malloc0 (n + 1);
  clGetDeviceInfo (id, what, n, s, NULL);
  return g_strstrip (s);
}

/* GMAC/s of kernel (MACs per chain step: macs_per_step), its iterations
 * doubled until one launch takes 50 ms (or 2^20 iterations). */
static double
peak_rate (cl_context ctx, cl_command_queue q, cl_kernel k, cl_mem out, size_t global,
    double macs_per_step, GError **error)
{
  /* a fixed work-group size lets PoCL vectorise across work-items */
  size_t local = 64;

  for (cl_int iters = 64;; iters *= 2) {
    cl_event ev = NULL;
    cl_ulong t0 = 0, t1 = 0;
    double ms;

    if (!cfqp_opencl_check (clSetKernelArg (k, 0, sizeof out, &out), "clSetKernelArg", error) ||
        !cfqp_opencl_check (clSetKernelArg (k, 1, sizeof iters, &iters), "clSetKernelArg",
            error) ||
        !cfqp_opencl_check (clEnqueueNDRangeKernel (q, k, 1, NULL, &global, &local, 0, NULL,
                &ev), "clEnqueueNDRangeKernel", error) ||
        !cfqp_opencl_check (clWaitForEvents (1, &ev), "clWaitForEvents", error))
      return 0;
    clGetEventProfilingInfo (ev, CL_PROFILING_COMMAND_START, sizeof t0, &t0, NULL);
    clGetEventProfilingInfo (ev, CL_PROFILING_COMMAND_END, sizeof t1, &t1, NULL);
    clReleaseEvent (ev);
    ms = (t1 - t0) / 1e6;
    if (ms >= 50 || iters >= (1 << 20))
      return (double) global * iters * 8 * macs_per_step / (ms * 1e6);
  }
}

static void
bench_peak (const char *spec)
{
  g_autoptr (GError) error = NULL;
  CfqpOpenCLDevice *dev = cfqp_opencl_find_device (spec, &error);
  g_autofree char *driver = NULL, *version = NULL, *ext = NULL, *name = NULL;
  g_autofree char *options = NULL;
  const char *src = peak_source, *via;
  cl_uint units = 0, clock = 0;
  cl_device_id id;
  cl_context ctx;
  cl_command_queue q;
  cl_program built, prog;
  cl_kernel k8, k32;
  cl_mem out;
  cl_int err;
  size_t global, n = 0;
  double int8, fp32;
  cl_uint wbits = 0x7f01fe03;   /* four s8 weights: 3, -2, 1, 127 */
  float a = 0.999f, b = 1e-3f;

  if (!dev)
    die (NULL, error);
  driver = device_info_string (dev->id, CL_DRIVER_VERSION);
  version = device_info_string (dev->id, CL_DEVICE_VERSION);
  ext = device_info_string (dev->id, CL_DEVICE_EXTENSIONS);
  clGetDeviceInfo (dev->id, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof units, &units, NULL);
  clGetDeviceInfo (dev->id, CL_DEVICE_MAX_CLOCK_FREQUENCY, sizeof clock, &clock, NULL);
  printf ("device name=\"%s\" platform=\"%s\" type=%s driver=\"%s\" version=\"%s\" "
      "compute_units=%u clock_mhz=%u integer_dot_product=%s\n", dev->name, dev->platform,
      dev->is_gpu ? "gpu" : "other", driver, version, units, clock,
      strstr (ext, "cl_khr_integer_dot_product") ? "yes" : "no");
  fflush (stdout);

  /* the executors' context and program: its build options say which dot
   * product conv_u8_tile* took (cfqp-opencl-device.c); the peak kernel
   * takes the same */
  if (!cfqp_opencl_open (spec, &id, &name, &ctx, &built, &error))
    die (NULL, error);
  if (clGetProgramBuildInfo (built, id, CL_PROGRAM_BUILD_OPTIONS, 0, NULL, &n) == CL_SUCCESS &&
      n > 0) {
    options = g_malloc0 (n + 1);
    clGetProgramBuildInfo (built, id, CL_PROGRAM_BUILD_OPTIONS, n, options, NULL);
  }
  clReleaseProgram (built);
  via = options && strstr (options, "-DCFQP_DOT") ? "-DCFQP_DOT" :
      options && strstr (options, "-DCFQP_NV_DP4A") ? "-DCFQP_NV_DP4A" : "";
  q = clCreateCommandQueue (ctx, id, CL_QUEUE_PROFILING_ENABLE, &err);
  if (!cfqp_opencl_check (err, "clCreateCommandQueue", &error))
    die (NULL, error);
  prog = clCreateProgramWithSource (ctx, 1, &src, NULL, &err);
  if (!cfqp_opencl_check (clBuildProgram (prog, 1, &id, via, NULL, NULL), "clBuildProgram",
          &error))
    die ("peak kernels", error);
  k8 = clCreateKernel (prog, "peak_int8", &err);
  k32 = clCreateKernel (prog, "peak_fp32", &err);
  /* enough work-items to fill any device: 2048 per compute unit */
  global = (size_t) MAX (units, 1) * 2048;
  out = clCreateBuffer (ctx, CL_MEM_WRITE_ONLY, global * 4, NULL, &err);
  if (!cfqp_opencl_check (err, "clCreateBuffer", &error))
    die (NULL, error);
  clSetKernelArg (k8, 2, sizeof wbits, &wbits);
  clSetKernelArg (k32, 2, sizeof a, &a);
  clSetKernelArg (k32, 3, sizeof b, &b);
  int8 = peak_rate (ctx, q, k8, out, global, 4, &error);
  fp32 = int8 > 0 ? peak_rate (ctx, q, k32, out, global, 1, &error) : 0;
  if (error)
    die ("peak kernels", error);
  printf ("peak int8_gmacs=%.1f int8_via=%s fp32_gmacs=%.1f\n", int8,
      g_str_equal (via, "-DCFQP_DOT") ? "dot_4x8packed_su_int" :
      g_str_equal (via, "-DCFQP_NV_DP4A") ? "dp4a" : "mad24", fp32);
  clReleaseMemObject (out);
  clReleaseKernel (k8);
  clReleaseKernel (k32);
  clReleaseProgram (prog);
  clReleaseCommandQueue (q);
  clReleaseContext (ctx);
  cfqp_opencl_device_free (dev);
}

int
main (int argc, char **argv)
{
  const char *device = NULL, *model = NULL, *calibration = NULL;
  const char *kernels = "naive,tiled-32x8,tiled-64x8,auto";
  gboolean peak = FALSE;
  gint width = 640, height = 360, frames = 5;
  GOptionEntry entries[] = {
    { "device", 0, 0, G_OPTION_ARG_STRING, &device, "OpenCL device index or name", "SPEC" },
    { "width", 0, 0, G_OPTION_ARG_INT, &width, "Input width", "W" },
    { "height", 0, 0, G_OPTION_ARG_INT, &height, "Input height", "H" },
    { "frames", 0, 0, G_OPTION_ARG_INT, &frames, "Timed frames after 2 warm-up", "N" },
    { "model", 0, 0, G_OPTION_ARG_FILENAME, &model, "INT8 on this model file", "M.onnx" },
    { "calibration", 0, 0, G_OPTION_ARG_FILENAME, &calibration,
      "The model's calibration (cfqpcalib JSON)", "FILE" },
    { "kernels", 0, 0, G_OPTION_ARG_STRING, &kernels,
      "INT8 conv variants to time, comma-separated (CFQP_OPENCL_KERNELS values)", "LIST" },
    { "peak", 0, 0, G_OPTION_ARG_NONE, &peak, "Measure the device's INT8 and FP32 peak", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- time the OpenCL backend");
  g_autoptr (GError) error = NULL;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || width < 1 || height < 1 ||
      frames < 1) {
    fprintf (stderr, "%s\n", error ? error->message : "sizes and --frames must be positive");
    return 2;
  }
  if (peak)
    bench_peak (device);
  else if (model)
    bench_model (device, model, calibration, kernels, width, height, frames);
  else
    bench_synthetic (device, width, height, frames);
  return 0;
}
