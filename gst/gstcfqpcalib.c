/* cfqp — cfqpcalib: calibration sink.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:element-cfqpcalib
 * @title: cfqpcalib
 *
 * Samples frames of a video stream to calibrate the INT8 quantization of
 * the super-resolution network that #cfqpsr runs.  It chooses its model as
 * #cfqpsr does: #GstCfqpCalib:model-file, or the default model embedded for
 * #GstCfqpCalib:scale-factor; a model that cannot be loaded fails the
 * READY→PAUSED state change with an element error naming the file.
 *
 * Every #GstCfqpCalib:sample-interval-th frame is taken as a sample, up to
 * #GstCfqpCalib:max-samples, and each sample posts an element message
 * named `cfqpcalib-progress` with the fields `samples` (guint, samples
 * taken), `max-samples` (guint) and `frames` (guint64, frames seen).
 *
 * Not there yet (the calibration issue completes it): the samples are only
 * counted; no representative dataset is built, no observer runs, and
 * nothing is written to #GstCfqpCalib:location.  Scene-change aware
 * sampling, augmentation, publishing to a paired #cfqpsr and QDQ export are
 * missing too.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -m multifilesrc location=rd/%04d.png caps=image/png,framerate=1/1 ! pngdec ! videoconvert ! cfqpcalib scale-factor=3 location=x3.calib.json
 * ]| Samples every image of a folder and prints the progress messages.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/video/video.h>

#include "gstcfqpcalib.h"
#include "gstcfqputils.h"

GST_DEBUG_CATEGORY_STATIC (gst_cfqp_calib_debug);
#define GST_CAT_DEFAULT gst_cfqp_calib_debug

#define DEFAULT_PROP_MODEL_FILE NULL
#define DEFAULT_PROP_SCALE_FACTOR 3
#define DEFAULT_PROP_LOCATION NULL
#define DEFAULT_PROP_MAX_SAMPLES 256
#define DEFAULT_PROP_SAMPLE_INTERVAL 1

enum
{
  PROP_0,
  PROP_MODEL_FILE,
  PROP_SCALE_FACTOR,
  PROP_LOCATION,
  PROP_MAX_SAMPLES,
  PROP_SAMPLE_INTERVAL,
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

  /* between start and stop, streaming thread */
  CfqpModel *model;
  GstVideoInfo info;
  guint64 frames;
  guint samples;
};

#define gst_cfqp_calib_parent_class parent_class
G_DEFINE_TYPE (GstCfqpCalib, gst_cfqp_calib, GST_TYPE_BASE_SINK);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (cfqpcalib, "cfqpcalib", GST_RANK_NONE,
    GST_TYPE_CFQP_CALIB,
    GST_DEBUG_CATEGORY_INIT (gst_cfqp_calib_debug, "cfqpcalib", 0,
        "cfqp calibration sink"));

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (GST_CFQP_VIDEO_CAPS));

static void gst_cfqp_calib_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_cfqp_calib_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static void gst_cfqp_calib_finalize (GObject * object);
static gboolean gst_cfqp_calib_start (GstBaseSink * sink);
static gboolean gst_cfqp_calib_stop (GstBaseSink * sink);
static gboolean gst_cfqp_calib_set_caps (GstBaseSink * sink, GstCaps * caps);
static GstFlowReturn gst_cfqp_calib_render (GstBaseSink * sink,
    GstBuffer * buffer);

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
   * ONNX model to calibrate.  Unset: the default model embedded for
   * #GstCfqpCalib:scale-factor.
   */
  g_object_class_install_property (gobject_class, PROP_MODEL_FILE,
      g_param_spec_string ("model-file", "Model file",
          "ONNX model to calibrate (NULL: the embedded default model for "
          "scale-factor)", DEFAULT_PROP_MODEL_FILE,
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
   * Calibration file to write.  Not written yet.
   */
  g_object_class_install_property (gobject_class, PROP_LOCATION,
      g_param_spec_string ("location", "Location",
          "Calibration file to write (not written yet)", DEFAULT_PROP_LOCATION,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstCfqpCalib:max-samples:
   *
   * Frames sampled at most; later frames are only counted.
   */
  g_object_class_install_property (gobject_class, PROP_MAX_SAMPLES,
      g_param_spec_uint ("max-samples", "Maximum samples",
          "Frames sampled at most", 1, G_MAXUINT, DEFAULT_PROP_MAX_SAMPLES,
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

  gst_element_class_set_static_metadata (element_class,
      "CFQP calibration sink", "Sink/Video",
      "Samples video frames to calibrate an INT8 super-resolution network",
      "cfqp developers");
  gst_element_class_add_static_pad_template (element_class, &sink_template);

  sink_class->start = GST_DEBUG_FUNCPTR (gst_cfqp_calib_start);
  sink_class->stop = GST_DEBUG_FUNCPTR (gst_cfqp_calib_stop);
  sink_class->set_caps = GST_DEBUG_FUNCPTR (gst_cfqp_calib_set_caps);
  sink_class->render = GST_DEBUG_FUNCPTR (gst_cfqp_calib_render);
}

static void
gst_cfqp_calib_init (GstCfqpCalib * self)
{
  self->model_file = g_strdup (DEFAULT_PROP_MODEL_FILE);
  self->scale_factor = DEFAULT_PROP_SCALE_FACTOR;
  self->location = g_strdup (DEFAULT_PROP_LOCATION);
  self->max_samples = DEFAULT_PROP_MAX_SAMPLES;
  self->sample_interval = DEFAULT_PROP_SAMPLE_INTERVAL;
  gst_video_info_init (&self->info);

  /* a processing sink, not a display: frames are consumed as they come */
  gst_base_sink_set_sync (GST_BASE_SINK (self), FALSE);
}

static void
gst_cfqp_calib_finalize (GObject * object)
{
  GstCfqpCalib *self = GST_CFQP_CALIB (object);

  g_clear_pointer (&self->model, cfqp_model_unref);
  g_free (self->model_file);
  g_free (self->location);

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
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static gboolean
gst_cfqp_calib_start (GstBaseSink * sink)
{
  GstCfqpCalib *self = GST_CFQP_CALIB (sink);
  gchar *model_file, *source = NULL;
  guint scale_factor;
  GError *err = NULL;

  GST_OBJECT_LOCK (self);
  model_file = g_strdup (self->model_file);
  scale_factor = self->scale_factor;
  GST_OBJECT_UNLOCK (self);

  self->model = gst_cfqp_load_model (model_file, scale_factor, &source, &err);
  if (self->model == NULL) {
    gst_cfqp_post_model_error (GST_ELEMENT (self), source, err);
    g_clear_error (&err);
  } else {
    GST_INFO_OBJECT (self, "calibrating %s (%s)", source,
        cfqp_model_get_hash (self->model));
  }
  self->frames = 0;
  self->samples = 0;
  g_free (source);
  g_free (model_file);
  return self->model != NULL;
}

static gboolean
gst_cfqp_calib_stop (GstBaseSink * sink)
{
  GstCfqpCalib *self = GST_CFQP_CALIB (sink);

  g_clear_pointer (&self->model, cfqp_model_unref);
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
  return TRUE;
}

static GstFlowReturn
gst_cfqp_calib_render (GstBaseSink * sink, GstBuffer * buffer)
{
  GstCfqpCalib *self = GST_CFQP_CALIB (sink);
  guint max_samples, interval;
  guint64 frame = self->frames++;

  GST_OBJECT_LOCK (self);
  max_samples = self->max_samples;
  interval = self->sample_interval;
  GST_OBJECT_UNLOCK (self);

  if (self->samples >= max_samples || frame % interval != 0)
    return GST_FLOW_OK;

  self->samples++;
  GST_LOG_OBJECT (self, "sample %u/%u: frame %" G_GUINT64_FORMAT " (%dx%d)",
      self->samples, max_samples, frame, GST_VIDEO_INFO_WIDTH (&self->info),
      GST_VIDEO_INFO_HEIGHT (&self->info));
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self),
          gst_structure_new ("cfqpcalib-progress",
              "samples", G_TYPE_UINT, self->samples,
              "max-samples", G_TYPE_UINT, max_samples,
              "frames", G_TYPE_UINT64, self->frames, NULL)));
  return GST_FLOW_OK;
}
