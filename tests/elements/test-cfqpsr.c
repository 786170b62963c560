/* cfqp — cfqpsr element tests (GstCheck, GstHarness): formats, sizes and
 * caps, timestamps and QoS, models, properties, navigation.  Calibration
 * sources, hot swaps and pairing are in test-cfqpsr-calibration.c.
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

#include "cfqpsr-test-helpers.h"

static const gchar *formats[] = {
  "RGB", "BGR", "RGBx", "BGRx", "xRGB", "xBGR", "RGBA", "BGRA", "ARGB", "ABGR",
  "I420", "NV12",
};

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

static gboolean
is_yuv (const gchar * format)
{
  return g_str_equal (format, "I420") || g_str_equal (format, "NV12");
}

/* A YUV frame with every plane's rows padded by pad bytes (marker 0xA5). */
static GstBuffer *
make_yuv_input (const GstVideoInfo * info, gsize pad, guint seed)
{
  gsize offset[GST_VIDEO_MAX_PLANES] = { 0, }, size = 0;
  gint strides[GST_VIDEO_MAX_PLANES] = { 0, };
  guint p, x, y, n = GST_VIDEO_INFO_N_PLANES (info);
  GstBuffer *buf;
  GstMapInfo map;

  for (p = 0; p < n; p++) {
    guint ph = GST_VIDEO_FORMAT_INFO_SCALE_HEIGHT (info->finfo, p,
        GST_VIDEO_INFO_HEIGHT (info));

    strides[p] = GST_VIDEO_INFO_PLANE_STRIDE (info, p) + pad;
    offset[p] = size;
    size += (gsize) strides[p] * ph;
  }
  buf = gst_buffer_new_and_alloc (size);
  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  memset (map.data, 0xA5, size);
  for (p = 0; p < n; p++) {
    guint ph = GST_VIDEO_FORMAT_INFO_SCALE_HEIGHT (info->finfo, p,
        GST_VIDEO_INFO_HEIGHT (info));
    guint pw = GST_VIDEO_FORMAT_INFO_SCALE_WIDTH (info->finfo, p,
        GST_VIDEO_INFO_WIDTH (info)) * GST_VIDEO_FORMAT_INFO_PSTRIDE
        (info->finfo, p);

    for (y = 0; y < ph; y++)
      for (x = 0; x < pw; x++) {
        guint i = (x * 7 + y * 13 + seed * 31 + p * 101) ^ (x * y);
        /* keep chroma near neutral and luma in range: plausible colours */
        guint8 v = (guint8) (i * 2654435761u >> 24);
        map.data[offset[p] + y * strides[p] + x] = p == 0 ? 16 + v * 219 / 255 :
            128 + ((gint) v - 128) / 4;
      }
  }
  gst_buffer_unmap (buf, &map);
  gst_buffer_add_video_meta_full (buf, GST_VIDEO_FRAME_FLAG_NONE,
      GST_VIDEO_INFO_FORMAT (info), GST_VIDEO_INFO_WIDTH (info),
      GST_VIDEO_INFO_HEIGHT (info), n, offset, strides);
  return buf;
}

/* The documented YUV path done by hand: to RGB with the caps' matrix, the
 * RGB network (engine, FP32), back to YUV; every plane must match. */
static void
check_yuv_against_engine (guint scale, const GstVideoInfo * in_info,
    GstBuffer * in, GstBuffer * out)
{
  gchar *path = element_test_model_path (scale);
  CfqpModel *model = cfqp_model_new_from_file (path, NULL);
  CfqpRunnerOptions opts = CFQP_RUNNER_OPTIONS_INIT;
  CfqpPackedLayout l = { 3, 0, 1, 2, -1 };
  guint w = GST_VIDEO_INFO_WIDTH (in_info), h = GST_VIDEO_INFO_HEIGHT (in_info);
  GstVideoInfo rgb_in, rgb_out, out_info;
  GstVideoFrame fin, frgb_in, frgb_out, fref, fout;
  GstBuffer *b_rgb_in, *b_rgb_out, *ref;
  GstVideoConverter *c;
  CfqpRunner *runner;
  guint p, y;

  fail_unless (model != NULL);
  opts.precision = CFQP_PRECISION_FP32;
  opts.backend = CFQP_BACKEND_CPU;
  runner = cfqp_runner_new (model, &opts, NULL);
  fail_unless (runner != NULL);

  gst_video_info_set_format (&rgb_in, GST_VIDEO_FORMAT_RGB, w, h);
  gst_video_info_set_format (&rgb_out, GST_VIDEO_FORMAT_RGB, w * scale,
      h * scale);
  gst_video_info_set_format (&out_info, GST_VIDEO_INFO_FORMAT (in_info),
      w * scale, h * scale);
  rgb_in.fps_n = rgb_out.fps_n = out_info.fps_n = in_info->fps_n;
  rgb_in.fps_d = rgb_out.fps_d = out_info.fps_d = in_info->fps_d;
  out_info.colorimetry = in_info->colorimetry;
  b_rgb_in = gst_buffer_new_and_alloc (rgb_in.size);
  b_rgb_out = gst_buffer_new_and_alloc (rgb_out.size);
  ref = gst_buffer_new_and_alloc (out_info.size);

  fail_unless (gst_video_frame_map (&fin, in_info, in, GST_MAP_READ));
  fail_unless (gst_video_frame_map (&frgb_in, &rgb_in, b_rgb_in,
          GST_MAP_READWRITE));
  fail_unless (gst_video_frame_map (&frgb_out, &rgb_out, b_rgb_out,
          GST_MAP_READWRITE));
  fail_unless (gst_video_frame_map (&fref, &out_info, ref, GST_MAP_WRITE));
  c = make_converter (in_info, &rgb_in);
  gst_video_converter_frame (c, &fin, &frgb_in);
  gst_video_converter_free (c);
  fail_unless (cfqp_runner_run_packed (runner, &l,
          GST_VIDEO_FRAME_PLANE_DATA (&frgb_in, 0),
          GST_VIDEO_FRAME_PLANE_STRIDE (&frgb_in, 0), w, h,
          GST_VIDEO_FRAME_PLANE_DATA (&frgb_out, 0),
          GST_VIDEO_FRAME_PLANE_STRIDE (&frgb_out, 0), NULL));
  c = make_converter (&rgb_out, &out_info);
  gst_video_converter_frame (c, &frgb_out, &fref);
  gst_video_converter_free (c);

  fail_unless (gst_video_frame_map (&fout, &out_info, out, GST_MAP_READ));
  for (p = 0; p < GST_VIDEO_FRAME_N_PLANES (&fout); p++) {
    guint ph = GST_VIDEO_FRAME_COMP_HEIGHT (&fout, p);
    guint pw = GST_VIDEO_FRAME_COMP_WIDTH (&fout, p) *
        GST_VIDEO_FRAME_COMP_PSTRIDE (&fout, p);

    for (y = 0; y < ph; y++)
      fail_unless (memcmp ((guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&fout, p) +
              y * GST_VIDEO_FRAME_PLANE_STRIDE (&fout, p),
              (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&fref, p) +
              y * GST_VIDEO_FRAME_PLANE_STRIDE (&fref, p), pw) == 0,
          "%s x%u %ux%u: plane %u row %u differs from the engine",
          GST_VIDEO_INFO_NAME (in_info), scale, w, h, p, y);
  }
  gst_video_frame_unmap (&fout);
  gst_video_frame_unmap (&fref);
  gst_video_frame_unmap (&frgb_out);
  gst_video_frame_unmap (&frgb_in);
  gst_video_frame_unmap (&fin);
  gst_buffer_unref (b_rgb_in);
  gst_buffer_unref (b_rgb_out);
  gst_buffer_unref (ref);
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

  if (is_yuv (format))
    in = make_yuv_input (&info, pad, scale * 100 + w);
  else
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

  if (is_yuv (format)) {
    /* the element's info comes from caps: same default colorimetry */
    check_yuv_against_engine (scale, &info, in, out);
  } else {
    check_against_engine (scale, &info, in, out);
  }

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

  /* any size from the input's to the model file's scale (x3) per axis
   * (test-cfqpsr-anysize.c has the rest) */
  gst_harness_set_src_caps_str (h, "video/x-raw,format=RGBx,width=17,"
      "height=13,framerate=30/1");
  filter = gst_caps_from_string ("video/x-raw,format=RGBx,width=51,height=39");
  caps = gst_pad_query_caps (h->element->srcpads->data, filter);
  fail_if (gst_caps_is_empty (caps));
  gst_caps_unref (caps);
  gst_caps_unref (filter);

  filter = gst_caps_from_string ("video/x-raw,format=RGBx,width=50,height=39");
  caps = gst_pad_query_caps (h->element->srcpads->data, filter);
  fail_if (gst_caps_is_empty (caps));
  gst_caps_unref (caps);
  gst_caps_unref (filter);

  filter = gst_caps_from_string ("video/x-raw,format=RGBx,width=52,height=39");
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

/* QoS as other video filters: on by default; a QoS event from downstream
 * saying "late by 200 ms at 40 ms" makes the frames before 240 ms be
 * dropped (with a QoS message) and later ones pass.  Latency: none added,
 * upstream's passes through. */
GST_START_TEST (test_qos_and_latency)
{
  GstElement *sr;
  GstHarness *h = make_harness (2, &sr);
  GstBus *bus = gst_bus_new ();
  GstVideoInfo info;
  GstQuery *q;
  GstMessage *msg;
  GstClockTime min_lat = 0, max_lat = 0;
  gboolean live = FALSE;
  static const guint pts_ms[4] = { 0, 80, 120, 400 };
  guint i, n_qos = 0;

  gst_element_set_bus (sr, bus);
  fail_unless (gst_base_transform_is_qos_enabled (GST_BASE_TRANSFORM (sr)));
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_BGRx, 6, 4);
  gst_harness_set_src_caps_str (h, "video/x-raw,format=BGRx,width=6,height=4,"
      "framerate=25/1");
  for (i = 0; i < G_N_ELEMENTS (pts_ms); i++) {
    GstBuffer *in = make_input (&info, GST_VIDEO_INFO_PLANE_STRIDE (&info, 0),
        i);

    GST_BUFFER_PTS (in) = pts_ms[i] * GST_MSECOND;
    GST_BUFFER_DURATION (in) = 40 * GST_MSECOND;
    fail_unless_equals_int (gst_harness_push (h, in), GST_FLOW_OK);
    if (i == 0)
      fail_unless (gst_harness_push_upstream_event (h,
              gst_event_new_qos (GST_QOS_TYPE_UNDERFLOW, 1.5,
                  200 * GST_MSECOND, 40 * GST_MSECOND)));
  }
  /* frame 0 (before the event) and frame 3 (after 240 ms) come out */
  fail_unless_equals_int (gst_harness_buffers_received (h), 2);
  for (i = 0; i < 2; i++) {
    GstBuffer *out = gst_harness_pull (h);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (out),
        (i == 0 ? 0 : 400) * GST_MSECOND);
    gst_buffer_unref (out);
  }
  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_QOS))) {
    n_qos++;
    gst_message_unref (msg);
  }
  fail_unless_equals_int (n_qos, 2);

  gst_harness_set_upstream_latency (h, 10 * GST_MSECOND);
  q = gst_query_new_latency ();
  fail_unless (gst_pad_peer_query (h->sinkpad, q));
  gst_query_parse_latency (q, &live, &min_lat, &max_lat);
  fail_unless_equals_uint64 (min_lat, 10 * GST_MSECOND);
  gst_query_unref (q);

  gst_element_set_bus (sr, NULL);
  gst_object_unref (bus);
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

/* cpu-kernels: auto, orc and native give the same bytes (each is bit-exact
 * with ref, and so with the engine), and model-info names each conv's
 * kernel and how it was chosen. */
GST_START_TEST (test_cpu_kernels)
{
  static const gchar *const nicks[] = { "auto", "orc", "native" };
  gchar *dir = g_dir_make_tmp ("cfqpsr-XXXXXX", NULL);
  gchar *cpath = g_build_filename (dir, "x2.calib.json", NULL);
  CfqpCalibration *calib = make_calibration (2, TRUE, 1, cpath);
  GstVideoInfo info;
  GstBuffer *in, *first = NULL;
  GstMapInfo a, b;
  guint k;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, 70, 9);
  in = make_input (&info, GST_VIDEO_INFO_PLANE_STRIDE (&info, 0), 3);
  for (k = 0; k < G_N_ELEMENTS (nicks); k++) {
    GstElement *sr;
    GstBus *bus;
    GstHarness *h = make_int8_harness (2, &sr, &bus, 70, 9,
        "calibration-file", cpath, NULL);
    gchar *info_str = NULL;
    GstBuffer *out;

    gst_util_set_object_arg (G_OBJECT (sr), "cpu-kernels", nicks[k]);
    out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
    g_object_get (sr, "model-info", &info_str, NULL);
    fail_unless (info_str != NULL && strstr (info_str, "[conv kernels: ")
        != NULL, "%s", info_str);
    if (k == 0)
      fail_unless (strstr (info_str, "measured") != NULL ||
          strstr (info_str, "cached") != NULL, "%s", info_str);
    else
      fail_unless (strstr (info_str, "(forced)") != NULL, "%s", info_str);
#ifdef HAVE_ORC
    if (k == 1)
      fail_unless (strstr (info_str, "orc mac4_u8s8") != NULL &&
          strstr (info_str, "c4 64x4c4") == NULL &&
          strstr (info_str, "dot 1x4") == NULL, "%s", info_str);
#endif
    if (k == 2)
      fail_unless (strstr (info_str, "orc mac4_u8s8") == NULL &&
          (strstr (info_str, "c4 64x4c4") != NULL ||
              strstr (info_str, "dot 1x4") != NULL), "%s", info_str);
    fail_unless_equals_int (pop_warnings (bus, NULL), 0);
    if (first == NULL) {
      check_against_calibration (2, &info, in, out, calib);
      first = out;
    } else {
      gst_buffer_map (first, &a, GST_MAP_READ);
      gst_buffer_map (out, &b, GST_MAP_READ);
      fail_unless_equals_int (a.size, b.size);
      fail_unless (memcmp (a.data, b.data, a.size) == 0,
          "cpu-kernels=%s differs from auto", nicks[k]);
      gst_buffer_unmap (first, &a);
      gst_buffer_unmap (out, &b);
      gst_buffer_unref (out);
    }
    g_free (info_str);
    free_int8_harness (h, sr, bus);
  }

  gst_buffer_unref (first);
  gst_buffer_unref (in);
  remove_calibration (calib, dir, cpath);
}

GST_END_TEST;

/* precision, n-threads and backend changed while PLAYING: applied at the
 * next frame, no frame lost, output as the new settings compute it. */
GST_START_TEST (test_properties_while_playing)
{
  gchar *dir = g_dir_make_tmp ("cfqpsr-XXXXXX", NULL);
  gchar *cpath = g_build_filename (dir, "p.calib.json", NULL);
  CfqpCalibration *calib = make_calibration (3, TRUE, 3, cpath);
  GstElement *sr;
  GstBus *bus;
  GstHarness *h = make_int8_harness (3, &sr, &bus, 10, 7, "calibration-file",
      cpath, NULL);
  GstVideoInfo info;
  GstBuffer *in, *out;
  gchar *active = NULL;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, 10, 7);
  in = make_input (&info, GST_VIDEO_INFO_PLANE_STRIDE (&info, 0), 9);

  out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
  check_against_calibration (3, &info, in, out, calib);
  gst_buffer_unref (out);

  g_object_set (sr, "precision", 1, "n-threads", 2, NULL);
  out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
  check_against_engine (3, &info, in, out);
  gst_buffer_unref (out);
  g_object_get (sr, "active-backend", &active, NULL);
  fail_unless (strstr (active, "fp32") != NULL, "%s", active);
  g_free (active);

  g_object_set (sr, "precision", 0, "n-threads", 1, "backend", 0, NULL);
  out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
  check_against_calibration (3, &info, in, out, calib);
  gst_buffer_unref (out);
  g_object_get (sr, "active-backend", &active, NULL);
  fail_unless (strstr (active, "int8") != NULL, "%s", active);
  g_free (active);

  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 0);
  fail_unless_equals_int (pop_warnings (bus, NULL), 0);
  gst_buffer_unref (in);
  free_int8_harness (h, sr, bus);
  remove_calibration (calib, dir, cpath);
}

GST_END_TEST;

/* Navigation coordinates on the upscaled picture map back to the input. */
GST_START_TEST (test_navigation)
{
  GstHarness *h = make_harness (3, NULL);
  GstVideoInfo info;
  GstEvent *ev;
  const GstStructure *s;
  gdouble x, y;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, 8, 6);
  gst_harness_set_src_caps_str (h, "video/x-raw,format=RGB,width=8,height=6,"
      "framerate=30/1");
  gst_buffer_unref (gst_harness_push_and_pull (h, make_input (&info,
              GST_VIDEO_INFO_PLANE_STRIDE (&info, 0), 1)));
  fail_unless (gst_harness_push_upstream_event (h,
          gst_event_new_navigation (gst_structure_new
              ("application/x-gst-navigation", "event", G_TYPE_STRING,
                  "mouse-move", "pointer_x", G_TYPE_DOUBLE, 21.0, "pointer_y",
                  G_TYPE_DOUBLE, 9.0, NULL))));
  while ((ev = gst_harness_pull_upstream_event (h)) != NULL &&
      GST_EVENT_TYPE (ev) != GST_EVENT_NAVIGATION)
    gst_event_unref (ev);
  fail_unless (ev != NULL);
  s = gst_event_get_structure (ev);
  fail_unless (gst_structure_get_double (s, "pointer_x", &x));
  fail_unless (gst_structure_get_double (s, "pointer_y", &y));
  fail_unless (G_APPROX_VALUE (x, 7.0, 1e-9), "%f", x);
  fail_unless (G_APPROX_VALUE (y, 3.0, 1e-9), "%f", y);
  gst_event_unref (ev);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* With no model-file the scale follows downstream caps: 640x360 input with
 * 1920x1080 asked for picks x3 whatever scale-factor says. */
GST_START_TEST (test_scale_from_downstream)
{
  gchar *dir = make_model_dir ();
  const struct
  {
    guint pref, w, h, ow, oh;
  } cases[] = {
    {2, 64, 36, 192, 108}, {3, 64, 36, 128, 72}, {3, 64, 36, 256, 144},
    {4, 20, 10, 0, 0},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    GstElement *sr = gst_element_factory_make ("cfqpsr", NULL);
    GstHarness *h;
    GstVideoInfo info;
    GstCaps *caps;
    gchar *str, *model_info = NULL, *want;
    gint ow, oh;
    guint scale = cases[i].ow ? cases[i].ow / cases[i].w : cases[i].pref;

    g_object_set (sr, "scale-factor", cases[i].pref, "precision", 1, NULL);
    h = gst_harness_new_with_element (sr, "sink", "src");
    str = g_strdup_printf ("video/x-raw,format=I420,width=%u,height=%u,"
        "framerate=30/1,pixel-aspect-ratio=1/1", cases[i].w, cases[i].h);
    gst_harness_set_src_caps_str (h, str);
    g_free (str);
    if (cases[i].ow) {
      str = g_strdup_printf ("video/x-raw,format=I420,width=%u,height=%u",
          cases[i].ow, cases[i].oh);
      gst_harness_set_sink_caps_str (h, str);
      g_free (str);
    }
    gst_video_info_set_format (&info, GST_VIDEO_FORMAT_I420, cases[i].w,
        cases[i].h);
    gst_buffer_unref (gst_harness_push_and_pull (h, make_yuv_input (&info, 0,
                i)));
    caps = gst_pad_get_current_caps (h->sinkpad);
    fail_unless (gst_structure_get_int (gst_caps_get_structure (caps, 0),
            "width", &ow));
    fail_unless (gst_structure_get_int (gst_caps_get_structure (caps, 0),
            "height", &oh));
    fail_unless_equals_int (ow, cases[i].w * scale);
    fail_unless_equals_int (oh, cases[i].h * scale);
    g_object_get (sr, "model-info", &model_info, NULL);
    want = g_strdup_printf ("default-x%u.onnx", scale);
    fail_unless (strstr (model_info, want) != NULL, "%s", model_info);
    g_free (want);
    g_free (model_info);
    gst_caps_unref (caps);
    gst_harness_teardown (h);
    gst_object_unref (sr);
  }
  remove_model_dir (dir);
}

GST_END_TEST;

/* Interlaced input is refused at negotiation (the network would mix the
 * fields: alternating lines came out line-doubled); progressive, or caps
 * without interlace-mode (progressive by default), pass. */
GST_START_TEST (test_progressive_only)
{
  const gchar *modes[] = { "interleaved", "mixed", "alternate" };
  GstHarness *h;
  GstCaps *caps, *tmpl;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (modes); i++) {
    gchar *str = g_strdup_printf ("video/x-raw,format=RGB,width=8,height=8,"
        "framerate=30/1,interlace-mode=%s", modes[i]);

    h = make_harness (2, NULL);
    caps = gst_caps_from_string (str);
    fail_if (gst_pad_query_accept_caps (h->srcpad->peer, caps), "%s", str);
    tmpl = gst_pad_query_caps (h->srcpad->peer, caps);
    fail_unless (gst_caps_is_empty (tmpl), "%" GST_PTR_FORMAT, tmpl);
    gst_caps_unref (tmpl);
    gst_caps_unref (caps);
    gst_harness_teardown (h);
    g_free (str);
  }

  h = make_harness (2, NULL);
  caps = gst_caps_from_string ("video/x-raw,format=RGB,width=8,height=8,"
      "framerate=30/1,interlace-mode=progressive");
  fail_unless (gst_pad_query_accept_caps (h->srcpad->peer, caps));
  gst_caps_unref (caps);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Downstream asks for a size the input cannot be upscaled to (past the
 * model-file's ×2): an element error that names the sizes cfqpsr can make (it said only "not
 * negotiated", or "can't handle caps" at link time). */
GST_START_TEST (test_impossible_size_error)
{
  GstElement *sr;
  GstHarness *h = make_harness (2, &sr);
  GstBus *bus = gst_bus_new ();
  GstVideoInfo info;
  GstMessage *msg;
  GError *err = NULL;

  gst_element_set_bus (sr, bus);
  gst_harness_set_sink_caps_str (h, "video/x-raw,format=RGB,width=250,"
      "height=250,framerate=30/1");
  gst_harness_set_src_caps_str (h, "video/x-raw,format=RGB,width=100,"
      "height=100,framerate=30/1");
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, 100, 100);
  fail_if (gst_harness_push (h, make_input (&info,
              GST_VIDEO_INFO_PLANE_STRIDE (&info, 0), 1)) == GST_FLOW_OK);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "no error message");
  gst_message_parse_error (msg, &err, NULL);
  fail_unless (g_error_matches (err, GST_CORE_ERROR,
          GST_CORE_ERROR_NEGOTIATION), "%s", err->message);
  fail_unless (strstr (err->message, "100..200 x 100..200") != NULL, "%s",
      err->message);
  g_error_free (err);
  gst_message_unref (msg);
  gst_element_set_bus (sr, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
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
  tcase_add_test (tc, test_qos_and_latency);
  tcase_add_test (tc, test_missing_model);
  tcase_add_test (tc, test_corrupt_model);
  tcase_add_test (tc, test_embedded_model);
  tcase_add_test (tc, test_model_scale_wins);
  tcase_add_test (tc, test_properties);
  tcase_add_test (tc, test_cpu_kernels);
  tcase_add_test (tc, test_properties_while_playing);
  tcase_add_test (tc, test_navigation);
  tcase_add_test (tc, test_scale_from_downstream);
  tcase_add_test (tc, test_progressive_only);
  tcase_add_test (tc, test_impossible_size_error);
  return s;
}

GST_CHECK_MAIN (cfqpsr);
