/* Clocks and medians for the timing tools and benchmarks. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* CPU time of the calling thread, in ms. */
double bench_thread_cpu_ms    (void);
/* CPU time of all threads of this process, in ms. */
double bench_process_cpu_ms   (void);
/* A qsort comparator of doubles, ascending. */
gint   bench_compare_doubles  (gconstpointer a, gconstpointer b);
/* Sorts v (n > 0) and returns its median (the mean of the middle two for
 * an even n). */
double bench_median           (double *v, guint n);

G_END_DECLS
