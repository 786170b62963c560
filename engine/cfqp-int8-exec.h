/* INT8 execution of a graph over planar uint8 tensors (internal).
 *
 * Follows a CfqpPlan like the FP32 runner: slots reused by liveness in one
 * byte arena that only grows, node rows spread over the worker pool.  The
 * kernel table is chosen at creation (ref, or a faster set bit-exact with
 * it); the program (scales) can be swapped between frames.
 *
 * Two orders, the same bytes: layer by layer (each node over the whole
 * frame, its rows spread over the workers), or stripes (cfqp-stripes.h:
 * each worker takes horizontal stripes of the output and runs every node
 * on its stripe plus halo rows, in buffers of its own planned once per
 * frame size).  $CFQP_INT8_STRIPES ("off" or "0", "auto", or a stripe
 * height in output rows) sets the initial choice. */
#pragma once

#include "cfqp-int8.h"
#include "cfqp-plan.h"
#include "cfqp-workers.h"

G_BEGIN_DECLS

typedef struct _CfqpInt8Exec CfqpInt8Exec;

/* stripes where one fits half the L2 (cfqp_stripes_choose_rows), else layer by layer */
#define CFQP_INT8_STRIPES_AUTO  (-1)
#define CFQP_INT8_STRIPES_OFF   0      /* layer by layer */
/* What an exec does unless told otherwise. */
#define CFQP_INT8_STRIPES_DEFAULT CFQP_INT8_STRIPES_AUTO
/* AUTO: no stripes whose halos recompute more than this fraction of the work */
#define CFQP_INT8_STRIPES_MAX_RECOMPUTE 0.10

CfqpInt8Exec *cfqp_int8_exec_new      (const CfqpGraph *graph, const CfqpInt8Backend *backend,
                                       CfqpWorkers *workers);
void          cfqp_int8_exec_free     (CfqpInt8Exec *exec);
/* Takes ownership of program (packing it for the backend); the previous
 * one is freed. */
void          cfqp_int8_exec_set_program (CfqpInt8Exec *exec, CfqpInt8Program *program);
/* The same, the caller keeping program (alive until the next set or the
 * exec's free); the exec still packs into it and frees what it packed. */
void          cfqp_int8_exec_borrow_program (CfqpInt8Exec *exec, CfqpInt8Program *program);
const CfqpInt8Program *cfqp_int8_exec_get_program (CfqpInt8Exec *exec);
/* in: C×H×W bytes of the input tensor, out: the output tensor's bytes. */
gboolean      cfqp_int8_exec_run      (CfqpInt8Exec *exec, const guint8 *in, guint width,
                                       guint height, guint8 *out, GError **error);
const CfqpShape *cfqp_int8_exec_output_shape (CfqpInt8Exec *exec);
/* CFQP_INT8_STRIPES_AUTO, _OFF, or stripes of rows output rows (graphs
 * stripes cannot run go layer by layer whatever is asked); from the next run. */
void          cfqp_int8_exec_set_stripe_rows (CfqpInt8Exec *exec, gint rows);
/* The stripe height of the last run; 0: it ran layer by layer. */
guint         cfqp_int8_exec_get_stripe_rows (CfqpInt8Exec *exec);

G_END_DECLS
