/* CfqpFileWatch: a file rewritten in several writes is reported once, when
 * it has settled; an unchanged version is not reported; freeing stops the
 * thread at once, a settle timer pending or not. */
#include "cfqp-filewatch.h"

#include <glib/gstdio.h>

typedef struct {
  GMutex lock;
  GCond cond;
  guint calls;
  char *path;
} Seen;

static void
on_settled (const char *path, gpointer user_data)
{
  Seen *seen = user_data;

  g_mutex_lock (&seen->lock);
  seen->calls++;
  g_free (seen->path);
  seen->path = g_strdup (path);
  g_cond_broadcast (&seen->cond);
  g_mutex_unlock (&seen->lock);
}

/* Waits up to ms for calls to reach n; returns the count. */
static guint
wait_calls (Seen *seen, guint n, guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * G_TIME_SPAN_MILLISECOND;
  guint calls;

  g_mutex_lock (&seen->lock);
  while (seen->calls < n && g_cond_wait_until (&seen->cond, &seen->lock, end))
    ;
  calls = seen->calls;
  g_mutex_unlock (&seen->lock);
  return calls;
}

static void
write_file (const char *path, const char *text)
{
  g_autoptr (GError) err = NULL;

  g_file_set_contents (path, text, -1, &err);
  g_assert_no_error (err);
}

static void
test_settles_once (void)
{
  g_autofree char *dir = g_dir_make_tmp ("cfqp-watch-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "c.json", NULL);
  g_autoptr (GError) err = NULL;
  CfqpFileWatch *w;
  Seen seen = { 0 };

  g_mutex_init (&seen.lock);
  g_cond_init (&seen.cond);
  write_file (path, "{}");
  w = cfqp_file_watch_new (path, on_settled, &seen, &err);
  g_assert_no_error (err);

  /* the version there at start is not reported */
  g_assert_cmpuint (wait_calls (&seen, 1, 3 * CFQP_FILE_WATCH_SETTLE_MS), ==, 0);

  /* a burst of writes, each within the settle time of the last: one call */
  for (guint i = 0; i < 5; i++) {
    g_autofree char *text = g_strdup_printf ("{\"v\": %u}", i);

    write_file (path, text);
    /* a tenth of the settle time: margin for a loaded machine */
    g_usleep (CFQP_FILE_WATCH_SETTLE_MS / 10 * 1000);
  }
  g_assert_cmpuint (wait_calls (&seen, 1, 5000), ==, 1);
  g_assert_cmpuint (wait_calls (&seen, 2, 3 * CFQP_FILE_WATCH_SETTLE_MS), ==, 1);
  g_assert_cmpstr (seen.path, ==, path);

  /* a later version: a second call */
  write_file (path, "{\"v\": 9}");
  g_assert_cmpuint (wait_calls (&seen, 2, 5000), ==, 2);

  cfqp_file_watch_free (w);
  g_unlink (path);
  g_rmdir (dir);
  g_free (seen.path);
  g_cond_clear (&seen.cond);
  g_mutex_clear (&seen.lock);
}

/* Freed right after a change (settle timer armed) and right after start
 * (loop maybe not running yet): neither hangs nor calls back afterwards. */
static void
test_free_at_once (void)
{
  g_autofree char *dir = g_dir_make_tmp ("cfqp-watch-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "c.json", NULL);
  Seen seen = { 0 };

  g_mutex_init (&seen.lock);
  g_cond_init (&seen.cond);
  write_file (path, "{}");
  for (guint i = 0; i < 20; i++)
    cfqp_file_watch_free (cfqp_file_watch_new (path, on_settled, &seen, NULL));

  {
    CfqpFileWatch *w = cfqp_file_watch_new (path, on_settled, &seen, NULL);

    g_usleep (50 * 1000);
    write_file (path, "{\"v\": 1}");
    g_usleep (20 * 1000);
    cfqp_file_watch_free (w);
  }
  g_assert_cmpuint (wait_calls (&seen, 1, 3 * CFQP_FILE_WATCH_SETTLE_MS), ==, 0);
  g_unlink (path);
  g_rmdir (dir);
  g_cond_clear (&seen.cond);
  g_mutex_clear (&seen.lock);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/filewatch/settles-once", test_settles_once);
  g_test_add_func ("/filewatch/free-at-once", test_free_at_once);
  return g_test_run ();
}
