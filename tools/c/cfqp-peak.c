/* cfqp-peak: u8·s8 multiply-accumulate peak of one core at the kernel
 * config's ISA level (CFQP_MAX_CPU_ISA caps it), and what that level's cpu
 * INT8 micro-kernels reach on cache-resident data (the c4 conv kernel with
 * its requantising epilogue too).
 *
 *   [CFQP_MAX_CPU_ISA=LEVEL] cfqp-peak [--seconds S]
 *
 * Peak: independent chains of the level's widest exact u8·s8 instruction,
 * so throughput and not latency bounds them: vpdpbusd zmm (avx512vnni, 64
 * MACs), vpdpbusd ymm (avxvnni, 32), the avx2 kernel's vpmaddubsw +
 * vpmaddwd by ones (32 per two multiplies), pmaddwd xmm on bytes widened
 * to int16 (sse4.1, 8); on
 * 64-bit ARM usdot (i8mm, 16 MACs an instruction), sdot (dotprod, 16) and
 * smull + smlal + sadalp (neon, 16 per three), one loop shape for all
 * (DEFINE_PEAK).  Times are this thread's CPU time (the machine may be
 * shared); each figure is the median of 7 runs.  Prints "isa=<level>" and
 * "<name>_gmacs=<x>" lines.  Under qemu the ARM figures only show that the
 * loops run: they are no speed.
 */
#include "cfqp-int8-cpu-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if CFQP_GEMM_X86
#include <immintrin.h>
#elif CFQP_GEMM_ARM64
#include <arm_neon.h>
#endif

#define RUNS 7

static double
thread_cpu_s (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static gint
compare_doubles (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

/* One peak loop, the same shape at every level: CHAINS independent
 * accumulators, each advanced by STEP (acc, a, b) per iteration (an empty
 * asm on `a` keeps the loop a loop), then their lanes summed through
 * STORE, so nothing is dropped.  VA, VB: the operand types; A, B: their
 * values; ZERO (i): the accumulators' start. */
#define DEFINE_PEAK(fn, attr, V, VA, VB, CHAINS, LANES, A, B, ZERO, STEP, ADD, STORE) \
  attr __attribute__ ((noinline)) static gint32 \
  fn (guint64 iterations) \
  { \
    VA a = A; \
    VB b = B; \
    V acc[CHAINS]; \
    gint32 out[LANES], sum = 0; \
    for (guint i = 0; i < CHAINS; i++) \
      acc[i] = ZERO (i); \
    for (guint64 n = 0; n < iterations; n++) { \
      for (guint i = 0; i < CHAINS; i++) \
        acc[i] = STEP (acc[i], a, b); \
      __asm__ volatile ("" : KEEP (a)); \
    } \
    for (guint i = 1; i < CHAINS; i++) \
      acc[0] = ADD (acc[0], acc[i]); \
    STORE (out, acc[0]); \
    for (guint i = 0; i < LANES; i++) \
      sum += out[i]; \
    return sum; \
  }

#if CFQP_GEMM_X86
#define KEEP(a) "+v" (a)
/* a product that does not read the accumulator: the empty asm makes each
 * chain's its own, else the compiler computes it once for all chains */
#define STEP_MADDUBS_YMM(acc, a, b) \
  ({ __asm__ ("" : KEEP (a)); \
     _mm256_add_epi32 (acc, _mm256_madd_epi16 (_mm256_maddubs_epi16 (a, b), \
         _mm256_set1_epi16 (1))); })
#define STEP_MADDWD_XMM(acc, a, b) \
  ({ __asm__ ("" : KEEP (a)); _mm_add_epi32 (acc, _mm_madd_epi16 (a, b)); })
#define STORE_ZMM(out, v) _mm512_storeu_si512 (out, v)
#define STORE_YMM(out, v) _mm256_storeu_si256 ((__m256i *) (out), v)
#define STORE_XMM(out, v) _mm_storeu_si128 ((__m128i *) (out), v)

/* vpdpbusd zmm: 64 MACs a step */
DEFINE_PEAK (dpbusd_zmm, __attribute__ ((target ("avx512f,avx512bw,avx512vnni"))), __m512i,
    __m512i, __m512i, 16, 16, _mm512_set1_epi8 (3), _mm512_set1_epi8 (-2), _mm512_set1_epi32,
    _mm512_dpbusd_epi32, _mm512_add_epi32, STORE_ZMM)
/* vpdpbusd ymm (VEX): 32 */
DEFINE_PEAK (dpbusd_ymm, __attribute__ ((target ("avx2,avxvnni"))), __m256i, __m256i, __m256i,
    12, 8, _mm256_set1_epi8 (3), _mm256_set1_epi8 (-2), _mm256_set1_epi32,
    _mm256_dpbusd_avx_epi32, _mm256_add_epi32, STORE_YMM)
/* the avx2 kernel's step, vpmaddubsw + vpmaddwd by ones + vpaddd: 32 */
DEFINE_PEAK (maddubs_ymm, __attribute__ ((target ("avx2"))), __m256i, __m256i, __m256i, 6, 8,
    _mm256_set1_epi8 (3), _mm256_set1_epi8 (-2), _mm256_set1_epi32, STEP_MADDUBS_YMM,
    _mm256_add_epi32, STORE_YMM)
/* the same on xmm: 8 */
DEFINE_PEAK (maddwd_xmm, __attribute__ ((target ("sse4.1"))), __m128i, __m128i, __m128i, 6, 4,
    _mm_set1_epi16 (3), _mm_set1_epi16 (-2), _mm_set1_epi32, STEP_MADDWD_XMM, _mm_add_epi32,
    STORE_XMM)
#elif CFQP_GEMM_ARM64
#define KEEP(a) "+w" (a)
#define ZERO_Q(i) vdupq_n_s32 ((gint32) (i))
/* the 8x4c4__neon kernel's step: smull + smlal into int16 tap pairs, sadalp */
#define STEP_SMULL(acc, a, b) \
  vpadalq_s16 (acc, vmlal_high_s8 (vmull_s8 (vget_low_s8 (a), vget_low_s8 (b)), a, b))

/* usdot (i8mm): 16 MACs a step, u8 × s8 */
DEFINE_PEAK (usdot_q, __attribute__ ((target ("arch=armv8.2-a+i8mm"))), int32x4_t, uint8x16_t,
    int8x16_t, 12, 4, vdupq_n_u8 (3), vdupq_n_s8 (-2), ZERO_Q, vusdotq_s32, vaddq_s32,
    vst1q_s32)
/* sdot (dotprod): 16, on inputs shifted to s8 */
DEFINE_PEAK (sdot_q, __attribute__ ((target ("arch=armv8.2-a+dotprod"))), int32x4_t,
    int8x16_t, int8x16_t, 12, 4, vdupq_n_s8 (3), vdupq_n_s8 (-2), ZERO_Q, vdotq_s32,
    vaddq_s32, vst1q_s32)
/* smull + smlal + sadalp (plain NEON): 16 per 3 instructions */
DEFINE_PEAK (smull_q, , int32x4_t, int8x16_t, int8x16_t, 12, 4, vdupq_n_s8 (3),
    vdupq_n_s8 (-2), ZERO_Q, STEP_SMULL, vaddq_s32, vst1q_s32)
#endif

typedef gint32 (*PeakFunc) (guint64 iterations);

/* Each level's peak loop and its MACs per iteration (chains × MACs a step). */
typedef struct {
  CfqpCpuIsa  isa;
  const char *name;
  PeakFunc    func;
  double      macs;
} Peak;

static const Peak peaks[] = {
#if CFQP_GEMM_X86
  { CFQP_CPU_ISA_AVX512VNNI, "peak_avx512vnni_zmm", dpbusd_zmm, 16.0 * 64 },
  { CFQP_CPU_ISA_AVXVNNI, "peak_avxvnni_ymm", dpbusd_ymm, 12.0 * 32 },
  { CFQP_CPU_ISA_AVX2, "peak_avx2_maddubs_ymm", maddubs_ymm, 6.0 * 32 },
  { CFQP_CPU_ISA_SSE41, "peak_sse41_maddwd_xmm", maddwd_xmm, 6.0 * 8 },
#elif CFQP_GEMM_ARM64
  { CFQP_CPU_ISA_I8MM, "peak_i8mm_usdot_q", usdot_q, 12.0 * 16 },
  { CFQP_CPU_ISA_DOTPROD, "peak_dotprod_sdot_q", sdot_q, 12.0 * 16 },
  { CFQP_CPU_ISA_NEON, "peak_neon_smull_q", smull_q, 12.0 * 16 },
#endif
  { CFQP_CPU_ISA_GENERIC, NULL, NULL, 0 },   /* no loop: the dot kernel only */
};

static double
measure_peak (PeakFunc func, double macs_per_iteration, double seconds)
{
  double rates[RUNS];
  guint64 iterations = 1 << 16;
  volatile gint32 sink;

  /* calibrate to about `seconds` per run */
  for (;;) {
    double t0 = thread_cpu_s (), t;
    sink = func (iterations);
    t = thread_cpu_s () - t0;
    if (t > seconds / 4)
      break;
    iterations *= 2;
  }
  for (guint r = 0; r < RUNS; r++) {
    double t0 = thread_cpu_s ();
    sink = func (iterations);
    rates[r] = iterations * macs_per_iteration / (thread_cpu_s () - t0) / 1e9;
  }
  (void) sink;
  qsort (rates, RUNS, sizeof (double), compare_doubles);
  return rates[RUNS / 2];
}

/* A conv micro-kernel as an ABPN body layer drives it: k 256 (3·3·28
 * padded), 28 output channels, a row block of px pixels, all in L1/L2.
 * (Both column layouts hold the same number of bytes; contents do not
 * change the timing.) */
static double
measure_gemm (CfqpInt8GemmFunc gemm, guint px, double seconds)
{
  enum { K = 256, OC = 28 };
  const guint PX = px;
  g_autofree guint8 *col = g_malloc (K * PX);
  g_autofree gint8 *w = g_malloc (K * OC);
  g_autofree gint32 *bias = g_new0 (gint32, OC), *acc = g_new (gint32, OC * PX);
  double rates[RUNS];
  guint64 reps = 16;

  for (guint i = 0; i < K * PX; i++)
    col[i] = (guint8) (i * 7);
  for (guint i = 0; i < K * OC; i++)
    w[i] = (gint8) (i * 13);
  for (;;) {
    double t0 = thread_cpu_s ();
    for (guint64 r = 0; r < reps; r++)
      gemm (col, K, PX, w, OC, bias, acc, PX);
    if (thread_cpu_s () - t0 > seconds / 4)
      break;
    reps *= 2;
  }
  for (guint run = 0; run < RUNS; run++) {
    double t0 = thread_cpu_s ();
    for (guint64 r = 0; r < reps; r++)
      gemm (col, K, PX, w, OC, bias, acc, PX);
    /* useful MACs: k 252 of the padded 256 */
    rates[run] = reps * 252.0 * OC * PX / (thread_cpu_s () - t0) / 1e9;
  }
  qsort (rates, RUNS, sizeof (double), compare_doubles);
  return rates[RUNS / 2];
}

/* The c4 conv kernel with its requantising epilogue, as an ABPN body layer
 * drives it: k 252 (3·3·28, 63 groups of 4 read through pointers into one
 * block), 28 output channels, 640 pixels, bytes out.  Where the kernel
 * takes CFQP_INT8_C4_WEIGHTS_S8_MADDUBS the weights go through that pack;
 * in [−48, 48] they need no fix-up (real layers: 2–6 % of the groups). */
static double
measure_conv (const CfqpInt8CpuConfig *cfg, double seconds)
{
  CfqpInt8ConvC4Func conv = cfg->conv_c4;
  enum { K4 = 63, OC = 28, PX = 640 };
  g_autofree guint8 *col = g_malloc (K4 * 4 * PX), *out = g_malloc (OC * PX);
  g_autofree gint8 *w = g_malloc (K4 * 8 * OC);   /* room for the int16-pair form */
  g_autofree gint32 *bias = g_new0 (gint32, OC);
  g_autofree CfqpRequant *rq = g_new (CfqpRequant, OC);
  const guint8 *a[K4];
  CfqpInt8ConvOut o = { rq, rq, 3, 3, 255 };
  double rates[RUNS];
  guint64 reps = 16;

  for (guint i = 0; i < K4 * 4 * PX; i++)
    col[i] = (guint8) (i * 7);
  for (guint i = 0; i < K4 * 8 * OC; i++)
    w[i] = (gint8) (i * 13);
  for (guint i = 0; i < OC; i++)
    rq[i] = (CfqpRequant) { 1518500250 - (gint32) i * 1000, 39 };
  for (guint k4 = 0; k4 < K4; k4++)
    a[k4] = col + (gsize) k4 * 4 * PX;
  if (cfg->c4_weights == CFQP_INT8_C4_WEIGHTS_S8_MADDUBS) {
    gsize size, n_fixups;
    for (guint i = 0; i < K4 * 4 * OC; i++)
      w[i] = (gint8) ((gint) (i * 13 % 97) - 48);
    gint8 *wm = cfqp_int8_c4_weights_maddubs (w, OC, K4, &size, &n_fixups);
    g_free (w);
    w = wm;
  }
  for (;;) {
    double t0 = thread_cpu_s ();
    for (guint64 r = 0; r < reps; r++)
      conv (a, K4, PX, w, OC, bias, &o, out, PX);
    if (thread_cpu_s () - t0 > seconds / 4)
      break;
    reps *= 2;
  }
  for (guint run = 0; run < RUNS; run++) {
    double t0 = thread_cpu_s ();
    for (guint64 r = 0; r < reps; r++)
      conv (a, K4, PX, w, OC, bias, &o, out, PX);
    rates[run] = reps * K4 * 4.0 * OC * PX / (thread_cpu_s () - t0) / 1e9;
  }
  qsort (rates, RUNS, sizeof (double), compare_doubles);
  return rates[RUNS / 2];
}


int
main (int argc, char **argv)
{
  double seconds = 0.4;
  GOptionEntry entries[] = {
    { "seconds", 0, 0, G_OPTION_ARG_DOUBLE, &seconds, "CPU time per measurement", "S" },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- u8·s8 dot-product peak");
  g_autoptr (GError) error = NULL;
  const CfqpInt8CpuConfig *cfg;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error)) {
    fprintf (stderr, "%s\n", error->message);
    return 2;
  }
  cfg = cfqp_int8_cpu_config ();
  printf ("isa=%s\n", cfg->isa_name);
  for (guint i = 0; i < G_N_ELEMENTS (peaks); i++)
    if (peaks[i].isa == cfg->isa && peaks[i].func)
      printf ("%s_gmacs=%.1f\n", peaks[i].name,
          measure_peak (peaks[i].func, peaks[i].macs, seconds));
#if CFQP_GEMM_X86
  if (cfg->isa == CFQP_CPU_ISA_AVX512VNNI)
    printf ("gemm_u8s8_64x4c4__avx512vnni_gmacs=%.1f\n",
        measure_gemm (cfqp_int8_gemm_u8s8_64x4c4__avx512vnni, 640, seconds));
#endif
  printf ("%s_gmacs=%.1f\n", cfg->gemm_name + strlen ("cfqp_int8_"),
      measure_gemm (cfg->gemm, 64, seconds));
  if (cfg->conv_c4)
    printf ("%s_gmacs=%.1f\n", cfg->conv_c4_name + strlen ("cfqp_int8_"),
        measure_conv (cfg, seconds));
  return 0;
}
