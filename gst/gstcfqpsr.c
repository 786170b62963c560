/* cfqp — cfqpsr: super-resolution video filter.  This file is the element:
 * properties, caps, set_info, transform_frame and the bus messages; what
 * drives its CfqpSession (model, calibrations, runner) is in
 * gstcfqpsrsession.c, the frames ↔ runner plumbing in gstcfqpsrframe.c.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:element-cfqpsr
 * @title: cfqpsr
 *
 * Upscales raw video through a super-resolution network, to any size from
 * the input size up to 4× per axis (the two axes independent).  Each output
 * frame is the input frame in the same format; the framerate (0/1 still
 * images included), timestamps, durations and buffer flags pass through,
 * navigation events have their coordinates scaled back per axis on their
 * way upstream, and QoS and latency behave as in other video filters (no
 * latency is added).
 *
 * Sizes: a size downstream fixes wins; a free one is
 * #GstCfqpSr:scale-factor times the input.  The pixel-aspect-ratio is
 * handled as videoscale does: the display aspect ratio is kept, the output
 * PAR or size adjusted to what downstream accepts.  The network is the ×3/2
 * one when neither ratio exceeds 1.5 and the input's sides are even (it
 * runs its body on 2×2 blocks of input pixels: 1280×720 → 1920×1080 costs
 * what 640×360 → 1920×1080 costs with the ×3 network), else the one at the
 * smallest integer scale at or above the larger of the two ratios
 * (×2.25 or ×2.67 → ×3, at most ×4); when the output is not
 * exactly that multiple, the network's output is resampled to the size
 * asked for (Catmull-Rom, antialiased when it reduces, 14-bit fixed point:
 * the same bytes whatever the backend; a separate pass on the CPU).
 * #GstCfqpSr:model-info says which network and which resampling run.  The
 * same size in and out is a pass-through; a size below the input on either
 * axis is not offered in caps (linking fails) and, when it comes up at run
 * time, fails negotiation with an error naming the sizes possible.
 *
 * Formats: the packed RGB family (RGB, BGR, RGBx, BGRx, xRGB, xBGR, RGBA,
 * BGRA, ARGB, ABGR) runs the network straight on the frame's bytes; alpha
 * is upscaled by bilinear interpolation.  I420 and NV12 are converted to
 * RGB with the matrix and range of their caps (colorimetry), run through
 * the same RGB network and converted back (odd sizes are fine: the chroma
 * planes are rounded up, as GStreamer does).  Progressive video only:
 * interlaced caps are refused (the network would mix the two fields; put
 * deinterlace before).
 *
 * The network is the ONNX file in #GstCfqpSr:model-file (sizes up to its
 * scale per axis), or when that is unset the default model embedded for
 * the scale the caps need: a capsfilter asking 1920×1080 after a 640×360
 * input picks ×3 whatever #GstCfqpSr:scale-factor says (which is only the
 * preferred scale), after a 1280×720 input ×3/2, after a 1280×800 input
 * ×2 then a resample.
 * A model that cannot be loaded fails the READY→PAUSED state change with
 * an element error naming the file and the reason.
 *
 * #GstCfqpSr:precision int8 (the default) needs a calibration: the one in
 * #GstCfqpSr:calibration-file, else (unset or refused) the one shipped with the model (the
 * embedded default model's, or `m.calib.json` beside a model file
 * `m.onnx`, or the parameters a QDQ ONNX model carries), else one
 * published by a `cfqpcalib` with the same #GstCfqpSr:calibration-name.  Without any of these (and with no
 * calibration-name) the element runs FP32 while it calibrates itself from
 * the first #GstCfqpSr:self-calibration-frames frames (random 256×256
 * crops of them) with CFQP in a worker thread, then switches to INT8 at a
 * frame boundary.
 *
 * Every calibration that becomes active (at start, from a replaced
 * calibration file — watched, atomic renames included —, from a paired
 * `cfqpcalib`, or from self-calibration) is applied between two frames and
 * posts an element message `cfqpsr-calibration` with the fields `source`
 * (string), `model-hash` (string), `n-samples` (guint), `precision`
 * (string), `frame` (guint64, the first frame it applies to) and, when
 * its calibrator measured it, `int8-psnr` (gdouble) and
 * `int8-psnr-held-out` (gboolean): PSNR(INT8, FP32) in dB on the frames it
 * was calibrated from, each judged by a calibration made without it — what
 * INT8 costs on this stream.  #GstCfqpSr:min-int8-psnr runs FP32 (or INT16:
 * #GstCfqpSr:int8-fallback) when that is too low (an application can also
 * set #GstCfqpSr:precision itself).  A
 * calibration that does not fit the model (hash, tensors, clip-free mode)
 * or cannot be read is refused with a warning; the current one stays.
 *
 * Changes of #GstCfqpSr:precision, #GstCfqpSr:backend and
 * #GstCfqpSr:n-threads while PLAYING take effect at the next frame
 * boundary (the runner is rebuilt in the streaming thread, never
 * mid-frame).  Whenever #GstCfqpSr:active-backend changes (at start, after
 * such a change, the first calibration, a fallback to FP32) the element
 * posts an element message `cfqpsr-precision` with `active-backend`,
 * `backend` and `precision` (strings) and `frame` (guint64, the first
 * frame computed so).
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 filesrc location=in.png ! pngdec ! videoconvert ! cfqpsr ! videoconvert ! pngenc ! filesink location=out.png
 * ]| Upscales a still image ×3 with the embedded default model.
 * |[
 * gst-launch-1.0 filesrc location=in.mp4 ! decodebin ! videoconvert ! video/x-raw,format=I420 ! cfqpsr ! video/x-raw,width=1920,height=1080 ! autovideosink
 * ]| Upscales I420 video to 1080p whatever its size (720p: the ×3/2
 * network alone; 640×360: the ×3 network alone; 960×600: the ×2 network
 * then a resample).
 * |[
 * gst-launch-1.0 v4l2src ! videoconvert ! tee name=t \
 *    t. ! queue ! cfqpsr calibration-name=cam ! videoconvert ! autovideosink \
 *    t. ! queue leaky=downstream max-size-buffers=2 ! cfqpcalib calibration-name=cam location=cam.json
 * ]| Calibrates live from a camera while displaying the upscaled stream.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstcfqpsr-private.h"
#include "gstcfqpsrcaps.h"

GST_DEBUG_CATEGORY (gst_cfqp_sr_debug);

#define DEFAULT_PROP_MODEL_FILE NULL
#define DEFAULT_PROP_SCALE_FACTOR 3
#define DEFAULT_PROP_CALIBRATION_FILE NULL
#define DEFAULT_PROP_PRECISION GST_CFQP_PRECISION_INT8
#define DEFAULT_PROP_MIN_INT8_PSNR 0.0
#define DEFAULT_PROP_INT8_FALLBACK GST_CFQP_INT8_FALLBACK_FP32
#define DEFAULT_PROP_BACKEND GST_CFQP_BACKEND_AUTO
#define DEFAULT_PROP_CLIP_FREE TRUE
#define DEFAULT_PROP_CPU_KERNELS GST_CFQP_CPU_KERNELS_AUTO
#define DEFAULT_PROP_N_THREADS 0
#define DEFAULT_PROP_DEVICE NULL
#define DEFAULT_PROP_CALIBRATION_NAME NULL
#define DEFAULT_PROP_SELF_CALIBRATION_FRAMES 8
#define MAX_N_THREADS 1024
#define MAX_SELF_CALIBRATION_FRAMES 1024

enum
{
  PROP_0,
  PROP_MODEL_FILE,
  PROP_SCALE_FACTOR,
  PROP_CALIBRATION_FILE,
  PROP_PRECISION,
  PROP_BACKEND,
  PROP_CLIP_FREE,
  PROP_N_THREADS,
  PROP_DEVICE,
  PROP_CALIBRATION_NAME,
  PROP_SELF_CALIBRATION_FRAMES,
  PROP_ACTIVE_BACKEND,
  PROP_MODEL_INFO,
  PROP_CPU_KERNELS,
  PROP_MIN_INT8_PSNR,
  PROP_INT8_FALLBACK,
};

#define gst_cfqp_sr_parent_class parent_class
G_DEFINE_TYPE (GstCfqpSr, gst_cfqp_sr, GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (cfqpsr, "cfqpsr", GST_RANK_NONE,
    GST_TYPE_CFQP_SR,
    GST_DEBUG_CATEGORY_INIT (gst_cfqp_sr_debug, "cfqpsr", 0,
        "cfqp super-resolution filter"));

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (GST_CFQP_ALL_CAPS));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (GST_CFQP_ALL_CAPS));

static void gst_cfqp_sr_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_cfqp_sr_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static void gst_cfqp_sr_finalize (GObject * object);
static gboolean gst_cfqp_sr_start (GstBaseTransform * trans);
static gboolean gst_cfqp_sr_stop (GstBaseTransform * trans);
static GstCaps *gst_cfqp_sr_transform_caps (GstBaseTransform * trans,
    GstPadDirection direction, GstCaps * caps, GstCaps * filter);
static GstCaps *gst_cfqp_sr_fixate_caps (GstBaseTransform * trans,
    GstPadDirection direction, GstCaps * caps, GstCaps * othercaps);
static gboolean gst_cfqp_sr_src_event (GstBaseTransform * trans,
    GstEvent * event);
static gboolean gst_cfqp_sr_sink_event (GstBaseTransform * trans,
    GstEvent * event);
static gboolean gst_cfqp_sr_set_info (GstVideoFilter * filter,
    GstCaps * incaps, GstVideoInfo * in_info, GstCaps * outcaps,
    GstVideoInfo * out_info);
static GstFlowReturn gst_cfqp_sr_transform_frame (GstVideoFilter * filter,
    GstVideoFrame * in_frame, GstVideoFrame * out_frame);

static void
gst_cfqp_sr_class_init (GstCfqpSrClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GstVideoFilterClass *filter_class = GST_VIDEO_FILTER_CLASS (klass);

  gobject_class->set_property = gst_cfqp_sr_set_property;
  gobject_class->get_property = gst_cfqp_sr_get_property;
  gobject_class->finalize = gst_cfqp_sr_finalize;

  /**
   * GstCfqpSr:model-file:
   *
   * ONNX super-resolution model to run.  Unset: the default model embedded
   * for the scale (#GstCfqpSr:scale-factor, or the one downstream caps
   * ask for).  Read when the element goes to PAUSED; a regular file only
   * (a FIFO, pipe or directory is refused at once).
   */
  g_object_class_install_property (gobject_class, PROP_MODEL_FILE,
      g_param_spec_string ("model-file", "Model file",
          "ONNX super-resolution model (NULL: the embedded default model for "
          "the scale)", DEFAULT_PROP_MODEL_FILE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstCfqpSr:scale-factor:
   *
   * Preferred upscaling factor: the output size when downstream leaves it
   * free (scale-factor × the input, per axis), with its embedded default
   * model.  A size downstream fixes wins (any size up to 4× per axis, the
   * network then the smallest scale at or above the ratio); a model-file
   * of another scale wins too.
   */
  g_object_class_install_property (gobject_class, PROP_SCALE_FACTOR,
      g_param_spec_uint ("scale-factor", "Scale factor",
          "Preferred upscaling factor (downstream caps may pick another "
          "embedded model; a model-file of another scale overrides it)",
          GST_CFQP_MIN_SCALE, GST_CFQP_MAX_SCALE, DEFAULT_PROP_SCALE_FACTOR,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstCfqpSr:calibration-file:
   *
   * INT8 calibration (JSON, as cfqpcalib writes) for the model, a regular
   * file.  Unset or refused: the shipped one, a paired cfqpcalib's, or
   * self-calibration, in that order.  The file is watched: when it is
   * replaced (atomic rename or rewrite) the new calibration is applied at
   * the next frame boundary.
   */
  g_object_class_install_property (gobject_class, PROP_CALIBRATION_FILE,
      g_param_spec_string ("calibration-file", "Calibration file",
          "INT8 calibration JSON for the model, watched for replacement "
          "(NULL or refused: shipped, paired cfqpcalib, or self-calibration)",
          DEFAULT_PROP_CALIBRATION_FILE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstCfqpSr:precision:
   *
   * Arithmetic of the network.  int8 runs FP32 until a calibration is
   * active.  int16 runs the same calibrations with 16-bit activations and
   * weights: FP32 quality for nets without an anchor too, on the CPU or
   * OpenCL (on a CPU faster than fp32 with an int16 dot product such as
   * AVX-VNNI or AVX-512 VNNI, about as fast with AVX2).  May change while
   * PLAYING (applied at a frame boundary).
   */
  g_object_class_install_property (gobject_class, PROP_PRECISION,
      g_param_spec_enum ("precision", "Precision",
          "Arithmetic of the network (int8 and int16 run fp32 until a "
          "calibration is active; int16: 16-bit activations and weights; "
          "may change while PLAYING)", GST_TYPE_CFQP_PRECISION,
          DEFAULT_PROP_PRECISION,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstCfqpSr:min-int8-psnr:
   *
   * With #GstCfqpSr:precision int8, run FP32 (or #GstCfqpSr:int8-fallback)
   * instead while the active calibration's calibrator measured INT8
   * against FP32 below this PSNR (dB, on the calibration's own frames held
   * out: the `int8-psnr` of the `cfqpsr-calibration` message).  0 (the
   * default): INT8 whatever it measured.  A calibration that carries no
   * measure (made with activation-grids=tensor, a QDQ model's own
   * parameters) runs INT8.  May change while PLAYING (applied at a frame
   * boundary).
   */
  g_object_class_install_property (gobject_class, PROP_MIN_INT8_PSNR,
      g_param_spec_double ("min-int8-psnr", "Minimum INT8 PSNR",
          "Run FP32 (or int8-fallback) while the active calibration measured PSNR(INT8, FP32) "
          "below this many dB on held-out frames (0: INT8 whatever it "
          "measured; unmeasured calibrations run INT8; may change while "
          "PLAYING)", 0.0, CFQP_FIDELITY_MAX_PSNR, DEFAULT_PROP_MIN_INT8_PSNR,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstCfqpSr:int8-fallback:
   *
   * What runs while #GstCfqpSr:min-int8-psnr holds INT8 back: fp32 (the
   * default), or int16, the same calibration on 16-bit activations and
   * weights (FP32's quality within a few thousandths of a dB on the
   * shipped nets, and faster than fp32 on a CPU with an int16 dot product
   * such as AVX-VNNI or AVX-512 VNNI, about as fast with AVX2).  int16 runs
   * on the backend in use, OpenCL included.  May change while PLAYING
   * (applied at a frame boundary).
   */
  g_object_class_install_property (gobject_class, PROP_INT8_FALLBACK,
      g_param_spec_enum ("int8-fallback", "INT8 fallback",
          "What runs while min-int8-psnr holds INT8 back (may change while "
          "PLAYING)",
          GST_TYPE_CFQP_INT8_FALLBACK, DEFAULT_PROP_INT8_FALLBACK,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstCfqpSr:backend:
   *
   * Where the network runs.  auto takes an OpenCL GPU when there is one
   * and the CPU otherwise (never a CPU OpenCL device such as PoCL's): with
   * no GPU silently, with a GPU that cannot be set up with a warning
   * message naming the reason.  opencl without a usable device fails the
   * start with an error naming the device.  May change while PLAYING
   * (applied at a frame boundary).
   */
  g_object_class_install_property (gobject_class, PROP_BACKEND,
      g_param_spec_enum ("backend", "Backend",
          "Where the network runs (may change while PLAYING)",
          GST_TYPE_CFQP_BACKEND, DEFAULT_PROP_BACKEND,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstCfqpSr:clip-free:
   *
   * Run the model with its clipped activations removed (clipped ReLUs
   * become ReLUs, a final clamp to [0,1] goes), as CFQP intends.  Left at
   * its default, the first calibration (file or shipped) decides: one made
   * for the graph with its clips ("clip_free": false, as the shipped
   * calibrations of the -clipped models) runs that graph.  Set explicitly,
   * a calibration made in the other mode is refused (for a model without
   * clips both modes are the same graph and either is taken).
   */
  g_object_class_install_property (gobject_class, PROP_CLIP_FREE,
      g_param_spec_boolean ("clip-free", "Clip-free",
          "Remove the model's clipped activations (left unset, a first "
          "calibration made with the clips keeps them; set, calibrations of "
          "the other mode are refused)", DEFAULT_PROP_CLIP_FREE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstCfqpSr:n-threads:
   *
   * CPU worker threads (0: one per online CPU).  May change while PLAYING
   * (applied at a frame boundary).
   */
  g_object_class_install_property (gobject_class, PROP_N_THREADS,
      g_param_spec_uint ("n-threads", "Threads",
          "CPU worker threads (0: one per online CPU; may change while PLAYING)",
          0, MAX_N_THREADS, DEFAULT_PROP_N_THREADS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstCfqpSr:device:
   *
   * OpenCL device: an index or a substring of its name (NULL: the first
   * GPU).
   */
  g_object_class_install_property (gobject_class, PROP_DEVICE,
      g_param_spec_string ("device", "Device",
          "OpenCL device index or name substring (NULL: the first GPU)",
          DEFAULT_PROP_DEVICE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstCfqpSr:calibration-name:
   *
   * Pairs the element with the cfqpcalib of the same calibration-name in
   * this process: each calibration it publishes is applied at the next
   * frame boundary.  Set, the element does not calibrate itself.
   */
  g_object_class_install_property (gobject_class, PROP_CALIBRATION_NAME,
      g_param_spec_string ("calibration-name", "Calibration name",
          "Apply the calibrations a cfqpcalib with this calibration-name "
          "publishes (NULL: unpaired)", DEFAULT_PROP_CALIBRATION_NAME,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstCfqpSr:self-calibration-frames:
   *
   * With int8 and no calibration at all: frames handed to the internal
   * CFQP calibrator (one whenever its worker is idle) before it computes a
   * calibration and the element switches to INT8.  0: never calibrate
   * itself (run FP32 with a warning).
   */
  g_object_class_install_property (gobject_class, PROP_SELF_CALIBRATION_FRAMES,
      g_param_spec_uint ("self-calibration-frames", "Self-calibration frames",
          "Frames sampled to calibrate itself when no calibration exists "
          "(0: never, run FP32)", 0, MAX_SELF_CALIBRATION_FRAMES,
          DEFAULT_PROP_SELF_CALIBRATION_FRAMES,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstCfqpSr:active-backend:
   *
   * The backend that actually runs ("cpu", "ref", "opencl:<device>") and
   * its precision, NULL before PAUSED.  Each change is also posted as a
   * `cfqpsr-precision` element message.
   */
  g_object_class_install_property (gobject_class, PROP_ACTIVE_BACKEND,
      g_param_spec_string ("active-backend", "Active backend",
          "Backend and precision that actually run (NULL before PAUSED)", NULL,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  /**
   * GstCfqpSr:model-info:
   *
   * One-line summary of the loaded model: where it came from, whether its
   * scale overrode #GstCfqpSr:scale-factor, and the engine's description
   * (scale, ops, MACs, hash); once caps are set, which network runs on
   * which size and the resampling to the output size (or "no resampling",
   * or "pass-through"); NULL before PAUSED.
   */
  g_object_class_install_property (gobject_class, PROP_MODEL_INFO,
      g_param_spec_string ("model-info", "Model info",
          "Summary of the loaded model (NULL before PAUSED)", NULL,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  /**
   * GstCfqpSr:cpu-kernels:
   *
   * Conv kernels of the INT8 network on the CPU: auto times the kernels
   * that apply to each conv layer on a small stripe when the network is
   * prepared and keeps the fastest (remembered per layer shape for the
   * process); orc, native and winograd force one family.  All give the same bytes;
   * #GstCfqpSr:model-info names each conv's kernel.  May change while
   * PLAYING (applied at a frame boundary).
   */
  g_object_class_install_property (gobject_class, PROP_CPU_KERNELS,
      g_param_spec_enum ("cpu-kernels", "CPU kernels",
          "Conv kernels of the INT8 network on the CPU (same bytes; may "
          "change while PLAYING)", GST_TYPE_CFQP_CPU_KERNELS,
          DEFAULT_PROP_CPU_KERNELS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  gst_element_class_set_static_metadata (element_class,
      "CFQP super-resolution", "Filter/Effect/Video/Scaler",
      "Upscales video through an INT8 super-resolution network calibrated "
      "from the stream", "cfqp developers");
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);

  trans_class->start = GST_DEBUG_FUNCPTR (gst_cfqp_sr_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_cfqp_sr_stop);
  trans_class->transform_caps = GST_DEBUG_FUNCPTR (gst_cfqp_sr_transform_caps);
  trans_class->fixate_caps = GST_DEBUG_FUNCPTR (gst_cfqp_sr_fixate_caps);
  trans_class->src_event = GST_DEBUG_FUNCPTR (gst_cfqp_sr_src_event);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_cfqp_sr_sink_event);
  /* as videoscale: the same size in and out is a pass-through */
  trans_class->passthrough_on_same_caps = TRUE;
  filter_class->set_info = GST_DEBUG_FUNCPTR (gst_cfqp_sr_set_info);
  filter_class->transform_frame =
      GST_DEBUG_FUNCPTR (gst_cfqp_sr_transform_frame);

  gst_type_mark_as_plugin_api (GST_TYPE_CFQP_PRECISION, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_CFQP_BACKEND, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_CFQP_CPU_KERNELS, 0);
}

static void
gst_cfqp_sr_init (GstCfqpSr * self)
{
  self->model_file = g_strdup (DEFAULT_PROP_MODEL_FILE);
  self->scale_factor = DEFAULT_PROP_SCALE_FACTOR;
  self->calibration_file = g_strdup (DEFAULT_PROP_CALIBRATION_FILE);
  self->precision = DEFAULT_PROP_PRECISION;
  self->min_int8_psnr = DEFAULT_PROP_MIN_INT8_PSNR;
  self->int8_fallback = DEFAULT_PROP_INT8_FALLBACK;
  self->backend = DEFAULT_PROP_BACKEND;
  self->clip_free = DEFAULT_PROP_CLIP_FREE;
  self->n_threads = DEFAULT_PROP_N_THREADS;
  self->device = g_strdup (DEFAULT_PROP_DEVICE);
  self->calibration_name = g_strdup (DEFAULT_PROP_CALIBRATION_NAME);
  self->self_calibration_frames = DEFAULT_PROP_SELF_CALIBRATION_FRAMES;
  self->cpu_kernels = DEFAULT_PROP_CPU_KERNELS;
  g_mutex_init (&self->runner_lock);

  gst_base_transform_set_qos_enabled (GST_BASE_TRANSFORM (self), TRUE);
}

static void
gst_cfqp_sr_finalize (GObject * object)
{
  GstCfqpSr *self = GST_CFQP_SR (object);

  g_clear_pointer (&self->runner, cfqp_runner_free);
  g_clear_pointer (&self->session, cfqp_session_unref);
  g_free (self->model_file);
  g_free (self->calibration_file);
  g_free (self->device);
  g_free (self->calibration_name);
  g_free (self->active_backend);
  g_free (self->model_info);
  g_free (self->kernel_info);
  g_free (self->resample_info);
  g_mutex_clear (&self->runner_lock);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_cfqp_sr_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstCfqpSr *self = GST_CFQP_SR (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODEL_FILE:
      g_free (self->model_file);
      self->model_file = g_value_dup_string (value);
      break;
    case PROP_SCALE_FACTOR:
      self->scale_factor = g_value_get_uint (value);
      break;
    case PROP_CALIBRATION_FILE:
      g_free (self->calibration_file);
      self->calibration_file = g_value_dup_string (value);
      break;
    case PROP_PRECISION:
      if (self->precision != (GstCfqpPrecision) g_value_get_enum (value))
        self->runner_dirty = self->started;
      self->precision = g_value_get_enum (value);
      break;
    case PROP_MIN_INT8_PSNR:
      if (self->min_int8_psnr != g_value_get_double (value))
        self->runner_dirty = self->started;
      self->min_int8_psnr = g_value_get_double (value);
      break;
    case PROP_INT8_FALLBACK:
      if (self->int8_fallback != (GstCfqpInt8Fallback) g_value_get_enum (value))
        self->runner_dirty = self->started;
      self->int8_fallback = g_value_get_enum (value);
      break;
    case PROP_BACKEND:
      if (self->backend != (GstCfqpBackend) g_value_get_enum (value))
        self->runner_dirty = self->started;
      self->backend = g_value_get_enum (value);
      break;
    case PROP_CLIP_FREE:
      self->clip_free = g_value_get_boolean (value);
      self->clip_free_set = TRUE;
      break;
    case PROP_N_THREADS:
      if (self->n_threads != g_value_get_uint (value))
        self->runner_dirty = self->started;
      self->n_threads = g_value_get_uint (value);
      break;
    case PROP_DEVICE:
      g_free (self->device);
      self->device = g_value_dup_string (value);
      break;
    case PROP_CALIBRATION_NAME:
      g_free (self->calibration_name);
      self->calibration_name = g_value_dup_string (value);
      break;
    case PROP_SELF_CALIBRATION_FRAMES:
      self->self_calibration_frames = g_value_get_uint (value);
      break;
    case PROP_CPU_KERNELS:
      if (self->cpu_kernels != (GstCfqpCpuKernels) g_value_get_enum (value))
        self->runner_dirty = self->started;
      self->cpu_kernels = g_value_get_enum (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_cfqp_sr_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstCfqpSr *self = GST_CFQP_SR (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODEL_FILE:
      g_value_set_string (value, self->model_file);
      break;
    case PROP_SCALE_FACTOR:
      g_value_set_uint (value, self->scale_factor);
      break;
    case PROP_CALIBRATION_FILE:
      g_value_set_string (value, self->calibration_file);
      break;
    case PROP_PRECISION:
      g_value_set_enum (value, self->precision);
      break;
    case PROP_MIN_INT8_PSNR:
      g_value_set_double (value, self->min_int8_psnr);
      break;
    case PROP_INT8_FALLBACK:
      g_value_set_enum (value, self->int8_fallback);
      break;
    case PROP_BACKEND:
      g_value_set_enum (value, self->backend);
      break;
    case PROP_CLIP_FREE:
      g_value_set_boolean (value, self->clip_free);
      break;
    case PROP_N_THREADS:
      g_value_set_uint (value, self->n_threads);
      break;
    case PROP_DEVICE:
      g_value_set_string (value, self->device);
      break;
    case PROP_CALIBRATION_NAME:
      g_value_set_string (value, self->calibration_name);
      break;
    case PROP_SELF_CALIBRATION_FRAMES:
      g_value_set_uint (value, self->self_calibration_frames);
      break;
    case PROP_ACTIVE_BACKEND:
      g_value_set_string (value, self->active_backend);
      break;
    case PROP_MODEL_INFO:
      if (self->model_info == NULL)
        g_value_set_string (value, NULL);
      else
        g_value_take_string (value, g_strdup_printf ("%s%s%s%s%s%s",
                self->model_info, self->kernel_info ? " [conv kernels: " : "",
                self->kernel_info ? self->kernel_info : "",
                self->kernel_info ? "]" : "",
                self->resample_info ? "; " : "",
                self->resample_info ? self->resample_info : ""));
      break;
    case PROP_CPU_KERNELS:
      g_value_set_enum (value, self->cpu_kernels);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

/* What the runner's arithmetic is called in messages and active-backend:
 * the precision property's nick. */
static const gchar *
gst_cfqp_sr_precision_nick (CfqpRunner * runner)
{
  switch (cfqp_runner_get_precision (runner)) {
    case CFQP_PRECISION_INT8:
      return "int8";
    case CFQP_PRECISION_INT16:
      return "int16";
    case CFQP_PRECISION_FP32:
    default:
      return "fp32";
  }
}

/* The cfqpsr-calibration message: a calibration (calib, or a QDQ model's
 * own parameters: calib NULL, n_samples 0) is active from this frame. */
static void
gst_cfqp_sr_post_calibration_full (GstCfqpSr * self, const gchar * source,
    const gchar * model_hash, guint n_samples, const CfqpCalibration * calib)
{
  const gchar *precision = self->runner ?
      gst_cfqp_sr_precision_nick (self->runner) : "fp32";
  GstStructure *s;

  GST_INFO_OBJECT (self, "calibration from %s active from frame %"
      G_GUINT64_FORMAT " (%s)", source, self->frame_count, precision);
  s = gst_structure_new ("cfqpsr-calibration",
      "source", G_TYPE_STRING, source,
      "model-hash", G_TYPE_STRING, model_hash,
      "n-samples", G_TYPE_UINT, n_samples,
      "precision", G_TYPE_STRING, precision,
      "frame", G_TYPE_UINT64, self->frame_count, NULL);
  gst_cfqp_structure_set_fidelity (s, calib);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
}

void
gst_cfqp_sr_post_calibration (GstCfqpSr * self, const gchar * source,
    const gchar * model_hash, guint n_samples)
{
  gst_cfqp_sr_post_calibration_full (self, source, model_hash, n_samples,
      NULL);
}

void
gst_cfqp_sr_post_calibration_of (GstCfqpSr * self, const gchar * source,
    CfqpCalibration * calib)
{
  gst_cfqp_sr_post_calibration_full (self, source,
      cfqp_calibration_get_model_hash (calib),
      cfqp_calibration_get_n_samples (calib), calib);
}

void
gst_cfqp_sr_update_active_backend (GstCfqpSr * self)
{
  gchar *active = g_strdup_printf ("%s (%s)",
      cfqp_runner_get_active_backend (self->runner),
      gst_cfqp_sr_precision_nick (self->runner));
  gchar *kernels = cfqp_runner_describe_kernels (self->runner);

  G_STATIC_ASSERT ((gint) GST_CFQP_CPU_KERNELS_ORC == (gint) CFQP_CPU_KERNELS_ORC &&
      (gint) GST_CFQP_CPU_KERNELS_NATIVE == (gint) CFQP_CPU_KERNELS_NATIVE &&
      (gint) GST_CFQP_CPU_KERNELS_WINOGRAD == (gint) CFQP_CPU_KERNELS_WINOGRAD);
  gboolean changed;

  if (kernels != NULL)
    GST_DEBUG_OBJECT (self, "conv kernels: %s", kernels);
  GST_OBJECT_LOCK (self);
  changed = g_strcmp0 (self->active_backend, active) != 0;
  g_free (self->active_backend);
  self->active_backend = g_strdup (active);
  g_free (self->kernel_info);
  self->kernel_info = kernels;
  GST_OBJECT_UNLOCK (self);

  /* what runs changed (start, a property, the first calibration, a
   * fallback): tell the application, which need not poll active-backend */
  if (changed) {
    GST_INFO_OBJECT (self, "now running %s from frame %" G_GUINT64_FORMAT,
        active, self->frame_count);
    gst_element_post_message (GST_ELEMENT (self),
        gst_message_new_element (GST_OBJECT (self),
            gst_structure_new ("cfqpsr-precision",
                "active-backend", G_TYPE_STRING, active,
                "backend", G_TYPE_STRING,
                cfqp_runner_get_active_backend (self->runner),
                "precision", G_TYPE_STRING,
                gst_cfqp_sr_precision_nick (self->runner),
                "frame", G_TYPE_UINT64, self->frame_count, NULL)));
  }
  g_free (active);
}

static gboolean
gst_cfqp_sr_start (GstBaseTransform * trans)
{
  GstCfqpSr *self = GST_CFQP_SR (trans);
  gchar *calibration_file;
  guint scale_factor;

  GST_OBJECT_LOCK (self);
  scale_factor = self->scale_factor;
  calibration_file = g_strdup (self->calibration_file);
  GST_OBJECT_UNLOCK (self);

  self->int8_warned = FALSE;
  self->registry_serial = 0;
  self->frame_count = 0;
  if (!gst_cfqp_sr_load (self, scale_factor, 1)) {
    g_free (calibration_file);
    return FALSE;
  }
  if (calibration_file != NULL && calibration_file[0] != '\0')
    gst_cfqp_sr_start_watch (self, calibration_file);
  g_free (calibration_file);

  GST_OBJECT_LOCK (self);
  self->started = TRUE;
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

static gboolean
gst_cfqp_sr_stop (GstBaseTransform * trans)
{
  GstCfqpSr *self = GST_CFQP_SR (trans);

  GST_OBJECT_LOCK (self);
  self->started = FALSE;
  g_clear_pointer (&self->resample_info, g_free);
  self->in_w = self->in_h = self->out_w = self->out_h = 0;
  GST_OBJECT_UNLOCK (self);

  g_clear_pointer (&self->watch, cfqp_file_watch_free);
  g_mutex_lock (&self->runner_lock);
  gst_cfqp_sr_unload (self);
  gst_cfqp_sr_clear_frames (self);
  g_mutex_unlock (&self->runner_lock);
  return TRUE;
}

/* Any output size from the input size up to the largest scale a network
 * can make, per axis (gstcfqpsrcaps.c). */
static GstCaps *
gst_cfqp_sr_transform_caps (GstBaseTransform * trans,
    GstPadDirection direction, GstCaps * caps, GstCaps * filter)
{
  GstCfqpSr *self = GST_CFQP_SR (trans);
  guint max_scale = gst_cfqp_sr_get_max_scale (self);
  GstCaps *ret = gst_cfqp_sr_caps_transform (direction, caps, filter,
      max_scale);

  GST_DEBUG_OBJECT (self, "up to x%u, %s: %" GST_PTR_FORMAT " -> %"
      GST_PTR_FORMAT, max_scale, direction == GST_PAD_SINK ? "up" : "down",
      caps, ret);
  return ret;
}

/* A size downstream fixed wins; a free one is the preferred scale times
 * the input, the display aspect ratio kept as videoscale keeps it. */
static GstCaps *
gst_cfqp_sr_fixate_caps (GstBaseTransform * trans, GstPadDirection direction,
    GstCaps * caps, GstCaps * othercaps)
{
  GstCfqpSr *self = GST_CFQP_SR (trans);
  guint scale = gst_cfqp_sr_get_scale (self);
  GstCaps *ret = gst_cfqp_sr_caps_fixate (direction, caps, othercaps, scale);

  GST_DEBUG_OBJECT (self, "preferred x%u: fixated to %" GST_PTR_FORMAT, scale,
      ret);
  return ret;
}

/* A caps event that found no output size: say which sizes were possible
 * (the source's own not-negotiated error names none). */
static gboolean
gst_cfqp_sr_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstCfqpSr *self = GST_CFQP_SR (trans);
  GstCaps *caps = NULL, *possible, *peer;
  GstStructure *s;
  gboolean ret;
  gint w, h;
  guint max_scale;

  if (GST_EVENT_TYPE (event) != GST_EVENT_CAPS)
    return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);

  gst_event_parse_caps (event, &caps);
  caps = gst_caps_ref (caps);
  ret = GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
  s = gst_caps_get_size (caps) > 0 ? gst_caps_get_structure (caps, 0) : NULL;
  if (!ret && s != NULL && gst_structure_get_int (s, "width", &w) &&
      gst_structure_get_int (s, "height", &h)) {
    max_scale = gst_cfqp_sr_get_max_scale (self);
    possible = gst_cfqp_sr_caps_transform (GST_PAD_SINK, caps, NULL,
        max_scale);
    peer = gst_pad_peer_query_caps (GST_BASE_TRANSFORM_SRC_PAD (trans), NULL);
    if (!gst_caps_can_intersect (possible, peer))
      GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
          ("cfqpsr makes %d..%d x %d..%d from a %dx%d input (1x to %ux per "
              "axis, never smaller than the input); downstream accepts none "
              "of these", w, (gint) MIN ((gint64) w * max_scale, G_MAXINT), h,
              (gint) MIN ((gint64) h * max_scale, G_MAXINT), w, h, max_scale),
          ("downstream caps: %" GST_PTR_FORMAT, peer));
    gst_caps_unref (possible);
    gst_caps_unref (peer);
  }
  gst_caps_unref (caps);
  return ret;
}

static gboolean
gst_cfqp_sr_src_event (GstBaseTransform * trans, GstEvent * event)
{
  GstCfqpSr *self = GST_CFQP_SR (trans);

  /* pointer coordinates on the upscaled picture → the input picture */
  if (GST_EVENT_TYPE (event) == GST_EVENT_NAVIGATION) {
    gdouble sx, sy;
    GstStructure *s;
    gdouble x, y;

    /* each axis by its own factor (in/out sizes of the negotiated caps) */
    GST_OBJECT_LOCK (self);
    if (self->in_w > 0 && self->out_w > 0) {
      sx = (gdouble) self->in_w / self->out_w;
      sy = (gdouble) self->in_h / self->out_h;
    } else {
      sx = sy = 1.0 / self->scale_factor;
    }
    GST_OBJECT_UNLOCK (self);
    event = gst_event_make_writable (event);
    s = gst_event_writable_structure (event);
    if (gst_structure_get_double (s, "pointer_x", &x) &&
        gst_structure_get_double (s, "pointer_y", &y))
      gst_structure_set (s, "pointer_x", G_TYPE_DOUBLE, x * sx,
          "pointer_y", G_TYPE_DOUBLE, y * sy, NULL);
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->src_event (trans, event);
}

static gboolean
gst_cfqp_sr_set_info (GstVideoFilter * filter, GstCaps * incaps,
    GstVideoInfo * in_info, GstCaps * outcaps, GstVideoInfo * out_info)
{
  GstCfqpSr *self = GST_CFQP_SR (filter);
  gint iw = GST_VIDEO_INFO_WIDTH (in_info), ih = GST_VIDEO_INFO_HEIGHT (in_info);
  gint ow = GST_VIDEO_INFO_WIDTH (out_info);
  gint oh = GST_VIDEO_INFO_HEIGHT (out_info);
  GstVideoFormat format = GST_VIDEO_INFO_FORMAT (in_info);
  gboolean have_file, ok = TRUE;
  guint num, den, needed, max_scale, n_threads, model_num = 0, model_den = 1;
  gchar *resample_info, *text;
  gint nw, nh;

  max_scale = gst_cfqp_sr_get_max_scale (self);
  if (format != GST_VIDEO_INFO_FORMAT (out_info) || iw <= 0 || ih <= 0 ||
      ow < iw || oh < ih || (gint64) ow > (gint64) iw * max_scale ||
      (gint64) oh > (gint64) ih * max_scale) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
        ("cfqpsr makes %d..%d x %d..%d from a %dx%d input (1x to %ux per "
            "axis, the same format), not %dx%d %s", iw,
            (gint) MIN ((gint64) iw * max_scale, G_MAXINT), ih,
            (gint) MIN ((gint64) ih * max_scale, G_MAXINT), iw, ih, max_scale,
            ow, oh, gst_video_format_to_string (GST_VIDEO_INFO_FORMAT
                (out_info))), ("%" GST_PTR_FORMAT " -> %" GST_PTR_FORMAT,
            incaps, outcaps));
    return FALSE;
  }

  GST_OBJECT_LOCK (self);
  self->in_w = iw;
  self->in_h = ih;
  self->out_w = ow;
  self->out_h = oh;
  GST_OBJECT_UNLOCK (self);

  /* Same size: pass-through even when the caps differ in fields that do
   * not change the bytes (interlace-mode=progressive added by the
   * template), which passthrough-on-same-caps alone would miss. */
  gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (filter),
      ow == iw && oh == ih);
  if (ow == iw && oh == ih) {
    /* no network runs */
    GST_OBJECT_LOCK (self);
    g_free (self->resample_info);
    self->resample_info = g_strdup ("pass-through: output size = input "
        "size, no network runs");
    GST_OBJECT_UNLOCK (self);
    return TRUE;
  }

  /* the network at the smallest integer scale >= the ratio on either axis */
  needed = gst_cfqp_sr_caps_needed_scale (iw, ih, ow, oh);

  g_mutex_lock (&self->runner_lock);
  GST_OBJECT_LOCK (self);
  have_file = self->model_file != NULL && self->model_file[0] != '\0';
  n_threads = self->n_threads;
  GST_OBJECT_UNLOCK (self);

  if (self->session != NULL)
    cfqp_model_get_scale_ratio (cfqp_session_get_model (self->session),
        &model_num, &model_den);
  if (have_file && model_num != 0) {
    /* a model file runs whatever the sizes */
    num = model_num;
    den = model_den;
  } else {
    gst_cfqp_sr_default_for (iw, ih, ow, oh, &num, &den);
  }
  text = gst_cfqp_scale_text (num, den);
  if (num == 0 || (gint64) ow * den > (gint64) iw * num ||
      (gint64) oh * den > (gint64) ih * num || iw % den || ih % den) {
    if (den > 1)
      GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
          ("The x%s network cannot scale %dx%d to %dx%d (at most x%s per "
              "axis, from sides that %u divides)", text, iw, ih, ow, oh, text,
              den), (NULL));
    else
      GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
          ("No network scales %dx%d to %dx%d (needs x%u or more)", iw, ih, ow,
              oh, needed), (NULL));
    ok = FALSE;
  } else if (model_num != 0 && (model_num != num || model_den != den)) {
    /* downstream picked another scale: the embedded model for it */
    GST_INFO_OBJECT (self, "%dx%d -> %dx%d: switching to the x%s model", iw,
        ih, ow, oh, text);
    gst_cfqp_sr_unload (self);
    ok = gst_cfqp_sr_load (self, num, den);
  }

  nw = num ? (gint) ((gint64) iw * num / den) : 0;
  nh = num ? (gint) ((gint64) ih * num / den) : 0;
  if (!ok)
    resample_info = NULL;
  else if (ow == nw && oh == nh)
    resample_info = g_strdup_printf ("network x%s %dx%d -> %dx%d, no "
        "resampling", text, iw, ih, ow, oh);
  else
    resample_info = g_strdup_printf ("network x%s %dx%d -> %dx%d, then "
        "resampled to %dx%d (x%.4g x x%.4g of the network output; "
        "Catmull-Rom, antialiased when it reduces, 14-bit fixed point, a "
        "separate pass on the CPU)", text, iw, ih, nw, nh, ow, oh,
        (gdouble) ow / nw, (gdouble) oh / nh);
  g_free (text);
  GST_OBJECT_LOCK (self);
  g_free (self->resample_info);
  self->resample_info = resample_info;
  GST_OBJECT_UNLOCK (self);

  /* the frames the network reads and writes */
  gst_cfqp_sr_clear_frames (self);
  if (ok)
    ok = gst_cfqp_sr_setup_frames (self, in_info, out_info, n_threads);
  g_mutex_unlock (&self->runner_lock);
  return ok;
}


static GstFlowReturn
gst_cfqp_sr_transform_frame (GstVideoFilter * filter, GstVideoFrame * in_frame,
    GstVideoFrame * out_frame)
{
  GstCfqpSr *self = GST_CFQP_SR (filter);
  GstFlowReturn ret = GST_FLOW_OK;
  GError *err = NULL;

  g_mutex_lock (&self->runner_lock);
  if (G_UNLIKELY (self->runner == NULL)) {
    g_mutex_unlock (&self->runner_lock);
    return GST_FLOW_NOT_NEGOTIATED;
  }
  gst_cfqp_sr_frame_boundary (self);

  if (!gst_cfqp_sr_run (self, in_frame, out_frame, &err)) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED,
        ("Super-resolution of a %dx%d frame failed: %s",
            GST_VIDEO_FRAME_WIDTH (in_frame), GST_VIDEO_FRAME_HEIGHT (in_frame),
            err ? err->message : "cannot map frame"), (NULL));
    g_clear_error (&err);
    ret = GST_FLOW_ERROR;
  } else {
    gst_cfqp_sr_self_sample (self, in_frame);
  }
  self->frame_count++;
  g_mutex_unlock (&self->runner_lock);
  return ret;
}
