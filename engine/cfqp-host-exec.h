/* The host executor core (internal): one graph run on the CPU over a
 * memory plan, for any element size — the u8 tensors of INT8 and the float
 * tensors of FP32 go through the same code; what each node computes is a
 * callback the precision supplies (cfqp-int8-exec.c, cfqp-f32-exec.c).
 *
 * Slots follow a CfqpPlan (reused by liveness) in one arena that only
 * grows, so frames of a fixed size allocate nothing.  Two orders, the same
 * results as long as every node computes each output row from its inputs
 * alone (true of every INT8 and FP32 kernel; tests/engine/test-stripes.c):
 * layer by layer (each node over the whole frame, its rows spread over the
 * workers), or stripes (cfqp-stripes.h: each worker takes horizontal
 * stripes of the output and runs every node on its stripe plus halo rows,
 * in buffers of its own planned once per frame size).  With profile set,
 * per-node wall times and conv MACs are summed over runs and printed to
 * stderr when the executor is freed. */
#pragma once

#include "cfqp-engine.h"
#include "cfqp-plan.h"
#include "cfqp-view.h"
#include "cfqp-workers.h"

G_BEGIN_DECLS

typedef struct _CfqpHostExec CfqpHostExec;

/* AUTO: no stripes whose halos recompute more than this fraction of the work */
#define CFQP_STRIPES_MAX_RECOMPUTE 0.10

/* Computes output rows [y0, y1) of graph node `node` (inputs: its inputs'
 * views, in order).  Called from any worker thread. */
typedef void (*CfqpHostNodeFunc) (gpointer user, guint node, const CfqpView *inputs,
                                  const CfqpView *output, guint y0, guint y1);

typedef struct {
  const char      *precision;     /* "int8", "fp32": debug and profile lines */
  const char      *kernels;       /* the kernel set's name, in the profile summary */
  gsize            element_size;  /* bytes */
  CfqpHostNodeFunc run_node;
  gpointer         user;          /* run_node's; outlives the executor */
  /* check_scale: refuse a frame size whose output is not scale/scale_den
   * × the input (scale 0 refuses every size; scale_den 0 counts as 1),
   * before any node runs */
  gboolean         check_scale;
  guint            scale, scale_den;
  gint             stripe_rows;   /* CFQP_STRIPES_AUTO, CFQP_STRIPES_OFF or output rows */
  gboolean         profile;
} CfqpHostExecConfig;

/* graph, config->user and workers are borrowed. */
CfqpHostExec *cfqp_host_exec_new   (const CfqpGraph *graph, const CfqpHostExecConfig *config,
                                    CfqpWorkers *workers);
/* Prints the profile, if asked and anything ran. */
void          cfqp_host_exec_free  (CfqpHostExec *exec);
/* in: the input tensor (C×H×W elements, read only), out: the output tensor. */
gboolean      cfqp_host_exec_run   (CfqpHostExec *exec, gconstpointer in, guint width,
                                    guint height, gpointer out, GError **error);
/* The output shape of the last size planned; NULL before the first run. */
const CfqpShape *cfqp_host_exec_output_shape (CfqpHostExec *exec);
/* CFQP_STRIPES_AUTO, _OFF, or stripes of rows output rows (graphs stripes
 * cannot run go layer by layer whatever is asked); from the next run. */
void          cfqp_host_exec_set_stripe_rows (CfqpHostExec *exec, gint rows);
/* The stripe height of the last run; 0: it ran layer by layer. */
guint         cfqp_host_exec_get_stripe_rows (CfqpHostExec *exec);
/* With profile: runs so far, and per node its summed wall ms (NULL without). */
const double *cfqp_host_exec_get_node_ms (CfqpHostExec *exec, guint *runs);

G_END_DECLS
