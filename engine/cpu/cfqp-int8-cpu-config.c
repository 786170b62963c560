/* The kernel config: detected features, the CFQP_MAX_CPU_ISA cap, and one
 * table per level naming each op family's kernel.  Adding a level: an
 * entry in the arch's section of isa_levels, a case in cpu_has and one in
 * config_init. */
#include "cfqp-int8-cpu-config.h"

#include "cfqp-int8-cpu-lut.h"
#include "cfqp-int8-cpu.h"

#include <string.h>
#if CFQP_GEMM_ARM64
#include <sys/auxv.h>

#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1 << 1)
#endif
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif
#ifndef HWCAP2_I8MM
#define HWCAP2_I8MM (1 << 13)
#endif
#endif

typedef struct {
  const char *name;
  CfqpCpuIsa  isa;
} IsaLevel;

/* Widest first; "generic" always last. */
static const IsaLevel isa_levels[] = {
#if defined(__x86_64__) || defined(__i386__)
  { "avx512vnni", CFQP_CPU_ISA_AVX512VNNI },
  { "avxvnni", CFQP_CPU_ISA_AVXVNNI },
  { "avx2", CFQP_CPU_ISA_AVX2 },
  { "sse4.1", CFQP_CPU_ISA_SSE41 },
#elif defined(__aarch64__)
  { "i8mm", CFQP_CPU_ISA_I8MM },
  { "dotprod", CFQP_CPU_ISA_DOTPROD },
  { "neon", CFQP_CPU_ISA_NEON },
#endif
  { "generic", CFQP_CPU_ISA_GENERIC },
};

const char *const *
cfqp_cpu_isa_names (void)
{
  static const char *names[G_N_ELEMENTS (isa_levels) + 1];
  static gsize once;

  if (g_once_init_enter (&once)) {
    for (guint i = 0; i < G_N_ELEMENTS (isa_levels); i++)
      names[i] = isa_levels[i].name;
    g_once_init_leave (&once, 1);
  }
  return names;
}

const char *
cfqp_cpu_isa_name (CfqpCpuIsa isa)
{
  for (guint i = 0; i < G_N_ELEMENTS (isa_levels); i++)
    if (isa_levels[i].isa == isa)
      return isa_levels[i].name;
  return "?";
}

gboolean
cfqp_cpu_isa_from_name (const char *name, CfqpCpuIsa *isa)
{
  for (guint i = 0; name && i < G_N_ELEMENTS (isa_levels); i++)
    if (g_ascii_strcasecmp (name, isa_levels[i].name) == 0) {
      *isa = isa_levels[i].isa;
      return TRUE;
    }
  return FALSE;
}

/* Whether the CPU runs every kernel of the level. */
static gboolean
cpu_has (CfqpCpuIsa isa)
{
#if CFQP_GEMM_X86
  __builtin_cpu_init ();
  switch (isa) {
    case CFQP_CPU_ISA_AVX512VNNI:
      return __builtin_cpu_supports ("avx512f") && __builtin_cpu_supports ("avx512bw") &&
          __builtin_cpu_supports ("avx512vl") && __builtin_cpu_supports ("avx512dq") &&
          __builtin_cpu_supports ("avx512vnni");
    case CFQP_CPU_ISA_AVXVNNI:
      return __builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma") &&
          __builtin_cpu_supports ("avxvnni");
    case CFQP_CPU_ISA_AVX2:
      return __builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma");
    case CFQP_CPU_ISA_SSE41:
      return __builtin_cpu_supports ("sse4.1");
    default:
      break;
  }
#elif CFQP_GEMM_ARM64
  {
    unsigned long hw = getauxval (AT_HWCAP), hw2 = getauxval (AT_HWCAP2);
    switch (isa) {
      case CFQP_CPU_ISA_I8MM:
        return (hw & HWCAP_ASIMD) && (hw2 & HWCAP2_I8MM);
      case CFQP_CPU_ISA_DOTPROD:
        return (hw & HWCAP_ASIMD) && (hw & HWCAP_ASIMDDP);
      case CFQP_CPU_ISA_NEON:
        return (hw & HWCAP_ASIMD) != 0;
      default:
        break;
    }
  }
#endif
  return isa == CFQP_CPU_ISA_GENERIC;
}

/* A kernel and its name, the name derived from the function so the two
 * cannot drift apart. */
#define SET_KERNEL(c, member, fn) ((c)->member = (fn), (c)->member##_name = #fn)

#if CFQP_GEMM_ARM64
/* the rows, byte moves and INT16 micro-kernel of every ARM level: NEON is
 * the AArch64 baseline */
static void
set_neon_rows (CfqpInt8CpuConfig *c)
{
  SET_KERNEL (c, int16_gemm, cfqp_int16_gemm_4x8__neon);
  c->int16_pixels = 8;
  SET_KERNEL (c, requant, cfqp_int8_requant_row_u8__neon);
  SET_KERNEL (c, add_row, cfqp_int8_add_row_u8__neon);
  SET_KERNEL (c, interleave, cfqp_int8_interleave_row_u8__neon);
  SET_KERNEL (c, unpack_rgb, cfqp_int8_unpack_rgb_u8__neon);
  SET_KERNEL (c, pack_rgb, cfqp_int8_pack_rgb_u8__neon);
}
#endif

static void
config_init (CfqpInt8CpuConfig *c, CfqpCpuIsa isa)
{
  /* generic: plain C the compiler vectorises for the build's baseline */
  *c = (CfqpInt8CpuConfig) {
    .isa = isa,
    .isa_name = cfqp_cpu_isa_name (isa),
    .gemm = cfqp_int8_gemm_u8s8_1x4__scalar,
    .gemm_name = "cfqp_int8_gemm_u8s8_1x4__scalar",
    .requant = cfqp_int8_requant_row_u8__scalar,
    .requant_name = "cfqp_int8_requant_row_u8__scalar",
    .int16_gemm = cfqp_int16_gemm_4x8__scalar,
    .int16_gemm_name = "cfqp_int16_gemm_4x8__scalar",
    .int16_pixels = 8,
    .int16_requant = cfqp_int16_requant_row__scalar,
    .int16_requant_name = "cfqp_int16_requant_row__scalar",
  };
  switch (isa) {
#if CFQP_GEMM_X86
    case CFQP_CPU_ISA_AVX512VNNI:
      SET_KERNEL (c, gemm, cfqp_int8_gemm_u8s8_1x4__avx512vnni);
      SET_KERNEL (c, conv_c4, cfqp_int8_conv_u8s8_64x4c4__avx512vnni);
      c->c4_pixels = 64;
      c->c4_weights = CFQP_INT8_C4_WEIGHTS_S8;
      SET_KERNEL (c, requant, cfqp_int8_requant_row_u8__avx512);
      SET_KERNEL (c, add_lut32, cfqp_int8_add_lut32_u8__avx2);
      SET_KERNEL (c, add_row, cfqp_int8_add_row_u8__avx512);
      SET_KERNEL (c, int16_gemm, cfqp_int16_gemm_4x32__avx512vnni);
      c->int16_pixels = 32;
      SET_KERNEL (c, int16_requant, cfqp_int16_requant_row__avx512);
      break;
    case CFQP_CPU_ISA_AVXVNNI:
      SET_KERNEL (c, gemm, cfqp_int8_gemm_u8s8_1x4__avxvnni);
      /* no Winograd: vpdpbusd makes the direct kernel faster here */
      SET_KERNEL (c, conv_c4, cfqp_int8_conv_u8s8_24x4c4__avxvnni);
      c->c4_pixels = 24;
      c->c4_weights = CFQP_INT8_C4_WEIGHTS_S8;
      SET_KERNEL (c, requant, cfqp_int8_requant_row_u8__avx2);
      SET_KERNEL (c, add_lut32, cfqp_int8_add_lut32_u8__avx2);
      SET_KERNEL (c, add_row, cfqp_int8_add_row_u8__avx2);
      SET_KERNEL (c, int16_gemm, cfqp_int16_gemm_4x8__avxvnni);
      c->int16_pixels = 8;
      SET_KERNEL (c, int16_requant, cfqp_int16_requant_row__avx2);
      break;
    case CFQP_CPU_ISA_AVX2:
      SET_KERNEL (c, gemm, cfqp_int8_gemm_u8s8_1x4__avx2);
      SET_KERNEL (c, conv_c4, cfqp_int8_conv_u8s8_16x4c4__avx2);
      SET_KERNEL (c, conv_wino, cfqp_int8_conv_wino_f2x3_16x4__avx2);
      c->wino_tiles = 16;
      c->c4_pixels = 16;
      c->c4_weights = CFQP_INT8_C4_WEIGHTS_S8_MADDUBS;
      SET_KERNEL (c, requant, cfqp_int8_requant_row_u8__avx2);
      SET_KERNEL (c, add_lut32, cfqp_int8_add_lut32_u8__avx2);
      SET_KERNEL (c, add_row, cfqp_int8_add_row_u8__avx2);
      SET_KERNEL (c, int16_gemm, cfqp_int16_gemm_4x8__avx2);
      c->int16_pixels = 8;
      SET_KERNEL (c, int16_requant, cfqp_int16_requant_row__avx2);
      break;
    case CFQP_CPU_ISA_SSE41:
      SET_KERNEL (c, gemm, cfqp_int8_gemm_u8s8_1x4__sse41);
      SET_KERNEL (c, conv_c4, cfqp_int8_conv_u8s8_8x4c4__sse41);
      SET_KERNEL (c, conv_wino, cfqp_int8_conv_wino_f2x3_8x4__sse41);
      c->wino_tiles = 8;
      c->c4_pixels = 8;
      c->c4_weights = CFQP_INT8_C4_WEIGHTS_S16_PAIRS;
      SET_KERNEL (c, requant, cfqp_int8_requant_row_u8__sse41);
      SET_KERNEL (c, int16_gemm, cfqp_int16_gemm_4x4__sse41);
      c->int16_pixels = 4;
      break;
#elif CFQP_GEMM_ARM64
    /* the c4 conv and the NEON rows (requant, add/sub); the dot GEMM stays
     * the generic C, which the compiler vectorises for NEON */
    case CFQP_CPU_ISA_I8MM:
      SET_KERNEL (c, conv_c4, cfqp_int8_conv_u8s8_16x4c4__neoni8mm);
      c->c4_pixels = 16;
      c->c4_weights = CFQP_INT8_C4_WEIGHTS_S8;
      c->c4_pack = cfqp_int8_c4_pack__neoni8mm;
      set_neon_rows (c);
      break;
    case CFQP_CPU_ISA_DOTPROD:
      SET_KERNEL (c, conv_c4, cfqp_int8_conv_u8s8_16x4c4__neondot);
      c->c4_pixels = 16;
      c->c4_weights = CFQP_INT8_C4_WEIGHTS_S8;
      c->c4_pack = cfqp_int8_c4_pack__neondot;
      set_neon_rows (c);
      break;
    case CFQP_CPU_ISA_NEON:
      SET_KERNEL (c, conv_c4, cfqp_int8_conv_u8s8_8x4c4__neon);
      c->c4_pixels = 8;
      c->c4_weights = CFQP_INT8_C4_WEIGHTS_S8;
      c->c4_pack = cfqp_int8_c4_pack__neon;
      set_neon_rows (c);
      break;
#endif
    default:
      break;
  }
}

const CfqpInt8CpuConfig *
cfqp_int8_cpu_config_for (CfqpCpuIsa isa)
{
  static CfqpInt8CpuConfig table[CFQP_CPU_ISA_I8MM + 1];
  static gsize once;

  if (g_once_init_enter (&once)) {
    for (guint i = 0; i < G_N_ELEMENTS (table); i++)
      config_init (&table[i], (CfqpCpuIsa) i);
    g_once_init_leave (&once, 1);
  }
  if ((guint) isa >= G_N_ELEMENTS (table) || !cpu_has (isa))
    return NULL;
  return &table[isa];
}

static CfqpInt8CpuConfig config;

static gpointer
config_build (G_GNUC_UNUSED gpointer data)
{
  const char *cap = g_getenv ("CFQP_MAX_CPU_ISA");
  CfqpCpuIsa max = CFQP_CPU_ISA_I8MM, widest = CFQP_CPU_ISA_GENERIC;
  gboolean capped = FALSE;

  if (cap && *cap) {
    capped = cfqp_cpu_isa_from_name (cap, &max);
    if (!capped) {
      g_autofree char *list = g_strjoinv (", ", (char **) cfqp_cpu_isa_names ());
      g_warning ("CFQP_MAX_CPU_ISA=%s is not a level of this CPU architecture (%s): ignored",
          cap, list);
    }
  }
  /* the widest level the CPU has, then the widest under the cap */
  for (guint i = 0; i < G_N_ELEMENTS (isa_levels); i++)
    if (cpu_has (isa_levels[i].isa)) {
      widest = isa_levels[i].isa;
      break;
    }
  for (guint i = 0; i < G_N_ELEMENTS (isa_levels); i++)
    if (isa_levels[i].isa <= max && cpu_has (isa_levels[i].isa)) {
      config = *cfqp_int8_cpu_config_for (isa_levels[i].isa);
      break;
    }
  config.cpu_name = cfqp_cpu_isa_name (widest);
  config.cap = capped ? g_intern_string (cap) : NULL;
  g_debug ("cpu INT8 kernels: isa %s (cpu %s, CFQP_MAX_CPU_ISA %s): dot %s, c4 %s, "
      "requant %s, add/sub %s / %s, moves %s", config.isa_name, config.cpu_name,
      config.cap ? config.cap : "unset", config.gemm_name,
      config.conv_c4_name ? config.conv_c4_name : "none", config.requant_name,
      config.add_lut32_name ? config.add_lut32_name : "-",
      config.add_row_name ? config.add_row_name : "ORC or tables",
      config.interleave_name ? config.interleave_name : "ORC or C");
  return &config;
}

const CfqpInt8CpuConfig *
cfqp_int8_cpu_config (void)
{
  static GOnce once = G_ONCE_INIT;
  return g_once (&once, config_build, NULL);
}

const char *
cfqp_int8_cpu_gemm_isa (void)
{
  return cfqp_int8_cpu_config ()->isa_name;
}
