/* The OpenCL executor's per-frame run: activation buffers laid out by a
 * CfqpPlan (one buffer per slot, reused across frames and grown only when a
 * frame needs more), the input uploaded without blocking, every node one
 * kernel launch per output (per input for concat) on an in-order queue,
 * one blocking read of the output, and with $CFQP_OPENCL_PROFILE the
 * device time of each launch. */
#include "config.h"

#include "cfqp-opencl-exec-private.h"

#include <string.h>

/* --- buffers ------------------------------------------------------------- */

static gboolean
ensure_buffer (ClExec *e, cl_mem *mem, gsize *have, gsize need, cl_mem_flags flags,
    GError **error)
{
  cl_int err;

  if (*mem && *have >= need)
    return TRUE;
  g_clear_pointer (mem, clReleaseMemObject);
  *mem = clCreateBuffer (e->context, flags, MAX (need, 1), NULL, &err);
  *have = *mem ? need : 0;
  return CHECK (err, "clCreateBuffer");
}

/* Bytes per element of the frame the caller hands in and takes out: an
 * INT16 executor's are bytes too (widened and narrowed on the device). */
static gsize
frame_elsize (ClExec *e)
{
  return e->precision == CFQP_PRECISION_INT16 ? 1 : e->elsize;
}

static gboolean
prepare (ClExec *e, guint width, guint height, GError **error)
{
  CfqpPlan *plan = &e->plan;
  const CfqpShape *out;

  if (plan->width == width && plan->height == height)
    return TRUE;
  if (!cfqp_plan_update (plan, e->graph, width, height, error))
    return FALSE;
  out = &plan->shapes[e->graph->output];
  if (e->scale && !cfqp_is_upscale (out->w, out->h, width, height, e->scale, e->scale_den)) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID,
        "output is %u×%u for a %u×%u input, not a ×%u/%u upscale",
        out->w, out->h, width, height, e->scale, MAX (e->scale_den, 1));
    cfqp_plan_clear (plan);
    return FALSE;
  }
  if (plan->n_slots > e->n_slots) {
    e->slots = g_renew (cl_mem, e->slots, plan->n_slots);
    e->slot_bytes = g_renew (gsize, e->slot_bytes, plan->n_slots);
    for (guint s = e->n_slots; s < plan->n_slots; s++) {
      e->slots[s] = NULL;
      e->slot_bytes[s] = 0;
    }
    e->n_slots = plan->n_slots;
  }
  for (guint s = 0; s < plan->n_slots; s++)
    if (!ensure_buffer (e, &e->slots[s], &e->slot_bytes[s],
            plan->slot_elements[s] * e->elsize, CL_MEM_READ_WRITE, error))
      goto fail;
  /* INT16: the frame's bytes in in_buf and out_buf, the levels beside them */
  if (!ensure_buffer (e, &e->in_buf, &e->in_bytes,
          cfqp_shape_elements (&plan->shapes[0]) * frame_elsize (e), CL_MEM_READ_ONLY, error) ||
      !ensure_buffer (e, &e->out_buf, &e->out_bytes,
          cfqp_shape_elements (out) * frame_elsize (e), CL_MEM_WRITE_ONLY, error))
    goto fail;
  if (e->precision == CFQP_PRECISION_INT16 &&
      (!ensure_buffer (e, &e->in16_buf, &e->in16_bytes,
           cfqp_shape_elements (&plan->shapes[0]) * e->elsize, CL_MEM_READ_WRITE, error) ||
       !ensure_buffer (e, &e->out16_buf, &e->out16_bytes,
           cfqp_shape_elements (out) * e->elsize, CL_MEM_READ_WRITE, error)))
    goto fail;
  return TRUE;

fail:
  cfqp_plan_clear (plan);
  return FALSE;
}

static cl_mem
value_mem (ClExec *e, guint v)
{
  gboolean wide = e->precision == CFQP_PRECISION_INT16;

  if (v == 0)
    return wide ? e->in16_buf : e->in_buf;
  if (v == e->graph->output)
    return wide ? e->out16_buf : e->out_buf;
  return e->slots[e->plan.slot_of_value[v]];
}

/* --- launches ------------------------------------------------------------ */

typedef struct {
  ClExec    *e;
  KernelId   id;
  cl_uint    i;
  cl_int     err;
  cl_uint    bad;   /* first argument that failed */
} Args;

/* One kernel argument: size bytes at value, or (value NULL) size bytes of
 * __local memory. */
typedef struct {
  size_t      size;
  const void *value;
} KernelArg;

#define ARG_MEM(m)   ((KernelArg) { sizeof (cl_mem), &(cl_mem) { (m) } })
#define ARG_INT(v)   ((KernelArg) { sizeof (cl_int), &(cl_int) { (cl_int) (v) } })
#define ARG_FLOAT(v) ((KernelArg) { sizeof (cl_float), &(cl_float) { (v) } })
#define ARG_LOCAL(n) ((KernelArg) { (n), NULL })

/* Sets a's kernel's next n arguments in order; the first failure is kept
 * for launch_nd to report. */
static void
set_args_n (Args *a, const KernelArg *args, guint n)
{
  for (guint k = 0; k < n; k++, a->i++)
    if (a->err == CL_SUCCESS) {
      a->err = clSetKernelArg (a->e->kernels[a->id], a->i, args[k].size, args[k].value);
      a->bad = a->i;
    }
}

#define set_args(a, ...) \
  set_args_n ((a), (const KernelArg[]) { __VA_ARGS__ }, \
      G_N_ELEMENTS (((const KernelArg[]) { __VA_ARGS__ })))

static cl_mem
param_mem (ClExec *e, guint node, ParamId k)
{
  return e->params[node].mem[k] ? e->params[node].mem[k] : e->dummy;
}

/* ACT_ARGS of common.cl. */
static void
args_act (Args *a, guint node_index, const CfqpActivation *act)
{
  set_args (a, ARG_INT (act->kind), ARG_FLOAT (act->alpha), ARG_FLOAT (act->lo),
      ARG_FLOAT (act->hi), ARG_MEM (param_mem (a->e, node_index, P_SLOPES)),
      ARG_INT (act->n_slopes));
}

/* An INT8 conv's z_in, then REQUANT_ARGS of int8.cl. */
static void
args_requant (Args *a, guint node_index)
{
  const NodeParams *np = &a->e->params[node_index];

  set_args (a, ARG_INT (np->z_in[0]), ARG_MEM (param_mem (a->e, node_index, P_RQ_POS)),
      ARG_MEM (param_mem (a->e, node_index, P_RQ_NEG)), ARG_INT (np->z_out),
      ARG_INT (np->lo), ARG_INT (np->hi));
}

/* A conv's sizes, channels per group, kernel, strides, dilations and top and
 * left pads, as every conv kernel takes them. */
static void
args_conv_geometry (Args *a, const CfqpShape *in, const CfqpShape *out,
    const CfqpConvParams *cp, guint pt, guint pl)
{
  set_args (a, ARG_INT (in->w), ARG_INT (in->h), ARG_INT (out->w), ARG_INT (out->h),
      ARG_INT (cp->in_channels / cp->groups), ARG_INT (cp->out_channels / cp->groups),
      ARG_INT (cp->kernel_h), ARG_INT (cp->kernel_w), ARG_INT (cp->stride_h),
      ARG_INT (cp->stride_w), ARG_INT (cp->dilation_h), ARG_INT (cp->dilation_w),
      ARG_INT (pt), ARG_INT (pl));
}

static gboolean
launch_nd (Args *a, guint node, const size_t *global, const size_t *local, GError **error)
{
  Launch l = { NULL, node };
  cl_int err;

  if (a->err != CL_SUCCESS) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_BACKEND,
        "clSetKernelArg (%s, argument %u) failed: %s (%d)", kernel_names[a->id], a->bad,
        cfqp_opencl_error_name (a->err), a->err);
    return FALSE;
  }
  err = clEnqueueNDRangeKernel (a->e->queue, a->e->kernels[a->id], 3, NULL, global, local, 0,
      NULL, a->e->profile && !a->e->measuring ? &l.event : NULL);
  if (err == CL_SUCCESS && l.event)
    g_array_append_val (a->e->events, l);
  if (err != CL_SUCCESS) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_BACKEND,
        "clEnqueueNDRangeKernel (%s) failed: %s (%d)", kernel_names[a->id],
        cfqp_opencl_error_name (err), err);
    return FALSE;
  }
  return TRUE;
}

static gboolean
launch (Args *a, guint node, guint w, guint h, guint c, GError **error)
{
  size_t global[3] = { w, h, c };

  return launch_nd (a, node, global, NULL, error);
}

static gboolean
enqueue_conv_tile (ClExec *e, guint i, GError **error)
{
  const CfqpNode *node = &e->graph->nodes[i];
  const CfqpConvParams *cp = &node->p.conv;
  const CfqpShape *in = &e->plan.shapes[node->inputs[0]], *out = &e->plan.shapes[node->output];
  const NodeConv *nc = &e->conv[i];
  ConvVariant v = nc->variant;
  Args a = { e, variant_kernel[v] };
  guint pt, pl, pb, pr, ocg = cp->out_channels / cp->groups;
  guint nb = (ocg + TILE_OC - 1) / TILE_OC, span = TILE_LX * variant_px[v];
  size_t local[3] = { TILE_LX, TILE_LY, 1 };
  size_t global[3] = { (out->w + span - 1) / span * TILE_LX,
                       (out->h + TILE_LY - 1) / TILE_LY * TILE_LY, (size_t) cp->groups * nb };

  cfqp_conv_resolve_pads (cp, in->h, in->w, &pt, &pl, &pb, &pr);
  /* TILE_ARGS of int8.cl */
  set_args (&a, ARG_MEM (value_mem (e, node->inputs[0])), ARG_MEM (value_mem (e, node->output)),
      ARG_MEM (param_mem (e, i, P_WTILE)), ARG_MEM (param_mem (e, i, P_BIAS)),
      ARG_MEM (param_mem (e, i, P_WSUM)), ARG_MEM (param_mem (e, i, P_PAD)));
  args_requant (&a, i);
  args_conv_geometry (&a, in, out, cp, pt, pl);
  set_args (&a, ARG_INT (nb), ARG_INT (nc->nq), ARG_INT (nc->ck[v]), ARG_INT (nc->pw[v]),
      ARG_INT (nc->ph), ARG_LOCAL ((size_t) nc->ck[v] * nc->pw[v] * nc->ph * 4));
  return launch_nd (&a, i, global, local, error);
}

gboolean
cfqp_opencl_enqueue_conv (ClExec *e, guint i, GError **error)
{
  const CfqpNode *node = &e->graph->nodes[i];
  const CfqpConvParams *cp = &node->p.conv;
  const CfqpShape *in = &e->plan.shapes[node->inputs[0]], *out = &e->plan.shapes[node->output];
  gboolean transpose = node->op == CFQP_OP_CONV_TRANSPOSE, f32 = e->elsize == 4;
  /* conv_u16 and conv_transpose_u16 take conv_u8's arguments */
  Args a = { e, f32 ? (transpose ? K_CONV_TRANSPOSE_F32 : K_CONV_F32) :
                e->elsize == 2 ? (KernelId) cfqp_opencl_int16_kernel (node->op) :
                      (transpose ? K_CONV_TRANSPOSE_U8 : K_CONV_U8) };
  guint pt, pl, pb, pr, nb = (cp->out_channels / cp->groups + CONV_OCB - 1) / CONV_OCB;

  if (e->conv[i].variant != VARIANT_NAIVE)
    return enqueue_conv_tile (e, i, error);
  if (transpose)
    cfqp_conv_transpose_resolve_pads (cp, &pt, &pl, &pb, &pr);
  else
    cfqp_conv_resolve_pads (cp, in->h, in->w, &pt, &pl, &pb, &pr);
  set_args (&a, ARG_MEM (value_mem (e, node->inputs[0])), ARG_MEM (value_mem (e, node->output)),
      ARG_MEM (param_mem (e, i, P_WEIGHT)), ARG_MEM (param_mem (e, i, P_BIAS)));
  if (!transpose)
    set_args (&a, ARG_MEM (param_mem (e, i, P_PAD)));
  if (!f32)
    args_requant (&a, i);
  args_conv_geometry (&a, in, out, cp, pt, pl);
  if (!transpose)
    set_args (&a, ARG_INT (nb));
  if (f32)
    args_act (&a, i, &node->act);
  /* a conv work-item computes CONV_OCB channels of one group */
  return launch (&a, i, out->w, out->h, transpose ? out->c : cp->groups * nb, error);
}

static gboolean
enqueue_binary (ClExec *e, guint i, GError **error)
{
  const CfqpNode *node = &e->graph->nodes[i];
  const CfqpBinaryParams *bp = &node->p.binary;
  const CfqpShape *out = &e->plan.shapes[node->output];
  const CfqpShape *sa = &e->plan.shapes[node->inputs[0]];
  gint64 plane = (gint64) out->w * out->h;
  gboolean two = node->n_inputs == 2;
  gint64 a_cs = sa->c == 1 ? 0 : plane;
  gint64 b_cs = two && e->plan.shapes[node->inputs[1]].c == 1 ? 0 : plane;
  cl_mem ma = value_mem (e, node->inputs[0]);
  cl_mem mb = two ? value_mem (e, node->inputs[1]) : e->dummy;

  if (e->elsize == 4) {
    Args a = { e, K_BINARY_F32 };
    /* operand (buffer, channel step, pixel step); a constant has pixel step 0 */
    cl_mem m0 = ma, m1 = mb;
    gint64 cs0 = a_cs, ps0 = 1, cs1 = b_cs, ps1 = 1;

    if (bp->constant) {
      m1 = param_mem (e, i, P_CONSTANT);
      cs1 = bp->n_constant == 1 ? 0 : 1;
      ps1 = 0;
      if (bp->constant_first) {
        m1 = ma; cs1 = a_cs; ps1 = 1;
        m0 = param_mem (e, i, P_CONSTANT);
        cs0 = bp->n_constant == 1 ? 0 : 1;
        ps0 = 0;
      }
    }
    set_args (&a, ARG_MEM (m0), ARG_MEM (m1), ARG_MEM (value_mem (e, node->output)),
        ARG_INT (cs0), ARG_INT (ps0), ARG_INT (cs1), ARG_INT (ps1), ARG_INT (bp->kind),
        ARG_INT (out->w), ARG_INT (out->h));
    args_act (&a, i, &node->act);
    return launch (&a, i, out->w, out->h, out->c, error);
  } else {
    NodeParams *np = &e->params[i];
    Args a = { e, e->elsize == 2 ? K_BINARY_U16 : K_BINARY_U8 };

    set_args (&a, ARG_MEM (ma), ARG_MEM (mb), ARG_MEM (value_mem (e, node->output)),
        ARG_MEM (param_mem (e, i, P_RQ_IN)), ARG_MEM (param_mem (e, i, P_OFFSET)),
        ARG_INT (a_cs), ARG_INT (b_cs), ARG_INT (two),
        ARG_INT (two && bp->kind == CFQP_BINARY_MUL), ARG_INT (np->z_in[0]),
        ARG_INT (np->z_in[1]), ARG_INT (np->z_out), ARG_INT (np->lo), ARG_INT (np->hi),
        ARG_INT (out->c), ARG_INT (out->w), ARG_INT (out->h));
    return launch (&a, i, out->w, out->h, out->c, error);
  }
}

/* Concat and standalone activations: one launch per input. */
static gboolean
enqueue_concat (ClExec *e, guint i, GError **error)
{
  const CfqpNode *node = &e->graph->nodes[i];
  const CfqpShape *out = &e->plan.shapes[node->output];
  NodeParams *np = &e->params[i];
  guint c_off = 0;

  for (guint k = 0; k < node->n_inputs; k++) {
    guint in_c = e->plan.shapes[node->inputs[k]].c;
    Args a = { e, e->elsize == 4 ? K_COPY_ACT_F32 :
                  e->elsize == 2 ? K_RESCALE_U16 : K_RESCALE_U8 };

    set_args (&a, ARG_MEM (value_mem (e, node->inputs[k])),
        ARG_MEM (value_mem (e, node->output)));
    if (e->elsize == 4) {
      set_args (&a, ARG_INT (out->w), ARG_INT (out->h), ARG_INT (c_off));
      args_act (&a, i, &node->act);
    } else {
      set_args (&a, ARG_MEM (param_mem (e, i, P_RQ_IN)), ARG_INT ((gint64) k * 2 * out->c),
          ARG_INT (np->z_inputs[k]), ARG_INT (np->z_out), ARG_INT (np->lo),
          ARG_INT (np->hi), ARG_INT (out->c), ARG_INT (c_off), ARG_INT (out->w),
          ARG_INT (out->h));
    }
    if (!launch (&a, i, out->w, out->h, in_c, error))
      return FALSE;
    c_off += in_c;
  }
  return TRUE;
}

static gboolean
enqueue_move (ClExec *e, guint i, GError **error)
{
  const CfqpNode *node = &e->graph->nodes[i];
  const CfqpShape *in = &e->plan.shapes[node->inputs[0]], *out = &e->plan.shapes[node->output];
  Args a = { e, e->elsize == 4 ? K_MOVE_F32 : e->elsize == 2 ? K_MOVE_U16 : K_MOVE_U8 };
  gint64 p0, p1;

  switch (node->op) {
    case CFQP_OP_RESIZE_NEAREST:
      p0 = node->p.resize.scale_h;
      p1 = node->p.resize.scale_w;
      break;
    case CFQP_OP_TILE_CHANNELS:
      p0 = node->p.tile.repeats;
      p1 = node->p.tile.interleave;
      break;
    default:
      p0 = node->p.shuffle.block;
      p1 = node->p.shuffle.mode == CFQP_D2S_DCR;
      break;
  }
  /* common.cl's MOVE_* follow CfqpOpType */
  set_args (&a, ARG_MEM (value_mem (e, node->inputs[0])), ARG_MEM (value_mem (e, node->output)),
      ARG_INT (node->op), ARG_INT (p0), ARG_INT (p1), ARG_INT (in->c), ARG_INT (in->h),
      ARG_INT (in->w), ARG_INT (out->c), ARG_INT (out->h), ARG_INT (out->w));
  if (e->elsize == 4)
    args_act (&a, i, &node->act);
  return launch (&a, i, out->w, out->h, out->c, error);
}

static gboolean
enqueue_node (ClExec *e, guint i, GError **error)
{
  switch (e->graph->nodes[i].op) {
    case CFQP_OP_CONV:
    case CFQP_OP_CONV_TRANSPOSE:
      return cfqp_opencl_enqueue_conv (e, i, error);
    case CFQP_OP_BINARY:
      return enqueue_binary (e, i, error);
    case CFQP_OP_CONCAT:
    case CFQP_OP_ACTIVATION:
      return enqueue_concat (e, i, error);
    case CFQP_OP_DEPTH_TO_SPACE:
    case CFQP_OP_SPACE_TO_DEPTH:
    case CFQP_OP_RESIZE_NEAREST:
    case CFQP_OP_TILE_CHANNELS:
      return enqueue_move (e, i, error);
    default:
      g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_UNSUPPORTED,
          "node '%s': op %s has no OpenCL kernel", e->graph->nodes[i].name,
          cfqp_op_type_to_string (e->graph->nodes[i].op));
      return FALSE;
  }
}

/* INT16's ends: widen_u8 (frame bytes to levels) or narrow_u16 (levels to
 * bytes) over n elements, timed as node node. */
static gboolean
enqueue_end (ClExec *e, KernelId id, cl_mem from, cl_mem to, gsize n, guint node,
    GError **error)
{
  Args a = { e, id };
  size_t global[3] = { (n + 63) / 64 * 64, 1, 1 };

  set_args (&a, ARG_MEM (from), ARG_MEM (to), ARG_INT (n));
  return launch_nd (&a, node, global, NULL, error);
}

/* Sums the device time of each node's launches (the queue is finished). */
static gboolean
collect_profile (ClExec *e, GError **error)
{
  gboolean ok = TRUE;

  if (!e->profile)
    return TRUE;
  memset (e->node_ms, 0, e->graph->n_nodes * sizeof (double));
  for (guint k = 0; k < e->events->len; k++) {
    Launch *l = &g_array_index (e->events, Launch, k);
    cl_ulong t0 = 0, t1 = 0;

    if (ok)
      ok = CHECK (clGetEventProfilingInfo (l->event, CL_PROFILING_COMMAND_START, sizeof t0,
              &t0, NULL), "clGetEventProfilingInfo") &&
          CHECK (clGetEventProfilingInfo (l->event, CL_PROFILING_COMMAND_END, sizeof t1, &t1,
              NULL), "clGetEventProfilingInfo");
    e->node_ms[l->node] += (t1 - t0) / 1e6;
    clReleaseEvent (l->event);
  }
  g_array_set_size (e->events, 0);
  return ok;
}

/* Device time of a finished transfer's event (released), in ms. */
static double
event_ms (cl_event event)
{
  cl_ulong t0 = 0, t1 = 0;

  if (!event)
    return 0;
  if (clGetEventProfilingInfo (event, CL_PROFILING_COMMAND_START, sizeof t0, &t0, NULL) !=
      CL_SUCCESS ||
      clGetEventProfilingInfo (event, CL_PROFILING_COMMAND_END, sizeof t1, &t1, NULL) !=
      CL_SUCCESS)
    t1 = t0;
  clReleaseEvent (event);
  return (t1 - t0) / 1e6;
}

/* One frame.  levels: an INT16 executor's input and output are its levels
 * (uint16), not the frame's bytes (cfqp_opencl_exec_run_levels). */
static gboolean
run_frame (ClExec *e, gconstpointer in, guint width, guint height, gpointer out,
    gboolean levels, GError **error)
{
  const CfqpGraph *g = e->graph;
  gboolean wide = e->precision == CFQP_PRECISION_INT16;
  gsize n_in, n_out, in_bytes, out_bytes, el = levels ? e->elsize : frame_elsize (e);
  cl_mem up_to, down_from;
  cl_event up = NULL, down = NULL;
  gboolean ok;

  g_return_val_if_fail (e->precision == CFQP_PRECISION_FP32 || e->have_program, FALSE);
  if (!prepare (e, width, height, error))
    return FALSE;
  n_in = cfqp_shape_elements (&e->plan.shapes[0]);
  n_out = cfqp_shape_elements (&e->plan.shapes[g->output]);
  in_bytes = n_in * el;
  out_bytes = n_out * el;
  e->frame_transfers = 0;
  e->frame_up = e->frame_down = 0;
  if (g->output == 0) {
    memmove (out, in, in_bytes);
    return TRUE;
  }
  up_to = wide && levels ? e->in16_buf : e->in_buf;
  down_from = wide && levels ? e->out16_buf : e->out_buf;
  /* The caller's input stays valid until the blocking read below, which
   * the in-order queue runs last.  Nothing here can overlap: the read ends
   * this call, and the next frame's input exists only once the caller makes
   * the next call (docs/performance.md, "Transfers"). */
  if (!CHECK (clEnqueueWriteBuffer (e->queue, up_to, CL_FALSE, 0, in_bytes, in, 0, NULL,
              e->profile ? &up : NULL), "clEnqueueWriteBuffer"))
    return FALSE;
  e->frame_transfers++;
  e->frame_up += in_bytes;
  ok = !wide || levels ||
      enqueue_end (e, K_WIDEN_U8, e->in_buf, e->in16_buf, n_in, 0, error);
  if (ok && e->forced < 0 && (e->chosen_w != width || e->chosen_h != height))
    ok = cfqp_opencl_choose_conv_variants (e, error);
  for (guint i = 0; ok && i < g->n_nodes; i++)
    ok = enqueue_node (e, i, error);
  if (ok && wide && !levels)
    ok = enqueue_end (e, K_NARROW_U16, e->out16_buf, e->out_buf, n_out, g->n_nodes - 1,
        error);
  if (!ok) {
    clFinish (e->queue);
    if (up)
      clReleaseEvent (up);
    return FALSE;
  }
  ok = CHECK (clEnqueueReadBuffer (e->queue, down_from, CL_TRUE, 0, out_bytes, out, 0, NULL,
          e->profile ? &down : NULL), "clEnqueueReadBuffer");
  if (!ok)
    clFinish (e->queue);
  e->frame_transfers++;
  e->frame_down += out_bytes;
  e->upload_ms = event_ms (up);
  e->download_ms = ok ? event_ms (down) : 0;
  return ok && collect_profile (e, error);
}

gboolean
cfqp_opencl_exec_run (CfqpExecutor *base, gconstpointer in, guint width, guint height,
    gpointer out, GError **error)
{
  return run_frame ((ClExec *) base, in, width, height, out, FALSE, error);
}

gboolean
cfqp_opencl_exec_run_levels (CfqpExecutor *exec, const guint16 *in, guint width,
    guint height, guint16 *out, GError **error)
{
  ClExec *e = (ClExec *) exec;

  g_return_val_if_fail (e->precision == CFQP_PRECISION_INT16, FALSE);
  return run_frame (e, in, width, height, out, TRUE, error);
}
