/* FP32 on the host executor core (internal): the FP32 kernels
 * (cfqp-f32-kernels.h) as the core's node callback, four-byte elements.
 * Stripes give the same floats as layer by layer: every FP32 kernel
 * computes each output row from its inputs alone, in the same order. */
#pragma once

#include "cfqp-host-exec.h"

G_BEGIN_DECLS

/* scale: output = scale × input, other sizes refused (0: any size).
 * graph and workers are borrowed. */
CfqpHostExec *cfqp_f32_host_exec_new (const CfqpGraph *graph, guint scale,
                                      CfqpWorkers *workers, gint stripe_rows,
                                      gboolean profile);

G_END_DECLS
