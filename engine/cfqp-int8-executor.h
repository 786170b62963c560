/* Host INT8 executors (internal): a kernel set (CfqpInt8Backend) run by a
 * CfqpInt8Exec behind the executor interface, for the registry entries of
 * `ref` and the cpu set. */
#pragma once

#include "cfqp-executor.h"

G_BEGIN_DECLS

/* describe (optional) gives the executor's describe for the program set. */
CfqpExecutor *cfqp_int8_executor_new (const CfqpExecutorParams *params,
                                      const CfqpInt8Backend *kernels,
                                      char *(*describe) (const CfqpGraph *graph,
                                                         const CfqpInt8Program *program));

G_END_DECLS
