/* Device executors (internal): the one interface through which the runner
 * reaches a backend outside the engine core (opencl/).
 *
 * A device executor runs a whole graph on its own memory: the input is
 * uploaded once, every node runs on the device, the output comes back once.
 * FP32 executors take planar float tensors; INT8 executors take the planar
 * uint8 tensors of cfqp_int8_exec_run() and follow a CfqpInt8Program set
 * with set_program (the caller keeps the program). */
#pragma once

#include "cfqp-engine.h"
#include "cfqp-graph.h"
#include "cfqp-int8.h"

G_BEGIN_DECLS

typedef struct _CfqpDeviceExec CfqpDeviceExec;

typedef struct {
  /* INT8 only: uploads the parts of program that differ from the last one. */
  gboolean (*set_program) (CfqpDeviceExec *exec, const CfqpInt8Program *program,
                           GError **error);
  /* in: C×H×W of the input tensor; out: the output tensor (×scale). */
  gboolean (*run)         (CfqpDeviceExec *exec, gconstpointer in, guint width, guint height,
                           gpointer out, GError **error);
  void     (*free)        (CfqpDeviceExec *exec);
} CfqpDeviceExecFuncs;

struct _CfqpDeviceExec {
  const CfqpDeviceExecFuncs *funcs;
  char                      *name;    /* what get_active_backend reports */
};

#ifdef HAVE_OPENCL
/* opencl/: device is an index, a name substring, or NULL for the first GPU.
 * scale is the model's upscale factor, checked against the graph's output
 * (0: no check, for graphs that are not SR models, e.g. one op in tests). */
CfqpDeviceExec *cfqp_opencl_exec_new (const CfqpGraph *graph, CfqpPrecision precision,
                                      guint scale, const char *device, GError **error);
/* TRUE when an OpenCL GPU exists: what backend=AUTO asks before picking OpenCL. */
gboolean        cfqp_opencl_have_gpu (void);
#endif

G_END_DECLS
