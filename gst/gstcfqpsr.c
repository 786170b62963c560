/* cfqp — cfqpsr: super-resolution video filter.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:element-cfqpsr
 * @title: cfqpsr
 *
 * Upscales raw video by an integer factor (2, 3 or 4) through a
 * super-resolution network.  Each output frame is the input frame, in the
 * same packed RGB format, `scale-factor` times wider and higher; the pixel
 * aspect ratio, framerate (0/1 still images included), timestamps,
 * durations and buffer flags pass through.
 *
 * The network is the ONNX file in #GstCfqpSr:model-file, or when that is
 * unset the default model for #GstCfqpSr:scale-factor embedded in the
 * plugin.  A model file whose scale differs from #GstCfqpSr:scale-factor
 * wins: the element then scales by the model's factor and says so in
 * #GstCfqpSr:model-info.  A model that cannot be loaded fails the
 * READY→PAUSED state change with an element error naming the file and the
 * reason.
 *
 * #GstCfqpSr:precision selects the INT8 (default) or FP32 network.  INT8
 * needs a calibration, which the element cannot take yet: int8 then posts
 * one warning (with the engine's reason) and runs FP32.
 *
 * Alpha (RGBA, ARGB, …) is upscaled by bilinear interpolation; the network
 * only sees R, G and B.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 filesrc location=in.png ! pngdec ! videoconvert ! cfqpsr ! videoconvert ! pngenc ! filesink location=out.png
 * ]| Upscales a still image ×3 with the embedded default model.
 * |[
 * gst-launch-1.0 filesrc location=in.mp4 ! decodebin ! videoconvert ! cfqpsr scale-factor=2 precision=fp32 ! videoconvert ! autovideosink
 * ]| Upscales a video ×2 with the FP32 network.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstcfqpsr.h"
#include "gstcfqpenums.h"
#include "gstcfqputils.h"

GST_DEBUG_CATEGORY_STATIC (gst_cfqp_sr_debug);
#define GST_CAT_DEFAULT gst_cfqp_sr_debug

#define DEFAULT_PROP_MODEL_FILE NULL
#define DEFAULT_PROP_SCALE_FACTOR 3
#define DEFAULT_PROP_PRECISION GST_CFQP_PRECISION_INT8
#define DEFAULT_PROP_BACKEND GST_CFQP_BACKEND_AUTO
#define DEFAULT_PROP_N_THREADS 0
#define MAX_N_THREADS 1024

enum
{
  PROP_0,
  PROP_MODEL_FILE,
  PROP_SCALE_FACTOR,
  PROP_PRECISION,
  PROP_BACKEND,
  PROP_N_THREADS,
  PROP_ACTIVE_BACKEND,
  PROP_MODEL_INFO,
};

struct _GstCfqpSr
{
  GstVideoFilter parent;

  /* properties, under the object lock */
  gchar *model_file;
  guint scale_factor;
  GstCfqpPrecision precision;
  GstCfqpBackend backend;
  guint n_threads;
  gchar *active_backend;
  gchar *model_info;

  /* between start and stop; model under the object lock (caps queries may
   * read its scale from any thread), runner and layout streaming thread only */
  CfqpModel *model;
  CfqpRunner *runner;
  CfqpPackedLayout layout;
};

#define gst_cfqp_sr_parent_class parent_class
G_DEFINE_TYPE (GstCfqpSr, gst_cfqp_sr, GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (cfqpsr, "cfqpsr", GST_RANK_NONE,
    GST_TYPE_CFQP_SR,
    GST_DEBUG_CATEGORY_INIT (gst_cfqp_sr_debug, "cfqpsr", 0,
        "cfqp super-resolution filter"));

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (GST_CFQP_VIDEO_CAPS));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (GST_CFQP_VIDEO_CAPS));

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
   * for #GstCfqpSr:scale-factor.  Read when the element goes to PAUSED.
   */
  g_object_class_install_property (gobject_class, PROP_MODEL_FILE,
      g_param_spec_string ("model-file", "Model file",
          "ONNX super-resolution model (NULL: the embedded default model for "
          "scale-factor)", DEFAULT_PROP_MODEL_FILE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstCfqpSr:scale-factor:
   *
   * Upscaling factor; selects the embedded default model.  A model-file
   * of another scale overrides it.
   */
  g_object_class_install_property (gobject_class, PROP_SCALE_FACTOR,
      g_param_spec_uint ("scale-factor", "Scale factor",
          "Upscaling factor (a model-file of another scale overrides it)",
          GST_CFQP_MIN_SCALE, GST_CFQP_MAX_SCALE, DEFAULT_PROP_SCALE_FACTOR,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstCfqpSr:precision:
   *
   * Arithmetic of the network.  Where INT8 cannot run (no calibration yet,
   * or an op the INT8 executor lacks) the element warns once and runs fp32.
   */
  g_object_class_install_property (gobject_class, PROP_PRECISION,
      g_param_spec_enum ("precision", "Precision",
          "Arithmetic of the network (int8 falls back to fp32 with a warning "
          "where it cannot run, e.g. without a calibration)", GST_TYPE_CFQP_PRECISION,
          DEFAULT_PROP_PRECISION,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstCfqpSr:backend:
   *
   * Where the network runs.  auto falls back from an unusable OpenCL
   * device to the CPU; opencl without a usable device is an error.
   */
  g_object_class_install_property (gobject_class, PROP_BACKEND,
      g_param_spec_enum ("backend", "Backend", "Where the network runs",
          GST_TYPE_CFQP_BACKEND, DEFAULT_PROP_BACKEND,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstCfqpSr:n-threads:
   *
   * CPU worker threads (0: one per online CPU).
   */
  g_object_class_install_property (gobject_class, PROP_N_THREADS,
      g_param_spec_uint ("n-threads", "Threads",
          "CPU worker threads (0: one per online CPU)", 0, MAX_N_THREADS,
          DEFAULT_PROP_N_THREADS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstCfqpSr:active-backend:
   *
   * The backend that actually runs ("cpu", "ref", "opencl:<device>"),
   * NULL before PAUSED.
   */
  g_object_class_install_property (gobject_class, PROP_ACTIVE_BACKEND,
      g_param_spec_string ("active-backend", "Active backend",
          "Backend that actually runs (NULL before PAUSED)", NULL,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  /**
   * GstCfqpSr:model-info:
   *
   * One-line summary of the loaded model: where it came from, whether its
   * scale overrode #GstCfqpSr:scale-factor, and the engine's description
   * (scale, ops, MACs, hash); NULL before PAUSED.
   */
  g_object_class_install_property (gobject_class, PROP_MODEL_INFO,
      g_param_spec_string ("model-info", "Model info",
          "Summary of the loaded model (NULL before PAUSED)", NULL,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  gst_element_class_set_static_metadata (element_class,
      "CFQP super-resolution", "Filter/Effect/Video/Scaler",
      "Upscales video through a super-resolution network",
      "cfqp developers");
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);

  trans_class->start = GST_DEBUG_FUNCPTR (gst_cfqp_sr_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_cfqp_sr_stop);
  trans_class->transform_caps = GST_DEBUG_FUNCPTR (gst_cfqp_sr_transform_caps);
  trans_class->fixate_caps = GST_DEBUG_FUNCPTR (gst_cfqp_sr_fixate_caps);
  filter_class->set_info = GST_DEBUG_FUNCPTR (gst_cfqp_sr_set_info);
  filter_class->transform_frame =
      GST_DEBUG_FUNCPTR (gst_cfqp_sr_transform_frame);

  gst_type_mark_as_plugin_api (GST_TYPE_CFQP_PRECISION, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_CFQP_BACKEND, 0);
}

static void
gst_cfqp_sr_init (GstCfqpSr * self)
{
  self->model_file = g_strdup (DEFAULT_PROP_MODEL_FILE);
  self->scale_factor = DEFAULT_PROP_SCALE_FACTOR;
  self->precision = DEFAULT_PROP_PRECISION;
  self->backend = DEFAULT_PROP_BACKEND;
  self->n_threads = DEFAULT_PROP_N_THREADS;

  gst_base_transform_set_qos_enabled (GST_BASE_TRANSFORM (self), TRUE);
}

static void
gst_cfqp_sr_finalize (GObject * object)
{
  GstCfqpSr *self = GST_CFQP_SR (object);

  g_clear_pointer (&self->runner, cfqp_runner_free);
  g_clear_pointer (&self->model, cfqp_model_unref);
  g_free (self->model_file);
  g_free (self->active_backend);
  g_free (self->model_info);

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
    case PROP_PRECISION:
      self->precision = g_value_get_enum (value);
      break;
    case PROP_BACKEND:
      self->backend = g_value_get_enum (value);
      break;
    case PROP_N_THREADS:
      self->n_threads = g_value_get_uint (value);
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
    case PROP_PRECISION:
      g_value_set_enum (value, self->precision);
      break;
    case PROP_BACKEND:
      g_value_set_enum (value, self->backend);
      break;
    case PROP_N_THREADS:
      g_value_set_uint (value, self->n_threads);
      break;
    case PROP_ACTIVE_BACKEND:
      g_value_set_string (value, self->active_backend);
      break;
    case PROP_MODEL_INFO:
      g_value_set_string (value, self->model_info);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

/* The factor caps are scaled by: the loaded model's, else the property's. */
static guint
gst_cfqp_sr_get_scale (GstCfqpSr * self)
{
  guint scale;

  GST_OBJECT_LOCK (self);
  scale = self->model ? cfqp_model_get_scale (self->model) : self->scale_factor;
  GST_OBJECT_UNLOCK (self);
  return scale;
}

static CfqpBackendKind
gst_cfqp_sr_backend_to_engine (GstCfqpBackend backend)
{
  switch (backend) {
    case GST_CFQP_BACKEND_CPU:
      return CFQP_BACKEND_CPU;
    case GST_CFQP_BACKEND_OPENCL:
      return CFQP_BACKEND_OPENCL;
    case GST_CFQP_BACKEND_AUTO:
    default:
      return CFQP_BACKEND_AUTO;
  }
}

static gboolean
gst_cfqp_sr_start (GstBaseTransform * trans)
{
  GstCfqpSr *self = GST_CFQP_SR (trans);
  CfqpRunnerOptions options = CFQP_RUNNER_OPTIONS_INIT;
  gchar *model_file, *source = NULL, *describe, *scale_note = NULL;
  guint scale_factor, model_scale;
  CfqpModel *model;
  CfqpRunner *runner;
  GError *err = NULL;

  GST_OBJECT_LOCK (self);
  model_file = g_strdup (self->model_file);
  scale_factor = self->scale_factor;
  options.precision = self->precision == GST_CFQP_PRECISION_FP32 ?
      CFQP_PRECISION_FP32 : CFQP_PRECISION_INT8;
  options.backend = gst_cfqp_sr_backend_to_engine (self->backend);
  options.n_threads = self->n_threads;
  GST_OBJECT_UNLOCK (self);

  model = gst_cfqp_load_model (model_file, scale_factor, &source, &err);
  if (model == NULL) {
    gst_cfqp_post_model_error (GST_ELEMENT (self), source, err);
    goto failed;
  }

  model_scale = cfqp_model_get_scale (model);
  if (model_scale != scale_factor) {
    GST_DEBUG_OBJECT (self, "model \"%s\" scales by %u, not scale-factor %u: "
        "the model wins", source, model_scale, scale_factor);
    scale_note = g_strdup_printf (" (model scale %u overrides scale-factor %u)",
        model_scale, scale_factor);
  }

  /* INT8 needs a calibration, which this element cannot take yet (the
   * engine then says INVALID), or ops the INT8 executor lacks (UNSUPPORTED):
   * both fall back to FP32 with one warning per start. */
  runner = cfqp_runner_new (model, &options, &err);
  if (runner == NULL && options.precision == CFQP_PRECISION_INT8 &&
      (g_error_matches (err, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_UNSUPPORTED)
          || g_error_matches (err, CFQP_ENGINE_ERROR,
              CFQP_ENGINE_ERROR_INVALID))) {
    GST_ELEMENT_WARNING (self, LIBRARY, SETTINGS,
        ("INT8 precision is not available (%s): running the FP32 network",
            err->message), (NULL));
    g_clear_error (&err);
    options.precision = CFQP_PRECISION_FP32;
    runner = cfqp_runner_new (model, &options, &err);
  }
  if (runner == NULL) {
    GST_ELEMENT_ERROR (self, LIBRARY, INIT,
        ("Could not prepare model \"%s\" to run: %s", source, err->message),
        (NULL));
    cfqp_model_unref (model);
    goto failed;
  }

  describe = cfqp_model_describe (model);
  GST_OBJECT_LOCK (self);
  self->model = model;
  self->runner = runner;
  g_free (self->active_backend);
  self->active_backend = g_strdup (cfqp_runner_get_active_backend (runner));
  g_free (self->model_info);
  self->model_info = g_strdup_printf ("%s%s: %s", source,
      scale_note ? scale_note : "", describe);
  GST_OBJECT_UNLOCK (self);

  GST_INFO_OBJECT (self, "loaded %s, running %s on %s", self->model_info,
      options.precision == CFQP_PRECISION_FP32 ? "fp32" : "int8",
      self->active_backend);
  g_free (describe);
  g_free (scale_note);
  g_free (source);
  g_free (model_file);
  return TRUE;

failed:
  g_clear_error (&err);
  g_free (scale_note);
  g_free (source);
  g_free (model_file);
  return FALSE;
}

static gboolean
gst_cfqp_sr_stop (GstBaseTransform * trans)
{
  GstCfqpSr *self = GST_CFQP_SR (trans);
  CfqpRunner *runner;
  CfqpModel *model;

  GST_OBJECT_LOCK (self);
  runner = g_steal_pointer (&self->runner);
  model = g_steal_pointer (&self->model);
  g_clear_pointer (&self->active_backend, g_free);
  g_clear_pointer (&self->model_info, g_free);
  GST_OBJECT_UNLOCK (self);

  g_clear_pointer (&runner, cfqp_runner_free);
  g_clear_pointer (&model, cfqp_model_unref);
  return TRUE;
}

/* Scales one width/height value (int, range or list) up or down by scale.
 * FALSE when no value survives (e.g. a width that is not a multiple). */
static gboolean
gst_cfqp_sr_scale_value (const GValue * in, guint scale, gboolean up,
    GValue * out)
{
  const gint max = G_MAXINT / (gint) scale;

  if (G_VALUE_HOLDS_INT (in)) {
    gint v = g_value_get_int (in);

    if (up ? v > max : v % (gint) scale != 0)
      return FALSE;
    g_value_init (out, G_TYPE_INT);
    g_value_set_int (out, up ? v * (gint) scale : v / (gint) scale);
    return TRUE;
  }

  if (GST_VALUE_HOLDS_INT_RANGE (in)) {
    gint min = gst_value_get_int_range_min (in);
    gint rmax = gst_value_get_int_range_max (in);
    gint step = gst_value_get_int_range_step (in);

    if (up) {
      /* every output size is a multiple of scale: say so with the step */
      if (min > max)
        return FALSE;
      rmax = MIN (rmax, max) / step * step;
      if (rmax < min)
        return FALSE;
      min *= scale;
      rmax *= scale;
      step *= scale;
    } else {
      min = (min + (gint) scale - 1) / (gint) scale;
      rmax /= (gint) scale;
      step = 1;
      if (rmax < min)
        return FALSE;
    }
    if (min == rmax) {
      g_value_init (out, G_TYPE_INT);
      g_value_set_int (out, min);
    } else {
      g_value_init (out, GST_TYPE_INT_RANGE);
      gst_value_set_int_range_step (out, min, rmax, step);
    }
    return TRUE;
  }

  if (GST_VALUE_HOLDS_LIST (in)) {
    guint i, n = gst_value_list_get_size (in);

    g_value_init (out, GST_TYPE_LIST);
    for (i = 0; i < n; i++) {
      GValue v = G_VALUE_INIT;

      if (gst_cfqp_sr_scale_value (gst_value_list_get_value (in, i), scale,
              up, &v))
        gst_value_list_append_and_take_value (out, &v);
    }
    if (gst_value_list_get_size (out) == 0) {
      g_value_unset (out);
      return FALSE;
    }
    return TRUE;
  }

  return FALSE;
}

static gboolean
gst_cfqp_sr_scale_field (GstStructure * s, const gchar * field, guint scale,
    gboolean up)
{
  const GValue *in = gst_structure_get_value (s, field);
  GValue out = G_VALUE_INIT;

  if (in == NULL)
    return TRUE;                /* unconstrained stays unconstrained */
  if (!gst_cfqp_sr_scale_value (in, scale, up, &out))
    return FALSE;
  gst_structure_take_value (s, field, &out);
  return TRUE;
}

static GstCaps *
gst_cfqp_sr_transform_caps (GstBaseTransform * trans,
    GstPadDirection direction, GstCaps * caps, GstCaps * filter)
{
  GstCfqpSr *self = GST_CFQP_SR (trans);
  guint scale = gst_cfqp_sr_get_scale (self);
  gboolean up = direction == GST_PAD_SINK;
  GstCaps *ret = gst_caps_new_empty ();
  guint i;

  for (i = 0; i < gst_caps_get_size (caps); i++) {
    GstStructure *s = gst_structure_copy (gst_caps_get_structure (caps, i));
    GstCapsFeatures *f = gst_caps_get_features (caps, i);

    if (!gst_cfqp_sr_scale_field (s, "width", scale, up) ||
        !gst_cfqp_sr_scale_field (s, "height", scale, up)) {
      gst_structure_free (s);
      continue;
    }
    ret = gst_caps_merge_structure_full (ret, s,
        f ? gst_caps_features_copy (f) : NULL);
  }

  if (filter) {
    GstCaps *tmp = gst_caps_intersect_full (filter, ret,
        GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref (ret);
    ret = tmp;
  }

  GST_DEBUG_OBJECT (self, "x%u %s: %" GST_PTR_FORMAT " -> %" GST_PTR_FORMAT,
      scale, up ? "up" : "down", caps, ret);
  return ret;
}

static GstCaps *
gst_cfqp_sr_fixate_caps (GstBaseTransform * trans, GstPadDirection direction,
    GstCaps * caps, GstCaps * othercaps)
{
  GstCfqpSr *self = GST_CFQP_SR (trans);
  guint scale = gst_cfqp_sr_get_scale (self);
  GstStructure *ins, *outs;
  gint w, h, par_n, par_d;

  othercaps = gst_caps_make_writable (gst_caps_truncate (othercaps));
  ins = gst_caps_get_structure (caps, 0);
  outs = gst_caps_get_structure (othercaps, 0);

  if (gst_structure_get_int (ins, "width", &w) &&
      gst_structure_get_int (ins, "height", &h)) {
    if (direction == GST_PAD_SINK) {
      w *= scale;
      h *= scale;
    } else {
      w /= scale;
      h /= scale;
    }
    gst_structure_fixate_field_nearest_int (outs, "width", w);
    gst_structure_fixate_field_nearest_int (outs, "height", h);
  }

  /* the same factor on both axes: the pixel aspect ratio does not change */
  if (gst_structure_get_fraction (ins, "pixel-aspect-ratio", &par_n, &par_d)) {
    if (gst_structure_has_field (outs, "pixel-aspect-ratio"))
      gst_structure_fixate_field_nearest_fraction (outs, "pixel-aspect-ratio",
          par_n, par_d);
    else
      gst_structure_set (outs, "pixel-aspect-ratio", GST_TYPE_FRACTION, par_n,
          par_d, NULL);
  }

  othercaps = gst_caps_fixate (othercaps);
  GST_DEBUG_OBJECT (self, "fixated to %" GST_PTR_FORMAT, othercaps);
  return othercaps;
}

static gboolean
gst_cfqp_sr_set_info (GstVideoFilter * filter, GstCaps * incaps,
    GstVideoInfo * in_info, GstCaps * outcaps, GstVideoInfo * out_info)
{
  GstCfqpSr *self = GST_CFQP_SR (filter);
  guint scale = gst_cfqp_sr_get_scale (self);

  if (GST_VIDEO_INFO_FORMAT (in_info) != GST_VIDEO_INFO_FORMAT (out_info) ||
      GST_VIDEO_INFO_WIDTH (out_info) !=
      GST_VIDEO_INFO_WIDTH (in_info) * (gint) scale ||
      GST_VIDEO_INFO_HEIGHT (out_info) !=
      GST_VIDEO_INFO_HEIGHT (in_info) * (gint) scale) {
    GST_ERROR_OBJECT (self, "caps do not scale by %u: %" GST_PTR_FORMAT
        " -> %" GST_PTR_FORMAT, scale, incaps, outcaps);
    return FALSE;
  }

  if (!gst_cfqp_packed_layout_for_format (GST_VIDEO_INFO_FORMAT (in_info),
          &self->layout)) {
    GST_ERROR_OBJECT (self, "unsupported format %s",
        gst_video_format_to_string (GST_VIDEO_INFO_FORMAT (in_info)));
    return FALSE;
  }
  return TRUE;
}

static GstFlowReturn
gst_cfqp_sr_transform_frame (GstVideoFilter * filter, GstVideoFrame * in_frame,
    GstVideoFrame * out_frame)
{
  GstCfqpSr *self = GST_CFQP_SR (filter);
  GError *err = NULL;

  if (G_UNLIKELY (self->runner == NULL))
    return GST_FLOW_NOT_NEGOTIATED;

  if (!cfqp_runner_run_packed (self->runner, &self->layout,
          GST_VIDEO_FRAME_PLANE_DATA (in_frame, 0),
          GST_VIDEO_FRAME_PLANE_STRIDE (in_frame, 0),
          GST_VIDEO_FRAME_WIDTH (in_frame), GST_VIDEO_FRAME_HEIGHT (in_frame),
          GST_VIDEO_FRAME_PLANE_DATA (out_frame, 0),
          GST_VIDEO_FRAME_PLANE_STRIDE (out_frame, 0), &err)) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED,
        ("Super-resolution of a %dx%d frame failed: %s",
            GST_VIDEO_FRAME_WIDTH (in_frame), GST_VIDEO_FRAME_HEIGHT (in_frame),
            err->message), (NULL));
    g_clear_error (&err);
    return GST_FLOW_ERROR;
  }
  return GST_FLOW_OK;
}
