/* cfqp — cfqpsr calibration tests (GstCheck, GstHarness): INT8 with and
 * without a calibration, calibration-file (refused, replaced, rewritten in
 * place, not a regular file), shipped calibrations and clipped models,
 * self-calibration, QDQ models, pairing with cfqpcalib, the
 * cfqpsr-calibration and cfqpsr-precision messages.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "cfqpsr-test-helpers.h"

/* Element messages named name posted so far (taken); copies of their
 * structures added to keep when not NULL. */
static guint
pop_element_messages (GstBus * bus, const gchar * name, GPtrArray * keep)
{
  GList *l, *taken = take_messages (bus, GST_MESSAGE_ELEMENT, name);
  guint n = g_list_length (taken);

  for (l = taken; l && keep; l = l->next)
    g_ptr_array_add (keep, gst_structure_copy (gst_message_get_structure
            (l->data)));
  g_list_free_full (taken, (GDestroyNotify) gst_message_unref);
  return n;
}

/* Warnings posted so far (all taken): how many contain text. */
static guint
pop_warnings_containing (GstBus * bus, const gchar * text)
{
  guint n = 0;

  pop_warnings_full (bus, NULL, text, &n);
  return n;
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

/* A calibration with GPTQ conv taps: cfqpsr runs them (the engine's output
 * with the same parameters and taps), which is not what the parameters
 * alone give. */
GST_START_TEST (test_int8_gptq_calibration_file)
{
  gchar *dir = g_dir_make_tmp ("cfqpsr-XXXXXX", NULL);
  gchar *cpath = g_build_filename (dir, "x2.calib.json", NULL);
  CfqpCalibration *calib = element_test_make_calibration_full (2, TRUE, 1, 1.0f,
      CFQP_WEIGHT_ROUNDING_GPTQ, cpath);
  guint n_taps;
  GstElement *sr;
  GstBus *bus;
  GstHarness *h;
  GstVideoInfo info;
  GstBuffer *in, *out;

  cfqp_calibration_get_conv_taps (calib, &n_taps);
  fail_unless (n_taps > 0);
  h = make_int8_harness (2, &sr, &bus, 9, 6, "calibration-file", cpath, NULL);
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, 9, 6);
  in = make_input (&info, GST_VIDEO_INFO_PLANE_STRIDE (&info, 0), 7);
  out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
  check_against_calibration (2, &info, in, out, calib);
  fail_unless_equals_int (pop_warnings (bus, NULL), 0);
  gst_buffer_unref (in);
  gst_buffer_unref (out);
  free_int8_harness (h, sr, bus);
  remove_calibration (calib, dir, cpath);
}

GST_END_TEST;

/* INT8 with a calibration file: the message names it, the pixels are the
 * engine's INT8 output with the same parameters. */
GST_START_TEST (test_int8_calibration_file)
{
  gchar *dir = g_dir_make_tmp ("cfqpsr-XXXXXX", NULL);
  gchar *cpath = g_build_filename (dir, "x2.calib.json", NULL);
  CfqpCalibration *calib = make_calibration (2, TRUE, 1, cpath);
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
  check_against_calibration (2, &info, in, out, calib);
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
  remove_calibration (calib, dir, cpath);
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
  GstElement *sr;
  GstBus *bus;
  GstHarness *h = make_int8_harness (2, &sr, &bus, 8, 8, "calibration-file",
      cpath, NULL);
  GstStructure *s;
  GstVideoInfo info;
  GstBuffer *in, *out;
  guint n, n_taps;

  s = push_until_calibration (h, bus, 8, 8, 5, NULL);
  fail_unless (s != NULL);
  gst_structure_free (s);

  /* atomic replace, by one with GPTQ conv taps: a hot swap takes them too */
  b = element_test_make_calibration_full (2, TRUE, 2, 0.5f, CFQP_WEIGHT_ROUNDING_GPTQ,
      cpath);
  cfqp_calibration_get_conv_taps (b, &n_taps);
  fail_unless (n_taps > 0);
  s = push_until_calibration (h, bus, 8, 8, 10, &n);
  fail_unless (s != NULL, "replacement not applied after %u frames", n);
  fail_unless (g_str_has_suffix (gst_structure_get_string (s, "source"),
          cpath));
  gst_structure_free (s);

  /* from now on: the new parameters */
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, 8, 8);
  in = make_input (&info, GST_VIDEO_INFO_PLANE_STRIDE (&info, 0), 77);
  out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
  check_against_calibration (2, &info, in, out, b);
  fail_unless_equals_int (pop_warnings (bus, NULL), 0);

  /* a corrupt replacement is refused, the current one stays */
  fail_unless (g_file_set_contents (cpath, "garbage", -1, NULL));
  s = push_until_calibration (h, bus, 8, 8, 1.5, NULL);
  fail_unless (s == NULL);
  fail_unless (pop_warnings (bus, cpath) >= 1);
  gst_buffer_unref (out);
  out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
  check_against_calibration (2, &info, in, out, b);

  gst_buffer_unref (in);
  gst_buffer_unref (out);
  free_int8_harness (h, sr, bus);
  cfqp_calibration_unref (a);
  remove_calibration (b, dir, cpath);
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
  check_against_calibration (2, &info, in, out, b);
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
  check_against_calibration (2, &info, in, out, b);
  gst_buffer_unref (out);

  gst_buffer_unref (in);
  free_int8_harness (h, sr, bus);
  g_free (json);
  cfqp_calibration_unref (a);
  remove_calibration (b, dir, cpath);
}

GST_END_TEST;

static const gchar *
msg_string (GPtrArray * msgs, guint i, const gchar * field)
{
  return gst_structure_get_string (g_ptr_array_index (msgs, i), field);
}

/* The calibration's JSON with its measured PSNR replaced by psnr. */
static gchar *
with_fidelity_psnr (CfqpCalibration * calib, const gchar * psnr)
{
  gchar *json = cfqp_calibration_to_json (calib, NULL);
  gchar *at = strstr (json, "\"psnr\" : ");
  gchar *end, *ret;

  fail_unless (at != NULL);
  end = strchr (at, ',');
  fail_unless (end != NULL);
  ret = g_strdup_printf ("%.*s\"psnr\" : %s%s", (int) (at - json), json, psnr,
      end);
  g_free (json);
  return ret;
}

/* min-int8-psnr: FP32 (or INT16: int8-fallback) while the active
 * calibration measured less against FP32 than asked, INT8 once it measured
 * as much; the verdict changes at a frame boundary with the property and
 * with the calibration (the file replaced by one that measured less). */
GST_START_TEST (test_min_int8_psnr)
{
  gchar *dir = g_dir_make_tmp ("cfqpsr-XXXXXX", NULL);
  gchar *cpath = g_build_filename (dir, "x2.calib.json", NULL);
  CfqpCalibration *calib = make_calibration (2, TRUE, 1, cpath);
  GPtrArray *msgs = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_structure_free);
  CfqpCalibFidelity f;
  GstElement *sr;
  GstBus *bus;
  GstHarness *h;
  GstVideoInfo info;
  GstBuffer *in, *out;
  GstStructure *s;
  gchar *active = NULL, *worse;
  gdouble psnr;

  fail_unless (cfqp_calibration_get_fidelity (calib, &f));
  fail_unless (f.held_out);
  h = make_int8_harness (2, &sr, &bus, 9, 6, "calibration-file", cpath,
      "min-int8-psnr", f.psnr + 0.01, NULL);
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, 9, 6);
  in = make_input (&info, GST_VIDEO_INFO_PLANE_STRIDE (&info, 0), 7);
  out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
  check_against_engine (2, &info, in, out);
  gst_buffer_unref (out);
  fail_unless_equals_int (pop_element_messages (bus, "cfqpsr-calibration",
          msgs), 1);
  fail_unless_equals_string (msg_string (msgs, 0, "precision"), "fp32");
  fail_unless (gst_structure_get_double (g_ptr_array_index (msgs, 0),
          "int8-psnr", &psnr));
  fail_unless_equals_float (psnr, f.psnr);
  g_object_get (sr, "active-backend", &active, NULL);
  fail_unless (strstr (active, "fp32") != NULL, "%s", active);
  g_free (active);
  fail_unless_equals_int (pop_element_messages (bus, "cfqpsr-precision",
          msgs), 1);
  fail_unless_equals_string (msg_string (msgs, 1, "precision"), "fp32");
  fail_unless_equals_int (pop_warnings (bus, NULL), 0);

  /* int8-fallback=int16 while held back: the same calibration on 16 bits,
   * byte for byte the engine's; then fp32 again */
  gst_util_set_object_arg (G_OBJECT (sr), "int8-fallback", "int16");
  out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
  check_against_calibration_at (2, &info, in, out, calib,
      CFQP_PRECISION_INT16);
  gst_buffer_unref (out);
  fail_unless_equals_int (pop_element_messages (bus, "cfqpsr-precision",
          msgs), 1);
  fail_unless_equals_string (msg_string (msgs, 2, "precision"), "int16");
  gst_util_set_object_arg (G_OBJECT (sr), "int8-fallback", "fp32");
  out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
  check_against_engine (2, &info, in, out);
  gst_buffer_unref (out);
  fail_unless_equals_int (pop_element_messages (bus, "cfqpsr-precision",
          msgs), 1);
  fail_unless_equals_string (msg_string (msgs, 3, "precision"), "fp32");

  /* the bar lowered to what it measured, while playing: INT8 */
  g_object_set (sr, "min-int8-psnr", f.psnr, NULL);
  out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
  check_against_calibration (2, &info, in, out, calib);
  gst_buffer_unref (out);
  fail_unless_equals_int (pop_element_messages (bus, "cfqpsr-precision",
          msgs), 1);
  fail_unless_equals_string (msg_string (msgs, 4, "precision"), "int8");

  /* a calibration that measured less replaces the file: FP32 again */
  worse = with_fidelity_psnr (calib, "1.5");
  fail_unless (g_file_set_contents (cpath, worse, -1, NULL));
  s = push_until_calibration (h, bus, 9, 6, 10, NULL);
  fail_unless (s != NULL, "the replaced file was never applied");
  fail_unless_equals_string (gst_structure_get_string (s, "precision"), "fp32");
  fail_unless (gst_structure_get_double (s, "int8-psnr", &psnr));
  fail_unless_equals_float (psnr, 1.5);
  out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
  check_against_engine (2, &info, in, out);
  gst_buffer_unref (out);

  /* 0: INT8 whatever it measured */
  g_object_set (sr, "min-int8-psnr", 0.0, NULL);
  out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
  check_against_calibration (2, &info, in, out, calib);
  gst_buffer_unref (out);

  gst_structure_free (s);
  g_free (worse);
  gst_buffer_unref (in);
  free_int8_harness (h, sr, bus);
  g_ptr_array_unref (msgs);
  remove_calibration (calib, dir, cpath);
}

GST_END_TEST;

/* What runs is posted as cfqpsr-precision at start and whenever it changes
 * (a precision change while PLAYING, the first calibration), with the
 * frame it applies from; nothing when nothing changes.  int16 runs the
 * same calibration. */
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
  GstBuffer *in, *out;
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

  /* int16: the same calibration on 16 bits, on the CPU, byte for byte
   * the engine's */
  gst_util_set_object_arg (G_OBJECT (sr), "precision", "int16");
  out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
  fail_unless_equals_int (pop_element_messages (bus, "cfqpsr-precision",
          msgs), 1);
  fail_unless_equals_string (msg_string (msgs, 3, "precision"), "int16");
  fail_unless_equals_string (msg_string (msgs, 3, "backend"), "cpu");
  fail_unless (strstr (msg_string (msgs, 3, "active-backend"), "int16"));
  check_against_calibration_at (2, &info, in, out, calib,
      CFQP_PRECISION_INT16);
  gst_buffer_unref (out);

  gst_buffer_unref (in);
  free_int8_harness (h, sr, bus);
  g_ptr_array_unref (msgs);
  g_free (qp);
  remove_calibration (calib, dir, cpath);
}

GST_END_TEST;

/* The default model's shipped calibration (default-x<N>.calib.json) makes
 * int8 run INT8 from the first frame. */
GST_START_TEST (test_shipped_calibration)
{
  gchar *dir = make_model_dir ();
  gchar *cpath = g_build_filename (dir, "default-x2.calib.json", NULL);
  CfqpCalibration *calib = make_calibration (2, TRUE, 5, cpath);
  GstElement *sr = gst_element_factory_make ("cfqpsr", NULL);
  GstBus *bus;
  GPtrArray *msgs = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_structure_free);
  GstHarness *h;
  GstVideoInfo info;
  GstBuffer *in, *out;

  g_object_set (sr, "scale-factor", 2, "backend", 1, NULL);
  h = element_test_harness_new (sr, -1, "video/x-raw,format=RGB,width=6,"
      "height=5,framerate=30/1", &bus);
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, 6, 5);
  in = make_input (&info, GST_VIDEO_INFO_PLANE_STRIDE (&info, 0), 3);
  out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
  check_against_calibration (2, &info, in, out, calib);
  fail_unless_equals_int (pop_element_messages (bus, "cfqpsr-calibration",
          msgs), 1);
  fail_unless (g_str_has_prefix (gst_structure_get_string (g_ptr_array_index
              (msgs, 0), "source"), "shipped:"));

  gst_buffer_unref (in);
  gst_buffer_unref (out);
  free_int8_harness (h, sr, bus);
  g_ptr_array_unref (msgs);
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
  GstBus *bus;
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
  h = element_test_harness_new (sr, -1, "video/x-raw,format=RGB,width=7,"
      "height=6,framerate=30/1", &bus);
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
 * boundary, and every frame reaches the sink.  Both messages carry what
 * the calibrator measured, the same figure. */
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
  GArray *published_psnr = g_array_new (FALSE, FALSE, sizeof (gdouble));
  GArray *applied_psnr = g_array_new (FALSE, FALSE, sizeof (gdouble));

  fail_unless (pipe != NULL);
  g_signal_connect (out, "handoff", G_CALLBACK (count_handoff), &frames);
  fail_if (gst_element_set_state (pipe, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  while (!eos && (msg = gst_bus_timed_pop (bus, 30 * GST_SECOND))) {
    const GstStructure *s = gst_message_get_structure (msg);
    gdouble psnr;

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
          fail_unless (gst_structure_get_double (s, "int8-psnr", &psnr));
          g_array_append_val (applied_psnr, psnr);
        } else if (gst_structure_has_name (s, "cfqpcalib-published")) {
          gboolean held_out;

          n_published++;
          /* measured (default activation-grids), held out or not */
          fail_unless (gst_structure_get_double (s, "int8-psnr", &psnr));
          fail_unless (gst_structure_get_boolean (s, "int8-psnr-held-out",
                  &held_out));
          fail_unless (psnr > 20 && psnr <= CFQP_FIDELITY_MAX_PSNR, "%g", psnr);
          g_array_append_val (published_psnr, psnr);
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
  for (guint i = 0; i < applied_psnr->len; i++) {
    gboolean found = FALSE;

    for (guint j = 0; j < published_psnr->len; j++)
      found |= g_array_index (applied_psnr, gdouble, i) ==
          g_array_index (published_psnr, gdouble, j);
    fail_unless (found, "cfqpsr applied a calibration measured at %g dB, "
        "which cfqpcalib never published", g_array_index (applied_psnr,
            gdouble, i));
  }
  g_array_unref (published_psnr);
  g_array_unref (applied_psnr);

  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (out);
  gst_object_unref (pipe);
  g_free (desc);
  g_free (mpath);
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
  check_against_calibration (2, &info, in, out, calib);

  gst_buffer_unref (in);
  gst_buffer_unref (out);
  free_int8_harness (h, sr, bus);
  g_ptr_array_unref (msgs);
  g_unlink (mpath);
  g_unlink (bad);
  remove_calibration (calib, dir, shipped);
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
    GstBuffer *out;

    h = make_int8_harness (2, &sr, &bus, 8, 6, "calibration-file", noclip,
        "self-calibration-frames", 0, "clip-free", TRUE, NULL);
    out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
    fail_unless_equals_int (pop_warnings (bus, NULL), 0);
    check_against_calibration (2, &vinfo, in, out, calib);
    gst_buffer_unref (out);
    free_int8_harness (h, sr, bus);
    remove_calibration (calib, dir, noclip);
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
cfqpsr_calibration_suite (void)
{
  Suite *s = suite_create ("cfqpsr-calibration");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, 120);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_int8_no_calibration);
  tcase_add_test (tc, test_int8_calibration_file);
  tcase_add_test (tc, test_min_int8_psnr);
  tcase_add_test (tc, test_int8_gptq_calibration_file);
  tcase_add_test (tc, test_calibration_mismatch);
  tcase_add_test (tc, test_self_calibration);
  tcase_add_test (tc, test_self_calibration_noise);
  tcase_add_test (tc, test_calibration_file_replaced);
  tcase_add_test (tc, test_calibration_file_rewritten);
  tcase_add_test (tc, test_precision_message);
  tcase_add_test (tc, test_shipped_calibration);
  tcase_add_test (tc, test_qdq_model);
  tcase_add_test (tc, test_live_pairing);
  tcase_add_test (tc, test_refused_file_then_shipped);
  tcase_add_test (tc, test_clipped_model_calibration);
  tcase_add_test (tc, test_not_regular_files);
  tcase_add_test (tc, test_pairing_follows_model);
  return s;
}

GST_CHECK_MAIN (cfqpsr_calibration);
