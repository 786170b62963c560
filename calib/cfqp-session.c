/* CfqpSession: model and run copy, active and pending calibration, and the
 * checks between them (cfqp-session.h).  The pending slot has its own lock:
 * a file watch or a worker fills it while frames run. */
#include "cfqp-session.h"

struct _CfqpSession {
  gint             ref_count;
  CfqpModel       *model;
  CfqpModel       *clip_free_model;   /* NULL if it cannot be made */
  CfqpModel       *run_model;
  guint            n_removed;
  gboolean         clip_free;         /* asked for */
  gboolean         clip_free_set;
  gboolean         run_clip_free;
  CfqpCalibration *active;

  GMutex           lock;              /* guards the two below */
  CfqpCalibration *pending;
  char            *pending_source;

  /* self-calibration: the worker's thread owns calibrator */
  CfqpCalibWorker *self_worker;
  CfqpCalibrator  *calibrator;
  guint            self_sent, self_frames;
  CfqpSessionImageFunc  to_image;
  CfqpSessionFailedFunc failed;
  GDestroyNotify   item_free;
  gpointer         user_data;
};

/* An item handed over, and whether it is the last. */
typedef struct {
  CfqpSession *session;
  gpointer     item;
  gboolean     last;
} SelfSample;

CfqpSession *
cfqp_session_new (CfqpModel *model, gboolean clip_free, gboolean clip_free_set)
{
  CfqpSession *s = g_new0 (CfqpSession, 1);

  s->ref_count = 1;
  s->model = cfqp_model_ref (model);
  s->clip_free_model = cfqp_model_new_clip_free (model, &s->n_removed, NULL);
  s->clip_free = clip_free;
  s->clip_free_set = clip_free_set;
  s->run_clip_free = clip_free;
  s->run_model = cfqp_model_ref (clip_free && s->clip_free_model ?
                                 s->clip_free_model : model);
  g_mutex_init (&s->lock);
  return s;
}

CfqpSession *
cfqp_session_ref (CfqpSession *session)
{
  g_atomic_int_inc (&session->ref_count);
  return session;
}

void
cfqp_session_unref (CfqpSession *session)
{
  if (session == NULL || !g_atomic_int_dec_and_test (&session->ref_count))
    return;
  cfqp_session_stop_self_calibration (session);
  g_clear_pointer (&session->pending, cfqp_calibration_unref);
  g_free (session->pending_source);
  g_clear_pointer (&session->active, cfqp_calibration_unref);
  cfqp_model_unref (session->run_model);
  g_clear_pointer (&session->clip_free_model, cfqp_model_unref);
  cfqp_model_unref (session->model);
  g_mutex_clear (&session->lock);
  g_free (session);
}

CfqpModel *
cfqp_session_get_model (CfqpSession *session)
{
  return session->model;
}

CfqpModel *
cfqp_session_get_run_model (CfqpSession *session)
{
  return session->run_model;
}

gboolean
cfqp_session_get_clip_free (CfqpSession *session)
{
  return session->run_clip_free;
}

guint
cfqp_session_get_n_removed (CfqpSession *session)
{
  return session->n_removed;
}

gchar *
cfqp_session_describe (CfqpSession *session)
{
  g_autofree gchar *model = cfqp_model_describe (session->model);
  const gchar *mode = "";

  if (session->run_clip_free)
    mode = session->n_removed ? " [clip-free: clips removed]" : " [clip-free: no clips]";
  else if (session->clip_free && session->n_removed)
    mode = " [clips kept: the calibration is for the model with its clips]";
  return g_strconcat (model, mode, NULL);
}

/* A calibration says which graph it was made for ("clip_free" in the
 * file).  The shipped calibrations of the -clipped models are made for the
 * graph with its clips, hence the default that follows them. */
gboolean
cfqp_session_set_first (CfqpSession *session, CfqpCalibration *calib,
                        GError **error)
{
  gboolean mode = cfqp_calibration_get_clip_free (calib);
  gboolean clip_free = session->clip_free;

  if (mode != clip_free && session->n_removed > 0 && session->clip_free_set) {
    g_set_error (error, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_MODEL_MISMATCH,
        "it was made for the model %s (\"clip_free\": %s) and clip-free=%s "
        "is set: use clip-free=%s, or calibrate with cfqpcalib clip-free=%s",
        mode ? "without its clips" : "with its clips", mode ? "true" : "false",
        clip_free ? "true" : "false", mode ? "true" : "false",
        clip_free ? "true" : "false");
    return FALSE;
  }
  if (!cfqp_calibration_check_model (calib, mode ? session->clip_free_model :
                                     session->model, error))
    return FALSE;
  session->run_clip_free = mode;
  g_clear_pointer (&session->run_model, cfqp_model_unref);
  session->run_model = cfqp_model_ref (mode ? session->clip_free_model :
                                       session->model);
  cfqp_session_set_active (session, calib);
  return TRUE;
}

gboolean
cfqp_session_usable (CfqpSession *session, CfqpCalibration *calib,
                     GError **error)
{
  gboolean clip_free = session->run_clip_free;

  if (cfqp_calibration_get_clip_free (calib) != clip_free) {
    gboolean mode = cfqp_calibration_get_clip_free (calib);

    g_set_error (error, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_MODEL_MISMATCH,
        "it was made for the model %s (\"clip_free\": %s) and the element "
        "runs it %s: calibrate with cfqpcalib clip-free=%s, or restart the "
        "element with clip-free=%s", mode ? "without its clips" :
        "with its clips", mode ? "true" : "false", clip_free ?
        "without its clips" : "with its clips", clip_free ? "true" : "false",
        mode ? "true" : "false");
    return FALSE;
  }
  return cfqp_calibration_check_model (calib, session->run_model, error);
}

const CfqpQParams *
cfqp_session_get_embedded_qparams (CfqpSession *session)
{
  return cfqp_model_get_embedded_qparams (session->run_model);
}

CfqpCalibration *
cfqp_session_get_active (CfqpSession *session)
{
  return session->active;
}

void
cfqp_session_set_active (CfqpSession *session, CfqpCalibration *calib)
{
  if (calib != NULL)
    cfqp_calibration_ref (calib);
  g_clear_pointer (&session->active, cfqp_calibration_unref);
  session->active = calib;
}

void
cfqp_session_set_pending (CfqpSession *session, CfqpCalibration *calib,
                          const char *source)
{
  g_mutex_lock (&session->lock);
  g_clear_pointer (&session->pending, cfqp_calibration_unref);
  g_free (session->pending_source);
  session->pending = cfqp_calibration_ref (calib);
  session->pending_source = g_strdup (source);
  g_mutex_unlock (&session->lock);
}

CfqpCalibration *
cfqp_session_take_pending (CfqpSession *session, CfqpCalibration *override,
                           const char *override_source, char **source,
                           GError **error)
{
  CfqpCalibration *calib;
  char *src;

  g_mutex_lock (&session->lock);
  calib = g_steal_pointer (&session->pending);
  src = g_steal_pointer (&session->pending_source);
  g_mutex_unlock (&session->lock);

  if (override != NULL) {
    g_clear_pointer (&calib, cfqp_calibration_unref);
    g_free (src);
    calib = cfqp_calibration_ref (override);
    src = g_strdup (override_source);
  }
  if (calib != NULL && !cfqp_session_usable (session, calib, error))
    g_clear_pointer (&calib, cfqp_calibration_unref);
  *source = src;
  return calib;
}

CfqpRunner *
cfqp_session_new_runner (CfqpSession *session, const CfqpRunnerOptions *options,
                         char **calib_unusable, char **int8_unavailable,
                         GError **error)
{
  CfqpRunnerOptions o = *options;
  CfqpQParams *qparams = NULL;
  CfqpRunner *runner;
  GError *err = NULL;

  if (calib_unusable != NULL)
    *calib_unusable = NULL;
  if (int8_unavailable != NULL)
    *int8_unavailable = NULL;
  o.qparams = NULL;
  if (cfqp_precision_is_quantised (o.precision)) {
    if (session->active != NULL) {
      qparams = cfqp_calibration_to_qparams (session->active,
                                             session->run_model, &err);
      cfqp_calibration_fill_runner_options (session->active, qparams, &o);
    }
    /* a QDQ model carries its own parameters */
    if (qparams == NULL && session->active == NULL)
      o.qparams = cfqp_session_get_embedded_qparams (session);
    if (o.qparams == NULL) {
      if (err != NULL && calib_unusable != NULL)
        *calib_unusable = g_strdup (err->message);
      g_clear_error (&err);
      o.precision = CFQP_PRECISION_FP32;
    }
  }

  runner = cfqp_runner_new (session->run_model, &o, &err);
  if (runner == NULL && cfqp_precision_is_quantised (o.precision) &&
      (g_error_matches (err, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_UNSUPPORTED) ||
       g_error_matches (err, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID))) {
    if (int8_unavailable != NULL)
      *int8_unavailable = g_strdup (err->message);
    g_clear_error (&err);
    o.precision = CFQP_PRECISION_FP32;
    o.qparams = NULL;
    runner = cfqp_runner_new (session->run_model, &o, &err);
  }
  if (runner == NULL)
    g_propagate_error (error, err);
  g_free (qparams);
  return runner;
}

gboolean
cfqp_session_apply (CfqpSession *session, CfqpRunner *runner,
                    CfqpCalibration *calib, gboolean rebuild,
                    gboolean *needs_rebuild, GError **error)
{
  CfqpQParams *qp;
  CfqpQuantisation q;
  gboolean ok;

  *needs_rebuild = FALSE;
  if (rebuild || !cfqp_precision_is_quantised (cfqp_runner_get_precision (runner))) {
    /* FP32 so far: a new runner (INT8 if asked) with it */
    cfqp_session_set_active (session, calib);
    *needs_rebuild = TRUE;
    return TRUE;
  }
  qp = cfqp_calibration_to_qparams (calib, session->run_model, error);
  q = cfqp_calibration_get_quantisation (calib, qp);
  ok = qp != NULL && cfqp_runner_set_quantisation (runner, &q, error);
  if (ok)
    cfqp_session_set_active (session, calib);
  g_free (qp);
  return ok;
}

static void
self_sample_free (gpointer data)
{
  SelfSample *sample = data;

  sample->session->item_free (sample->item);
  g_free (sample);
}

static void
self_calib_process (gpointer data, GCancellable *cancel, gpointer user_data)
{
  CfqpSession *s = user_data;
  SelfSample *sample = data;
  CfqpCalibration *calib;
  CfqpImage *img;
  GError *err = NULL;

  if (g_cancellable_is_cancelled (cancel))
    return;

  img = s->to_image (sample->item,
                     cfqp_model_get_channels (cfqp_calibrator_get_model (s->calibrator)),
                     s->user_data);
  if (img != NULL) {
    cfqp_calibrator_add_frame (s->calibrator, img->data, img->width, img->height);
    cfqp_image_free (img);
  }
  if (!sample->last)
    return;

  calib = cfqp_calibrator_compute (s->calibrator, cancel, &err);
  if (calib == NULL) {
    if (!g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      s->failed (err, s->user_data);
    g_clear_error (&err);
    return;
  }
  cfqp_session_set_pending (s, calib, "self");
  cfqp_calibration_unref (calib);
}

void
cfqp_session_start_self_calibration (CfqpSession *s, guint n_frames,
                                     guint crop_size,
                                     CfqpSessionImageFunc to_image,
                                     CfqpSessionFailedFunc failed,
                                     GDestroyNotify item_free,
                                     gpointer user_data)
{
  CfqpCalibSettings settings;

  g_return_if_fail (s->self_worker == NULL && n_frames > 0);
  cfqp_calib_settings_init (&settings);
  settings.clip_free = s->run_clip_free;
  settings.max_samples = n_frames;
  /* random crops bound the worker's time on large frames */
  settings.crop_size = crop_size;
  /* every frame handed over is a sample, as self-calibration-frames
   * says: the scene test (for cfqpcalib's long streams) took a
   * noise-like scene, whose 16x16 thumbnails are all alike, for one
   * repeated frame and calibrated from 1 sample; random crops of a
   * static scene are still different windows of it */
  settings.scene_threshold = 0;
  s->calibrator = cfqp_calibrator_new (s->model, &settings);
  s->to_image = to_image;
  s->failed = failed;
  s->item_free = item_free;
  s->user_data = user_data;
  s->self_sent = 0;
  s->self_frames = n_frames;
  s->self_worker = cfqp_calib_worker_new ("cfqp-self-calib", 0,
      self_calib_process, NULL, self_sample_free, s);
  cfqp_calib_worker_start (s->self_worker);
}

gboolean
cfqp_session_wants_sample (CfqpSession *s)
{
  return s->self_worker != NULL && s->self_sent < s->self_frames &&
      cfqp_calib_worker_get_n_queued (s->self_worker) == 0;
}

void
cfqp_session_add_sample (CfqpSession *s, gpointer item)
{
  SelfSample *sample = g_new0 (SelfSample, 1);

  sample->session = s;
  sample->item = item;
  sample->last = ++s->self_sent == s->self_frames;
  cfqp_calib_worker_push (s->self_worker, sample);
}

void
cfqp_session_stop_self_calibration (CfqpSession *s)
{
  if (s->self_worker == NULL)
    return;
  g_clear_pointer (&s->self_worker, cfqp_calib_worker_free);
  g_clear_pointer (&s->calibrator, cfqp_calibrator_free);
}
