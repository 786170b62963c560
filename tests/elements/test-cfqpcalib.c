/* cfqp — cfqpcalib element tests (GstCheck, GstHarness).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>

#include "cfqp-engine.h"
#include "cfqp-calib.h"
#include "element-test-utils.h"

typedef struct
{
  GPtrArray *progress;          /* GstStructure */
  GPtrArray *published;
  GstStructure *done;           /* the last cfqpcalib-done */
  guint n_done, n_warnings, n_errors, n_eos;
  gint done_before_eos;         /* order: done, then EOS */
  gchar *warning, *error;
  GError *gerror;               /* the first error */
} Result;

static void
result_clear (Result * r)
{
  g_ptr_array_unref (r->progress);
  g_ptr_array_unref (r->published);
  g_clear_pointer (&r->done, gst_structure_free);
  g_free (r->warning);
  g_free (r->error);
  g_clear_error (&r->gerror);
  memset (r, 0, sizeof (*r));
}

static void
result_init (Result * r)
{
  r->progress = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_structure_free);
  r->published = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_structure_free);
  r->done_before_eos = -1;
}

static void
handle (GstMessage * msg, Result * r)
{
  const GstStructure *s = gst_message_get_structure (msg);

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ELEMENT:
      if (gst_structure_has_name (s, "cfqpcalib-progress"))
        g_ptr_array_add (r->progress, gst_structure_copy (s));
      else if (gst_structure_has_name (s, "cfqpcalib-published"))
        g_ptr_array_add (r->published, gst_structure_copy (s));
      else if (gst_structure_has_name (s, "cfqpcalib-done")) {
        r->n_done++;
        if (r->done)
          gst_structure_free (r->done);
        r->done = gst_structure_copy (s);
        if (r->done_before_eos < 0)
          r->done_before_eos = r->n_eos == 0;
      }
      break;
    case GST_MESSAGE_EOS:
      r->n_eos++;
      break;
    case GST_MESSAGE_WARNING:{
      GError *err = NULL;

      gst_message_parse_warning (msg, &err, NULL);
      r->n_warnings++;
      g_free (r->warning);
      r->warning = g_strdup (err->message);
      g_error_free (err);
      break;
    }
    case GST_MESSAGE_ERROR:{
      GError *err = NULL;

      gst_message_parse_error (msg, &err, NULL);
      r->n_errors++;
      g_free (r->error);
      r->error = g_strdup (err->message);
      if (r->gerror == NULL)
        r->gerror = err;
      else
        g_error_free (err);
      break;
    }
    default:
      break;
  }
}

static void
collect (GstBus * bus, Result * r)
{
  GstMessage *msg;

  result_init (r);
  while ((msg = gst_bus_pop (bus))) {
    handle (msg, r);
    gst_message_unref (msg);
  }
}

/* Pushes n BGRx 8×6 frames (frame i filled with value[i]) and EOS through
 * a cfqpcalib on tiny-x3 with the given properties. */
/* Tears down a harness around calib and frees what came with it. */
/* A cfqpcalib on tiny-x<scale>. */
static GstElement *
make_calib (guint scale)
{
  gchar *path = element_test_model_path (scale);
  GstElement *calib = gst_element_factory_make ("cfqpcalib", NULL);

  fail_unless (calib != NULL, "cfqpcalib not found");
  g_object_set (calib, "model-file", path, NULL);
  g_free (path);
  return calib;
}

static void
push_frames (guint n, const guint8 * values, Result * r,
    const gchar * first_property, ...)
{
  GstElement *calib = make_calib (3);
  GstBus *bus;
  GstHarness *h;
  va_list args;
  guint i;

  g_object_set (calib, "augmentation", 0, NULL);
  if (first_property) {
    va_start (args, first_property);
    g_object_set_valist (G_OBJECT (calib), first_property, args);
    va_end (args);
  }
  /* not live, as a file: wait, never drop */
  h = element_test_harness_new (calib, FALSE, "video/x-raw,format=BGRx,"
      "width=8,height=6,framerate=30/1", &bus);
  for (i = 0; i < n; i++) {
    GstBuffer *buf = gst_buffer_new_and_alloc (8 * 6 * 4);

    gst_buffer_memset (buf, 0, values[i], 8 * 6 * 4);
    GST_BUFFER_PTS (buf) = i * GST_SECOND / 30;
    fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  }
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  collect (bus, r);

  element_test_harness_free (h, calib, bus);
}

/* cfqpcalib calibrates the clip-free copy by default: check against it */
static CfqpModel *
clip_free_model (const gchar * path)
{
  CfqpModel *model = cfqp_model_new_from_file (path, NULL), *cf;

  fail_unless (model != NULL);
  cf = cfqp_model_new_clip_free (model, NULL, NULL);
  cfqp_model_unref (model);
  return cf;
}

static guint8 distinct[16] = { 0, 200, 40, 240, 80, 120, 20, 160, 60, 220,
  100, 140, 30, 180, 90, 250
};

static guint
field_uint (GPtrArray * a, guint i, const gchar * f)
{
  guint v = 0;

  fail_unless (gst_structure_get_uint (g_ptr_array_index (a, i), f, &v), "%s",
      f);
  return v;
}

GST_START_TEST (test_sampling)
{
  Result r = { 0, };
  guint i;

  /* every 3rd of 10 frames: frames 0, 3, 6, 9; non-live: none dropped */
  push_frames (10, distinct, &r, "sample-interval", 3, "update-interval", 0,
      NULL);
  fail_unless_equals_int (r.progress->len, 4);
  for (i = 0; i < r.progress->len; i++) {
    guint64 frames, dropped;
    GstStructure *s = g_ptr_array_index (r.progress, i);

    fail_unless_equals_int (field_uint (r.progress, i, "samples"), i + 1);
    fail_unless_equals_int (field_uint (r.progress, i, "rd-size"), i + 1);
    fail_unless (gst_structure_get_uint64 (s, "frames", &frames));
    fail_unless (gst_structure_get_uint64 (s, "dropped", &dropped));
    fail_unless_equals_uint64 (frames, i * 3 + 1);
    fail_unless_equals_uint64 (dropped, 0);
  }
  /* update-interval 0: published once, at EOS, then done, then EOS */
  fail_unless_equals_int (r.published->len, 1);
  fail_unless_equals_int (field_uint (r.published, 0, "n-samples"), 4);
  fail_unless_equals_int (r.n_done, 1);
  fail_unless_equals_int (r.done_before_eos, 1);
  fail_unless_equals_int (r.n_eos, 1);
  result_clear (&r);
}

GST_END_TEST;

GST_START_TEST (test_bounded_and_scene_aware)
{
  static const guint8 same[12] = { 50, 50, 50, 50, 50, 50, 50, 50, 50, 50,
    50, 50
  };
  Result r = { 0, };
  guint i;

  /* max-samples bounds the RD, every frame is still offered */
  push_frames (12, distinct, &r, "max-samples", 3, "update-interval", 0, NULL);
  fail_unless_equals_int (r.progress->len, 12);
  for (i = 0; i < r.progress->len; i++)
    fail_unless (field_uint (r.progress, i, "rd-size") <= 3);
  fail_unless_equals_int (field_uint (r.published, 0, "n-samples"), 3);
  result_clear (&r);

  /* a static scene does not fill the RD with copies */
  memset (&r, 0, sizeof (r));
  push_frames (12, same, &r, "update-interval", 0, NULL);
  fail_unless_equals_int (r.progress->len, 12);
  fail_unless_equals_int (field_uint (r.progress, 11, "rd-size"), 1);
  result_clear (&r);
}

GST_END_TEST;

/* update-interval: published mid-stream and at EOS, to location; the file
 * loads and matches the model. */
GST_START_TEST (test_publish_location)
{
  gchar *dir = g_dir_make_tmp ("cfqpcalib-XXXXXX", NULL);
  gchar *out = g_build_filename (dir, "out.calib.json", NULL);
  gchar *qdq = g_build_filename (dir, "out.qdq.onnx", NULL);
  gchar *mpath = element_test_model_path (3);
  CfqpModel *model = clip_free_model (mpath), *qmodel;
  CfqpCalibration *calib;
  CfqpQParams *qp;
  GError *err = NULL;
  Result r = { 0, };
  guint i;

  push_frames (7, distinct, &r, "update-interval", 3, "location", out,
      "calibration-name", "test-publish", "export-qdq", qdq, NULL);
  /* after 3 and 6 kept samples, and at EOS for the 7th */
  fail_unless_equals_int (r.published->len, 3);
  fail_unless_equals_string (gst_structure_get_string (g_ptr_array_index
          (r.published, 0), "location"), out);
  fail_unless_equals_int (field_uint (r.published, 0, "n-samples"), 3);
  fail_unless_equals_int (field_uint (r.published, 2, "n-samples"), 7);
  fail_unless_equals_int (r.n_warnings, 0);
  fail_unless_equals_int (r.done_before_eos, 1);

  calib = cfqp_calibration_load (out, model, &err);
  fail_unless (calib != NULL, "%s", err ? err->message : "?");
  fail_unless (cfqp_calibration_get_clip_free (calib));
  fail_unless_equals_int (cfqp_calibration_get_n_samples (calib), 7);
  /* the element's defaults reach the calibration */
  fail_unless_equals_int (cfqp_calibration_get_settings (calib)->weight_rounding,
      CFQP_WEIGHT_ROUNDING_GPTQ);
  fail_unless_equals_int (cfqp_calibration_get_settings (calib)->residual_grid,
      CFQP_RESIDUAL_GRID_PIXEL);
  fail_unless_equals_string (cfqp_calibration_get_model_hash (calib),
      cfqp_model_get_hash (model));

  /* the QDQ export carries the same parameters */
  fail_unless_equals_string (gst_structure_get_string (g_ptr_array_index
          (r.published, 2), "export-qdq"), qdq);
  qmodel = cfqp_model_new_from_file (qdq, &err);
  fail_unless (qmodel != NULL, "%s", err ? err->message : "?");
  fail_unless (cfqp_model_get_embedded_qparams (qmodel) != NULL);
  qp = cfqp_calibration_to_qparams (calib, model, NULL);
  fail_unless (qp != NULL);
  fail_unless_equals_int (cfqp_model_get_n_tensors (qmodel),
      cfqp_model_get_n_tensors (model));
  for (i = 0; i < cfqp_model_get_n_tensors (model); i++)
    if (!cfqp_model_tensor_is_derived (model, i) && i != 0 &&
        i != cfqp_model_get_output_tensor (model))
      fail_unless (fabsf (cfqp_model_get_embedded_qparams (qmodel)[i].scale -
              qp[i].scale) <= 1e-6f * qp[i].scale, "tensor %u", i);
  g_free (qp);
  cfqp_model_unref (qmodel);
  cfqp_calibration_unref (calib);

  result_clear (&r);
  cfqp_model_unref (model);
  g_unlink (out);
  g_unlink (qdq);
  g_rmdir (dir);
  g_free (out);
  g_free (qdq);
  g_free (dir);
  g_free (mpath);
}

GST_END_TEST;

/* residual-grid reaches the calibration it writes (the default, pixel, is
 * checked above). */
GST_START_TEST (test_residual_grid_property)
{
  gchar *dir = g_dir_make_tmp ("cfqpcalib-XXXXXX", NULL);
  gchar *out = g_build_filename (dir, "out.calib.json", NULL);
  gchar *mpath = element_test_model_path (3);
  CfqpModel *model = clip_free_model (mpath);
  CfqpCalibration *calib;
  GError *err = NULL;
  Result r = { 0, };

  push_frames (3, distinct, &r, "update-interval", 0, "location", out,
      "residual-grid", CFQP_RESIDUAL_GRID_CALIBRATED, NULL);
  calib = cfqp_calibration_load (out, model, &err);
  fail_unless (calib != NULL, "%s", err ? err->message : "?");
  fail_unless_equals_int (cfqp_calibration_get_settings (calib)->residual_grid,
      CFQP_RESIDUAL_GRID_CALIBRATED);
  cfqp_calibration_unref (calib);
  result_clear (&r);
  cfqp_model_unref (model);
  g_unlink (out);
  g_rmdir (dir);
  g_free (out);
  g_free (dir);
  g_free (mpath);
}

GST_END_TEST;

/* export-qdq-precision=int16 writes the 16-bit program: an opset-21 file
 * (uint16 activations, int16 weights), which the engine itself refuses to
 * import, saying so; the default writes the opset-13 INT8 file. */
GST_START_TEST (test_export_qdq_int16)
{
  gchar *dir = g_dir_make_tmp ("cfqpcalib-XXXXXX", NULL);
  gchar *qdq = g_build_filename (dir, "out-qdq16.onnx", NULL);
  CfqpModel *qmodel;
  GError *err = NULL;
  Result r = { 0, };
  gint precision = -1;

  push_frames (3, distinct, &r, "update-interval", 0, "export-qdq", qdq,
      "export-qdq-precision", 1 /* int16 */, NULL);
  fail_unless_equals_int (r.n_warnings, 0);
  fail_unless (g_file_test (qdq, G_FILE_TEST_IS_REGULAR));
  qmodel = cfqp_model_new_from_file (qdq, &err);
  fail_unless (qmodel == NULL);
  fail_unless (err != NULL && strstr (err->message, "opset 21") != NULL, "%s",
      err ? err->message : "no error");
  g_clear_error (&err);
  result_clear (&r);

  {
    GstElement *calib = gst_element_factory_make ("cfqpcalib", NULL);

    g_object_get (calib, "export-qdq-precision", &precision, NULL);
    fail_unless_equals_int (precision, 0);      /* int8 */
    gst_object_unref (calib);
  }
  g_unlink (qdq);
  g_rmdir (dir);
  g_free (qdq);
  g_free (dir);
}

GST_END_TEST;

/* An unwritable location is an element error naming it, posted once for
 * the two publications that fail; the stream goes on: every push was
 * OK, done and EOS follow, and the calibration is still published. */
GST_START_TEST (test_unwritable_location)
{
  const gchar *out = "/nonexistent/cfqp/dir/out.calib.json";
  Result r = { 0, };

  push_frames (4, distinct, &r, "update-interval", 2, "location", out,
      "calibration-name", "test-unwritable", NULL);
  fail_unless_equals_int (r.n_errors, 1);
  fail_unless (strstr (r.error, out) != NULL, "%s", r.error);
  fail_unless (g_error_matches (r.gerror, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_OPEN_WRITE), "%s", r.error);
  fail_unless_equals_int (r.n_warnings, 0);
  fail_unless_equals_int (r.published->len, 2);
  fail_unless (gst_structure_get_string (g_ptr_array_index (r.published, 0),
          "location") == NULL);
  fail_unless_equals_int (r.n_done, 1);
  fail_unless_equals_int (r.n_eos, 1);
  result_clear (&r);
}

GST_END_TEST;

/* A live upstream is never stalled: 48 distinct 320×180 frames pushed as
 * fast as the harness can while the worker runs the FP32 model, CFQP and
 * a publication after every sample.  render() must drop what the worker
 * cannot take instead of waiting: every push returns at once with OK, the
 * frames dropped plus those taken are all frames, and pushing them all
 * took less time than the worker needed to finish. */
GST_START_TEST (test_live_never_stalls)
{
  const guint n = 48, w = 320, hgt = 180;
  GstElement *calib = make_calib (3);
  GstBus *bus;
  GstHarness *h;
  gint64 t0, t_pushed, t_done, slowest = 0;
  guint64 dropped = 0;
  Result r = { 0, };
  guint i;

  /* no EOS deadline: the last progress message must follow the last
   * drop, which a live stream's 2 s deadline cuts short on a slow machine
   * (ASan under load); stalling is what this test is about, not EOS */
  g_object_set (calib, "update-interval", 1, "eos-timeout", G_MAXINT, NULL);
  h = element_test_harness_new (calib, TRUE, "video/x-raw,format=RGB,"
      "width=320,height=180,framerate=30/1", &bus);
  t0 = g_get_monotonic_time ();
  for (i = 0; i < n; i++) {
    GstBuffer *buf = gst_buffer_new_and_alloc (w * 3 * hgt);
    GstMapInfo map;
    gint64 t = g_get_monotonic_time ();

    gst_buffer_map (buf, &map, GST_MAP_WRITE);
    for (gsize k = 0; k < map.size; k++)
      map.data[k] = (guint8) ((k * (i + 1) * 7) >> 3);
    gst_buffer_unmap (buf, &map);
    GST_BUFFER_PTS (buf) = i * GST_SECOND / 30;
    fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
    slowest = MAX (slowest, g_get_monotonic_time () - t);
  }
  t_pushed = g_get_monotonic_time () - t0;
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  t_done = g_get_monotonic_time () - t0;
  collect (bus, &r);

  fail_unless_equals_int (r.n_done, 1);
  fail_unless (r.progress->len > 0);
  fail_unless (gst_structure_get_uint64 (g_ptr_array_index (r.progress,
              r.progress->len - 1), "dropped", &dropped));
  GST_INFO ("%u frames pushed in %" G_GINT64_FORMAT " us (slowest %"
      G_GINT64_FORMAT " us), done after %" G_GINT64_FORMAT " us: %u taken, %"
      G_GUINT64_FORMAT " dropped", n, t_pushed, slowest, t_done,
      r.progress->len, dropped);
  fail_unless (dropped > 0, "nothing dropped: the worker kept up");
  fail_unless_equals_uint64 (dropped + r.progress->len, n);
  fail_unless (t_pushed < t_done, "pushing took %" G_GINT64_FORMAT
      " us, the worker %" G_GINT64_FORMAT " us", t_pushed, t_done);
  result_clear (&r);

  element_test_harness_free (h, calib, bus);
}

GST_END_TEST;

/* Flushing in the middle: queue dropped, no deadlock, EOS still completes. */
GST_START_TEST (test_flush)
{
  GstElement *calib = make_calib (2);
  GstBus *bus;
  GstHarness *h;
  Result r = { 0, };
  guint i;

  g_object_set (calib, "update-interval", 0, NULL);
  /* not live, as a file: wait, never drop */
  h = element_test_harness_new (calib, FALSE, "video/x-raw,format=I420,"
      "width=16,height=10,framerate=30/1", &bus);
  for (i = 0; i < 8; i++) {
    GstBuffer *buf = gst_buffer_new_and_alloc (16 * 10 * 3 / 2);

    gst_buffer_memset (buf, 0, distinct[i], 16 * 10 * 3 / 2);
    fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
    if (i == 3) {
      fail_unless (gst_harness_push_event (h, gst_event_new_flush_start ()));
      fail_unless (gst_harness_push_event (h,
              gst_event_new_flush_stop (TRUE)));
      gst_harness_set_src_caps_str (h, "video/x-raw,format=I420,width=16,"
          "height=10,framerate=30/1");
    }
  }
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  collect (bus, &r);
  fail_unless_equals_int (r.n_done, 1);
  fail_unless_equals_int (r.n_errors, 0);
  fail_unless (r.published->len == 1);
  result_clear (&r);

  element_test_harness_free (h, calib, bus);
}

GST_END_TEST;

static void
run_pipeline (const gchar * desc, Result * r)
{
  GError *err = NULL;
  GstElement *pipe = gst_parse_launch (desc, &err);
  Result tmp = { 0, };
  GstBus *bus;
  GstMessage *msg;

  fail_unless (pipe != NULL, "%s: %s", desc, err ? err->message : "?");
  if (r == NULL)
    r = &tmp;
  result_init (r);
  bus = gst_element_get_bus (pipe);
  fail_if (gst_element_set_state (pipe, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  while (r->n_eos == 0 && r->n_errors == 0 &&
      (msg = gst_bus_timed_pop (bus, 30 * GST_SECOND))) {
    handle (msg, r);
    gst_message_unref (msg);
  }
  fail_unless_equals_int (r->n_errors, 0);
  fail_unless_equals_int (r->n_eos, 1);
  gst_element_set_state (pipe, GST_STATE_NULL);
  if (r == &tmp)
    result_clear (&tmp);
  gst_object_unref (bus);
  gst_object_unref (pipe);
}

/* Offline calibration from a folder of PNG images. */
GST_START_TEST (test_offline_folder)
{
  gchar *dir = g_dir_make_tmp ("cfqpcalib-XXXXXX", NULL);
  gchar *out = g_build_filename (dir, "folder.calib.json", NULL);
  gchar *mpath = element_test_model_path (3);
  CfqpModel *model = clip_free_model (mpath);
  CfqpCalibration *calib;
  GError *err = NULL;
  gchar *desc;
  Result r = { 0, };
  guint i;

  /* four different small images: 0.png … 3.png */
  for (i = 0; i < 4; i++) {
    desc = g_strdup_printf ("videotestsrc num-buffers=1 pattern=%u ! "
        "video/x-raw,width=%u,height=%u ! pngenc ! filesink location=%s/%u.png",
        i == 0 ? 0 : i + 10, 20 + 4 * i, 14 + 2 * i, dir, i);
    run_pipeline (desc, NULL);
    g_free (desc);
  }
  desc = g_strdup_printf ("multifilesrc location=%s/%%d.png index=0 "
      "stop-index=3 caps=image/png,framerate=1/1 ! pngdec ! videoconvert ! "
      "cfqpcalib model-file=%s location=%s", dir, mpath, out);
  run_pipeline (desc, &r);
  g_free (desc);
  fail_unless_equals_int (r.progress->len, 4);
  fail_unless_equals_int (r.n_done, 1);
  fail_unless (r.published->len >= 1);

  calib = cfqp_calibration_load (out, model, &err);
  fail_unless (calib != NULL, "%s", err ? err->message : "?");
  fail_unless_equals_int (cfqp_calibration_get_n_samples (calib), 4);
  fail_unless (cfqp_calibration_check_model (calib, model, NULL));
  cfqp_calibration_unref (calib);

  result_clear (&r);
  cfqp_model_unref (model);
  for (i = 0; i < 4; i++) {
    gchar *p = g_strdup_printf ("%s/%u.png", dir, i);
    g_unlink (p);
    g_free (p);
  }
  g_unlink (out);
  g_rmdir (dir);
  g_free (out);
  g_free (dir);
  g_free (mpath);
}

GST_END_TEST;

GST_START_TEST (test_missing_model)
{
  const gchar *path = "/nonexistent/cfqp/calib-model.onnx";
  GstElement *calib = gst_element_factory_make ("cfqpcalib", NULL);
  gchar *text;

  g_object_set (calib, "model-file", path, NULL);
  text = element_test_expect_start_failure (calib);
  fail_unless (strstr (text, path) != NULL, "%s", text);
  g_free (text);
  gst_object_unref (calib);
}

GST_END_TEST;

/* A FIFO or a directory as model-file: a clear refusal at once (the FIFO
 * used to block READY->PAUSED until a writer came). */
GST_START_TEST (test_model_not_regular)
{
  gchar *dir = g_dir_make_tmp ("cfqpcalib-XXXXXX", NULL);
  gchar *fifo = g_build_filename (dir, "model.onnx", NULL);
  GstElement *calib = gst_element_factory_make ("cfqpcalib", NULL);
  gchar *text;

  fail_unless (mkfifo (fifo, 0600) == 0);
  g_object_set (calib, "model-file", fifo, NULL);
  text = element_test_expect_start_failure_quickly (calib, fifo);
  fail_unless (strstr (text, fifo) && strstr (text, "FIFO"), "%s", text);
  g_free (text);
  g_object_set (calib, "model-file", dir, NULL);
  text = element_test_expect_start_failure_quickly (calib, NULL);
  fail_unless (strstr (text, "is a directory") != NULL, "%s", text);
  g_free (text);
  gst_object_unref (calib);
  g_unlink (fifo);
  g_rmdir (dir);
  g_free (fifo);
  g_free (dir);
}

GST_END_TEST;

/* n distinct w×h RGB frames and EOS through a non-live cfqpcalib on
 * tiny-x3 (full augmentation, publishing only at EOS); returns how long EOS
 * took, in microseconds. */
static gint64
push_large_frames (guint n, guint w, guint hgt, Result * r,
    const gchar * first_property, ...)
{
  GstElement *calib = make_calib (3);
  GstBus *bus;
  GstHarness *h;
  va_list args;
  gint64 t;
  guint i;
  gchar *caps;

  g_object_set (calib, "update-interval", 0, NULL);
  if (first_property) {
    va_start (args, first_property);
    g_object_set_valist (G_OBJECT (calib), first_property, args);
    va_end (args);
  }
  caps = g_strdup_printf ("video/x-raw,format=RGB,width=%u,height=%u,"
      "framerate=30/1", w, hgt);
  h = element_test_harness_new (calib, FALSE, caps, &bus);
  g_free (caps);
  for (i = 0; i < n; i++) {
    GstBuffer *buf = gst_buffer_new_and_alloc (w * hgt * 3);
    GstMapInfo map;

    gst_buffer_map (buf, &map, GST_MAP_WRITE);
    for (gsize k = 0; k < map.size; k++)
      map.data[k] = (guint8) ((k * (i + 1) * 7) >> 3);
    gst_buffer_unmap (buf, &map);
    GST_BUFFER_PTS (buf) = i * GST_SECOND / 30;
    fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  }
  t = g_get_monotonic_time ();
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  t = g_get_monotonic_time () - t;
  collect (bus, r);
  element_test_harness_free (h, calib, bus);
  return t;
}

static gboolean
done_field (Result * r, const gchar * field)
{
  gboolean v = FALSE;

  fail_unless_equals_int (r->n_done, 1);
  fail_unless (gst_structure_get_boolean (r->done, field, &v), "%s", field);
  return v;
}

/* eos-timeout bounds how long EOS waits for the calibration being computed
 * (a live pipeline waited 24 s after 20 s of video): with 0 the final
 * calibration is cancelled and done says timed-out; a non-live upstream
 * (-1, the default) waits for it. */
GST_START_TEST (test_eos_timeout)
{
  Result r = { 0, };
  gint64 t_full, t_cut;

  t_full = push_large_frames (4, 320, 240, &r, "augmentation", 4, NULL);
  fail_unless (done_field (&r, "final-published"));
  fail_if (done_field (&r, "timed-out"));
  fail_unless_equals_int (r.published->len, 1);
  result_clear (&r);

  t_cut = push_large_frames (4, 320, 240, &r, "augmentation", 4,
      "eos-timeout", 0, NULL);
  fail_if (done_field (&r, "final-published"));
  fail_unless (done_field (&r, "timed-out"));
  fail_unless_equals_int (r.published->len, 0);
  fail_unless_equals_int (r.n_eos, 1);
  GST_INFO ("EOS took %" G_GINT64_FORMAT " us waiting, %" G_GINT64_FORMAT
      " us with eos-timeout=0", t_full, t_cut);
  fail_unless (t_cut < t_full, "%" G_GINT64_FORMAT " >= %" G_GINT64_FORMAT,
      t_cut, t_full);
  result_clear (&r);
}

GST_END_TEST;

/* Interlaced caps are refused with an error saying to deinterlace; caps
 * without interlace-mode (progressive) are taken. */
GST_START_TEST (test_progressive_only)
{
  GstElement *calib = make_calib (3);
  GstBus *bus;
  GstHarness *h;
  GstMessage *msg;
  GError *err = NULL;

  /* the harness's default upstream: live */
  h = element_test_harness_new (calib, TRUE, "video/x-raw,format=RGB,"
      "width=8,height=6,framerate=30/1,interlace-mode=interleaved", &bus);
  fail_if (gst_harness_push (h, gst_buffer_new_and_alloc (8 * 6 * 3)) ==
      GST_FLOW_OK);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  gst_message_parse_error (msg, &err, NULL);
  fail_unless (strstr (err->message, "deinterlace") != NULL, "%s",
      err->message);
  g_error_free (err);
  gst_message_unref (msg);
  element_test_harness_free (h, calib, bus);
}

GST_END_TEST;

GST_START_TEST (test_properties)
{
  GstElement *calib = gst_element_factory_make ("cfqpcalib", NULL);
  gchar *model_file, *location, *name;
  guint scale, max_samples, interval, update;
  gint augmentation, observer;
  gboolean clip_free;

  g_object_get (calib, "model-file", &model_file, "scale-factor", &scale,
      "location", &location, "max-samples", &max_samples, "sample-interval",
      &interval, "update-interval", &update, "augmentation", &augmentation,
      "observer", &observer, "calibration-name", &name, "clip-free",
      &clip_free, NULL);
  fail_unless (model_file == NULL);
  fail_unless (location == NULL);
  fail_unless (name == NULL);
  fail_unless_equals_int (scale, 3);
  fail_unless_equals_int (max_samples, 64);
  fail_unless_equals_int (interval, 1);
  fail_unless_equals_int (update, 16);
  fail_unless_equals_int (augmentation, 4);     /* full */
  fail_unless_equals_int (observer, 2); /* mse */
  fail_unless (clip_free);
  {
    gint rounding, grid;

    g_object_get (calib, "weight-rounding", &rounding, "residual-grid", &grid, NULL);
    fail_unless_equals_int (rounding, CFQP_WEIGHT_ROUNDING_GPTQ);
    fail_unless_equals_int (grid, CFQP_RESIDUAL_GRID_PIXEL);
    gst_util_set_object_arg (G_OBJECT (calib), "residual-grid", "calibrated");
    g_object_get (calib, "residual-grid", &grid, NULL);
    fail_unless_equals_int (grid, CFQP_RESIDUAL_GRID_CALIBRATED);
  }
  {
    gint eos_timeout = 0;

    g_object_get (calib, "eos-timeout", &eos_timeout, NULL);
    fail_unless_equals_int (eos_timeout, -1);
  }

  gst_util_set_object_arg (G_OBJECT (calib), "augmentation", "review");
  gst_util_set_object_arg (G_OBJECT (calib), "observer", "percentile");
  g_object_set (calib, "location", "x.json", "scale-factor", 2, NULL);
  g_object_get (calib, "location", &location, "scale-factor", &scale,
      "augmentation", &augmentation, "observer", &observer, NULL);
  fail_unless_equals_string (location, "x.json");
  fail_unless_equals_int (scale, 2);
  fail_unless_equals_int (augmentation, 1);
  fail_unless_equals_int (observer, 1);
  g_free (location);
  gst_object_unref (calib);
}

GST_END_TEST;

static Suite *
cfqpcalib_suite (void)
{
  Suite *s = suite_create ("cfqpcalib");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, 60);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_sampling);
  tcase_add_test (tc, test_bounded_and_scene_aware);
  tcase_add_test (tc, test_publish_location);
  tcase_add_test (tc, test_unwritable_location);
  tcase_add_test (tc, test_live_never_stalls);
  tcase_add_test (tc, test_flush);
  tcase_add_test (tc, test_offline_folder);
  tcase_add_test (tc, test_missing_model);
  tcase_add_test (tc, test_properties);
  tcase_add_test (tc, test_residual_grid_property);
  tcase_add_test (tc, test_export_qdq_int16);
  tcase_add_test (tc, test_model_not_regular);
  tcase_add_test (tc, test_progressive_only);
  tcase_add_test (tc, test_eos_timeout);
  return s;
}

GST_CHECK_MAIN (cfqpcalib);
