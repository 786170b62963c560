/* cfqp — cfqpsr's side of its CfqpSession (calib/cfqp-session.c): which
 * network runs for a scale, loading it with its first calibration
 * (calibration-file, then the shipped one) and the model-info text, the
 * runner for the properties (backend choice and its fallbacks), the
 * calibration-file watch, self-calibration, and at each frame boundary the
 * new calibration or settings.  The bus messages that follow are the
 * element's (gstcfqpsr.c).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstcfqpsr-private.h"
#include "gstcfqpsrcaps.h"

/* self-calibration's random crops bound the worker's time on large frames */
#define SELF_CALIBRATION_CROP 256

/* ---- the network's scale ---- */

/* The largest factor per axis caps may ask for: the loaded model file's
 * scale, or with no model-file the largest embedded default's (or
 * scale-factor's, when it is larger). */
guint
gst_cfqp_sr_get_max_scale (GstCfqpSr * self)
{
  gboolean have_file;
  guint pref, loaded, s, max;

  GST_OBJECT_LOCK (self);
  have_file = self->model_file != NULL && self->model_file[0] != '\0';
  pref = self->scale_factor;
  loaded = self->session ?
      cfqp_model_get_scale (cfqp_session_get_model (self->session)) : 0;
  GST_OBJECT_UNLOCK (self);

  if (have_file)
    return loaded ? loaded : pref;
  max = pref;
  for (s = GST_CFQP_MIN_SCALE; s <= GST_CFQP_MAX_SCALE; s++)
    if (gst_cfqp_have_default_model (s, 1))
      max = MAX (max, s);
  return max;
}

/* The integer scale a free output size takes: the model file's, else
 * scale-factor. */
guint
gst_cfqp_sr_get_scale (GstCfqpSr * self)
{
  gboolean have_file;
  guint scale;

  GST_OBJECT_LOCK (self);
  have_file = self->model_file != NULL && self->model_file[0] != '\0';
  scale = have_file && self->session ?
      cfqp_model_get_scale (cfqp_session_get_model (self->session)) :
      self->scale_factor;
  GST_OBJECT_UNLOCK (self);
  return scale;
}

/* The smallest embedded default scale ≥ needed (0: none). */
guint
gst_cfqp_sr_default_scale_for (guint needed)
{
  guint s;

  for (s = MAX (needed, GST_CFQP_MIN_SCALE); s <= GST_CFQP_MAX_SCALE; s++)
    if (gst_cfqp_have_default_model (s, 1))
      return s;
  return 0;
}

/* ---- the runner ---- */

/* The embedded default for iw × ih → ow × oh: the ×3/2 net when neither
 * axis grows past 1.5 and the input's sides are even (its space-to-depth
 * needs them): it runs its body at the ×3 net's positions for a third
 * larger input, where the ×2 net would run at every input pixel; else the
 * smallest integer scale ≥ the ratio.  num 0: none. */
void
gst_cfqp_sr_default_for (gint iw, gint ih, gint ow, gint oh, guint * num,
    guint * den)
{
  if ((gint64) ow * 2 <= (gint64) iw * 3 && (gint64) oh * 2 <= (gint64) ih * 3
      && iw % 2 == 0 && ih % 2 == 0 && gst_cfqp_have_default_model (3, 2)) {
    *num = 3;
    *den = 2;
    return;
  }
  *num = gst_cfqp_sr_default_scale_for (gst_cfqp_sr_caps_needed_scale (iw, ih,
          ow, oh));
  *den = 1;
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

/* Does min-int8-psnr hold INT8 back with calib: precision int8, a minimum
 * set and a calibration that measured less?  *psnr: what it measured. */
static gboolean
gst_cfqp_sr_holds_int8_back (GstCfqpSr * self, CfqpCalibration * calib,
    gdouble * psnr)
{
  CfqpCalibFidelity f;
  gdouble min;
  gboolean int8;

  GST_OBJECT_LOCK (self);
  min = self->min_int8_psnr;
  int8 = self->precision == GST_CFQP_PRECISION_INT8;
  GST_OBJECT_UNLOCK (self);
  if (!int8 || min <= 0 || calib == NULL ||
      !cfqp_calibration_get_fidelity (calib, &f) || f.psnr >= min)
    return FALSE;
  if (psnr)
    *psnr = f.psnr;
  return TRUE;
}

/* A runner for the current properties and the session's active calibration
 * (under runner_lock, or before streaming).  INT8 with no calibration runs FP32 for now; INT8
 * that the engine cannot run for this model falls back to FP32 with one
 * warning per start; INT8 whose calibration measured less than
 * min-int8-psnr runs int8-fallback (the application's choice: logged
 * only): FP32, or INT16 on the same calibration where the backend runs it. */
static CfqpRunner *
gst_cfqp_sr_build_runner (GstCfqpSr * self, GError ** error)
{
  CfqpRunnerOptions options = CFQP_RUNNER_OPTIONS_INIT;
  gchar *device, *calib_unusable, *int8_unavailable;
  CfqpRunner *runner;
  GError *err = NULL;
  gdouble psnr = 0;
  gboolean fallback_int16;

  GST_OBJECT_LOCK (self);
  /* the GStreamer enum's values are the engine's */
  G_STATIC_ASSERT ((gint) GST_CFQP_PRECISION_FP32 == (gint) CFQP_PRECISION_FP32 &&
      (gint) GST_CFQP_PRECISION_INT16 == (gint) CFQP_PRECISION_INT16);
  options.precision = (CfqpPrecision) self->precision;
  options.backend = gst_cfqp_sr_backend_to_engine (self->backend);
  options.n_threads = self->n_threads;
  /* the GStreamer enum's values are the engine's */
  options.cpu_kernels = (CfqpCpuKernels) self->cpu_kernels;
  device = g_strdup (self->device);
  fallback_int16 = self->int8_fallback == GST_CFQP_INT8_FALLBACK_INT16;
  GST_OBJECT_UNLOCK (self);
  options.device = device;
  self->int8_held_back = gst_cfqp_sr_holds_int8_back (self,
      cfqp_session_get_active (self->session), &psnr);
  if (self->int8_held_back) {
    GST_INFO_OBJECT (self, "the calibration measured PSNR(INT8, FP32) %.2f dB, "
        "under min-int8-psnr: running %s", psnr, fallback_int16 ? "INT16" : "FP32");
    options.precision = fallback_int16 ? CFQP_PRECISION_INT16 : CFQP_PRECISION_FP32;
  }
  /* $CFQP_INT8_STRIPES, $CFQP_INT8_PROFILE, $CFQP_OPENCL_PROFILE: no properties */
  cfqp_runner_options_from_env (&options);

  runner = cfqp_session_new_runner (self->session, &options, &calib_unusable,
      &int8_unavailable, &err);
  if (calib_unusable != NULL)
    GST_WARNING_OBJECT (self, "calibration unusable: %s", calib_unusable);
  if (int8_unavailable != NULL) {
    if (!self->int8_warned)
      GST_ELEMENT_WARNING (self, LIBRARY, SETTINGS,
          ("INT8 precision is not available (%s): running the FP32 network",
              int8_unavailable), (NULL));
    self->int8_warned = TRUE;
  }
  if (runner == NULL) {
    g_propagate_error (error, err);
  } else if (options.backend == CFQP_BACKEND_AUTO) {
    const gchar *reason = cfqp_runner_get_fallback_reason (runner);

    /* auto without a GPU is a choice, not a failure; a GPU that is there
     * but does not work is worth telling the application */
    if (reason != NULL)
      GST_ELEMENT_WARNING (self, LIBRARY, INIT,
          ("backend=auto: %s; running on the CPU", reason), (NULL));
    else if (!g_str_has_prefix (cfqp_runner_get_active_backend (runner),
            "opencl"))
      GST_INFO_OBJECT (self, "backend=auto: no OpenCL GPU, running on the "
          "CPU (%s)", cfqp_runner_get_active_backend (runner));
  }
  g_free (calib_unusable);
  g_free (int8_unavailable);
  g_free (device);
  return runner;
}

/* ---- calibration-file watch (calib/cfqp-filewatch.c) ---- */

/* A new version of the file has settled (watch thread): read and check it
 * against what runs.  A refusal is a warning only the first time in a row:
 * until a version is accepted, the next refusals of the same file are DEBUG
 * lines (counted in the log). */
static void
gst_cfqp_sr_calib_file_settled (const gchar * path, gpointer user_data)
{
  GstCfqpSr *self = GST_CFQP_SR (user_data);
  CfqpCalibration *calib;
  CfqpSession *session;
  GError *err = NULL;
  gchar *source;

  GST_OBJECT_LOCK (self);
  session = self->session ? cfqp_session_ref (self->session) : NULL;
  GST_OBJECT_UNLOCK (self);
  if (session == NULL)
    return;

  calib = gst_cfqp_load_calibration_file (path, &err);
  if (calib != NULL && !cfqp_session_usable (session, calib, &err))
    g_clear_pointer (&calib, cfqp_calibration_unref);
  if (calib != NULL) {
    if (self->watch_refused > 0)
      GST_INFO_OBJECT (self, "%s accepted after %u refused versions",
          path, self->watch_refused);
    self->watch_refused = 0;
    source = g_strdup_printf ("file:%s", path);
    cfqp_session_set_pending (session, calib, source);
    g_free (source);
    cfqp_calibration_unref (calib);
  } else if (self->watch_refused++ == 0) {
    GST_ELEMENT_WARNING (self, RESOURCE, READ,
        ("Calibration \"%s\" refused (the active calibration, if any, "
            "stays; further refusals of this file are logged at DEBUG level "
            "until a version of it is accepted): %s", path,
            err->message), (NULL));
  } else {
    GST_DEBUG_OBJECT (self, "calibration %s refused again (%u in a row): %s",
        path, self->watch_refused, err->message);
  }
  g_clear_error (&err);
  cfqp_session_unref (session);
}

void
gst_cfqp_sr_start_watch (GstCfqpSr * self, const gchar * path)
{
  GError *err = NULL;

  self->watch_refused = 0;
  self->watch = cfqp_file_watch_new (path, gst_cfqp_sr_calib_file_settled,
      self, &err);
  if (err != NULL) {
    GST_WARNING_OBJECT (self, "cannot watch %s: %s", path, err->message);
    g_clear_error (&err);
  }
}

/* ---- self-calibration (the session's, on a calib/ worker) ---- */

/* The worker could not calibrate: FP32 stays, with a warning. */
static void
gst_cfqp_sr_self_calibration_failed (const GError * err, gpointer user_data)
{
  GstCfqpSr *self = GST_CFQP_SR (user_data);

  GST_ELEMENT_WARNING (self, LIBRARY, FAILED,
      ("Self-calibration failed, running FP32: %s", err->message), (NULL));
}

/* ---- model lifetime ---- */

void
gst_cfqp_sr_unload (GstCfqpSr * self)
{
  CfqpSession *session;

  if (self->session != NULL)
    cfqp_session_stop_self_calibration (self->session);
  g_clear_pointer (&self->runner, cfqp_runner_free);

  GST_OBJECT_LOCK (self);
  if (self->session != NULL && self->calibration_name != NULL)
    gst_cfqp_registry_unset_model (self->calibration_name, self);
  session = g_steal_pointer (&self->session);
  g_clear_pointer (&self->active_backend, g_free);
  g_clear_pointer (&self->model_info, g_free);
  g_clear_pointer (&self->kernel_info, g_free);
  GST_OBJECT_UNLOCK (self);

  g_clear_pointer (&session, cfqp_session_unref);
}

/* Loads the default model for the scale num/den (or the model file), its
 * first calibration and a runner.  Posts an element error and returns FALSE
 * on failure. */
gboolean
gst_cfqp_sr_load (GstCfqpSr * self, guint num, guint den)
{
  gchar *model_file, *calibration_file, *calibration_name;
  gchar *source = NULL, *describe, *scale_note = NULL, *calib_source = NULL;
  gboolean clip_free, clip_free_set, run_clip_free, quantised, loaded = FALSE;
  guint model_num, model_den, self_frames;
  CfqpModel *model;
  CfqpSession *session;
  CfqpCalibration *calib = NULL;
  GError *err = NULL;

  GST_OBJECT_LOCK (self);
  model_file = g_strdup (self->model_file);
  calibration_file = g_strdup (self->calibration_file);
  calibration_name = g_strdup (self->calibration_name);
  clip_free = self->clip_free;
  clip_free_set = self->clip_free_set;
  self_frames = self->self_calibration_frames;
  quantised = self->precision != GST_CFQP_PRECISION_FP32;
  GST_OBJECT_UNLOCK (self);

  model = gst_cfqp_load_model (model_file, num, den, &source, &err);
  if (model == NULL) {
    gst_cfqp_post_model_error (GST_ELEMENT (self), source, err);
    g_clear_error (&err);
    goto failed;
  }
  cfqp_model_get_scale_ratio (model, &model_num, &model_den);
  if (model_num != num || model_den != den) {
    gchar *have = gst_cfqp_scale_text (model_num, model_den);
    gchar *want = gst_cfqp_scale_text (num, den);

    GST_DEBUG_OBJECT (self, "model \"%s\" scales by %s, not scale-factor %s: "
        "the model wins", source, have, want);
    scale_note = g_strdup_printf (" (model scale %s overrides scale-factor %s)",
        have, want);
    g_free (have);
    g_free (want);
  }
  session = cfqp_session_new (model, clip_free, clip_free_set);
  cfqp_model_unref (model);

  /* The first calibration, in the documented order: calibration-file; if
   * unset or refused, the one shipped with the model.  Each decides the
   * clip-free mode when it can (see cfqp_session_set_first). */
  if (calibration_file != NULL && calibration_file[0] != '\0') {
    calib = gst_cfqp_load_calibration_file (calibration_file, &err);
    if (calib != NULL && !cfqp_session_set_first (session, calib, &err))
      g_clear_pointer (&calib, cfqp_calibration_unref);
    if (calib == NULL) {
      GST_ELEMENT_WARNING (self, RESOURCE, READ,
          ("Calibration \"%s\" refused (trying the shipped calibration "
              "next): %s", calibration_file, err->message), (NULL));
      g_clear_error (&err);
    } else {
      calib_source = g_strdup_printf ("file:%s", calibration_file);
    }
  }
  if (calib == NULL) {
    gchar *shipped = NULL;

    calib = gst_cfqp_load_shipped_calibration (model_file, model_num, model_den,
        NULL, &shipped, &err);
    if (calib != NULL && !cfqp_session_set_first (session, calib, &err))
      g_clear_pointer (&calib, cfqp_calibration_unref);
    if (err != NULL) {
      GST_ELEMENT_WARNING (self, RESOURCE, READ,
          ("Shipped calibration \"%s\" refused: %s", shipped,
              err->message), (NULL));
      g_clear_error (&err);
    }
    if (calib != NULL)
      calib_source = g_strdup_printf ("shipped:%s", shipped);
    g_free (shipped);
  }
  /* the session holds them from here on */
  g_clear_pointer (&calib, cfqp_calibration_unref);
  calib = cfqp_session_get_active (session);
  run_clip_free = cfqp_session_get_clip_free (session);

  describe = cfqp_session_describe (session);
  GST_OBJECT_LOCK (self);
  self->session = session;
  self->runner_dirty = FALSE;
  if (calibration_name != NULL)
    gst_cfqp_registry_set_model (calibration_name, self, model, run_clip_free);
  g_free (self->model_info);
  self->model_info = g_strdup_printf ("%s%s: %s", source,
      scale_note ? scale_note : "", describe);
  GST_OBJECT_UNLOCK (self);
  g_free (describe);

  self->runner = gst_cfqp_sr_build_runner (self, &err);
  if (self->runner == NULL) {
    GST_ELEMENT_ERROR (self, LIBRARY, INIT,
        ("Could not prepare model \"%s\" to run: %s", source, err->message),
        (NULL));
    g_clear_error (&err);
    goto failed;
  }
  gst_cfqp_sr_update_active_backend (self);
  if (calib != NULL) {
    gst_cfqp_sr_post_calibration_of (self, calib_source, calib);
  } else if (cfqp_session_get_embedded_qparams (session) != NULL) {
    gchar *src = g_strdup_printf ("embedded:%s", source);

    GST_INFO_OBJECT (self, "QDQ model: its own quantization parameters");
    gst_cfqp_sr_post_calibration (self, src, cfqp_model_get_hash (model), 0);
    g_free (src);
  }

  /* nothing to run INT8 with yet: calibrate from the stream, unless a
   * paired cfqpcalib will publish one */
  if (calib == NULL && quantised && calibration_name == NULL &&
      cfqp_session_get_embedded_qparams (session) == NULL) {
    if (self_frames > 0) {
      /* random crops bound the worker's time on large frames */
      cfqp_session_start_self_calibration (session, self_frames,
          SELF_CALIBRATION_CROP, gst_cfqp_sr_self_sample_image,
          gst_cfqp_sr_self_calibration_failed, gst_cfqp_sr_self_sample_free,
          self);
      GST_INFO_OBJECT (self, "no calibration: FP32 while calibrating from %u "
          "frames", self_frames);
    } else if (!self->int8_warned) {
      self->int8_warned = TRUE;
      GST_ELEMENT_WARNING (self, LIBRARY, SETTINGS,
          ("No calibration for INT8 (calibration-file, shipped, or "
              "self-calibration-frames > 0): running the FP32 network"),
          (NULL));
    }
  }

  GST_INFO_OBJECT (self, "loaded %s, running on %s", self->model_info,
      self->active_backend);
  loaded = TRUE;

failed:
  if (!loaded)
    gst_cfqp_sr_unload (self);
  g_free (scale_note);
  g_free (source);
  g_free (calib_source);
  g_free (model_file);
  g_free (calibration_file);
  g_free (calibration_name);
  return loaded;
}

/* ---- frame boundaries ---- */

/* At a frame boundary (streaming thread, runner_lock held): applies a new
 * calibration and rebuilds the runner for changed properties. */
void
gst_cfqp_sr_frame_boundary (GstCfqpSr * self)
{
  CfqpSession *session = self->session;
  CfqpCalibration *pending, *reg = NULL;
  gchar *source, *name, *reg_source = NULL;
  gboolean dirty;
  GError *err = NULL;

  GST_OBJECT_LOCK (self);
  dirty = self->runner_dirty;
  self->runner_dirty = FALSE;
  name = g_strdup (self->calibration_name);
  GST_OBJECT_UNLOCK (self);

  if (name != NULL)
    reg = gst_cfqp_registry_lookup (name, &self->registry_serial);
  if (reg != NULL) {
    reg_source = g_strdup_printf ("cfqpcalib:%s", name);
    /* a paired calibrator takes over from self-calibration */
    cfqp_session_stop_self_calibration (session);
  }
  g_free (name);

  pending = cfqp_session_take_pending (session, reg, reg_source, &source,
      &err);
  if (err != NULL) {
    GST_ELEMENT_WARNING (self, RESOURCE, READ,
        ("Calibration from %s refused, keeping the current one: %s", source,
            err->message), (NULL));
    g_clear_error (&err);
  }
  g_clear_pointer (&reg, cfqp_calibration_unref);
  g_free (reg_source);

  if (pending != NULL) {
    gboolean rebuild;

    /* min-int8-psnr may take INT8 to its fallback or back: a new runner */
    if (gst_cfqp_sr_holds_int8_back (self, pending, NULL) !=
        self->int8_held_back)
      dirty = TRUE;
    if (!cfqp_session_apply (session, self->runner, pending, dirty, &rebuild,
            &err)) {
      GST_ELEMENT_WARNING (self, LIBRARY, SETTINGS,
          ("Calibration from %s could not be applied, keeping the current "
              "one: %s", source, err->message), (NULL));
      g_clear_error (&err);
      g_clear_pointer (&pending, cfqp_calibration_unref);
    } else if (!rebuild) {
      /* repacked: a conv's kernel may differ (overflow guard) */
      gst_cfqp_sr_update_active_backend (self);
      gst_cfqp_sr_post_calibration_of (self, source, pending);
      g_clear_pointer (&pending, cfqp_calibration_unref);
    }
    dirty |= rebuild;
  }

  if (dirty) {
    CfqpRunner *runner = gst_cfqp_sr_build_runner (self, &err);

    if (runner == NULL) {
      GST_ELEMENT_WARNING (self, LIBRARY, SETTINGS,
          ("Could not apply the new settings, keeping the current runner: %s",
              err->message), (NULL));
      g_clear_error (&err);
    } else {
      cfqp_runner_free (self->runner);
      self->runner = runner;
      gst_cfqp_sr_update_active_backend (self);
      GST_INFO_OBJECT (self, "runner rebuilt at frame %" G_GUINT64_FORMAT
          ": %s", self->frame_count, self->active_backend);
    }
    if (pending != NULL)
      gst_cfqp_sr_post_calibration_of (self, source, pending);
  }
  g_clear_pointer (&pending, cfqp_calibration_unref);
  g_free (source);
}
