/* cfqp — helpers shared by the element tests.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <fcntl.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include "cfqp-engine.h"
#include "cfqp-calib.h"

/* tests/data/elements/tiny-x<scale>.onnx (see make-test-models.py) */
static inline gchar *
element_test_model_path (guint scale)
{
  const gchar *dir = g_getenv ("CFQP_TEST_DATA");
  gchar *name = g_strdup_printf ("tiny-x%u.onnx", scale);
  gchar *path;

  fail_unless (dir != NULL, "CFQP_TEST_DATA is not set");
  path = g_build_filename (dir, "elements", name, NULL);
  g_free (name);
  return path;
}

/* A harness around el with a bus of its own (*bus_out): el's "sink" pad,
 * and its "src" pad when it has one (cfqpsr; cfqpcalib is a sink).  live
 * TRUE or FALSE sets what the harness answers upstream latency queries and
 * plays it (what cfqpcalib drops frames by); -1 leaves both.  caps, when
 * not NULL, are set on the harness's source last.  Undo with
 * element_test_harness_free(), which also unrefs el. */
static inline GstHarness *
element_test_harness_new (GstElement * el, gint live, const gchar * caps,
    GstBus ** bus_out)
{
  GstBus *bus = gst_bus_new ();
  GstPad *src = gst_element_get_static_pad (el, "src");
  GstHarness *h;

  gst_element_set_bus (el, bus);
  h = gst_harness_new_with_element (el, "sink", src ? "src" : NULL);
  g_clear_object (&src);
  if (live >= 0) {
    gst_harness_set_live (h, live);
    gst_harness_play (h);
  }
  if (caps != NULL)
    gst_harness_set_src_caps_str (h, caps);
  *bus_out = bus;
  return h;
}

static inline void
element_test_harness_free (GstHarness * h, GstElement * el, GstBus * bus)
{
  gst_harness_teardown (h);
  gst_element_set_bus (el, NULL);
  gst_object_unref (bus);
  gst_object_unref (el);
}

/* Takes the element to PAUSED on its own, expects the state change to fail
 * and returns the error message text posted on its bus. */
static inline gchar *
element_test_expect_start_failure (GstElement * el)
{
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *err = NULL;
  gchar *text;

  gst_element_set_bus (el, bus);
  fail_unless_equals_int (gst_element_set_state (el, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "no error message on the bus");
  gst_message_parse_error (msg, &err, NULL);
  text = g_strdup (err->message);
  GST_INFO ("error: %s", text);
  g_error_free (err);
  gst_message_unref (msg);
  gst_element_set_state (el, GST_STATE_NULL);
  gst_element_set_bus (el, NULL);
  gst_object_unref (bus);
  return text;
}

typedef struct
{
  GstElement *el;
  gchar *text;
  gboolean done;
  GMutex lock;
  GCond cond;
} StartTry;

static inline gpointer
start_try_thread (gpointer data)
{
  StartTry *t = data;
  gchar *text = element_test_expect_start_failure (t->el);

  g_mutex_lock (&t->lock);
  t->text = text;
  t->done = TRUE;
  g_cond_signal (&t->cond);
  g_mutex_unlock (&t->lock);
  return NULL;
}

/* element_test_expect_start_failure() that must come back within 10 s; a
 * start blocked on the FIFO fifo is unblocked (a writer opens it) and the
 * test fails. */
static inline gchar *
element_test_expect_start_failure_quickly (GstElement * el, const gchar * fifo)
{
  StartTry t = { el, NULL, FALSE };
  gint64 end = g_get_monotonic_time () + 10 * G_TIME_SPAN_SECOND;
  gboolean hung = FALSE;
  GThread *thread;

  g_mutex_init (&t.lock);
  g_cond_init (&t.cond);
  thread = g_thread_new ("start", start_try_thread, &t);
  g_mutex_lock (&t.lock);
  while (!t.done && !hung)
    hung = !g_cond_wait_until (&t.cond, &t.lock, end);
  g_mutex_unlock (&t.lock);
  if (hung && fifo != NULL) {
    int fd = g_open (fifo, O_WRONLY | O_NONBLOCK, 0);

    if (fd >= 0)
      close (fd);
  }
  g_thread_join (thread);
  g_mutex_clear (&t.lock);
  g_cond_clear (&t.cond);
  fail_if (hung, "READY->PAUSED blocked on %s", fifo);
  return t.text;
}

/* A calibration of tiny-x<scale> from three synthetic 12×10 frames (seed
 * varies the pixels, gain their brightness), its weights rounded as asked,
 * saved to path when not NULL. */
static inline CfqpCalibration *
element_test_make_calibration_full (guint scale, gboolean clip_free, guint seed,
    gfloat gain, CfqpWeightRounding rounding, const gchar * path)
{
  gchar *mpath = element_test_model_path (scale);
  CfqpModel *model = cfqp_model_new_from_file (mpath, NULL);
  CfqpCalibSettings settings;
  CfqpCalibrator *cal;
  CfqpCalibration *calib;
  GError *err = NULL;
  float data[3 * 12 * 10];
  guint f, i;

  fail_unless (model != NULL);
  cfqp_calib_settings_init (&settings);
  settings.clip_free = clip_free;
  settings.augment = CFQP_AUGMENT_NONE;
  settings.scene_threshold = 0;
  settings.weight_rounding = rounding;
  cal = cfqp_calibrator_new (model, &settings);
  for (f = 0; f < 3; f++) {
    for (i = 0; i < G_N_ELEMENTS (data); i++)
      data[i] = ((i * 2654435761u + f * 97 + seed * 7919) >> 8 & 255) / 255.f * gain;
    cfqp_calibrator_add_frame (cal, data, 12, 10);
  }
  calib = cfqp_calibrator_compute (cal, NULL, &err);
  fail_unless (calib != NULL, "%s", err ? err->message : "?");
  if (path)
    fail_unless (cfqp_calibration_save (calib, path, &err), "%s",
        err ? err->message : "?");
  cfqp_calibrator_free (cal);
  cfqp_model_unref (model);
  g_free (mpath);
  return calib;
}

/* The same with nearest rounding: no conv taps, so that the engine with
 * the calibration's quantisation parameters alone is what cfqpsr runs
 * (the taps have their own test, test_int8_gptq_calibration_file). */
static inline CfqpCalibration *
element_test_make_calibration (guint scale, gboolean clip_free, guint seed, gfloat gain,
    const gchar * path)
{
  return element_test_make_calibration_full (scale, clip_free, seed, gain,
      CFQP_WEIGHT_ROUNDING_NEAREST, path);
}

/* The byte offsets of a packed RGB format, as the engine takes them. */
static inline CfqpPackedLayout
layout_from_format_info (const GstVideoFormatInfo * finfo)
{
  CfqpPackedLayout l;

  l.pixel_stride = GST_VIDEO_FORMAT_INFO_PSTRIDE (finfo, 0);
  l.r = GST_VIDEO_FORMAT_INFO_POFFSET (finfo, GST_VIDEO_COMP_R);
  l.g = GST_VIDEO_FORMAT_INFO_POFFSET (finfo, GST_VIDEO_COMP_G);
  l.b = GST_VIDEO_FORMAT_INFO_POFFSET (finfo, GST_VIDEO_COMP_B);
  l.a = GST_VIDEO_FORMAT_INFO_HAS_ALPHA (finfo) ?
      (gint) GST_VIDEO_FORMAT_INFO_POFFSET (finfo, GST_VIDEO_COMP_A) : -1;
  return l;
}

/* A converter without dithering: the element's own YUV <-> RGB path. */
static inline GstVideoConverter *
make_converter (const GstVideoInfo * from, const GstVideoInfo * to)
{
  GstVideoConverter *c = gst_video_converter_new (from, to,
      gst_structure_new ("t", GST_VIDEO_CONVERTER_OPT_DITHER_METHOD,
          GST_TYPE_VIDEO_DITHER_METHOD, GST_VIDEO_DITHER_NONE, NULL));

  fail_unless (c != NULL);
  return c;
}
