/* Stripe planning: rows per value and stripe, buffers by liveness.  The
 * rows an op reads are its row of the op table (input_rows). */
#include "cfqp-stripes.h"
#include "cfqp-op-table.h"

#include <string.h>
#include <unistd.h>

#define FALLBACK_L2 (1024 * 1024)

gsize
cfqp_stripes_l2_bytes (void)
{
#ifdef _SC_LEVEL2_CACHE_SIZE
  long n = sysconf (_SC_LEVEL2_CACHE_SIZE);
  if (n > 0)
    return (gsize) n;
#endif
  return FALLBACK_L2;
}

gboolean
cfqp_stripes_supported (const CfqpGraph *graph, const char **why)
{
  const char *dummy;

  if (!why)
    why = &dummy;
  if (graph->output == 0) {
    *why = "the output is the input";
    return FALSE;
  }
  if (cfqp_graph_count_consumers (graph, graph->output) > 0) {
    *why = "the output is also read by a node";
    return FALSE;
  }
  for (guint i = 0; i < graph->n_nodes; i++)
    if (!cfqp_op_info (graph->nodes[i].op)) {
      *why = cfqp_op_type_to_string (graph->nodes[i].op);
      return FALSE;
    }
  return TRUE;
}

CfqpRows
cfqp_stripes_input_rows (const CfqpNode *node, guint k, const CfqpShape *shapes, CfqpRows out)
{
  const CfqpShape *in = &shapes[node->inputs[k]];
  const CfqpOpInfo *info = cfqp_op_info (node->op);
  gint64 lo = out.y0, hi = out.y1;   /* [lo, hi) before clipping */

  if (out.y0 >= out.y1)
    return (CfqpRows) { 0, 0 };
  if (info->input_rows)
    info->input_rows (node, in, out.y0, out.y1, &lo, &hi);
  lo = CLAMP (lo, 0, (gint64) in->h);
  hi = CLAMP (hi, lo, (gint64) in->h);
  if (lo >= hi)
    return (CfqpRows) { 0, 0 };
  return (CfqpRows) { (guint) lo, (guint) hi };
}

static void
rows_union (CfqpRows *a, CfqpRows b)
{
  if (b.y0 >= b.y1)
    return;
  if (a->y0 >= a->y1) {
    *a = b;
    return;
  }
  a->y0 = MIN (a->y0, b.y0);
  a->y1 = MAX (a->y1, b.y1);
}

/* Rows of every value for output rows [y0, y1). */
static void
derive (const CfqpGraph *graph, const CfqpShape *shapes, guint y0, guint y1, CfqpRows *rows)
{
  memset (rows, 0, graph->n_values * sizeof *rows);
  rows[graph->output] = (CfqpRows) { y0, y1 };
  for (guint i = graph->n_nodes; i-- > 0;) {
    const CfqpNode *node = &graph->nodes[i];
    for (guint k = 0; k < node->n_inputs; k++)
      rows_union (&rows[node->inputs[k]],
          cfqp_stripes_input_rows (node, k, shapes, rows[node->output]));
  }
}

/* Work of one output row of a node, in the units that matter: MACs for an
 * op that multiplies (its row of the op table has macs), bytes written for
 * the rest. */
static double
row_cost (const CfqpNode *node, const CfqpShape *shapes)
{
  const CfqpOpInfo *info = cfqp_op_info (node->op);
  const CfqpShape *o = &shapes[node->output];

  if (info->macs)
    return info->macs (node, &shapes[node->inputs[0]], o) / o->h;
  return (double) o->c * o->w;
}

void
cfqp_stripe_plan_clear (CfqpStripePlan *sp)
{
  g_free (sp->value_rows);
  g_free (sp->cap);
  g_free (sp->slot_of_value);
  g_free (sp->slot_elements);
  g_free (sp->slot_offset);
  memset (sp, 0, sizeof *sp);
}

void
cfqp_stripe_plan_build (CfqpStripePlan *sp, const CfqpGraph *graph, const CfqpShape *shapes,
    guint rows)
{
  guint out_h = shapes[graph->output].h, nv = graph->n_values;
  g_autofree gsize *elements = g_new (gsize, nv);
  double work = 0, whole = 0;

  cfqp_stripe_plan_clear (sp);
  rows = CLAMP (rows, 1, MAX (out_h, 1));
  sp->rows = rows;
  sp->n_stripes = (out_h + rows - 1) / rows;
  sp->n_values = nv;
  sp->value_rows = g_new (CfqpRows, (gsize) sp->n_stripes * nv);
  sp->cap = g_new0 (guint, nv);
  for (guint s = 0; s < sp->n_stripes; s++) {
    CfqpRows *r = sp->value_rows + (gsize) s * nv;
    derive (graph, shapes, s * rows, MIN (out_h, (s + 1) * rows), r);
    for (guint v = 0; v < nv; v++)
      sp->cap[v] = MAX (sp->cap[v], r[v].y1 > r[v].y0 ? r[v].y1 - r[v].y0 : 0);
    for (guint i = 0; i < graph->n_nodes; i++) {
      CfqpRows o = r[graph->nodes[i].output];
      if (o.y1 > o.y0)
        work += (o.y1 - o.y0) * row_cost (&graph->nodes[i], shapes);
    }
  }
  for (guint i = 0; i < graph->n_nodes; i++)
    whole += shapes[graph->nodes[i].output].h * row_cost (&graph->nodes[i], shapes);
  sp->recompute = whole > 0 ? work / whole - 1 : 0;
  for (guint v = 0; v < nv; v++)
    elements[v] = (gsize) shapes[v].c * sp->cap[v] * shapes[v].w;
  sp->slot_of_value = g_new (guint, nv);
  sp->slot_elements = g_new0 (gsize, graph->n_nodes + 1);
  sp->n_slots = cfqp_plan_assign_slots (graph, elements, sp->slot_of_value, sp->slot_elements);
  sp->slot_offset = g_new (gsize, MAX (sp->n_slots, 1));
  sp->bytes = 0;
  for (guint s = 0; s < sp->n_slots; s++) {
    sp->slot_offset[s] = sp->bytes;
    sp->bytes += (sp->slot_elements[s] + CFQP_STRIPE_ALIGN - 1) / CFQP_STRIPE_ALIGN *
        CFQP_STRIPE_ALIGN;
  }
}

guint
cfqp_stripes_choose_rows (const CfqpGraph *graph, const CfqpShape *shapes, gsize budget,
    double max_recompute, guint n_threads)
{
  guint out_h = shapes[graph->output].h, in_h = shapes[0].h;
  /* stripes of whole input rows when the output is an integer multiple */
  guint step = in_h && out_h % in_h == 0 ? out_h / in_h : 1;
  guint n_steps = MAX ((out_h + step - 1) / step, 1), lo = 1, hi = n_steps, fit = 0, rows;
  CfqpStripePlan sp = { 0 };
  gboolean ok;

  /* the most steps that fit the budget */
  while (lo <= hi) {
    guint mid = lo + (hi - lo) / 2;
    cfqp_stripe_plan_build (&sp, graph, shapes, mid * step);
    if (sp.bytes <= budget) {
      fit = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  if (fit == 0) {
    cfqp_stripe_plan_clear (&sp);
    return 0;
  }
  rows = fit * step;
  if (n_threads > 1)
    rows = MIN (rows, (out_h + n_threads - 1) / n_threads);
  /* the tallest stripe that fits still recomputes too much: halos cost
   * more than the cache saves (docs/performance.md, "Stripes") */
  cfqp_stripe_plan_build (&sp, graph, shapes, rows);
  ok = sp.recompute <= max_recompute;
  cfqp_stripe_plan_clear (&sp);
  return ok ? MAX (rows, 1) : 0;
}
