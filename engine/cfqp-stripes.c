/* Stripe planning: rows per value and stripe, buffers by liveness. */
#include "cfqp-stripes.h"

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
    switch (graph->nodes[i].op) {
      case CFQP_OP_CONV:
      case CFQP_OP_CONV_TRANSPOSE:
      case CFQP_OP_ACTIVATION:
      case CFQP_OP_BINARY:
      case CFQP_OP_CONCAT:
      case CFQP_OP_DEPTH_TO_SPACE:
      case CFQP_OP_SPACE_TO_DEPTH:
      case CFQP_OP_RESIZE_NEAREST:
      case CFQP_OP_TILE_CHANNELS:
        break;
      default:
        *why = cfqp_op_type_to_string (graph->nodes[i].op);
        return FALSE;
    }
  return TRUE;
}

static gint64
floor_div (gint64 a, gint64 b)
{
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

CfqpRows
cfqp_stripes_input_rows (const CfqpNode *node, guint k, const CfqpShape *shapes, CfqpRows out)
{
  const CfqpShape *in = &shapes[node->inputs[k]];
  gint64 lo, hi;   /* [lo, hi) before clipping */

  if (out.y0 >= out.y1)
    return (CfqpRows) { 0, 0 };
  switch (node->op) {
    case CFQP_OP_CONV: {
      /* output row oy reads oy·s − pt + ky·d, ky in [0, kh) */
      const CfqpConvParams *cp = &node->p.conv;
      guint pt, pl, pb, pr;
      cfqp_conv_resolve_pads (cp, in->h, in->w, &pt, &pl, &pb, &pr);
      lo = (gint64) out.y0 * cp->stride_h - pt;
      hi = (gint64) (out.y1 - 1) * cp->stride_h - pt + (gint64) (cp->kernel_h - 1) *
          cp->dilation_h + 1;
      break;
    }
    case CFQP_OP_CONV_TRANSPOSE: {
      /* output row oy reads (oy + pt − ky·d) / s where that divides */
      const CfqpConvParams *cp = &node->p.conv;
      guint pt, pl, pb, pr;
      gint64 n_lo, n_hi;
      cfqp_conv_transpose_resolve_pads (cp, &pt, &pl, &pb, &pr);
      n_lo = (gint64) out.y0 + pt - (gint64) (cp->kernel_h - 1) * cp->dilation_h;
      n_hi = (gint64) out.y1 - 1 + pt;
      lo = -floor_div (-MAX (n_lo, 0), cp->stride_h);   /* ceil */
      hi = n_hi < 0 ? lo : floor_div (n_hi, cp->stride_h) + 1;
      break;
    }
    case CFQP_OP_DEPTH_TO_SPACE:
      lo = out.y0 / node->p.shuffle.block;
      hi = (out.y1 - 1) / node->p.shuffle.block + 1;
      break;
    case CFQP_OP_SPACE_TO_DEPTH:
      lo = (gint64) out.y0 * node->p.shuffle.block;
      hi = (gint64) out.y1 * node->p.shuffle.block;
      break;
    case CFQP_OP_RESIZE_NEAREST:
      lo = out.y0 / node->p.resize.scale_h;
      hi = (out.y1 - 1) / node->p.resize.scale_h + 1;
      break;
    default:   /* activation, binary, concat, tile: row for row */
      lo = out.y0;
      hi = out.y1;
      break;
  }
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

/* Work of one output row of a node, in the units that matter: MACs for a
 * conv, bytes written for the rest. */
static double
row_cost (const CfqpNode *node, const CfqpShape *shapes)
{
  const CfqpShape *o = &shapes[node->output];
  if (node->op == CFQP_OP_CONV || node->op == CFQP_OP_CONV_TRANSPOSE) {
    const CfqpConvParams *cp = &node->p.conv;
    return (double) o->c * o->w * (cp->in_channels / cp->groups) * cp->kernel_h *
        cp->kernel_w;
  }
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
