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

static const gchar *formats[] = {
  "RGB", "BGR", "RGBx", "BGRx", "xRGB", "xBGR", "RGBA", "BGRA", "ARGB", "ABGR",
  "I420", "NV12",
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
check_against_engine_full (guint scale, const GstVideoInfo * in_info,
    GstBuffer * in, GstBuffer * out, const CfqpQParams * qparams)
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
  if (qparams) {
    /* INT8 tests use clip-free calibrations, as the element's default */
    CfqpModel *cf = cfqp_model_new_clip_free (model, NULL, NULL);

    cfqp_model_unref (model);
    model = cf;
  }
  opts.precision = qparams ? CFQP_PRECISION_INT8 : CFQP_PRECISION_FP32;
  opts.qparams = qparams;
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

static void
check_against_engine (guint scale, const GstVideoInfo * in_info,
    GstBuffer * in, GstBuffer * out)
{
  check_against_engine_full (scale, in_info, in, out, NULL);
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

static GstVideoConverter *
make_converter (const GstVideoInfo * from, const GstVideoInfo * to)
{
  GstVideoConverter *c = gst_video_converter_new (from, to,
      gst_structure_new ("t", GST_VIDEO_CONVERTER_OPT_DITHER_METHOD,
          GST_TYPE_VIDEO_DITHER_METHOD, GST_VIDEO_DITHER_NONE, NULL));

  fail_unless (c != NULL);
  return c;
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

/* Messages taken off a bus, so that looking for one kind does not drop
 * the others (gst_bus_pop_filtered discards what does not match). */
static GQueue saved_messages = G_QUEUE_INIT;

static void
collect_messages (GstBus * bus)
{
  GstMessage *msg;

  while ((msg = gst_bus_pop (bus)))
    g_queue_push_tail (&saved_messages, msg);
}

/* Element messages named name posted so far (taken). */
static guint
pop_element_messages (GstBus * bus, const gchar * name, GPtrArray * keep)
{
  GList *l, *next;
  guint n = 0;

  collect_messages (bus);
  for (l = saved_messages.head; l; l = next) {
    GstMessage *msg = l->data;

    next = l->next;
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT &&
        gst_message_has_name (msg, name)) {
      n++;
      if (keep)
        g_ptr_array_add (keep, gst_structure_copy (gst_message_get_structure
                (msg)));
      g_queue_delete_link (&saved_messages, l);
      gst_message_unref (msg);
    }
  }
  return n;
}

/* Warnings posted so far (taken); each must contain must_contain. */
static guint
pop_warnings (GstBus * bus, const gchar * must_contain)
{
  GList *l, *next;
  guint n = 0;

  collect_messages (bus);
  for (l = saved_messages.head; l; l = next) {
    GstMessage *msg = l->data;
    GError *err = NULL;

    next = l->next;
    if (GST_MESSAGE_TYPE (msg) != GST_MESSAGE_WARNING)
      continue;
    gst_message_parse_warning (msg, &err, NULL);
    GST_INFO ("warning: %s", err->message);
    if (must_contain)
      fail_unless (strstr (err->message, must_contain) != NULL, "%s",
          err->message);
    g_error_free (err);
    g_queue_delete_link (&saved_messages, l);
    gst_message_unref (msg);
    n++;
  }
  return n;
}

/* Warnings posted so far (all taken): how many contain text. */
static guint
pop_warnings_containing (GstBus * bus, const gchar * text)
{
  GList *l, *next;
  guint n = 0;

  collect_messages (bus);
  for (l = saved_messages.head; l; l = next) {
    GstMessage *msg = l->data;
    GError *err = NULL;

    next = l->next;
    if (GST_MESSAGE_TYPE (msg) != GST_MESSAGE_WARNING)
      continue;
    gst_message_parse_warning (msg, &err, NULL);
    GST_INFO ("warning: %s", err->message);
    if (strstr (err->message, text) != NULL)
      n++;
    g_error_free (err);
    g_queue_delete_link (&saved_messages, l);
    gst_message_unref (msg);
  }
  return n;
}

/* A calibration of tiny-x<scale> from a few synthetic frames, saved to
 * path if not NULL. */
static CfqpCalibration *
make_calibration (guint scale, gboolean clip_free, guint seed,
    const gchar * path)
{
  /* odd seeds bright, even seeds at half brightness */
  return element_test_make_calibration (scale, clip_free, seed,
      0.5f + 0.5f * (seed % 2), path);
}

static CfqpQParams *
calib_qparams (guint scale, CfqpCalibration * calib)
{
  gchar *mpath = element_test_model_path (scale);
  CfqpModel *model = cfqp_model_new_from_file (mpath, NULL);
  CfqpQParams *qp;
  GError *err = NULL;

  /* calibrations name the model they run: clip-free or not */
  if (cfqp_calibration_get_clip_free (calib)) {
    CfqpModel *cf = cfqp_model_new_clip_free (model, NULL, NULL);

    cfqp_model_unref (model);
    model = cf;
  }
  qp = cfqp_calibration_to_qparams (calib, model, &err);
  fail_unless (qp != NULL, "%s", err ? err->message : "?");
  cfqp_model_unref (model);
  g_free (mpath);
  return qp;
}

/* Frees a make_calibration() written to file cpath in the temporary
 * folder dir, and its parameters, and removes both. */
static void
remove_calibration (CfqpCalibration * calib, CfqpQParams * qp, gchar * dir,
    gchar * cpath)
{
  g_free (qp);
  cfqp_calibration_unref (calib);
  g_unlink (cpath);
  g_rmdir (dir);
  g_free (cpath);
  g_free (dir);
}

/* A harness on an int8 cfqpsr with a bus; RGB w×h caps set. */
static GstHarness *
make_int8_harness (guint scale, GstElement ** sr_out, GstBus ** bus_out,
    guint w, guint h, const gchar * first_property, ...)
{
  va_list args;
  gchar *path = element_test_model_path (scale);
  GstElement *sr = gst_element_factory_make ("cfqpsr", NULL);
  GstBus *bus = gst_bus_new ();
  GstHarness *hr;
  gchar *caps;

  g_object_set (sr, "model-file", path, "backend", 1, "precision", 0, NULL);
  if (first_property) {
    va_start (args, first_property);
    g_object_set_valist (G_OBJECT (sr), first_property, args);
    va_end (args);
  }
  gst_element_set_bus (sr, bus);
  hr = gst_harness_new_with_element (sr, "sink", "src");
  caps = g_strdup_printf ("video/x-raw,format=RGB,width=%u,height=%u,"
      "framerate=30/1", w, h);
  gst_harness_set_src_caps_str (hr, caps);
  g_free (caps);
  g_free (path);
  *sr_out = sr;
  *bus_out = bus;
  return hr;
}

static void
free_int8_harness (GstHarness * h, GstElement * sr, GstBus * bus)
{
  g_queue_clear_full (&saved_messages, (GDestroyNotify) gst_message_unref);
  gst_harness_teardown (h);
  gst_element_set_bus (sr, NULL);
  gst_object_unref (bus);
  gst_object_unref (sr);
}

/* precision=int8 with no calibration anywhere and self-calibration off:
 * one warning, FP32 output. */
GST_START_TEST (test_int8_no_calibration)
{
  GstElement *sr;
  GstBus *bus;
  GstHarness *h = make_int8_harness (3, &sr, &bus, 7, 5,
      "self-calibration-frames", 0, NULL);
  GstVideoInfo info;
  GstBuffer *in, *out;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, 7, 5);
  in = make_input (&info, GST_VIDEO_INFO_PLANE_STRIDE (&info, 0), 5);
  out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
  gst_buffer_unref (gst_harness_push_and_pull (h, gst_buffer_ref (in)));
  fail_unless_equals_int (pop_warnings (bus, "No calibration"), 1);
  check_against_engine (3, &info, in, out);
  gst_buffer_unref (in);
  gst_buffer_unref (out);
  free_int8_harness (h, sr, bus);
}

GST_END_TEST;

/* INT8 with a calibration file: the message names it, the pixels are the
 * engine's INT8 output with the same parameters. */
GST_START_TEST (test_int8_calibration_file)
{
  gchar *dir = g_dir_make_tmp ("cfqpsr-XXXXXX", NULL);
  gchar *cpath = g_build_filename (dir, "x2.calib.json", NULL);
  CfqpCalibration *calib = make_calibration (2, TRUE, 1, cpath);
  CfqpQParams *qp = calib_qparams (2, calib);
  GstElement *sr;
  GstBus *bus;
  GstHarness *h;
  GstVideoInfo info;
  GstBuffer *in, *out;
  GPtrArray *msgs = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_structure_free);
  gchar *active = NULL;
  const gchar *src;

  h = make_int8_harness (2, &sr, &bus, 9, 6, "calibration-file", cpath, NULL);
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, 9, 6);
  in = make_input (&info, GST_VIDEO_INFO_PLANE_STRIDE (&info, 0), 7);
  out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
  check_against_engine_full (2, &info, in, out, qp);
  fail_unless_equals_int (pop_warnings (bus, NULL), 0);
  fail_unless_equals_int (pop_element_messages (bus, "cfqpsr-calibration",
          msgs), 1);
  src = gst_structure_get_string (g_ptr_array_index (msgs, 0), "source");
  fail_unless (g_str_has_suffix (src, cpath), "%s", src);
  fail_unless_equals_string (gst_structure_get_string (g_ptr_array_index (msgs,
              0), "model-hash"), cfqp_calibration_get_model_hash (calib));
  fail_unless_equals_string (gst_structure_get_string (g_ptr_array_index (msgs,
              0), "precision"), "int8");
  g_object_get (sr, "active-backend", &active, NULL);
  fail_unless (strstr (active, "int8") != NULL, "%s", active);

  g_free (active);
  gst_buffer_unref (in);
  gst_buffer_unref (out);
  free_int8_harness (h, sr, bus);
  g_ptr_array_unref (msgs);
  remove_calibration (calib, qp, dir, cpath);
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
  CfqpQParams *qp = calib_qparams (2, calib);
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
      check_against_engine_full (2, &info, in, out, qp);
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
  remove_calibration (calib, qp, dir, cpath);
}

GST_END_TEST;

/* Calibrations that do not fit are refused with a warning: another model's,
 * the other clip-free mode's, a corrupt file.  The element keeps running. */
GST_START_TEST (test_calibration_mismatch)
{
  gchar *dir = g_dir_make_tmp ("cfqpsr-XXXXXX", NULL);
  gchar *other = g_build_filename (dir, "x3.calib.json", NULL);
  gchar *corrupt = g_build_filename (dir, "corrupt.calib.json", NULL);
  const gchar *paths[] = { other, corrupt };
  GstVideoInfo info;
  guint i;

  cfqp_calibration_unref (make_calibration (3, TRUE, 1, other));
  fail_unless (g_file_set_contents (corrupt, "{ \"format\": \"cfqp-calib", -1,
          NULL));
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, 5, 4);

  for (i = 0; i < G_N_ELEMENTS (paths); i++) {
    GstElement *sr;
    GstBus *bus;
    GstHarness *h = make_int8_harness (2, &sr, &bus, 5, 4,
        "calibration-file", paths[i], "self-calibration-frames", 0,
        "clip-free", TRUE, NULL);
    GstBuffer *in, *out;

    in = make_input (&info, GST_VIDEO_INFO_PLANE_STRIDE (&info, 0), i);
    out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
    /* refused (naming the file), then no calibration: FP32 */
    fail_unless (pop_warnings (bus, NULL) >= 1);
    fail_unless_equals_int (pop_element_messages (bus, "cfqpsr-calibration",
            NULL), 0);
    check_against_engine (2, &info, in, out);
    gst_buffer_unref (in);
    gst_buffer_unref (out);
    free_int8_harness (h, sr, bus);
    g_unlink (paths[i]);
  }
  g_rmdir (dir);
  g_free (other);
  g_free (corrupt);
  g_free (dir);
}

GST_END_TEST;

/* Pushes frames until a cfqpsr-calibration message arrives (or timeout);
 * every pushed frame must come out.  Returns the message's structure. */
static GstStructure *
push_until_calibration (GstHarness * h, GstBus * bus, guint w, guint hh,
    gdouble timeout_s, guint * n_frames)
{
  GPtrArray *msgs = g_ptr_array_new ();
  gint64 end = g_get_monotonic_time () + timeout_s * G_USEC_PER_SEC;
  GstStructure *ret = NULL;
  GstVideoInfo info;
  guint i = 0;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, w, hh);
  while (g_get_monotonic_time () < end) {
    GstBuffer *in = make_input (&info, GST_VIDEO_INFO_PLANE_STRIDE (&info, 0),
        i);

    GST_BUFFER_PTS (in) = i * GST_SECOND / 30;
    gst_buffer_unref (gst_harness_push_and_pull (h, in));
    i++;
    if (pop_element_messages (bus, "cfqpsr-calibration", msgs) > 0) {
      ret = g_ptr_array_index (msgs, 0);
      break;
    }
    g_usleep (2000);
  }
  g_ptr_array_unref (msgs);
  if (n_frames)
    *n_frames = i;
  return ret;
}

/* No calibration at all: FP32 while the worker calibrates, then INT8 at a
 * frame boundary with a message saying so. */
GST_START_TEST (test_self_calibration)
{
  GstElement *sr;
  GstBus *bus;
  GstHarness *h = make_int8_harness (2, &sr, &bus, 16, 12, NULL);
  GstStructure *s;
  gchar *active = NULL;
  guint n, frame;

  g_object_get (sr, "active-backend", &active, NULL);
  fail_unless (strstr (active, "fp32") != NULL, "%s", active);
  g_free (active);
  s = push_until_calibration (h, bus, 16, 12, 30, &n);
  fail_unless (s != NULL, "no self-calibration after %u frames", n);
  fail_unless_equals_string (gst_structure_get_string (s, "source"), "self");
  fail_unless_equals_string (gst_structure_get_string (s, "precision"), "int8");
  fail_unless (gst_structure_get_uint (s, "n-samples", &frame));
  fail_unless_equals_int (frame, 8);
  g_object_get (sr, "active-backend", &active, NULL);
  fail_unless (strstr (active, "int8") != NULL, "%s", active);
  g_free (active);
  fail_unless_equals_int (pop_warnings (bus, NULL), 0);
  gst_structure_free (s);
  free_int8_harness (h, sr, bus);
}

GST_END_TEST;

/* A noise-like scene (TV snow) self-calibrates from the promised
 * self-calibration-frames samples: its frames differ, but their 16x16
 * thumbnails are all mid-grey, which the RD's scene test takes for repeats
 * (it kept 1 sample). */
GST_START_TEST (test_self_calibration_noise)
{
  const guint w = 640, hh = 480;
  GstElement *sr;
  GstBus *bus;
  GstHarness *h = make_int8_harness (2, &sr, &bus, w, hh,
      "self-calibration-frames", 5, NULL);
  GRand *rand = g_rand_new_with_seed (7);
  GPtrArray *msgs = g_ptr_array_new ();
  gint64 end = g_get_monotonic_time () + 60 * G_TIME_SPAN_SECOND;
  guint i = 0, n = 0;

  while (msgs->len == 0 && g_get_monotonic_time () < end) {
    GstBuffer *buf = gst_buffer_new_and_alloc (w * hh * 3);
    GstMapInfo map;
    gsize k;

    gst_buffer_map (buf, &map, GST_MAP_WRITE);
    for (k = 0; k < map.size; k++)
      map.data[k] = (guint8) g_rand_int (rand);
    gst_buffer_unmap (buf, &map);
    GST_BUFFER_PTS (buf) = i++ * GST_SECOND / 30;
    gst_buffer_unref (gst_harness_push_and_pull (h, buf));
    pop_element_messages (bus, "cfqpsr-calibration", msgs);
  }
  fail_unless (msgs->len > 0, "no self-calibration after %u frames", i);
  fail_unless (gst_structure_get_uint (g_ptr_array_index (msgs, 0),
          "n-samples", &n));
  fail_unless_equals_int (n, 5);
  g_ptr_array_set_free_func (msgs, (GDestroyNotify) gst_structure_free);
  g_ptr_array_unref (msgs);
  g_rand_free (rand);
  free_int8_harness (h, sr, bus);
}

GST_END_TEST;

/* A calibration file replaced (atomic rename) while streaming is applied
 * at a frame boundary; the new output is the engine's with the new one. */
GST_START_TEST (test_calibration_file_replaced)
{
  gchar *dir = g_dir_make_tmp ("cfqpsr-XXXXXX", NULL);
  gchar *cpath = g_build_filename (dir, "live.calib.json", NULL);
  CfqpCalibration *a = make_calibration (2, TRUE, 1, cpath), *b;
  CfqpQParams *qp;
  GstElement *sr;
  GstBus *bus;
  GstHarness *h = make_int8_harness (2, &sr, &bus, 8, 8, "calibration-file",
      cpath, NULL);
  GstStructure *s;
  GstVideoInfo info;
  GstBuffer *in, *out;
  guint n;

  s = push_until_calibration (h, bus, 8, 8, 5, NULL);
  fail_unless (s != NULL);
  gst_structure_free (s);

  b = make_calibration (2, TRUE, 2, cpath);    /* atomic replace */
  s = push_until_calibration (h, bus, 8, 8, 10, &n);
  fail_unless (s != NULL, "replacement not applied after %u frames", n);
  fail_unless (g_str_has_suffix (gst_structure_get_string (s, "source"),
          cpath));
  gst_structure_free (s);

  /* from now on: the new parameters */
  qp = calib_qparams (2, b);
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, 8, 8);
  in = make_input (&info, GST_VIDEO_INFO_PLANE_STRIDE (&info, 0), 77);
  out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
  check_against_engine_full (2, &info, in, out, qp);
  fail_unless_equals_int (pop_warnings (bus, NULL), 0);

  /* a corrupt replacement is refused, the current one stays */
  fail_unless (g_file_set_contents (cpath, "garbage", -1, NULL));
  s = push_until_calibration (h, bus, 8, 8, 1.5, NULL);
  fail_unless (s == NULL);
  fail_unless (pop_warnings (bus, cpath) >= 1);
  gst_buffer_unref (out);
  out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
  check_against_engine_full (2, &info, in, out, qp);

  gst_buffer_unref (in);
  gst_buffer_unref (out);
  free_int8_harness (h, sr, bus);
  g_free (qp);
  cfqp_calibration_unref (a);
  cfqp_calibration_unref (b);
  g_unlink (cpath);
  g_rmdir (dir);
  g_free (cpath);
  g_free (dir);
}

GST_END_TEST;

static void
write_in_place (const gchar * path, const gchar * mode, const gchar * data,
    gsize len)
{
  FILE *f = fopen (path, mode);

  fail_unless (f != NULL);
  fail_unless_equals_int (fwrite (data, 1, len, f), len);
  fclose (f);
}

/* A watched calibration file rewritten in place, again and again (each
 * rewrite in two writes, so that a read in between is torn): read once it
 * has settled, no warning for the torn versions; a file that stays broken
 * over several rewrites is one warning, not one per rewrite. */
GST_START_TEST (test_calibration_file_rewritten)
{
  gchar *dir = g_dir_make_tmp ("cfqpsr-XXXXXX", NULL);
  gchar *cpath = g_build_filename (dir, "inplace.calib.json", NULL);
  CfqpCalibration *a = make_calibration (2, TRUE, 1, cpath);
  CfqpCalibration *b = make_calibration (2, TRUE, 2, NULL);
  CfqpQParams *qp = calib_qparams (2, b);
  GstElement *sr;
  GstBus *bus;
  GstHarness *h = make_int8_harness (2, &sr, &bus, 8, 8, "calibration-file",
      cpath, NULL);
  GstStructure *s;
  GstVideoInfo info;
  GstBuffer *in, *out;
  gsize len;
  gchar *json = cfqp_calibration_to_json (b, &len);
  guint i, n;

  s = push_until_calibration (h, bus, 8, 8, 5, NULL);
  fail_unless (s != NULL);
  gst_structure_free (s);

  for (i = 0; i < 30; i++) {
    write_in_place (cpath, "w", json, len / 2);
    g_usleep (5000);
    write_in_place (cpath, "a", json + len / 2, len - len / 2);
    g_usleep (20000);
  }
  s = push_until_calibration (h, bus, 8, 8, 5, &n);
  fail_unless (s != NULL, "rewritten file not applied after %u frames", n);
  gst_structure_free (s);
  fail_unless_equals_int (pop_warnings (bus, NULL), 0);
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, 8, 8);
  in = make_input (&info, GST_VIDEO_INFO_PLANE_STRIDE (&info, 0), 77);
  out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
  check_against_engine_full (2, &info, in, out, qp);
  gst_buffer_unref (out);

  /* broken three times in a row, each version read: one warning */
  for (i = 0; i < 3; i++) {
    gchar *junk = g_strdup_printf ("{ \"format\": %u", i);

    write_in_place (cpath, "w", junk, strlen (junk));
    g_free (junk);
    g_usleep (600000);
  }
  s = push_until_calibration (h, bus, 8, 8, 0.5, NULL);
  fail_unless (s == NULL);
  fail_unless_equals_int (pop_warnings (bus, cpath), 1);
  /* the active calibration stayed */
  out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
  check_against_engine_full (2, &info, in, out, qp);
  gst_buffer_unref (out);

  gst_buffer_unref (in);
  free_int8_harness (h, sr, bus);
  g_free (json);
  g_free (qp);
  cfqp_calibration_unref (a);
  cfqp_calibration_unref (b);
  g_unlink (cpath);
  g_rmdir (dir);
  g_free (cpath);
  g_free (dir);
}

GST_END_TEST;

/* precision, n-threads and backend changed while PLAYING: applied at the
 * next frame, no frame lost, output as the new settings compute it. */
GST_START_TEST (test_properties_while_playing)
{
  gchar *dir = g_dir_make_tmp ("cfqpsr-XXXXXX", NULL);
  gchar *cpath = g_build_filename (dir, "p.calib.json", NULL);
  CfqpCalibration *calib = make_calibration (3, TRUE, 3, cpath);
  CfqpQParams *qp = calib_qparams (3, calib);
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
  check_against_engine_full (3, &info, in, out, qp);
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
  check_against_engine_full (3, &info, in, out, qp);
  gst_buffer_unref (out);
  g_object_get (sr, "active-backend", &active, NULL);
  fail_unless (strstr (active, "int8") != NULL, "%s", active);
  g_free (active);

  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 0);
  fail_unless_equals_int (pop_warnings (bus, NULL), 0);
  gst_buffer_unref (in);
  free_int8_harness (h, sr, bus);
  remove_calibration (calib, qp, dir, cpath);
}

GST_END_TEST;

static const gchar *
msg_string (GPtrArray * msgs, guint i, const gchar * field)
{
  return gst_structure_get_string (g_ptr_array_index (msgs, i), field);
}

/* What runs is posted as cfqpsr-precision at start and whenever it changes
 * (a precision change while PLAYING, the first calibration), with the
 * frame it applies from; nothing when nothing changes. */
GST_START_TEST (test_precision_message)
{
  gchar *dir = g_dir_make_tmp ("cfqpsr-XXXXXX", NULL);
  gchar *cpath = g_build_filename (dir, "p.calib.json", NULL);
  CfqpCalibration *calib = make_calibration (2, TRUE, 3, cpath);
  CfqpQParams *qp = calib_qparams (2, calib);
  GPtrArray *msgs = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_structure_free);
  GstElement *sr;
  GstBus *bus;
  GstHarness *h = make_int8_harness (2, &sr, &bus, 6, 4, "calibration-file",
      cpath, NULL);
  GstVideoInfo info;
  GstBuffer *in;
  guint64 frame;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, 6, 4);
  in = make_input (&info, GST_VIDEO_INFO_PLANE_STRIDE (&info, 0), 2);
  gst_buffer_unref (gst_harness_push_and_pull (h, gst_buffer_ref (in)));
  fail_unless_equals_int (pop_element_messages (bus, "cfqpsr-precision",
          msgs), 1);
  fail_unless_equals_string (msg_string (msgs, 0, "precision"), "int8");
  fail_unless (g_str_has_prefix (msg_string (msgs, 0, "backend"), "cpu"));

  g_object_set (sr, "precision", 1, NULL);
  gst_buffer_unref (gst_harness_push_and_pull (h, gst_buffer_ref (in)));
  fail_unless_equals_int (pop_element_messages (bus, "cfqpsr-precision",
          msgs), 1);
  fail_unless_equals_string (msg_string (msgs, 1, "precision"), "fp32");
  fail_unless (strstr (msg_string (msgs, 1, "active-backend"), "fp32"));
  fail_unless (gst_structure_get_uint64 (g_ptr_array_index (msgs, 1), "frame",
          &frame));
  fail_unless_equals_uint64 (frame, 1);

  /* n-threads changes nothing that is posted: no message */
  g_object_set (sr, "n-threads", 1, NULL);
  gst_buffer_unref (gst_harness_push_and_pull (h, gst_buffer_ref (in)));
  fail_unless_equals_int (pop_element_messages (bus, "cfqpsr-precision",
          NULL), 0);

  g_object_set (sr, "precision", 0, NULL);
  gst_buffer_unref (gst_harness_push_and_pull (h, gst_buffer_ref (in)));
  fail_unless_equals_int (pop_element_messages (bus, "cfqpsr-precision",
          msgs), 1);
  fail_unless_equals_string (msg_string (msgs, 2, "precision"), "int8");

  gst_buffer_unref (in);
  free_int8_harness (h, sr, bus);
  g_ptr_array_unref (msgs);
  remove_calibration (calib, qp, dir, cpath);
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

/* A folder standing in for the embedded models (GST_CFQP_MODEL_DIR) */
static gchar *
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

static void
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

/* The default model's shipped calibration (default-x<N>.calib.json) makes
 * int8 run INT8 from the first frame. */
GST_START_TEST (test_shipped_calibration)
{
  gchar *dir = make_model_dir ();
  gchar *cpath = g_build_filename (dir, "default-x2.calib.json", NULL);
  CfqpCalibration *calib = make_calibration (2, TRUE, 5, cpath);
  CfqpQParams *qp = calib_qparams (2, calib);
  GstElement *sr = gst_element_factory_make ("cfqpsr", NULL);
  GstBus *bus = gst_bus_new ();
  GPtrArray *msgs = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_structure_free);
  GstHarness *h;
  GstVideoInfo info;
  GstBuffer *in, *out;

  g_object_set (sr, "scale-factor", 2, "backend", 1, NULL);
  gst_element_set_bus (sr, bus);
  h = gst_harness_new_with_element (sr, "sink", "src");
  gst_harness_set_src_caps_str (h, "video/x-raw,format=RGB,width=6,height=5,"
      "framerate=30/1");
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, 6, 5);
  in = make_input (&info, GST_VIDEO_INFO_PLANE_STRIDE (&info, 0), 3);
  out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
  check_against_engine_full (2, &info, in, out, qp);
  fail_unless_equals_int (pop_element_messages (bus, "cfqpsr-calibration",
          msgs), 1);
  fail_unless (g_str_has_prefix (gst_structure_get_string (g_ptr_array_index
              (msgs, 0), "source"), "shipped:"));

  gst_buffer_unref (in);
  gst_buffer_unref (out);
  free_int8_harness (h, sr, bus);
  g_ptr_array_unref (msgs);
  g_free (qp);
  cfqp_calibration_unref (calib);
  g_free (cpath);
  remove_model_dir (dir);
}

GST_END_TEST;

/* A QDQ model (as cfqpcalib export-qdq writes) runs INT8 with its own
 * parameters, from the first frame, without calibrating itself. */
GST_START_TEST (test_qdq_model)
{
  gchar *dir = g_dir_make_tmp ("cfqpsr-XXXXXX", NULL);
  gchar *qdq = g_build_filename (dir, "tiny.qdq.onnx", NULL);
  CfqpCalibration *calib = make_calibration (2, TRUE, 4, NULL);
  CfqpQParams *qp = calib_qparams (2, calib);
  gchar *mpath = element_test_model_path (2);
  CfqpModel *model = cfqp_model_new_from_file (mpath, NULL), *cf, *qmodel;
  CfqpRunnerOptions opts = CFQP_RUNNER_OPTIONS_INIT;
  CfqpPackedLayout l = { 3, 0, 1, 2, -1 };
  CfqpRunner *runner;
  GError *err = NULL;
  GstElement *sr = gst_element_factory_make ("cfqpsr", NULL);
  GstBus *bus = gst_bus_new ();
  GPtrArray *msgs = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_structure_free);
  GstHarness *h;
  GstVideoInfo info;
  GstBuffer *in, *out;
  GstMapInfo im, om;
  guint8 *ref;

  cf = cfqp_model_new_clip_free (model, NULL, NULL);
  fail_unless (cfqp_model_export_qdq (cf, qp, qdq, &err), "%s",
      err ? err->message : "?");

  g_object_set (sr, "model-file", qdq, "backend", 1, NULL);
  gst_element_set_bus (sr, bus);
  h = gst_harness_new_with_element (sr, "sink", "src");
  gst_harness_set_src_caps_str (h, "video/x-raw,format=RGB,width=7,height=6,"
      "framerate=30/1");
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, 7, 6);
  in = make_input (&info, 21, 11);
  out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
  fail_unless_equals_int (pop_element_messages (bus, "cfqpsr-calibration",
          msgs), 1);
  fail_unless (g_str_has_prefix (gst_structure_get_string (g_ptr_array_index
              (msgs, 0), "source"), "embedded:"));
  fail_unless_equals_string (gst_structure_get_string (g_ptr_array_index (msgs,
              0), "precision"), "int8");

  /* the engine on the QDQ file with its embedded parameters */
  cfqp_model_unref (cf);
  cf = cfqp_model_new_from_file (qdq, NULL);
  fail_unless (cf != NULL);
  /* what the element runs: the clip-free copy (clip-free=true) */
  qmodel = cfqp_model_new_clip_free (cf, NULL, NULL);
  cfqp_model_unref (cf);
  opts.precision = CFQP_PRECISION_INT8;
  opts.backend = CFQP_BACKEND_CPU;
  opts.qparams = cfqp_model_get_embedded_qparams (qmodel);
  runner = cfqp_runner_new (qmodel, &opts, &err);
  fail_unless (runner != NULL, "%s", err ? err->message : "?");
  ref = g_malloc (14 * 12 * 3);
  gst_buffer_map (in, &im, GST_MAP_READ);
  gst_buffer_map (out, &om, GST_MAP_READ);
  fail_unless (cfqp_runner_run_packed (runner, &l, im.data, 21, 7, 6, ref,
          14 * 3, NULL));
  {
    guint y;
    gsize ostride = GST_ROUND_UP_4 (14 * 3);

    for (y = 0; y < 12; y++)
      fail_unless (memcmp (om.data + y * ostride, ref + y * 14 * 3, 14 * 3)
          == 0, "row %u", y);
  }
  gst_buffer_unmap (out, &om);
  gst_buffer_unmap (in, &im);

  g_free (ref);
  cfqp_runner_free (runner);
  cfqp_model_unref (qmodel);
  cfqp_model_unref (model);
  gst_buffer_unref (in);
  gst_buffer_unref (out);
  free_int8_harness (h, sr, bus);
  g_ptr_array_unref (msgs);
  g_free (qp);
  g_free (mpath);
  cfqp_calibration_unref (calib);
  g_unlink (qdq);
  g_rmdir (dir);
  g_free (qdq);
  g_free (dir);
}

GST_END_TEST;

static void
count_handoff (GstElement * sink, GstBuffer * buf, GstPad * pad, gpointer data)
{
  g_atomic_int_inc ((gint *) data);
}

/* The live pipeline: cfqpsr and a paired cfqpcalib behind a leaky queue.
 * A calibration is published mid-stream, cfqpsr switches to it at a frame
 * boundary, and every frame reaches the sink. */
GST_START_TEST (test_live_pairing)
{
  const guint n_buffers = 45;
  gchar *mpath = element_test_model_path (2);
  gchar *desc = g_strdup_printf ("videotestsrc is-live=true num-buffers=%u "
      "pattern=ball ! video/x-raw,format=I420,width=48,height=32,"
      "framerate=30/1 ! tee name=t ! queue ! cfqpsr name=sr model-file=%s "
      "calibration-name=live-test backend=cpu ! fakesink name=out "
      "signal-handoffs=true t. ! queue leaky=downstream max-size-buffers=2 ! "
      "cfqpcalib model-file=%s calibration-name=live-test update-interval=3 "
      "augmentation=none", n_buffers, mpath, mpath);
  GstElement *pipe = gst_parse_launch (desc, NULL);
  GstElement *out = gst_bin_get_by_name (GST_BIN (pipe), "out");
  GstBus *bus = gst_element_get_bus (pipe);
  gint frames = 0;
  guint n_switch = 0, n_published = 0, n_done = 0;
  guint64 first_switch = G_MAXUINT64;
  GstMessage *msg;
  gboolean eos = FALSE;

  fail_unless (pipe != NULL);
  g_signal_connect (out, "handoff", G_CALLBACK (count_handoff), &frames);
  fail_if (gst_element_set_state (pipe, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  while (!eos && (msg = gst_bus_timed_pop (bus, 30 * GST_SECOND))) {
    const GstStructure *s = gst_message_get_structure (msg);

    switch (GST_MESSAGE_TYPE (msg)) {
      case GST_MESSAGE_EOS:
        eos = TRUE;
        break;
      case GST_MESSAGE_ERROR:
        fail ("error in the live pipeline");
        break;
      case GST_MESSAGE_ELEMENT:
        if (gst_structure_has_name (s, "cfqpsr-calibration")) {
          guint64 f;

          fail_unless (gst_structure_get_uint64 (s, "frame", &f));
          fail_unless_equals_string (gst_structure_get_string (s, "source"),
              "cfqpcalib:live-test");
          first_switch = MIN (first_switch, f);
          n_switch++;
        } else if (gst_structure_has_name (s, "cfqpcalib-published")) {
          n_published++;
        } else if (gst_structure_has_name (s, "cfqpcalib-done")) {
          n_done++;
        }
        break;
      default:
        break;
    }
    gst_message_unref (msg);
  }
  fail_unless (eos, "no EOS");
  fail_unless_equals_int (frames, n_buffers);
  fail_unless (n_published >= 1);
  fail_unless (n_switch >= 1, "cfqpsr never switched");
  fail_unless (first_switch > 0 && first_switch < n_buffers, "%"
      G_GUINT64_FORMAT, first_switch);
  fail_unless_equals_int (n_done, 1);

  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (out);
  gst_object_unref (pipe);
  g_free (desc);
  g_free (mpath);
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

/* A refused calibration-file falls back to the next in the documented
 * order, the calibration shipped beside the model, not to FP32 or
 * self-calibration. */
GST_START_TEST (test_refused_file_then_shipped)
{
  gchar *dir = g_dir_make_tmp ("cfqpsr-XXXXXX", NULL);
  gchar *mpath = g_build_filename (dir, "m.onnx", NULL);
  gchar *shipped = g_build_filename (dir, "m.calib.json", NULL);
  gchar *bad = g_build_filename (dir, "bad.calib.json", NULL);
  gchar *src = element_test_model_path (2);
  CfqpCalibration *calib = make_calibration (2, TRUE, 5, shipped);
  CfqpQParams *qp = calib_qparams (2, calib);
  GPtrArray *msgs = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_structure_free);
  GstElement *sr;
  GstBus *bus;
  GstHarness *h;
  GstVideoInfo info;
  GstBuffer *in, *out;
  const gchar *source;

  fail_unless (symlink (src, mpath) == 0);
  fail_unless (g_file_set_contents (bad, "not a calibration", -1, NULL));
  h = make_int8_harness (2, &sr, &bus, 6, 5, "model-file", mpath,
      "calibration-file", bad, NULL);
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, 6, 5);
  in = make_input (&info, GST_VIDEO_INFO_PLANE_STRIDE (&info, 0), 3);
  out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
  fail_unless_equals_int (pop_warnings (bus, bad), 1);
  fail_unless_equals_int (pop_element_messages (bus, "cfqpsr-calibration",
          msgs), 1);
  source = gst_structure_get_string (g_ptr_array_index (msgs, 0), "source");
  fail_unless (g_str_has_prefix (source, "shipped:") &&
      g_str_has_suffix (source, shipped), "%s", source);
  check_against_engine_full (2, &info, in, out, qp);

  gst_buffer_unref (in);
  gst_buffer_unref (out);
  free_int8_harness (h, sr, bus);
  g_ptr_array_unref (msgs);
  g_unlink (mpath);
  g_unlink (bad);
  remove_calibration (calib, qp, dir, shipped);
  g_free (mpath);
  g_free (bad);
  g_free (src);
}

GST_END_TEST;

static gchar *
source_model_path (const gchar * name)
{
  return g_build_filename (g_getenv ("CFQP_TEST_DATA"), "..", "..", "models",
      name, NULL);
}

/* The shipped calibration of a -clipped model (made for the graph with its
 * clips) runs INT8 under the default clip-free, on the graph it was made
 * for; with clip-free=true set explicitly it is refused with a text naming
 * the setting that takes it. */
GST_START_TEST (test_clipped_model_calibration)
{
  gchar *mpath = source_model_path ("xlsr-x2-clipped.onnx");
  gchar *cpath = source_model_path ("xlsr-x2-clipped.calib.json");
  GPtrArray *msgs = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_structure_free);
  gchar *active = NULL, *info = NULL;
  GstElement *sr;
  GstBus *bus;
  GstHarness *h;
  GstVideoInfo vinfo;
  GstBuffer *in;

  gst_video_info_set_format (&vinfo, GST_VIDEO_FORMAT_RGB, 8, 6);
  in = make_input (&vinfo, GST_VIDEO_INFO_PLANE_STRIDE (&vinfo, 0), 4);

  /* make_int8_harness sets model-file to tiny-x2 first, then these */
  h = make_int8_harness (2, &sr, &bus, 8, 6, "model-file", mpath,
      "calibration-file", cpath, "self-calibration-frames", 0, NULL);
  gst_buffer_unref (gst_harness_push_and_pull (h, gst_buffer_ref (in)));
  fail_unless_equals_int (pop_warnings (bus, NULL), 0);
  fail_unless_equals_int (pop_element_messages (bus, "cfqpsr-calibration",
          msgs), 1);
  fail_unless_equals_string (gst_structure_get_string (g_ptr_array_index (msgs,
              0), "precision"), "int8");
  g_object_get (sr, "active-backend", &active, "model-info", &info, NULL);
  fail_unless (strstr (active, "int8") != NULL, "%s", active);
  fail_unless (strstr (info, "clips kept") != NULL, "%s", info);
  g_free (active);
  g_free (info);
  free_int8_harness (h, sr, bus);

  h = make_int8_harness (2, &sr, &bus, 8, 6, "model-file", mpath,
      "calibration-file", cpath, "self-calibration-frames", 0, "clip-free",
      TRUE, NULL);
  gst_buffer_unref (gst_harness_push_and_pull (h, gst_buffer_ref (in)));
  /* the file, then the same file as the shipped one; then no calibration */
  fail_unless_equals_int (pop_warnings_containing (bus, "clip-free=false"),
      2);
  g_object_get (sr, "active-backend", &active, NULL);
  fail_unless (strstr (active, "fp32") != NULL, "%s", active);
  g_free (active);
  free_int8_harness (h, sr, bus);

  /* a model without clips: both graphs are the same, so a calibration of
   * either mode fits whatever clip-free says */
  {
    gchar *dir = g_dir_make_tmp ("cfqpsr-XXXXXX", NULL);
    gchar *noclip = g_build_filename (dir, "noclip.calib.json", NULL);
    CfqpCalibration *calib = make_calibration (2, FALSE, 1, noclip);
    CfqpQParams *qp = calib_qparams (2, calib);
    GstBuffer *out;

    h = make_int8_harness (2, &sr, &bus, 8, 6, "calibration-file", noclip,
        "self-calibration-frames", 0, "clip-free", TRUE, NULL);
    out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
    fail_unless_equals_int (pop_warnings (bus, NULL), 0);
    check_against_engine_full (2, &vinfo, in, out, qp);
    gst_buffer_unref (out);
    free_int8_harness (h, sr, bus);
    remove_calibration (calib, qp, dir, noclip);
  }

  gst_buffer_unref (in);
  g_ptr_array_unref (msgs);
  g_free (mpath);
  g_free (cpath);
}

GST_END_TEST;

/* A FIFO (or the pipe of a process substitution), a directory or an empty
 * file as model-file or calibration-file: a clear refusal at once. */
GST_START_TEST (test_not_regular_files)
{
  gchar *dir = g_dir_make_tmp ("cfqpsr-XXXXXX", NULL);
  gchar *fifo = g_build_filename (dir, "fifo", NULL);
  gchar *empty = g_build_filename (dir, "empty.calib.json", NULL);
  gchar *mpath = element_test_model_path (2);
  GstElement *sr;
  gchar *text;
  int fds[2];
  gchar *devfd;

  fail_unless (mkfifo (fifo, 0600) == 0);
  fail_unless (g_file_set_contents (empty, "", 0, NULL));

  /* model-file: a FIFO without a writer, a pipe with one, a directory */
  sr = make_sr (2, fifo);
  text = element_test_expect_start_failure_quickly (sr, fifo);
  fail_unless (strstr (text, fifo) && strstr (text, "FIFO"), "%s", text);
  g_free (text);
  fail_unless (pipe (fds) == 0);
  fail_unless (write (fds[1], "x", 1) == 1);
  devfd = g_strdup_printf ("/dev/fd/%d", fds[0]);
  g_object_set (sr, "model-file", devfd, NULL);
  text = element_test_expect_start_failure_quickly (sr, NULL);
  fail_unless (strstr (text, "FIFO or pipe") != NULL, "%s", text);
  fail_if (strstr (text, "mmap") != NULL, "%s", text);
  g_free (text);
  close (fds[0]);
  close (fds[1]);
  g_object_set (sr, "model-file", dir, NULL);
  text = element_test_expect_start_failure_quickly (sr, NULL);
  fail_unless (strstr (text, "is a directory") != NULL, "%s", text);
  fail_if (strstr (text, "mmap") != NULL, "%s", text);
  g_free (text);
  gst_object_unref (sr);

  /* calibration-file: refused with a warning, the element starts */
  {
    const gchar *cases[][2] = { {fifo, "FIFO"}, {dir, "directory"},
    {empty, "empty"}
    };
    guint i;

    for (i = 0; i < G_N_ELEMENTS (cases); i++) {
      GstBus *bus;
      GstHarness *h = make_int8_harness (2, &sr, &bus, 4, 4,
          "calibration-file", cases[i][0], "self-calibration-frames", 0, NULL);
      GstVideoInfo info;

      gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, 4, 4);
      gst_buffer_unref (gst_harness_push_and_pull (h, make_input (&info,
                  GST_VIDEO_INFO_PLANE_STRIDE (&info, 0), i)));
      fail_unless (pop_warnings (bus, NULL) >= 1);
      free_int8_harness (h, sr, bus);
    }
    /* the texts: checked on the bus of a plain start */
    for (i = 0; i < G_N_ELEMENTS (cases); i++) {
      GstBus *bus = gst_bus_new ();
      GstMessage *msg;
      GError *err = NULL;

      sr = make_sr (2, mpath);
      g_object_set (sr, "precision", 0, "calibration-file", cases[i][0],
          "self-calibration-frames", 0, NULL);
      gst_element_set_bus (sr, bus);
      fail_unless (gst_element_set_state (sr, GST_STATE_READY) ==
          GST_STATE_CHANGE_SUCCESS);
      fail_unless (gst_element_set_state (sr, GST_STATE_PAUSED) !=
          GST_STATE_CHANGE_FAILURE);
      msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
      fail_unless (msg != NULL);
      gst_message_parse_warning (msg, &err, NULL);
      fail_unless (strstr (err->message, cases[i][1]) != NULL, "%s",
          err->message);
      fail_if (strstr (err->message, "top level") != NULL, "%s", err->message);
      g_error_free (err);
      gst_message_unref (msg);
      gst_element_set_state (sr, GST_STATE_NULL);
      gst_element_set_bus (sr, NULL);
      gst_object_unref (bus);
      gst_object_unref (sr);
    }
  }

  g_unlink (fifo);
  g_unlink (empty);
  g_rmdir (dir);
  g_free (fifo);
  g_free (empty);
  g_free (devfd);
  g_free (mpath);
  g_free (dir);
}

GST_END_TEST;

/* A paired cfqpcalib without model-file calibrates the model its cfqpsr
 * runs (here tiny-x2 from model-file, while cfqpcalib's scale-factor would
 * pick the default x3): every publication is accepted, none refused. */
GST_START_TEST (test_pairing_follows_model)
{
  gchar *dir = make_model_dir ();
  gchar *mpath = element_test_model_path (2);
  gchar *desc = g_strdup_printf ("videotestsrc is-live=true num-buffers=45 "
      "pattern=ball ! video/x-raw,format=I420,width=48,height=32,"
      "framerate=30/1 ! tee name=t ! queue ! cfqpsr model-file=%s "
      "calibration-name=follow-test backend=cpu ! fakesink "
      "t. ! queue leaky=downstream max-size-buffers=2 ! "
      "cfqpcalib calibration-name=follow-test update-interval=3 "
      "augmentation=none", mpath);
  GstElement *pipe = gst_parse_launch (desc, NULL);
  GstBus *bus = gst_element_get_bus (pipe);
  guint n_switch = 0, n_published = 0, n_warnings = 0;
  GstMessage *msg;
  gboolean eos = FALSE;

  fail_unless (pipe != NULL);
  fail_if (gst_element_set_state (pipe, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  while (!eos && (msg = gst_bus_timed_pop (bus, 30 * GST_SECOND))) {
    const GstStructure *s = gst_message_get_structure (msg);

    switch (GST_MESSAGE_TYPE (msg)) {
      case GST_MESSAGE_EOS:
        eos = TRUE;
        break;
      case GST_MESSAGE_ERROR:
        fail ("error in the pipeline");
        break;
      case GST_MESSAGE_WARNING:{
        GError *err = NULL;

        gst_message_parse_warning (msg, &err, NULL);
        GST_INFO ("warning: %s", err->message);
        g_error_free (err);
        n_warnings++;
        break;
      }
      case GST_MESSAGE_ELEMENT:
        if (gst_structure_has_name (s, "cfqpsr-calibration"))
          n_switch++;
        else if (gst_structure_has_name (s, "cfqpcalib-published"))
          n_published++;
        break;
      default:
        break;
    }
    gst_message_unref (msg);
  }
  fail_unless (eos, "no EOS");
  fail_unless (n_published >= 1);
  fail_unless_equals_int (n_warnings, 0);
  fail_unless (n_switch >= 1, "cfqpsr never took a calibration (%u "
      "published)", n_published);

  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipe);
  g_free (desc);
  g_free (mpath);
  remove_model_dir (dir);
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
  tcase_add_test (tc, test_int8_no_calibration);
  tcase_add_test (tc, test_int8_calibration_file);
  tcase_add_test (tc, test_cpu_kernels);
  tcase_add_test (tc, test_calibration_mismatch);
  tcase_add_test (tc, test_self_calibration);
  tcase_add_test (tc, test_calibration_file_replaced);
  tcase_add_test (tc, test_properties_while_playing);
  tcase_add_test (tc, test_navigation);
  tcase_add_test (tc, test_scale_from_downstream);
  tcase_add_test (tc, test_shipped_calibration);
  tcase_add_test (tc, test_qdq_model);
  tcase_add_test (tc, test_live_pairing);
  tcase_add_test (tc, test_refused_file_then_shipped);
  tcase_add_test (tc, test_clipped_model_calibration);
  tcase_add_test (tc, test_not_regular_files);
  tcase_add_test (tc, test_progressive_only);
  tcase_add_test (tc, test_impossible_size_error);
  tcase_add_test (tc, test_calibration_file_rewritten);
  tcase_add_test (tc, test_precision_message);
  tcase_add_test (tc, test_self_calibration_noise);
  tcase_add_test (tc, test_pairing_follows_model);
  return s;
}

GST_CHECK_MAIN (cfqpsr);
