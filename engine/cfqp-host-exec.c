/* The host executor core of cfqp-host-exec.h: the plan and its arena, the
 * stripe plan and the workers' stripe buffers, the node jobs of both orders
 * and the profile.  Sizes from the plans are in elements; everything here
 * is in bytes, the element size applied once where a plan is read. */
#include "cfqp-host-exec.h"
#include "cfqp-stripes.h"

#include <string.h>
#include <time.h>

#define ARENA_ALIGN 64

struct _CfqpHostExec {
  const CfqpGraph    *graph;
  CfqpHostExecConfig  cfg;
  CfqpWorkers        *workers;   /* not owned */
  guint               n_threads;
  guint               max_inputs;
  CfqpPlan            plan;
  guint8             *arena_block, *arena;
  gsize               arena_capacity, arena_needed;   /* bytes */
  gsize              *slot_offset;                    /* per plan slot, bytes */
  CfqpView           *views;          /* per value, layer by layer */
  CfqpView           *node_inputs;    /* [max_inputs] */
  /* Stripes: what was asked, whether the graph allows them, the plan for
   * the current size (rows 0: layer by layer) and per worker its buffer,
   * views and input views. */
  gint                stripes_asked;
  gboolean            stripes_ok;
  CfqpStripePlan      stripes;
  gboolean            stripes_fresh;   /* stripes is for plan's size and stripes_asked */
  guint8             *stripe_block, *stripe_arena;
  gsize               stripe_capacity, stripe_worker_bytes;
  CfqpView           *stripe_views;    /* [worker · n_values] */
  CfqpView           *stripe_inputs;   /* [worker · max_inputs] */
  /* profile: per node, wall time, the process's CPU time (every worker's:
   * on a shared machine the figure that holds) and MACs over all runs */
  double             *node_ms;
  double             *node_cpu_ms;
  double             *node_macs;
  double              frame_ms;
  guint               runs;
};

static gsize
align_up (gsize n)
{
  return (n + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
}

static guint8 *
align_ptr (guint8 *p)
{
  return (guint8 *) (((guintptr) p + ARENA_ALIGN - 1) & ~(guintptr) (ARENA_ALIGN - 1));
}

CfqpHostExec *
cfqp_host_exec_new (const CfqpGraph *graph, const CfqpHostExecConfig *config,
    CfqpWorkers *workers)
{
  CfqpHostExec *e = g_new0 (CfqpHostExec, 1);
  const char *why_not = NULL;

  e->graph = graph;
  e->cfg = *config;
  e->workers = workers;
  e->n_threads = cfqp_workers_get_n_threads (workers);
  e->max_inputs = 1;
  for (guint i = 0; i < graph->n_nodes; i++)
    e->max_inputs = MAX (e->max_inputs, graph->nodes[i].n_inputs);
  e->views = g_new0 (CfqpView, graph->n_values);
  e->node_inputs = g_new0 (CfqpView, e->max_inputs);
  e->stripe_views = g_new0 (CfqpView, (gsize) e->n_threads * graph->n_values);
  e->stripe_inputs = g_new0 (CfqpView, (gsize) e->n_threads * e->max_inputs);
  e->stripes_ok = cfqp_stripes_supported (graph, &why_not);
  e->stripes_asked = config->stripe_rows;
  if (!e->stripes_ok)
    g_debug ("%s: layer by layer only: %s", config->precision, why_not);
  if (config->profile) {
    e->node_ms = g_new0 (double, graph->n_nodes);
    e->node_cpu_ms = g_new0 (double, graph->n_nodes);
    e->node_macs = g_new0 (double, graph->n_nodes);
  }
  return e;
}

/* CPU time of every thread of the process, ms */
static double
process_cpu_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void
print_profile (CfqpHostExec *e)
{
  const char *p = e->cfg.precision;
  double conv_ms = 0, conv_cpu = 0, conv_macs = 0, total = 0, total_cpu = 0;

  for (guint i = 0; i < e->graph->n_nodes; i++) {
    const CfqpNode *node = &e->graph->nodes[i];
    total += e->node_ms[i];
    total_cpu += e->node_cpu_ms[i];
    if (node->op == CFQP_OP_CONV) {
      conv_ms += e->node_ms[i];
      conv_cpu += e->node_cpu_ms[i];
      conv_macs += e->node_macs[i];
    }
    g_printerr ("%s profile: node %u '%s' (%s): %.3f ms/run, cpu %.3f ms/run%s", p, i,
        node->name, cfqp_op_type_to_string (node->op), e->node_ms[i] / e->runs,
        e->node_cpu_ms[i] / e->runs, e->node_macs[i] > 0 ? "" : "\n");
    if (e->node_macs[i] > 0)
      g_printerr (", %.1f GMAC/s, %.1f GMAC/s per CPU-s\n",
          e->node_macs[i] / (e->node_ms[i] * 1e6), e->node_macs[i] / (e->node_cpu_ms[i] * 1e6));
  }
  g_printerr ("%s profile: %u runs (%s, %s): frame %.3f ms/run; all nodes %.3f ms/run, "
      "cpu %.3f ms/run; convs %.3f ms/run, cpu %.3f ms/run (%.0f %% of the nodes' cpu), "
      "%.1f GMAC/s (wall, all workers), %.1f GMAC/s per CPU-s%s\n", p, e->runs, e->cfg.kernels,
      e->stripes.rows ? "stripes" : "layer by layer", e->frame_ms / e->runs, total / e->runs,
      total_cpu / e->runs, conv_ms / e->runs, conv_cpu / e->runs,
      100 * conv_cpu / MAX (total_cpu, 1e-9), conv_macs / (conv_ms * 1e6),
      conv_macs / (conv_cpu * 1e6),
      e->stripes.rows && e->n_threads > 1 ? " (stripes on several threads: no "
      "per-node times)" : "");
}

void
cfqp_host_exec_free (CfqpHostExec *e)
{
  if (!e)
    return;
  if (e->cfg.profile && e->runs)
    print_profile (e);
  g_free (e->node_ms);
  g_free (e->node_cpu_ms);
  g_free (e->node_macs);
  cfqp_plan_clear (&e->plan);
  g_free (e->arena_block);
  g_free (e->slot_offset);
  g_free (e->views);
  g_free (e->node_inputs);
  cfqp_stripe_plan_clear (&e->stripes);
  g_free (e->stripe_block);
  g_free (e->stripe_views);
  g_free (e->stripe_inputs);
  g_free (e);
}

const CfqpShape *
cfqp_host_exec_output_shape (CfqpHostExec *e)
{
  return e->plan.shapes ? &e->plan.shapes[e->graph->output] : NULL;
}

void
cfqp_host_exec_set_stripe_rows (CfqpHostExec *e, gint rows)
{
  e->stripes_asked = MAX (rows, CFQP_STRIPES_OFF);
  e->stripes_fresh = FALSE;
}

guint
cfqp_host_exec_get_stripe_rows (CfqpHostExec *e)
{
  return e->stripes.rows;
}

const double *
cfqp_host_exec_get_node_ms (CfqpHostExec *e, guint *runs)
{
  if (runs)
    *runs = e->runs;
  return e->node_ms;
}

/* Plans for width × height: slot offsets only, the arena comes with the
 * first layer-by-layer run (stripe runs never need it). */
static gboolean
prepare (CfqpHostExec *e, guint width, guint height, GError **error)
{
  CfqpPlan *plan = &e->plan;
  const CfqpShape *out;
  gsize total = 0;

  if (plan->width == width && plan->height == height)
    return TRUE;
  e->stripes_fresh = FALSE;
  if (!cfqp_plan_update (plan, e->graph, width, height, error))
    return FALSE;
  /* Callers size the output for scale/scale_den × the input.  Strided
   * convolutions can break that at some sizes (SAME padding, stride 2, odd
   * width): refuse instead of writing past the caller's buffer. */
  out = &plan->shapes[e->graph->output];
  if (e->cfg.check_scale && (e->cfg.scale == 0 ||
          !cfqp_is_upscale (out->w, out->h, width, height, e->cfg.scale, e->cfg.scale_den))) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID,
        "output is %u×%u for a %u×%u input, not a ×%u/%u upscale", out->w, out->h, width,
        height, e->cfg.scale, MAX (e->cfg.scale_den, 1));
    cfqp_plan_clear (plan);
    return FALSE;
  }
  e->slot_offset = g_renew (gsize, e->slot_offset, MAX (plan->n_slots, 1));
  for (guint s = 0; s < plan->n_slots; s++) {
    e->slot_offset[s] = total;
    total += align_up (plan->slot_elements[s] * e->cfg.element_size);
  }
  e->arena_needed = total;
  return TRUE;
}

static void
ensure_arena (CfqpHostExec *e)
{
  if (e->arena_needed > e->arena_capacity || !e->arena_block) {
    g_free (e->arena_block);
    e->arena_block = g_malloc (e->arena_needed + ARENA_ALIGN);
    e->arena = align_ptr (e->arena_block);
    e->arena_capacity = e->arena_needed;
    g_debug ("%s: layer by layer, %" G_GSIZE_FORMAT " bytes for %u slots", e->cfg.precision,
        e->arena_needed, e->plan.n_slots);
  }
}

/* The stripe plan for the current size, and the workers' buffers: built
 * when the size or the asked height changes, never per frame. */
static void
ensure_stripes (CfqpHostExec *e)
{
  const CfqpShape *shapes = e->plan.shapes;
  gsize es = e->cfg.element_size, need;
  guint rows;

  if (e->stripes_fresh)
    return;
  e->stripes_fresh = TRUE;
  cfqp_stripe_plan_clear (&e->stripes);
  if (!e->stripes_ok || e->stripes_asked == CFQP_STRIPES_OFF)
    return;
  /* the stripe plan counts elements: the budget too */
  rows = e->stripes_asked > 0 ? (guint) e->stripes_asked :
      cfqp_stripes_choose_rows (e->graph, shapes, cfqp_stripes_l2_bytes () / 2 / es,
          CFQP_STRIPES_MAX_RECOMPUTE, e->n_threads);
  if (rows == 0) {
    g_debug ("%s: no stripe of the %u-row output fits half the L2 with under %.0f %% "
        "recomputed: layer by layer", e->cfg.precision, shapes[e->graph->output].h,
        CFQP_STRIPES_MAX_RECOMPUTE * 100);
    return;
  }
  cfqp_stripe_plan_build (&e->stripes, e->graph, shapes, rows);
  e->stripe_worker_bytes = align_up (e->stripes.bytes * es) + ARENA_ALIGN;
  need = e->stripe_worker_bytes * e->n_threads;
  if (need > e->stripe_capacity) {
    g_free (e->stripe_block);
    e->stripe_block = g_malloc (need + ARENA_ALIGN);
    e->stripe_arena = align_ptr (e->stripe_block);
    e->stripe_capacity = need;
  }
  g_debug ("%s: %u×%u output in %u stripes of %u rows, %" G_GSIZE_FORMAT
      " bytes per worker, %.1f %% recomputed", e->cfg.precision, shapes[e->graph->output].w,
      shapes[e->graph->output].h, e->stripes.n_stripes, e->stripes.rows,
      e->stripes.bytes * es, e->stripes.recompute * 100);
}

static void
set_view (CfqpView *view, const CfqpShape *s, gpointer data, guint rows)
{
  view->data = data;
  view->c = s->c;
  view->h = s->h;
  view->w = s->w;
  view->row_stride = s->w;
  view->plane_stride = (gsize) s->w * rows;
}

/* One stripe through every node, in topological order, on worker's buffer:
 * each value's view is windowed onto its rows, so kernels address rows in
 * frame coordinates and see the frame's height (padding at its edges only). */
static void
run_stripe (CfqpHostExec *e, guint worker, guint stripe)
{
  const CfqpGraph *g = e->graph;
  const CfqpStripePlan *sp = &e->stripes;
  gsize es = e->cfg.element_size;
  guint nv = g->n_values;
  CfqpView *views = e->stripe_views + (gsize) worker * nv;
  CfqpView *inputs = e->stripe_inputs + (gsize) worker * e->max_inputs;
  guint8 *arena = e->stripe_arena + worker * e->stripe_worker_bytes;
  const CfqpRows *rows = sp->value_rows + (gsize) stripe * nv;
  gboolean timed = e->cfg.profile && e->n_threads == 1;

  for (guint v = 0; v < nv; v++) {
    guint slot = sp->slot_of_value[v];
    const CfqpShape *s = &e->plan.shapes[v];
    if (slot == CFQP_PLAN_EXTERNAL) {
      views[v] = e->views[v];
      continue;
    }
    /* row y0 of the value sits at the slot's start */
    set_view (&views[v], s, (gpointer) ((guintptr) (arena + sp->slot_offset[slot] * es) -
            (guintptr) rows[v].y0 * s->w * es), sp->cap[v]);
  }
  for (guint i = 0; i < g->n_nodes; i++) {
    const CfqpNode *node = &g->nodes[i];
    CfqpRows r = rows[node->output];
    gint64 t0;
    double c0;
    if (r.y0 >= r.y1)
      continue;
    t0 = timed ? g_get_monotonic_time () : 0;
    c0 = timed ? process_cpu_ms () : 0;
    for (guint k = 0; k < node->n_inputs; k++)
      inputs[k] = views[node->inputs[k]];
    e->cfg.run_node (e->cfg.user, i, inputs, &views[node->output], r.y0, r.y1);
    if (timed) {
      e->node_ms[i] += (g_get_monotonic_time () - t0) / 1e3;
      e->node_cpu_ms[i] += process_cpu_ms () - c0;
    }
  }
}

static void
run_stripes (gpointer data, guint worker, guint begin, guint end)
{
  for (guint s = begin; s < end; s++)
    run_stripe (data, worker, s);
}

typedef struct {
  CfqpHostExec *e;
  guint         node;
} NodeJob;

static void
run_node_rows (gpointer data, guint begin, guint end)
{
  NodeJob *job = data;
  CfqpHostExec *e = job->e;

  e->cfg.run_node (e->cfg.user, job->node, e->node_inputs,
      &e->views[e->graph->nodes[job->node].output], begin, end);
}

static void
run_layers (CfqpHostExec *e)
{
  const CfqpGraph *g = e->graph;

  ensure_arena (e);
  for (guint v = 1; v < g->n_values; v++) {
    guint slot = e->plan.slot_of_value[v];
    if (v != g->output)
      set_view (&e->views[v], &e->plan.shapes[v],
          slot == CFQP_PLAN_EXTERNAL ? NULL : e->arena + e->slot_offset[slot],
          e->plan.shapes[v].h);
  }
  for (guint i = 0; i < g->n_nodes; i++) {
    const CfqpNode *node = &g->nodes[i];
    NodeJob job = { e, i };
    gint64 t0 = e->cfg.profile ? g_get_monotonic_time () : 0;
    double c0 = e->cfg.profile ? process_cpu_ms () : 0;
    for (guint k = 0; k < node->n_inputs; k++)
      e->node_inputs[k] = e->views[node->inputs[k]];
    cfqp_workers_run (e->workers, run_node_rows, &job, e->views[node->output].h, 0);
    if (e->cfg.profile) {
      e->node_ms[i] += (g_get_monotonic_time () - t0) / 1e3;
      e->node_cpu_ms[i] += process_cpu_ms () - c0;
    }
  }
}

static void
add_profile_macs (CfqpHostExec *e)
{
  for (guint i = 0; i < e->graph->n_nodes; i++) {
    const CfqpNode *node = &e->graph->nodes[i];
    if (node->op == CFQP_OP_CONV) {   /* a transpose's MACs follow its input */
      const CfqpConvParams *cp = &node->p.conv;
      const CfqpShape *o = &e->plan.shapes[node->output];
      e->node_macs[i] += (double) o->c * o->h * o->w * (cp->in_channels / cp->groups) *
          cp->kernel_h * cp->kernel_w;
    }
  }
}

gboolean
cfqp_host_exec_run (CfqpHostExec *e, gconstpointer in, guint width, guint height,
    gpointer out, GError **error)
{
  const CfqpGraph *g = e->graph;
  gint64 t_frame;

  if (!prepare (e, width, height, error))
    return FALSE;
  ensure_stripes (e);
  /* kernels never write their inputs, so the caller's input is used in place */
  set_view (&e->views[0], &e->plan.shapes[0], (gpointer) in, e->plan.shapes[0].h);
  set_view (&e->views[g->output], &e->plan.shapes[g->output], out,
      e->plan.shapes[g->output].h);
  if (g->output == 0) {
    memmove (out, in, cfqp_shape_elements (&e->plan.shapes[0]) * e->cfg.element_size);
    return TRUE;
  }
  t_frame = e->cfg.profile ? g_get_monotonic_time () : 0;
  if (e->stripes.rows)
    cfqp_workers_run_indexed (e->workers, run_stripes, e, e->stripes.n_stripes, 1);
  else
    run_layers (e);
  if (e->cfg.profile) {
    e->frame_ms += (g_get_monotonic_time () - t_frame) / 1e3;
    add_profile_macs (e);
    e->runs++;
  }
  return TRUE;
}
