/* CfqpCalibWorker: the one calibration worker both elements use, GLib only.
 *
 * One thread takes items (frames the caller copied) from a queue and hands
 * each to process; on request (finish) it runs finish once the queue is
 * empty — the last calibration at the end of a stream.  The caller decides
 * what an item is and what a calibration does (publish it, hand it to a
 * CfqpSession); both callbacks run on the worker thread with the worker's
 * GCancellable, which cfqp_calib_worker_cancel (going down) and a finish
 * past its deadline cancel.
 *
 * Feeding: reserve (room in the queue: wait for it, or count the item as
 * dropped), then push.  A flushing worker (set_flushing, GstBaseSink's
 * unlock) answers reserve at once.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _CfqpCalibWorker CfqpCalibWorker;

typedef void     (*CfqpCalibWorkerProcessFunc) (gpointer item, GCancellable *cancel,
                                                gpointer user_data);
/* Returns whether it made (published) a calibration. */
typedef gboolean (*CfqpCalibWorkerFinishFunc)  (GCancellable *cancel, gpointer user_data);

/* max_queued: the queue's bound (0: none); finish may be NULL.  The
 * thread runs from start to stop (an element's start and stop); the object
 * lives on between them, so flushing calls from other threads are safe. */
CfqpCalibWorker *cfqp_calib_worker_new  (const char *name, guint max_queued,
                                         CfqpCalibWorkerProcessFunc process,
                                         CfqpCalibWorkerFinishFunc finish,
                                         GDestroyNotify item_free, gpointer user_data);
/* A new thread, a new cancellable, nothing queued, dropped 0, not flushing. */
void             cfqp_calib_worker_start (CfqpCalibWorker *worker);
/* Cancels what runs, drops what is queued, joins the thread (if running). */
void             cfqp_calib_worker_stop  (CfqpCalibWorker *worker);
/* Stops, then frees. */
void             cfqp_calib_worker_free  (CfqpCalibWorker *worker);

typedef enum {
  CFQP_CALIB_WORKER_ROOM,       /* push may follow */
  CFQP_CALIB_WORKER_FULL,       /* not waiting: counted as dropped */
  CFQP_CALIB_WORKER_FLUSHING,   /* set_flushing (TRUE) while waiting */
} CfqpCalibWorkerReserve;

CfqpCalibWorkerReserve cfqp_calib_worker_reserve (CfqpCalibWorker *worker, gboolean wait);
void             cfqp_calib_worker_push       (CfqpCalibWorker *worker, gpointer item);
/* Items waiting (not the one being processed). */
guint            cfqp_calib_worker_get_n_queued (CfqpCalibWorker *worker);
guint64          cfqp_calib_worker_get_dropped  (CfqpCalibWorker *worker);
void             cfqp_calib_worker_set_flushing (CfqpCalibWorker *worker, gboolean flushing);
/* A flush: what is queued is dropped and a pending finish forgotten. */
void             cfqp_calib_worker_flush        (CfqpCalibWorker *worker);
/* Cancels the computation running now (and later ones until finish resets it). */
void             cfqp_calib_worker_cancel       (CfqpCalibWorker *worker);

/* Every queued item processed, then finish run, waited for up to
 * timeout_ms (-1: no limit); returns finish's answer.  Past the deadline:
 * *timed_out, the computation is cancelled, the queue dropped, and once the
 * worker is idle the cancellable is reset for later streaming.  A flush
 * (set_flushing) ends the wait early (FALSE). */
gboolean         cfqp_calib_worker_finish       (CfqpCalibWorker *worker, gint timeout_ms,
                                                 gboolean *timed_out);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CfqpCalibWorker, cfqp_calib_worker_free)

G_END_DECLS
