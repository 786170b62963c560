/* INT8 execution of a graph over planar uint8 tensors (internal).
 *
 * Follows a CfqpPlan like the FP32 runner: slots reused by liveness in one
 * byte arena that only grows, node rows spread over the worker pool.  The
 * kernel table is chosen at creation (ref, or a faster set bit-exact with
 * it); the program (scales) can be swapped between frames. */
#pragma once

#include "cfqp-int8.h"
#include "cfqp-plan.h"
#include "cfqp-workers.h"

G_BEGIN_DECLS

typedef struct _CfqpInt8Exec CfqpInt8Exec;

CfqpInt8Exec *cfqp_int8_exec_new      (const CfqpGraph *graph, const CfqpInt8Backend *backend,
                                       CfqpWorkers *workers);
void          cfqp_int8_exec_free     (CfqpInt8Exec *exec);
/* Takes ownership of program (packing it for the backend); the previous
 * one is freed. */
void          cfqp_int8_exec_set_program (CfqpInt8Exec *exec, CfqpInt8Program *program);
const CfqpInt8Program *cfqp_int8_exec_get_program (CfqpInt8Exec *exec);
/* in: C×H×W bytes of the input tensor, out: the output tensor's bytes. */
gboolean      cfqp_int8_exec_run      (CfqpInt8Exec *exec, const guint8 *in, guint width,
                                       guint height, guint8 *out, GError **error);
const CfqpShape *cfqp_int8_exec_output_shape (CfqpInt8Exec *exec);

G_END_DECLS
