/* INT8 parameters from one frame: each tensor's observed min/max mapped
 * onto 0..255 (the benchmarks' and tests' stand-in for a calibration). */
#pragma once

#include "cfqp-engine.h"

G_BEGIN_DECLS

/* Runs model on in (planar float C×H×W) and returns n_tensors parameters,
 * g_free-able; out (may be NULL) receives the FP32 output.  NULL with
 * error set when the model does not run. */
CfqpQParams *minmax_qparams_observe (CfqpModel *model, const float *in, guint width,
                                     guint height, float *out, GError **error);

G_END_DECLS
