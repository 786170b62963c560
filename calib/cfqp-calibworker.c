/* CfqpCalibWorker (cfqp-calibworker.h): a queue, a thread and one lock;
 * the EOS handshake is final_request → final_done. */
#include "cfqp-calibworker.h"

struct _CfqpCalibWorker {
  char                      *name;
  CfqpCalibWorkerProcessFunc process;
  CfqpCalibWorkerFinishFunc  finish;
  GDestroyNotify             item_free;
  gpointer                   user_data;
  guint                      max_queued;
  GCancellable              *cancel;     /* replaced by start only */
  GThread                   *thread;     /* between start and stop */

  GMutex    lock;                /* guards the rest */
  GCond     cond;
  GQueue    queue;
  gboolean  quit, flushing;
  gboolean  final_request, final_done, final_result;
  guint64   dropped;
};

static gpointer
worker_thread (gpointer data)
{
  CfqpCalibWorker *w = data;
  gpointer item;

  g_mutex_lock (&w->lock);
  while (!w->quit) {
    item = g_queue_pop_head (&w->queue);
    if (item == NULL && w->final_request) {
      /* every queued item is in: the last calibration */
      gboolean result = FALSE;

      w->final_request = FALSE;
      g_mutex_unlock (&w->lock);
      if (w->finish != NULL)
        result = w->finish (w->cancel, w->user_data);
      g_mutex_lock (&w->lock);
      w->final_done = TRUE;
      w->final_result = result;
      g_cond_broadcast (&w->cond);
      continue;
    }
    if (item == NULL) {
      g_cond_wait (&w->cond, &w->lock);
      continue;
    }
    /* room in the queue again */
    g_cond_broadcast (&w->cond);
    g_mutex_unlock (&w->lock);

    w->process (item, w->cancel, w->user_data);
    w->item_free (item);

    g_mutex_lock (&w->lock);
    g_cond_broadcast (&w->cond);
  }
  g_mutex_unlock (&w->lock);
  return NULL;
}

CfqpCalibWorker *
cfqp_calib_worker_new (const char *name, guint max_queued,
                       CfqpCalibWorkerProcessFunc process,
                       CfqpCalibWorkerFinishFunc finish,
                       GDestroyNotify item_free, gpointer user_data)
{
  CfqpCalibWorker *w = g_new0 (CfqpCalibWorker, 1);

  w->name = g_strdup (name);
  w->process = process;
  w->finish = finish;
  w->item_free = item_free;
  w->user_data = user_data;
  w->max_queued = max_queued;
  w->cancel = g_cancellable_new ();
  g_mutex_init (&w->lock);
  g_cond_init (&w->cond);
  g_queue_init (&w->queue);
  return w;
}

void
cfqp_calib_worker_start (CfqpCalibWorker *w)
{
  g_return_if_fail (w->thread == NULL);
  g_clear_object (&w->cancel);
  w->cancel = g_cancellable_new ();
  g_mutex_lock (&w->lock);
  g_queue_clear_full (&w->queue, w->item_free);
  w->quit = w->flushing = FALSE;
  w->final_request = w->final_done = w->final_result = FALSE;
  w->dropped = 0;
  g_mutex_unlock (&w->lock);
  w->thread = g_thread_new (w->name, worker_thread, w);
}

void
cfqp_calib_worker_stop (CfqpCalibWorker *w)
{
  if (w->thread == NULL)
    return;
  g_cancellable_cancel (w->cancel);
  g_mutex_lock (&w->lock);
  w->quit = TRUE;
  g_cond_broadcast (&w->cond);
  g_mutex_unlock (&w->lock);
  g_thread_join (w->thread);
  w->thread = NULL;
  g_mutex_lock (&w->lock);
  g_queue_clear_full (&w->queue, w->item_free);
  g_mutex_unlock (&w->lock);
}

void
cfqp_calib_worker_free (CfqpCalibWorker *w)
{
  if (w == NULL)
    return;
  cfqp_calib_worker_stop (w);
  g_object_unref (w->cancel);
  g_cond_clear (&w->cond);
  g_mutex_clear (&w->lock);
  g_free (w->name);
  g_free (w);
}

static gboolean
queue_full (CfqpCalibWorker *w)
{
  return w->max_queued > 0 && g_queue_get_length (&w->queue) >= w->max_queued;
}

CfqpCalibWorkerReserve
cfqp_calib_worker_reserve (CfqpCalibWorker *w, gboolean wait)
{
  CfqpCalibWorkerReserve ret = CFQP_CALIB_WORKER_ROOM;

  g_mutex_lock (&w->lock);
  if (!wait) {
    if (queue_full (w)) {
      w->dropped++;
      ret = CFQP_CALIB_WORKER_FULL;
    }
  } else {
    while (queue_full (w)) {
      if (w->flushing) {
        ret = CFQP_CALIB_WORKER_FLUSHING;
        break;
      }
      g_cond_wait (&w->cond, &w->lock);
    }
  }
  g_mutex_unlock (&w->lock);
  return ret;
}

void
cfqp_calib_worker_push (CfqpCalibWorker *w, gpointer item)
{
  g_mutex_lock (&w->lock);
  g_queue_push_tail (&w->queue, item);
  g_cond_broadcast (&w->cond);
  g_mutex_unlock (&w->lock);
}

guint
cfqp_calib_worker_get_n_queued (CfqpCalibWorker *w)
{
  guint n;

  g_mutex_lock (&w->lock);
  n = g_queue_get_length (&w->queue);
  g_mutex_unlock (&w->lock);
  return n;
}

guint64
cfqp_calib_worker_get_dropped (CfqpCalibWorker *w)
{
  guint64 n;

  g_mutex_lock (&w->lock);
  n = w->dropped;
  g_mutex_unlock (&w->lock);
  return n;
}

void
cfqp_calib_worker_set_flushing (CfqpCalibWorker *w, gboolean flushing)
{
  g_mutex_lock (&w->lock);
  w->flushing = flushing;
  g_cond_broadcast (&w->cond);
  g_mutex_unlock (&w->lock);
}

void
cfqp_calib_worker_flush (CfqpCalibWorker *w)
{
  g_mutex_lock (&w->lock);
  w->final_request = FALSE;
  g_queue_clear_full (&w->queue, w->item_free);
  g_cond_broadcast (&w->cond);
  g_mutex_unlock (&w->lock);
}

void
cfqp_calib_worker_cancel (CfqpCalibWorker *w)
{
  g_cancellable_cancel (w->cancel);
}

gboolean
cfqp_calib_worker_finish (CfqpCalibWorker *w, gint timeout_ms,
                          gboolean *timed_out)
{
  gint64 deadline = 0;
  gboolean late = FALSE, result;

  if (timeout_ms >= 0)
    deadline = g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND;

  g_mutex_lock (&w->lock);
  w->final_done = FALSE;
  w->final_request = TRUE;
  g_cond_broadcast (&w->cond);
  while (!w->final_done && !w->flushing) {
    if (timeout_ms < 0) {
      g_cond_wait (&w->cond, &w->lock);
    } else if (!g_cond_wait_until (&w->cond, &w->lock, deadline)) {
      late = !w->final_done;
      break;
    }
  }
  if (late) {
    /* the items not yet offered are dropped, the computation stops at its
     * next image */
    g_cancellable_cancel (w->cancel);
    g_queue_clear_full (&w->queue, w->item_free);
    while (!w->final_done && !w->flushing)
      g_cond_wait (&w->cond, &w->lock);
  }
  result = w->final_done && w->final_result;
  /* idle again: later streaming (after a flush) may calibrate again (not
   * while the worker may still use the cancellable) */
  if (late && w->final_done)
    g_cancellable_reset (w->cancel);
  g_mutex_unlock (&w->lock);
  if (timed_out != NULL)
    *timed_out = late;
  return result;
}
