/* cfqp — cfqpsr on the OpenCL backend (GstCheck, GstHarness).
 *
 * The same frames go through a backend=opencl and a backend=cpu cfqpsr:
 * INT8 and INT16 output must be byte-identical (both backends are
 * bit-exact with ref at either width), FP32 within FP32_BYTE_TOL.  Device errors, and what
 * backend=auto picks when the only OpenCL device is a CPU one (PoCL).
 * The device is $CFQP_OPENCL_DEVICE or "0"; the device tests skip when no
 * OpenCL platform is installed.
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

#include <CL/cl.h>

#include "cfqp-engine.h"
#include "cfqp-calib.h"
#include "element-test-utils.h"

/* The OpenCL FP32 kernels are within 1e-4 (relative to 1 + |value|) of the
 * CPU kernels (FP32_TOL of tests/opencl/test-opencl.c): on the pixel grid
 * that is 0.03 of a step, so a byte may round the other way, by one.  YUV
 * output goes through the same RGB → YUV conversion on both backends,
 * which keeps a one-step difference at one step. */
#define FP32_BYTE_TOL 1

/* Counts the OpenCL devices of type type on every platform. */
static guint
count_cl_devices (cl_device_type type)
{
  cl_platform_id platforms[16];
  cl_uint n_platforms = 0, i;
  guint n = 0;

  if (clGetPlatformIDs (G_N_ELEMENTS (platforms), platforms,
          &n_platforms) != CL_SUCCESS)
    return 0;
  for (i = 0; i < MIN (n_platforms, G_N_ELEMENTS (platforms)); i++) {
    cl_uint nd = 0;

    if (clGetDeviceIDs (platforms[i], type, 0, NULL, &nd) == CL_SUCCESS)
      n += nd;
  }
  return n;
}

static const gchar *
test_device (void)
{
  const gchar *env = g_getenv ("CFQP_OPENCL_DEVICE");

  return env ? env : "0";
}

static gboolean
have_device (void)
{
  if (count_cl_devices (CL_DEVICE_TYPE_ALL) == 0) {
    GST_WARNING ("no OpenCL device: skipped");
    return FALSE;
  }
  return TRUE;
}

/* A harness on a cfqpsr running tiny-x<scale> with the given backend and
 * precision ("int8" with calibration-file cpath), posting on bus if set. */
static GstHarness *
make_harness (guint scale, const gchar * backend, const gchar * precision,
    const gchar * cpath, const gchar * caps, GstBus * bus, GstElement ** sr_out)
{
  gchar *path = element_test_model_path (scale);
  GstElement *sr = gst_element_factory_make ("cfqpsr", NULL);
  GstHarness *h;

  fail_unless (sr != NULL, "cfqpsr not found (GST_PLUGIN_PATH?)");
  g_object_set (sr, "model-file", path, "device", test_device (),
      "self-calibration-frames", 0, NULL);
  if (cpath)
    g_object_set (sr, "calibration-file", cpath, NULL);
  gst_util_set_object_arg (G_OBJECT (sr), "backend", backend);
  gst_util_set_object_arg (G_OBJECT (sr), "precision", precision);
  if (bus)
    gst_element_set_bus (sr, bus);
  h = gst_harness_new_with_element (sr, "sink", "src");
  gst_harness_set_src_caps_str (h, caps);
  g_free (path);
  if (sr_out)
    *sr_out = sr;
  gst_object_unref (sr);
  return h;
}

/* Deterministic, textured bytes in every plane of a w×h frame. */
static GstBuffer *
make_input (const GstVideoInfo * info, guint seed)
{
  GstBuffer *buf = gst_buffer_new_and_alloc (GST_VIDEO_INFO_SIZE (info));
  GstVideoFrame frame;
  guint p, x, y;

  fail_unless (gst_video_frame_map (&frame, info, buf, GST_MAP_WRITE));
  for (p = 0; p < GST_VIDEO_FRAME_N_PLANES (&frame); p++) {
    guint8 *data = GST_VIDEO_FRAME_PLANE_DATA (&frame, p);
    gint stride = GST_VIDEO_FRAME_PLANE_STRIDE (&frame, p);

    for (y = 0; y < (guint) GST_VIDEO_FRAME_COMP_HEIGHT (&frame, p); y++)
      for (x = 0; x < (guint) stride; x++) {
        guint i = (x * 7 + y * 13 + seed * 31 + p * 101) ^ (x * y);
        data[y * stride + x] = (guint8) (i * 2654435761u >> 24);
      }
  }
  gst_video_frame_unmap (&frame);
  return buf;
}

/* The largest difference between the visible bytes of two frames. */
static guint
max_byte_diff (const GstVideoInfo * info, GstBuffer * a, GstBuffer * b)
{
  GstVideoFrame fa, fb;
  guint p, x, y, worst = 0;

  fail_unless (gst_video_frame_map (&fa, info, a, GST_MAP_READ));
  fail_unless (gst_video_frame_map (&fb, info, b, GST_MAP_READ));
  for (p = 0; p < GST_VIDEO_FRAME_N_PLANES (&fa); p++) {
    guint row = GST_VIDEO_FRAME_COMP_WIDTH (&fa, p) *
        GST_VIDEO_FRAME_COMP_PSTRIDE (&fa, p);

    for (y = 0; y < (guint) GST_VIDEO_FRAME_COMP_HEIGHT (&fa, p); y++) {
      const guint8 *ra = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&fa, p) +
          y * GST_VIDEO_FRAME_PLANE_STRIDE (&fa, p);
      const guint8 *rb = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&fb, p) +
          y * GST_VIDEO_FRAME_PLANE_STRIDE (&fb, p);

      for (x = 0; x < row; x++)
        worst = MAX (worst, (guint) ABS ((gint) ra[x] - (gint) rb[x]));
    }
  }
  gst_video_frame_unmap (&fa);
  gst_video_frame_unmap (&fb);
  return worst;
}

/* One frame through backend=opencl and backend=cpu; returns the largest
 * byte difference and checks what active-backend says. */
static guint
compare_backends (const gchar * format, guint scale, guint w, guint h,
    const gchar * precision, const gchar * cpath)
{
  gchar *caps = g_strdup_printf ("video/x-raw,format=%s,width=%u,height=%u,"
      "framerate=30/1,pixel-aspect-ratio=1/1", format, w, h);
  GstElement *cl_sr, *cpu_sr;
  GstHarness *hcl = make_harness (scale, "opencl", precision, cpath, caps,
      NULL, &cl_sr);
  GstHarness *hcpu = make_harness (scale, "cpu", precision, cpath, caps,
      NULL, &cpu_sr);
  GstVideoInfo in_info, out_info;
  GstBuffer *in, *out_cl, *out_cpu;
  gchar *active = NULL, *want;
  guint diff;

  gst_video_info_set_format (&in_info, gst_video_format_from_string (format),
      w, h);
  gst_video_info_set_format (&out_info, GST_VIDEO_INFO_FORMAT (&in_info),
      w * scale, h * scale);
  in = make_input (&in_info, scale * 100 + w);
  GST_BUFFER_PTS (in) = 0;
  out_cl = gst_harness_push_and_pull (hcl, gst_buffer_ref (in));
  out_cpu = gst_harness_push_and_pull (hcpu, gst_buffer_ref (in));
  fail_unless (out_cl != NULL && out_cpu != NULL);
  fail_unless_equals_int (gst_buffer_get_size (out_cl),
      gst_buffer_get_size (out_cpu));

  g_object_get (cl_sr, "active-backend", &active, NULL);
  want = g_strdup_printf ("(%s)", precision);
  fail_unless (g_str_has_prefix (active, "opencl:") &&
      g_str_has_suffix (active, want), "%s", active);
  g_free (active);
  g_object_get (cpu_sr, "active-backend", &active, NULL);
  fail_unless (g_str_has_prefix (active, "cpu") &&
      g_str_has_suffix (active, want), "%s", active);

  diff = max_byte_diff (&out_info, out_cl, out_cpu);
  GST_INFO ("%s %s ×%u %u×%u: largest byte difference %u", precision, format,
      scale, w, h, diff);

  g_free (active);
  g_free (want);
  gst_buffer_unref (in);
  gst_buffer_unref (out_cl);
  gst_buffer_unref (out_cpu);
  gst_harness_teardown (hcl);
  gst_harness_teardown (hcpu);
  g_free (caps);
  return diff;
}

static const struct
{
  const gchar *format;
  guint scale, w, h;
} cases[] = {
  {"RGB", 2, 17, 13},
  {"RGB", 3, 1, 7},
  {"BGRA", 3, 9, 5},
  {"I420", 2, 17, 13},
  {"I420", 3, 6, 4},
  {"NV12", 4, 10, 6},
};

/* INT8 or INT16 with a synthetic calibration: byte-identical to the CPU
 * backend. */
static void
check_quantised_matches_cpu (const gchar * precision)
{
  gchar *dir;
  guint i, scale;

  if (!have_device ())
    return;
  dir = g_dir_make_tmp ("cfqpsr-cl-XXXXXX", NULL);
  for (scale = 2; scale <= 4; scale++) {
    gchar *name = g_strdup_printf ("x%u.calib.json", scale);
    gchar *cpath = g_build_filename (dir, name, NULL);

    cfqp_calibration_unref (element_test_make_calibration (scale, TRUE, 1,
            1.0f, cpath));
    for (i = 0; i < G_N_ELEMENTS (cases); i++)
      if (cases[i].scale == scale)
        fail_unless_equals_int (compare_backends (cases[i].format, scale,
                cases[i].w, cases[i].h, precision, cpath), 0);
    g_unlink (cpath);
    g_free (cpath);
    g_free (name);
  }
  g_rmdir (dir);
  g_free (dir);
}

GST_START_TEST (test_opencl_int8_matches_cpu)
{
  check_quantised_matches_cpu ("int8");
}

GST_END_TEST;

/* INT16 (16-bit programs) runs on the device, not refused. */
GST_START_TEST (test_opencl_int16_matches_cpu)
{
  check_quantised_matches_cpu ("int16");
}

GST_END_TEST;

/* FP32: within FP32_BYTE_TOL of the CPU backend. */
GST_START_TEST (test_opencl_fp32_close_to_cpu)
{
  guint i;

  if (!have_device ())
    return;
  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    guint diff = compare_backends (cases[i].format, cases[i].scale,
        cases[i].w, cases[i].h, "fp32", NULL);

    fail_unless (diff <= FP32_BYTE_TOL, "%s %u×%u: bytes differ by %u",
        cases[i].format, cases[i].w, cases[i].h, diff);
  }
}

GST_END_TEST;

/* backend=opencl with int8-fallback=int16, INT8 held back by
 * min-int8-psnr: the fallback is INT16 on the device, not an error. */
GST_START_TEST (test_opencl_int8_fallback_is_int16)
{
  const gchar *caps = "video/x-raw,format=RGB,width=9,height=5,"
      "framerate=30/1";
  gchar *dir, *cpath, *active = NULL;
  CfqpCalibration *calib;
  CfqpCalibFidelity f;
  GstElement *sr;
  GstHarness *h;
  GstVideoInfo info;
  GstBuffer *in, *out;

  if (!have_device ())
    return;
  dir = g_dir_make_tmp ("cfqpsr-cl-XXXXXX", NULL);
  cpath = g_build_filename (dir, "x2.calib.json", NULL);
  calib = element_test_make_calibration (2, TRUE, 1, 1.0f, cpath);
  fail_unless (cfqp_calibration_get_fidelity (calib, &f));
  h = make_harness (2, "opencl", "int8", cpath, caps, NULL, &sr);
  g_object_set (sr, "min-int8-psnr", f.psnr + 0.01, NULL);
  gst_util_set_object_arg (G_OBJECT (sr), "int8-fallback", "int16");
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, 9, 5);
  in = make_input (&info, 3);
  out = gst_harness_push_and_pull (h, in);
  fail_unless (out != NULL);
  g_object_get (sr, "active-backend", &active, NULL);
  fail_unless (g_str_has_prefix (active, "opencl:") &&
      g_str_has_suffix (active, "(int16)"), "%s", active);
  g_free (active);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
  cfqp_calibration_unref (calib);
  g_unlink (cpath);
  g_rmdir (dir);
  g_free (cpath);
  g_free (dir);
}

GST_END_TEST;

/* An explicit backend=opencl whose device does not exist fails the start
 * with an error naming the device (also with no OpenCL platform at all). */
GST_START_TEST (test_opencl_no_such_device)
{
  gchar *path = element_test_model_path (2);
  GstElement *sr = gst_element_factory_make ("cfqpsr", NULL);
  gchar *text;

  g_object_set (sr, "model-file", path, "device", "nosuch", NULL);
  gst_util_set_object_arg (G_OBJECT (sr), "backend", "opencl");
  gst_util_set_object_arg (G_OBJECT (sr), "precision", "fp32");
  text = element_test_expect_start_failure (sr);
  fail_unless (strstr (text, "nosuch") != NULL, "%s", text);
  fail_unless (strstr (text, "OpenCL") != NULL, "%s", text);
  g_free (text);
  gst_object_unref (sr);
  g_free (path);
}

GST_END_TEST;

/* backend=auto where the only OpenCL devices are CPU ones (PoCL): the CPU
 * backend, chosen without a warning, and active-backend says so. */
GST_START_TEST (test_auto_without_gpu)
{
  const gchar *caps = "video/x-raw,format=RGB,width=9,height=5,"
      "framerate=30/1";
  gchar *dir, *cpath, *active = NULL;
  GstElement *sr;
  GstHarness *h;
  GstBus *bus = gst_bus_new ();
  GstVideoInfo info;
  GstBuffer *in;
  GstMessage *msg;

  if (count_cl_devices (CL_DEVICE_TYPE_GPU) > 0) {
    GST_WARNING ("an OpenCL GPU exists: skipped");
    gst_object_unref (bus);
    return;
  }
  dir = g_dir_make_tmp ("cfqpsr-cl-XXXXXX", NULL);
  cpath = g_build_filename (dir, "x2.calib.json", NULL);
  cfqp_calibration_unref (element_test_make_calibration (2, TRUE, 1, 1.0f,
          cpath));
  /* device=0 (PoCL's) is not enough for auto: it takes only a GPU */
  h = make_harness (2, "auto", "int8", cpath, caps, bus, &sr);
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, 9, 5);
  in = make_input (&info, 3);
  gst_buffer_unref (gst_harness_push_and_pull (h, in));
  g_object_get (sr, "active-backend", &active, NULL);
  fail_unless_equals_string (active, "cpu (int8)");
  while ((msg = gst_bus_pop (bus))) {
    fail_if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_WARNING ||
        GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR,
        "auto without a GPU posted a %s", GST_MESSAGE_TYPE_NAME (msg));
    gst_message_unref (msg);
  }

  g_free (active);
  gst_harness_teardown (h);
  gst_object_unref (bus);
  g_unlink (cpath);
  g_rmdir (dir);
  g_free (cpath);
  g_free (dir);
}

GST_END_TEST;

static Suite *
cfqpsr_opencl_suite (void)
{
  Suite *s = suite_create ("cfqpsr-opencl");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, 120);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_opencl_int8_matches_cpu);
  tcase_add_test (tc, test_opencl_fp32_close_to_cpu);
  tcase_add_test (tc, test_opencl_int16_matches_cpu);
  tcase_add_test (tc, test_opencl_int8_fallback_is_int16);
  tcase_add_test (tc, test_opencl_no_such_device);
  tcase_add_test (tc, test_auto_without_gpu);
  return s;
}

GST_CHECK_MAIN (cfqpsr_opencl);
