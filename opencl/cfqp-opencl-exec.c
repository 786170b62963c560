/* The OpenCL executor: a whole graph on one device.  This file makes and
 * frees it and holds its parameters: weights and parameters are uploaded
 * when the executor (FP32) or a program (INT8, INT16) is set, and a program swap
 * uploads only the buffers whose bytes changed.  One frame's run is in
 * cfqp-opencl-run.c, the INT8 conv variants in cfqp-opencl-variants.c. */
#include "config.h"

#include "cfqp-opencl-exec-private.h"

#include <string.h>

/* --- parameters ---------------------------------------------------------- */

/* Makes np's parameter k hold size bytes of data, uploading only if they
 * differ from what it holds.  The upload does not block: np keeps the host
 * copy it reads until the queue is finished. */
static gboolean
upload_param (ClExec *e, NodeParams *np, ParamId k, gconstpointer data, gsize size,
    GPtrArray *stale, GError **error)
{
  GBytes *copy;
  cl_int err;

  if (np->host[k] && g_bytes_get_size (np->host[k]) == size &&
      memcmp (g_bytes_get_data (np->host[k], NULL), data, size) == 0)
    return TRUE;
  if (np->mem[k] && (!np->host[k] || g_bytes_get_size (np->host[k]) != size))
    g_clear_pointer (&np->mem[k], clReleaseMemObject);
  if (!np->mem[k]) {
    np->mem[k] = clCreateBuffer (e->context, CL_MEM_READ_ONLY, size, NULL, &err);
    if (!CHECK (err, "clCreateBuffer"))
      return FALSE;
  }
  copy = g_bytes_new (data, size);
  err = clEnqueueWriteBuffer (e->queue, np->mem[k], CL_FALSE, 0, size,
      g_bytes_get_data (copy, NULL), 0, NULL, NULL);
  if (np->host[k])
    g_ptr_array_add (stale, np->host[k]);
  np->host[k] = copy;
  e->uploaded += size;
  return CHECK (err, "clEnqueueWriteBuffer");
}

/* Weights, biases, pad values, slopes and constants of an FP32 graph. */
static gboolean
upload_f32_params (ClExec *e, GPtrArray *stale, GError **error)
{
  for (guint i = 0; i < e->graph->n_nodes; i++) {
    const CfqpNode *node = &e->graph->nodes[i];
    NodeParams *np = &e->params[i];
    const CfqpActivation *act = &node->act;

    if (act->kind == CFQP_ACT_PRELU &&
        !upload_param (e, np, P_SLOPES, act->slopes, act->n_slopes * sizeof (float), stale,
            error))
      return FALSE;
    if (node->op == CFQP_OP_CONV || node->op == CFQP_OP_CONV_TRANSPOSE) {
      const CfqpConvParams *cp = &node->p.conv;
      gsize n_w = (gsize) cp->out_channels * (cp->in_channels / cp->groups) *
          cp->kernel_h * cp->kernel_w;
      g_autofree float *zeros = g_new0 (float, MAX (cp->in_channels, cp->out_channels));

      if (!upload_param (e, np, P_WEIGHT, cp->weight, n_w * sizeof (float), stale, error) ||
          !upload_param (e, np, P_BIAS, cp->bias ? cp->bias : zeros,
              cp->out_channels * sizeof (float), stale, error) ||
          !upload_param (e, np, P_PAD, cp->pad_value ? cp->pad_value : zeros,
              cp->in_channels * sizeof (float), stale, error))
        return FALSE;
    } else if (node->op == CFQP_OP_BINARY && node->p.binary.constant) {
      if (!upload_param (e, np, P_CONSTANT, node->p.binary.constant,
              node->p.binary.n_constant * sizeof (float), stale, error))
        return FALSE;
    }
  }
  return TRUE;
}

static cl_int2 *
requants_to_cl (const CfqpRequant *rq, gsize n)
{
  cl_int2 *out = g_new (cl_int2, n);

  for (gsize k = 0; k < n; k++) {
    out[k].s[0] = rq[k].m;
    out[k].s[1] = rq[k].shift;
  }
  return out;
}

static gboolean
upload_requants (ClExec *e, NodeParams *np, ParamId k, const CfqpRequant *rq, gsize n,
    GPtrArray *stale, GError **error)
{
  g_autofree cl_int2 *v = requants_to_cl (rq, n);

  return upload_param (e, np, k, v, n * sizeof (cl_int2), stale, error);
}

/* The tiled kernels' weights: [group·block][quad][ky][kx][TILE_OC] × 4 input
 * channels (a missing channel of the last quad, a missing output of a short
 * block: 0), and Σw per output channel for the zero point term. */
static gboolean
upload_tile_weights (ClExec *e, guint i, const CfqpInt8Node *q, GPtrArray *stale,
    GError **error)
{
  const CfqpConvParams *cp = &e->graph->nodes[i].p.conv;
  const NodeConv *nc = &e->conv[i];
  guint icg = cp->in_channels / cp->groups, ocg = cp->out_channels / cp->groups;
  guint kk = cp->kernel_h * cp->kernel_w, nb = (ocg + TILE_OC - 1) / TILE_OC;
  gsize size = (gsize) cp->groups * nb * nc->nq * kk * TILE_OC * 4;
  g_autofree gint8 *wt = g_new0 (gint8, size);
  g_autofree gint32 *ws = g_new0 (gint32, cp->out_channels);

  for (guint oc = 0; oc < cp->out_channels; oc++) {
    guint z = oc / ocg * nb + oc % ocg / TILE_OC, o = oc % ocg % TILE_OC;

    for (guint j = 0; j < icg; j++)
      for (guint t = 0; t < kk; t++) {
        gint8 v = q->weight[((gsize) oc * icg + j) * kk + t];
        wt[((((gsize) z * nc->nq + j / 4) * kk + t) * TILE_OC + o) * 4 + j % 4] = v;
        ws[oc] += v;
      }
  }
  return upload_param (e, &e->params[i], P_WTILE, wt, size, stale, error) &&
      upload_param (e, &e->params[i], P_WSUM, ws, cp->out_channels * sizeof (gint32), stale,
          error);
}


gint
cfqp_opencl_int16_kernel (CfqpOpType op)
{
  switch (op) {
    case CFQP_OP_CONV:
      return K_CONV_U16;
    case CFQP_OP_CONV_TRANSPOSE:
      return K_CONV_TRANSPOSE_U16;
    case CFQP_OP_BINARY:
      return K_BINARY_U16;
    case CFQP_OP_CONCAT:
    case CFQP_OP_ACTIVATION:
      return K_RESCALE_U16;
    case CFQP_OP_DEPTH_TO_SPACE:
    case CFQP_OP_SPACE_TO_DEPTH:
    case CFQP_OP_RESIZE_NEAREST:
    case CFQP_OP_TILE_CHANNELS:
      return K_MOVE_U16;
    default:
      return -1;
  }
}

/* An INT8 node's parameters, or a 16-bit program's (int16 taps, int64
 * biases, uint16 pads in place of int8, int32, uint8). */
static gboolean
upload_int8_node (ClExec *e, guint i, const CfqpInt8Node *q, GPtrArray *stale, GError **error)
{
  const CfqpNode *node = &e->graph->nodes[i];
  NodeParams *np = &e->params[i];
  guint c_n = node->out_channels;
  gboolean wide = e->precision == CFQP_PRECISION_INT16;

  np->z_in[0] = q->z_in[0];
  np->z_in[1] = q->z_in[1];
  np->z_out = q->z_out;
  np->lo = q->lo;
  np->hi = q->hi;
  switch (node->op) {
    case CFQP_OP_CONV:
    case CFQP_OP_CONV_TRANSPOSE: {
      const CfqpConvParams *cp = &node->p.conv;
      gsize n_w = (gsize) cp->out_channels * (cp->in_channels / cp->groups) *
          cp->kernel_h * cp->kernel_w;
      if (wide)
        return upload_param (e, np, P_WEIGHT, q->weight16, n_w * sizeof (gint16), stale,
                error) &&
            upload_param (e, np, P_BIAS, q->bias64, c_n * sizeof (gint64), stale, error) &&
            upload_requants (e, np, P_RQ_POS, q->rq_pos, c_n, stale, error) &&
            upload_requants (e, np, P_RQ_NEG, q->rq_neg, c_n, stale, error) &&
            (node->op == CFQP_OP_CONV_TRANSPOSE ||
             upload_param (e, np, P_PAD, q->pad16, cp->in_channels * sizeof (guint16), stale,
                 error));
      return upload_param (e, np, P_WEIGHT, q->weight, n_w, stale, error) &&
          upload_param (e, np, P_BIAS, q->bias, c_n * sizeof (gint32), stale, error) &&
          upload_requants (e, np, P_RQ_POS, q->rq_pos, c_n, stale, error) &&
          upload_requants (e, np, P_RQ_NEG, q->rq_neg, c_n, stale, error) &&
          upload_param (e, np, P_PAD, q->pad, cp->in_channels, stale, error) &&
          (!conv_tiles (&e->conv[i]) || upload_tile_weights (e, i, q, stale, error));
    }
    case CFQP_OP_BINARY:
      return upload_requants (e, np, P_RQ_IN, q->rq_in, 2 * c_n, stale, error) &&
          upload_param (e, np, P_OFFSET, q->offset, c_n * sizeof (gint64), stale, error);
    case CFQP_OP_CONCAT:
    case CFQP_OP_ACTIVATION:
      g_free (np->z_inputs);
      np->z_inputs = g_memdup2 (q->z_inputs, node->n_inputs * sizeof (gint32));
      return upload_requants (e, np, P_RQ_IN, q->rq_in, (gsize) node->n_inputs * 2 * c_n,
          stale, error);
    default:
      return TRUE;   /* data movement copies bytes */
  }
}

static gboolean
cl_set_program (CfqpExecutor *base, const CfqpInt8Program *program, GError **error)
{
  ClExec *e = (ClExec *) base;
  g_autoptr (GPtrArray) stale = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  gboolean ok = TRUE;

  g_return_val_if_fail (cfqp_precision_is_quantised (e->precision), FALSE);
  if (program->bits != cfqp_int8_program_bits (e->precision)) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID,
        "a %u-bit program for an executor of %u-bit ones", program->bits,
        cfqp_int8_program_bits (e->precision));
    return FALSE;
  }
  /* before anything is uploaded: a node no kernel runs is refused, not
   * run wrong */
  for (guint i = 0; e->precision == CFQP_PRECISION_INT16 && i < e->graph->n_nodes; i++)
    if (cfqp_opencl_int16_kernel (e->graph->nodes[i].op) < 0) {
      g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_UNSUPPORTED,
          "node '%s': op %s has no OpenCL INT16 kernel", e->graph->nodes[i].name,
          cfqp_op_type_to_string (e->graph->nodes[i].op));
      e->have_program = FALSE;
      return FALSE;
    }
  for (guint i = 0; ok && i < e->graph->n_nodes; i++)
    ok = upload_int8_node (e, i, &program->nodes[i], stale, error);
  /* The replaced host copies may still be read by pending uploads. */
  if (!CHECK (clFinish (e->queue), "clFinish"))
    ok = FALSE;
  e->have_program = ok;
  return ok;
}

/* INT16 takes 64-bit integers in every kernel (int64 biases, the wide
 * requantisation): a full-profile device has them, an embedded one only
 * with cl_khr_int64. */
static gboolean
check_int64 (ClExec *e, GError **error)
{
  char profile[64] = "", *ext = NULL;
  size_t n = 0;
  gboolean ok;

  if (!CHECK (clGetDeviceInfo (e->device, CL_DEVICE_PROFILE, sizeof profile - 1, profile,
              NULL), "clGetDeviceInfo"))
    return FALSE;
  if (!g_str_equal (profile, "EMBEDDED_PROFILE"))
    return TRUE;
  if (clGetDeviceInfo (e->device, CL_DEVICE_EXTENSIONS, 0, NULL, &n) == CL_SUCCESS && n > 0) {
    ext = g_malloc0 (n + 1);
    clGetDeviceInfo (e->device, CL_DEVICE_EXTENSIONS, n, ext, NULL);
  }
  ok = ext && strstr (ext, "cl_khr_int64") != NULL;
  g_free (ext);
  if (!ok)
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_UNSUPPORTED,
        "OpenCL device %s has no 64-bit integers (embedded profile without cl_khr_int64): "
        "INT16 needs them", e->parent.name);
  return ok;
}

/* --- life cycle ---------------------------------------------------------- */

static void
cl_free (CfqpExecutor *base)
{
  ClExec *e = (ClExec *) base;

  if (e->queue)
    clFinish (e->queue);
  for (guint i = 0; e->params && i < e->graph->n_nodes; i++) {
    for (guint k = 0; k < N_PARAMS; k++) {
      if (e->params[i].mem[k])
        clReleaseMemObject (e->params[i].mem[k]);
      if (e->params[i].host[k])
        g_bytes_unref (e->params[i].host[k]);
    }
    g_free (e->params[i].z_inputs);
  }
  g_free (e->params);
  g_free (e->conv);
  for (guint k = 0; e->events && k < e->events->len; k++)
    clReleaseEvent (g_array_index (e->events, Launch, k).event);
  g_clear_pointer (&e->events, g_array_unref);
  g_free (e->node_ms);
  for (guint s = 0; s < e->n_slots; s++)
    if (e->slots[s])
      clReleaseMemObject (e->slots[s]);
  g_free (e->slots);
  g_free (e->slot_bytes);
  g_clear_pointer (&e->in_buf, clReleaseMemObject);
  g_clear_pointer (&e->out_buf, clReleaseMemObject);
  g_clear_pointer (&e->in16_buf, clReleaseMemObject);
  g_clear_pointer (&e->out16_buf, clReleaseMemObject);
  g_clear_pointer (&e->dummy, clReleaseMemObject);
  for (guint k = 0; k < N_KERNELS; k++)
    if (e->kernels[k])
      clReleaseKernel (e->kernels[k]);
  g_clear_pointer (&e->queue, clReleaseCommandQueue);
  g_clear_pointer (&e->program, clReleaseProgram);
  g_clear_pointer (&e->context, clReleaseContext);
  cfqp_plan_clear (&e->plan);
  g_free (e->parent.name);
  g_free (e);
}

static const CfqpExecutorClass cl_funcs = {
  .set_program = cl_set_program,
  .run = cfqp_opencl_exec_run,
  .free = cl_free,
};

CfqpExecutor *
cfqp_opencl_exec_new (const CfqpGraph *graph, CfqpPrecision precision, guint scale,
    guint scale_den, const char *device, gboolean profile, GError **error)
{
  ClExec *e = g_new0 (ClExec, 1);
  g_autofree char *name = NULL;
  g_autoptr (GPtrArray) stale = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  cl_int err;

  e->parent.klass = &cl_funcs;
  e->graph = graph;
  e->precision = precision;
  e->scale = scale;
  e->scale_den = scale_den;
  e->elsize = precision == CFQP_PRECISION_FP32 ? sizeof (float) :
      precision == CFQP_PRECISION_INT16 ? sizeof (guint16) : 1;
  e->params = g_new0 (NodeParams, graph->n_nodes);
  if (!cfqp_opencl_open (device, &e->device, &name, &e->context, &e->program, error))
    goto fail;
  e->parent.name = g_strdup_printf ("opencl:%s", name);
  if (precision == CFQP_PRECISION_INT16 && !check_int64 (e, error))
    goto fail;
  e->profile = profile;
  e->node_ms = g_new0 (double, MAX (graph->n_nodes, 1));
  e->events = g_array_new (FALSE, FALSE, sizeof (Launch));
  e->queue = clCreateCommandQueue (e->context, e->device,
      e->profile ? CL_QUEUE_PROFILING_ENABLE : 0, &err);
  if (!CHECK (err, "clCreateCommandQueue"))
    goto fail;
  for (guint k = 0; k < N_KERNELS; k++) {
    e->kernels[k] = clCreateKernel (e->program, kernel_names[k], &err);
    if (err != CL_SUCCESS) {
      g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_BACKEND,
          "clCreateKernel (%s) failed: %s (%d)", kernel_names[k],
          cfqp_opencl_error_name (err), err);
      goto fail;
    }
  }
  e->dummy = clCreateBuffer (e->context, CL_MEM_READ_WRITE, 64, NULL, &err);
  if (!CHECK (err, "clCreateBuffer") || !cfqp_opencl_setup_conv_variants (e, error))
    goto fail;
  if (precision == CFQP_PRECISION_FP32 &&
      (!upload_f32_params (e, stale, error) || !CHECK (clFinish (e->queue), "clFinish")))
    goto fail;
  return &e->parent;

fail:
  cl_free (&e->parent);
  return NULL;
}

const double *
cfqp_opencl_exec_get_node_ms (CfqpExecutor *exec)
{
  g_return_val_if_fail (exec->klass == &cl_funcs, NULL);
  return ((ClExec *) exec)->profile ? ((ClExec *) exec)->node_ms : NULL;
}

gboolean
cfqp_opencl_exec_get_transfer_ms (CfqpExecutor *exec, double *upload_ms, double *download_ms)
{
  ClExec *e = (ClExec *) exec;

  g_return_val_if_fail (exec->klass == &cl_funcs, FALSE);
  if (!e->profile)
    return FALSE;
  *upload_ms = e->upload_ms;
  *download_ms = e->download_ms;
  return TRUE;
}

guint64
cfqp_opencl_exec_get_uploaded_bytes (CfqpExecutor *exec)
{
  g_return_val_if_fail (exec->klass == &cl_funcs, 0);
  return ((ClExec *) exec)->uploaded;
}

char *
cfqp_opencl_exec_describe_kernels (CfqpExecutor *exec)
{
  ClExec *e = (ClExec *) exec;
  GString *s;

  g_return_val_if_fail (exec->klass == &cl_funcs, NULL);
  s = g_string_new (NULL);
  g_string_append_printf (s, "kernels=%s, tiled dot product: %s\n",
      e->forced < 0 ? "auto" : variant_names[e->forced], e->dot ? e->dot : "mad24");
  for (guint i = 0; i < e->graph->n_nodes; i++) {
    const NodeConv *nc = &e->conv[i];
    const CfqpNode *node = &e->graph->nodes[i];

    if (node->op != CFQP_OP_CONV || e->precision != CFQP_PRECISION_INT8)
      continue;
    g_string_append_printf (s, "%s: %s", node->name, variant_names[nc->variant]);
    if (!conv_tiles (nc))
      g_string_append (s, " (no tiled variant can run it)");
    else if (e->forced < 0 && e->chosen_w) {
      g_string_append_printf (s, " (at %u×%u:", e->chosen_w, e->chosen_h);
      for (guint v = 0; v < N_VARIANTS; v++)
        if (nc->ok[v])
          g_string_append_printf (s, " %s %.3f ms", variant_names[v], nc->ms[v]);
      g_string_append_c (s, ')');
    }
    g_string_append_c (s, '\n');
  }
  return g_string_free (s, FALSE);
}

guint
cfqp_opencl_exec_count_tiled (CfqpExecutor *exec)
{
  ClExec *e = (ClExec *) exec;
  guint n = 0;

  g_return_val_if_fail (exec->klass == &cl_funcs, 0);
  for (guint i = 0; i < e->graph->n_nodes; i++)
    n += e->conv[i].variant != VARIANT_NAIVE;
  return n;
}

guint
cfqp_opencl_exec_get_frame_transfers (CfqpExecutor *exec, guint64 *up_bytes,
    guint64 *down_bytes)
{
  ClExec *e = (ClExec *) exec;

  g_return_val_if_fail (exec->klass == &cl_funcs, 0);
  if (up_bytes)
    *up_bytes = e->frame_up;
  if (down_bytes)
    *down_bytes = e->frame_down;
  return e->frame_transfers;
}