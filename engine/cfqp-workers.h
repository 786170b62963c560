/* A persistent pool of worker threads that share out a range of items
 * (internal, backend-neutral).  The calling thread works too, so a pool of
 * n threads starts n − 1 workers. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _CfqpWorkers CfqpWorkers;

/* Processes items [begin, end). */
typedef void (*CfqpWorkFunc) (gpointer data, guint begin, guint end);
/* The same, told which thread runs them: worker is in [0, n_threads), the
 * calling thread being 0, so per-thread buffers need no lock. */
typedef void (*CfqpIndexedWorkFunc) (gpointer data, guint worker, guint begin, guint end);

CfqpWorkers *cfqp_workers_new          (guint n_threads);
void         cfqp_workers_free         (CfqpWorkers *workers);
guint        cfqp_workers_get_n_threads (CfqpWorkers *workers);
/* Runs func over [0, n_items) in chunks of chunk items (0: automatic) on
 * every thread; returns when all items are done. */
void         cfqp_workers_run          (CfqpWorkers *workers, CfqpWorkFunc func,
                                        gpointer data, guint n_items, guint chunk);
void         cfqp_workers_run_indexed  (CfqpWorkers *workers, CfqpIndexedWorkFunc func,
                                        gpointer data, guint n_items, guint chunk);

G_END_DECLS
