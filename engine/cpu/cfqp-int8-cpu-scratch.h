/* Per-thread scratch of the cpu INT8 kernels (internal): one buffer per
 * thread that only grows, so kernels allocate nothing per frame once every
 * node has run on every worker. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* At least size bytes, owned by the calling thread, valid until its next
 * call; freed when the thread ends. */
gpointer cfqp_int8_cpu_scratch (gsize size);

G_END_DECLS
