/* INT8 graph execution over a memory plan: layer by layer over the whole
 * frame, or stripe by stripe through all layers (cfqp-stripes.h). */
#include "cfqp-int8-exec.h"
#include "cfqp-stripes.h"

#include <stdlib.h>
#include <string.h>

#define ARENA_ALIGN 64

struct _CfqpInt8Exec {
  const CfqpGraph       *graph;
  const CfqpInt8Backend *backend;
  CfqpWorkers           *workers;   /* not owned */
  CfqpInt8Program       *program;
  gboolean               program_borrowed;   /* the caller frees program, we its packed data */
  CfqpPlan               plan;
  guint8                *arena_block, *arena;
  gsize                  arena_capacity, arena_needed;
  gsize                 *slot_offset;
  CfqpU8View            *views;
  CfqpU8View            *node_inputs;
  guint                  max_inputs;
  guint                  scale, scale_den;  /* the model's: output = scale/scale_den × input */
  guint                  n_threads;
  /* Stripes: what was asked (CFQP_INT8_STRIPES_*, or rows), whether the
   * graph allows them, the plan for the current size (rows 0: layer by
   * layer) and per worker its buffer, views and input views. */
  gint                   stripes_asked;
  gboolean               stripes_ok;
  const char            *stripes_why_not;
  CfqpStripePlan         stripes;
  gboolean               stripes_fresh;   /* stripes is for plan's size and stripes_asked */
  guint8                *stripe_block, *stripe_arena;
  gsize                  stripe_capacity, stripe_worker_bytes;
  CfqpU8View            *stripe_views;    /* [worker · n_values] */
  CfqpU8View            *stripe_inputs;   /* [worker · max_inputs] */
  /* $CFQP_INT8_PROFILE set: per node, wall time and MACs over all runs,
   * printed to stderr when the exec is freed */
  gboolean               profile;
  double                *node_ms;
  double                *node_macs;
  double                 frame_ms;
  guint                  runs;
};

CfqpInt8Exec *
cfqp_int8_exec_new (const CfqpGraph *graph, const CfqpInt8Backend *backend,
    CfqpWorkers *workers)
{
  CfqpInt8Exec *exec = g_new0 (CfqpInt8Exec, 1);
  guint max_inputs = 1;

  exec->graph = graph;
  exec->backend = backend;
  exec->workers = workers;
  exec->views = g_new0 (CfqpU8View, graph->n_values);
  for (guint i = 0; i < graph->n_nodes; i++)
    max_inputs = MAX (max_inputs, graph->nodes[i].n_inputs);
  exec->node_inputs = g_new0 (CfqpU8View, max_inputs);
  exec->max_inputs = max_inputs;
  exec->n_threads = workers ? cfqp_workers_get_n_threads (workers) : 1;
  exec->stripe_views = g_new0 (CfqpU8View, (gsize) exec->n_threads * graph->n_values);
  exec->stripe_inputs = g_new0 (CfqpU8View, (gsize) exec->n_threads * max_inputs);
  exec->stripes_ok = cfqp_stripes_supported (graph, &exec->stripes_why_not);
  exec->stripes_asked = CFQP_INT8_STRIPES_DEFAULT;
  {
    const char *env = g_getenv ("CFQP_INT8_STRIPES");
    if (env && (g_str_equal (env, "off") || g_str_equal (env, "0")))
      exec->stripes_asked = CFQP_INT8_STRIPES_OFF;
    else if (env && g_str_equal (env, "auto"))
      exec->stripes_asked = CFQP_INT8_STRIPES_AUTO;
    else if (env && atoi (env) > 0)
      exec->stripes_asked = atoi (env);
  }
  if (!exec->stripes_ok)
    g_debug ("int8: layer by layer only: %s", exec->stripes_why_not);
  exec->profile = g_getenv ("CFQP_INT8_PROFILE") != NULL;
  if (exec->profile) {
    exec->node_ms = g_new0 (double, graph->n_nodes);
    exec->node_macs = g_new0 (double, graph->n_nodes);
  }
  {
    /* The scale the model was validated with (cfqp-model.c probes 48×36). */
    g_autofree CfqpShape *shapes = g_new0 (CfqpShape, graph->n_values);
    if (cfqp_graph_infer_shapes (graph, 48, 36, shapes, NULL)) {
      guint g = cfqp_gcd (shapes[graph->output].w, 48);
      exec->scale = shapes[graph->output].w / g;
      exec->scale_den = 48 / g;
    }
  }
  return exec;
}

static void
free_program (CfqpInt8Exec *exec)
{
  if (!exec->program)
    return;
  for (guint i = 0; i < exec->program->n_nodes; i++)
    if (exec->program->nodes[i].packed)
      exec->backend->free_packed (g_steal_pointer (&exec->program->nodes[i].packed));
  if (exec->program_borrowed)
    exec->program = NULL;
  else
    g_clear_pointer (&exec->program, cfqp_int8_program_free);
}

static void
print_profile (CfqpInt8Exec *exec)
{
  double conv_ms = 0, conv_macs = 0, total = 0;

  for (guint i = 0; i < exec->graph->n_nodes; i++) {
    const CfqpNode *node = &exec->graph->nodes[i];
    total += exec->node_ms[i];
    if (node->op == CFQP_OP_CONV) {
      conv_ms += exec->node_ms[i];
      conv_macs += exec->node_macs[i];
    }
    g_printerr ("int8 profile: node %u '%s' (%s): %.3f ms/run%s", i, node->name,
        cfqp_op_type_to_string (node->op), exec->node_ms[i] / exec->runs,
        exec->node_macs[i] > 0 ? "" : "\n");
    if (exec->node_macs[i] > 0)
      g_printerr (", %.1f GMAC/s\n", exec->node_macs[i] / (exec->node_ms[i] * 1e6));
  }
  g_printerr ("int8 profile: %u runs (%s, %s): frame %.3f ms/run; all nodes %.3f ms/run; "
      "convs %.3f ms/run, %.1f GMAC/s (wall, all workers)%s\n", exec->runs,
      exec->backend->name, exec->stripes.rows ? "stripes" : "layer by layer",
      exec->frame_ms / exec->runs, total / exec->runs, conv_ms / exec->runs,
      conv_macs / (conv_ms * 1e6),
      exec->stripes.rows && exec->n_threads > 1 ? " (stripes on several threads: no "
      "per-node times)" : "");
}

void
cfqp_int8_exec_free (CfqpInt8Exec *exec)
{
  if (!exec)
    return;
  if (exec->profile && exec->runs)
    print_profile (exec);
  g_free (exec->node_ms);
  g_free (exec->node_macs);
  free_program (exec);
  cfqp_plan_clear (&exec->plan);
  g_free (exec->arena_block);
  g_free (exec->slot_offset);
  g_free (exec->views);
  g_free (exec->node_inputs);
  cfqp_stripe_plan_clear (&exec->stripes);
  g_free (exec->stripe_block);
  g_free (exec->stripe_views);
  g_free (exec->stripe_inputs);
  g_free (exec);
}

void
cfqp_int8_exec_set_program (CfqpInt8Exec *exec, CfqpInt8Program *program)
{
  free_program (exec);
  exec->program = program;
  exec->program_borrowed = FALSE;
  if (exec->backend->pack)
    for (guint i = 0; i < program->n_nodes; i++)
      program->nodes[i].packed = exec->backend->pack (&exec->graph->nodes[i], &program->nodes[i]);
}

void
cfqp_int8_exec_borrow_program (CfqpInt8Exec *exec, CfqpInt8Program *program)
{
  cfqp_int8_exec_set_program (exec, program);
  exec->program_borrowed = TRUE;
}

const CfqpInt8Program *
cfqp_int8_exec_get_program (CfqpInt8Exec *exec)
{
  return exec->program;
}

const CfqpShape *
cfqp_int8_exec_output_shape (CfqpInt8Exec *exec)
{
  return exec->plan.shapes ? &exec->plan.shapes[exec->graph->output] : NULL;
}

void
cfqp_int8_exec_set_stripe_rows (CfqpInt8Exec *exec, gint rows)
{
  exec->stripes_asked = MAX (rows, CFQP_INT8_STRIPES_AUTO);
  exec->stripes_fresh = FALSE;
}

guint
cfqp_int8_exec_get_stripe_rows (CfqpInt8Exec *exec)
{
  return exec->stripes.rows;
}

static gboolean
prepare (CfqpInt8Exec *exec, guint width, guint height, GError **error)
{
  CfqpPlan *plan = &exec->plan;
  gsize total = 0;

  if (plan->width == width && plan->height == height)
    return TRUE;
  exec->stripes_fresh = FALSE;
  if (!cfqp_plan_update (plan, exec->graph, width, height, error))
    return FALSE;
  /* Callers size the output for scale × the input.  Strided convolutions
   * can break that at some sizes (SAME padding, stride 2, odd width): refuse
   * instead of writing past the caller's buffer. */
  {
    const CfqpShape *out = &plan->shapes[exec->graph->output];
    if (exec->scale == 0 ||
        !cfqp_is_upscale (out->w, out->h, width, height, exec->scale, exec->scale_den)) {
      g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID,
          "output is %u×%u for a %u×%u input, not a ×%u/%u upscale", out->w, out->h, width,
          height, exec->scale, exec->scale_den);
      cfqp_plan_clear (plan);
      return FALSE;
    }
  }
  exec->slot_offset = g_renew (gsize, exec->slot_offset, MAX (plan->n_slots, 1));
  for (guint s = 0; s < plan->n_slots; s++) {
    exec->slot_offset[s] = total;
    total += (plan->slot_elements[s] + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
  }
  exec->arena_needed = total;
  return TRUE;
}

/* The whole-frame arena, allocated on the first layer-by-layer run at a
 * size (stripe runs never need it). */
static void
ensure_arena (CfqpInt8Exec *exec)
{
  if (exec->arena_needed > exec->arena_capacity || !exec->arena_block) {
    g_free (exec->arena_block);
    exec->arena_block = g_malloc (exec->arena_needed + ARENA_ALIGN);
    exec->arena = (guint8 *) (((guintptr) exec->arena_block + ARENA_ALIGN - 1) &
        ~(guintptr) (ARENA_ALIGN - 1));
    exec->arena_capacity = exec->arena_needed;
    g_debug ("int8: layer by layer, %" G_GSIZE_FORMAT " bytes for %u slots", exec->arena_needed,
        exec->plan.n_slots);
  }
}

/* The stripe plan for the current size, and the workers' buffers: built
 * when the size or the asked height changes, never per frame. */
static void
ensure_stripes (CfqpInt8Exec *exec)
{
  const CfqpShape *shapes = exec->plan.shapes;
  guint rows;
  gsize need;

  if (exec->stripes_fresh)
    return;
  exec->stripes_fresh = TRUE;
  cfqp_stripe_plan_clear (&exec->stripes);
  if (!exec->stripes_ok || exec->stripes_asked == CFQP_INT8_STRIPES_OFF)
    return;
  rows = exec->stripes_asked > 0 ? (guint) exec->stripes_asked :
      cfqp_stripes_choose_rows (exec->graph, shapes, cfqp_stripes_l2_bytes () / 2,
          CFQP_INT8_STRIPES_MAX_RECOMPUTE, exec->n_threads);
  if (rows == 0) {
    g_debug ("int8: no stripe of the %u-row output fits half the L2 with under %.0f %% "
        "recomputed: layer by layer", shapes[exec->graph->output].h,
        CFQP_INT8_STRIPES_MAX_RECOMPUTE * 100);
    return;
  }
  cfqp_stripe_plan_build (&exec->stripes, exec->graph, shapes, rows);
  exec->stripe_worker_bytes = (exec->stripes.bytes + ARENA_ALIGN - 1) / ARENA_ALIGN *
      ARENA_ALIGN + ARENA_ALIGN;
  need = exec->stripe_worker_bytes * exec->n_threads;
  if (need > exec->stripe_capacity) {
    g_free (exec->stripe_block);
    exec->stripe_block = g_malloc (need + ARENA_ALIGN);
    exec->stripe_arena = (guint8 *) (((guintptr) exec->stripe_block + ARENA_ALIGN - 1) &
        ~(guintptr) (ARENA_ALIGN - 1));
    exec->stripe_capacity = need;
  }
  g_debug ("int8: %u×%u output in %u stripes of %u rows, %" G_GSIZE_FORMAT
      " bytes per worker, %.1f %% recomputed", shapes[exec->graph->output].w,
      shapes[exec->graph->output].h, exec->stripes.n_stripes, exec->stripes.rows,
      exec->stripes.bytes, exec->stripes.recompute * 100);
}

typedef struct {
  CfqpInt8OpFunc      func;
  const CfqpNode     *node;
  const CfqpInt8Node *q;
  const CfqpU8View   *inputs;
  const CfqpU8View   *output;
} NodeJob;

static void
run_node_rows (gpointer data, guint begin, guint end)
{
  NodeJob *job = data;
  job->func (job->node, job->q, job->inputs, job->output, begin, end);
}

/* One stripe through every node, in topological order, on worker's buffer:
 * each value's view is windowed onto its rows, so kernels address rows in
 * frame coordinates and see the frame's height (padding at its edges only). */
static void
run_stripe (CfqpInt8Exec *exec, guint worker, guint stripe)
{
  const CfqpGraph *g = exec->graph;
  const CfqpStripePlan *sp = &exec->stripes;
  guint nv = g->n_values;
  CfqpU8View *views = exec->stripe_views + (gsize) worker * nv;
  CfqpU8View *inputs = exec->stripe_inputs + (gsize) worker * exec->max_inputs;
  guint8 *arena = exec->stripe_arena + worker * exec->stripe_worker_bytes;
  const CfqpRows *rows = sp->value_rows + (gsize) stripe * nv;
  gboolean timed = exec->profile && exec->n_threads == 1;

  for (guint v = 0; v < nv; v++) {
    guint slot = sp->slot_of_value[v];
    const CfqpShape *s = &exec->plan.shapes[v];
    CfqpU8View *view = &views[v];
    if (slot == CFQP_PLAN_EXTERNAL) {
      *view = exec->views[v];
      continue;
    }
    view->c = s->c;
    view->h = s->h;
    view->w = s->w;
    view->row_stride = s->w;
    view->plane_stride = (gsize) s->w * sp->cap[v];
    view->data = (guint8 *) ((guintptr) (arena + sp->slot_offset[slot]) -
        (guintptr) rows[v].y0 * s->w);
  }
  for (guint i = 0; i < g->n_nodes; i++) {
    const CfqpNode *node = &g->nodes[i];
    CfqpRows r = rows[node->output];
    gint64 t0;
    if (r.y0 >= r.y1)
      continue;
    t0 = timed ? g_get_monotonic_time () : 0;
    for (guint k = 0; k < node->n_inputs; k++)
      inputs[k] = views[node->inputs[k]];
    exec->backend->ops[node->op] (node, &exec->program->nodes[i], inputs, &views[node->output],
        r.y0, r.y1);
    if (timed)
      exec->node_ms[i] += (g_get_monotonic_time () - t0) / 1e3;
  }
}

static void
run_stripes (gpointer data, guint worker, guint begin, guint end)
{
  for (guint s = begin; s < end; s++)
    run_stripe (data, worker, s);
}

static void
add_profile_macs (CfqpInt8Exec *exec)
{
  for (guint i = 0; i < exec->graph->n_nodes; i++) {
    const CfqpNode *node = &exec->graph->nodes[i];
    if (node->op == CFQP_OP_CONV) {   /* a transpose's MACs follow its input */
      const CfqpConvParams *cp = &node->p.conv;
      const CfqpShape *o = &exec->plan.shapes[node->output];
      exec->node_macs[i] += (double) o->c * o->h * o->w * (cp->in_channels / cp->groups) *
          cp->kernel_h * cp->kernel_w;
    }
  }
}

static void
set_view (CfqpU8View *view, const CfqpShape *s, guint8 *data)
{
  view->data = data;
  view->c = s->c;
  view->h = s->h;
  view->w = s->w;
  view->row_stride = s->w;
  view->plane_stride = (gsize) s->w * s->h;
}

gboolean
cfqp_int8_exec_run (CfqpInt8Exec *exec, const guint8 *in, guint width, guint height,
    guint8 *out, GError **error)
{
  const CfqpGraph *g = exec->graph;
  CfqpPlan *plan = &exec->plan;
  gint64 t_frame;

  g_return_val_if_fail (exec->program != NULL, FALSE);
  if (!prepare (exec, width, height, error))
    return FALSE;
  ensure_stripes (exec);
  set_view (&exec->views[0], &plan->shapes[0], (guint8 *) in);
  set_view (&exec->views[g->output], &plan->shapes[g->output], out);
  if (g->output == 0) {
    memmove (out, in, cfqp_shape_elements (&plan->shapes[0]));
    return TRUE;
  }
  if (exec->stripes.rows) {
    t_frame = exec->profile ? g_get_monotonic_time () : 0;
    cfqp_workers_run_indexed (exec->workers, run_stripes, exec, exec->stripes.n_stripes, 1);
    if (exec->profile) {
      exec->frame_ms += (g_get_monotonic_time () - t_frame) / 1e3;
      add_profile_macs (exec);
      exec->runs++;
    }
    return TRUE;
  }
  ensure_arena (exec);
  for (guint v = 1; v < g->n_values; v++) {
    guint slot = plan->slot_of_value[v];
    if (v != g->output)
      set_view (&exec->views[v], &plan->shapes[v],
          slot == CFQP_PLAN_EXTERNAL ? NULL : exec->arena + exec->slot_offset[slot]);
  }
  t_frame = exec->profile ? g_get_monotonic_time () : 0;
  for (guint i = 0; i < g->n_nodes; i++) {
    const CfqpNode *node = &g->nodes[i];
    NodeJob job = { exec->backend->ops[node->op], node, &exec->program->nodes[i], exec->node_inputs,
                    &exec->views[node->output] };
    gint64 t0 = exec->profile ? g_get_monotonic_time () : 0;
    for (guint k = 0; k < node->n_inputs; k++)
      exec->node_inputs[k] = exec->views[node->inputs[k]];
    cfqp_workers_run (exec->workers, run_node_rows, &job, job.output->h, 0);
    if (exec->profile)
      exec->node_ms[i] += (g_get_monotonic_time () - t0) / 1e3;
  }
  if (exec->profile) {
    exec->frame_ms += (g_get_monotonic_time () - t_frame) / 1e3;
    add_profile_macs (exec);
    exec->runs++;
  }
  return TRUE;
}
