/* Executors and the backend registry (internal): the one interface through
 * which the runner reaches every backend, and the table it picks them from.
 *
 * An executor runs a whole graph: FP32 executors on planar float tensors,
 * INT8 executors on the planar uint8 tensors of cfqp_int8_exec_run() under
 * a CfqpInt8Program given with set_program.  Device executors (opencl/)
 * upload the input once, run every node on the device and download the
 * output once.
 *
 * The backends are listed once, in cfqp-backends.c; adding one is a folder
 * that defines a CfqpBackendEntry and a line there (docs/architecture.md). */
#pragma once

#include "cfqp-engine.h"
#include "cfqp-graph.h"
#include "cfqp-int8.h"
#include "cfqp-workers.h"

G_BEGIN_DECLS

typedef struct _CfqpExecutor CfqpExecutor;

typedef struct {
  /* INT8 only.  The caller keeps program and keeps it alive until the next
   * set_program or free; host executors may attach their per-node data to
   * it (CfqpInt8Node.packed) and free that then.  Device executors upload
   * only the parts that differ from the last program. */
  gboolean (*set_program) (CfqpExecutor *exec, const CfqpInt8Program *program,
                           GError **error);
  /* in: C×H×W of the input tensor; out: the output tensor (×scale/scale_den). */
  gboolean (*run)         (CfqpExecutor *exec, gconstpointer in, guint width, guint height,
                           gpointer out, GError **error);
  /* Optional: which kernel each node runs with (cfqp_runner_describe_kernels);
   * NULL when there is nothing to say.  Free with g_free. */
  char *   (*describe)    (CfqpExecutor *exec);
  /* Optional (NULL: every op): whether this executor runs op. */
  gboolean (*supports_op) (CfqpExecutor *exec, CfqpOpType op);
  void     (*free)        (CfqpExecutor *exec);
} CfqpExecutorClass;

struct _CfqpExecutor {
  const CfqpExecutorClass *klass;
  char                    *name;    /* what get_active_backend reports */
};

/* What a backend's new gets; everything is borrowed and outlives the executor. */
typedef struct {
  const CfqpGraph *graph;
  CfqpPrecision    precision;
  /* the model's upscale factor scale / scale_den (×3/2: 3 and 2; an
   * integer scale has scale_den 1, or 0), checked against the graph's
   * output (scale 0: no check, for graphs that are not SR models, e.g. one
   * op in tests) */
  guint            scale;
  guint            scale_den;
  const char      *device;       /* device index or name substring; NULL: the first GPU */
  CfqpCpuKernels   cpu_kernels;
  CfqpWorkers     *workers;      /* host executors spread rows over it */
  /* the runner's options of the same names (cfqp-engine.h) */
  gint             stripe_rows;  /* host executors */
  gboolean         profile;      /* host executors */
  gboolean         opencl_profile;
} CfqpExecutorParams;

typedef struct {
  const char      *name;
  const char      *title;        /* how messages name it ("OpenCL") */
  CfqpBackendKind  kind;         /* what CfqpRunnerOptions.backend names it by */
  guint            precisions;   /* 1 << CfqpPrecision, or'ed */
  /* NULL: always there.  Else TRUE when the backend can run here; is_gpu
   * set when it would run on a GPU (what backend=AUTO takes first). */
  gboolean       (*probe) (gboolean *is_gpu);
  CfqpExecutor * (*new)   (const CfqpExecutorParams *params, GError **error);
} CfqpBackendEntry;

#define CFQP_BACKEND_PRECISION(p) (1u << (p))

/* The built backends in the order AUTO tries them; NULL-terminated. */
const CfqpBackendEntry *const *cfqp_backends_list (void);
/* The entry of kind for precision; NULL when none is built. */
const CfqpBackendEntry *cfqp_backends_find (CfqpBackendKind kind, CfqpPrecision precision);

static inline gboolean
cfqp_executor_supports_op (CfqpExecutor *exec, CfqpOpType op)
{
  return !exec->klass->supports_op || exec->klass->supports_op (exec, op);
}

G_END_DECLS
