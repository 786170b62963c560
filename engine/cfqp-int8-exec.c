/* INT8 graph execution over a memory plan. */
#include "cfqp-int8-exec.h"

#include <string.h>

#define ARENA_ALIGN 64

struct _CfqpInt8Exec {
  const CfqpGraph       *graph;
  const CfqpInt8Backend *backend;
  CfqpWorkers           *workers;   /* not owned */
  CfqpInt8Program       *program;
  CfqpPlan               plan;
  guint8                *arena_block, *arena;
  gsize                  arena_capacity;
  gsize                 *slot_offset;
  CfqpU8View            *views;
  CfqpU8View            *node_inputs;
  guint                  scale;     /* the model's: output = scale × input */
  /* $CFQP_INT8_PROFILE set: per node, wall time and MACs over all runs,
   * printed to stderr when the exec is freed */
  gboolean               profile;
  double                *node_ms;
  double                *node_macs;
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
  exec->profile = g_getenv ("CFQP_INT8_PROFILE") != NULL;
  if (exec->profile) {
    exec->node_ms = g_new0 (double, graph->n_nodes);
    exec->node_macs = g_new0 (double, graph->n_nodes);
  }
  {
    /* The scale the model was validated with (cfqp-model.c probes 48×36). */
    g_autofree CfqpShape *shapes = g_new0 (CfqpShape, graph->n_values);
    if (cfqp_graph_infer_shapes (graph, 48, 36, shapes, NULL))
      exec->scale = shapes[graph->output].w / 48;
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
  g_printerr ("int8 profile: %u runs (%s): all nodes %.3f ms/run; convs %.3f ms/run, "
      "%.1f GMAC/s (wall, all workers)\n", exec->runs, exec->backend->name,
      total / exec->runs, conv_ms / exec->runs, conv_macs / (conv_ms * 1e6));
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
  g_free (exec);
}

void
cfqp_int8_exec_set_program (CfqpInt8Exec *exec, CfqpInt8Program *program)
{
  free_program (exec);
  exec->program = program;
  if (exec->backend->pack)
    for (guint i = 0; i < program->n_nodes; i++)
      program->nodes[i].packed = exec->backend->pack (&exec->graph->nodes[i], &program->nodes[i]);
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

static gboolean
prepare (CfqpInt8Exec *exec, guint width, guint height, GError **error)
{
  CfqpPlan *plan = &exec->plan;
  gsize total = 0;

  if (plan->width == width && plan->height == height)
    return TRUE;
  if (!cfqp_plan_update (plan, exec->graph, width, height, error))
    return FALSE;
  /* Callers size the output for scale × the input.  Strided convolutions
   * can break that at some sizes (SAME padding, stride 2, odd width): refuse
   * instead of writing past the caller's buffer. */
  {
    const CfqpShape *out = &plan->shapes[exec->graph->output];
    if (exec->scale == 0 || out->w != (guint64) width * exec->scale ||
        out->h != (guint64) height * exec->scale) {
      g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID,
          "output is %u×%u for a %u×%u input, not a ×%u upscale", out->w, out->h, width,
          height, exec->scale);
      cfqp_plan_clear (plan);
      return FALSE;
    }
  }
  exec->slot_offset = g_renew (gsize, exec->slot_offset, MAX (plan->n_slots, 1));
  for (guint s = 0; s < plan->n_slots; s++) {
    exec->slot_offset[s] = total;
    total += (plan->slot_elements[s] + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
  }
  if (total > exec->arena_capacity) {
    g_free (exec->arena_block);
    exec->arena_block = g_malloc (total + ARENA_ALIGN);
    exec->arena = (guint8 *) (((guintptr) exec->arena_block + ARENA_ALIGN - 1) &
        ~(guintptr) (ARENA_ALIGN - 1));
    exec->arena_capacity = total;
  }
  return TRUE;
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

gboolean
cfqp_int8_exec_run (CfqpInt8Exec *exec, const guint8 *in, guint width, guint height,
    guint8 *out, GError **error)
{
  const CfqpGraph *g = exec->graph;
  CfqpPlan *plan = &exec->plan;

  g_return_val_if_fail (exec->program != NULL, FALSE);
  if (!prepare (exec, width, height, error))
    return FALSE;
  for (guint v = 0; v < g->n_values; v++) {
    guint slot = plan->slot_of_value[v];
    const CfqpShape *s = &plan->shapes[v];
    CfqpU8View *view = &exec->views[v];
    view->data = slot == CFQP_PLAN_EXTERNAL ? NULL : exec->arena + exec->slot_offset[slot];
    view->c = s->c;
    view->h = s->h;
    view->w = s->w;
    view->row_stride = s->w;
    view->plane_stride = (gsize) s->w * s->h;
  }
  exec->views[0].data = (guint8 *) in;
  exec->views[g->output].data = out;
  if (g->output == 0) {
    memmove (out, in, cfqp_shape_elements (&plan->shapes[0]));
    return TRUE;
  }
  for (guint i = 0; i < g->n_nodes; i++) {
    const CfqpNode *node = &g->nodes[i];
    NodeJob job = { exec->backend->ops[node->op], node, &exec->program->nodes[i], exec->node_inputs,
                    &exec->views[node->output] };
    gint64 t0 = exec->profile ? g_get_monotonic_time () : 0;
    for (guint k = 0; k < node->n_inputs; k++)
      exec->node_inputs[k] = exec->views[node->inputs[k]];
    cfqp_workers_run (exec->workers, run_node_rows, &job, job.output->h, 0);
    if (exec->profile) {
      exec->node_ms[i] += (g_get_monotonic_time () - t0) / 1e3;
      if (node->op == CFQP_OP_CONV) {   /* a transpose's MACs follow its input */
        const CfqpConvParams *cp = &node->p.conv;
        const CfqpShape *o = &plan->shapes[node->output];
        exec->node_macs[i] += (double) o->c * o->h * o->w * (cp->in_channels / cp->groups) *
            cp->kernel_h * cp->kernel_w;
      }
    }
  }
  exec->runs += exec->profile;
  return TRUE;
}
