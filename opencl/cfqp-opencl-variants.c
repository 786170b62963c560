/* The OpenCL executor's INT8 conv variants: which of conv_u8 (naive),
 * conv_u8_tile2 and conv_u8_tile4 can run each conv on this device (local
 * memory, constant buffer, accumulator range), $CFQP_OPENCL_KERNELS read
 * when the executor is made, and auto's timing of each variant at the
 * first frame of each size. */
#include "config.h"

#include "cfqp-opencl-exec-private.h"

#include <string.h>

/* Which tiled variants can run node (an INT8 conv) on this device, and their
 * geometry. */
static void
tile_geometry (ClExec *e, const CfqpNode *node, NodeConv *nc)
{
  const CfqpConvParams *cp = &node->p.conv;
  guint64 kk = (guint64) cp->kernel_h * cp->kernel_w, ocg = cp->out_channels / cp->groups;
  guint64 budget = MIN (e->local_mem, TILE_LOCAL_BUDGET);
  guint64 wbytes;

  nc->ok[VARIANT_NAIVE] = TRUE;
  if (node->op != CFQP_OP_CONV || e->precision != CFQP_PRECISION_INT8 ||
      e->max_wg < TILE_LX * TILE_LY)
    return;
  nc->nq = (cp->in_channels / cp->groups + 3) / 4;
  nc->ph = (TILE_LY - 1) * cp->stride_h + (cp->kernel_h - 1) * cp->dilation_h + 1;
  wbytes = cp->groups * ((ocg + TILE_OC - 1) / TILE_OC) * nc->nq * kk * TILE_OC * 4;
  /* the int accumulator holds Σ w·q over every tap: |w·q| ≤ 127·255 */
  if ((guint64) nc->nq * 4 * kk * 127 * 255 > G_MAXINT32 || wbytes > e->max_const)
    return;
  for (guint v = VARIANT_NAIVE + 1; v < N_VARIANTS; v++) {
    guint64 quad_bytes;

    nc->pw[v] = (TILE_LX * variant_px[v] - 1) * cp->stride_w +
        (cp->kernel_w - 1) * cp->dilation_w + 1;
    quad_bytes = (guint64) nc->pw[v] * nc->ph * 4;
    nc->ok[v] = quad_bytes <= budget;
    nc->ck[v] = nc->ok[v] ? (gint) MIN ((guint64) nc->nq, budget / quad_bytes) : 0;
  }
}

gboolean
cfqp_opencl_setup_conv_variants (ClExec *e, GError **error)
{
  const char *env = g_getenv ("CFQP_OPENCL_KERNELS");
  size_t n = 0;
  g_autofree char *options = NULL;

  e->forced = -1;
  for (guint v = 0; env && v < N_VARIANTS; v++)
    if (g_str_equal (env, variant_names[v]))
      e->forced = v;
  if (env && e->forced < 0 && !g_str_equal (env, "auto")) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID,
        "CFQP_OPENCL_KERNELS is '%s', not auto, naive, tiled-32x8 or tiled-64x8", env);
    return FALSE;
  }
  if (!CHECK (clGetDeviceInfo (e->device, CL_DEVICE_MAX_CONSTANT_BUFFER_SIZE,
              sizeof e->max_const, &e->max_const, NULL), "clGetDeviceInfo") ||
      !CHECK (clGetDeviceInfo (e->device, CL_DEVICE_LOCAL_MEM_SIZE, sizeof e->local_mem,
              &e->local_mem, NULL), "clGetDeviceInfo") ||
      !CHECK (clGetDeviceInfo (e->device, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof e->max_wg,
              &e->max_wg, NULL), "clGetDeviceInfo"))
    return FALSE;
  if (clGetProgramBuildInfo (e->program, e->device, CL_PROGRAM_BUILD_OPTIONS, 0, NULL, &n) ==
      CL_SUCCESS && n > 0) {
    options = g_malloc0 (n + 1);
    if (clGetProgramBuildInfo (e->program, e->device, CL_PROGRAM_BUILD_OPTIONS, n, options,
            NULL) == CL_SUCCESS)
      e->dot = strstr (options, "-DCFQP_DOT") ? "dot_4x8packed_su_int (cl_khr_integer_dot_product)" :
          strstr (options, "-DCFQP_NV_DP4A") ? "dp4a (inline PTX)" : "mad24";
  }
  e->conv = g_new0 (NodeConv, e->graph->n_nodes);
  for (guint i = 0; i < e->graph->n_nodes; i++) {
    NodeConv *nc = &e->conv[i];
    tile_geometry (e, &e->graph->nodes[i], nc);
    nc->variant = e->forced > 0 && nc->ok[e->forced] ? (ConvVariant) e->forced : VARIANT_NAIVE;
  }
  return TRUE;
}


/* auto: each conv that can run tiled, both ways, at this frame size (after
 * the input upload, so on this frame's data); the faster stays.  A trial is
 * the best of two timed launches after a warm-up one. */
gboolean
cfqp_opencl_choose_conv_variants (ClExec *e, GError **error)
{
  gboolean ok = TRUE;

  e->measuring = TRUE;
  for (guint i = 0; ok && i < e->graph->n_nodes; i++) {
    NodeConv *nc = &e->conv[i];

    if (!conv_tiles (nc))
      continue;
    for (guint v = 0; ok && v < N_VARIANTS; v++) {
      if (!nc->ok[v])
        continue;
      nc->variant = v;
      nc->ms[v] = G_MAXDOUBLE;
      for (guint rep = 0; ok && rep < 3; rep++) {
        gint64 t0 = g_get_monotonic_time ();
        ok = cfqp_opencl_enqueue_conv (e, i, error) && CHECK (clFinish (e->queue), "clFinish");
        if (rep > 0)
          nc->ms[v] = MIN (nc->ms[v], (g_get_monotonic_time () - t0) / 1000.0);
      }
    }
    nc->variant = VARIANT_NAIVE;
    for (guint v = 1; v < N_VARIANTS; v++)
      if (nc->ok[v] && nc->ms[v] < nc->ms[nc->variant])
        nc->variant = v;
  }
  e->measuring = FALSE;
  if (ok) {
    e->chosen_w = e->plan.width;
    e->chosen_h = e->plan.height;
  }
  return ok;
}

