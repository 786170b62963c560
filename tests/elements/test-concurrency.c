/* cfqp — cfqpsr / cfqpcalib property concurrency (GstCheck).
 *
 * Frames stream through
 *   videotestsrc ! tee ! queue ! cfqpsr ! fakesink
 *              tee ! queue ! cfqpcalib
 * with cfqpcalib publishing both to the file cfqpsr watches and to its
 * calibration-name, while threads hammer the elements' properties: the
 * PLAYING-mutable ones of cfqpsr (precision, n-threads, backend) with new
 * values, every readable property of both elements (model-info,
 * active-backend, calibration-file, …), the READY-only strings rewritten
 * with their own value (set/free races with the streaming thread's
 * readers), cfqpcalib's update-interval and sample-interval, and caps
 * queries on cfqpsr's pads.  No crash, no deadlock (EOS within a bounded
 * time), no warning or error, every frame out, and every hammer thread got
 * through many rounds while the frames streamed.  A second test does the
 * same while the main thread cycles PLAYING→PAUSED→READY→NULL (both
 * queues after the tee are unbounded: with a bounded one, the slower
 * branch fills its queue, tee blocks on it and the other sink never gets
 * the buffer it needs to preroll in PAUSED — the usual tee deadlock, not
 * the elements').
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>

#include "cfqp-engine.h"
#include "cfqp-calib.h"
#include "element-test-utils.h"

#define N_FRAMES 2000
#define WAIT_S 120

typedef struct
{
  GstElement *pipe, *sr, *cal;
  gint stop;
  gint frames;
  gint rounds[4];
  gchar *cpath;
} Ctx;

static void
count_handoff (GstElement * sink, GstBuffer * buf, GstPad * pad, gpointer data)
{
  g_atomic_int_inc ((gint *) data);
}

/* Reads every readable property of el. */
static void
read_all (GstElement * el)
{
  guint n, i;
  GParamSpec **specs =
      g_object_class_list_properties (G_OBJECT_GET_CLASS (el), &n);

  for (i = 0; i < n; i++) {
    GValue v = G_VALUE_INIT;

    if (!(specs[i]->flags & G_PARAM_READABLE))
      continue;
    g_value_init (&v, specs[i]->value_type);
    g_object_get_property (G_OBJECT (el), specs[i]->name, &v);
    if (G_VALUE_HOLDS_STRING (&v) && g_value_get_string (&v) != NULL)
      fail_unless (strlen (g_value_get_string (&v)) < 4096);
    g_value_unset (&v);
  }
  g_free (specs);
}

/* Rewrites a string property with its own value (free + dup under the
 * object lock while other threads read it). */
static void
rewrite_string (GstElement * el, const gchar * name)
{
  gchar *v = NULL;

  g_object_get (el, name, &v, NULL);
  g_object_set (el, name, v, NULL);
  g_free (v);
}

/* cfqpsr's PLAYING-mutable properties, new values each round. */
static gpointer
hammer_sr_settings (gpointer data)
{
  Ctx *c = data;
  GRand *r = g_rand_new_with_seed (1);

  while (!g_atomic_int_get (&c->stop)) {
    gchar *active = NULL, *info = NULL;

    g_object_set (c->sr, "precision", g_rand_int_range (r, 0, 2),
        "n-threads", g_rand_int_range (r, 0, 4), NULL);
    g_object_set (c->sr, "backend", 1 /* cpu */ , NULL);
    g_object_get (c->sr, "active-backend", &active, "model-info", &info,
        NULL);
    /* NULL only outside PAUSED/PLAYING */
    g_free (active);
    g_free (info);
    g_atomic_int_inc (&c->rounds[0]);
    g_usleep (g_rand_int_range (r, 0, 500));
  }
  g_rand_free (r);
  return NULL;
}

/* Every property of cfqpsr read; its strings rewritten. */
static gpointer
hammer_sr_strings (gpointer data)
{
  Ctx *c = data;

  while (!g_atomic_int_get (&c->stop)) {
    read_all (c->sr);
    rewrite_string (c->sr, "calibration-file");
    rewrite_string (c->sr, "model-file");
    rewrite_string (c->sr, "calibration-name");
    rewrite_string (c->sr, "device");
    g_atomic_int_inc (&c->rounds[1]);
    g_thread_yield ();
  }
  return NULL;
}

/* cfqpcalib: every property read, intervals changed, strings rewritten. */
static gpointer
hammer_calib (gpointer data)
{
  Ctx *c = data;
  GRand *r = g_rand_new_with_seed (2);

  while (!g_atomic_int_get (&c->stop)) {
    read_all (c->cal);
    g_object_set (c->cal, "update-interval", g_rand_int_range (r, 4, 12),
        "sample-interval", g_rand_int_range (r, 1, 3), NULL);
    rewrite_string (c->cal, "location");
    rewrite_string (c->cal, "calibration-name");
    rewrite_string (c->cal, "model-file");
    g_atomic_int_inc (&c->rounds[2]);
    g_usleep (g_rand_int_range (r, 0, 300));
  }
  g_rand_free (r);
  return NULL;
}

/* Caps queries through cfqpsr (transform_caps reads the model under the
 * object lock) and position queries on the pipeline. */
static gpointer
hammer_queries (gpointer data)
{
  Ctx *c = data;
  GstPad *src = gst_element_get_static_pad (c->sr, "src");
  GstPad *sink = gst_element_get_static_pad (c->sr, "sink");

  while (!g_atomic_int_get (&c->stop)) {
    GstCaps *caps;
    gint64 pos;

    caps = gst_pad_query_caps (src, NULL);
    gst_caps_unref (caps);
    caps = gst_pad_query_caps (sink, NULL);
    gst_caps_unref (caps);
    gst_element_query_position (c->pipe, GST_FORMAT_TIME, &pos);
    g_atomic_int_inc (&c->rounds[3]);
    g_usleep (200);
  }
  gst_object_unref (src);
  gst_object_unref (sink);
  return NULL;
}

/* The file cfqpsr starts with: a calibration of tiny-x2 from synthetic
 * frames (cfqpcalib replaces it while streaming). */
static void
save_calibration (const gchar * path)
{
  cfqp_calibration_unref (element_test_make_calibration (2, TRUE, 0, 1.0f, path));
}

static Ctx *
make_pipeline (guint n_frames, gchar ** dir)
{
  Ctx *c = g_new0 (Ctx, 1);
  gchar *mpath = element_test_model_path (2);
  gchar *desc;
  GstElement *out;
  GError *err = NULL;

  *dir = g_dir_make_tmp ("cfqp-conc-XXXXXX", NULL);
  c->cpath = g_build_filename (*dir, "conc.calib.json", NULL);
  save_calibration (c->cpath);
  desc = g_strdup_printf ("videotestsrc num-buffers=%u pattern=ball ! "
      "video/x-raw,format=RGB,width=32,height=24,framerate=30/1 ! tee name=t "
      "! queue max-size-buffers=0 max-size-bytes=0 max-size-time=0 ! "
      "cfqpsr name=sr model-file=%s calibration-file=%s "
      "calibration-name=conc backend=cpu ! fakesink name=out sync=false "
      "signal-handoffs=true t. ! queue max-size-buffers=0 max-size-bytes=0 "
      "max-size-time=0 ! cfqpcalib name=cal model-file=%s "
      "location=%s calibration-name=conc update-interval=8 max-samples=4 "
      "augmentation=none", n_frames, mpath, c->cpath, mpath, c->cpath);
  c->pipe = gst_parse_launch (desc, &err);
  fail_unless (c->pipe != NULL, "%s", err ? err->message : "?");
  c->sr = gst_bin_get_by_name (GST_BIN (c->pipe), "sr");
  c->cal = gst_bin_get_by_name (GST_BIN (c->pipe), "cal");
  out = gst_bin_get_by_name (GST_BIN (c->pipe), "out");
  g_signal_connect (out, "handoff", G_CALLBACK (count_handoff), &c->frames);
  gst_object_unref (out);
  g_free (desc);
  g_free (mpath);
  return c;
}

static void
free_pipeline (Ctx * c, gchar * dir)
{
  fail_unless_equals_int (gst_element_set_state (c->pipe, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_object_unref (c->sr);
  gst_object_unref (c->cal);
  gst_object_unref (c->pipe);
  g_unlink (c->cpath);
  g_rmdir (dir);
  g_free (c->cpath);
  g_free (dir);
  g_free (c);
}

static void
start_hammers (Ctx * c, GThread ** threads)
{
  threads[0] = g_thread_new ("hammer-sr", hammer_sr_settings, c);
  threads[1] = g_thread_new ("hammer-str", hammer_sr_strings, c);
  threads[2] = g_thread_new ("hammer-cal", hammer_calib, c);
  threads[3] = g_thread_new ("hammer-q", hammer_queries, c);
}

static void
stop_hammers (Ctx * c, GThread ** threads)
{
  guint i;

  g_atomic_int_set (&c->stop, 1);
  for (i = 0; i < 4; i++)
    g_thread_join (threads[i]);
}

/* Waits (bounded) for EOS; errors and warnings fail.  Returns the number
 * of cfqpsr-calibration messages seen. */
static guint
wait_eos (Ctx * c, gint64 deadline)
{
  GstBus *bus = gst_element_get_bus (c->pipe);
  gboolean eos = FALSE;
  guint n_calib = 0;

  while (!eos) {
    GstMessage *msg;
    GError *err = NULL;
    gchar *dbg = NULL;

    fail_unless (g_get_monotonic_time () < deadline, "no EOS after %d s: "
        "deadlock? (%d frames out)", WAIT_S, g_atomic_int_get (&c->frames));
    msg = gst_bus_timed_pop (bus, 100 * GST_MSECOND);
    if (msg == NULL)
      continue;
    switch (GST_MESSAGE_TYPE (msg)) {
      case GST_MESSAGE_EOS:
        eos = TRUE;
        break;
      case GST_MESSAGE_ERROR:
        gst_message_parse_error (msg, &err, &dbg);
        fail ("error from %s: %s (%s)", GST_MESSAGE_SRC_NAME (msg),
            err->message, GST_STR_NULL (dbg));
        break;
      case GST_MESSAGE_WARNING:
        gst_message_parse_warning (msg, &err, &dbg);
        fail ("warning from %s: %s (%s)", GST_MESSAGE_SRC_NAME (msg),
            err->message, GST_STR_NULL (dbg));
        break;
      case GST_MESSAGE_ELEMENT:
        if (gst_message_has_name (msg, "cfqpsr-calibration"))
          n_calib++;
        break;
      default:
        break;
    }
    g_clear_error (&err);
    g_free (dbg);
    gst_message_unref (msg);
  }
  gst_object_unref (bus);
  return n_calib;
}

GST_START_TEST (test_property_hammer)
{
  gchar *dir;
  Ctx *c = make_pipeline (N_FRAMES, &dir);
  GThread *threads[4];
  gint64 t0 = g_get_monotonic_time ();
  guint n_calib, i;

  start_hammers (c, threads);
  fail_if (gst_element_set_state (c->pipe, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  n_calib = wait_eos (c, t0 + WAIT_S * G_USEC_PER_SEC);
  stop_hammers (c, threads);

  g_print ("hammer: %d frames in %.1f s, %u calibrations applied, rounds "
      "%d/%d/%d/%d\n", g_atomic_int_get (&c->frames),
      (g_get_monotonic_time () - t0) / 1e6, n_calib, c->rounds[0],
      c->rounds[1], c->rounds[2], c->rounds[3]);
  fail_unless_equals_int (g_atomic_int_get (&c->frames), N_FRAMES);
  /* at least the file's calibration at start, and cfqpcalib's later */
  fail_unless (n_calib >= 2, "%u calibrations applied", n_calib);
  for (i = 0; i < 4; i++)
    fail_unless (c->rounds[i] >= 10, "hammer %u: only %d rounds", i,
        c->rounds[i]);
  free_pipeline (c, dir);
}

GST_END_TEST;

/* The same hammers while the main thread cycles the state: start/stop
 * free and rebuild what the getters read (model-info, active-backend). */
GST_START_TEST (test_property_hammer_state_changes)
{
  gchar *dir;
  Ctx *c = make_pipeline (N_FRAMES, &dir);
  GThread *threads[4];
  gint64 t0 = g_get_monotonic_time ();
  GstStateChangeReturn ret;
  guint cycle;

  start_hammers (c, threads);
  for (cycle = 0; cycle < 6; cycle++) {
    static const GstState states[] = { GST_STATE_PLAYING, GST_STATE_PAUSED,
      GST_STATE_READY, GST_STATE_NULL
    };
    guint i;

    for (i = 0; i < G_N_ELEMENTS (states); i++) {
      fail_if (gst_element_set_state (c->pipe, states[i]) ==
          GST_STATE_CHANGE_FAILURE);
      ret = gst_element_get_state (c->pipe, NULL, NULL, 60 * GST_SECOND);
      fail_unless (ret == GST_STATE_CHANGE_SUCCESS, "cycle %u, %s: %s",
          cycle, gst_element_state_get_name (states[i]),
          gst_element_state_change_return_get_name (ret));
      if (states[i] == GST_STATE_PLAYING)
        g_usleep (20000);
    }
  }
  /* then a whole run: every frame out */
  g_atomic_int_set (&c->frames, 0);
  fail_if (gst_element_set_state (c->pipe, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  {
    /* the state cycles above may leave errors/warnings of their own: none
     * is expected, wait_eos fails on any */
    wait_eos (c, g_get_monotonic_time () + WAIT_S * G_USEC_PER_SEC);
  }
  stop_hammers (c, threads);
  g_print ("hammer with state changes: %d frames of the last run, %.1f s, "
      "rounds %d/%d/%d/%d\n", g_atomic_int_get (&c->frames),
      (g_get_monotonic_time () - t0) / 1e6, c->rounds[0], c->rounds[1],
      c->rounds[2], c->rounds[3]);
  fail_unless_equals_int (g_atomic_int_get (&c->frames), N_FRAMES);
  free_pipeline (c, dir);
}

GST_END_TEST;

static Suite *
concurrency_suite (void)
{
  Suite *s = suite_create ("cfqp-concurrency");
  TCase *tc = tcase_create ("hammer");

  tcase_set_timeout (tc, 300);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_property_hammer);
  tcase_add_test (tc, test_property_hammer_state_changes);
  return s;
}

GST_CHECK_MAIN (concurrency);
