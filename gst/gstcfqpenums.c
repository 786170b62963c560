/* cfqp — GTypes for the elements' enum properties.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstcfqpenums.h"

GType
gst_cfqp_precision_get_type (void)
{
  static gsize type = 0;
  static const GEnumValue values[] = {
    {GST_CFQP_PRECISION_INT8, "INT8 quantized network", "int8"},
    {GST_CFQP_PRECISION_FP32, "32-bit float network", "fp32"},
    {GST_CFQP_PRECISION_INT16,
        "16-bit activations and weights, on the int8 calibration",
        "int16"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstCfqpPrecision", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

GType
gst_cfqp_int8_fallback_get_type (void)
{
  static gsize type = 0;
  static const GEnumValue values[] = {
    {GST_CFQP_INT8_FALLBACK_FP32, "32-bit float network", "fp32"},
    {GST_CFQP_INT8_FALLBACK_INT16,
        "16-bit activations and weights on the same calibration", "int16"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstCfqpInt8Fallback", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

GType
gst_cfqp_qdq_precision_get_type (void)
{
  static gsize type = 0;
  static const GEnumValue values[] = {
    {GST_CFQP_QDQ_PRECISION_INT8, "uint8 activations, int8 weights (opset 13)", "int8"},
    {GST_CFQP_QDQ_PRECISION_INT16, "uint16 activations, int16 weights (opset 21)",
        "int16"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstCfqpQdqPrecision", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

GType
gst_cfqp_backend_get_type (void)
{
  static gsize type = 0;
  static const GEnumValue values[] = {
    {GST_CFQP_BACKEND_AUTO, "An OpenCL GPU if there is one, else the CPU", "auto"},
    {GST_CFQP_BACKEND_CPU, "CPU (vectorized, threaded)", "cpu"},
    {GST_CFQP_BACKEND_OPENCL, "OpenCL device", "opencl"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstCfqpBackend", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

GType
gst_cfqp_cpu_kernels_get_type (void)
{
  static gsize type = 0;
  static const GEnumValue values[] = {
    {GST_CFQP_CPU_KERNELS_AUTO, "Per conv layer, the fastest measured at load",
        "auto"},
    {GST_CFQP_CPU_KERNELS_ORC, "ORC multiply-accumulate kernels", "orc"},
    {GST_CFQP_CPU_KERNELS_NATIVE, "Native code (the ISA level's pixel lanes, "
          "else compiler-vectorised dot products)", "native"},
    {GST_CFQP_CPU_KERNELS_WINOGRAD, "Winograd F(2x2,3x3) for 3x3 stride-1 convs where the "
          "ISA level has it (SSE4.1, AVX2 without VNNI), else native", "winograd"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstCfqpCpuKernels", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

GType
gst_cfqp_augmentation_get_type (void)
{
  static gsize type = 0;
  static const GEnumValue values[] = {
    {GST_CFQP_AUGMENTATION_NONE, "Sampled frames only", "none"},
    {GST_CFQP_AUGMENTATION_REVIEW, "Plus the re-viewed FP32 output", "review"},
    {GST_CFQP_AUGMENTATION_CROPS, "Plus crops of the FP32 output", "crops"},
    {GST_CFQP_AUGMENTATION_RANGE, "Plus range-targeted patches", "range"},
    {GST_CFQP_AUGMENTATION_FULL, "All CFQP augmentations", "full"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstCfqpAugmentation", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

GType
gst_cfqp_observer_get_type (void)
{
  static gsize type = 0;
  static const GEnumValue values[] = {
    {GST_CFQP_OBSERVER_MINMAX, "Minimum and maximum", "minmax"},
    {GST_CFQP_OBSERVER_PERCENTILE, "Percentiles", "percentile"},
    {GST_CFQP_OBSERVER_MSE, "Least quantization MSE", "mse"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstCfqpObserver", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

GType
gst_cfqp_weight_rounding_get_type (void)
{
  static gsize type = 0;
  static const GEnumValue values[] = {
    {GST_CFQP_WEIGHT_ROUNDING_NEAREST, "Nearest int8 step, each filter's tap sum kept",
        "nearest"},
    {GST_CFQP_WEIGHT_ROUNDING_GPTQ, "From the sampled frames, least output error per conv "
          "(GPTQ)", "gptq"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstCfqpWeightRounding", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

GType
gst_cfqp_residual_grid_get_type (void)
{
  static gsize type = 0;
  static const GEnumValue values[] = {
    {GST_CFQP_RESIDUAL_GRID_CALIBRATED, "The observer's grid, like any tensor's",
        "calibrated"},
    {GST_CFQP_RESIDUAL_GRID_PIXEL, "The pixel step where finer: the sum onto the pixels is exact",
        "pixel"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstCfqpResidualGrid", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

GType
gst_cfqp_activation_grids_get_type (void)
{
  static gsize type = 0;
  static const GEnumValue values[] = {
    {GST_CFQP_ACTIVATION_GRIDS_TENSOR, "One grid per tensor", "tensor"},
    {GST_CFQP_ACTIVATION_GRIDS_CHANNEL,
        "One grid per channel where only convs touch the tensor", "channel"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstCfqpActivationGrids", values);
    g_once_init_leave (&type, t);
  }
  return type;
}
