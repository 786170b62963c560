/* The cpu INT8 set's kernel config (internal): one table, built once from
 * the CPU's features under the CFQP_MAX_CPU_ISA cap, naming the kernel of
 * every op family (XNNPACK's config style).  Kernels are picked here and
 * nowhere else; a NULL member means the family has no kernel at this
 * level and the caller takes its generic path (always there).
 *
 * CFQP_MAX_CPU_ISA (environment, read once, oneDNN's ONEDNN_MAX_CPU_ISA
 * convention) caps the level:
 *   x86-64:  avx512vnni, avxvnni, avx2, sse4.1, generic
 *   aarch64: i8mm, dotprod, neon, generic
 * An unknown value is warned about once and ignored. */
#pragma once

#include "cfqp-int8-cpu-gemm.h"
#include "cfqp-int16-cpu-gemm.h"
#include "cfqp-int8-cpu-pixels.h"

G_BEGIN_DECLS

/* Levels in increasing order within each architecture. */
typedef enum {
  CFQP_CPU_ISA_GENERIC = 0,
  /* x86-64 */
  CFQP_CPU_ISA_SSE41,
  CFQP_CPU_ISA_AVX2,         /* AVX2 + FMA */
  CFQP_CPU_ISA_AVXVNNI,      /* AVX2 + AVX-VNNI (256-bit vpdpbusd, VEX) */
  CFQP_CPU_ISA_AVX512VNNI,   /* AVX-512 F, BW, VL, DQ and VNNI */
  /* aarch64 (getauxval: HWCAP_ASIMD, HWCAP_ASIMDDP, HWCAP2_I8MM) */
  CFQP_CPU_ISA_NEON,         /* Advanced SIMD, no dot product (Cortex-A53/A72) */
  CFQP_CPU_ISA_DOTPROD,      /* + sdot/udot (Armv8.2 dotprod) */
  CFQP_CPU_ISA_I8MM,         /* + usdot (Armv8.6 i8mm) */
} CfqpCpuIsa;

/* Residual add/sub of two rows (b NULL: one input), ref's arithmetic: see
 * cfqp-int8-cpu-lut.c. */
typedef void (*CfqpInt8AddRowFunc) (const guint8 *a, const guint8 *b, guint8 *o, guint n,
                                    gint64 za, CfqpRequant ra, gint64 zb, CfqpRequant rb,
                                    gint64 off, gint32 zo, gint32 lo, gint32 hi);

/* The same from per-channel int32 term tables (ta with the offset folded
 * in; tb NULL: one input), where the pack proved every sum fits int32. */
typedef void (*CfqpInt8AddLut32Func) (const guint8 *a, const guint8 *b, guint8 *o, guint n,
                                      const gint32 *ta, const gint32 *tb, gint32 zo, gint32 lo,
                                      gint32 hi);

typedef struct {
  CfqpCpuIsa  isa;              /* the level the kernels below are for */
  const char *isa_name;         /* "avx2", … */
  const char *cpu_name;         /* the widest level this CPU has */
  const char *cap;              /* CFQP_MAX_CPU_ISA as accepted, else NULL */

  /* conv, channels-inner columns ("dot"): always set */
  CfqpInt8GemmFunc       gemm;
  const char            *gemm_name;
  /* conv, pixel lanes ("c4"); NULL: none at this level */
  CfqpInt8ConvC4Func     conv_c4;
  const char            *conv_c4_name;
  guint                  c4_pixels;    /* n_px is rounded up to a multiple of this */
  CfqpInt8C4Weights      c4_weights;   /* how its weights are packed */
  /* then the kernel's own step on those weights and a copy of the bias
   * (ARM: [oc/4][k/4][4][4] order, 128·Σw folded in); NULL: none (x86).
   * FALSE for one conv's weights: that conv takes the dot path */
  CfqpInt8C4PackFunc     c4_pack;
  /* conv 3×3 stride 1, Winograd F(2×2, 3×3) in int16 ("wino"); NULL: none */
  CfqpInt8ConvWinoFunc   conv_wino;
  const char            *conv_wino_name;
  guint                  wino_tiles;   /* its block of tiles: n_tiles is rounded up to it */
  /* conv output stage of the dot and orc paths: always set */
  CfqpInt8RequantFunc    requant;
  const char            *requant_name;
  /* add/sub: from int32 tables where the sums fit, else directly in int64;
   * NULL: ORC or per-channel int64 tables */
  CfqpInt8AddLut32Func   add_lut32;
  const char            *add_lut32_name;
  CfqpInt8AddRowFunc     add_row;
  const char            *add_row_name;
  /* byte moves (depth-to-space rows, packed pixels ↔ planes); NULL: ORC or
   * C.  A kernel returns FALSE for a block or layout it does not take */
  CfqpInt8InterleaveFunc interleave;
  const char            *interleave_name;
  CfqpInt8UnpackRgbFunc  unpack_rgb;
  const char            *unpack_rgb_name;
  CfqpInt8PackRgbFunc    pack_rgb;
  const char            *pack_rgb_name;
  /* INT16 conv: 4 output channels × int16_pixels; always set */
  CfqpInt16GemmFunc      int16_gemm;
  const char            *int16_gemm_name;
  guint                  int16_pixels;
  /* INT16 conv output stage; always set */
  CfqpInt16RequantFunc   int16_requant;
  const char            *int16_requant_name;
} CfqpInt8CpuConfig;

/* The table for this process (built on first use, never freed). */
const CfqpInt8CpuConfig *cfqp_int8_cpu_config (void);

/* The table a given level would have, ignoring the cap (tests,
 * cfqp-peak); NULL when the CPU lacks the level or the build has no
 * kernels for it. */
const CfqpInt8CpuConfig *cfqp_int8_cpu_config_for (CfqpCpuIsa isa);

/* Level names of this architecture, widest first, "generic" last. */
const char *const *cfqp_cpu_isa_names (void);
const char *cfqp_cpu_isa_name (CfqpCpuIsa isa);
/* FALSE for a name that is not a level of this architecture. */
gboolean cfqp_cpu_isa_from_name (const char *name, CfqpCpuIsa *isa);

G_END_DECLS
