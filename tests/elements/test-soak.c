/* cfqp — cfqpsr soak test (GstCheck).
 *
 * At least 10,000 frames through `videotestsrc ! cfqpsr ! fakesink` (RGB
 * 32×24, the tiny ×2 model, INT8 with a watched calibration file) while the
 * test keeps disturbing it: atomic calibration-file swaps, precision and
 * n-threads changes while PLAYING, PLAYING→PAUSED→PLAYING,
 * PLAYING→PAUSED→READY→PAUSED→PLAYING, and flushing seeks both while
 * PLAYING and while PAUSED.
 *
 * The frame count is exact.  The stream is cut into segments, each a
 * flushing seek with a stop position to a PTS range of its own (segment k
 * starts at (k+1)·20 s), so every buffer names its segment and its index in
 * it from its PTS alone.  Buffers are counted per segment going into cfqpsr
 * (a pad probe) and out of the sink (handoffs), and must come in order:
 *   - a segment that ends in its EOS (the EOS message carries the seek's
 *     seqnum) must have delivered exactly its size, in == out;
 *   - a segment cut by a flushing seek or READY must have delivered a
 *     gap-free prefix, with at most the one buffer in flight lost
 *     (in − out ≤ 1);
 *   - after READY→PAUSED the source restarts at PTS 0 (its own bucket,
 *     same prefix rule) until the next seek.
 * Every cfqpsr-calibration message is counted: one per start (the file's
 * calibration) and one per swap, no more; each names the file.  No warning
 * or error may be posted.
 *
 * VmRSS (/proc/self/status) is read after a warm-up cycle and at the end;
 * its growth must stay under 8 MiB.  CFQP_SOAK_FRAMES=N soaks longer
 * (default 10,000; up to about 400,000).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>
#include <gst/video/video.h>

#include "cfqp-engine.h"
#include "cfqp-calib.h"
#include "element-test-utils.h"

#define FPS 30
#define SEG_STRIDE (20 * FPS)   /* frames between segment starts: 20 s */
#define MAX_SEGS 2000
#define IN_W 32
#define IN_H 24
#define OUT_BYTES (IN_W * 2 * IN_H * 2 * 3)
#define SOAK_FRAMES 10000
#define RSS_LIMIT_KIB (8 * 1024)
#define WAIT_US (60 * G_USEC_PER_SEC)

typedef struct
{
  guint in, out;                /* into cfqpsr, out of the sink */
  guint bad_in, bad_out;        /* out of order / gaps / duplicates */
} Bucket;

typedef struct
{
  GMutex lock;
  /* bucket 0: frames from PTS 0 after a (re)start; k + 1: segment k */
  Bucket b[MAX_SEGS + 1];
  guint total_out;
  guint bad_size;

  GstElement *pipe, *sr;
  GstBus *bus;
  gchar *cpath;

  guint n_segs;
  guint seg_size[MAX_SEGS];
  gboolean seg_done[MAX_SEGS];
  guint32 seqnum;               /* of the current segment's seek */
  gboolean eos;                 /* the current segment's EOS arrived */

  guint n_msgs, n_msgs_expected;
  guint n_starts, n_swaps, n_seeks, n_interrupted, n_pauses, n_readys;
  guint n_prop_changes;
} Soak;

static Bucket *
bucket_for (Soak * s, GstBuffer * buf, guint * idx)
{
  guint64 n;
  guint k;

  fail_unless (GST_BUFFER_PTS_IS_VALID (buf));
  n = gst_util_uint64_scale_round (GST_BUFFER_PTS (buf), FPS, GST_SECOND);
  k = n / SEG_STRIDE;
  fail_unless (k <= MAX_SEGS, "PTS %" GST_TIME_FORMAT " out of range",
      GST_TIME_ARGS (GST_BUFFER_PTS (buf)));
  *idx = n % SEG_STRIDE;
  return &s->b[k];
}

static GstPadProbeReturn
in_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Soak *s = data;
  guint idx;
  Bucket *b;

  g_mutex_lock (&s->lock);
  b = bucket_for (s, GST_PAD_PROBE_INFO_BUFFER (info), &idx);
  if (idx != b->in)
    b->bad_in++;
  b->in = idx + 1;
  g_mutex_unlock (&s->lock);
  return GST_PAD_PROBE_OK;
}

static void
on_handoff (GstElement * sink, GstBuffer * buf, GstPad * pad, gpointer data)
{
  Soak *s = data;
  guint idx;
  Bucket *b;

  g_mutex_lock (&s->lock);
  b = bucket_for (s, buf, &idx);
  if (idx != b->out)
    b->bad_out++;
  b->out = idx + 1;
  if (gst_buffer_get_size (buf) != OUT_BYTES)
    s->bad_size++;
  s->total_out++;
  g_mutex_unlock (&s->lock);
}

static Bucket
bucket_get (Soak * s, guint i)
{
  Bucket b;

  g_mutex_lock (&s->lock);
  b = s->b[i];
  g_mutex_unlock (&s->lock);
  return b;
}

static guint
total_out (Soak * s)
{
  guint n;

  g_mutex_lock (&s->lock);
  n = s->total_out;
  g_mutex_unlock (&s->lock);
  return n;
}

static guint64
rss_kib (void)
{
  gchar *status = NULL, *line;
  guint64 kib = 0;

  fail_unless (g_file_get_contents ("/proc/self/status", &status, NULL, NULL));
  line = strstr (status, "VmRSS:");
  fail_unless (line != NULL);
  kib = g_ascii_strtoull (line + 6, NULL, 10);
  g_free (status);
  return kib;
}

/* Takes one message off the bus (waiting up to timeout_ms) and accounts
 * for it; errors and warnings fail the test. */
static void
pump (Soak * s, guint timeout_ms)
{
  GstMessage *msg = gst_bus_timed_pop (s->bus, timeout_ms * GST_MSECOND);
  const GstStructure *st;
  GError *err = NULL;
  gchar *dbg = NULL;

  if (msg == NULL)
    return;
  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ERROR:
      gst_message_parse_error (msg, &err, &dbg);
      fail ("error from %s: %s (%s)", GST_MESSAGE_SRC_NAME (msg),
          err->message, GST_STR_NULL (dbg));
      break;
    case GST_MESSAGE_WARNING:
      gst_message_parse_warning (msg, &err, &dbg);
      fail ("warning from %s: %s (%s)", GST_MESSAGE_SRC_NAME (msg),
          err->message, GST_STR_NULL (dbg));
      break;
    case GST_MESSAGE_EOS:
      /* a segment cut by a seek may still have reached its end: only the
       * current seek's EOS counts */
      if (gst_message_get_seqnum (msg) == s->seqnum)
        s->eos = TRUE;
      break;
    case GST_MESSAGE_ELEMENT:
      st = gst_message_get_structure (msg);
      if (gst_structure_has_name (st, "cfqpsr-calibration")) {
        const gchar *src = gst_structure_get_string (st, "source");

        fail_unless (src != NULL && g_str_has_prefix (src, "file:") &&
            g_str_has_suffix (src, s->cpath), "%s", GST_STR_NULL (src));
        fail_unless_equals_string (gst_structure_get_string (st, "precision"),
            "int8");
        s->n_msgs++;
        fail_unless (s->n_msgs <= s->n_msgs_expected,
            "%u calibration messages, %u expected", s->n_msgs,
            s->n_msgs_expected);
      }
      break;
    default:
      break;
  }
  g_clear_error (&err);
  g_free (dbg);
  gst_message_unref (msg);
}

static void
drain_bus (Soak * s)
{
  while (gst_bus_have_pending (s->bus))
    pump (s, 0);
}

static void
set_state (Soak * s, GstState state)
{
  GstStateChangeReturn ret = gst_element_set_state (s->pipe, state);

  fail_if (ret == GST_STATE_CHANGE_FAILURE);
  ret = gst_element_get_state (s->pipe, NULL, NULL, 60 * GST_SECOND);
  fail_unless (ret == GST_STATE_CHANGE_SUCCESS ||
      ret == GST_STATE_CHANGE_NO_PREROLL, "state change to %s: %s",
      gst_element_state_get_name (state),
      gst_element_state_change_return_get_name (ret));
  drain_bus (s);
}

static guint
cur_seg (Soak * s)
{
  fail_unless (s->n_segs > 0);
  return s->n_segs - 1;
}

/* The current segment, cut by what comes next: a gap-free prefix. */
static void
interrupt_segment (Soak * s)
{
  /* checked at the end, when its last buffer cannot move: check_all */
  if (s->n_segs > 0 && !s->seg_done[cur_seg (s)])
    s->n_interrupted++;
}

/* A flushing seek to a new segment of size frames (a multiple of 3, so
 * its stop is an exact PTS).  In PAUSED, waits for the preroll. */
static guint
start_segment (Soak * s, guint size)
{
  guint k = s->n_segs;
  GstClockTime start = gst_util_uint64_scale ((k + 1) * SEG_STRIDE,
      GST_SECOND, FPS);
  GstClockTime stop = start + gst_util_uint64_scale (size, GST_SECOND, FPS);
  GstEvent *seek;
  GstState state;

  fail_unless (k < MAX_SEGS);
  fail_unless (size % 3 == 0 && size < SEG_STRIDE);
  interrupt_segment (s);
  s->seg_size[k] = size;
  s->seg_done[k] = FALSE;
  s->n_segs++;
  seek = gst_event_new_seek (1.0, GST_FORMAT_TIME,
      GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE, GST_SEEK_TYPE_SET, start,
      GST_SEEK_TYPE_SET, stop);
  s->seqnum = gst_event_get_seqnum (seek);
  s->eos = FALSE;
  s->n_seeks++;
  fail_unless (gst_element_send_event (s->pipe, seek), "seek refused");
  gst_element_get_state (s->pipe, &state, NULL, 0);
  if (state == GST_STATE_PAUSED)
    fail_unless (gst_element_get_state (s->pipe, NULL, NULL,
            60 * GST_SECOND) == GST_STATE_CHANGE_SUCCESS);
  return k;
}

/* Waits until the current segment has delivered n frames (or ended). */
static void
wait_out (Soak * s, guint n)
{
  guint k = cur_seg (s);
  gint64 end = g_get_monotonic_time () + WAIT_US;

  while (bucket_get (s, k + 1).out < n && !s->eos) {
    fail_unless (g_get_monotonic_time () < end, "segment %u stuck at %u/%u "
        "frames", k, bucket_get (s, k + 1).out, n);
    pump (s, 2);
  }
}

/* Waits for the current segment's EOS: it delivered every frame. */
static void
finish_segment (Soak * s)
{
  guint k = cur_seg (s);
  gint64 end = g_get_monotonic_time () + WAIT_US;
  Bucket b;

  while (!s->eos) {
    fail_unless (g_get_monotonic_time () < end, "no EOS for segment %u "
        "(%u/%u frames)", k, bucket_get (s, k + 1).out, s->seg_size[k]);
    pump (s, 10);
  }
  b = bucket_get (s, k + 1);
  fail_unless_equals_int (b.out, s->seg_size[k]);
  fail_unless_equals_int (b.in, s->seg_size[k]);
  s->seg_done[k] = TRUE;
}

/* Waits for every calibration message owed so far; frames must flow for a
 * pending calibration to apply, so a segment that ends meanwhile is
 * followed by another. */
static void
wait_messages (Soak * s)
{
  gint64 end = g_get_monotonic_time () + WAIT_US;

  while (s->n_msgs < s->n_msgs_expected) {
    fail_unless (g_get_monotonic_time () < end, "%u of %u calibration "
        "messages", s->n_msgs, s->n_msgs_expected);
    if (s->eos) {
      finish_segment (s);
      start_segment (s, 300);
    }
    pump (s, 5);
  }
}

static void
swap_calibration (Soak * s, CfqpCalibration * calib)
{
  GError *err = NULL;

  s->n_msgs_expected++;
  s->n_swaps++;
  fail_unless (cfqp_calibration_save (calib, s->cpath, &err), "%s",
      err ? err->message : "?");
}

/* precision while PLAYING: applied at the next frame. */
static void
check_precision (Soak * s, gint precision, const gchar * expect)
{
  guint k = cur_seg (s);
  gchar *active = NULL;

  g_object_set (s->sr, "precision", precision, NULL);
  s->n_prop_changes++;
  wait_out (s, bucket_get (s, k + 1).out + 2);
  if (s->eos)
    return;                     /* segment ended before a frame ran */
  g_object_get (s->sr, "active-backend", &active, NULL);
  fail_unless (active != NULL && strstr (active, expect) != NULL, "%s / %s",
      GST_STR_NULL (active), expect);
  g_free (active);
}

/* A calibration of tiny-x2 from synthetic frames (seed varies it). */
static CfqpCalibration *
make_calibration (guint seed)
{
  return element_test_make_calibration (2, TRUE, seed, 0.5f + 0.5f * (seed % 2), NULL);
}

static gboolean
rss_bound_off (void)
{
#if defined(__SANITIZE_ADDRESS__)
  return TRUE;
#else
  return g_getenv ("CFQP_SOAK_NO_RSS") != NULL;
#endif
}

/* Every segment and restart bucket against the rules in the header. */
static void
check_all (Soak * s, guint * n_complete_frames)
{
  guint k, done = 0;

  g_mutex_lock (&s->lock);
  fail_unless_equals_int (s->bad_size, 0);
  for (k = 0; k <= s->n_segs; k++) {
    Bucket *b = &s->b[k];

    fail_unless (b->bad_in == 0 && b->bad_out == 0, "bucket %u: %u/%u "
        "out-of-order buffers in/out", k, b->bad_in, b->bad_out);
    fail_unless (b->out <= b->in && b->in <= b->out + 1, "bucket %u: in %u, "
        "out %u", k, b->in, b->out);
    if (k > 0) {
      fail_unless (b->out <= s->seg_size[k - 1]);
      if (s->seg_done[k - 1]) {
        fail_unless_equals_int (b->out, s->seg_size[k - 1]);
        done += b->out;
      }
    }
  }
  g_mutex_unlock (&s->lock);
  *n_complete_frames = done;
}

GST_START_TEST (test_soak)
{
  static const guint threads[] = { 1, 2, 0, 3 };
  gchar *dir = g_dir_make_tmp ("cfqp-soak-XXXXXX", NULL);
  gchar *mpath = element_test_model_path (2);
  CfqpCalibration *calibs[2] = { make_calibration (1), make_calibration (2) };
  gchar *desc;
  GstElement *sink;
  GstPad *pad;
  Soak s = { 0 };
  guint64 rss_warm = 0, rss_end;
  gint64 t0 = g_get_monotonic_time ();
  guint cycle, complete_frames, i, seg_out;
  GError *err = NULL;
  const gchar *env = g_getenv ("CFQP_SOAK_FRAMES");
  guint soak_frames = env ? (guint) g_ascii_strtoull (env, NULL, 10) :
      SOAK_FRAMES;

  g_mutex_init (&s.lock);
  s.cpath = g_build_filename (dir, "soak.calib.json", NULL);
  fail_unless (cfqp_calibration_save (calibs[0], s.cpath, &err));

  desc = g_strdup_printf ("videotestsrc name=src pattern=ball ! "
      "video/x-raw,format=RGB,width=%d,height=%d,framerate=%d/1 ! "
      "cfqpsr name=sr model-file=%s calibration-file=%s backend=cpu "
      "precision=int8 n-threads=1 ! fakesink name=out sync=false "
      "signal-handoffs=true enable-last-sample=false", IN_W, IN_H, FPS,
      mpath, s.cpath);
  s.pipe = gst_parse_launch (desc, &err);
  fail_unless (s.pipe != NULL, "%s", err ? err->message : "?");
  s.sr = gst_bin_get_by_name (GST_BIN (s.pipe), "sr");
  sink = gst_bin_get_by_name (GST_BIN (s.pipe), "out");
  g_signal_connect (sink, "handoff", G_CALLBACK (on_handoff), &s);
  pad = gst_element_get_static_pad (s.sr, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, in_probe, &s, NULL);
  gst_object_unref (pad);
  s.bus = gst_element_get_bus (s.pipe);

  s.n_starts = 1;
  s.n_msgs_expected = 1;
  set_state (&s, GST_STATE_PAUSED);
  start_segment (&s, 300);
  set_state (&s, GST_STATE_PLAYING);

  for (cycle = 0; total_out (&s) < soak_frames; cycle++) {
    /* A: a calibration swap, precision and n-threads changes, a pause;
     * every frame arrives */
    swap_calibration (&s, calibs[(cycle + 1) % 2]);
    wait_messages (&s);
    seg_out = bucket_get (&s, cur_seg (&s) + 1).out;
    g_object_set (s.sr, "n-threads", threads[cycle % G_N_ELEMENTS (threads)],
        NULL);
    s.n_prop_changes++;
    check_precision (&s, 1 /* fp32 */ , "fp32");
    check_precision (&s, 0 /* int8 */ , "int8");
    wait_out (&s, seg_out + 30);
    set_state (&s, GST_STATE_PAUSED);
    s.n_pauses++;
    g_usleep (5000);
    set_state (&s, GST_STATE_PLAYING);
    finish_segment (&s);

    /* B: cut by a flushing seek while PLAYING */
    start_segment (&s, 300);
    wait_out (&s, 90);
    start_segment (&s, 297);    /* C */

    /* C: paused, cut by a flushing seek while PAUSED (D), played */
    wait_out (&s, 60);
    set_state (&s, GST_STATE_PAUSED);
    s.n_pauses++;
    start_segment (&s, 300);    /* D */
    set_state (&s, GST_STATE_PLAYING);

    if (cycle % 2 == 1) {
      /* D cut by READY: cfqpsr stops and starts again (model, runner and
       * the file's calibration reloaded, one more message) */
      wait_out (&s, 120);
      set_state (&s, GST_STATE_PAUSED);
      set_state (&s, GST_STATE_READY);
      s.n_readys++;
      g_mutex_lock (&s.lock);
      /* the source restarts from 0: a new restart bucket (checked first) */
      fail_unless (s.b[0].out <= s.b[0].in && s.b[0].in <= s.b[0].out + 1);
      fail_unless (s.b[0].bad_in == 0 && s.b[0].bad_out == 0);
      memset (&s.b[0], 0, sizeof (Bucket));
      g_mutex_unlock (&s.lock);
      s.n_starts++;
      s.n_msgs_expected++;
      set_state (&s, GST_STATE_PAUSED);
      start_segment (&s, 300);  /* E */
      set_state (&s, GST_STATE_PLAYING);
    }
    finish_segment (&s);
    wait_messages (&s);
    start_segment (&s, 300);    /* the next cycle's A */

    if (cycle == 0) {
      rss_warm = rss_kib ();
      GST_INFO ("RSS after warm-up (%u frames): %" G_GUINT64_FORMAT " KiB",
          total_out (&s), rss_warm);
    }
  }
  finish_segment (&s);
  wait_messages (&s);
  /* nothing more may come */
  for (i = 0; i < 20; i++)
    pump (&s, 5);
  rss_end = rss_kib ();

  check_all (&s, &complete_frames);
  fail_unless_equals_int (s.n_msgs, s.n_msgs_expected);
  fail_unless_equals_int (s.n_msgs, s.n_starts + s.n_swaps);
  g_print ("soak: %u frames out, %u of them in the %u complete segments "
      "(exact); %u segments (%u cut by seek/READY), %u seeks, %u pauses, %u READY "
      "restarts, %u calibration swaps, %u calibration messages, %u property "
      "changes, %u cycles, %.1f s; VmRSS %" G_GUINT64_FORMAT " KiB after "
      "warm-up, %" G_GUINT64_FORMAT " KiB at the end (%+" G_GINT64_FORMAT
      " KiB)\n", s.total_out, complete_frames,
      s.n_segs - s.n_interrupted, s.n_segs, s.n_interrupted,
      s.n_seeks, s.n_pauses, s.n_readys, s.n_swaps, s.n_msgs,
      s.n_prop_changes, cycle,
      (g_get_monotonic_time () - t0) / 1e6, rss_warm, rss_end,
      (gint64) rss_end - (gint64) rss_warm);
  fail_unless (s.total_out >= soak_frames);
  /* not under ASan (its quarantine holds freed memory: +9.5 MiB here; LSan
   * checks leaks there) nor with CFQP_SOAK_NO_RSS=1 (valgrind) */
  fail_unless (rss_bound_off () ||
      rss_end < rss_warm + RSS_LIMIT_KIB, "VmRSS grew from %"
      G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT " KiB", rss_warm, rss_end);

  set_state (&s, GST_STATE_NULL);
  gst_object_unref (s.bus);
  gst_object_unref (sink);
  gst_object_unref (s.sr);
  gst_object_unref (s.pipe);
  cfqp_calibration_unref (calibs[0]);
  cfqp_calibration_unref (calibs[1]);
  g_unlink (s.cpath);
  g_rmdir (dir);
  g_free (s.cpath);
  g_free (desc);
  g_free (mpath);
  g_free (dir);
  g_mutex_clear (&s.lock);
}

GST_END_TEST;

static Suite *
soak_suite (void)
{
  Suite *s = suite_create ("cfqp-soak");
  TCase *tc = tcase_create ("soak");

  tcase_set_timeout (tc, 600);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_soak);
  return s;
}

GST_CHECK_MAIN (soak);
