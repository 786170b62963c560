/* CfqpRunner: executes a model's graph with the FP32 CPU kernels, or in
 * INT8 through a CfqpInt8Exec.
 *
 * Buffers follow a CfqpPlan (slots reused by liveness) and live in one
 * arena that only grows, so frames of a fixed size allocate nothing.  Each
 * node's output rows are spread over a persistent worker pool.
 */
#include "config.h"

#include "cfqp-device-exec.h"
#include "cfqp-engine.h"
#include "cfqp-f32-kernels.h"
#include "cfqp-int8-cpu.h"
#include "cfqp-int8-cpu-pixels.h"
#include "cfqp-int8-exec.h"
#include "cfqp-model-private.h"
#include "cfqp-pixels.h"
#include "cfqp-plan.h"
#include "cfqp-resample.h"
#include "cfqp-workers.h"

#include <math.h>
#include <string.h>

#define MAX_THREADS 256
#define ARENA_ALIGN 16   /* floats: 64-byte aligned slots */

struct _CfqpRunner {
  CfqpPrecision    precision;
  CfqpInt8Exec    *int8;      /* INT8 runners only */
  CfqpDeviceExec  *device;    /* runs the graph instead of the CPU kernels */
  const char      *backend_name;
  char            *fallback;  /* AUTO: why the OpenCL GPU is not used */
  guint8          *u8_in, *u8_out;
  gsize            u8_in_size, u8_out_size;
  CfqpModel       *model;
  const CfqpGraph *graph;
  CfqpWorkers     *workers;
  CfqpPlan         plan;

  float  *arena_block;      /* as allocated */
  float  *arena;            /* aligned start */
  gsize   arena_capacity;   /* floats usable from arena */
  gsize  *slot_offset;      /* per plan slot, in floats */

  CfqpF32View *views;       /* per value */
  CfqpF32View *node_inputs; /* scratch for the widest node */

  /* Planar tensors of run_packed; grown on demand. */
  float  *packed_in, *packed_out;
  gsize   packed_in_size, packed_out_size;

  /* run_packed_resized: the network output to the size asked for (rgb),
   * the input's alpha to it (alpha), per-worker scratch, a packed frame at
   * the network's size for the paths that do not give planar u8 */
  CfqpResampler *rs_rgb, *rs_alpha;
  guint8 *rs_scratch, *rs_packed;
  gsize   rs_scratch_size, rs_packed_size;
  gint64  rs_last_us;
};

CfqpRunner *
cfqp_runner_new (CfqpModel *model, const CfqpRunnerOptions *options, GError **error)
{
  CfqpRunnerOptions defaults = CFQP_RUNNER_OPTIONS_INIT;
  CfqpRunner *runner;
  guint n_threads, max_inputs = 1;

  g_return_val_if_fail (model != NULL, NULL);
  if (!options)
    options = &defaults;
  if (options->precision == CFQP_PRECISION_INT8 && !options->qparams) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID,
        "INT8 needs quantisation parameters (a calibration)");
    return NULL;
  }
#ifndef HAVE_OPENCL
  if (options->backend == CFQP_BACKEND_OPENCL) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_BACKEND,
        "OpenCL backend not built");
    return NULL;
  }
#endif

  runner = g_new0 (CfqpRunner, 1);
  runner->model = cfqp_model_ref (model);
  runner->graph = cfqp_model_get_graph (model);
  n_threads = options->n_threads ? options->n_threads : g_get_num_processors ();
  runner->workers = cfqp_workers_new (MIN (n_threads, MAX_THREADS));
  runner->views = g_new0 (CfqpF32View, runner->graph->n_values);
  for (guint i = 0; i < runner->graph->n_nodes; i++)
    max_inputs = MAX (max_inputs, runner->graph->nodes[i].n_inputs);
  runner->node_inputs = g_new0 (CfqpF32View, max_inputs);
  runner->precision = options->precision;
  runner->backend_name = "cpu";
#ifdef HAVE_OPENCL
  /* AUTO takes OpenCL only on a GPU: a CPU OpenCL device (PoCL) is slower
   * than the CPU kernels. */
  if (options->backend == CFQP_BACKEND_OPENCL ||
      (options->backend == CFQP_BACKEND_AUTO && cfqp_opencl_have_gpu ())) {
    g_autoptr (GError) device_error = NULL;
    runner->device = cfqp_opencl_exec_new (runner->graph, options->precision,
        model->scale, options->device, &device_error);
    if (runner->device) {
      runner->backend_name = runner->device->name;
    } else if (options->backend == CFQP_BACKEND_OPENCL) {
      g_propagate_error (error, g_steal_pointer (&device_error));
      cfqp_runner_free (runner);
      return NULL;
    } else {
      /* the caller decides how to report it (cfqp_runner_get_fallback_reason) */
      runner->fallback = g_strdup_printf ("OpenCL GPU not usable: %s", device_error->message);
      g_debug ("%s; running on the CPU", runner->fallback);
    }
  }
#endif
  if (options->precision == CFQP_PRECISION_INT8) {
    /* AUTO and CPU: the cpu kernels; REF: the definition they match */
    const CfqpInt8Backend *kernels = options->backend == CFQP_BACKEND_REF ?
        &cfqp_int8_ref_backend : cfqp_int8_cpu_backend_for (options->cpu_kernels);
    if (!runner->device)
      runner->backend_name = kernels->name;
    runner->int8 = cfqp_int8_exec_new (runner->graph, kernels, runner->workers);
    if (!cfqp_runner_set_qparams (runner, options->qparams, error)) {
      cfqp_runner_free (runner);
      return NULL;
    }
  }
  return runner;
}

gboolean
cfqp_runner_set_qparams (CfqpRunner *runner, const CfqpQParams *qparams, GError **error)
{
  CfqpInt8Program *program;

  g_return_val_if_fail (qparams != NULL, FALSE);
  if (!runner->int8) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID,
        "quantisation parameters given to an FP32 runner");
    return FALSE;
  }
  /* Built aside, so a bad table leaves the running program untouched. */
  program = cfqp_int8_program_new (runner->graph, qparams, error);
  if (!program)
    return FALSE;
  if (!cfqp_int8_program_pads_fit (runner->graph, program, error)) {
    cfqp_int8_program_free (program);
    return FALSE;
  }
  if (runner->device && !runner->device->funcs->set_program (runner->device, program, error)) {
    cfqp_int8_program_free (program);
    return FALSE;
  }
  cfqp_int8_exec_set_program (runner->int8, program);
  return TRUE;
}

CfqpPrecision
cfqp_runner_get_precision (CfqpRunner *runner)
{
  return runner->precision;
}

void
cfqp_runner_free (CfqpRunner *runner)
{
  if (!runner)
    return;
  if (runner->device)
    runner->device->funcs->free (runner->device);
  cfqp_int8_exec_free (runner->int8);
  g_free (runner->u8_in);
  g_free (runner->u8_out);
  g_free (runner->fallback);
  cfqp_workers_free (runner->workers);
  cfqp_plan_clear (&runner->plan);
  g_free (runner->arena_block);
  g_free (runner->slot_offset);
  g_free (runner->views);
  g_free (runner->node_inputs);
  g_free (runner->packed_in);
  g_free (runner->packed_out);
  cfqp_resampler_free (runner->rs_rgb);
  cfqp_resampler_free (runner->rs_alpha);
  g_free (runner->rs_scratch);
  g_free (runner->rs_packed);
  cfqp_model_unref (runner->model);
  g_free (runner);
}

CfqpModel *
cfqp_runner_get_model (CfqpRunner *runner)
{
  return runner->model;
}

const char *
cfqp_runner_get_active_backend (CfqpRunner *runner)
{
  return runner->backend_name;
}

char *
cfqp_runner_describe_kernels (CfqpRunner *runner)
{
  const CfqpInt8Program *program;

  g_return_val_if_fail (runner != NULL, NULL);
  if (!runner->int8 || runner->device || !g_str_equal (runner->backend_name, "cpu"))
    return NULL;
  program = cfqp_int8_exec_get_program (runner->int8);
  return program ? cfqp_int8_cpu_describe_convs (runner->graph, program) : NULL;
}

const char *
cfqp_runner_get_fallback_reason (CfqpRunner *runner)
{
  return runner->fallback;
}

/* The INT8 graph on uint8 tensors, on the device when there is one. */
static gboolean
run_int8 (CfqpRunner *runner, const guint8 *in, guint width, guint height, guint8 *out,
    GError **error)
{
  if (runner->device)
    return runner->device->funcs->run (runner->device, in, width, height, out, error);
  return cfqp_int8_exec_run (runner->int8, in, width, height, out, error);
}

static guint8 *
grow_u8 (guint8 **buffer, gsize *size, gsize needed)
{
  if (needed > *size) {
    g_free (*buffer);
    *buffer = g_new (guint8, needed);
    *size = needed;
  }
  return *buffer;
}

/* INT8 on float tensors: quantise the input with the input tensor's
 * parameters, run, dequantise the output. */
static gboolean
run_f32_int8 (CfqpRunner *runner, const float *in, guint width, guint height, float *out,
    GError **error)
{
  const CfqpInt8Program *prog = cfqp_int8_exec_get_program (runner->int8);
  const CfqpQParams *qi = &prog->qparams[0], *qo = &prog->qparams[runner->graph->output];
  gsize n_in = (gsize) runner->model->channels * width * height, n_out;
  guint8 *qin = grow_u8 (&runner->u8_in, &runner->u8_in_size, n_in), *qout;

  for (gsize k = 0; k < n_in; k++) {
    float q = nearbyintf (in[k] / qi->scale) + qi->zero_point;
    qin[k] = (guint8) (q < 0.f ? 0.f : (q > 255.f ? 255.f : q));
  }
  n_out = n_in * runner->model->scale * runner->model->scale;
  qout = grow_u8 (&runner->u8_out, &runner->u8_out_size, n_out);
  if (!run_int8 (runner, qin, width, height, qout, error))
    return FALSE;
  for (gsize k = 0; k < n_out; k++)
    out[k] = qo->scale * ((gint32) qout[k] - qo->zero_point);
  return TRUE;
}

static gsize
align_up (gsize n)
{
  return (n + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
}

/* Plans for width × height and lays the slots out in the arena. */
static gboolean
prepare (CfqpRunner *runner, guint width, guint height, GError **error)
{
  CfqpPlan *plan = &runner->plan;
  const CfqpShape *out;
  gsize total = 0;

  if (plan->width == width && plan->height == height)
    return TRUE;
  if (!cfqp_plan_update (plan, runner->graph, width, height, error))
    return FALSE;
  out = &plan->shapes[runner->graph->output];
  if (out->w != (guint64) width * runner->model->scale ||
      out->h != (guint64) height * runner->model->scale) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID,
        "output is %u×%u for a %u×%u input, not a ×%u upscale",
        out->w, out->h, width, height, runner->model->scale);
    cfqp_plan_clear (plan);
    return FALSE;
  }

  runner->slot_offset = g_renew (gsize, runner->slot_offset, MAX (plan->n_slots, 1));
  for (guint s = 0; s < plan->n_slots; s++) {
    runner->slot_offset[s] = total;
    total += align_up (plan->slot_elements[s]);
  }
  if (total > runner->arena_capacity) {
    g_free (runner->arena_block);
    runner->arena_block = g_malloc ((total + ARENA_ALIGN) * sizeof (float));
    runner->arena = (float *) (((guintptr) runner->arena_block + 63) & ~(guintptr) 63);
    runner->arena_capacity = total;
  }
  return TRUE;
}

static void
view_init (CfqpF32View *view, float *data, const CfqpShape *shape)
{
  view->data = data;
  view->c = shape->c;
  view->h = shape->h;
  view->w = shape->w;
  view->row_stride = shape->w;
  view->plane_stride = (gsize) shape->w * shape->h;
}

typedef struct {
  CfqpF32OpFunc      func;
  const CfqpNode    *node;
  const CfqpF32View *inputs;
  const CfqpF32View *output;
} NodeJob;

static void
run_node_rows (gpointer data, guint begin, guint end)
{
  NodeJob *job = data;

  job->func (job->node, job->inputs, job->output, begin, end);
}

gboolean
cfqp_runner_run_f32 (CfqpRunner *runner, const float *in, guint width, guint height,
    float *out, GError **error)
{
  const CfqpGraph *graph = runner->graph;
  CfqpPlan *plan = &runner->plan;

  g_return_val_if_fail (in != NULL && out != NULL, FALSE);
  if (runner->int8)
    return run_f32_int8 (runner, in, width, height, out, error);
  if (runner->device)
    return runner->device->funcs->run (runner->device, in, width, height, out, error);
  if (!prepare (runner, width, height, error))
    return FALSE;

  for (guint v = 0; v < graph->n_values; v++) {
    guint slot = plan->slot_of_value[v];
    float *data = slot == CFQP_PLAN_EXTERNAL ? NULL : runner->arena + runner->slot_offset[slot];
    view_init (&runner->views[v], data, &plan->shapes[v]);
  }
  /* Kernels never write their inputs, so the caller's input is used in place. */
  runner->views[0].data = (float *) in;
  runner->views[graph->output].data = out;
  if (graph->output == 0) {
    memmove (out, in, cfqp_shape_elements (&plan->shapes[0]) * sizeof (float));
    return TRUE;
  }

  for (guint i = 0; i < graph->n_nodes; i++) {
    const CfqpNode *node = &graph->nodes[i];
    NodeJob job = { cfqp_f32_ops[node->op], node, runner->node_inputs,
                    &runner->views[node->output] };

    for (guint k = 0; k < node->n_inputs; k++)
      runner->node_inputs[k] = runner->views[node->inputs[k]];
    cfqp_workers_run (runner->workers, run_node_rows, &job, job.output->h, 0);
  }
  return TRUE;
}

static float *
grow (float **buffer, gsize *size, gsize needed)
{
  if (needed > *size) {
    g_free (*buffer);
    *buffer = g_new (float, needed);
    *size = needed;
  }
  return *buffer;
}

gboolean
cfqp_runner_run_packed (CfqpRunner *runner, const CfqpPackedLayout *layout,
    const guint8 *src, gsize src_stride, guint width, guint height,
    guint8 *dst, gsize dst_stride, GError **error)
{
  guint channels = runner->model->channels, scale = runner->model->scale;
  float *in, *out;

  g_return_val_if_fail (layout != NULL && src != NULL && dst != NULL, FALSE);
  if (runner->int8 && channels == 3) {
    /* the frame's bytes are the input tensor, the output is on the pixel grid */
    gsize n_in = (gsize) 3 * width * height;
    guint8 *qin = grow_u8 (&runner->u8_in, &runner->u8_in_size, n_in);
    guint8 *qout = grow_u8 (&runner->u8_out, &runner->u8_out_size, n_in * scale * scale);
    cfqp_int8_cpu_unpack_rgb (layout, src, src_stride, width, height, qin);
    if (!run_int8 (runner, qin, width, height, qout, error))
      return FALSE;
    cfqp_int8_cpu_pack_rgb (layout, qout, width * scale, height * scale, dst, dst_stride);
    cfqp_pixels_upscale_alpha (layout, src, src_stride, width, height, scale,
        layout, dst, dst_stride);
    return TRUE;
  }
  /* a device executor checks the sizes itself and needs no host arena */
  if (!runner->device && !prepare (runner, width, height, error))
    return FALSE;
  in = grow (&runner->packed_in, &runner->packed_in_size, (gsize) channels * width * height);
  out = grow (&runner->packed_out, &runner->packed_out_size,
      (gsize) channels * width * height * scale * scale);

  if (channels == 1)
    cfqp_pixels_unpack_luma (layout, src, src_stride, width, height, in);
  else
    cfqp_pixels_unpack_rgb (layout, src, src_stride, width, height, in);
  if (!cfqp_runner_run_f32 (runner, in, width, height, out, error))
    return FALSE;
  if (channels == 1)
    cfqp_pixels_pack_luma (layout, src, src_stride, width, height, out, scale,
        layout, dst, dst_stride);
  else
    cfqp_pixels_pack_rgb (layout, out, width * scale, height * scale, dst, dst_stride);
  cfqp_pixels_upscale_alpha (layout, src, src_stride, width, height, scale,
      layout, dst, dst_stride);
  return TRUE;
}

/* ---- any output size: the network, then the exact resample ---- */

typedef struct {
  CfqpRunner             *runner;
  const CfqpPackedLayout *layout;
  const guint8           *net;          /* network output at s×: planar or packed */
  gboolean                net_planar;
  gsize                   net_stride;   /* bytes per row (planar: per plane row) */
  gsize                   net_plane;    /* planar: bytes per plane */
  const guint8           *src;          /* the input frame (its alpha) */
  gsize                   src_stride;
  guint8                 *dst;
  gsize                   dst_stride;
  guint8                 *scratch;
  gsize                   scratch_stride;
} ResizeJob;

static gboolean
resampler_fits (const CfqpResampler *rs, guint iw, guint ih, guint ow, guint oh)
{
  return rs && rs->h.n_in == iw && rs->v.n_in == ih && rs->h.n_out == ow && rs->v.n_out == oh;
}

static void
resize_rows (gpointer data, guint worker, guint begin, guint end)
{
  ResizeJob *job = data;
  CfqpRunner *runner = job->runner;
  const CfqpPackedLayout *l = job->layout;
  gpointer scratch = job->scratch + worker * job->scratch_stride;
  const gint offsets[3] = { l->r, l->g, l->b };
  guint ow = runner->rs_rgb->h.n_out;

  for (guint c = 0; c < 3; c++) {
    if (job->net_planar)
      cfqp_resample_rows (runner->rs_rgb, job->net + c * job->net_plane, job->net_stride, 1,
          job->dst + offsets[c], job->dst_stride, l->pixel_stride, begin, end, scratch);
    else
      cfqp_resample_rows (runner->rs_rgb, job->net + offsets[c], job->net_stride,
          l->pixel_stride, job->dst + offsets[c], job->dst_stride, l->pixel_stride, begin,
          end, scratch);
  }
  if (l->a >= 0) {
    /* alpha: the input's, resampled by the same kernel (no network) */
    cfqp_resample_rows (runner->rs_alpha, job->src + l->a, job->src_stride, l->pixel_stride,
        job->dst + l->a, job->dst_stride, l->pixel_stride, begin, end, scratch);
  } else if (l->pixel_stride == 4) {
    /* RGBx: the padding byte opaque, as cfqp_runner_run_packed writes it */
    gint pad = 6 - l->r - l->g - l->b;
    for (guint y = begin; y < end; y++)
      for (guint x = 0; x < ow; x++)
        job->dst[y * job->dst_stride + (gsize) x * 4 + pad] = 255;
  }
}

gboolean
cfqp_runner_run_packed_resized (CfqpRunner *runner, const CfqpPackedLayout *layout,
    const guint8 *src, gsize src_stride, guint width, guint height,
    guint8 *dst, gsize dst_stride, guint out_width, guint out_height, GError **error)
{
  guint scale = runner->model->scale, nw = width * scale, nh = height * scale;
  guint n_threads = cfqp_workers_get_n_threads (runner->workers);
  ResizeJob job = { runner, layout, NULL, FALSE, 0, 0, src, src_stride, dst, dst_stride, NULL, 0 };
  gsize scratch;
  gint64 t0;

  g_return_val_if_fail (layout != NULL && src != NULL && dst != NULL, FALSE);
  runner->rs_last_us = 0;
  if (out_width == nw && out_height == nh)
    return cfqp_runner_run_packed (runner, layout, src, src_stride, width, height, dst,
        dst_stride, error);
  if (width == 0 || height == 0 || out_width == 0 || out_height == 0 ||
      out_width > nw || out_height > nh) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID,
        "cannot make %u×%u from a %u×%u input with a ×%u network (at most %u×%u)",
        out_width, out_height, width, height, scale, nw, nh);
    return FALSE;
  }
  if (!resampler_fits (runner->rs_rgb, nw, nh, out_width, out_height)) {
    cfqp_resampler_free (runner->rs_rgb);
    runner->rs_rgb = cfqp_resampler_new (nw, nh, out_width, out_height);
  }
  if (layout->a >= 0 && !resampler_fits (runner->rs_alpha, width, height, out_width,
          out_height)) {
    cfqp_resampler_free (runner->rs_alpha);
    runner->rs_alpha = cfqp_resampler_new (width, height, out_width, out_height);
  }
  scratch = cfqp_resampler_scratch_size (runner->rs_rgb);
  if (runner->rs_alpha)
    scratch = MAX (scratch, cfqp_resampler_scratch_size (runner->rs_alpha));
  job.scratch_stride = scratch;
  if (scratch * n_threads > runner->rs_scratch_size) {
    g_free (runner->rs_scratch);
    runner->rs_scratch = g_malloc (scratch * n_threads + 64);
    runner->rs_scratch_size = scratch * n_threads;
  }

  if (runner->int8 && runner->model->channels == 3) {
    /* planar u8 straight from the network: no packing at the network's size */
    gsize n_in = (gsize) 3 * width * height;
    guint8 *qin = grow_u8 (&runner->u8_in, &runner->u8_in_size, n_in);
    guint8 *qout = grow_u8 (&runner->u8_out, &runner->u8_out_size, n_in * scale * scale);
    cfqp_int8_cpu_unpack_rgb (layout, src, src_stride, width, height, qin);
    if (!run_int8 (runner, qin, width, height, qout, error))
      return FALSE;
    job.net = qout;
    job.net_planar = TRUE;
    job.net_stride = nw;
    job.net_plane = (gsize) nw * nh;
  } else {
    /* FP32 and luma networks: their packed output at the network's size */
    gsize stride = (gsize) nw * layout->pixel_stride;
    guint8 *packed = grow_u8 (&runner->rs_packed, &runner->rs_packed_size, stride * nh);
    if (!cfqp_runner_run_packed (runner, layout, src, src_stride, width, height, packed,
            stride, error))
      return FALSE;
    job.net = packed;
    job.net_stride = stride;
  }
  /* 64-byte aligned scratch per worker (scratch is a multiple of 64) */
  job.scratch = (guint8 *) (((guintptr) runner->rs_scratch + 63) & ~(guintptr) 63);
  t0 = g_get_monotonic_time ();
  cfqp_workers_run_indexed (runner->workers, resize_rows, &job, out_height, 0);
  runner->rs_last_us = g_get_monotonic_time () - t0;
  return TRUE;
}

gint64
cfqp_runner_get_resample_time (CfqpRunner *runner)
{
  return runner->rs_last_us;
}
