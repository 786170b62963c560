/* cfqp — cfqpsr element tests (GstCheck, GstHarness).
 *
 * The element is compared byte for byte with the engine run directly on the
 * same pixels (cfqp_runner_run_packed), with a pixel layout the test derives
 * from GstVideoFormatInfo rather than the element's own table.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>

#include "cfqp-engine.h"
#include "element-test-utils.h"

static const gchar *formats[] = {
  "RGB", "BGR", "RGBx", "BGRx", "xRGB", "xBGR", "RGBA", "BGRA", "ARGB", "ABGR",
};

static GstElement *
make_sr (guint scale_factor, const gchar * model_file)
{
  GstElement *sr = gst_element_factory_make ("cfqpsr", NULL);

  fail_unless (sr != NULL, "cfqpsr not found (GST_PLUGIN_PATH?)");
  g_object_set (sr, "scale-factor", scale_factor, "model-file", model_file,
      "precision", 1 /* fp32 */ , "backend", 1 /* cpu */ , NULL);
  return sr;
}

static GstHarness *
make_harness (guint scale, GstElement ** sr_out)
{
  gchar *path = element_test_model_path (scale);
  GstElement *sr = make_sr (scale, path);
  GstHarness *h = gst_harness_new_with_element (sr, "sink", "src");

  g_free (path);
  if (sr_out)
    *sr_out = sr;
  gst_object_unref (sr);
  return h;
}

/* Deterministic, textured pixels; stride padding filled with a marker. */
static GstBuffer *
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

static CfqpPackedLayout
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

/* Runs the engine directly on in and checks that out holds the same R, G, B
 * (and alpha) bytes.  Padding bytes (x of RGBx) are not part of the contract. */
static void
check_against_engine (guint scale, const GstVideoInfo * in_info,
    GstBuffer * in, GstBuffer * out)
{
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
  opts.precision = CFQP_PRECISION_FP32;
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
  g_free (path);
}

/* Pushes one w×h frame (row stride padded by pad bytes) through a harness
 * and checks caps and pixels. */
static void
run_one (const gchar * format, guint scale, guint w, guint h, guint pad)
{
  GstHarness *hr = make_harness (scale, NULL);
  GstVideoInfo info;
  GstBuffer *in, *out;
  GstCaps *caps;
  GstStructure *s;
  gint ow, oh;
  gchar *caps_str;

  gst_video_info_set_format (&info, gst_video_format_from_string (format), w,
      h);
  caps_str = g_strdup_printf ("video/x-raw,format=%s,width=%u,height=%u,"
      "framerate=30/1,pixel-aspect-ratio=1/1", format, w, h);
  gst_harness_set_src_caps_str (hr, caps_str);

  in = make_input (&info, GST_VIDEO_INFO_PLANE_STRIDE (&info, 0) + pad,
      scale * 100 + w);
  GST_BUFFER_PTS (in) = 0;
  fail_unless_equals_int (gst_harness_push (hr, gst_buffer_ref (in)),
      GST_FLOW_OK);
  out = gst_harness_pull (hr);
  fail_unless (out != NULL);

  caps = gst_pad_get_current_caps (hr->sinkpad);
  s = gst_caps_get_structure (caps, 0);
  fail_unless_equals_string (gst_structure_get_string (s, "format"), format);
  fail_unless (gst_structure_get_int (s, "width", &ow));
  fail_unless (gst_structure_get_int (s, "height", &oh));
  fail_unless_equals_int (ow, w * scale);
  fail_unless_equals_int (oh, h * scale);
  gst_caps_unref (caps);

  check_against_engine (scale, &info, in, out);

  gst_buffer_unref (out);
  gst_buffer_unref (in);
  g_free (caps_str);
  gst_harness_teardown (hr);
}

GST_START_TEST (test_formats_and_scales)
{
  guint f, scale;

  for (f = 0; f < G_N_ELEMENTS (formats); f++)
    for (scale = 2; scale <= 4; scale++)
      run_one (formats[f], scale, 17, 13, 0);
}

GST_END_TEST;

GST_START_TEST (test_odd_sizes_and_strides)
{
  guint f;

  for (f = 0; f < G_N_ELEMENTS (formats); f++) {
    run_one (formats[f], 3, 1, 1, 0);
    run_one (formats[f], 2, 1, 7, 5);
    run_one (formats[f], 3, 17, 13, 13);        /* padded input rows */
  }
  run_one ("RGB", 4, 33, 2, 64);
}

GST_END_TEST;

GST_START_TEST (test_caps_query)
{
  GstHarness *h = make_harness (3, NULL);
  GstCaps *filter, *caps;

  /* downstream can only get multiples of the scale */
  filter = gst_caps_from_string ("video/x-raw,format=RGBx,width=51,height=39");
  caps = gst_pad_query_caps (h->element->srcpads->data, filter);
  fail_if (gst_caps_is_empty (caps));
  gst_caps_unref (caps);
  gst_caps_unref (filter);

  filter = gst_caps_from_string ("video/x-raw,format=RGBx,width=50,height=39");
  caps = gst_pad_query_caps (h->element->srcpads->data, filter);
  fail_unless (gst_caps_is_empty (caps));
  gst_caps_unref (caps);
  gst_caps_unref (filter);

  /* upstream of a fixed output size: the size divided by the scale */
  filter = gst_caps_from_string ("video/x-raw,format=BGR,width=[1,100],"
      "height=[1,100]");
  caps = gst_pad_query_caps (h->element->sinkpads->data, filter);
  fail_if (gst_caps_is_empty (caps));
  gst_caps_unref (caps);
  gst_caps_unref (filter);

  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_pixel_aspect_ratio)
{
  GstHarness *h = make_harness (2, NULL);
  GstVideoInfo info;
  GstCaps *caps;
  gint n, d;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGBA, 8, 6);
  gst_harness_set_src_caps_str (h, "video/x-raw,format=RGBA,width=8,height=6,"
      "framerate=25/1,pixel-aspect-ratio=16/15");
  gst_buffer_unref (gst_harness_push_and_pull (h, make_input (&info,
              GST_VIDEO_INFO_PLANE_STRIDE (&info, 0), 1)));
  caps = gst_pad_get_current_caps (h->sinkpad);
  fail_unless (gst_structure_get_fraction (gst_caps_get_structure (caps, 0),
          "pixel-aspect-ratio", &n, &d));
  fail_unless_equals_int (n, 16);
  fail_unless_equals_int (d, 15);
  fail_unless (gst_structure_get_fraction (gst_caps_get_structure (caps, 0),
          "framerate", &n, &d));
  fail_unless_equals_int (n, 25);
  fail_unless_equals_int (d, 1);
  gst_caps_unref (caps);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_still_image)
{
  GstHarness *h = make_harness (3, NULL);
  GstVideoInfo info;
  GstBuffer *in, *out;
  GstCaps *caps;
  gint n, d;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, 20, 10);
  gst_harness_set_src_caps_str (h, "video/x-raw,format=RGB,width=20,height=10,"
      "framerate=0/1");
  in = make_input (&info, GST_VIDEO_INFO_PLANE_STRIDE (&info, 0), 2);
  GST_BUFFER_PTS (in) = 0;
  GST_BUFFER_DURATION (in) = GST_CLOCK_TIME_NONE;
  out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
  fail_unless (out != NULL);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));

  caps = gst_pad_get_current_caps (h->sinkpad);
  fail_unless (gst_structure_get_fraction (gst_caps_get_structure (caps, 0),
          "framerate", &n, &d));
  fail_unless_equals_int (n, 0);
  fail_unless_equals_int (d, 1);
  gst_caps_unref (caps);
  check_against_engine (3, &info, in, out);

  gst_buffer_unref (in);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_timestamps_flags)
{
  GstHarness *h = make_harness (2, NULL);
  GstVideoInfo info;
  guint i;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_BGRx, 6, 4);
  gst_harness_set_src_caps_str (h, "video/x-raw,format=BGRx,width=6,height=4,"
      "framerate=25/1");
  for (i = 0; i < 3; i++) {
    GstBuffer *in = make_input (&info, GST_VIDEO_INFO_PLANE_STRIDE (&info, 0),
        i);
    GstBuffer *out;

    GST_BUFFER_PTS (in) = i * 40 * GST_MSECOND + GST_SECOND;
    GST_BUFFER_DTS (in) = i * 40 * GST_MSECOND + GST_SECOND;
    GST_BUFFER_DURATION (in) = 40 * GST_MSECOND;
    GST_BUFFER_OFFSET (in) = i;
    GST_BUFFER_OFFSET_END (in) = i + 1;
    GST_BUFFER_FLAG_SET (in, i == 0 ? GST_BUFFER_FLAG_DISCONT :
        GST_BUFFER_FLAG_DELTA_UNIT);
    if (i == 2)
      GST_BUFFER_FLAG_SET (in, GST_BUFFER_FLAG_MARKER);

    out = gst_harness_push_and_pull (h, in);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (out),
        i * 40 * GST_MSECOND + GST_SECOND);
    fail_unless_equals_uint64 (GST_BUFFER_DTS (out),
        i * 40 * GST_MSECOND + GST_SECOND);
    fail_unless_equals_uint64 (GST_BUFFER_DURATION (out), 40 * GST_MSECOND);
    fail_unless_equals_int (GST_BUFFER_FLAG_IS_SET (out,
            GST_BUFFER_FLAG_DISCONT), i == 0);
    fail_unless_equals_int (GST_BUFFER_FLAG_IS_SET (out,
            GST_BUFFER_FLAG_DELTA_UNIT), i != 0);
    fail_unless_equals_int (GST_BUFFER_FLAG_IS_SET (out,
            GST_BUFFER_FLAG_MARKER), i == 2);
    gst_buffer_unref (out);
  }
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_missing_model)
{
  const gchar *path = "/nonexistent/cfqp/missing-model.onnx";
  GstElement *sr = make_sr (3, path);
  gchar *text = element_test_expect_start_failure (sr);

  fail_unless (strstr (text, path) != NULL, "error does not name the file: %s",
      text);
  g_free (text);
  gst_object_unref (sr);
}

GST_END_TEST;

GST_START_TEST (test_corrupt_model)
{
  static const guint8 junk[] = "\x08\x07\x12\x04" "cfqp\x3a\xff\xff\xff\xff\x0f"
      "this is not an ONNX model";
  gchar *dir = g_dir_make_tmp ("cfqp-test-XXXXXX", NULL);
  gchar *path = g_build_filename (dir, "corrupt.onnx", NULL);
  gchar *text;
  GstElement *sr;

  fail_unless (g_file_set_contents (path, (const gchar *) junk, sizeof (junk),
          NULL));
  sr = make_sr (3, path);
  text = element_test_expect_start_failure (sr);
  fail_unless (strstr (text, path) != NULL, "error does not name the file: %s",
      text);
  g_free (text);

  /* an empty file too */
  fail_unless (g_file_set_contents (path, "", 0, NULL));
  text = element_test_expect_start_failure (sr);
  fail_unless (strstr (text, path) != NULL, "%s", text);
  g_free (text);

  gst_object_unref (sr);
  g_unlink (path);
  g_rmdir (dir);
  g_free (path);
  g_free (dir);
}

GST_END_TEST;

GST_START_TEST (test_embedded_model)
{
  GstElement *sr = gst_element_factory_make ("cfqpsr", NULL);

  g_object_set (sr, "scale-factor", 3, "precision", 1, NULL);
#ifdef CFQP_HAVE_EMBEDDED_X3
  {
    GstHarness *h = gst_harness_new_with_element (sr, "sink", "src");
    GstVideoInfo info;
    GstBuffer *out;
    gchar *model_info = NULL;

    gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, 8, 8);
    gst_harness_set_src_caps_str (h, "video/x-raw,format=RGB,width=8,"
        "height=8,framerate=0/1");
    out = gst_harness_push_and_pull (h, make_input (&info,
            GST_VIDEO_INFO_PLANE_STRIDE (&info, 0), 3));
    fail_unless_equals_int (gst_buffer_get_size (out), 24 * 72);
    g_object_get (sr, "model-info", &model_info, NULL);
    fail_unless (strstr (model_info, "default-x3.onnx") != NULL, "%s",
        model_info);
    g_free (model_info);
    gst_buffer_unref (out);
    gst_harness_teardown (h);
  }
#else
  {
    gchar *text = element_test_expect_start_failure (sr);

    fail_unless (strstr (text, "no embedded model for scale 3") != NULL, "%s",
        text);
    g_free (text);
  }
#endif
  gst_object_unref (sr);
}

GST_END_TEST;

GST_START_TEST (test_model_scale_wins)
{
  gchar *path = element_test_model_path (2);
  GstElement *sr = make_sr (3, path);
  GstHarness *h = gst_harness_new_with_element (sr, "sink", "src");
  GstVideoInfo info;
  GstBuffer *in, *out;
  GstCaps *caps;
  gchar *model_info = NULL;
  gint w;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGBx, 9, 5);
  gst_harness_set_src_caps_str (h, "video/x-raw,format=RGBx,width=9,height=5,"
      "framerate=30/1");
  in = make_input (&info, GST_VIDEO_INFO_PLANE_STRIDE (&info, 0), 4);
  out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
  caps = gst_pad_get_current_caps (h->sinkpad);
  fail_unless (gst_structure_get_int (gst_caps_get_structure (caps, 0),
          "width", &w));
  fail_unless_equals_int (w, 18);
  check_against_engine (2, &info, in, out);

  g_object_get (sr, "model-info", &model_info, NULL);
  fail_unless (model_info != NULL);
  fail_unless (strstr (model_info, "overrides scale-factor 3") != NULL, "%s",
      model_info);

  g_free (model_info);
  gst_caps_unref (caps);
  gst_buffer_unref (in);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
  gst_object_unref (sr);
  g_free (path);
}

GST_END_TEST;

GST_START_TEST (test_properties)
{
  GstElement *sr = gst_element_factory_make ("cfqpsr", NULL);
  gchar *model_file = NULL, *active = NULL, *info = NULL, *path;
  guint scale, n_threads;
  gint precision, backend;
  GstHarness *h;

  g_object_get (sr, "model-file", &model_file, "scale-factor", &scale,
      "precision", &precision, "backend", &backend, "n-threads", &n_threads,
      "active-backend", &active, "model-info", &info, NULL);
  fail_unless (model_file == NULL);
  fail_unless_equals_int (scale, 3);
  fail_unless_equals_int (precision, 0);        /* int8 */
  fail_unless_equals_int (backend, 0);  /* auto */
  fail_unless_equals_int (n_threads, 0);
  fail_unless (active == NULL);
  fail_unless (info == NULL);

  path = element_test_model_path (4);
  g_object_set (sr, "model-file", path, "scale-factor", 4, "n-threads", 1,
      "backend", 1, NULL);
  h = gst_harness_new_with_element (sr, "sink", "src");
  gst_harness_play (h);
  g_object_get (sr, "active-backend", &active, "model-info", &info, NULL);
  fail_unless (active != NULL && active[0] != '\0');
  fail_unless (info != NULL && strstr (info, path) != NULL, "%s", info);
  fail_if (strstr (info, "overrides") != NULL, "%s", info);
  g_free (active);
  g_free (info);
  gst_harness_teardown (h);
  gst_object_unref (sr);
  g_free (path);
}

GST_END_TEST;

/* precision=int8 either runs INT8 or, where the engine cannot (no
 * calibration: the element has no way to pass one yet), warns once and runs
 * FP32 (then the output equals the FP32 engine). */
GST_START_TEST (test_int8_fallback)
{
  gchar *path = element_test_model_path (3);
  GstElement *sr = gst_element_factory_make ("cfqpsr", NULL);
  GstBus *bus = gst_bus_new ();
  CfqpRunnerOptions opts = CFQP_RUNNER_OPTIONS_INIT;
  CfqpModel *model = cfqp_model_new_from_file (path, NULL);
  CfqpRunner *runner;
  GError *err = NULL;
  gboolean have_int8;
  GstHarness *h;
  GstMessage *msg;
  GstVideoInfo info;
  GstBuffer *in, *out;
  guint n_warnings = 0;

  fail_unless (model != NULL);
  opts.precision = CFQP_PRECISION_INT8;
  opts.backend = CFQP_BACKEND_CPU;
  runner = cfqp_runner_new (model, &opts, &err);
  have_int8 = runner != NULL;
  if (!have_int8)
    fail_unless (g_error_matches (err, CFQP_ENGINE_ERROR,
            CFQP_ENGINE_ERROR_UNSUPPORTED) || g_error_matches (err,
            CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID), "%s", err->message);
  g_clear_error (&err);
  g_clear_pointer (&runner, cfqp_runner_free);
  cfqp_model_unref (model);

  g_object_set (sr, "model-file", path, "backend", 1, NULL);
  gst_element_set_bus (sr, bus);
  h = gst_harness_new_with_element (sr, "sink", "src");
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, 7, 5);
  gst_harness_set_src_caps_str (h, "video/x-raw,format=RGB,width=7,height=5,"
      "framerate=30/1");
  in = make_input (&info, GST_VIDEO_INFO_PLANE_STRIDE (&info, 0), 5);
  out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
  gst_buffer_unref (gst_harness_push_and_pull (h, gst_buffer_ref (in)));
  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING))) {
    n_warnings++;
    gst_message_unref (msg);
  }
  if (have_int8) {
    fail_unless_equals_int (n_warnings, 0);
  } else {
    fail_unless_equals_int (n_warnings, 1);
    check_against_engine (3, &info, in, out);
  }

  gst_buffer_unref (in);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
  gst_element_set_bus (sr, NULL);
  gst_object_unref (bus);
  gst_object_unref (sr);
  g_free (path);
}

GST_END_TEST;

static Suite *
cfqpsr_suite (void)
{
  Suite *s = suite_create ("cfqpsr");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, 120);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_formats_and_scales);
  tcase_add_test (tc, test_odd_sizes_and_strides);
  tcase_add_test (tc, test_caps_query);
  tcase_add_test (tc, test_pixel_aspect_ratio);
  tcase_add_test (tc, test_still_image);
  tcase_add_test (tc, test_timestamps_flags);
  tcase_add_test (tc, test_missing_model);
  tcase_add_test (tc, test_corrupt_model);
  tcase_add_test (tc, test_embedded_model);
  tcase_add_test (tc, test_model_scale_wins);
  tcase_add_test (tc, test_properties);
  tcase_add_test (tc, test_int8_fallback);
  return s;
}

GST_CHECK_MAIN (cfqpsr);
