/* bench-opencl: ms/frame of the ABPN-like ×3 net (tests/engine/test-models.h,
 * 28 features, 4 body convs) on an OpenCL device, FP32 and INT8, with a
 * trailing Clip(0,1) fused into the last kernel or run as its own pass.
 *
 *   bench-opencl [--device SPEC] [--width 640] [--height 360] [--frames 5]
 *
 * Prints one line per configuration: device, precision, clip, size, the
 * median wall time and the median process CPU time per frame (PoCL runs
 * kernels on threads of this process, so on a loaded machine CPU time is
 * the steadier number; on a GPU only wall time means anything).  With
 * $CFQP_OPENCL_PROFILE set, also the device time of all kernels, of the
 * input upload and output download, and of the last node (the separate
 * clip) in the last frame, from profiling events; each such line comes
 * before the line of its configuration. */
#include "config.h"

#include "bench-clock.h"
#include "cfqp-opencl.h"
#include "test-models.h"

#include <stdio.h>
#include <stdlib.h>

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

static double
bench (const char *device, CfqpPrecision precision, int clip, guint w, guint h, int frames,
    char **name, double *cpu_ms)
{
  CfqpGraph *g = build (clip);
  g_autoptr (GError) error = NULL;
  CfqpDeviceExec *exec = cfqp_opencl_exec_new (g, precision, 3, device, &error);
  gsize el = precision == CFQP_PRECISION_FP32 ? 4 : 1;
  g_autofree guint8 *in = g_malloc0 ((gsize) 3 * w * h * el);
  g_autofree guint8 *out = g_malloc ((gsize) 27 * w * h * el);
  g_autofree double *times = g_new (double, frames), *cpu = g_new (double, frames);
  g_autofree CfqpQParams *qp = g_new (CfqpQParams, g->n_values);
  CfqpInt8Program *prog = NULL;
  double wall_ms;

  if (!exec) {
    fprintf (stderr, "%s\n", error->message);
    exit (1);
  }
  *name = g_strdup (exec->name);
  if (precision == CFQP_PRECISION_INT8) {
    /* timings do not depend on the scales */
    for (guint v = 0; v < g->n_values; v++)
      qp[v] = (CfqpQParams) { 0.02f, 128 };
    prog = cfqp_int8_program_new (g, qp, &error);
    if (!prog || !exec->funcs->set_program (exec, prog, &error)) {
      fprintf (stderr, "%s\n", error->message);
      exit (1);
    }
  }
  for (int f = -2; f < frames; f++) {
    gint64 start = g_get_monotonic_time ();
    double cpu_start = bench_process_cpu_ms ();
    if (!exec->funcs->run (exec, in, w, h, out, &error)) {
      fprintf (stderr, "%s\n", error->message);
      exit (1);
    }
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
  exec->funcs->free (exec);
  cfqp_int8_program_free (prog);
  cfqp_graph_free (g);
  return wall_ms;
}

int
main (int argc, char **argv)
{
  const char *device = NULL;
  gint width = 640, height = 360, frames = 5;
  GOptionEntry entries[] = {
    { "device", 0, 0, G_OPTION_ARG_STRING, &device, "OpenCL device index or name", "SPEC" },
    { "width", 0, 0, G_OPTION_ARG_INT, &width, "Input width", "W" },
    { "height", 0, 0, G_OPTION_ARG_INT, &height, "Input height", "H" },
    { "frames", 0, 0, G_OPTION_ARG_INT, &frames, "Timed frames after 2 warm-up", "N" },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- ABPN-like ×3 on OpenCL");
  g_autoptr (GError) error = NULL;
  static const char *clips[] = { "no-clip", "clip-fused", "clip-separate" };

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || width < 1 || height < 1 ||
      frames < 1) {
    fprintf (stderr, "%s\n", error ? error->message : "sizes and --frames must be positive");
    return 2;
  }
  for (int p = 0; p < 2; p++)
    for (int clip = 0; clip < 3; clip++) {
      g_autofree char *name = NULL;
      CfqpPrecision prec = p ? CFQP_PRECISION_INT8 : CFQP_PRECISION_FP32;
      double cpu_ms, ms = bench (device, prec, clip, width, height, frames, &name, &cpu_ms);
      printf ("%s %s %s %dx%d median_ms=%.1f median_cpu_ms=%.1f\n", name, p ? "int8" : "fp32",
          clips[clip], width, height, ms, cpu_ms);
      fflush (stdout);
    }
  return 0;
}
