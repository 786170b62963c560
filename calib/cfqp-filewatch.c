/* CfqpFileWatch (cfqp-filewatch.h): a GFileMonitor in a main context run by
 * its own thread, and a settle timer that turns a burst of events into one
 * read. */
#include "cfqp-filewatch.h"

#include <gio/gio.h>
#include <glib/gstdio.h>

struct _CfqpFileWatch {
  char              *path;
  GFile             *file;
  char              *stamp;           /* the version last reported */
  CfqpFileWatchFunc  func;
  gpointer           user_data;
  GMainContext      *ctx;
  GMainLoop         *loop;
  GThread           *thread;
  GFileMonitor      *monitor;
  GSource           *timer;           /* settle timer, NULL when idle */
  gint64             first_change;    /* of the burst the timer waits on */
};

static char *
file_stamp (const char *path)
{
  GStatBuf st;

  if (g_stat (path, &st) != 0)
    return NULL;
  /* nanoseconds: two rewrites in one second must differ */
  return g_strdup_printf ("%" G_GUINT64_FORMAT ":%" G_GINT64_FORMAT ":%"
      G_GINT64_FORMAT ".%09ld:%" G_GINT64_FORMAT ".%09ld", (guint64) st.st_ino,
      (gint64) st.st_size, (gint64) st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
      (gint64) st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
}

static gboolean
file_settled (gpointer user_data)
{
  CfqpFileWatch *w = user_data;
  char *stamp;

  g_clear_pointer (&w->timer, g_source_unref);

  /* one report per version of the file, however many events it makes */
  stamp = file_stamp (w->path);
  if (stamp == NULL || g_strcmp0 (stamp, w->stamp) == 0) {
    g_free (stamp);
    return G_SOURCE_REMOVE;
  }
  g_free (w->stamp);
  w->stamp = stamp;
  w->func (w->path, w->user_data);
  return G_SOURCE_REMOVE;
}

static void
file_changed (GFileMonitor *monitor, GFile *file, GFile *other,
              GFileMonitorEvent event, gpointer user_data)
{
  CfqpFileWatch *w = user_data;
  gint64 now = g_get_monotonic_time ();
  guint delay;

  switch (event) {
    case G_FILE_MONITOR_EVENT_CHANGED:
    case G_FILE_MONITOR_EVENT_CHANGES_DONE_HINT:
    case G_FILE_MONITOR_EVENT_CREATED:
    case G_FILE_MONITOR_EVENT_MOVED_IN:
    case G_FILE_MONITOR_EVENT_RENAMED:
      break;
    default:
      return;
  }
  if (!g_file_equal (file, w->file) &&
      (other == NULL || !g_file_equal (other, w->file)))
    return;

  /* (re)arm the settle timer: the file is read once it is quiet */
  if (w->timer == NULL) {
    w->first_change = now;
  } else {
    g_source_destroy (w->timer);
    g_clear_pointer (&w->timer, g_source_unref);
  }
  delay = (guint) CLAMP ((w->first_change +
          CFQP_FILE_WATCH_MAX_DELAY_MS * G_GINT64_CONSTANT (1000) - now) / 1000,
      0, CFQP_FILE_WATCH_SETTLE_MS);
  g_debug ("%s: event %d, read in %u ms", w->path, event, delay);
  w->timer = g_timeout_source_new (delay);
  g_source_set_callback (w->timer, file_settled, w, NULL);
  g_source_attach (w->timer, w->ctx);
}

static gpointer
watch_thread (gpointer data)
{
  CfqpFileWatch *w = data;

  g_main_context_push_thread_default (w->ctx);
  g_main_loop_run (w->loop);
  g_main_context_pop_thread_default (w->ctx);
  return NULL;
}

CfqpFileWatch *
cfqp_file_watch_new (const char *path, CfqpFileWatchFunc func,
                     gpointer user_data, GError **error)
{
  CfqpFileWatch *w = g_new0 (CfqpFileWatch, 1);

  w->path = g_strdup (path);
  w->file = g_file_new_for_path (path);
  w->stamp = file_stamp (path);
  w->func = func;
  w->user_data = user_data;
  w->ctx = g_main_context_new ();
  w->loop = g_main_loop_new (w->ctx, FALSE);

  /* the monitor delivers its events in the context current when made */
  g_main_context_push_thread_default (w->ctx);
  w->monitor = g_file_monitor_file (w->file, G_FILE_MONITOR_WATCH_MOVES, NULL,
                                    error);
  g_main_context_pop_thread_default (w->ctx);
  if (w->monitor != NULL)
    g_signal_connect (w->monitor, "changed", G_CALLBACK (file_changed), w);
  w->thread = g_thread_new ("cfqp-watch", watch_thread, w);
  return w;
}

static gboolean
quit_loop (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

void
cfqp_file_watch_free (CfqpFileWatch *w)
{
  GSource *quit;

  if (w == NULL)
    return;
  /* Quit from inside the watch context: a g_main_loop_quit() that comes
   * before the thread has entered g_main_loop_run() is lost (run sets the
   * loop running again), and the join below would wait forever. */
  quit = g_idle_source_new ();
  g_source_set_callback (quit, quit_loop, w->loop, NULL);
  g_source_attach (quit, w->ctx);
  g_source_unref (quit);
  g_thread_join (w->thread);
  if (w->timer != NULL) {
    g_source_destroy (w->timer);
    g_clear_pointer (&w->timer, g_source_unref);
  }
  if (w->monitor != NULL) {
    g_signal_handlers_disconnect_by_data (w->monitor, w);
    g_file_monitor_cancel (w->monitor);
    g_clear_object (&w->monitor);
  }
  g_main_loop_unref (w->loop);
  g_main_context_unref (w->ctx);
  g_object_unref (w->file);
  g_free (w->stamp);
  g_free (w->path);
  g_free (w);
}
