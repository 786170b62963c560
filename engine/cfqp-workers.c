/* Worker pool: a generation counter under a mutex wakes the workers for
 * each job; items are handed out by an atomic counter, so a thread that the
 * shared machine slows down simply takes fewer chunks. */
#include "cfqp-workers.h"

typedef struct {
  CfqpWorkers *pool;
  guint        index;
} WorkerSeat;

struct _CfqpWorkers {
  guint     n_threads;
  GThread **threads;
  WorkerSeat *seats;
  GMutex    lock;
  GCond     wake;        /* a new job or quit */
  GCond     done;        /* a worker finished the job */
  guint     generation;
  guint     n_finished;
  gboolean  quit;

  /* The current job. */
  CfqpWorkFunc        func;
  CfqpIndexedWorkFunc indexed_func;   /* or this one, told which thread runs it */
  gpointer     data;
  guint        n_items, chunk;
  gint         next_item;   /* atomic */
};

static void
work_on_job (CfqpWorkers *w, guint index)
{
  for (;;) {
    guint begin = g_atomic_int_add (&w->next_item, (gint) w->chunk);
    if (begin >= w->n_items)
      return;
    if (w->indexed_func)
      w->indexed_func (w->data, index, begin, MIN (begin + w->chunk, w->n_items));
    else
      w->func (w->data, begin, MIN (begin + w->chunk, w->n_items));
  }
}

static gpointer
worker_main (gpointer user_data)
{
  WorkerSeat *seat = user_data;
  CfqpWorkers *w = seat->pool;
  guint seen = 0;

  g_mutex_lock (&w->lock);
  for (;;) {
    while (w->generation == seen && !w->quit)
      g_cond_wait (&w->wake, &w->lock);
    if (w->quit)
      break;
    seen = w->generation;
    g_mutex_unlock (&w->lock);
    work_on_job (w, seat->index);
    g_mutex_lock (&w->lock);
    if (++w->n_finished == w->n_threads - 1)
      g_cond_signal (&w->done);
  }
  g_mutex_unlock (&w->lock);
  return NULL;
}

CfqpWorkers *
cfqp_workers_new (guint n_threads)
{
  CfqpWorkers *w = g_new0 (CfqpWorkers, 1);

  w->n_threads = MAX (n_threads, 1);
  g_mutex_init (&w->lock);
  g_cond_init (&w->wake);
  g_cond_init (&w->done);
  w->threads = g_new0 (GThread *, w->n_threads);
  w->seats = g_new0 (WorkerSeat, w->n_threads);
  for (guint i = 1; i < w->n_threads; i++) {
    w->seats[i] = (WorkerSeat) { w, i };
    w->threads[i] = g_thread_new ("cfqp-worker", worker_main, &w->seats[i]);
  }
  return w;
}

void
cfqp_workers_free (CfqpWorkers *w)
{
  if (!w)
    return;
  g_mutex_lock (&w->lock);
  w->quit = TRUE;
  g_cond_broadcast (&w->wake);
  g_mutex_unlock (&w->lock);
  for (guint i = 1; i < w->n_threads; i++)
    g_thread_join (w->threads[i]);
  g_free (w->threads);
  g_free (w->seats);
  g_mutex_clear (&w->lock);
  g_cond_clear (&w->wake);
  g_cond_clear (&w->done);
  g_free (w);
}

guint
cfqp_workers_get_n_threads (CfqpWorkers *w)
{
  return w->n_threads;
}

static void
run_job (CfqpWorkers *w, CfqpWorkFunc func, CfqpIndexedWorkFunc indexed_func, gpointer data,
    guint n_items, guint chunk)
{
  if (n_items == 0)
    return;
  if (chunk == 0)
    chunk = MAX (1, n_items / (w->n_threads * 4));
  if (w->n_threads == 1 || n_items <= chunk) {
    if (indexed_func)
      indexed_func (data, 0, 0, n_items);
    else
      func (data, 0, n_items);
    return;
  }
  g_mutex_lock (&w->lock);
  w->func = func;
  w->indexed_func = indexed_func;
  w->data = data;
  w->n_items = n_items;
  w->chunk = chunk;
  g_atomic_int_set (&w->next_item, 0);
  w->n_finished = 0;
  w->generation++;
  g_cond_broadcast (&w->wake);
  g_mutex_unlock (&w->lock);

  work_on_job (w, 0);

  g_mutex_lock (&w->lock);
  while (w->n_finished < w->n_threads - 1)
    g_cond_wait (&w->done, &w->lock);
  g_mutex_unlock (&w->lock);
}

void
cfqp_workers_run (CfqpWorkers *w, CfqpWorkFunc func, gpointer data, guint n_items,
    guint chunk)
{
  run_job (w, func, NULL, data, n_items, chunk);
}

void
cfqp_workers_run_indexed (CfqpWorkers *w, CfqpIndexedWorkFunc func, gpointer data,
    guint n_items, guint chunk)
{
  run_job (w, NULL, func, data, n_items, chunk);
}
