/* cfqp — helpers shared by the element tests.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/check/gstcheck.h>

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
