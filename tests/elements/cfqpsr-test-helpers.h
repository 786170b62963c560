/* cfqp — helpers shared by the cfqpsr element tests (test-cfqpsr.c,
 * test-cfqpsr-calibration.c): elements and harnesses, inputs, the engine
 * run directly as the reference, bus messages, calibrations and model
 * folders.  static inline: each test program takes what it uses.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include "cfqp-engine.h"
#include "cfqp-calib.h"
#include "element-test-utils.h"

static inline GstElement *
make_sr (guint scale_factor, const gchar * model_file)
{
  GstElement *sr = gst_element_factory_make ("cfqpsr", NULL);

  fail_unless (sr != NULL, "cfqpsr not found (GST_PLUGIN_PATH?)");
  g_object_set (sr, "scale-factor", scale_factor, "model-file", model_file,
      "precision", 1 /* fp32 */ , "backend", 1 /* cpu */ , NULL);
  return sr;
}

/* Deterministic, textured pixels; stride padding filled with a marker. */
static inline GstBuffer *
make_input (const GstVideoInfo * info, gsize stride, guint seed)
{
  guint w = GST_VIDEO_INFO_WIDTH (info), h = GST_VIDEO_INFO_HEIGHT (info);
  guint pstride = GST_VIDEO_FORMAT_INFO_PSTRIDE (info->finfo, 0);
  gsize size = stride * h;
  GstBuffer *buf = gst_buffer_new_and_alloc (size);
  GstMapInfo map;
  gsize offset[GST_VIDEO_MAX_PLANES] = { 0, };
  gint strides[GST_VIDEO_MAX_PLANES] = { (gint) stride, };
  guint x, y, i;

  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  memset (map.data, 0xA5, size);
  for (y = 0; y < h; y++)
    for (x = 0; x < w * pstride; x++) {
      i = (x * 7 + y * 13 + seed * 31) ^ (x * y);
      map.data[y * stride + x] = (guint8) (i * 2654435761u >> 24);
    }
  gst_buffer_unmap (buf, &map);
  gst_buffer_add_video_meta_full (buf, GST_VIDEO_FRAME_FLAG_NONE,
      GST_VIDEO_INFO_FORMAT (info), w, h, 1, offset, strides);
  return buf;
}

/* The model a calibration runs (it names it: clip-free or not), from
 * model, whose reference it takes. */
static inline CfqpModel *
calib_run_model (CfqpModel * model, CfqpCalibration * calib)
{
  CfqpModel *run = cfqp_calibration_new_run_model (calib, model);

  cfqp_model_unref (model);
  return run;
}

/* Runs the engine directly on in and checks that out holds the same R, G, B
 * (and alpha) bytes.  Padding bytes (x of RGBx) are not part of the contract. */
/* calib NULL: FP32; else precision (INT8, INT16) with all the calibration
 * gives a runner (its table, conv taps and channel steps), as cfqpsr
 * applies it. */
static inline void
check_against_calibration_at (guint scale, const GstVideoInfo * in_info,
    GstBuffer * in, GstBuffer * out, CfqpCalibration * calib,
    CfqpPrecision precision)
{
  CfqpQParams *qparams = NULL;
  gchar *path = element_test_model_path (scale);
  GError *err = NULL;
  CfqpModel *model = cfqp_model_new_from_file (path, &err);
  CfqpRunnerOptions opts = CFQP_RUNNER_OPTIONS_INIT;
  CfqpRunner *runner;
  CfqpPackedLayout l = layout_from_format_info (in_info->finfo);
  GstVideoMeta *in_meta = gst_buffer_get_video_meta (in);
  GstVideoInfo out_info;
  GstVideoFrame out_frame;
  GstMapInfo in_map;
  guint ow, oh, x, y;
  gsize ref_stride;
  guint8 *ref;

  fail_unless (model != NULL, "%s", err ? err->message : "?");
  if (calib) {
    model = calib_run_model (model, calib);
    qparams = cfqp_calibration_to_qparams (calib, model, &err);
    fail_unless (qparams != NULL, "%s", err ? err->message : "?");
  }
  opts.precision = qparams ? precision : CFQP_PRECISION_FP32;
  if (calib)
    cfqp_calibration_fill_runner_options (calib, qparams, &opts);
  opts.backend = CFQP_BACKEND_CPU;
  runner = cfqp_runner_new (model, &opts, &err);
  fail_unless (runner != NULL, "%s", err ? err->message : "?");

  ow = GST_VIDEO_INFO_WIDTH (in_info) * scale;
  oh = GST_VIDEO_INFO_HEIGHT (in_info) * scale;
  ref_stride = (gsize) ow * l.pixel_stride;
  ref = g_malloc0 (ref_stride * oh);

  fail_unless (gst_buffer_map (in, &in_map, GST_MAP_READ));
  fail_unless (cfqp_runner_run_packed (runner, &l, in_map.data,
          in_meta->stride[0], GST_VIDEO_INFO_WIDTH (in_info),
          GST_VIDEO_INFO_HEIGHT (in_info), ref, ref_stride, &err),
      "%s", err ? err->message : "?");
  gst_buffer_unmap (in, &in_map);

  gst_video_info_set_format (&out_info, GST_VIDEO_INFO_FORMAT (in_info), ow,
      oh);
  fail_unless (gst_video_frame_map (&out_frame, &out_info, out, GST_MAP_READ));
  for (y = 0; y < oh; y++) {
    const guint8 *o = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&out_frame,
        0) + y * GST_VIDEO_FRAME_PLANE_STRIDE (&out_frame, 0);
    const guint8 *r = ref + y * ref_stride;

    for (x = 0; x < ow; x++) {
      const guint8 *op = o + x * l.pixel_stride, *rp = r + x * l.pixel_stride;

      if (op[l.r] != rp[l.r] || op[l.g] != rp[l.g] || op[l.b] != rp[l.b] ||
          (l.a >= 0 && op[l.a] != rp[l.a]))
        fail ("%s x%u %ux%u: pixel (%u,%u) differs from the engine",
            GST_VIDEO_INFO_NAME (in_info), scale,
            GST_VIDEO_INFO_WIDTH (in_info), GST_VIDEO_INFO_HEIGHT (in_info),
            x, y);
    }
  }
  gst_video_frame_unmap (&out_frame);

  g_free (ref);
  cfqp_runner_free (runner);
  cfqp_model_unref (model);
  g_free (qparams);
  g_free (path);
}

static inline void
check_against_calibration (guint scale, const GstVideoInfo * in_info,
    GstBuffer * in, GstBuffer * out, CfqpCalibration * calib)
{
  check_against_calibration_at (scale, in_info, in, out, calib,
      CFQP_PRECISION_INT8);
}

static inline void
check_against_engine (guint scale, const GstVideoInfo * in_info,
    GstBuffer * in, GstBuffer * out)
{
  check_against_calibration (scale, in_info, in, out, NULL);
}

/* Messages taken off a bus, so that looking for one kind does not drop
 * the others (gst_bus_pop_filtered discards what does not match). */
static GQueue saved_messages = G_QUEUE_INIT;

static inline void
collect_messages (GstBus * bus)
{
  GstMessage *msg;

  while ((msg = gst_bus_pop (bus)))
    g_queue_push_tail (&saved_messages, msg);
}

/* The messages of type (named name, when not NULL) posted so far, taken
 * off the saved ones in order; free with gst_message_unref. */
static inline GList *
take_messages (GstBus * bus, GstMessageType type, const gchar * name)
{
  GList *l, *next, *taken = NULL;

  collect_messages (bus);
  for (l = saved_messages.head; l; l = next) {
    GstMessage *msg = l->data;

    next = l->next;
    if (GST_MESSAGE_TYPE (msg) == type &&
        (name == NULL || gst_message_has_name (msg, name))) {
      taken = g_list_prepend (taken, msg);
      g_queue_delete_link (&saved_messages, l);
    }
  }
  return g_list_reverse (taken);
}

/* Warnings posted so far (all taken): how many.  Each must contain
 * must_contain (when not NULL); *n_with (when not NULL) counts those that
 * contain with. */
static inline guint
pop_warnings_full (GstBus * bus, const gchar * must_contain,
    const gchar * with, guint * n_with)
{
  GList *l, *taken = take_messages (bus, GST_MESSAGE_WARNING, NULL);
  guint n = g_list_length (taken);

  for (l = taken; l; l = l->next) {
    GError *err = NULL;

    gst_message_parse_warning (l->data, &err, NULL);
    GST_INFO ("warning: %s", err->message);
    if (must_contain)
      fail_unless (strstr (err->message, must_contain) != NULL, "%s",
          err->message);
    if (n_with && strstr (err->message, with) != NULL)
      (*n_with)++;
    g_error_free (err);
  }
  g_list_free_full (taken, (GDestroyNotify) gst_message_unref);
  return n;
}

/* Warnings posted so far (taken); each must contain must_contain. */
static inline guint
pop_warnings (GstBus * bus, const gchar * must_contain)
{
  return pop_warnings_full (bus, must_contain, NULL, NULL);
}

/* A calibration of tiny-x<scale> from a few synthetic frames, saved to
 * path if not NULL. */
static inline CfqpCalibration *
make_calibration (guint scale, gboolean clip_free, guint seed,
    const gchar * path)
{
  /* odd seeds bright, even seeds at half brightness */
  return element_test_make_calibration (scale, clip_free, seed,
      0.5f + 0.5f * (seed % 2), path);
}

static inline CfqpQParams *
calib_qparams (guint scale, CfqpCalibration * calib)
{
  gchar *mpath = element_test_model_path (scale);
  CfqpModel *model = calib_run_model (cfqp_model_new_from_file (mpath, NULL), calib);
  CfqpQParams *qp;
  GError *err = NULL;

  qp = cfqp_calibration_to_qparams (calib, model, &err);
  fail_unless (qp != NULL, "%s", err ? err->message : "?");
  cfqp_model_unref (model);
  g_free (mpath);
  return qp;
}

/* Frees a make_calibration() written to file cpath in the temporary
 * folder dir, and removes both. */
static inline void
remove_calibration (CfqpCalibration * calib, gchar * dir, gchar * cpath)
{
  cfqp_calibration_unref (calib);
  g_unlink (cpath);
  g_rmdir (dir);
  g_free (cpath);
  g_free (dir);
}

/* A harness on an int8 cfqpsr with a bus; RGB w×h caps set. */
static inline GstHarness *
make_int8_harness (guint scale, GstElement ** sr_out, GstBus ** bus_out,
    guint w, guint h, const gchar * first_property, ...)
{
  va_list args;
  gchar *path = element_test_model_path (scale);
  GstElement *sr = gst_element_factory_make ("cfqpsr", NULL);
  GstHarness *hr;
  gchar *caps;

  g_object_set (sr, "model-file", path, "backend", 1, "precision", 0, NULL);
  if (first_property) {
    va_start (args, first_property);
    g_object_set_valist (G_OBJECT (sr), first_property, args);
    va_end (args);
  }
  caps = g_strdup_printf ("video/x-raw,format=RGB,width=%u,height=%u,"
      "framerate=30/1", w, h);
  hr = element_test_harness_new (sr, -1, caps, bus_out);
  g_free (caps);
  g_free (path);
  *sr_out = sr;
  return hr;
}

static inline void
free_int8_harness (GstHarness * h, GstElement * sr, GstBus * bus)
{
  g_queue_clear_full (&saved_messages, (GDestroyNotify) gst_message_unref);
  element_test_harness_free (h, sr, bus);
}

/* A folder standing in for the embedded models (GST_CFQP_MODEL_DIR) */
static inline gchar *
make_model_dir (void)
{
  gchar *dir = g_dir_make_tmp ("cfqp-models-XXXXXX", NULL);
  guint s;

  for (s = 2; s <= 4; s++) {
    gchar *src = element_test_model_path (s);
    gchar *name = g_strdup_printf ("default-x%u.onnx", s);
    gchar *dst = g_build_filename (dir, name, NULL);

    fail_unless (symlink (src, dst) == 0);
    g_free (src);
    g_free (name);
    g_free (dst);
  }
  g_setenv ("GST_CFQP_MODEL_DIR", dir, TRUE);
  return dir;
}

static inline void
remove_model_dir (gchar * dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const gchar *name;

  while ((name = g_dir_read_name (d))) {
    gchar *p = g_build_filename (dir, name, NULL);
    g_unlink (p);
    g_free (p);
  }
  g_dir_close (d);
  g_rmdir (dir);
  g_unsetenv ("GST_CFQP_MODEL_DIR");
  g_free (dir);
}
