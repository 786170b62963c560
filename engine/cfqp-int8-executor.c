/* The host INT8 executors: a CfqpInt8Exec (cfqp-int8-exec.h, on the host
 * executor core) with one kernel set behind the executor interface.  `ref`
 * is defined here; the cpu set's entry is in cpu/. */
#include "cfqp-int8-executor.h"
#include "cfqp-int8-exec.h"

typedef struct {
  CfqpExecutor     parent;
  CfqpInt8Exec    *exec;
  const CfqpGraph *graph;
  char *         (*describe) (const CfqpGraph *graph, const CfqpInt8Program *program);
} Int8Executor;

static gboolean
int8_set_program (CfqpExecutor *base, const CfqpInt8Program *program, GError **error)
{
  Int8Executor *e = (Int8Executor *) base;

  /* packing writes only each node's packed pointer, which the exec owns */
  cfqp_int8_exec_borrow_program (e->exec, (CfqpInt8Program *) program);
  return TRUE;
}

static gboolean
int8_run (CfqpExecutor *base, gconstpointer in, guint width, guint height, gpointer out,
    GError **error)
{
  Int8Executor *e = (Int8Executor *) base;

  return cfqp_int8_exec_run (e->exec, in, width, height, out, error);
}

static char *
int8_describe (CfqpExecutor *base)
{
  Int8Executor *e = (Int8Executor *) base;
  const CfqpInt8Program *program = cfqp_int8_exec_get_program (e->exec);

  return e->describe && program ? e->describe (e->graph, program) : NULL;
}

static void
int8_free (CfqpExecutor *base)
{
  Int8Executor *e = (Int8Executor *) base;

  cfqp_int8_exec_free (e->exec);
  g_free (e->parent.name);
  g_free (e);
}

static const CfqpExecutorClass int8_class = {
  .set_program = int8_set_program,
  .run = int8_run,
  .describe = int8_describe,
  .free = int8_free,
};

CfqpExecutor *
cfqp_int8_executor_new (const CfqpExecutorParams *params, const CfqpInt8Backend *kernels,
    char *(*describe) (const CfqpGraph *graph, const CfqpInt8Program *program))
{
  Int8Executor *e = g_new0 (Int8Executor, 1);

  e->parent.klass = &int8_class;
  e->parent.name = g_strdup (kernels->name);
  e->graph = params->graph;
  e->describe = describe;
  e->exec = cfqp_int8_exec_new_bits (params->graph, kernels,
      cfqp_int8_program_bits (params->precision), params->workers, params->stripe_rows,
      params->profile);
  return &e->parent;
}

static CfqpExecutor *
ref_new (const CfqpExecutorParams *params, GError **error)
{
  return cfqp_int8_executor_new (params, &cfqp_int8_ref_backend, NULL);
}

const CfqpBackendEntry cfqp_int8_ref_backend_entry = {
  .name = "ref",
  .title = "ref",
  .kind = CFQP_BACKEND_REF,
  .precisions = CFQP_BACKEND_PRECISION (CFQP_PRECISION_INT8) |
                CFQP_BACKEND_PRECISION (CFQP_PRECISION_INT16),
  .new = ref_new,
};
