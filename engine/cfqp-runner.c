/* CfqpRunner: the engine's facade.  It picks an executor from the backend
 * registry (cfqp-executor.h, cfqp-backends.c), builds INT8 programs for
 * it, and turns frames (planar float, packed pixels, any output size) into
 * the tensors the executor runs on. */
#include "config.h"

#include "cfqp-engine.h"
#include "cfqp-executor.h"
#include "cfqp-int8-cpu-pixels.h"
#include "cfqp-model-private.h"
#include "cfqp-pixels.h"
#include "cfqp-resample.h"
#include "cfqp-workers.h"

#include <math.h>
#include <string.h>

#define MAX_THREADS 256

struct _CfqpRunner {
  CfqpPrecision    precision;
  CfqpExecutor    *exec;
  CfqpInt8Program *program;   /* INT8: the one exec runs (exec borrows it) */
  char            *fallback;  /* AUTO: why the GPU backend is not used */
  guint8          *u8_in, *u8_out;
  gsize            u8_in_size, u8_out_size;
  CfqpModel       *model;
  const CfqpGraph *graph;
  CfqpWorkers     *workers;

  /* Planar tensors of run_packed; grown on demand. */
  float  *packed_in, *packed_out;
  gsize   packed_in_size, packed_out_size;

  /* run_packed_resized: the network output to the size asked for (rgb),
   * the input's alpha to it (alpha), per-worker scratch, a packed frame at
   * the network's size for the paths that do not give planar u8 */
  CfqpResampler *rs_rgb, *rs_alpha;
  /* a ratio net's alpha at the net's size (run_packed): its own, as
   * run_packed_resized's FP32 path runs run_packed between uses of rs_alpha */
  CfqpResampler *rs_net_alpha;
  guint8 *rs_scratch, *rs_packed;
  gsize   rs_scratch_size, rs_packed_size;
  gint64  rs_last_us;
};

/* AUTO: the first available GPU backend for the precision; NULL when none
 * (or it would not start: fallback says why). */
static CfqpExecutor *
new_auto_gpu (const CfqpExecutorParams *params, char **fallback)
{
  const CfqpBackendEntry *const *list = cfqp_backends_list ();

  for (guint i = 0; list[i]; i++) {
    gboolean is_gpu = FALSE;
    g_autoptr (GError) error = NULL;
    CfqpExecutor *exec;

    if (!(list[i]->precisions & CFQP_BACKEND_PRECISION (params->precision)) ||
        !list[i]->probe || !list[i]->probe (&is_gpu) || !is_gpu)
      continue;
    exec = list[i]->new (params, &error);
    if (exec)
      return exec;
    /* the caller decides how to report it (cfqp_runner_get_fallback_reason) */
    *fallback = g_strdup_printf ("%s GPU not usable: %s", list[i]->title, error->message);
    g_debug ("%s; running on the CPU", *fallback);
    return NULL;
  }
  return NULL;
}

static CfqpExecutor *
new_executor (const CfqpExecutorParams *params, CfqpBackendKind kind, char **fallback,
    GError **error)
{
  const CfqpBackendEntry *entry, *int8;
  CfqpExecutor *exec;

  if (kind == CFQP_BACKEND_AUTO) {
    if ((exec = new_auto_gpu (params, fallback)))
      return exec;
    kind = CFQP_BACKEND_CPU;
  }
  /* FP32 has no separate reference set: its kernels are the definition */
  if (kind == CFQP_BACKEND_REF && params->precision == CFQP_PRECISION_FP32)
    kind = CFQP_BACKEND_CPU;
  entry = cfqp_backends_find (kind, params->precision);
  /* built, but without 16-bit kernels */
  if (!entry && params->precision == CFQP_PRECISION_INT16 &&
      (int8 = cfqp_backends_find (kind, CFQP_PRECISION_INT8))) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_BACKEND,
        "the %s backend does not run INT16", int8->title);
    return NULL;
  }
  if (!entry) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_BACKEND,
        kind == CFQP_BACKEND_OPENCL ? "OpenCL backend not built" : "backend not built");
    return NULL;
  }
  return entry->new (params, error);
}

CfqpRunner *
cfqp_runner_new (CfqpModel *model, const CfqpRunnerOptions *options, GError **error)
{
  CfqpRunnerOptions defaults = CFQP_RUNNER_OPTIONS_INIT;
  CfqpExecutorParams params;
  CfqpRunner *runner;
  guint n_threads;

  g_return_val_if_fail (model != NULL, NULL);
  if (!options)
    options = &defaults;
  if (cfqp_precision_is_quantised (options->precision) && !options->qparams) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID,
        "%s needs quantisation parameters (a calibration)",
        options->precision == CFQP_PRECISION_INT16 ? "INT16" : "INT8");
    return NULL;
  }

  runner = g_new0 (CfqpRunner, 1);
  runner->model = cfqp_model_ref (model);
  runner->graph = cfqp_model_get_graph (model);
  n_threads = options->n_threads ? options->n_threads : g_get_num_processors ();
  runner->workers = cfqp_workers_new (MIN (n_threads, MAX_THREADS));
  runner->precision = options->precision;
  params = (CfqpExecutorParams) { runner->graph, options->precision, model->scale_num,
      model->scale_den, options->device, options->cpu_kernels, runner->workers,
      options->stripe_rows, options->profile, options->opencl_profile };
  runner->exec = new_executor (&params, options->backend, &runner->fallback, error);
  if (!runner->exec ||
      (cfqp_precision_is_quantised (options->precision) &&
       !cfqp_runner_set_quantisation (runner, &(CfqpQuantisation) { options->qparams,
           options->conv_taps, options->n_conv_taps, options->channel_steps,
           options->n_channel_steps }, error))) {
    cfqp_runner_free (runner);
    return NULL;
  }
  return runner;
}

gboolean
cfqp_runner_set_qparams (CfqpRunner *runner, const CfqpQParams *qparams, GError **error)
{
  return cfqp_runner_set_quantisation (runner, &(CfqpQuantisation) { qparams, NULL, 0, NULL, 0 },
      error);
}

gboolean
cfqp_runner_set_quantisation (CfqpRunner *runner, const CfqpQuantisation *q, GError **error)
{
  CfqpInt8Program *program;

  g_return_val_if_fail (q != NULL && q->qparams != NULL, FALSE);
  if (!cfqp_precision_is_quantised (runner->precision)) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID,
        "quantisation parameters given to an FP32 runner");
    return FALSE;
  }
  /* Built aside, so a bad table leaves the running program untouched. */
  program = cfqp_int8_program_new_bits (runner->graph, q,
      cfqp_int8_program_bits (runner->precision), error);
  if (!program)
    return FALSE;
  if (!cfqp_int8_program_pads_fit (program, error) ||
      !runner->exec->klass->set_program (runner->exec, program, error)) {
    cfqp_int8_program_free (program);
    return FALSE;
  }
  cfqp_int8_program_free (runner->program);
  runner->program = program;
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
  /* the executor first: it may hold data packed into the program */
  if (runner->exec)
    runner->exec->klass->free (runner->exec);
  cfqp_int8_program_free (runner->program);
  g_free (runner->u8_in);
  g_free (runner->u8_out);
  g_free (runner->fallback);
  cfqp_workers_free (runner->workers);
  g_free (runner->packed_in);
  g_free (runner->packed_out);
  cfqp_resampler_free (runner->rs_rgb);
  cfqp_resampler_free (runner->rs_alpha);
  cfqp_resampler_free (runner->rs_net_alpha);
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
  return runner->exec->name;
}

char *
cfqp_runner_describe_kernels (CfqpRunner *runner)
{
  g_return_val_if_fail (runner != NULL, NULL);
  if (runner->precision != CFQP_PRECISION_INT8 || !runner->exec->klass->describe)
    return NULL;
  return runner->exec->klass->describe (runner->exec);
}

const char *
cfqp_runner_get_fallback_reason (CfqpRunner *runner)
{
  return runner->fallback;
}

/* The INT8 graph on uint8 tensors. */
static gboolean
run_int8 (CfqpRunner *runner, const guint8 *in, guint width, guint height, guint8 *out,
    GError **error)
{
  return runner->exec->klass->run (runner->exec, in, width, height, out, error);
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

/* A side of the network's output: × num/den (a ratio net's sides are
 * whole only for inputs den divides: the executors refuse others before
 * writing). */
static guint
net_width (CfqpRunner *runner, guint side)
{
  return (guint) ((guint64) side * runner->model->scale_num / runner->model->scale_den);
}

static gboolean
resampler_fits (const CfqpResampler *rs, guint iw, guint ih, guint ow, guint oh)
{
  return rs && rs->h.n_in == iw && rs->v.n_in == ih && rs->h.n_out == ow && rs->v.n_out == oh;
}

/* n_threads scratch buffers of size bytes each (a multiple of 64), the
 * first 64-byte aligned. */
static guint8 *
grow_scratch (CfqpRunner *runner, gsize size, guint n_threads)
{
  if (size * n_threads > runner->rs_scratch_size) {
    g_free (runner->rs_scratch);
    runner->rs_scratch = g_malloc (size * n_threads + 64);
    runner->rs_scratch_size = size * n_threads;
  }
  return (guint8 *) (((guintptr) runner->rs_scratch + 63) & ~(guintptr) 63);
}

/* The output's alpha at the network's size: an integer net's input alpha
 * upscaled bilinearly (cfqp_pixels_upscale_alpha), a ratio net's resampled
 * by run_packed_resized's kernel (no integer scale to interpolate by). */
static void
net_alpha (CfqpRunner *runner, const CfqpPackedLayout *layout, const guint8 *src,
    gsize src_stride, guint width, guint height, guint8 *dst, gsize dst_stride)
{
  guint nw = net_width (runner, width), nh = net_width (runner, height);

  if (runner->model->scale_den == 1 || layout->a < 0) {
    /* without alpha this writes the x formats' padding byte opaque; the
     * input is not read, so a ratio net's output passes as a ×1 one */
    if (runner->model->scale_den == 1)
      cfqp_pixels_upscale_alpha (layout, src, src_stride, width, height,
          runner->model->scale_num, layout, dst, dst_stride);
    else
      cfqp_pixels_upscale_alpha (layout, dst, dst_stride, nw, nh, 1, layout, dst, dst_stride);
    return;
  }
  if (!resampler_fits (runner->rs_net_alpha, width, height, nw, nh)) {
    cfqp_resampler_free (runner->rs_net_alpha);
    runner->rs_net_alpha = cfqp_resampler_new (width, height, nw, nh);
  }
  cfqp_resample_rows (runner->rs_net_alpha, src + layout->a, src_stride, layout->pixel_stride,
      dst + layout->a, dst_stride, layout->pixel_stride, 0, nh,
      grow_scratch (runner, cfqp_resampler_scratch_size (runner->rs_net_alpha), 1));
}

/* INT8 or INT16 on float tensors: quantise the input onto the pixel grid
 * (the executors' bytes at the input and output, either width), run,
 * dequantise the output. */
static gboolean
run_f32_int8 (CfqpRunner *runner, const float *in, guint width, guint height, float *out,
    GError **error)
{
  const CfqpQParams pixel = cfqp_int8_pixel_grid (), *qi = &pixel, *qo = &pixel;
  gsize n_in = (gsize) runner->model->channels * width * height, n_out;
  guint8 *qin = grow_u8 (&runner->u8_in, &runner->u8_in_size, n_in), *qout;

  for (gsize k = 0; k < n_in; k++) {
    float q = nearbyintf (in[k] / qi->scale) + qi->zero_point;
    qin[k] = (guint8) (q < 0.f ? 0.f : (q > 255.f ? 255.f : q));
  }
  n_out = n_in / width / height * net_width (runner, width) * net_width (runner, height);
  qout = grow_u8 (&runner->u8_out, &runner->u8_out_size, n_out);
  if (!run_int8 (runner, qin, width, height, qout, error))
    return FALSE;
  for (gsize k = 0; k < n_out; k++)
    out[k] = qo->scale * ((gint32) qout[k] - qo->zero_point);
  return TRUE;
}

gboolean
cfqp_runner_run_f32 (CfqpRunner *runner, const float *in, guint width, guint height,
    float *out, GError **error)
{
  g_return_val_if_fail (in != NULL && out != NULL, FALSE);
  if (cfqp_precision_is_quantised (runner->precision))
    return run_f32_int8 (runner, in, width, height, out, error);
  return runner->exec->klass->run (runner->exec, in, width, height, out, error);
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
  guint nw = net_width (runner, width), nh = net_width (runner, height);
  float *in, *out;

  g_return_val_if_fail (layout != NULL && src != NULL && dst != NULL, FALSE);
  if (cfqp_precision_is_quantised (runner->precision) && channels == 3) {
    /* the frame's bytes are the input tensor, the output is on the pixel grid */
    gsize n_in = (gsize) 3 * width * height;
    guint8 *qin = grow_u8 (&runner->u8_in, &runner->u8_in_size, n_in);
    guint8 *qout = grow_u8 (&runner->u8_out, &runner->u8_out_size, (gsize) 3 * nw * nh);
    cfqp_int8_cpu_unpack_rgb (layout, src, src_stride, width, height, qin);
    if (!run_int8 (runner, qin, width, height, qout, error))
      return FALSE;
    cfqp_int8_cpu_pack_rgb (layout, qout, nw, nh, dst, dst_stride);
    net_alpha (runner, layout, src, src_stride, width, height, dst, dst_stride);
    return TRUE;
  }
  /* the executor checks the sizes (before any kernel runs) */
  in = grow (&runner->packed_in, &runner->packed_in_size, (gsize) channels * width * height);
  out = grow (&runner->packed_out, &runner->packed_out_size, (gsize) channels * nw * nh);

  if (channels == 1)
    cfqp_pixels_unpack_luma (layout, src, src_stride, width, height, in);
  else
    cfqp_pixels_unpack_rgb (layout, src, src_stride, width, height, in);
  if (!cfqp_runner_run_f32 (runner, in, width, height, out, error))
    return FALSE;
  /* luma nets are integer ones (cfqp-model.c refuses a ratio one) */
  if (channels == 1)
    cfqp_pixels_pack_luma (layout, src, src_stride, width, height, out, scale,
        layout, dst, dst_stride);
  else
    cfqp_pixels_pack_rgb (layout, out, nw, nh, dst, dst_stride);
  net_alpha (runner, layout, src, src_stride, width, height, dst, dst_stride);
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
  guint nw = net_width (runner, width), nh = net_width (runner, height);
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
        "cannot make %u×%u from a %u×%u input with a ×%u/%u network (at most %u×%u)",
        out_width, out_height, width, height, runner->model->scale_num,
        runner->model->scale_den, nw, nh);
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

  if (cfqp_precision_is_quantised (runner->precision) && runner->model->channels == 3) {
    /* planar u8 straight from the network: no packing at the network's size */
    gsize n_in = (gsize) 3 * width * height;
    guint8 *qin = grow_u8 (&runner->u8_in, &runner->u8_in_size, n_in);
    guint8 *qout = grow_u8 (&runner->u8_out, &runner->u8_out_size, (gsize) 3 * nw * nh);
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
  job.scratch = grow_scratch (runner, scratch, n_threads);
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
