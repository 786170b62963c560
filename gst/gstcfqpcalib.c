/* cfqp — cfqpcalib: calibration sink.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:element-cfqpcalib
 * @title: cfqpcalib
 *
 * Calibrates the INT8 quantization of the super-resolution network that
 * #cfqpsr runs, from the frames of a stream, with the clip-free
 * quantization pipeline (CFQP).  It chooses its model as #cfqpsr does:
 * #GstCfqpCalib:model-file, or the default model embedded for
 * #GstCfqpCalib:scale-factor; a model that cannot be loaded fails the
 * READY→PAUSED state change with an element error naming the file.  With
 * #GstCfqpCalib:calibration-name set and no model-file it calibrates the
 * model (and clip-free mode) the #cfqpsr of that name runs, as soon as
 * that element has loaded it.
 *
 * Every #GstCfqpCalib:sample-interval-th frame is copied into a small
 * bounded queue (render() does nothing else); a worker thread converts it
 * to RGB, offers it to a scene-change-aware reservoir (the representative
 * dataset, RD, at most #GstCfqpCalib:max-samples frames) and, every
 * #GstCfqpCalib:update-interval frames kept and at EOS, runs the FP32 model
 * over the RD and its CFQP augmentations (#GstCfqpCalib:augmentation),
 * feeds the observers (#GstCfqpCalib:observer) and publishes the
 * calibration: written atomically to #GstCfqpCalib:location and handed to
 * every #cfqpsr of the same #GstCfqpCalib:calibration-name in the process.
 * With a live upstream a frame that finds the queue full is dropped, so the
 * stream is never stalled; with a non-live upstream (a folder of images)
 * render() waits for room instead, so no frame is lost.
 *
 * Element messages: `cfqpcalib-progress` after each sampled frame
 * (`frames` guint64 seen up to that sample, `samples` guint taken, `rd-size` guint frames in
 * the RD, `dropped` guint64, `published` guint), `cfqpcalib-published`
 * (`location` string or NULL, `n-samples` guint, `model-hash` string,
 * `calibration-name` string or NULL, `export-qdq` string or NULL, and
 * `int8-psnr` gdouble with `int8-psnr-held-out` gboolean: what INT8 with
 * this calibration costs against FP32, PSNR(INT8, FP32) in dB on the RD's
 * frames, each judged by a calibration made without it; absent with
 * #GstCfqpCalib:activation-grids tensor, which skips that check) and at EOS, once the worker is done
 * and the last calibration is published, `cfqpcalib-done` (`n-samples`,
 * `published`, `final-published`, `timed-out`); EOS then goes on.  How long
 * EOS waits for the calibrations still being computed is bounded by
 * #GstCfqpCalib:eos-timeout (by default 2 s with a live upstream).  A location that cannot be written is an
 * element WARNING: the rest of the pipeline is not disturbed.
 *
 * With #GstCfqpCalib:export-qdq set, every publication also writes the
 * calibrated model as QDQ ONNX (QuantizeLinear/DequantizeLinear pairs, the
 * INT8 program's own integers) for other runtimes; a failure to write it is
 * a warning too.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 -m multifilesrc location=rd/%04d.png caps=image/png,framerate=1/1 ! pngdec ! videoconvert ! cfqpcalib model-file=m.onnx location=m.calib.json
 * ]| Calibrates a model from a folder of images.
 * |[
 * gst-launch-1.0 v4l2src ! videoconvert ! tee name=t \
 *    t. ! queue ! cfqpsr calibration-name=cam ! videoconvert ! autovideosink \
 *    t. ! queue leaky=downstream max-size-buffers=2 ! cfqpcalib calibration-name=cam location=cam.json
 * ]| Calibrates live from a camera; the upscaler switches to each new calibration.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/video/video.h>

#include "gstcfqpcalib.h"
#include "gstcfqpenums.h"
#include "gstcfqputils.h"
#include "cfqp-calibworker.h"

GST_DEBUG_CATEGORY_STATIC (gst_cfqp_calib_debug);
#define GST_CAT_DEFAULT gst_cfqp_calib_debug

#define DEFAULT_PROP_MODEL_FILE NULL
#define DEFAULT_PROP_SCALE_FACTOR 3
#define DEFAULT_PROP_LOCATION NULL
#define DEFAULT_PROP_MAX_SAMPLES 64
#define DEFAULT_PROP_SAMPLE_INTERVAL 1
#define DEFAULT_PROP_UPDATE_INTERVAL 16
#define DEFAULT_PROP_AUGMENTATION GST_CFQP_AUGMENTATION_FULL
#define DEFAULT_PROP_OBSERVER GST_CFQP_OBSERVER_MSE
#define DEFAULT_PROP_WEIGHT_ROUNDING GST_CFQP_WEIGHT_ROUNDING_GPTQ
#define DEFAULT_PROP_RESIDUAL_GRID GST_CFQP_RESIDUAL_GRID_PIXEL
#define DEFAULT_PROP_ACTIVATION_GRIDS GST_CFQP_ACTIVATION_GRIDS_CHANNEL
#define DEFAULT_PROP_CALIBRATION_NAME NULL
#define DEFAULT_PROP_CLIP_FREE TRUE
#define DEFAULT_PROP_EXPORT_QDQ NULL
#define DEFAULT_PROP_EXPORT_QDQ_PRECISION GST_CFQP_QDQ_PRECISION_INT8
#define DEFAULT_PROP_EOS_TIMEOUT -1
#define LIVE_EOS_TIMEOUT_MS 2000
#define MAX_SAMPLES 4096
#define QUEUE_LENGTH 2

enum
{
  PROP_0,
  PROP_MODEL_FILE,
  PROP_SCALE_FACTOR,
  PROP_LOCATION,
  PROP_MAX_SAMPLES,
  PROP_SAMPLE_INTERVAL,
  PROP_UPDATE_INTERVAL,
  PROP_AUGMENTATION,
  PROP_OBSERVER,
  PROP_WEIGHT_ROUNDING,
  PROP_RESIDUAL_GRID,
  PROP_ACTIVATION_GRIDS,
  PROP_CALIBRATION_NAME,
  PROP_CLIP_FREE,
  PROP_EXPORT_QDQ,
  PROP_EXPORT_QDQ_PRECISION,
  PROP_EOS_TIMEOUT,
};

struct _GstCfqpCalib
{
  GstBaseSink parent;

  /* properties, under the object lock */
  gchar *model_file;
  guint scale_factor;
  gchar *location;
  guint max_samples;
  guint sample_interval;
  guint update_interval;
  GstCfqpAugmentation augmentation;
  GstCfqpObserver observer;
  GstCfqpWeightRounding weight_rounding;
  GstCfqpResidualGrid residual_grid;
  GstCfqpActivationGrids activation_grids;
  gchar *calibration_name;
  gboolean clip_free;
  gboolean clip_free_set;       /* clip-free set by the application */
  gchar *export_qdq;
  GstCfqpQdqPrecision export_qdq_precision;
  gint eos_timeout;

  /* between start and stop */
  CfqpModel *model;
  GstVideoInfo info;
  guint64 frames;               /* streaming thread */
  gint live;                    /* -1: not asked yet */

  /* the queue of CalibItem and the thread (calib/cfqp-calibworker.c),
   * from init to finalize; its thread runs from start to stop */
  CfqpCalibWorker *worker;

  /* pairing (worker): follow the model of the cfqpsr of pair_name */
  gchar *pair_name;
  gboolean follow_pair, pair_warned;

  /* worker (or streaming thread once the worker is idle at EOS) */
  CfqpCalibrator *calibrator;
  guint taken, kept_since_publish, published;
  gchar *failed_location, *failed_qdq;  /* paths whose error was posted */
};

typedef struct
{
  GstBuffer *buffer;
  GstVideoInfo info;
  guint64 frame;                /* index in the stream */
} CalibItem;

#define gst_cfqp_calib_parent_class parent_class
G_DEFINE_TYPE (GstCfqpCalib, gst_cfqp_calib, GST_TYPE_BASE_SINK);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (cfqpcalib, "cfqpcalib", GST_RANK_NONE,
    GST_TYPE_CFQP_CALIB,
    GST_DEBUG_CATEGORY_INIT (gst_cfqp_calib_debug, "cfqpcalib", 0,
        "cfqp calibration sink"));

/* interlace-mode is checked in set_caps: basesink's accept-caps is a subset
 * test, which caps without the field (progressive) would fail */
static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (GST_CFQP_ALL_FORMATS)));

static void gst_cfqp_calib_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_cfqp_calib_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static void gst_cfqp_calib_finalize (GObject * object);
static gboolean gst_cfqp_calib_start (GstBaseSink * sink);
static gboolean gst_cfqp_calib_stop (GstBaseSink * sink);
static gboolean gst_cfqp_calib_set_caps (GstBaseSink * sink, GstCaps * caps);
static gboolean gst_cfqp_calib_event (GstBaseSink * sink, GstEvent * event);
static gboolean gst_cfqp_calib_unlock (GstBaseSink * sink);
static gboolean gst_cfqp_calib_unlock_stop (GstBaseSink * sink);
static GstFlowReturn gst_cfqp_calib_render (GstBaseSink * sink,
    GstBuffer * buffer);
static GstStateChangeReturn gst_cfqp_calib_change_state (GstElement * element,
    GstStateChange transition);
static void gst_cfqp_calib_follow_pair (GstCfqpCalib * self);
static void gst_cfqp_calib_process (gpointer data, GCancellable * cancel,
    gpointer user_data);
static gboolean gst_cfqp_calib_finish (GCancellable * cancel,
    gpointer user_data);
static void calib_item_free (gpointer data);

static void
gst_cfqp_calib_class_init (GstCfqpCalibClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSinkClass *sink_class = GST_BASE_SINK_CLASS (klass);

  gobject_class->set_property = gst_cfqp_calib_set_property;
  gobject_class->get_property = gst_cfqp_calib_get_property;
  gobject_class->finalize = gst_cfqp_calib_finalize;

  /**
   * GstCfqpCalib:model-file:
   *
   * ONNX model to calibrate (a regular file).  Unset: the model of the
   * #cfqpsr paired by #GstCfqpCalib:calibration-name, else the default
   * model embedded for #GstCfqpCalib:scale-factor.
   */
  g_object_class_install_property (gobject_class, PROP_MODEL_FILE,
      g_param_spec_string ("model-file", "Model file",
          "ONNX model to calibrate (NULL: the paired cfqpsr's model, else the "
          "embedded default model for scale-factor)", DEFAULT_PROP_MODEL_FILE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstCfqpCalib:scale-factor:
   *
   * Selects the embedded default model when no model-file is set.
   */
  g_object_class_install_property (gobject_class, PROP_SCALE_FACTOR,
      g_param_spec_uint ("scale-factor", "Scale factor",
          "Scale of the embedded default model to calibrate",
          GST_CFQP_MIN_SCALE, GST_CFQP_MAX_SCALE, DEFAULT_PROP_SCALE_FACTOR,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstCfqpCalib:location:
   *
   * Calibration file (JSON) written atomically at every publication.
   * NULL: none written (pairing through calibration-name only).
   */
  g_object_class_install_property (gobject_class, PROP_LOCATION,
      g_param_spec_string ("location", "Location",
          "Calibration file written (atomically) at every publication "
          "(NULL: none)", DEFAULT_PROP_LOCATION,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstCfqpCalib:max-samples:
   *
   * Frames the representative dataset holds at most; once full, distinct
   * frames replace samples by reservoir sampling.
   */
  g_object_class_install_property (gobject_class, PROP_MAX_SAMPLES,
      g_param_spec_uint ("max-samples", "Maximum samples",
          "Frames the representative dataset holds at most", 1, MAX_SAMPLES,
          DEFAULT_PROP_MAX_SAMPLES,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstCfqpCalib:sample-interval:
   *
   * One frame in this many is sampled (1: every frame).
   */
  g_object_class_install_property (gobject_class, PROP_SAMPLE_INTERVAL,
      g_param_spec_uint ("sample-interval", "Sample interval",
          "One frame in this many is sampled (1: every frame)", 1, G_MAXUINT,
          DEFAULT_PROP_SAMPLE_INTERVAL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstCfqpCalib:update-interval:
   *
   * Publish a calibration every this many frames kept in the RD (0: only
   * at EOS).
   */
  g_object_class_install_property (gobject_class, PROP_UPDATE_INTERVAL,
      g_param_spec_uint ("update-interval", "Update interval",
          "Publish every this many frames kept in the RD (0: only at EOS)",
          0, G_MAXUINT, DEFAULT_PROP_UPDATE_INTERVAL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstCfqpCalib:augmentation:
   *
   * CFQP augmentations of the representative dataset, computed from FP32
   * outputs of the model only.
   */
  g_object_class_install_property (gobject_class, PROP_AUGMENTATION,
      g_param_spec_enum ("augmentation", "Augmentation",
          "CFQP augmentation preset of the representative dataset",
          GST_TYPE_CFQP_AUGMENTATION, DEFAULT_PROP_AUGMENTATION,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstCfqpCalib:observer:
   *
   * How each activation's range is chosen from its histogram.
   */
  g_object_class_install_property (gobject_class, PROP_OBSERVER,
      g_param_spec_enum ("observer", "Observer",
          "How each activation's quantization range is chosen",
          GST_TYPE_CFQP_OBSERVER, DEFAULT_PROP_OBSERVER,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstCfqpCalib:weight-rounding:
   *
   * How the conv weights are rounded to int8.  With gptq (the default) the
   * calibration carries each conv's taps, rounded so that its output error
   * on the sampled frames (and their CFQP augmentations) is least; a cfqpsr
   * that applies the calibration uses them.  A calibration then takes a
   * little longer and its file is larger (docs/cfqp.md, "GPTQ in cfqpcalib").
   */
  g_object_class_install_property (gobject_class, PROP_WEIGHT_ROUNDING,
      g_param_spec_enum ("weight-rounding", "Weight rounding",
          "How the conv weights are rounded to int8",
          GST_TYPE_CFQP_WEIGHT_ROUNDING, DEFAULT_PROP_WEIGHT_ROUNDING,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstCfqpCalib:residual-grid:
   *
   * The grid of a residual that the network adds onto its input pixels just
   * before the output, as the anchored networks (ABPN, QuickSRNet) do.  On
   * the pixel step (pixel, the default; where the observer's grid is finer)
   * the INT8 sum onto the pixels is exact, so the residual is rounded once,
   * as the FP32 network rounds the sum; on the observer's grid (calibrated)
   * it is rounded twice.  Other tensors, and networks without such a
   * residual, are not affected (docs/cfqp.md, "Residuals on the pixel step").
   */
  g_object_class_install_property (gobject_class, PROP_RESIDUAL_GRID,
      g_param_spec_enum ("residual-grid", "Residual grid",
          "Grid of a residual added onto the input pixels before the output",
          GST_TYPE_CFQP_RESIDUAL_GRID, DEFAULT_PROP_RESIDUAL_GRID,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstCfqpCalib:activation-grids:
   *
   * How many grids an activation between convs gets.  With one per channel
   * (channel, the default) each channel of a tensor that a conv computes and
   * only convs read gets a step fit to its own range, the INT8 program
   * folding the steps into the convs around it; a narrow channel is then no
   * longer rounded on a grid sized for the widest.  Three calibrations
   * are tried (steps from the square root of each channel's range ratio,
   * from the ratio itself, and one grid per tensor), each judged by a
   * two-fold cross-check on the samples (calibrated on half of them, scored
   * against FP32 on the other half), and the winner is calibrated on all
   * of them: about 3.7 times the time of one grid per tensor.  Other
   * tensors keep one grid (docs/cfqp.md, "Channel steps").
   */
  g_object_class_install_property (gobject_class, PROP_ACTIVATION_GRIDS,
      g_param_spec_enum ("activation-grids", "Activation grids",
          "One grid per tensor, or per channel for activations between convs",
          GST_TYPE_CFQP_ACTIVATION_GRIDS, DEFAULT_PROP_ACTIVATION_GRIDS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstCfqpCalib:calibration-name:
   *
   * Publishes every calibration to the #cfqpsr elements of this process
   * with the same calibration-name.
   */
  g_object_class_install_property (gobject_class, PROP_CALIBRATION_NAME,
      g_param_spec_string ("calibration-name", "Calibration name",
          "Publish to the cfqpsr elements with this calibration-name (NULL: "
          "none)", DEFAULT_PROP_CALIBRATION_NAME,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstCfqpCalib:clip-free:
   *
   * Calibrate the model with its clipped activations removed; must match
   * the #cfqpsr that uses the calibration.  Left unset, a paired #cfqpsr's
   * mode is followed.
   */
  g_object_class_install_property (gobject_class, PROP_CLIP_FREE,
      g_param_spec_boolean ("clip-free", "Clip-free",
          "Calibrate the clip-free model (must match cfqpsr clip-free)",
          DEFAULT_PROP_CLIP_FREE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstCfqpCalib:export-qdq:
   *
   * QDQ ONNX file written (atomically) at every publication: the
   * calibrated (clip-free, if so) model with its quantization as
   * QuantizeLinear/DequantizeLinear pairs.  NULL: none.
   */
  g_object_class_install_property (gobject_class, PROP_EXPORT_QDQ,
      g_param_spec_string ("export-qdq", "Export QDQ",
          "QDQ ONNX model written at every publication (NULL: none)",
          DEFAULT_PROP_EXPORT_QDQ,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstCfqpCalib:export-qdq-precision:
   *
   * The arithmetic #GstCfqpCalib:export-qdq is written for: int8 (uint8
   * activations, int8 weights, opset 13), or int16 (the same calibration
   * as cfqpsr precision=int16 runs it: uint16 activations, int16 weights,
   * opset 21), for runtimes and accelerators with 16-bit activations.
   */
  g_object_class_install_property (gobject_class, PROP_EXPORT_QDQ_PRECISION,
      g_param_spec_enum ("export-qdq-precision", "Export QDQ precision",
          "Arithmetic of the export-qdq model (int16: uint16 activations and "
          "int16 weights, opset 21)", GST_TYPE_CFQP_QDQ_PRECISION,
          DEFAULT_PROP_EXPORT_QDQ_PRECISION,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstCfqpCalib:eos-timeout:
   *
   * How long EOS may wait, in milliseconds, for the worker to finish: the
   * frames still queued, a calibration being computed and the final one.
   * Past it the computation is cancelled, the last calibration published
   * stays, and `cfqpcalib-done` says `timed-out`.  -1: no limit for a
   * non-live upstream (files: the final calibration always comes), 2000 ms
   * for a live one; 0: do not wait.
   */
  g_object_class_install_property (gobject_class, PROP_EOS_TIMEOUT,
      g_param_spec_int ("eos-timeout", "EOS timeout",
          "Milliseconds EOS waits for the running and final calibrations "
          "before cancelling them (-1: unlimited if upstream is not live, "
          "2000 if live; 0: no wait)", -1, G_MAXINT, DEFAULT_PROP_EOS_TIMEOUT,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  gst_element_class_set_static_metadata (element_class,
      "CFQP calibration sink", "Sink/Video",
      "Calibrates an INT8 super-resolution network from video frames (CFQP)",
      "cfqp developers");
  gst_element_class_add_static_pad_template (element_class, &sink_template);

  element_class->change_state = GST_DEBUG_FUNCPTR (gst_cfqp_calib_change_state);
  sink_class->start = GST_DEBUG_FUNCPTR (gst_cfqp_calib_start);
  sink_class->stop = GST_DEBUG_FUNCPTR (gst_cfqp_calib_stop);
  sink_class->set_caps = GST_DEBUG_FUNCPTR (gst_cfqp_calib_set_caps);
  sink_class->event = GST_DEBUG_FUNCPTR (gst_cfqp_calib_event);
  sink_class->unlock = GST_DEBUG_FUNCPTR (gst_cfqp_calib_unlock);
  sink_class->unlock_stop = GST_DEBUG_FUNCPTR (gst_cfqp_calib_unlock_stop);
  sink_class->render = GST_DEBUG_FUNCPTR (gst_cfqp_calib_render);

  gst_type_mark_as_plugin_api (GST_TYPE_CFQP_AUGMENTATION, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_CFQP_OBSERVER, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_CFQP_WEIGHT_ROUNDING, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_CFQP_RESIDUAL_GRID, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_CFQP_ACTIVATION_GRIDS, 0);
}

static void
gst_cfqp_calib_init (GstCfqpCalib * self)
{
  self->model_file = g_strdup (DEFAULT_PROP_MODEL_FILE);
  self->scale_factor = DEFAULT_PROP_SCALE_FACTOR;
  self->location = g_strdup (DEFAULT_PROP_LOCATION);
  self->max_samples = DEFAULT_PROP_MAX_SAMPLES;
  self->sample_interval = DEFAULT_PROP_SAMPLE_INTERVAL;
  self->update_interval = DEFAULT_PROP_UPDATE_INTERVAL;
  self->augmentation = DEFAULT_PROP_AUGMENTATION;
  self->observer = DEFAULT_PROP_OBSERVER;
  self->weight_rounding = DEFAULT_PROP_WEIGHT_ROUNDING;
  self->residual_grid = DEFAULT_PROP_RESIDUAL_GRID;
  self->activation_grids = DEFAULT_PROP_ACTIVATION_GRIDS;
  self->calibration_name = g_strdup (DEFAULT_PROP_CALIBRATION_NAME);
  self->clip_free = DEFAULT_PROP_CLIP_FREE;
  self->export_qdq = g_strdup (DEFAULT_PROP_EXPORT_QDQ);
  self->export_qdq_precision = DEFAULT_PROP_EXPORT_QDQ_PRECISION;
  self->eos_timeout = DEFAULT_PROP_EOS_TIMEOUT;
  gst_video_info_init (&self->info);
  self->worker = cfqp_calib_worker_new ("cfqpcalib", QUEUE_LENGTH,
      gst_cfqp_calib_process, gst_cfqp_calib_finish, calib_item_free, self);

  /* a processing sink, not a display: frames are consumed as they come,
   * and no upstream buffer is held back as "last sample" */
  gst_base_sink_set_sync (GST_BASE_SINK (self), FALSE);
  gst_base_sink_set_last_sample_enabled (GST_BASE_SINK (self), FALSE);
}

static void
calib_item_free (gpointer data)
{
  CalibItem *item = data;

  gst_buffer_unref (item->buffer);
  g_free (item);
}

static void
gst_cfqp_calib_finalize (GObject * object)
{
  GstCfqpCalib *self = GST_CFQP_CALIB (object);

  cfqp_calib_worker_free (self->worker);
  g_clear_pointer (&self->calibrator, cfqp_calibrator_free);
  g_clear_pointer (&self->model, cfqp_model_unref);
  g_free (self->model_file);
  g_free (self->location);
  g_free (self->calibration_name);
  g_free (self->export_qdq);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_cfqp_calib_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstCfqpCalib *self = GST_CFQP_CALIB (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODEL_FILE:
      g_free (self->model_file);
      self->model_file = g_value_dup_string (value);
      break;
    case PROP_SCALE_FACTOR:
      self->scale_factor = g_value_get_uint (value);
      break;
    case PROP_LOCATION:
      g_free (self->location);
      self->location = g_value_dup_string (value);
      break;
    case PROP_MAX_SAMPLES:
      self->max_samples = g_value_get_uint (value);
      break;
    case PROP_SAMPLE_INTERVAL:
      self->sample_interval = g_value_get_uint (value);
      break;
    case PROP_UPDATE_INTERVAL:
      self->update_interval = g_value_get_uint (value);
      break;
    case PROP_AUGMENTATION:
      self->augmentation = g_value_get_enum (value);
      break;
    case PROP_OBSERVER:
      self->observer = g_value_get_enum (value);
      break;
    case PROP_WEIGHT_ROUNDING:
      self->weight_rounding = g_value_get_enum (value);
      break;
    case PROP_RESIDUAL_GRID:
      self->residual_grid = g_value_get_enum (value);
      break;
    case PROP_ACTIVATION_GRIDS:
      self->activation_grids = g_value_get_enum (value);
      break;
    case PROP_CALIBRATION_NAME:
      g_free (self->calibration_name);
      self->calibration_name = g_value_dup_string (value);
      break;
    case PROP_CLIP_FREE:
      self->clip_free = g_value_get_boolean (value);
      self->clip_free_set = TRUE;
      break;
    case PROP_EXPORT_QDQ:
      g_free (self->export_qdq);
      self->export_qdq = g_value_dup_string (value);
      break;
    case PROP_EXPORT_QDQ_PRECISION:
      self->export_qdq_precision = g_value_get_enum (value);
      break;
    case PROP_EOS_TIMEOUT:
      self->eos_timeout = g_value_get_int (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_cfqp_calib_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstCfqpCalib *self = GST_CFQP_CALIB (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODEL_FILE:
      g_value_set_string (value, self->model_file);
      break;
    case PROP_SCALE_FACTOR:
      g_value_set_uint (value, self->scale_factor);
      break;
    case PROP_LOCATION:
      g_value_set_string (value, self->location);
      break;
    case PROP_MAX_SAMPLES:
      g_value_set_uint (value, self->max_samples);
      break;
    case PROP_SAMPLE_INTERVAL:
      g_value_set_uint (value, self->sample_interval);
      break;
    case PROP_UPDATE_INTERVAL:
      g_value_set_uint (value, self->update_interval);
      break;
    case PROP_AUGMENTATION:
      g_value_set_enum (value, self->augmentation);
      break;
    case PROP_OBSERVER:
      g_value_set_enum (value, self->observer);
      break;
    case PROP_WEIGHT_ROUNDING:
      g_value_set_enum (value, self->weight_rounding);
      break;
    case PROP_RESIDUAL_GRID:
      g_value_set_enum (value, self->residual_grid);
      break;
    case PROP_ACTIVATION_GRIDS:
      g_value_set_enum (value, self->activation_grids);
      break;
    case PROP_CALIBRATION_NAME:
      g_value_set_string (value, self->calibration_name);
      break;
    case PROP_CLIP_FREE:
      g_value_set_boolean (value, self->clip_free);
      break;
    case PROP_EXPORT_QDQ:
      g_value_set_string (value, self->export_qdq);
      break;
    case PROP_EXPORT_QDQ_PRECISION:
      g_value_set_enum (value, self->export_qdq_precision);
      break;
    case PROP_EOS_TIMEOUT:
      g_value_set_int (value, self->eos_timeout);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_cfqp_calib_post_progress (GstCfqpCalib * self, guint64 frames)
{
  guint64 dropped;

  dropped = cfqp_calib_worker_get_dropped (self->worker);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self),
          gst_structure_new ("cfqpcalib-progress",
              "frames", G_TYPE_UINT64, frames,
              "samples", G_TYPE_UINT, self->taken,
              "rd-size", G_TYPE_UINT,
              cfqp_reservoir_get_n_samples (cfqp_calibrator_get_reservoir
                  (self->calibrator)),
              "dropped", G_TYPE_UINT64, dropped,
              "published", G_TYPE_UINT, self->published, NULL)));
}

/* Computes a calibration from the RD and publishes it (worker, or the
 * streaming thread at EOS once the worker is idle). */
/* A file that cannot be written (err set) is an element error, posted once
 * per path until a write to it succeeds (err NULL).  The stream is not
 * stopped: frames are still taken and calibrations still reach paired
 * cfqpsr elements, so an application may ignore the error and go on. */
static void
gst_cfqp_calib_note_write (GstCfqpCalib * self, gchar ** failed,
    const gchar * path, const gchar * what, const GError * err)
{
  if (err == NULL) {
    g_clear_pointer (failed, g_free);
  } else if (g_strcmp0 (*failed, path) != 0) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE,
        ("Could not write %s \"%s\": %s", what, path, err->message),
        ("calibrating and publishing to paired elements go on"));
    g_free (*failed);
    *failed = g_strdup (path);
  } else {
    GST_DEBUG_OBJECT (self, "still cannot write %s: %s", path, err->message);
  }
}

static gboolean
gst_cfqp_calib_publish (GstCfqpCalib * self, GCancellable * cancel)
{
  CfqpCalibration *calib;
  gchar *location, *name, *qdq;
  CfqpPrecision qdq_precision;
  GError *err = NULL;
  GstStructure *published;

  gst_cfqp_calib_follow_pair (self);
  if (cfqp_reservoir_get_n_samples (cfqp_calibrator_get_reservoir
          (self->calibrator)) == 0)
    return FALSE;
  calib = cfqp_calibrator_compute (self->calibrator, cancel, &err);
  if (calib == NULL) {
    if (!g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      GST_ELEMENT_WARNING (self, LIBRARY, FAILED,
          ("Calibration failed: %s", err->message), (NULL));
    g_clear_error (&err);
    return FALSE;
  }
  self->kept_since_publish = 0;

  GST_OBJECT_LOCK (self);
  location = g_strdup (self->location);
  name = g_strdup (self->calibration_name);
  qdq = g_strdup (self->export_qdq);
  qdq_precision = self->export_qdq_precision == GST_CFQP_QDQ_PRECISION_INT16 ?
      CFQP_PRECISION_INT16 : CFQP_PRECISION_INT8;
  GST_OBJECT_UNLOCK (self);

  if (location != NULL) {
    gboolean ok = cfqp_calibration_save (calib, location, &err);
    gst_cfqp_calib_note_write (self, &self->failed_location, location,
        "calibration", err);
    g_clear_error (&err);
    if (!ok)
      g_clear_pointer (&location, g_free);
  }
  if (qdq != NULL) {
    CfqpModel *model = cfqp_calibrator_get_model (self->calibrator);
    CfqpQParams *qp = cfqp_calibration_to_qparams (calib, model, &err);
    CfqpQuantisation q = cfqp_calibration_get_quantisation (calib, qp);
    gboolean ok = qp != NULL &&
        cfqp_model_export_qdq_precision (model, &q, qdq_precision, qdq, &err);

    gst_cfqp_calib_note_write (self, &self->failed_qdq, qdq, "QDQ model", err);
    g_clear_error (&err);
    if (!ok)
      g_clear_pointer (&qdq, g_free);
    g_free (qp);
  }
  if (name != NULL)
    gst_cfqp_registry_publish (name, calib);
  self->published++;

  GST_INFO_OBJECT (self, "published calibration %u (%u samples) to %s / %s",
      self->published, cfqp_calibration_get_n_samples (calib),
      GST_STR_NULL (location), GST_STR_NULL (name));
  published = gst_structure_new ("cfqpcalib-published",
      "location", G_TYPE_STRING, location,
      "n-samples", G_TYPE_UINT, cfqp_calibration_get_n_samples (calib),
      "model-hash", G_TYPE_STRING, cfqp_calibration_get_model_hash (calib),
      "calibration-name", G_TYPE_STRING, name,
      "export-qdq", G_TYPE_STRING, qdq, NULL);
  gst_cfqp_structure_set_fidelity (published, calib);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), published));
  cfqp_calibration_unref (calib);
  g_free (qdq);
  g_free (location);
  g_free (name);
  return TRUE;
}

/* Worker: with calibration-name set, calibrate the model (and clip-free
 * mode) the cfqpsr of that name runs, whatever it negotiated: with no
 * model-file, follow it (the reservoir stays); with a model-file that
 * differs, warn once that its calibrations will be refused. */
static void
gst_cfqp_calib_follow_pair (GstCfqpCalib * self)
{
  CfqpModel *paired, *current;
  gboolean paired_cf, mode, cur_mode;

  if (self->pair_name == NULL)
    return;
  paired = gst_cfqp_registry_get_model (self->pair_name, &paired_cf);
  if (paired == NULL)
    return;
  current = cfqp_calibrator_get_source_model (self->calibrator);
  cur_mode = cfqp_calibrator_get_settings (self->calibrator)->clip_free;
  GST_OBJECT_LOCK (self);
  mode = self->clip_free_set ? self->clip_free : paired_cf;
  GST_OBJECT_UNLOCK (self);

  if (self->follow_pair && (mode != cur_mode ||
          g_strcmp0 (cfqp_model_get_hash (paired),
              cfqp_model_get_hash (current)) != 0)) {
    GST_INFO_OBJECT (self, "following the cfqpsr of calibration-name \"%s\": "
        "calibrating %s (%s, clip-free %d) instead of %s",
        self->pair_name, cfqp_model_get_name (paired),
        cfqp_model_get_hash (paired), mode, cfqp_model_get_name (current));
    cfqp_calibrator_set_model (self->calibrator, paired, mode);
    current = paired;
    cur_mode = mode;
  }
  if (!self->pair_warned && (cur_mode != paired_cf ||
          g_strcmp0 (cfqp_model_get_hash (paired),
              cfqp_model_get_hash (current)) != 0)) {
    self->pair_warned = TRUE;
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
        ("The cfqpsr with calibration-name \"%s\" runs %s (clip-free %s) "
            "and this element calibrates %s (clip-free %s): it will refuse "
            "these calibrations; unset model-file and clip-free here to "
            "calibrate what it runs", self->pair_name,
            cfqp_model_get_name (paired), paired_cf ? "true" : "false",
            cfqp_model_get_name (current), cur_mode ? "true" : "false"),
        (NULL));
  }
  cfqp_model_unref (paired);
}

/* Worker: one frame into the RD; a calibration every update-interval kept
 * frames. */
static void
gst_cfqp_calib_process (gpointer data, GCancellable * cancel,
    gpointer user_data)
{
  GstCfqpCalib *self = GST_CFQP_CALIB (user_data);
  CalibItem *item = data;
  GstVideoFrame frame;
  CfqpImage *img;
  gboolean kept;
  guint update;

  gst_cfqp_calib_follow_pair (self);
  if (!gst_video_frame_map (&frame, &item->info, item->buffer, GST_MAP_READ))
    return;
  img = gst_cfqp_frame_to_image (&frame, cfqp_model_get_channels
      (cfqp_calibrator_get_source_model (self->calibrator)));
  gst_video_frame_unmap (&frame);
  kept = cfqp_calibrator_add_frame (self->calibrator, img->data, img->width,
      img->height);
  cfqp_image_free (img);
  self->taken++;
  if (kept)
    self->kept_since_publish++;
  gst_cfqp_calib_post_progress (self, item->frame + 1);

  GST_OBJECT_LOCK (self);
  update = self->update_interval;
  GST_OBJECT_UNLOCK (self);
  if (update > 0 && self->kept_since_publish >= update)
    gst_cfqp_calib_publish (self, cancel);
}

/* Worker, at EOS once every queued frame is in: the last calibration. */
static gboolean
gst_cfqp_calib_finish (GCancellable * cancel, gpointer user_data)
{
  GstCfqpCalib *self = GST_CFQP_CALIB (user_data);

  if (self->kept_since_publish > 0 || self->published == 0)
    return gst_cfqp_calib_publish (self, cancel);
  return FALSE;
}

static gboolean
gst_cfqp_calib_start (GstBaseSink * sink)
{
  GstCfqpCalib *self = GST_CFQP_CALIB (sink);
  gchar *model_file, *source = NULL;
  CfqpCalibSettings settings;
  guint scale_factor;
  GError *err = NULL;

  cfqp_calib_settings_init (&settings);
  GST_OBJECT_LOCK (self);
  model_file = g_strdup (self->model_file);
  scale_factor = self->scale_factor;
  settings.max_samples = self->max_samples;
  settings.augment = cfqp_augment_preset_get_flags ((CfqpAugmentPreset)
      self->augmentation);
  settings.observer = (CfqpObserverKind) self->observer;
  settings.weight_rounding = (CfqpWeightRounding) self->weight_rounding;
  settings.residual_grid = (CfqpResidualGrid) self->residual_grid;
  settings.activation_grids = (CfqpActivationGrids) self->activation_grids;
  settings.clip_free = self->clip_free;
  g_free (self->pair_name);
  self->pair_name = g_strdup (self->calibration_name);
  self->follow_pair = self->pair_name != NULL &&
      (model_file == NULL || model_file[0] == '\0');
  self->pair_warned = FALSE;
  GST_OBJECT_UNLOCK (self);

  /* paired with no model-file: the model the cfqpsr runs, if it runs yet
   * (else the worker switches to it as soon as it does) */
  if (self->follow_pair) {
    gboolean paired_cf;

    self->model = gst_cfqp_registry_get_model (self->pair_name, &paired_cf);
    if (self->model != NULL) {
      source = g_strdup_printf ("%s (the model of the cfqpsr with "
          "calibration-name \"%s\")", cfqp_model_get_name (self->model),
          self->pair_name);
      GST_OBJECT_LOCK (self);
      if (!self->clip_free_set)
        settings.clip_free = paired_cf;
      GST_OBJECT_UNLOCK (self);
    }
  }
  if (self->model == NULL)
    self->model = gst_cfqp_load_model (model_file, scale_factor, 1, &source,
        &err);
  if (self->model == NULL) {
    gst_cfqp_post_model_error (GST_ELEMENT (self), source, err);
    g_clear_error (&err);
    g_free (source);
    g_free (model_file);
    return FALSE;
  }
  if (!cfqp_calib_settings_validate (&settings, &err)) {
    GST_ELEMENT_ERROR (self, LIBRARY, SETTINGS,
        ("Invalid calibration settings: %s", err->message), (NULL));
    g_clear_error (&err);
    g_clear_pointer (&self->model, cfqp_model_unref);
    g_free (source);
    g_free (model_file);
    return FALSE;
  }
  GST_INFO_OBJECT (self, "calibrating %s (%s)", source,
      cfqp_model_get_hash (self->model));

  self->calibrator = cfqp_calibrator_new (self->model, &settings);
  self->frames = 0;
  self->taken = self->kept_since_publish = self->published = 0;
  self->live = -1;
  cfqp_calib_worker_start (self->worker);
  g_free (source);
  g_free (model_file);
  return TRUE;
}

static gboolean
gst_cfqp_calib_stop (GstBaseSink * sink)
{
  GstCfqpCalib *self = GST_CFQP_CALIB (sink);

  cfqp_calib_worker_stop (self->worker);
  g_clear_pointer (&self->calibrator, cfqp_calibrator_free);
  g_clear_pointer (&self->model, cfqp_model_unref);
  g_clear_pointer (&self->failed_location, g_free);
  g_clear_pointer (&self->failed_qdq, g_free);
  g_clear_pointer (&self->pair_name, g_free);
  return TRUE;
}

static gboolean
gst_cfqp_calib_set_caps (GstBaseSink * sink, GstCaps * caps)
{
  GstCfqpCalib *self = GST_CFQP_CALIB (sink);

  if (!gst_video_info_from_caps (&self->info, caps)) {
    GST_ERROR_OBJECT (self, "invalid caps %" GST_PTR_FORMAT, caps);
    return FALSE;
  }
  if (GST_VIDEO_INFO_IS_INTERLACED (&self->info)) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
        ("Interlaced video (interlace-mode=%s) is not supported: the network "
            "would see both fields as one picture; put deinterlace before",
            gst_video_interlace_mode_to_string
            (GST_VIDEO_INFO_INTERLACE_MODE (&self->info))), (NULL));
    return FALSE;
  }
  return TRUE;
}

static gboolean
gst_cfqp_calib_event (GstBaseSink * sink, GstEvent * event)
{
  GstCfqpCalib *self = GST_CFQP_CALIB (sink);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_EOS:{
      gboolean published, timed_out = FALSE;
      gint timeout;

      GST_OBJECT_LOCK (self);
      timeout = self->eos_timeout;
      GST_OBJECT_UNLOCK (self);
      if (timeout < 0) {
        if (self->live < 0) {
          gboolean live = FALSE, upstream_live = FALSE;

          gst_base_sink_query_latency (sink, &live, &upstream_live, NULL,
              NULL);
          self->live = upstream_live;
        }
        timeout = self->live ? LIVE_EOS_TIMEOUT_MS : -1;
      }

      /* every queued frame in, a last calibration out (by the worker),
       * then EOS; past the deadline the worker's computation is
       * cancelled and the frames not yet offered are dropped */
      published = cfqp_calib_worker_finish (self->worker, timeout, &timed_out);
      if (timed_out) {
        GST_ELEMENT_INFO (self, RESOURCE, BUSY,
            ("EOS: the calibration being computed did not finish within "
                "eos-timeout (%d ms): cancelled; %u calibration(s) were "
                "published before", timeout, self->published),
            ("a larger eos-timeout (2147483647: no limit) waits for it"));
      }
      gst_element_post_message (GST_ELEMENT (self),
          gst_message_new_element (GST_OBJECT (self),
              gst_structure_new ("cfqpcalib-done",
                  "n-samples", G_TYPE_UINT,
                  cfqp_reservoir_get_n_samples (cfqp_calibrator_get_reservoir
                      (self->calibrator)),
                  "published", G_TYPE_UINT, self->published,
                  "final-published", G_TYPE_BOOLEAN, published,
                  "timed-out", G_TYPE_BOOLEAN, timed_out, NULL)));
      break;
    }
    case GST_EVENT_FLUSH_START:
      cfqp_calib_worker_flush (self->worker);
      break;
    default:
      break;
  }
  return GST_BASE_SINK_CLASS (parent_class)->event (sink, event);
}

static GstStateChangeReturn
gst_cfqp_calib_change_state (GstElement * element, GstStateChange transition)
{
  GstCfqpCalib *self = GST_CFQP_CALIB (element);

  /* going down: a calibration being computed (worker, or the streaming
   * thread at EOS) stops at its next image instead of finishing */
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY)
    cfqp_calib_worker_cancel (self->worker);
  return GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
}

static gboolean
gst_cfqp_calib_unlock (GstBaseSink * sink)
{
  GstCfqpCalib *self = GST_CFQP_CALIB (sink);

  cfqp_calib_worker_set_flushing (self->worker, TRUE);
  return TRUE;
}

static gboolean
gst_cfqp_calib_unlock_stop (GstBaseSink * sink)
{
  GstCfqpCalib *self = GST_CFQP_CALIB (sink);

  cfqp_calib_worker_set_flushing (self->worker, FALSE);
  return TRUE;
}

static GstFlowReturn
gst_cfqp_calib_render (GstBaseSink * sink, GstBuffer * buffer)
{
  GstCfqpCalib *self = GST_CFQP_CALIB (sink);
  guint64 frame = self->frames++;
  GstFlowReturn ret = GST_FLOW_OK;
  CalibItem *item;
  guint interval;

  GST_OBJECT_LOCK (self);
  interval = self->sample_interval;
  GST_OBJECT_UNLOCK (self);
  if (frame % interval != 0)
    return GST_FLOW_OK;

  if (self->live < 0) {
    gboolean live = FALSE, upstream_live = FALSE;

    gst_base_sink_query_latency (sink, &live, &upstream_live, NULL, NULL);
    self->live = upstream_live;
    GST_DEBUG_OBJECT (self, "upstream is %slive", upstream_live ? "" : "not ");
  }

  if (self->live) {
    /* never stall a live stream: drop what the worker cannot take */
    if (cfqp_calib_worker_reserve (self->worker, FALSE) ==
        CFQP_CALIB_WORKER_FULL) {
      GST_LOG_OBJECT (self, "queue full: frame %" G_GUINT64_FORMAT " dropped",
          frame);
      return GST_FLOW_OK;
    }
  } else {
    while (cfqp_calib_worker_reserve (self->worker, TRUE) ==
        CFQP_CALIB_WORKER_FLUSHING) {
      /* unlock(): a flush, or PLAYING→PAUSED (or →READY), which waits
       * for the PREROLL_LOCK render() holds.  Wait as a prerolled sink:
       * FLUSHING on a flush or stop, OK once PLAYING again; then wait
       * for room again.  (Returning FLUSHING on a pause would stop
       * upstream for good and the pipeline never reach PAUSED.) */
      ret = gst_base_sink_wait_preroll (sink);
      if (ret != GST_FLOW_OK)
        return ret;
    }
  }

  /* a copy: upstream's buffer (and pool) goes back at once */
  item = g_new0 (CalibItem, 1);
  item->buffer = gst_buffer_copy_deep (buffer);
  item->info = self->info;
  item->frame = frame;

  cfqp_calib_worker_push (self->worker, item);
  return ret;
}
