/* INT8 (and INT16) execution of a graph over planar tensors (internal): a kernel
 * set (CfqpInt8Backend, chosen at creation: ref, or a faster set bit-exact
 * with it) run by the host executor core (cfqp-host-exec.h) on one-byte
 * elements, under a program (scales) that can be swapped between frames.
 * Layer by layer or in stripes, the same bytes.  A 16-bit program runs on
 * two-byte elements behind the same byte interface. */
#pragma once

#include "cfqp-host-exec.h"
#include "cfqp-int8.h"

G_BEGIN_DECLS

typedef struct _CfqpInt8Exec CfqpInt8Exec;

/* stripe_rows: CFQP_STRIPES_AUTO, _OFF or rows (cfqp_host_exec_set_stripe_rows);
 * profile: per-node times printed to stderr when the exec is freed. */
CfqpInt8Exec *cfqp_int8_exec_new      (const CfqpGraph *graph, const CfqpInt8Backend *backend,
                                       CfqpWorkers *workers, gint stripe_rows,
                                       gboolean profile);
/* The same for programs of bits-wide activations (8 or 16; 16 needs a set
 * with ops16).  run still takes and gives pixel bytes. */
CfqpInt8Exec *cfqp_int8_exec_new_bits (const CfqpGraph *graph, const CfqpInt8Backend *backend,
                                       guint bits, CfqpWorkers *workers, gint stripe_rows,
                                       gboolean profile);
void          cfqp_int8_exec_free     (CfqpInt8Exec *exec);
/* Takes ownership of program (packing it for the backend; its bits are the
 * exec's); the previous one is freed. */
void          cfqp_int8_exec_set_program (CfqpInt8Exec *exec, CfqpInt8Program *program);
/* The same, the caller keeping program (alive until the next set or the
 * exec's free); the exec still packs into it and frees what it packed. */
void          cfqp_int8_exec_borrow_program (CfqpInt8Exec *exec, CfqpInt8Program *program);
const CfqpInt8Program *cfqp_int8_exec_get_program (CfqpInt8Exec *exec);
/* in: C×H×W bytes of the input tensor, out: the output tensor's bytes. */
gboolean      cfqp_int8_exec_run      (CfqpInt8Exec *exec, const guint8 *in, guint width,
                                       guint height, guint8 *out, GError **error);
/* The host executor underneath: output shape, stripe height, profile. */
CfqpHostExec *cfqp_int8_exec_get_host (CfqpInt8Exec *exec);

G_END_DECLS
