/* cfqp — cfqpsr at any output size (issue 19): fractional and per-axis
 * factors, odd sizes, pixel-aspect-ratio, a size below the input, the same
 * size, renegotiation mid-stream, and the issue's 720p → 1080p pipeline.
 *
 * The tiny test networks (×2, ×3, ×4 and a ×3/2 one: space-to-depth 2,
 * depth-to-space 3) stand in for the embedded defaults
 * (GST_CFQP_MODEL_DIR), so the element picks the network by the ratio; its
 * bytes are compared with the engine's cfqp_runner_run_packed_resized on
 * that network (tests/engine/test-resample.c checks that against the
 * scalar definition of the resampler).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>

#include "cfqp-engine.h"
#include "element-test-utils.h"

static const gchar *formats[] = {
  "RGB", "BGR", "RGBx", "BGRx", "xRGB", "xBGR", "RGBA", "BGRA", "ARGB", "ABGR",
  "I420", "NV12",
};

static gchar *model_dir;

/* The networks, as the default models name their scale. */
static const gchar *nets[] = { "2", "3", "4", "1.5" };

/* tests/data/elements/tiny-x<net>.onnx */
static gchar *
tiny_path (const gchar * net)
{
  gchar *name = g_strdup_printf ("tiny-x%s.onnx", net);
  gchar *path;

  fail_unless (g_getenv ("CFQP_TEST_DATA") != NULL);
  path = g_build_filename (g_getenv ("CFQP_TEST_DATA"), "elements", name, NULL);
  g_free (name);
  return path;
}

static void
setup_models (void)
{
  guint s;

  model_dir = g_dir_make_tmp ("cfqp-anysize-XXXXXX", NULL);
  for (s = 0; s < G_N_ELEMENTS (nets); s++) {
    gchar *src = tiny_path (nets[s]);
    gchar *name = g_strdup_printf ("default-x%s.onnx", nets[s]);
    gchar *dst = g_build_filename (model_dir, name, NULL);

    fail_unless (symlink (src, dst) == 0);
    g_free (src);
    g_free (name);
    g_free (dst);
  }
  g_setenv ("GST_CFQP_MODEL_DIR", model_dir, TRUE);
}

static void
teardown_models (void)
{
  GDir *d = g_dir_open (model_dir, 0, NULL);
  const gchar *name;

  while ((name = g_dir_read_name (d))) {
    gchar *p = g_build_filename (model_dir, name, NULL);
    g_unlink (p);
    g_free (p);
  }
  g_dir_close (d);
  g_rmdir (model_dir);
  g_unsetenv ("GST_CFQP_MODEL_DIR");
  g_clear_pointer (&model_dir, g_free);
}

static GstElement *
make_sr (guint scale_factor)
{
  GstElement *sr = gst_element_factory_make ("cfqpsr", NULL);

  fail_unless (sr != NULL, "cfqpsr not found (GST_PLUGIN_PATH?)");
  g_object_set (sr, "scale-factor", scale_factor, "precision", 1 /* fp32 */ ,
      "backend", 1 /* cpu */ , NULL);
  return sr;
}

/* Textured pixels in every plane (YUV kept plausible), no padding. */
static GstBuffer *
make_frame (const GstVideoInfo * info, guint seed)
{
  GstBuffer *buf = gst_buffer_new_and_alloc (GST_VIDEO_INFO_SIZE (info));
  GstVideoFrame f;
  guint p, x, y;

  fail_unless (gst_video_frame_map (&f, info, buf, GST_MAP_WRITE));
  for (p = 0; p < GST_VIDEO_FRAME_N_PLANES (&f); p++) {
    guint ph = GST_VIDEO_FRAME_COMP_HEIGHT (&f, p);
    guint pw = GST_VIDEO_FRAME_COMP_WIDTH (&f, p) *
        GST_VIDEO_FRAME_COMP_PSTRIDE (&f, p);
    guint8 *d = GST_VIDEO_FRAME_PLANE_DATA (&f, p);

    for (y = 0; y < ph; y++)
      for (x = 0; x < pw; x++) {
        guint i = (x * 7 + y * 13 + seed * 31 + p * 101) ^ (x * y);
        guint8 v = (guint8) (i * 2654435761u >> 24);

        if (GST_VIDEO_INFO_IS_YUV (info))
          v = p == 0 ? 16 + v * 219 / 255 : 128 + ((gint) v - 128) / 4;
        d[y * GST_VIDEO_FRAME_PLANE_STRIDE (&f, p) + x] = v;
      }
  }
  gst_video_frame_unmap (&f);
  return buf;
}

/* What the element must output: the ×net tiny network (FP32, cpu) on the
 * frame, resampled to ow × oh by the engine; YUV through RGB as the element
 * documents.  Compares every R, G, B (alpha) byte, or every YUV plane. */
static void
check_pixels (const gchar * net, const GstVideoInfo * in_info, GstBuffer * in,
    const GstVideoInfo * out_info, GstBuffer * out)
{
  gchar *path = tiny_path (net);
  CfqpModel *model = cfqp_model_new_from_file (path, NULL);
  CfqpRunnerOptions opts = CFQP_RUNNER_OPTIONS_INIT;
  gboolean yuv = GST_VIDEO_INFO_IS_YUV (in_info);
  guint w = GST_VIDEO_INFO_WIDTH (in_info), h = GST_VIDEO_INFO_HEIGHT (in_info);
  guint ow = GST_VIDEO_INFO_WIDTH (out_info), oh = GST_VIDEO_INFO_HEIGHT (out_info);
  GstVideoInfo rgb_in, rgb_out;
  GstVideoFrame fin, fout, fref, frgb_in, frgb_out;
  GstBuffer *ref = gst_buffer_new_and_alloc (GST_VIDEO_INFO_SIZE (out_info));
  CfqpPackedLayout l;
  CfqpRunner *runner;
  GError *err = NULL;
  guint p, x, y;

  fail_unless (model != NULL);
  opts.precision = CFQP_PRECISION_FP32;
  opts.backend = CFQP_BACKEND_CPU;
  runner = cfqp_runner_new (model, &opts, NULL);
  fail_unless (runner != NULL);

  fail_unless (gst_video_frame_map (&fin, in_info, in, GST_MAP_READ));
  fail_unless (gst_video_frame_map (&fref, out_info, ref, GST_MAP_WRITE));
  if (yuv) {
    GstBuffer *b_in, *b_out;
    GstVideoConverter *c;
    CfqpPackedLayout rgb = { 3, 0, 1, 2, -1 };

    gst_video_info_set_format (&rgb_in, GST_VIDEO_FORMAT_RGB, w, h);
    gst_video_info_set_format (&rgb_out, GST_VIDEO_FORMAT_RGB, ow, oh);
    rgb_in.fps_n = rgb_out.fps_n = in_info->fps_n;
    rgb_in.fps_d = rgb_out.fps_d = in_info->fps_d;
    b_in = gst_buffer_new_and_alloc (rgb_in.size);
    b_out = gst_buffer_new_and_alloc (rgb_out.size);
    fail_unless (gst_video_frame_map (&frgb_in, &rgb_in, b_in, GST_MAP_READWRITE));
    fail_unless (gst_video_frame_map (&frgb_out, &rgb_out, b_out, GST_MAP_READWRITE));
    c = make_converter (in_info, &rgb_in);
    gst_video_converter_frame (c, &fin, &frgb_in);
    gst_video_converter_free (c);
    fail_unless (cfqp_runner_run_packed_resized (runner, &rgb,
            GST_VIDEO_FRAME_PLANE_DATA (&frgb_in, 0),
            GST_VIDEO_FRAME_PLANE_STRIDE (&frgb_in, 0), w, h,
            GST_VIDEO_FRAME_PLANE_DATA (&frgb_out, 0),
            GST_VIDEO_FRAME_PLANE_STRIDE (&frgb_out, 0), ow, oh, &err), "%s",
        err ? err->message : "?");
    c = make_converter (&rgb_out, out_info);
    gst_video_converter_frame (c, &frgb_out, &fref);
    gst_video_converter_free (c);
    gst_video_frame_unmap (&frgb_out);
    gst_video_frame_unmap (&frgb_in);
    gst_buffer_unref (b_in);
    gst_buffer_unref (b_out);
  } else {
    l = layout_from_format_info (in_info->finfo);
    fail_unless (cfqp_runner_run_packed_resized (runner, &l,
            GST_VIDEO_FRAME_PLANE_DATA (&fin, 0),
            GST_VIDEO_FRAME_PLANE_STRIDE (&fin, 0), w, h,
            GST_VIDEO_FRAME_PLANE_DATA (&fref, 0),
            GST_VIDEO_FRAME_PLANE_STRIDE (&fref, 0), ow, oh, &err), "%s",
        err ? err->message : "?");
  }

  fail_unless (gst_video_frame_map (&fout, out_info, out, GST_MAP_READ));
  for (p = 0; p < GST_VIDEO_FRAME_N_PLANES (&fout); p++) {
    guint ph = GST_VIDEO_FRAME_COMP_HEIGHT (&fout, p);
    guint pw = GST_VIDEO_FRAME_COMP_WIDTH (&fout, p);
    guint ps = GST_VIDEO_FRAME_COMP_PSTRIDE (&fout, p);

    for (y = 0; y < ph; y++) {
      const guint8 *o = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&fout, p) +
          y * GST_VIDEO_FRAME_PLANE_STRIDE (&fout, p);
      const guint8 *r = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&fref, p) +
          y * GST_VIDEO_FRAME_PLANE_STRIDE (&fref, p);

      for (x = 0; x < pw; x++) {
        gboolean same = yuv ? memcmp (o + x * ps, r + x * ps, ps) == 0 :
            (o[x * ps + l.r] == r[x * ps + l.r] &&
            o[x * ps + l.g] == r[x * ps + l.g] &&
            o[x * ps + l.b] == r[x * ps + l.b] &&
            (l.a < 0 || o[x * ps + l.a] == r[x * ps + l.a]));

        if (!same)
          fail ("%s %ux%u -> %ux%u (x%s network): plane %u (%u,%u) differs "
              "from the engine", GST_VIDEO_INFO_NAME (in_info), w, h, ow, oh,
              net, p, x, y);
      }
    }
  }
  gst_video_frame_unmap (&fout);
  gst_video_frame_unmap (&fref);
  gst_video_frame_unmap (&fin);
  gst_buffer_unref (ref);
  cfqp_runner_free (runner);
  cfqp_model_unref (model);
  g_free (path);
}

static void
get_size (GstCaps * caps, gint * w, gint * h)
{
  fail_unless (gst_structure_get_int (gst_caps_get_structure (caps, 0),
          "width", w));
  fail_unless (gst_structure_get_int (gst_caps_get_structure (caps, 0),
          "height", h));
}

/* Pushes one w×h frame with downstream asking ow×oh; checks the caps, the
 * bytes (network x`net`: "2", "1.5") and what model-info says. */
static void
run_sized (GstHarness * hr, GstElement * sr, const gchar * format, guint w,
    guint h, guint ow, guint oh, const gchar * net, guint seed)
{
  /* the network's own output: × 3/2 or × the integer */
  guint nw = strcmp (net, "1.5") == 0 ? w * 3 / 2 : w * atoi (net);
  guint nh = strcmp (net, "1.5") == 0 ? h * 3 / 2 : h * atoi (net);
  GstVideoInfo in_info, out_info;
  GstBuffer *in, *out;
  GstCaps *caps;
  gchar *str, *info = NULL, *want;
  gint cw, ch;

  str = g_strdup_printf ("video/x-raw,format=%s,width=%u,height=%u,"
      "framerate=30/1,pixel-aspect-ratio=1/1", format, w, h);
  gst_harness_set_src_caps_str (hr, str);
  g_free (str);
  str = g_strdup_printf ("video/x-raw,format=%s,width=%u,height=%u", format,
      ow, oh);
  gst_harness_set_sink_caps_str (hr, str);
  g_free (str);

  gst_video_info_set_format (&in_info, gst_video_format_from_string (format),
      w, h);
  in_info.fps_n = 30;
  in = make_frame (&in_info, seed);
  fail_unless_equals_int (gst_harness_push (hr, gst_buffer_ref (in)),
      GST_FLOW_OK);
  out = gst_harness_pull (hr);
  fail_unless (out != NULL);

  caps = gst_pad_get_current_caps (hr->sinkpad);
  get_size (caps, &cw, &ch);
  fail_unless_equals_int (cw, ow);
  fail_unless_equals_int (ch, oh);
  fail_unless (gst_video_info_from_caps (&out_info, caps));
  gst_caps_unref (caps);
  check_pixels (net, &in_info, in, &out_info, out);

  g_object_get (sr, "model-info", &info, NULL);
  want = g_strdup_printf ("default-x%s.onnx", net);
  fail_unless (info != NULL && strstr (info, want) != NULL, "%s", info);
  g_free (want);
  if (ow == nw && oh == nh)
    want = g_strdup_printf ("network x%s %ux%u -> %ux%u, no resampling", net,
        w, h, ow, oh);
  else
    want = g_strdup_printf ("network x%s %ux%u -> %ux%u, then resampled to "
        "%ux%u", net, w, h, nw, nh, ow, oh);
  fail_unless (strstr (info, want) != NULL, "%s lacks %s", info, want);
  g_free (want);
  g_free (info);

  gst_buffer_unref (out);
  gst_buffer_unref (in);
}

static void
one_shot (const gchar * format, guint w, guint h, guint ow, guint oh,
    const gchar * net)
{
  GstElement *sr = make_sr (3);
  GstHarness *hr = gst_harness_new_with_element (sr, "sink", "src");

  run_sized (hr, sr, format, w, h, ow, oh, net, w + ow);
  gst_harness_teardown (hr);
  gst_object_unref (sr);
}

/* Every format at ×1.5 exactly (the ×3/2 network alone), below ×1.5
 * (20×12 → 28×17: the ×3/2 network then a resample), just above it on one
 * axis (20×12 → 31×17: the ×2 network) and ×2.25 (the ×3 network). */
GST_START_TEST (test_formats_fractional)
{
  guint f;

  for (f = 0; f < G_N_ELEMENTS (formats); f++) {
    one_shot (formats[f], 16, 12, 24, 18, "1.5");
    one_shot (formats[f], 20, 12, 28, 17, "1.5");
    one_shot (formats[f], 20, 12, 31, 17, "2");
    one_shot (formats[f], 16, 12, 36, 27, "3");
  }
}

GST_END_TEST;

/* Odd sizes and axes that differ: 17×13 → 25×19 (×1.47, but odd sides:
 * the ×2 network, the ×3/2 one needs even ones; 18×13 too); 720×480-like
 * 18×12 → 48×27 (×2.67 across, ×2.25 down: the ×3 network); one axis
 * unchanged (×3/2 with a resample when the other is ≤ 1.5); ×3.5 (the ×4
 * network); integer ×2 still needs no resample. */
GST_START_TEST (test_odd_and_per_axis)
{
  guint f;

  for (f = 0; f < G_N_ELEMENTS (formats); f++)
    one_shot (formats[f], 17, 13, 25, 19, "2");
  one_shot ("RGB", 18, 13, 27, 19, "2");
  one_shot ("RGBA", 18, 12, 48, 27, "3");
  one_shot ("I420", 18, 12, 48, 27, "3");
  one_shot ("BGRx", 17, 13, 17, 26, "2");
  one_shot ("BGRx", 18, 12, 18, 17, "1.5");
  one_shot ("RGB", 10, 8, 35, 28, "4");
  one_shot ("RGB", 10, 8, 20, 16, "2");
  one_shot ("NV12", 1, 1, 3, 2, "3");
}

GST_END_TEST;

/* A free output size is scale-factor × the input, whatever the network. */
GST_START_TEST (test_free_size_is_scale_factor)
{
  guint s;

  for (s = 2; s <= 4; s++) {
    GstElement *sr = make_sr (s);
    GstHarness *hr = gst_harness_new_with_element (sr, "sink", "src");
    GstVideoInfo info;
    GstCaps *caps;
    gint w, h;

    gst_harness_set_src_caps_str (hr, "video/x-raw,format=RGB,width=10,"
        "height=6,framerate=30/1");
    gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, 10, 6);
    gst_buffer_unref (gst_harness_push_and_pull (hr, make_frame (&info, 1)));
    caps = gst_pad_get_current_caps (hr->sinkpad);
    get_size (caps, &w, &h);
    fail_unless_equals_int (w, 10 * s);
    fail_unless_equals_int (h, 6 * s);
    gst_caps_unref (caps);
    gst_harness_teardown (hr);
    gst_object_unref (sr);
  }
}

GST_END_TEST;

/* PAR 8/9 in, 1/1 out, as videoscale: the display aspect ratio is kept
 * (18×12 at 8/9 is 4:3), the height follows scale-factor. */
GST_START_TEST (test_pixel_aspect_ratio)
{
  const struct
  {
    const gchar *sink;
    gint w, h, par_n, par_d;
  } cases[] = {
    {"video/x-raw,pixel-aspect-ratio=1/1", 32, 24, 1, 1},
    {"video/x-raw,height=36,pixel-aspect-ratio=1/1", 48, 36, 1, 1},
    {"video/x-raw,width=40,pixel-aspect-ratio=1/1", 40, 30, 1, 1},
    /* size fixed, PAR free: the PAR that keeps 4:3 */
    {"video/x-raw,width=48,height=27", 48, 27, 3, 4},
    /* nothing asked: the input's PAR, scale-factor × the size */
    {"video/x-raw", 36, 24, 8, 9},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    GstElement *sr = make_sr (2);
    GstHarness *hr = gst_harness_new_with_element (sr, "sink", "src");
    GstVideoInfo info;
    GstCaps *caps;
    gint w, h, n, d;

    gst_harness_set_src_caps_str (hr, "video/x-raw,format=RGBx,width=18,"
        "height=12,framerate=30/1,pixel-aspect-ratio=8/9");
    gst_harness_set_sink_caps_str (hr, cases[i].sink);
    gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGBx, 18, 12);
    gst_buffer_unref (gst_harness_push_and_pull (hr, make_frame (&info, i)));
    caps = gst_pad_get_current_caps (hr->sinkpad);
    get_size (caps, &w, &h);
    fail_unless (gst_structure_get_fraction (gst_caps_get_structure (caps, 0),
            "pixel-aspect-ratio", &n, &d));
    fail_unless (w == cases[i].w && h == cases[i].h && n == cases[i].par_n &&
        d == cases[i].par_d, "%s: got %dx%d PAR %d/%d", cases[i].sink, w, h, n,
        d);
    gst_caps_unref (caps);
    gst_harness_teardown (hr);
    gst_object_unref (sr);
  }
}

GST_END_TEST;

/* Caps queries both ways: from the input size to 4× per axis. */
GST_START_TEST (test_caps_query)
{
  GstElement *sr = make_sr (3);
  GstHarness *hr = gst_harness_new_with_element (sr, "sink", "src");
  const struct
  {
    const gchar *filter;
    gboolean ok;
  } src_cases[] = {
    {"video/x-raw,format=RGBx,width=25,height=19", TRUE},
    {"video/x-raw,format=RGBx,width=17,height=52", TRUE},
    {"video/x-raw,format=RGBx,width=68,height=13", TRUE},
    {"video/x-raw,format=RGBx,width=69,height=19", FALSE},      /* > 4× */
    {"video/x-raw,format=RGBx,width=16,height=19", FALSE},      /* < input */
  };
  GstCaps *filter, *caps;
  gchar *str;
  guint i;

  gst_harness_set_src_caps_str (hr, "video/x-raw,format=RGBx,width=17,"
      "height=13,framerate=30/1");
  for (i = 0; i < G_N_ELEMENTS (src_cases); i++) {
    filter = gst_caps_from_string (src_cases[i].filter);
    caps = gst_pad_query_caps (GST_BASE_TRANSFORM_SRC_PAD (sr), filter);
    fail_unless (gst_caps_is_empty (caps) != src_cases[i].ok, "%s",
        src_cases[i].filter);
    gst_caps_unref (caps);
    gst_caps_unref (filter);
  }

  /* upstream of a 1920×1080 output: 480..1920 × 270..1080 */
  gst_harness_set_sink_caps_str (hr, "video/x-raw,format=BGR,width=1920,"
      "height=1080");
  caps = gst_pad_query_caps (GST_BASE_TRANSFORM_SINK_PAD (sr), NULL);
  fail_if (gst_caps_is_empty (caps));
  str = gst_caps_to_string (caps);
  {
    const struct
    {
      gint w, h;
      gboolean ok;
    } in_cases[] = {
      {480, 270, TRUE}, {1920, 1080, TRUE}, {1280, 720, TRUE}, {720, 480, TRUE},
      {479, 720, FALSE}, {1280, 269, FALSE}, {1921, 1080, FALSE},
    };

    for (i = 0; i < G_N_ELEMENTS (in_cases); i++) {
      GstCaps *one = gst_caps_new_simple ("video/x-raw", "format",
          G_TYPE_STRING, "BGR", "width", G_TYPE_INT, in_cases[i].w, "height",
          G_TYPE_INT, in_cases[i].h, NULL);

      fail_unless (gst_caps_can_intersect (caps, one) == in_cases[i].ok,
          "%dx%d in %s", in_cases[i].w, in_cases[i].h, str);
      gst_caps_unref (one);
    }
  }
  gst_caps_unref (caps);
  g_free (str);

  gst_harness_teardown (hr);
  gst_object_unref (sr);
}

GST_END_TEST;

/* Below the input: not negotiated, with an error that names the range. */
GST_START_TEST (test_below_input)
{
  GstElement *sr = make_sr (3);
  GstHarness *hr = gst_harness_new_with_element (sr, "sink", "src");
  GstBus *bus = gst_bus_new ();
  GstVideoInfo info;
  GstMessage *msg;
  GError *err = NULL;

  gst_element_set_bus (sr, bus);
  gst_harness_set_sink_caps_str (hr, "video/x-raw,format=RGB,width=32,"
      "height=18");
  gst_harness_set_src_caps_str (hr, "video/x-raw,format=RGB,width=64,"
      "height=36,framerate=30/1");
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, 64, 36);
  fail_unless_equals_int (gst_harness_push (hr, make_frame (&info, 0)),
      GST_FLOW_NOT_NEGOTIATED);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "no error message");
  gst_message_parse_error (msg, &err, NULL);
  fail_unless (g_error_matches (err, GST_CORE_ERROR,
          GST_CORE_ERROR_NEGOTIATION), "%s", err->message);
  fail_unless (strstr (err->message, "64..256 x 36..144 from a 64x36 input")
      != NULL, "%s", err->message);
  g_error_free (err);
  gst_message_unref (msg);
  gst_element_set_bus (sr, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (hr);
  gst_object_unref (sr);
}

GST_END_TEST;

/* The same size in and out: pass-through, the buffer itself. */
GST_START_TEST (test_same_size)
{
  GstElement *sr = make_sr (3);
  GstHarness *hr = gst_harness_new_with_element (sr, "sink", "src");
  GstVideoInfo info;
  GstBuffer *in, *out;
  gchar *model_info = NULL;

  gst_harness_set_sink_caps_str (hr, "video/x-raw,format=I420,width=20,"
      "height=10");
  gst_harness_set_src_caps_str (hr, "video/x-raw,format=I420,width=20,"
      "height=10,framerate=30/1");
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_I420, 20, 10);
  in = make_frame (&info, 3);
  out = gst_harness_push_and_pull (hr, gst_buffer_ref (in));
  fail_unless (out == in);
  g_object_get (sr, "model-info", &model_info, NULL);
  fail_unless (strstr (model_info, "pass-through") != NULL, "%s", model_info);
  g_free (model_info);
  gst_buffer_unref (out);
  gst_buffer_unref (in);
  gst_harness_teardown (hr);
  gst_object_unref (sr);
}

GST_END_TEST;

/* Renegotiation mid-stream: downstream asks another size (×1.5, ×1.4,
 * ×1.6, ×2.4 × ×3.6), then upstream another input (odd, then even again);
 * each time the network follows the ratio and the bytes are right. */
GST_START_TEST (test_renegotiation)
{
  GstElement *sr = make_sr (3);
  GstHarness *hr = gst_harness_new_with_element (sr, "sink", "src");

  run_sized (hr, sr, "BGRA", 20, 10, 60, 30, "3", 1);
  run_sized (hr, sr, "BGRA", 20, 10, 30, 15, "1.5", 2);
  run_sized (hr, sr, "BGRA", 20, 10, 28, 14, "1.5", 6);
  run_sized (hr, sr, "BGRA", 20, 10, 32, 16, "2", 7);
  run_sized (hr, sr, "BGRA", 20, 10, 48, 36, "4", 3);
  run_sized (hr, sr, "BGRA", 16, 12, 48, 36, "3", 4);
  run_sized (hr, sr, "BGRA", 15, 11, 22, 16, "2", 8);
  run_sized (hr, sr, "BGRA", 16, 12, 24, 18, "1.5", 5);
  gst_harness_teardown (hr);
  gst_object_unref (sr);
}

GST_END_TEST;

/* The issue's pipeline, with the embedded default networks: 720p → 1080p
 * is the ×3/2 network alone; 720p → 1800×1000 the ×3/2 network and a
 * resample; a model-file keeps its own network (the ×2 one and a
 * resample). */
static void
issue_pipeline (const gchar * out_caps, const gchar * props, const gchar * want)
{
  GstElement *pipe, *sr;
  GstMessage *msg;
  GError *err = NULL;
  gchar *model_info = NULL, *desc;

  /* the real defaults, not the tiny stand-ins */
  g_unsetenv ("GST_CFQP_MODEL_DIR");
  desc = g_strdup_printf ("videotestsrc num-buffers=2 ! "
      "video/x-raw,width=1280,height=720 ! cfqpsr name=sr n-threads=2 %s ! "
      "%s ! fakesink", props, out_caps);
  pipe = gst_parse_launch (desc, &err);
  g_free (desc);
  fail_unless (pipe != NULL, "%s", err ? err->message : "?");
  fail_unless (err == NULL, "%s", err->message);
  sr = gst_bin_get_by_name (GST_BIN (pipe), "sr");
  fail_unless_equals_int (gst_element_set_state (pipe, GST_STATE_PLAYING),
      GST_STATE_CHANGE_ASYNC);
  msg = gst_bus_timed_pop_filtered (GST_ELEMENT_BUS (pipe),
      GST_CLOCK_TIME_NONE, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS,
      "pipeline failed");
  gst_message_unref (msg);
  g_object_get (sr, "model-info", &model_info, NULL);
  fail_unless (strstr (model_info, want) != NULL, "%s lacks %s", model_info,
      want);
  g_free (model_info);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (sr);
  gst_object_unref (pipe);
}

GST_START_TEST (test_issue_pipeline)
{
  gchar *x2 = g_build_filename (CFQP_MODELS_DIR, "default-x2.onnx", NULL);
  gchar *props = g_strdup_printf ("model-file=%s", x2);

  issue_pipeline ("video/x-raw,width=1920,height=1080", "",
      "default-x1.5.onnx: x3/2 RGB");
  issue_pipeline ("video/x-raw,width=1920,height=1080", "",
      "network x1.5 1280x720 -> 1920x1080, no resampling");
  issue_pipeline ("video/x-raw,width=1800,height=1000", "",
      "network x1.5 1280x720 -> 1920x1080, then resampled to 1800x1000");
  issue_pipeline ("video/x-raw,width=1920,height=1080", props,
      "network x2 1280x720 -> 2560x1440, then resampled to 1920x1080");
  g_free (props);
  g_free (x2);
}

GST_END_TEST;

static Suite *
cfqpsr_anysize_suite (void)
{
  Suite *s = suite_create ("cfqpsr-anysize");
  TCase *tc = tcase_create ("general");

  tcase_add_checked_fixture (tc, setup_models, teardown_models);
  tcase_set_timeout (tc, 120);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_formats_fractional);
  tcase_add_test (tc, test_odd_and_per_axis);
  tcase_add_test (tc, test_free_size_is_scale_factor);
  tcase_add_test (tc, test_pixel_aspect_ratio);
  tcase_add_test (tc, test_caps_query);
  tcase_add_test (tc, test_below_input);
  tcase_add_test (tc, test_same_size);
  tcase_add_test (tc, test_renegotiation);
#if defined(CFQP_HAVE_EMBEDDED_X1_5)
  tcase_add_test (tc, test_issue_pipeline);
#endif
  return s;
}

GST_CHECK_MAIN (cfqpsr_anysize);
