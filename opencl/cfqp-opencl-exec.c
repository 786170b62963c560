/* The OpenCL executor: a whole graph on one device.
 *
 * Activations live in device buffers laid out by a CfqpPlan (one buffer per
 * slot, reused across frames and grown only when a frame needs more), the
 * input is uploaded without blocking, every node is one kernel launch per
 * output (per input for concat) on an in-order queue, and one blocking read
 * brings the output back.  Weights and parameters are uploaded when the
 * executor (FP32) or a program (INT8) is set; a program swap uploads only
 * the buffers whose bytes changed. */
#include "config.h"

#include "cfqp-opencl.h"
#include "cfqp-plan.h"

#include <string.h>

typedef enum {
  K_CONV_F32, K_CONV_TRANSPOSE_F32, K_BINARY_F32, K_COPY_ACT_F32, K_MOVE_F32,
  K_CONV_U8, K_CONV_TRANSPOSE_U8, K_BINARY_U8, K_RESCALE_U8, K_MOVE_U8, K_CONV_U8_TILE2,
  K_CONV_U8_TILE4,
  N_KERNELS
} KernelId;

static const char *const kernel_names[N_KERNELS] = {
  "conv_f32", "conv_transpose_f32", "binary_f32", "copy_act_f32", "move_f32",
  "conv_u8", "conv_transpose_u8", "binary_u8", "rescale_u8", "move_u8", "conv_u8_tile2",
  "conv_u8_tile4",
};

/* Per-node device parameters. */
typedef enum {
  P_WEIGHT, P_BIAS, P_PAD, P_RQ_POS, P_RQ_NEG, P_RQ_IN, P_OFFSET, P_SLOPES, P_CONSTANT,
  P_WTILE, P_WSUM,   /* conv_u8_tile*: repacked weights, Σw per output channel */
  N_PARAMS
} ParamId;

typedef struct {
  cl_mem  mem[N_PARAMS];
  GBytes *host[N_PARAMS];   /* the bytes mem holds: what a swap compares */
  /* INT8 scalars, copied from the program */
  gint32  z_in[2], z_out, lo, hi;
  gint32 *z_inputs;
} NodeParams;

/* INT8 conv kernels: conv_u8 (naive: a work-item per pixel and 4 output
 * channels, global memory only) and conv_u8_tile2/4 (tiles in local memory,
 * dot products, 2 or 4 pixels per work-item).  All are bit-exact with ref;
 * which is fastest depends on the device and the layer, so
 * CFQP_OPENCL_KERNELS=auto (the default) times each on each eligible conv at
 * the first frame of each size and keeps the fastest; a variant's name
 * forces it (tests run each). */
typedef enum { VARIANT_NAIVE, VARIANT_TILE2, VARIANT_TILE4, N_VARIANTS } ConvVariant;

static const char *const variant_names[N_VARIANTS] = { "naive", "tiled-32x8", "tiled-64x8" };
static const guint variant_px[N_VARIANTS] = { 0, 2, 4 };
static const KernelId variant_kernel[N_VARIANTS] = { K_CONV_U8, K_CONV_U8_TILE2, K_CONV_U8_TILE4 };

/* conv_u8_tile*'s geometry: TILE_* of int8.cl. */
#define TILE_LX 16
#define TILE_LY 8
#define TILE_OC 8
/* Local memory a tile's patch may take: leaves room for several
 * work-groups per compute unit on GPUs with 48-64 KiB. */
#define TILE_LOCAL_BUDGET 16384

typedef struct {
  gboolean    ok[N_VARIANTS];   /* the variant can run this node (naive: any conv) */
  gint        nq, ph;           /* channel quads; patch rows */
  gint        ck[N_VARIANTS], pw[N_VARIANTS];   /* quads per pass; patch columns */
  ConvVariant variant;
  double      ms[N_VARIANTS];   /* measured by auto; 0 when not */
} NodeConv;

typedef struct {
  CfqpExecutor    parent;
  const CfqpGraph  *graph;
  CfqpPrecision     precision;
  guint             scale, scale_den;
  gsize             elsize;
  gboolean          have_program;
  cl_device_id      device;
  cl_context        context;
  cl_program        program;
  cl_command_queue  queue;
  cl_kernel         kernels[N_KERNELS];
  cl_mem            dummy;     /* bound to pointer arguments a node does not use */
  NodeParams       *params;    /* per node */
  CfqpPlan          plan;
  cl_mem           *slots;
  gsize            *slot_bytes;
  guint             n_slots;
  cl_mem            in_buf, out_buf;
  gsize             in_bytes, out_bytes;
  guint64           uploaded;
  /* $CFQP_OPENCL_PROFILE set: device time of each node in the last run */
  gboolean          profile;
  double           *node_ms;
  double            upload_ms, download_ms;   /* of the input and the output */
  GArray           *events;    /* Launch, of the run in progress */
  gboolean          measuring; /* auto's trial launches: no events */
  /* the last run's host↔device transfers: the frame's one upload and one
   * download, nothing between layers */
  guint             frame_transfers;
  guint64           frame_up, frame_down;
  /* INT8 conv variants */
  gint              forced;    /* a ConvVariant, or -1 for auto */
  const char       *dot;       /* the tiled convs' dot product, as built */
  cl_ulong          max_const, local_mem;
  size_t            max_wg;
  NodeConv         *conv;      /* per node */
  guint             chosen_w, chosen_h;   /* the size auto measured at */
} ClExec;

typedef struct {
  cl_event event;
  guint    node;
} Launch;

/* Output channels per conv work-item: OCB in f32.cl. */
#define CONV_OCB 4

#define CHECK(err, call) cfqp_opencl_check ((err), (call), error)

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

/* Whether a tiled variant can run the node. */
static gboolean
conv_tiles (const NodeConv *nc)
{
  for (guint v = VARIANT_NAIVE + 1; v < N_VARIANTS; v++)
    if (nc->ok[v])
      return TRUE;
  return FALSE;
}

static gboolean
upload_int8_node (ClExec *e, guint i, const CfqpInt8Node *q, GPtrArray *stale, GError **error)
{
  const CfqpNode *node = &e->graph->nodes[i];
  NodeParams *np = &e->params[i];
  guint c_n = node->out_channels;

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

  g_return_val_if_fail (e->precision == CFQP_PRECISION_INT8, FALSE);
  for (guint i = 0; ok && i < e->graph->n_nodes; i++)
    ok = upload_int8_node (e, i, &program->nodes[i], stale, error);
  /* The replaced host copies may still be read by pending uploads. */
  if (!CHECK (clFinish (e->queue), "clFinish"))
    ok = FALSE;
  e->have_program = ok;
  return ok;
}

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
  if (!ensure_buffer (e, &e->in_buf, &e->in_bytes,
          cfqp_shape_elements (&plan->shapes[0]) * e->elsize, CL_MEM_READ_ONLY, error) ||
      !ensure_buffer (e, &e->out_buf, &e->out_bytes,
          cfqp_shape_elements (out) * e->elsize, CL_MEM_WRITE_ONLY, error))
    goto fail;
  return TRUE;

fail:
  cfqp_plan_clear (plan);
  return FALSE;
}

static cl_mem
value_mem (ClExec *e, guint v)
{
  if (v == 0)
    return e->in_buf;
  if (v == e->graph->output)
    return e->out_buf;
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

static void
arg (Args *a, size_t size, const void *value)
{
  if (a->err == CL_SUCCESS) {
    a->err = clSetKernelArg (a->e->kernels[a->id], a->i, size, value);
    a->bad = a->i;
  }
  a->i++;
}

static void
arg_mem (Args *a, cl_mem mem)
{
  arg (a, sizeof mem, &mem);
}

static void
arg_int (Args *a, gint64 v)
{
  cl_int x = (cl_int) v;
  arg (a, sizeof x, &x);
}

static void
arg_float (Args *a, float v)
{
  cl_float x = v;
  arg (a, sizeof x, &x);
}

static cl_mem
param_mem (ClExec *e, guint node, ParamId k)
{
  return e->params[node].mem[k] ? e->params[node].mem[k] : e->dummy;
}

/* ACT_ARGS of common.cl. */
static void
arg_act (Args *a, guint node_index, const CfqpActivation *act)
{
  arg_int (a, act->kind);
  arg_float (a, act->alpha);
  arg_float (a, act->lo);
  arg_float (a, act->hi);
  arg_mem (a, param_mem (a->e, node_index, P_SLOPES));
  arg_int (a, act->n_slopes);
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
  NodeParams *np = &e->params[i];
  Args a = { e, variant_kernel[v] };
  guint pt, pl, pb, pr, ocg = cp->out_channels / cp->groups;
  guint nb = (ocg + TILE_OC - 1) / TILE_OC, span = TILE_LX * variant_px[v];
  size_t local[3] = { TILE_LX, TILE_LY, 1 };
  size_t global[3] = { (out->w + span - 1) / span * TILE_LX,
                       (out->h + TILE_LY - 1) / TILE_LY * TILE_LY, (size_t) cp->groups * nb };

  cfqp_conv_resolve_pads (cp, in->h, in->w, &pt, &pl, &pb, &pr);
  arg_mem (&a, value_mem (e, node->inputs[0]));
  arg_mem (&a, value_mem (e, node->output));
  arg_mem (&a, param_mem (e, i, P_WTILE));
  arg_mem (&a, param_mem (e, i, P_BIAS));
  arg_mem (&a, param_mem (e, i, P_WSUM));
  arg_mem (&a, param_mem (e, i, P_PAD));
  arg_int (&a, np->z_in[0]);
  arg_mem (&a, param_mem (e, i, P_RQ_POS));
  arg_mem (&a, param_mem (e, i, P_RQ_NEG));
  arg_int (&a, np->z_out);
  arg_int (&a, np->lo);
  arg_int (&a, np->hi);
  arg_int (&a, in->w);
  arg_int (&a, in->h);
  arg_int (&a, out->w);
  arg_int (&a, out->h);
  arg_int (&a, cp->in_channels / cp->groups);
  arg_int (&a, ocg);
  arg_int (&a, cp->kernel_h);
  arg_int (&a, cp->kernel_w);
  arg_int (&a, cp->stride_h);
  arg_int (&a, cp->stride_w);
  arg_int (&a, cp->dilation_h);
  arg_int (&a, cp->dilation_w);
  arg_int (&a, pt);
  arg_int (&a, pl);
  arg_int (&a, nb);
  arg_int (&a, nc->nq);
  arg_int (&a, nc->ck[v]);
  arg_int (&a, nc->pw[v]);
  arg_int (&a, nc->ph);
  arg (&a, (size_t) nc->ck[v] * nc->pw[v] * nc->ph * 4, NULL);   /* the patch, __local */
  return launch_nd (&a, i, global, local, error);
}

static gboolean
enqueue_conv (ClExec *e, guint i, GError **error)
{
  const CfqpNode *node = &e->graph->nodes[i];
  const CfqpConvParams *cp = &node->p.conv;
  const CfqpShape *in = &e->plan.shapes[node->inputs[0]], *out = &e->plan.shapes[node->output];
  gboolean transpose = node->op == CFQP_OP_CONV_TRANSPOSE, f32 = e->elsize == 4;
  NodeParams *np = &e->params[i];
  Args a = { e, f32 ? (transpose ? K_CONV_TRANSPOSE_F32 : K_CONV_F32) :
                      (transpose ? K_CONV_TRANSPOSE_U8 : K_CONV_U8) };
  guint pt, pl, pb, pr, nb = (cp->out_channels / cp->groups + CONV_OCB - 1) / CONV_OCB;

  if (e->conv[i].variant != VARIANT_NAIVE)
    return enqueue_conv_tile (e, i, error);
  if (transpose)
    cfqp_conv_transpose_resolve_pads (cp, &pt, &pl, &pb, &pr);
  else
    cfqp_conv_resolve_pads (cp, in->h, in->w, &pt, &pl, &pb, &pr);
  arg_mem (&a, value_mem (e, node->inputs[0]));
  arg_mem (&a, value_mem (e, node->output));
  arg_mem (&a, param_mem (e, i, P_WEIGHT));
  arg_mem (&a, param_mem (e, i, P_BIAS));
  if (!transpose)
    arg_mem (&a, param_mem (e, i, P_PAD));
  if (!f32) {
    arg_int (&a, np->z_in[0]);
    arg_mem (&a, param_mem (e, i, P_RQ_POS));
    arg_mem (&a, param_mem (e, i, P_RQ_NEG));
    arg_int (&a, np->z_out);
    arg_int (&a, np->lo);
    arg_int (&a, np->hi);
  }
  arg_int (&a, in->w);
  arg_int (&a, in->h);
  arg_int (&a, out->w);
  arg_int (&a, out->h);
  arg_int (&a, cp->in_channels / cp->groups);
  arg_int (&a, cp->out_channels / cp->groups);
  arg_int (&a, cp->kernel_h);
  arg_int (&a, cp->kernel_w);
  arg_int (&a, cp->stride_h);
  arg_int (&a, cp->stride_w);
  arg_int (&a, cp->dilation_h);
  arg_int (&a, cp->dilation_w);
  arg_int (&a, pt);
  arg_int (&a, pl);
  if (!transpose)
    arg_int (&a, nb);
  if (f32)
    arg_act (&a, i, &node->act);
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
    arg_mem (&a, m0);
    arg_mem (&a, m1);
    arg_mem (&a, value_mem (e, node->output));
    arg_int (&a, cs0);
    arg_int (&a, ps0);
    arg_int (&a, cs1);
    arg_int (&a, ps1);
    arg_int (&a, bp->kind);
    arg_int (&a, out->w);
    arg_int (&a, out->h);
    arg_act (&a, i, &node->act);
    return launch (&a, i, out->w, out->h, out->c, error);
  } else {
    NodeParams *np = &e->params[i];
    Args a = { e, K_BINARY_U8 };

    arg_mem (&a, ma);
    arg_mem (&a, mb);
    arg_mem (&a, value_mem (e, node->output));
    arg_mem (&a, param_mem (e, i, P_RQ_IN));
    arg_mem (&a, param_mem (e, i, P_OFFSET));
    arg_int (&a, a_cs);
    arg_int (&a, b_cs);
    arg_int (&a, two);
    arg_int (&a, two && bp->kind == CFQP_BINARY_MUL);
    arg_int (&a, np->z_in[0]);
    arg_int (&a, np->z_in[1]);
    arg_int (&a, np->z_out);
    arg_int (&a, np->lo);
    arg_int (&a, np->hi);
    arg_int (&a, out->c);
    arg_int (&a, out->w);
    arg_int (&a, out->h);
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
    Args a = { e, e->elsize == 4 ? K_COPY_ACT_F32 : K_RESCALE_U8 };

    arg_mem (&a, value_mem (e, node->inputs[k]));
    arg_mem (&a, value_mem (e, node->output));
    if (e->elsize == 4) {
      arg_int (&a, out->w);
      arg_int (&a, out->h);
      arg_int (&a, c_off);
      arg_act (&a, i, &node->act);
    } else {
      arg_mem (&a, param_mem (e, i, P_RQ_IN));
      arg_int (&a, (gint64) k * 2 * out->c);
      arg_int (&a, np->z_inputs[k]);
      arg_int (&a, np->z_out);
      arg_int (&a, np->lo);
      arg_int (&a, np->hi);
      arg_int (&a, out->c);
      arg_int (&a, c_off);
      arg_int (&a, out->w);
      arg_int (&a, out->h);
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
  Args a = { e, e->elsize == 4 ? K_MOVE_F32 : K_MOVE_U8 };
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
  arg_mem (&a, value_mem (e, node->inputs[0]));
  arg_mem (&a, value_mem (e, node->output));
  arg_int (&a, node->op);   /* common.cl's MOVE_* follow CfqpOpType */
  arg_int (&a, p0);
  arg_int (&a, p1);
  arg_int (&a, in->c);
  arg_int (&a, in->h);
  arg_int (&a, in->w);
  arg_int (&a, out->c);
  arg_int (&a, out->h);
  arg_int (&a, out->w);
  if (e->elsize == 4)
    arg_act (&a, i, &node->act);
  return launch (&a, i, out->w, out->h, out->c, error);
}

static gboolean
enqueue_node (ClExec *e, guint i, GError **error)
{
  switch (e->graph->nodes[i].op) {
    case CFQP_OP_CONV:
    case CFQP_OP_CONV_TRANSPOSE:
      return enqueue_conv (e, i, error);
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

/* auto: each conv that can run tiled, both ways, at this frame size (after
 * the input upload, so on this frame's data); the faster stays.  A trial is
 * the best of two timed launches after a warm-up one. */
static gboolean
choose_conv_variants (ClExec *e, GError **error)
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
        ok = enqueue_conv (e, i, error) && CHECK (clFinish (e->queue), "clFinish");
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

static gboolean
cl_run (CfqpExecutor *base, gconstpointer in, guint width, guint height, gpointer out,
    GError **error)
{
  ClExec *e = (ClExec *) base;
  const CfqpGraph *g = e->graph;
  gsize in_bytes, out_bytes;
  cl_event up = NULL, down = NULL;
  gboolean ok;

  g_return_val_if_fail (e->precision == CFQP_PRECISION_FP32 || e->have_program, FALSE);
  if (!prepare (e, width, height, error))
    return FALSE;
  in_bytes = cfqp_shape_elements (&e->plan.shapes[0]) * e->elsize;
  out_bytes = cfqp_shape_elements (&e->plan.shapes[g->output]) * e->elsize;
  e->frame_transfers = 0;
  e->frame_up = e->frame_down = 0;
  if (g->output == 0) {
    memmove (out, in, in_bytes);
    return TRUE;
  }
  /* The caller's input stays valid until the blocking read below, which
   * the in-order queue runs last.  Nothing here can overlap: the read ends
   * this call, and the next frame's input exists only once the caller makes
   * the next call (docs/performance.md, "Transfers"). */
  if (!CHECK (clEnqueueWriteBuffer (e->queue, e->in_buf, CL_FALSE, 0, in_bytes, in, 0, NULL,
              e->profile ? &up : NULL), "clEnqueueWriteBuffer"))
    return FALSE;
  e->frame_transfers++;
  e->frame_up += in_bytes;
  if (e->forced < 0 && (e->chosen_w != width || e->chosen_h != height) &&
      !choose_conv_variants (e, error)) {
    clFinish (e->queue);
    if (up)
      clReleaseEvent (up);
    return FALSE;
  }
  for (guint i = 0; i < g->n_nodes; i++)
    if (!enqueue_node (e, i, error)) {
      clFinish (e->queue);
      if (up)
        clReleaseEvent (up);
      return FALSE;
    }
  ok = CHECK (clEnqueueReadBuffer (e->queue, e->out_buf, CL_TRUE, 0, out_bytes, out, 0, NULL,
          e->profile ? &down : NULL), "clEnqueueReadBuffer");
  if (!ok)
    clFinish (e->queue);
  e->frame_transfers++;
  e->frame_down += out_bytes;
  e->upload_ms = event_ms (up);
  e->download_ms = ok ? event_ms (down) : 0;
  return ok && collect_profile (e, error);
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
  .run = cl_run,
  .free = cl_free,
};

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

static gboolean
setup_conv_variants (ClExec *e, GError **error)
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

CfqpExecutor *
cfqp_opencl_exec_new (const CfqpGraph *graph, CfqpPrecision precision, guint scale,
    guint scale_den, const char *device, GError **error)
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
  e->elsize = precision == CFQP_PRECISION_FP32 ? sizeof (float) : 1;
  e->params = g_new0 (NodeParams, graph->n_nodes);
  if (!cfqp_opencl_open (device, &e->device, &name, &e->context, &e->program, error))
    goto fail;
  e->parent.name = g_strdup_printf ("opencl:%s", name);
  e->profile = g_getenv ("CFQP_OPENCL_PROFILE") != NULL;
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
  if (!CHECK (err, "clCreateBuffer") || !setup_conv_variants (e, error))
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
