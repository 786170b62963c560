/* FP32 on the host executor core (internal): the FP32 kernels
 * (cfqp-f32-kernels.h) as the core's node callback, four-byte elements.
 * Stripes give the same floats as layer by layer: every FP32 kernel
 * computes each output row from its inputs alone, in the same order. */
#pragma once

#include "cfqp-host-exec.h"

G_BEGIN_DECLS

/* output = scale/scale_den × input (scale_den 0 or 1: an integer
 * scale), other sizes refused (scale 0: any size).  graph and workers are
 * borrowed. */
CfqpHostExec *cfqp_f32_host_exec_new (const CfqpGraph *graph, guint scale, guint scale_den,
                                      CfqpWorkers *workers, gint stripe_rows,
                                      gboolean profile);

G_END_DECLS
