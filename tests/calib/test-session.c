/* CfqpSession: the first calibration decides the mode in source order, a
 * pending calibration is taken once at a frame boundary, refusals keep the
 * active calibration, a paired calibrator's wins over a pending one.  And
 * the model a calibration runs. */
#include "cfqp-session.h"
#include "cfqp-model-private.h"   /* ref_count, for /session/run-model */
#include "calib-test-utils.h"

#include <string.h>

/* A calibration whose hash and tensors fit model (ranges made up). */
static CfqpCalibration *
fake_calib (CfqpModel *model, gboolean clip_free, guint n_samples)
{
  guint n = cfqp_model_get_n_tensors (model);
  g_autofree CfqpCalibTensor *t = g_new0 (CfqpCalibTensor, n);
  CfqpCalibSettings s;

  cfqp_calib_settings_init (&s);
  s.clip_free = clip_free;
  for (guint i = 0; i < n; i++) {
    t[i].name = cfqp_model_get_tensor_name (model, i);
    t[i].min = -1.0f;
    t[i].max = 1.0f;
    t[i].qparams = cfqp_qparams_from_range (t[i].min, t[i].max);
  }
  return cfqp_calibration_new (cfqp_model_get_hash (model), clip_free, &s,
      n_samples, n_samples, t, n);
}

/* clipped model: calibrations for both graphs */
typedef struct {
  CfqpModel *model, *cf;
  CfqpCalibration *with_clips, *without_clips;
} Fixture;

static void
fixture_init (Fixture *f)
{
  guint n_removed = 0;

  f->model = calib_test_load_model ("abpn-x3-tile-clip-op13.onnx");
  f->cf = cfqp_model_new_clip_free (f->model, &n_removed, NULL);
  g_assert_cmpuint (n_removed, >, 0);
  f->with_clips = fake_calib (f->model, FALSE, 1);
  f->without_clips = fake_calib (f->cf, TRUE, 2);
}

static void
fixture_clear (Fixture *f)
{
  cfqp_calibration_unref (f->with_clips);
  cfqp_calibration_unref (f->without_clips);
  cfqp_model_unref (f->cf);
  cfqp_model_unref (f->model);
}

/* Left at its default, clip-free follows the first calibration; set, a
 * calibration for the other graph is refused and the next source is tried. */
static void
test_first_decides_mode (void)
{
  Fixture f;
  g_autoptr (GError) err = NULL;

  fixture_init (&f);
  {
    g_autoptr (CfqpSession) s = cfqp_session_new (f.model, TRUE, FALSE);

    g_assert_true (cfqp_session_get_clip_free (s));
    g_assert_true (cfqp_session_set_first (s, f.with_clips, &err));
    g_assert_no_error (err);
    g_assert_false (cfqp_session_get_clip_free (s));
    g_assert_true (cfqp_session_get_run_model (s) == f.model);
    g_assert_true (cfqp_session_get_active (s) == f.with_clips);
  }
  {
    g_autoptr (CfqpSession) s = cfqp_session_new (f.model, TRUE, TRUE);

    /* calibration-file (for the graph with clips): refused, names the
     * setting; the shipped one (without clips) is then taken */
    g_assert_false (cfqp_session_set_first (s, f.with_clips, &err));
    g_assert_error (err, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_MODEL_MISMATCH);
    g_assert_nonnull (strstr (err->message, "use clip-free=false"));
    g_clear_error (&err);
    g_assert_null (cfqp_session_get_active (s));
    g_assert_true (cfqp_session_get_clip_free (s));
    g_assert_true (cfqp_session_set_first (s, f.without_clips, &err));
    g_assert_no_error (err);
    g_assert_true (cfqp_model_is_clip_free (cfqp_session_get_run_model (s)));
    g_assert_true (cfqp_session_get_active (s) == f.without_clips);
  }
  fixture_clear (&f);
}

/* The model a calibration runs (cfqp_calibration_new_run_model): for a
 * clip-free calibration a new clip-free copy, which it checks against; for
 * one made with the clips the model itself, with one more reference. */
static void
test_run_model (void)
{
  Fixture f;

  fixture_init (&f);
  g_assert_cmpint (f.model->ref_count, ==, 1);
  {
    g_autoptr (CfqpModel) run = cfqp_calibration_new_run_model (f.without_clips, f.model);

    g_assert_true (run != f.model);
    g_assert_true (cfqp_model_is_clip_free (run));
    g_assert_cmpstr (cfqp_model_get_hash (run), ==, cfqp_model_get_hash (f.model));
    g_assert_cmpint (run->ref_count, ==, 1);
    g_assert_cmpint (f.model->ref_count, ==, 1);
    g_assert_true (cfqp_calibration_check_model (f.without_clips, run, NULL));
  }
  {
    g_autoptr (CfqpModel) run = cfqp_calibration_new_run_model (f.with_clips, f.model);

    g_assert_true (run == f.model);
    g_assert_false (cfqp_model_is_clip_free (run));
    g_assert_cmpint (f.model->ref_count, ==, 2);
    g_assert_true (cfqp_calibration_check_model (f.with_clips, run, NULL));
  }
  g_assert_cmpint (f.model->ref_count, ==, 1);
  fixture_clear (&f);
}

/* The model-info text: the model's description, then which graph runs. */
static void
test_describe (void)
{
  Fixture f;
  g_autoptr (CfqpModel) plain = calib_test_load_model ("abpn-x3-cat-op13.onnx");
  g_autofree gchar *model = NULL;
  guint n_removed = 1;

  fixture_init (&f);
  model = cfqp_model_describe (f.model);
  {
    g_autoptr (CfqpSession) s = cfqp_session_new (f.model, TRUE, FALSE);
    g_autofree gchar *d = cfqp_session_describe (s);

    g_assert_true (g_str_has_prefix (d, model));
    g_assert_cmpstr (d + strlen (model), ==, " [clip-free: clips removed]");
  }
  {
    g_autoptr (CfqpSession) s = cfqp_session_new (f.model, TRUE, FALSE);
    g_autofree gchar *d = NULL;

    /* the first calibration is for the graph with its clips: kept */
    g_assert_true (cfqp_session_set_first (s, f.with_clips, NULL));
    d = cfqp_session_describe (s);
    g_assert_cmpstr (d + strlen (model), ==,
        " [clips kept: the calibration is for the model with its clips]");
  }
  {
    g_autoptr (CfqpSession) s = cfqp_session_new (f.model, FALSE, TRUE);
    g_autofree gchar *d = cfqp_session_describe (s);

    g_assert_cmpstr (d, ==, model);
  }
  {
    g_autoptr (CfqpModel) cf = cfqp_model_new_clip_free (plain, &n_removed, NULL);
    g_autoptr (CfqpSession) s = cfqp_session_new (plain, TRUE, FALSE);
    g_autofree gchar *d = cfqp_session_describe (s);
    g_autofree gchar *pd = cfqp_model_describe (plain);

    g_assert_cmpuint (n_removed, ==, 0);
    g_assert_true (g_str_has_prefix (d, pd));
    g_assert_cmpstr (d + strlen (pd), ==, " [clip-free: no clips]");
  }
  fixture_clear (&f);
}

/* What is pending is taken once, at the next boundary; a newer one
 * replaces one not yet taken; a refused one leaves the active one. */
static void
test_hot_swap (void)
{
  Fixture f;
  g_autoptr (GError) err = NULL;
  g_autoptr (CfqpSession) s = NULL;
  g_autoptr (CfqpCalibration) newer = NULL, got = NULL;
  g_autofree char *source = NULL;

  fixture_init (&f);
  s = cfqp_session_new (f.model, FALSE, FALSE);
  g_assert_true (cfqp_session_set_first (s, f.with_clips, &err));
  newer = fake_calib (f.model, FALSE, 7);

  got = cfqp_session_take_pending (s, NULL, NULL, &source, &err);
  g_assert_null (got);
  g_assert_null (source);
  g_assert_no_error (err);

  cfqp_session_set_pending (s, f.with_clips, "file:a");
  cfqp_session_set_pending (s, newer, "self");
  /* not before the boundary */
  g_assert_true (cfqp_session_get_active (s) == f.with_clips);
  got = cfqp_session_take_pending (s, NULL, NULL, &source, &err);
  g_assert_no_error (err);
  g_assert_true (got == newer);
  g_assert_cmpstr (source, ==, "self");
  cfqp_session_set_active (s, got);
  g_assert_true (cfqp_session_get_active (s) == newer);
  g_clear_pointer (&got, cfqp_calibration_unref);
  g_clear_pointer (&source, g_free);
  got = cfqp_session_take_pending (s, NULL, NULL, &source, &err);
  g_assert_null (got);

  /* refused: the other graph's calibration, or another model's */
  cfqp_session_set_pending (s, f.without_clips, "file:b");
  got = cfqp_session_take_pending (s, NULL, NULL, &source, &err);
  g_assert_null (got);
  g_assert_error (err, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_MODEL_MISMATCH);
  g_assert_nonnull (strstr (err->message, "restart the element with "
          "clip-free=true"));
  g_assert_cmpstr (source, ==, "file:b");
  g_clear_error (&err);
  g_clear_pointer (&source, g_free);
  g_assert_true (cfqp_session_get_active (s) == newer);

  fixture_clear (&f);
}

/* A paired calibrator's calibration replaces a pending one. */
static void
test_override (void)
{
  Fixture f;
  g_autoptr (GError) err = NULL;
  g_autoptr (CfqpSession) s = NULL;
  g_autoptr (CfqpCalibration) reg = NULL, got = NULL;
  g_autofree char *source = NULL;

  fixture_init (&f);
  s = cfqp_session_new (f.model, FALSE, FALSE);
  reg = fake_calib (f.model, FALSE, 9);
  cfqp_session_set_pending (s, f.with_clips, "self");
  got = cfqp_session_take_pending (s, reg, "cfqpcalib:cam", &source, &err);
  g_assert_no_error (err);
  g_assert_true (got == reg);
  g_assert_cmpstr (source, ==, "cfqpcalib:cam");
  g_clear_pointer (&got, cfqp_calibration_unref);
  g_clear_pointer (&source, g_free);
  /* the pending one was dropped */
  got = cfqp_session_take_pending (s, NULL, NULL, &source, &err);
  g_assert_null (got);
  fixture_clear (&f);
}

/* A QDQ model's parameters come through the run copy. */
static void
test_embedded (void)
{
  Fixture f;
  g_autoptr (CfqpSession) s = NULL;

  fixture_init (&f);
  s = cfqp_session_new (f.model, FALSE, FALSE);
  g_assert_null (cfqp_session_get_embedded_qparams (s));
  g_assert_cmpuint (cfqp_session_get_n_removed (s), >, 0);
  g_assert_true (cfqp_session_get_model (s) == f.model);
  fixture_clear (&f);
}

/* Runners: INT8 with the active calibration, FP32 without one; at a
 * boundary an INT8 runner takes a calibration in place, an FP32 one (or a
 * rebuild asked for) needs a new runner, which then runs INT8. */
static void
test_runner (void)
{
  Fixture f;
  g_autoptr (GError) err = NULL;
  g_autoptr (CfqpSession) s = NULL;
  g_autoptr (CfqpCalibration) newer = NULL;
  CfqpRunnerOptions o = CFQP_RUNNER_OPTIONS_INIT;
  CfqpRunner *r;
  char *unusable, *unavailable;
  gboolean rebuild;

  fixture_init (&f);
  o.precision = CFQP_PRECISION_INT8;
  o.backend = CFQP_BACKEND_REF;
  o.n_threads = 1;
  s = cfqp_session_new (f.model, FALSE, FALSE);
  newer = fake_calib (f.model, FALSE, 7);

  /* nothing to run INT8 with yet */
  r = cfqp_session_new_runner (s, &o, &unusable, &unavailable, &err);
  g_assert_no_error (err);
  g_assert_null (unusable);
  g_assert_null (unavailable);
  g_assert_cmpint (cfqp_runner_get_precision (r), ==, CFQP_PRECISION_FP32);

  g_assert_true (cfqp_session_apply (s, r, f.with_clips, FALSE, &rebuild,
          &err));
  g_assert_true (rebuild);
  g_assert_true (cfqp_session_get_active (s) == f.with_clips);
  cfqp_runner_free (r);
  r = cfqp_session_new_runner (s, &o, NULL, NULL, &err);
  g_assert_no_error (err);
  g_assert_cmpint (cfqp_runner_get_precision (r), ==, CFQP_PRECISION_INT8);

  /* in place */
  g_assert_true (cfqp_session_apply (s, r, newer, FALSE, &rebuild, &err));
  g_assert_no_error (err);
  g_assert_false (rebuild);
  g_assert_true (cfqp_session_get_active (s) == newer);
  /* with changed properties: a new runner */
  g_assert_true (cfqp_session_apply (s, r, f.with_clips, TRUE, &rebuild,
          &err));
  g_assert_true (rebuild);
  cfqp_runner_free (r);
  fixture_clear (&f);
}

/* Self-calibration: items are images here. */
static CfqpImage *
item_image (gpointer item, guint channels, gpointer user_data)
{
  const CfqpImage *img = item;

  g_assert_cmpuint (channels, ==, img->channels);
  return cfqp_image_new_from_data (img->data, img->channels, img->width,
      img->height);
}

static void
self_failed (const GError *error, gpointer user_data)
{
  g_error ("self-calibration failed: %s", error->message);
}

static CfqpImage *
photo (void)
{
  g_autofree char *path = test_data_path ("images", "grass-x3.png");
  guint w, h;
  g_autofree float *data = test_png_load_planar (path, &w, &h);

  return cfqp_image_new_from_data (data, 3, w, h);
}

/* n_frames items, taken only when the worker is idle, become the pending
 * calibration "self"; then no more are wanted.  Stopping while it runs
 * joins the worker. */
static void
test_self_calibration (void)
{
  Fixture f;
  g_autoptr (GError) err = NULL;
  g_autoptr (CfqpSession) s = NULL;
  CfqpCalibration *got = NULL;
  char *source = NULL;
  gint64 end;

  fixture_init (&f);
  s = cfqp_session_new (f.model, FALSE, FALSE);
  g_assert_false (cfqp_session_wants_sample (s));
  cfqp_session_start_self_calibration (s, 2, 32, item_image, self_failed,
      (GDestroyNotify) cfqp_image_free, NULL);
  for (guint i = 0; i < 2; i++) {
    while (!cfqp_session_wants_sample (s))
      g_usleep (1000);
    cfqp_session_add_sample (s, photo ());
  }
  g_assert_false (cfqp_session_wants_sample (s));
  end = g_get_monotonic_time () + 60 * G_TIME_SPAN_SECOND;
  while (got == NULL && g_get_monotonic_time () < end) {
    got = cfqp_session_take_pending (s, NULL, NULL, &source, &err);
    g_assert_no_error (err);
    if (got == NULL)
      g_usleep (10000);
  }
  g_assert_nonnull (got);
  g_assert_cmpstr (source, ==, "self");
  g_assert_cmpuint (cfqp_calibration_get_n_samples (got), ==, 2);
  g_assert_false (cfqp_calibration_get_clip_free (got));
  cfqp_calibration_unref (got);
  g_free (source);
  cfqp_session_stop_self_calibration (s);

  /* stopped at once (a paired calibrator took over): joined, no more
   * samples wanted; the unref of a session still calibrating stops it */
  cfqp_session_start_self_calibration (s, 1, 32, item_image, self_failed,
      (GDestroyNotify) cfqp_image_free, NULL);
  cfqp_session_add_sample (s, photo ());
  cfqp_session_stop_self_calibration (s);
  g_assert_false (cfqp_session_wants_sample (s));
  cfqp_session_start_self_calibration (s, 3, 32, item_image, self_failed,
      (GDestroyNotify) cfqp_image_free, NULL);
  cfqp_session_add_sample (s, photo ());
  g_clear_pointer (&s, cfqp_session_unref);
  fixture_clear (&f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/session/first-decides-mode", test_first_decides_mode);
  g_test_add_func ("/session/describe", test_describe);
  g_test_add_func ("/session/run-model", test_run_model);
  g_test_add_func ("/session/hot-swap", test_hot_swap);
  g_test_add_func ("/session/override", test_override);
  g_test_add_func ("/session/embedded", test_embedded);
  g_test_add_func ("/session/runner", test_runner);
  g_test_add_func ("/session/self-calibration", test_self_calibration);
  return g_test_run ();
}
