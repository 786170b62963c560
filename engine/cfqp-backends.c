/* The backend list: every backend the build has, in the order
 * backend=AUTO tries them (the first available GPU backend, else the CPU).
 * Adding a backend is one line here (docs/architecture.md). */
#include "config.h"

#include "cfqp-executor.h"

extern const CfqpBackendEntry cfqp_f32_cpu_backend_entry;      /* cfqp-f32-exec.c */
extern const CfqpBackendEntry cfqp_int8_cpu_backend_entry;     /* cpu/ */
extern const CfqpBackendEntry cfqp_int8_ref_backend_entry;     /* cfqp-int8-executor.c */
#ifdef HAVE_OPENCL
extern const CfqpBackendEntry cfqp_opencl_backend_entry;       /* opencl/ */
#endif

static const CfqpBackendEntry *const backends[] = {
#ifdef HAVE_OPENCL
  &cfqp_opencl_backend_entry,
#endif
  &cfqp_f32_cpu_backend_entry,
  &cfqp_int8_cpu_backend_entry,
  &cfqp_int8_ref_backend_entry,
  NULL
};

const CfqpBackendEntry *const *
cfqp_backends_list (void)
{
  return backends;
}

const CfqpBackendEntry *
cfqp_backends_find (CfqpBackendKind kind, CfqpPrecision precision)
{
  for (guint i = 0; backends[i]; i++)
    if (backends[i]->kind == kind && (backends[i]->precisions & CFQP_BACKEND_PRECISION (precision)))
      return backends[i];
  return NULL;
}
