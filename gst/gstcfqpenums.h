/* cfqp — GTypes for the elements' enum properties.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

/**
 * GstCfqpPrecision:
 * @GST_CFQP_PRECISION_INT8: quantized INT8 network (the default)
 * @GST_CFQP_PRECISION_FP32: float network
 *
 * Arithmetic the network runs in.  Values match the engine's CfqpPrecision.
 */
typedef enum {
  GST_CFQP_PRECISION_INT8,
  GST_CFQP_PRECISION_FP32,
} GstCfqpPrecision;

#define GST_TYPE_CFQP_PRECISION (gst_cfqp_precision_get_type ())
GType gst_cfqp_precision_get_type (void);

/**
 * GstCfqpBackend:
 * @GST_CFQP_BACKEND_AUTO: OpenCL when a device is usable, else the CPU
 * @GST_CFQP_BACKEND_CPU: vectorized, threaded CPU kernels
 * @GST_CFQP_BACKEND_OPENCL: an OpenCL device; an error when none is usable
 *
 * Where the network runs.
 */
typedef enum {
  GST_CFQP_BACKEND_AUTO,
  GST_CFQP_BACKEND_CPU,
  GST_CFQP_BACKEND_OPENCL,
} GstCfqpBackend;

#define GST_TYPE_CFQP_BACKEND (gst_cfqp_backend_get_type ())
GType gst_cfqp_backend_get_type (void);

G_END_DECLS
