/* cfqp — cfqpcalib element tests (GstCheck, GstHarness).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>

#include "element-test-utils.h"

/* Pushes n frames; returns the samples counts of the progress messages. */
static GArray *
push_frames (guint n, guint max_samples, guint interval)
{
  gchar *path = element_test_model_path (3);
  GstElement *calib = gst_element_factory_make ("cfqpcalib", NULL);
  GstBus *bus = gst_bus_new ();
  GArray *counts = g_array_new (FALSE, FALSE, sizeof (guint));
  GstHarness *h;
  GstMessage *msg;
  guint i;

  fail_unless (calib != NULL, "cfqpcalib not found");
  g_object_set (calib, "model-file", path, "max-samples", max_samples,
      "sample-interval", interval, NULL);
  gst_element_set_bus (calib, bus);
  h = gst_harness_new_with_element (calib, "sink", NULL);
  gst_harness_play (h);
  gst_harness_set_src_caps_str (h, "video/x-raw,format=BGRx,width=8,height=6,"
      "framerate=30/1");
  for (i = 0; i < n; i++) {
    GstBuffer *buf = gst_buffer_new_and_alloc (8 * 6 * 4);

    gst_buffer_memset (buf, 0, i, 8 * 6 * 4);
    GST_BUFFER_PTS (buf) = i * GST_SECOND / 30;
    fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  }

  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
    const GstStructure *s = gst_message_get_structure (msg);
    guint samples, max;
    guint64 frames;

    fail_unless (gst_structure_has_name (s, "cfqpcalib-progress"));
    fail_unless (gst_structure_get_uint (s, "samples", &samples));
    fail_unless (gst_structure_get_uint (s, "max-samples", &max));
    fail_unless (gst_structure_get_uint64 (s, "frames", &frames));
    fail_unless_equals_int (max, max_samples);
    /* the sample is frame (samples - 1) * interval, frames counts it */
    fail_unless_equals_uint64 (frames, (guint64) (samples - 1) * interval + 1);
    g_array_append_val (counts, samples);
    gst_message_unref (msg);
  }

  gst_harness_teardown (h);
  gst_element_set_bus (calib, NULL);
  gst_object_unref (bus);
  gst_object_unref (calib);
  g_free (path);
  return counts;
}

GST_START_TEST (test_sampling)
{
  GArray *c;
  guint i;

  /* every 3rd of 10 frames: frames 0, 3, 6, 9 */
  c = push_frames (10, 100, 3);
  fail_unless_equals_int (c->len, 4);
  for (i = 0; i < c->len; i++)
    fail_unless_equals_int (g_array_index (c, guint, i), i + 1);
  g_array_unref (c);

  /* max-samples stops sampling */
  c = push_frames (10, 2, 1);
  fail_unless_equals_int (c->len, 2);
  g_array_unref (c);
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

GST_START_TEST (test_properties)
{
  GstElement *calib = gst_element_factory_make ("cfqpcalib", NULL);
  gchar *model_file, *location;
  guint scale, max_samples, interval;

  g_object_get (calib, "model-file", &model_file, "scale-factor", &scale,
      "location", &location, "max-samples", &max_samples, "sample-interval",
      &interval, NULL);
  fail_unless (model_file == NULL);
  fail_unless (location == NULL);
  fail_unless_equals_int (scale, 3);
  fail_unless_equals_int (max_samples, 256);
  fail_unless_equals_int (interval, 1);

  g_object_set (calib, "location", "x.json", "scale-factor", 2, NULL);
  g_object_get (calib, "location", &location, "scale-factor", &scale, NULL);
  fail_unless_equals_string (location, "x.json");
  fail_unless_equals_int (scale, 2);
  g_free (location);
  gst_object_unref (calib);
}

GST_END_TEST;

static Suite *
cfqpcalib_suite (void)
{
  Suite *s = suite_create ("cfqpcalib");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_sampling);
  tcase_add_test (tc, test_missing_model);
  tcase_add_test (tc, test_properties);
  return s;
}

GST_CHECK_MAIN (cfqpcalib);
