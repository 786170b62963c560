/* The registry's entry for OpenCL (engine/cfqp-backends.c). */
#include "config.h"

#include "cfqp-opencl.h"

static gboolean
opencl_probe (gboolean *is_gpu)
{
  /* Built means there; new says why when no device opens.  backend=AUTO
   * takes it only on a GPU: a CPU OpenCL device (PoCL) is slower than the
   * cpu kernels. */
  *is_gpu = cfqp_opencl_have_gpu ();
  return TRUE;
}

static CfqpExecutor *
opencl_new (const CfqpExecutorParams *params, GError **error)
{
  return cfqp_opencl_exec_new (params->graph, params->precision, params->scale,
      params->scale_den, params->device, params->opencl_profile, error);
}

const CfqpBackendEntry cfqp_opencl_backend_entry = {
  .name = "opencl",
  .title = "OpenCL",
  .kind = CFQP_BACKEND_OPENCL,
  .precisions = CFQP_BACKEND_PRECISION (CFQP_PRECISION_FP32) |
                CFQP_BACKEND_PRECISION (CFQP_PRECISION_INT8) |
                CFQP_BACKEND_PRECISION (CFQP_PRECISION_INT16),
  .probe = opencl_probe,
  .new = opencl_new,
};
