/* INT8 on the host executor core: the program and its packing, and the
 * node callback that hands a node's views to the kernel set. */
#include "cfqp-int8-exec.h"

struct _CfqpInt8Exec {
  const CfqpGraph       *graph;
  const CfqpInt8Backend *backend;
  CfqpInt8Program       *program;
  gboolean               program_borrowed;   /* the caller frees program, we its packed data */
  CfqpHostExec          *host;
};

static void
run_node (gpointer user, guint i, const CfqpView *inputs, const CfqpView *output, guint y0,
    guint y1)
{
  CfqpInt8Exec *exec = user;
  const CfqpNode *node = &exec->graph->nodes[i];
  CfqpU8View *in = g_newa (CfqpU8View, node->n_inputs);
  CfqpU8View out = CFQP_VIEW_AS (CfqpU8View, output);

  for (guint k = 0; k < node->n_inputs; k++)
    in[k] = CFQP_VIEW_AS (CfqpU8View, &inputs[k]);
  exec->backend->ops[node->op] (node, &exec->program->nodes[i], in, &out, y0, y1);
}

CfqpInt8Exec *
cfqp_int8_exec_new (const CfqpGraph *graph, const CfqpInt8Backend *backend,
    CfqpWorkers *workers, gint stripe_rows, gboolean profile)
{
  CfqpInt8Exec *exec = g_new0 (CfqpInt8Exec, 1);
  CfqpHostExecConfig cfg = { "int8", backend->name, 1, run_node, exec, TRUE, 0, 0,
                             stripe_rows, profile };
  g_autofree CfqpShape *shapes = g_new0 (CfqpShape, graph->n_values);

  exec->graph = graph;
  exec->backend = backend;
  /* The scale the model was validated with (cfqp-model.c probes 48×36);
   * none (0) refuses every size. */
  if (cfqp_graph_infer_shapes (graph, 48, 36, shapes, NULL)) {
    guint g = cfqp_gcd (shapes[graph->output].w, 48);
    cfg.scale = shapes[graph->output].w / g;
    cfg.scale_den = 48 / g;
  }
  exec->host = cfqp_host_exec_new (graph, &cfg, workers);
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

void
cfqp_int8_exec_free (CfqpInt8Exec *exec)
{
  if (!exec)
    return;
  cfqp_host_exec_free (exec->host);
  free_program (exec);
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

CfqpHostExec *
cfqp_int8_exec_get_host (CfqpInt8Exec *exec)
{
  return exec->host;
}

gboolean
cfqp_int8_exec_run (CfqpInt8Exec *exec, const guint8 *in, guint width, guint height,
    guint8 *out, GError **error)
{
  g_return_val_if_fail (exec->program != NULL, FALSE);
  return cfqp_host_exec_run (exec->host, in, width, height, out, error);
}
