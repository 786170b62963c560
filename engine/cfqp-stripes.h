/* Stripe plan of a graph for one frame size (internal, backend-neutral).
 *
 * The graph output is cut into horizontal stripes of `rows` rows.  For each
 * stripe, the rows every value must hold are derived backwards through the
 * DAG from the rows each node's kernel reads (conv: stride, kernel,
 * dilation, padding → halo rows; depth-to-space/space-to-depth: ÷/× block;
 * resize: ÷ scale; add, concat, activation, tile: the same rows), the union
 * over a value's readers.  Rows are frame coordinates, clipped to the
 * frame: a kernel pads only at the real frame edge, so a stripe's bytes
 * are the whole frame's.  Halo rows are recomputed by every stripe that
 * needs them.
 *
 * Per value, a buffer of the most rows any stripe holds; these share slots
 * by liveness like the whole-frame plan (cfqp_plan_assign_slots), so one
 * worker's stripe needs `bytes` bytes.  The graph input and output stay
 * external: stripes read the input frame and write their rows of the output
 * frame in place.
 */
#pragma once

#include "cfqp-plan.h"

G_BEGIN_DECLS

#define CFQP_STRIPE_ALIGN 64

/* Rows [y0, y1) of a value; empty when y0 >= y1. */
typedef struct {
  guint y0, y1;
} CfqpRows;

typedef struct {
  guint     rows;            /* output rows per stripe; 0: no plan */
  guint     n_stripes;
  guint     n_values;
  CfqpRows *value_rows;      /* [stripe · n_values + value] */
  guint    *cap;             /* per value: the most rows a stripe holds */
  guint    *slot_of_value;   /* per value; CFQP_PLAN_EXTERNAL for input and output */
  guint     n_slots;
  gsize    *slot_elements;   /* per slot, bytes (elements) */
  gsize    *slot_offset;     /* per slot, in one worker's buffer, CFQP_STRIPE_ALIGN'd */
  gsize     bytes;           /* one worker's buffer */
  double    recompute;       /* work of all stripes over the whole frame's, minus 1 */
} CfqpStripePlan;

/* Whether every node has a row mapping and the output is read by no node
 * (stripes write it in place).  why (optional): the reason when not. */
gboolean cfqp_stripes_supported     (const CfqpGraph *graph, const char **why);
/* Input k's rows that node needs for output rows out (clipped to the frame). */
CfqpRows cfqp_stripes_input_rows    (const CfqpNode *node, guint k, const CfqpShape *shapes,
                                     CfqpRows out);
/* Builds sp for stripes of rows output rows (clamped to 1..output height). */
void     cfqp_stripe_plan_build     (CfqpStripePlan *sp, const CfqpGraph *graph,
                                     const CfqpShape *shapes, guint rows);
void     cfqp_stripe_plan_clear     (CfqpStripePlan *sp);
/* The stripe height: the tallest stripe (a multiple of the graph's row
 * scale) whose buffer fits budget bytes, no taller than shares the frame
 * among n_threads; 0 (layer by layer) when none fits or that stripe's
 * halos recompute more than max_recompute of the frame's work. */
guint    cfqp_stripes_choose_rows   (const CfqpGraph *graph, const CfqpShape *shapes,
                                     gsize budget, double max_recompute, guint n_threads);
/* This CPU's L2 size per core (sysconf), or 1 MiB when it does not say. */
gsize    cfqp_stripes_l2_bytes      (void);

G_END_DECLS
