/* cfqp — the engine's one public header.
 *
 * A plain C library (GLib only, no GStreamer): load a super-resolution
 * network (ONNX), then run it on planar float tensors or straight on
 * packed 8-bit pixels.
 *
 *   CfqpModel   immutable, refcounted graph: the imported and optimised
 *               network.  Safe to share between threads.
 *   CfqpRunner  one way of executing a model (precision, backend, threads)
 *               with its own buffers.  One thread at a time.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CFQP_ENGINE_ERROR (cfqp_engine_error_quark ())
GQuark cfqp_engine_error_quark (void);

typedef enum {
  CFQP_ENGINE_ERROR_IO,          /* file could not be read */
  CFQP_ENGINE_ERROR_PARSE,       /* not a well-formed ONNX model */
  CFQP_ENGINE_ERROR_UNSUPPORTED, /* op or attribute outside the supported set */
  CFQP_ENGINE_ERROR_INVALID,     /* graph breaks the SR model convention */
  CFQP_ENGINE_ERROR_LIMIT,       /* a size bound against hostile files was hit */
  CFQP_ENGINE_ERROR_BACKEND,     /* backend unavailable or failed */
} CfqpEngineError;

/* Bounds against hostile or absurd files; exceeded → CFQP_ENGINE_ERROR_LIMIT. */
#define CFQP_MAX_MODEL_BYTES   (256u * 1024 * 1024)
#define CFQP_MAX_NODES         4096
#define CFQP_MAX_CHANNELS      4096
/* Channel steps (CfqpChannelSteps) lie in [CFQP_MIN_CHANNEL_STEP, 1 / it]. */
#define CFQP_MIN_CHANNEL_STEP  (1.0 / 256)
#define CFQP_MAX_KERNEL        31
#define CFQP_MAX_WEIGHTS       (64u * 1024 * 1024)  /* elements over all initializers */
#define CFQP_MAX_FRAME_DIM     16384
#define CFQP_MAX_SCALE         8

typedef struct _CfqpModel CfqpModel;

CfqpModel   *cfqp_model_new_from_file  (const char *path, GError **error);
CfqpModel   *cfqp_model_new_from_bytes (GBytes *bytes, const char *name, GError **error);
CfqpModel   *cfqp_model_ref            (CfqpModel *model);
void         cfqp_model_unref          (CfqpModel *model);

/* The integer scale: ×s for an s× net; a ratio net (×3/2) gives its
 * ratio rounded up, the most a side grows.  get_scale_ratio gives the exact
 * ratio in lowest terms (×3: 3/1; ×3/2: 3/2); a ratio net takes inputs
 * whose sides den divides, and makes sides × num/den. */
guint        cfqp_model_get_scale      (const CfqpModel *model);
void         cfqp_model_get_scale_ratio (const CfqpModel *model, guint *num, guint *den);
guint        cfqp_model_get_channels   (const CfqpModel *model); /* 3 (RGB) or 1 (luma) */
const char  *cfqp_model_get_name       (const CfqpModel *model);
/* SHA-256 of the model file's bytes, hex: what calibrations name. */
const char  *cfqp_model_get_hash       (const CfqpModel *model);
/* Multiply-accumulates per low-resolution input pixel. */
guint64      cfqp_model_get_macs_per_pixel (const CfqpModel *model);
/* One-line human summary (ops, scale, MACs), for model-info properties. */
char        *cfqp_model_describe       (const CfqpModel *model);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CfqpModel, cfqp_model_unref)

/* Tensors are the activations the optimised graph computes (after fused
 * activations), in schedule order.  Tensor 0 is the input; calibrations
 * name tensors by these names. */
guint        cfqp_model_get_n_tensors       (const CfqpModel *model);
const char  *cfqp_model_get_tensor_name     (const CfqpModel *model, guint tensor);
guint        cfqp_model_get_output_tensor   (const CfqpModel *model);
/* TRUE for tensors whose quantisation follows another tensor's (input,
 * output, and the outputs of pure data movement: depth-to-space, tile…):
 * a calibration need not observe them, their parameters are derived. */
gboolean     cfqp_model_tensor_is_derived   (const CfqpModel *model, guint tensor);

/* Clip removal (the clip-free pass): a copy of the model where clipped
 * ReLUs become ReLUs and a trailing clamp to [0,1] goes.  n_removed gets
 * the number of clips removed; report, if not NULL, a one-line summary. */
CfqpModel   *cfqp_model_new_clip_free       (CfqpModel *model, guint *n_removed, char **report);
/* TRUE for a model made by cfqp_model_new_clip_free(): it keeps its
 * source's hash and tensor names, so calibrations must check this too. */
gboolean     cfqp_model_is_clip_free        (const CfqpModel *model);

/* FP32 forward pass that shows every tensor (planar C×H×W) to func, e.g.
 * to feed calibration observers.  out (C×sH×sW) may be NULL. */
typedef void (*CfqpTensorFunc) (guint tensor, const float *data, guint channels,
                                guint height, guint width, gpointer user_data);
gboolean     cfqp_model_observe_f32         (CfqpModel *model, const float *in, guint width,
                                             guint height, float *out, CfqpTensorFunc func,
                                             gpointer user_data, GError **error);

/* The convs of the optimised graph, for calibrations that round their
 * weights from data (calib/'s GPTQ).  ConvTranspose is not listed. */
typedef struct {
  guint        input, output;     /* tensors: what it reads, what it computes */
  guint        in_channels, out_channels, groups;
  guint        kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w;
  guint        pad_top, pad_left, pad_bottom, pad_right;  /* for the size asked */
  const float *weight;            /* [out][in / groups][kernel_h][kernel_w] */
  const float *pad_value;         /* per input channel, or NULL: pads read 0 */
  gboolean     fixed;             /* a QDQ model's integer weights: not to be re-rounded */
} CfqpConvInfo;

guint        cfqp_model_get_n_convs         (const CfqpModel *model);
/* Conv i (0 ≤ i < n_convs), with its pads as resolved for an input tensor
 * of in_height × in_width (SAME_* padding depends on it). */
void         cfqp_model_get_conv            (const CfqpModel *model, guint i, guint in_height,
                                             guint in_width, CfqpConvInfo *info);
/* Its int8 weight scale per output channel (out_channels entries), as the
 * INT8 program sets it (docs/int8-arithmetic.md, "Weights"). */
void         cfqp_model_get_conv_weight_scales (const CfqpModel *model, guint i,
                                                double *scales);

/* A conv's int8 taps chosen by a calibration instead of the program's own
 * rounding: n_taps = out × in/groups × kernel_h × kernel_w values in
 * −127..127, on the scales above, in the weight layout above. */
typedef struct {
  guint        output;            /* the conv, by the tensor it computes */
  guint        n_taps;
  const gint8 *taps;
} CfqpConvTaps;

/* What an INT8 program checks of conv taps before it takes them: each
 * names a Conv of model that rounds its own weights (not a QDQ file's),
 * once, with its full count, all in −127..127.  CFQP_ENGINE_ERROR_INVALID
 * naming the node otherwise. */
gboolean     cfqp_model_check_conv_taps     (const CfqpModel *model, const CfqpConvTaps *taps,
                                             guint n_taps, GError **error);

/* uint8 affine quantisation of one tensor: x = scale · (q − zero_point). */
typedef struct {
  float  scale;
  gint32 zero_point;   /* 0..255 */
} CfqpQParams;

/* Per-channel steps of one tensor: channel c is quantised with the step
 * scale × steps[c] of the tensor's CfqpQParams, all channels sharing its
 * zero point.  The INT8 program folds them into the convs around the
 * tensor (the producer's output channel c divided by steps[c], every
 * reader's input channel c multiplied by it): no kernel changes, and a
 * tensor whose channels span unequal ranges gets a grid fit to each
 * (docs/int8-arithmetic.md, "Channel steps"). */
typedef struct {
  guint        tensor;
  guint        n_channels;        /* the tensor's channels */
  const float *steps;             /* in [CFQP_MIN_CHANNEL_STEP, 1 / CFQP_MIN_CHANNEL_STEP] */
} CfqpChannelSteps;

/* Marks (allowed, n_tensors entries) the tensors that may take channel
 * steps: a float Conv computes each (no activation, ReLU, LeakyReLU or
 * PReLU: they commute with a positive factor) and only Convs read it. */
void         cfqp_model_find_channel_step_tensors (const CfqpModel *model, gboolean *allowed);
/* What an INT8 program checks of channel steps before it takes them: each
 * names an allowed tensor, once, with one step per channel in range.
 * CFQP_ENGINE_ERROR_INVALID naming the tensor otherwise. */
gboolean     cfqp_model_check_channel_steps (const CfqpModel *model,
                                             const CfqpChannelSteps *steps, guint n_steps,
                                             GError **error);
/* A copy of model with the steps folded into its float convs: the same
 * function in FP32, its tensors holding y_c / steps[c].  What a
 * calibration observes and rounds weights on once it has chosen steps.
 * Keeps model's hash and tensor names.  NULL, error if they do not fit. */
CfqpModel   *cfqp_model_new_with_channel_steps (CfqpModel *model, const CfqpChannelSteps *steps,
                                                guint n_steps, GError **error);

/* Everything a calibration gives an INT8 program. */
typedef struct {
  const CfqpQParams      *qparams;          /* one per tensor */
  const CfqpConvTaps     *conv_taps;        /* NULL, 0: each conv rounds its own weights */
  guint                   n_conv_taps;
  const CfqpChannelSteps *channel_steps;    /* NULL, 0: one grid per tensor */
  guint                   n_channel_steps;
} CfqpQuantisation;

/* Marks (residual, n_tensors entries) each tensor that an Add sums with a
 * tensor on the pixel grid into a tensor on the pixel grid, once the INT8
 * program has resolved table (one CfqpQParams per tensor): the residual of
 * an anchored net, added onto its input pixels just before the output.  On
 * the pixel step such a residual makes the sum exact: one rounding, as in
 * FP32, instead of two (docs/cfqp.md).  Derived tensors are never marked. */
void         cfqp_model_find_pixel_residuals (const CfqpModel *model, const CfqpQParams *table,
                                              gboolean *residual);

typedef enum {
  CFQP_PRECISION_INT8,
  CFQP_PRECISION_FP32,
  /* 16-bit activations and int16 taps: the INT8 program's ranges on 65536
   * levels instead of 256 (docs/int8-arithmetic.md, "16-bit programs"),
   * for nets whose every tensor carries the picture (no anchor).  Takes the
   * same calibrations as INT8; runs on the CPU (cpu, ref), not OpenCL. */
  CFQP_PRECISION_INT16,
} CfqpPrecision;

/* Whether precision runs an integer program under a calibration (INT8, INT16). */
static inline gboolean
cfqp_precision_is_quantised (CfqpPrecision precision)
{
  return precision == CFQP_PRECISION_INT8 || precision == CFQP_PRECISION_INT16;
}

typedef enum {
  CFQP_BACKEND_AUTO,
  CFQP_BACKEND_REF,      /* scalar C: the definition of the arithmetic */
  CFQP_BACKEND_CPU,      /* vectorized, threaded CPU kernels */
  CFQP_BACKEND_OPENCL,
} CfqpBackendKind;

/* Conv kernels of the cpu INT8 set (CFQP_BACKEND_AUTO/CPU, INT8).  All are
 * bit-exact with ref: the choice changes speed only. */
typedef enum {
  CFQP_CPU_KERNELS_AUTO,    /* per conv layer, the fastest kernel timed on a small stripe
                             * when the INT8 program is built; the choice is cached per
                             * (layer shape, ISA) for the life of the process */
  CFQP_CPU_KERNELS_ORC,     /* ORC multiply-accumulate rows (any CPU ORC targets; without
                             * ORC in the build, as NATIVE) */
  CFQP_CPU_KERNELS_NATIVE,  /* native code: the ISA level's pixel-lanes kernel where it has
                             * one, else the compiler-vectorised dot products */
  CFQP_CPU_KERNELS_WINOGRAD, /* 3×3 stride-1 convs as Winograd F(2×2, 3×3) in integers where
                              * the ISA level has that kernel (sse4.1, avx2), the others
                              * as NATIVE */
} CfqpCpuKernels;

typedef struct {
  CfqpPrecision   precision;
  CfqpBackendKind backend;
  guint           n_threads;   /* 0: one per online CPU */
  const char     *device;      /* OpenCL device index or name substring; NULL: first GPU */
  /* INT8 and INT16: one CfqpQParams per tensor (cfqp_model_get_n_tensors,
   * on 8 bits: INT16 spreads each range over 65536 levels).  The input and
   * output are always the pixel grid (1/255, 0) and derived tensors follow
   * their source, whatever the table says. */
  const CfqpQParams *qparams;
  CfqpCpuKernels  cpu_kernels;
  /* Host executors (cpu, ref; INT8 and FP32): CFQP_STRIPES_AUTO, CFQP_STRIPES_OFF
   * (layer by layer) or a stripe height in output rows; the same results
   * every way (docs/performance.md, "Stripes"). */
  gint            stripe_rows;
  /* Host executors: time every node, and print the times (ms per run) to
   * stderr when the runner is freed. */
  gboolean        profile;
  /* OpenCL: time every kernel and transfer on the device (a profiling queue). */
  gboolean        opencl_profile;
  /* INT8: int8 taps for some convs (a calibration's weight rounding); the
   * others round their own. */
  const CfqpConvTaps *conv_taps;
  guint           n_conv_taps;
  /* INT8: per-channel steps of some tensors (a calibration's). */
  const CfqpChannelSteps *channel_steps;
  guint           n_channel_steps;
} CfqpRunnerOptions;

/* CfqpRunnerOptions.stripe_rows: stripes where one fits half the L2 with
 * little recomputed, else layer by layer; or layer by layer always. */
#define CFQP_STRIPES_AUTO 0
#define CFQP_STRIPES_OFF  (-1)

#define CFQP_RUNNER_OPTIONS_INIT \
  { CFQP_PRECISION_FP32, CFQP_BACKEND_AUTO, 0, NULL, NULL, CFQP_CPU_KERNELS_AUTO, \
    CFQP_STRIPES_AUTO, FALSE, FALSE, NULL, 0, NULL, 0 }

/* Programs that keep the environment knobs working (the elements, the
 * tools) call this on their options; the engine itself reads none of them:
 *   $CFQP_INT8_STRIPES   "off" or "0", "auto", or a stripe height → stripe_rows
 *   $CFQP_INT8_PROFILE   set (any value) → profile
 *   $CFQP_OPENCL_PROFILE set (any value) → opencl_profile */
void cfqp_runner_options_from_env (CfqpRunnerOptions *options);

typedef struct _CfqpRunner CfqpRunner;

CfqpRunner  *cfqp_runner_new        (CfqpModel *model, const CfqpRunnerOptions *options,
                                     GError **error);
void         cfqp_runner_free       (CfqpRunner *runner);
CfqpModel   *cfqp_runner_get_model  (CfqpRunner *runner);
/* INT8 runners: new quantisation parameters (one per tensor), used from the
 * next frame on — call it between frames, never during a run. */
gboolean     cfqp_runner_set_qparams (CfqpRunner *runner, const CfqpQParams *qparams,
                                      GError **error);
/* The same with a calibration's whole quantisation (conv taps, channel
 * steps), checked before anything changes. */
gboolean     cfqp_runner_set_quantisation (CfqpRunner *runner, const CfqpQuantisation *q,
                                           GError **error);
CfqpPrecision cfqp_runner_get_precision (CfqpRunner *runner);
/* Which backend actually runs ("cpu", "ref", "opencl:<device>"). */
const char  *cfqp_runner_get_active_backend (CfqpRunner *runner);
/* INT8 runners on the cpu kernels: one line naming each conv's kernel and
 * how it was chosen (forced, measured or cached, with the measured ms per
 * kernel), e.g. "conv1 c4 (measured: c4 0.02, dot 0.07, orc 0.41 ms); …".
 * NULL for other runners.  Free with g_free. */
char        *cfqp_runner_describe_kernels (CfqpRunner *runner);
/* CFQP_BACKEND_AUTO on a machine with an OpenCL GPU that could not be set up:
 * why ("OpenCL GPU not usable: <reason>"), the runner being on the CPU.  NULL
 * otherwise, also when AUTO chose the CPU because there is no GPU. */
const char  *cfqp_runner_get_fallback_reason (CfqpRunner *runner);

/* Planar float: in is C×H×W, out is C×(s·H)×(s·W), values in model units
 * (usually [0,1]).  Output is not clamped. */
gboolean     cfqp_runner_run_f32    (CfqpRunner *runner, const float *in, guint width,
                                     guint height, float *out, GError **error);

/* Packed 8-bit pixels.  offsets give the byte of R, G, B (and alpha, or -1)
 * inside one pixel of pixel_stride bytes.  Alpha, if any, is upscaled by
 * bilinear interpolation; output bytes are the network output on the
 * [0,255] grid, saturated. */
typedef struct {
  guint pixel_stride;
  gint  r, g, b, a;
} CfqpPackedLayout;

gboolean     cfqp_runner_run_packed (CfqpRunner *runner, const CfqpPackedLayout *layout,
                                     const guint8 *src, gsize src_stride,
                                     guint width, guint height,
                                     guint8 *dst, gsize dst_stride, GError **error);

/* Any output size up to the network's scale per axis: the network's ×s
 * output resampled to out_width × out_height on the host (cfqp-resample.h:
 * Catmull-Rom, antialiased when it reduces, 14-bit fixed-point weights, so
 * the same bytes whatever backend ran the network), a separate pass spread
 * over the runner's threads.  Alpha, if any, is the input's alpha resampled
 * by the same kernel.  out = s × in is cfqp_runner_run_packed. */
gboolean     cfqp_runner_run_packed_resized (CfqpRunner *runner, const CfqpPackedLayout *layout,
                                             const guint8 *src, gsize src_stride,
                                             guint width, guint height,
                                             guint8 *dst, gsize dst_stride,
                                             guint out_width, guint out_height, GError **error);
/* Microseconds the last run_packed_resized spent resampling (0: none). */
gint64       cfqp_runner_get_resample_time  (CfqpRunner *runner);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CfqpRunner, cfqp_runner_free)

/* Reads a whole regular file of at most max_size bytes, NUL-terminated, as
 * g_file_get_contents() but never blocking on a FIFO (refused, as are
 * directories and devices such as /dev/zero) and never reading more than
 * max_size + 1 bytes.  Errors are G_IO_ERROR: NOT_REGULAR_FILE,
 * MESSAGE_TOO_LARGE over the limit (the message names it), else from errno.
 * length may be NULL. */
gboolean     cfqp_read_regular_file (const char *path, gsize max_size, char **contents,
                                     gsize *length, GError **error);

/* QDQ ONNX.  Export writes the optimised graph with the INT8 program's
 * integers as QuantizeLinear/DequantizeLinear pairs (opset 13: uint8
 * per-tensor activations, int8 per-channel weights, int32 biases, fused
 * activations after their op), atomically.  qparams: one per tensor as for
 * an INT8 runner; NULL uses the model's embedded table.
 *
 * A QDQ model imported by cfqp_model_new_from_* keeps its own parameters:
 * the table below (one entry per tensor, NULL for a float model), which an
 * INT8 runner can take as CfqpRunnerOptions.qparams, while its int8 weight
 * scales are used as they are.  Tensors the file left unquantised (and not
 * derived) have scale 0, which a runner refuses. */
gboolean     cfqp_model_export_qdq  (CfqpModel *model, const CfqpQParams *qparams,
                                     const char *path, GError **error);
/* The same with a calibration's whole quantisation.  Channel steps are
 * written folded into the convs (the graph of cfqp_model_new_with_channel_steps),
 * so every activation stays one uint8 grid per tensor. */
gboolean     cfqp_model_export_qdq_full (CfqpModel *model, const CfqpQuantisation *q,
                                         const char *path, GError **error);
/* The same at a precision: CFQP_PRECISION_INT8 (above) or
 * CFQP_PRECISION_INT16, the 16-bit program's numbers (opset 21: uint16
 * activations on each grid's cfqp_int16_grid, int16 per-channel weights,
 * biases as float since DequantizeLinear takes no int64).  A 16-bit file
 * is for other runtimes: cfqp_model_new_from_* refuses its uint16
 * activations. */
gboolean     cfqp_model_export_qdq_precision (CfqpModel *model, const CfqpQuantisation *q,
                                              CfqpPrecision precision, const char *path,
                                              GError **error);
const CfqpQParams *cfqp_model_get_embedded_qparams (const CfqpModel *model);

G_END_DECLS
