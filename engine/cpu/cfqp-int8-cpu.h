/* The `cpu` INT8 kernel set (internal): vectorised kernels bit-exact with
 * `ref` (cfqp-int8-ref.c).
 *
 * Convs with one group run one of three kernels against weights packed
 * [oc][ky][kx][ic]: the pixel-lanes GEMM of the ISA level (cfqp-int8-cpu-gemm-c4.c),
 * channels-inner columns and dot-product kernels the compiler vectorizes
 * per ISA (cfqp-int8-cpu-gemm.c), or ORC multiply-accumulate rows
 * (cfqp-orc.orc); by default the one timed fastest for the layer at load.
 * Other convs and conv transposes use the ref kernel.
 * Byte movement goes through ORC where an ORC 0.4 opcode does it exactly
 * (cfqp-orc.orc); requantisation needs a 64-bit multiply ORC lacks, so it
 * stays C, or becomes per-channel lookup tables where the output depends
 * on one input byte. */
#pragma once

#include "cfqp-int8.h"

G_BEGIN_DECLS

/* Convs on the kernel measured fastest per layer (CFQP_CPU_KERNELS_AUTO). */
extern const CfqpInt8Backend cfqp_int8_cpu_backend;
/* The same set with the conv kernel family forced. */
extern const CfqpInt8Backend cfqp_int8_cpu_orc_backend;
extern const CfqpInt8Backend cfqp_int8_cpu_native_backend;
extern const CfqpInt8Backend cfqp_int8_cpu_wino_backend;
const CfqpInt8Backend *cfqp_int8_cpu_backend_for (CfqpCpuKernels kernels);

/* How a conv runs on the cpu set. */
typedef enum {
  CFQP_INT8_CPU_CONV_REF,      /* grouped, transposed or overflow-prone: ref kernel */
  CFQP_INT8_CPU_CONV_1X1,      /* 1×1 stride 1 unpadded: transpose rows into columns */
  CFQP_INT8_CPU_CONV_ROWS,     /* dilation_w 1: kh runs of kw·ic bytes per column */
  CFQP_INT8_CPU_CONV_TAPS,     /* any other: one ic-byte copy per tap */
  CFQP_INT8_CPU_CONV_C4,       /* levels sse4.1 and up: input rows in groups of 4 channels, read
                                * in place by the pixel-lanes kernel, any stride/dilation */
  CFQP_INT8_CPU_CONV_ORC,      /* planar rows, ORC multiply-accumulate over pixel rows,
                                * 8 taps a call */
  CFQP_INT8_CPU_CONV_WINO,     /* 3×3 stride 1 (levels sse4.1, avx2): Winograd F(2×2, 3×3)
                                * in integers, exact */
} CfqpInt8CpuConvPath;

const char *cfqp_int8_cpu_conv_path_name (CfqpInt8CpuConvPath path);

/* The ISA level the kernels run at ("avx512vnni", "avxvnni", "avx2",
 * "sse4.1", "generic", …): cfqp-int8-cpu-config.h. */
const char *cfqp_int8_cpu_gemm_isa (void);
/* TRUE when the build has ORC, so the orc conv kernels exist. */
gboolean cfqp_int8_cpu_have_orc (void);

/* One line per node of program: the kernel each runs with (its packed data
 * must come from one of the cpu backends' pack).  Free with g_free. */
char *cfqp_int8_cpu_describe (const CfqpGraph *graph, const CfqpInt8Program *program);
/* One line: each conv's kernel and how it was chosen ("name kernel (how)"
 * joined by "; ").  Free with g_free. */
char *cfqp_int8_cpu_describe_convs (const CfqpGraph *graph, const CfqpInt8Program *program);

G_END_DECLS
