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
 * @GST_CFQP_PRECISION_INT16: 16-bit activations and weights on the INT8
 *   calibration's ranges: FP32 quality for nets without an anchor too, on
 *   the CPU only
 *
 * Arithmetic the network runs in.  Values match the engine's CfqpPrecision.
 */
typedef enum {
  GST_CFQP_PRECISION_INT8,
  GST_CFQP_PRECISION_FP32,
  GST_CFQP_PRECISION_INT16,
} GstCfqpPrecision;

#define GST_TYPE_CFQP_PRECISION (gst_cfqp_precision_get_type ())
GType gst_cfqp_precision_get_type (void);

/**
 * GstCfqpInt8Fallback:
 * @GST_CFQP_INT8_FALLBACK_FP32: the float network (the default)
 * @GST_CFQP_INT8_FALLBACK_INT16: the same calibration on 16-bit activations
 *   and weights (#GST_CFQP_PRECISION_INT16), on the backend in use
 *
 * What runs while #GstCfqpSr:min-int8-psnr holds INT8 back.
 */
typedef enum {
  GST_CFQP_INT8_FALLBACK_FP32,
  GST_CFQP_INT8_FALLBACK_INT16,
} GstCfqpInt8Fallback;

#define GST_TYPE_CFQP_INT8_FALLBACK (gst_cfqp_int8_fallback_get_type ())
GType gst_cfqp_int8_fallback_get_type (void);

/**
 * GstCfqpQdqPrecision:
 * @GST_CFQP_QDQ_PRECISION_INT8: uint8 activations, int8 weights (opset 13;
 *   the default)
 * @GST_CFQP_QDQ_PRECISION_INT16: uint16 activations, int16 weights
 *   (opset 21): the INT16 program, for runtimes with 16-bit activations
 *
 * The arithmetic a QDQ ONNX export is written for.
 */
typedef enum {
  GST_CFQP_QDQ_PRECISION_INT8,
  GST_CFQP_QDQ_PRECISION_INT16,
} GstCfqpQdqPrecision;

#define GST_TYPE_CFQP_QDQ_PRECISION (gst_cfqp_qdq_precision_get_type ())
GType gst_cfqp_qdq_precision_get_type (void);

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

/**
 * GstCfqpCpuKernels:
 * @GST_CFQP_CPU_KERNELS_AUTO: per conv layer, the kernel timed fastest on a
 *   small stripe when the INT8 network is prepared (the default; the choice
 *   is kept per layer shape and CPU for the life of the process)
 * @GST_CFQP_CPU_KERNELS_ORC: ORC multiply-accumulate kernels (without ORC in
 *   the build, as native)
 * @GST_CFQP_CPU_KERNELS_NATIVE: native code: the CPU's pixel-lanes kernel
 *   where its ISA level has one, else the compiler-vectorised dot products
 * @GST_CFQP_CPU_KERNELS_WINOGRAD: 3×3 stride-1 convs as Winograd F(2×2, 3×3)
 *   in integers (exact) where the ISA level has that kernel (SSE4.1, AVX2 without VNNI),
 *   every other conv as native
 *
 * Conv kernels of the INT8 network on the CPU.  All give the same bytes.
 * Values match the engine's CfqpCpuKernels.
 */
typedef enum {
  GST_CFQP_CPU_KERNELS_AUTO,
  GST_CFQP_CPU_KERNELS_ORC,
  GST_CFQP_CPU_KERNELS_NATIVE,
  GST_CFQP_CPU_KERNELS_WINOGRAD,
} GstCfqpCpuKernels;

#define GST_TYPE_CFQP_CPU_KERNELS (gst_cfqp_cpu_kernels_get_type ())
GType gst_cfqp_cpu_kernels_get_type (void);

/**
 * GstCfqpAugmentation:
 * @GST_CFQP_AUGMENTATION_NONE: the sampled frames only
 * @GST_CFQP_AUGMENTATION_REVIEW: plus the bicubic-downscaled FP32 output
 * @GST_CFQP_AUGMENTATION_CROPS: plus input-sized crops of the FP32 output
 * @GST_CFQP_AUGMENTATION_RANGE: plus gain/offset so the FP32 output spans [0,1]
 * @GST_CFQP_AUGMENTATION_FULL: all three CFQP augmentations (the default)
 *
 * CFQP augmentation preset of the representative dataset.  Values match
 * the calibration library's CfqpAugmentPreset.
 */
typedef enum {
  GST_CFQP_AUGMENTATION_NONE,
  GST_CFQP_AUGMENTATION_REVIEW,
  GST_CFQP_AUGMENTATION_CROPS,
  GST_CFQP_AUGMENTATION_RANGE,
  GST_CFQP_AUGMENTATION_FULL,
} GstCfqpAugmentation;

#define GST_TYPE_CFQP_AUGMENTATION (gst_cfqp_augmentation_get_type ())
GType gst_cfqp_augmentation_get_type (void);

/**
 * GstCfqpObserver:
 * @GST_CFQP_OBSERVER_MINMAX: observed minimum and maximum
 * @GST_CFQP_OBSERVER_PERCENTILE: 99.99th percentiles
 * @GST_CFQP_OBSERVER_MSE: range of least expected quantization error (the
 *   default: with CFQP it kept clip-free models closest to FP32, docs/cfqp.md)
 *
 * How a tensor's quantization range is chosen from its histogram.  Values
 * match the calibration library's CfqpObserverKind.
 */
typedef enum {
  GST_CFQP_OBSERVER_MINMAX,
  GST_CFQP_OBSERVER_PERCENTILE,
  GST_CFQP_OBSERVER_MSE,
} GstCfqpObserver;

#define GST_TYPE_CFQP_OBSERVER (gst_cfqp_observer_get_type ())
GType gst_cfqp_observer_get_type (void);

/**
 * GstCfqpWeightRounding:
 * @GST_CFQP_WEIGHT_ROUNDING_NEAREST: each tap to the nearest int8 step, each
 *   filter's tap sum kept (what the INT8 network does without a calibration's taps)
 * @GST_CFQP_WEIGHT_ROUNDING_GPTQ: from the sampled frames: each conv's taps
 *   rounded in turn so that its output error on the FP32 inputs it sees is
 *   least (GPTQ; the default); the taps travel in the calibration
 *
 * How a calibration rounds the conv weights to int8.  Values match the
 * calibration library's CfqpWeightRounding.
 */
typedef enum {
  GST_CFQP_WEIGHT_ROUNDING_NEAREST,
  GST_CFQP_WEIGHT_ROUNDING_GPTQ,
} GstCfqpWeightRounding;

#define GST_TYPE_CFQP_WEIGHT_ROUNDING (gst_cfqp_weight_rounding_get_type ())
GType gst_cfqp_weight_rounding_get_type (void);

/**
 * GstCfqpResidualGrid:
 * @GST_CFQP_RESIDUAL_GRID_CALIBRATED: the observer's grid, like any tensor's
 * @GST_CFQP_RESIDUAL_GRID_PIXEL: the pixel step where the observer's grid is
 *   finer (the default): the sum onto the pixels is then exact, as the FP32
 *   network rounds it once
 *
 * The grid of a residual that the network adds onto its input pixels just
 * before the output (an anchored network's last conv).  Values match the
 * calibration library's CfqpResidualGrid.
 */
typedef enum {
  GST_CFQP_RESIDUAL_GRID_CALIBRATED,
  GST_CFQP_RESIDUAL_GRID_PIXEL,
} GstCfqpResidualGrid;

#define GST_TYPE_CFQP_RESIDUAL_GRID (gst_cfqp_residual_grid_get_type ())
GType gst_cfqp_residual_grid_get_type (void);

/**
 * GstCfqpActivationGrids:
 * @GST_CFQP_ACTIVATION_GRIDS_TENSOR: one grid per tensor
 * @GST_CFQP_ACTIVATION_GRIDS_CHANNEL: one grid per channel where only convs
 *   touch the tensor (the default): each channel's step follows its range
 *
 * How many grids an activation between two convs gets.  Values match the
 * calibration library's CfqpActivationGrids.
 */
typedef enum {
  GST_CFQP_ACTIVATION_GRIDS_TENSOR,
  GST_CFQP_ACTIVATION_GRIDS_CHANNEL,
} GstCfqpActivationGrids;

#define GST_TYPE_CFQP_ACTIVATION_GRIDS (gst_cfqp_activation_grids_get_type ())
GType gst_cfqp_activation_grids_get_type (void);

G_END_DECLS
