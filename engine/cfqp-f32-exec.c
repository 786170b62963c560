/* The FP32 CPU executor: the FP32 kernels run by the host executor core
 * (cfqp-host-exec.h) on float elements, behind the executor interface. */
#include "cfqp-executor.h"
#include "cfqp-f32-exec.h"
#include "cfqp-f32-kernels.h"

typedef struct {
  CfqpExecutor  parent;
  CfqpHostExec *host;
} F32Exec;

static void
run_node (gpointer user, guint i, const CfqpView *inputs, const CfqpView *output, guint y0,
    guint y1)
{
  const CfqpGraph *graph = user;
  const CfqpNode *node = &graph->nodes[i];
  CfqpF32View *in = g_newa (CfqpF32View, node->n_inputs);
  CfqpF32View out = CFQP_VIEW_AS (CfqpF32View, output);

  for (guint k = 0; k < node->n_inputs; k++)
    in[k] = CFQP_VIEW_AS (CfqpF32View, &inputs[k]);
  cfqp_f32_ops[node->op] (node, in, &out, y0, y1);
}

CfqpHostExec *
cfqp_f32_host_exec_new (const CfqpGraph *graph, guint scale, guint scale_den,
    CfqpWorkers *workers, gint stripe_rows, gboolean profile)
{
  CfqpHostExecConfig cfg = { "fp32", "cpu", sizeof (float), run_node, (gpointer) graph,
                             scale != 0, scale, scale_den, stripe_rows, profile };

  return cfqp_host_exec_new (graph, &cfg, workers);
}

static gboolean
f32_run (CfqpExecutor *base, gconstpointer in, guint width, guint height, gpointer out,
    GError **error)
{
  return cfqp_host_exec_run (((F32Exec *) base)->host, in, width, height, out, error);
}

static void
f32_free (CfqpExecutor *base)
{
  F32Exec *e = (F32Exec *) base;

  cfqp_host_exec_free (e->host);
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

  e->parent.klass = &f32_class;
  e->parent.name = g_strdup ("cpu");
  e->host = cfqp_f32_host_exec_new (params->graph, params->scale, params->scale_den,
      params->workers,
      params->stripe_rows, params->profile);
  return &e->parent;
}

const CfqpBackendEntry cfqp_f32_cpu_backend_entry = {
  .name = "cpu",
  .title = "CPU",
  .kind = CFQP_BACKEND_CPU,
  .precisions = CFQP_BACKEND_PRECISION (CFQP_PRECISION_FP32),
  .new = f32_new,
};
