/* CfqpCalibWorker: items in order, then finish; a bounded queue that drops
 * or waits; a finish past its deadline is cancelled and the worker is
 * usable again; a flush ends a wait for room; stop with work running. */
#include "cfqp-calibworker.h"

typedef struct {
  GMutex lock;
  GArray *seen;               /* item values processed, in order */
  gint finish_calls;
  gboolean slow;              /* finish runs until cancelled */
  gboolean hold;              /* process waits until released */
  GCond cond;
} State;

static void
item_free (gpointer item)
{
  g_free (item);
}

static void
process (gpointer item, GCancellable *cancel, gpointer user_data)
{
  State *st = user_data;

  g_mutex_lock (&st->lock);
  while (st->hold && !g_cancellable_is_cancelled (cancel))
    g_cond_wait_until (&st->cond, &st->lock,
        g_get_monotonic_time () + 10 * G_TIME_SPAN_MILLISECOND);
  g_array_append_val (st->seen, *(guint *) item);
  g_mutex_unlock (&st->lock);
}

static gboolean
finish (GCancellable *cancel, gpointer user_data)
{
  State *st = user_data;

  g_atomic_int_inc (&st->finish_calls);
  /* a long computation that stops at its next image when cancelled */
  while (st->slow && !g_cancellable_is_cancelled (cancel))
    g_usleep (5000);
  return !g_cancellable_is_cancelled (cancel);
}

static guint *
item (guint v)
{
  guint *p = g_new (guint, 1);

  *p = v;
  return p;
}

static void
state_init (State *st)
{
  g_mutex_init (&st->lock);
  g_cond_init (&st->cond);
  st->seen = g_array_new (FALSE, FALSE, sizeof (guint));
}

static void
state_clear (State *st)
{
  g_array_unref (st->seen);
  g_cond_clear (&st->cond);
  g_mutex_clear (&st->lock);
}

static void
test_order_then_finish (void)
{
  State st = { 0 };
  CfqpCalibWorker *w;
  gboolean timed_out = TRUE;

  state_init (&st);
  w = cfqp_calib_worker_new ("test", 0, process, finish, item_free, &st);
  cfqp_calib_worker_start (w);
  for (guint i = 0; i < 50; i++) {
    g_assert_cmpint (cfqp_calib_worker_reserve (w, TRUE), ==,
        CFQP_CALIB_WORKER_ROOM);
    cfqp_calib_worker_push (w, item (i));
  }
  g_assert_true (cfqp_calib_worker_finish (w, -1, &timed_out));
  g_assert_false (timed_out);
  g_assert_cmpint (st.finish_calls, ==, 1);
  g_assert_cmpuint (st.seen->len, ==, 50);
  for (guint i = 0; i < 50; i++)
    g_assert_cmpuint (g_array_index (st.seen, guint, i), ==, i);
  cfqp_calib_worker_free (w);
  state_clear (&st);
}

/* Bound 2, the worker held on its first item: two more fit, the next is
 * dropped (not waiting) or waits until a flush. */
static gpointer
set_flushing_later (gpointer data)
{
  g_usleep (50000);
  cfqp_calib_worker_set_flushing (data, TRUE);
  return NULL;
}

static void
test_bounded_queue (void)
{
  State st = { 0 };
  CfqpCalibWorker *w;
  GThread *t;

  state_init (&st);
  st.hold = TRUE;
  w = cfqp_calib_worker_new ("test", 2, process, finish, item_free, &st);
  cfqp_calib_worker_start (w);
  cfqp_calib_worker_push (w, item (0));
  while (cfqp_calib_worker_get_n_queued (w) > 0)
    g_usleep (1000);
  cfqp_calib_worker_push (w, item (1));
  cfqp_calib_worker_push (w, item (2));
  g_assert_cmpint (cfqp_calib_worker_reserve (w, FALSE), ==,
      CFQP_CALIB_WORKER_FULL);
  g_assert_cmpuint (cfqp_calib_worker_get_dropped (w), ==, 1);

  t = g_thread_new ("flush", set_flushing_later, w);
  g_assert_cmpint (cfqp_calib_worker_reserve (w, TRUE), ==,
      CFQP_CALIB_WORKER_FLUSHING);
  g_thread_join (t);
  cfqp_calib_worker_flush (w);
  g_assert_cmpuint (cfqp_calib_worker_get_n_queued (w), ==, 0);
  cfqp_calib_worker_set_flushing (w, FALSE);

  /* stop while an item is being processed: cancelled, joined */
  cfqp_calib_worker_stop (w);
  g_assert_cmpuint (st.seen->len, ==, 1);

  /* started again: counters back to zero */
  st.hold = FALSE;
  cfqp_calib_worker_start (w);
  g_assert_cmpuint (cfqp_calib_worker_get_dropped (w), ==, 0);
  cfqp_calib_worker_push (w, item (3));
  g_assert_true (cfqp_calib_worker_finish (w, -1, NULL));
  g_assert_cmpuint (g_array_index (st.seen, guint, 1), ==, 3);
  cfqp_calib_worker_free (w);
  state_clear (&st);
}

/* EOS with a computation that would not end: cancelled at the deadline,
 * then the worker is usable again (the cancellable reset). */
static void
test_finish_deadline (void)
{
  State st = { 0 };
  CfqpCalibWorker *w;
  gboolean timed_out = FALSE;
  gint64 t0;

  state_init (&st);
  st.slow = TRUE;
  w = cfqp_calib_worker_new ("test", 0, process, finish, item_free, &st);
  cfqp_calib_worker_start (w);
  cfqp_calib_worker_push (w, item (0));
  t0 = g_get_monotonic_time ();
  g_assert_false (cfqp_calib_worker_finish (w, 100, &timed_out));
  g_assert_true (timed_out);
  g_assert_cmpint (g_get_monotonic_time () - t0, <, 5 * G_TIME_SPAN_SECOND);
  g_assert_cmpint (st.finish_calls, ==, 1);

  st.slow = FALSE;
  cfqp_calib_worker_push (w, item (1));
  g_assert_true (cfqp_calib_worker_finish (w, 5000, &timed_out));
  g_assert_false (timed_out);
  g_assert_cmpuint (st.seen->len, ==, 2);

  /* going down (an element's PAUSED->READY): cancel, then stop */
  st.slow = TRUE;
  cfqp_calib_worker_cancel (w);
  cfqp_calib_worker_free (w);
  state_clear (&st);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/calibworker/order-then-finish", test_order_then_finish);
  g_test_add_func ("/calibworker/bounded-queue", test_bounded_queue);
  g_test_add_func ("/calibworker/finish-deadline", test_finish_deadline);
  return g_test_run ();
}
