/* The FP32 CPU executor: the graph node by node on the FP32 kernels
 * (cfqp-f32-kernels.h), each node's output rows spread over the workers.
 *
 * Buffers follow a CfqpPlan (slots reused by liveness) and live in one
 * arena that only grows, so frames of a fixed size allocate nothing. */
#include "cfqp-executor.h"
#include "cfqp-f32-kernels.h"
#include "cfqp-plan.h"

#include <string.h>

#define ARENA_ALIGN 16   /* floats: 64-byte aligned slots */

typedef struct {
  CfqpExecutor     parent;
  const CfqpGraph *graph;
  guint            scale, scale_den;
  CfqpWorkers     *workers;    /* not owned */
  CfqpPlan         plan;

  float  *arena_block;      /* as allocated */
  float  *arena;            /* aligned start */
  gsize   arena_capacity;   /* floats usable from arena */
  gsize  *slot_offset;      /* per plan slot, in floats */

  CfqpF32View *views;       /* per value */
  CfqpF32View *node_inputs; /* scratch for the widest node */
} F32Exec;

static gsize
align_up (gsize n)
{
  return (n + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
}

/* Plans for width × height and lays the slots out in the arena. */
static gboolean
prepare (F32Exec *e, guint width, guint height, GError **error)
{
  CfqpPlan *plan = &e->plan;
  const CfqpShape *out;
  gsize total = 0;

  if (plan->width == width && plan->height == height)
    return TRUE;
  if (!cfqp_plan_update (plan, e->graph, width, height, error))
    return FALSE;
  out = &plan->shapes[e->graph->output];
  if (e->scale && !cfqp_is_upscale (out->w, out->h, width, height, e->scale, e->scale_den)) {
    g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID,
        "output is %u×%u for a %u×%u input, not a ×%u/%u upscale",
        out->w, out->h, width, height, e->scale, MAX (e->scale_den, 1));
    cfqp_plan_clear (plan);
    return FALSE;
  }

  e->slot_offset = g_renew (gsize, e->slot_offset, MAX (plan->n_slots, 1));
  for (guint s = 0; s < plan->n_slots; s++) {
    e->slot_offset[s] = total;
    total += align_up (plan->slot_elements[s]);
  }
  if (total > e->arena_capacity) {
    g_free (e->arena_block);
    e->arena_block = g_malloc ((total + ARENA_ALIGN) * sizeof (float));
    e->arena = (float *) (((guintptr) e->arena_block + 63) & ~(guintptr) 63);
    e->arena_capacity = total;
  }
  return TRUE;
}

static void
view_init (CfqpF32View *view, float *data, const CfqpShape *shape)
{
  view->data = data;
  view->c = shape->c;
  view->h = shape->h;
  view->w = shape->w;
  view->row_stride = shape->w;
  view->plane_stride = (gsize) shape->w * shape->h;
}

typedef struct {
  CfqpF32OpFunc      func;
  const CfqpNode    *node;
  const CfqpF32View *inputs;
  const CfqpF32View *output;
} NodeJob;

static void
run_node_rows (gpointer data, guint begin, guint end)
{
  NodeJob *job = data;

  job->func (job->node, job->inputs, job->output, begin, end);
}

static gboolean
f32_run (CfqpExecutor *base, gconstpointer in, guint width, guint height, gpointer out,
    GError **error)
{
  F32Exec *e = (F32Exec *) base;
  const CfqpGraph *graph = e->graph;
  CfqpPlan *plan = &e->plan;

  if (!prepare (e, width, height, error))
    return FALSE;
  for (guint v = 0; v < graph->n_values; v++) {
    guint slot = plan->slot_of_value[v];
    float *data = slot == CFQP_PLAN_EXTERNAL ? NULL : e->arena + e->slot_offset[slot];
    view_init (&e->views[v], data, &plan->shapes[v]);
  }
  /* Kernels never write their inputs, so the caller's input is used in place. */
  e->views[0].data = (float *) in;
  e->views[graph->output].data = out;
  if (graph->output == 0) {
    memmove (out, in, cfqp_shape_elements (&plan->shapes[0]) * sizeof (float));
    return TRUE;
  }

  for (guint i = 0; i < graph->n_nodes; i++) {
    const CfqpNode *node = &graph->nodes[i];
    NodeJob job = { cfqp_f32_ops[node->op], node, e->node_inputs, &e->views[node->output] };

    for (guint k = 0; k < node->n_inputs; k++)
      e->node_inputs[k] = e->views[node->inputs[k]];
    cfqp_workers_run (e->workers, run_node_rows, &job, job.output->h, 0);
  }
  return TRUE;
}

static void
f32_free (CfqpExecutor *base)
{
  F32Exec *e = (F32Exec *) base;

  cfqp_plan_clear (&e->plan);
  g_free (e->arena_block);
  g_free (e->slot_offset);
  g_free (e->views);
  g_free (e->node_inputs);
  g_free (e->parent.name);
  g_free (e);
}

static const CfqpExecutorClass f32_class = {
  .run = f32_run,
  .free = f32_free,
};

static CfqpExecutor *
f32_new (const CfqpExecutorParams *params, GError **error)
{
  F32Exec *e = g_new0 (F32Exec, 1);
  guint max_inputs = 1;

  e->parent.klass = &f32_class;
  e->parent.name = g_strdup ("cpu");
  e->graph = params->graph;
  e->scale = params->scale;
  e->scale_den = params->scale_den;
  e->workers = params->workers;
  e->views = g_new0 (CfqpF32View, e->graph->n_values);
  for (guint i = 0; i < e->graph->n_nodes; i++)
    max_inputs = MAX (max_inputs, e->graph->nodes[i].n_inputs);
  e->node_inputs = g_new0 (CfqpF32View, max_inputs);
  return &e->parent;
}

const CfqpBackendEntry cfqp_f32_cpu_backend_entry = {
  .name = "cpu",
  .title = "CPU",
  .kind = CFQP_BACKEND_CPU,
  .precisions = CFQP_BACKEND_PRECISION (CFQP_PRECISION_FP32),
  .new = f32_new,
};
