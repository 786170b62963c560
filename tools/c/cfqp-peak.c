/* cfqp-peak: u8·s8 multiply-accumulate peak of one core at the kernel
 * config's ISA level (CFQP_MAX_CPU_ISA caps it), and what that level's cpu
 * INT8 micro-kernels reach on cache-resident data (the c4 conv kernel with
 * its requantising epilogue too).
 *
 *   [CFQP_MAX_CPU_ISA=LEVEL] cfqp-peak [--seconds S]
 *
 * Peak: independent chains of the level's widest exact u8·s8 instruction,
 * so throughput and not latency bounds them: vpdpbusd zmm (avx512vnni, 64
 * MACs), vpdpbusd ymm (avxvnni, 32), vpmaddwd ymm on bytes widened to
 * int16 (avx2, 16: vpmaddubsw's 32 saturate, so the exact kernel cannot
 * use them), pmaddwd xmm (sse4.1, 8).  Times are this thread's CPU time (the machine may be
 * shared); each figure is the median of 7 runs.  Prints "isa=<level>" and
 * "<name>_gmacs=<x>" lines.
 */
#include "cfqp-int8-cpu-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if CFQP_GEMM_X86
#include <immintrin.h>
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

#if CFQP_GEMM_X86
/* 16 chains × 64 MACs per iteration; returns a sum so nothing is dropped */
__attribute__ ((target ("avx512f,avx512bw,avx512vnni"), noinline)) static gint32
dpbusd_zmm (guint64 iterations)
{
  __m512i a = _mm512_set1_epi8 (3), b = _mm512_set1_epi8 (-2);
  __m512i acc[16];

  for (guint i = 0; i < 16; i++)
    acc[i] = _mm512_set1_epi32 (i);
  for (guint64 n = 0; n < iterations; n++) {
    for (guint i = 0; i < 16; i++)
      acc[i] = _mm512_dpbusd_epi32 (acc[i], a, b);
    __asm__ volatile ("" : "+v" (a));   /* keeps the loop a loop */
  }
  for (guint i = 1; i < 16; i++)
    acc[0] = _mm512_add_epi32 (acc[0], acc[i]);
  return _mm512_reduce_add_epi32 (acc[0]);
}

__attribute__ ((target ("avx2,avxvnni"), noinline)) static gint32
dpbusd_ymm (guint64 iterations)
{
  __m256i a = _mm256_set1_epi8 (3), b = _mm256_set1_epi8 (-2);
  __m256i acc[12];
  gint32 out[8], sum = 0;

  for (guint i = 0; i < 12; i++)
    acc[i] = _mm256_set1_epi32 (i);
  for (guint64 n = 0; n < iterations; n++) {
    for (guint i = 0; i < 12; i++)
      acc[i] = _mm256_dpbusd_avx_epi32 (acc[i], a, b);
    __asm__ volatile ("" : "+x" (a));
  }
  for (guint i = 1; i < 12; i++)
    acc[0] = _mm256_add_epi32 (acc[0], acc[i]);
  _mm256_storeu_si256 ((__m256i *) out, acc[0]);
  for (guint i = 0; i < 8; i++)
    sum += out[i];
  return sum;
}

/* 12 chains of vpmaddwd + vpaddd: 16 MACs each */
__attribute__ ((target ("avx2"), noinline)) static gint32
maddwd_ymm (guint64 iterations)
{
  __m256i a = _mm256_set1_epi16 (3), b = _mm256_set1_epi16 (-2);
  __m256i acc[12];
  gint32 out[8], sum = 0;

  for (guint i = 0; i < 12; i++)
    acc[i] = _mm256_set1_epi32 (i);
  for (guint64 n = 0; n < iterations; n++) {
    for (guint i = 0; i < 12; i++)
      acc[i] = _mm256_add_epi32 (acc[i], _mm256_madd_epi16 (a, b));
    __asm__ volatile ("" : "+x" (a));
  }
  for (guint i = 1; i < 12; i++)
    acc[0] = _mm256_add_epi32 (acc[0], acc[i]);
  _mm256_storeu_si256 ((__m256i *) out, acc[0]);
  for (guint i = 0; i < 8; i++)
    sum += out[i];
  return sum;
}

/* the same on xmm: 8 MACs each */
__attribute__ ((target ("sse4.1"), noinline)) static gint32
maddwd_xmm (guint64 iterations)
{
  __m128i a = _mm_set1_epi16 (3), b = _mm_set1_epi16 (-2);
  __m128i acc[12];
  gint32 out[4], sum = 0;

  for (guint i = 0; i < 12; i++)
    acc[i] = _mm_set1_epi32 (i);
  for (guint64 n = 0; n < iterations; n++) {
    for (guint i = 0; i < 12; i++)
      acc[i] = _mm_add_epi32 (acc[i], _mm_madd_epi16 (a, b));
    __asm__ volatile ("" : "+x" (a));
  }
  for (guint i = 1; i < 12; i++)
    acc[0] = _mm_add_epi32 (acc[0], acc[i]);
  _mm_storeu_si128 ((__m128i *) out, acc[0]);
  for (guint i = 0; i < 4; i++)
    sum += out[i];
  return sum;
}
#endif

typedef gint32 (*PeakFunc) (guint64 iterations);

/* unused where no peak loop is built (ARM64: no ARM speed figures here) */
static G_GNUC_UNUSED double
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
 * block), 28 output channels, 640 pixels, bytes out. */
static double
measure_conv (CfqpInt8ConvC4Func conv, double seconds)
{
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
#if CFQP_GEMM_X86
  if (cfg->isa == CFQP_CPU_ISA_AVX512VNNI)
    printf ("peak_avx512vnni_zmm_gmacs=%.1f\n", measure_peak (dpbusd_zmm, 16.0 * 64, seconds));
  else if (cfg->isa == CFQP_CPU_ISA_AVXVNNI)
    printf ("peak_avxvnni_ymm_gmacs=%.1f\n", measure_peak (dpbusd_ymm, 12.0 * 32, seconds));
  else if (cfg->isa == CFQP_CPU_ISA_AVX2)
    printf ("peak_avx2_maddwd_ymm_gmacs=%.1f\n", measure_peak (maddwd_ymm, 12.0 * 16, seconds));
  else if (cfg->isa == CFQP_CPU_ISA_SSE41)
    printf ("peak_sse41_maddwd_xmm_gmacs=%.1f\n", measure_peak (maddwd_xmm, 12.0 * 8, seconds));
  if (cfg->isa == CFQP_CPU_ISA_AVX512VNNI)
    printf ("gemm_u8s8_64x4c4__avx512vnni_gmacs=%.1f\n",
        measure_gemm (cfqp_int8_gemm_u8s8_64x4c4__avx512vnni, 640, seconds));
#endif
  printf ("%s_gmacs=%.1f\n", cfg->gemm_name + strlen ("cfqp_int8_"),
      measure_gemm (cfg->gemm, 64, seconds));
  if (cfg->conv_c4)
    printf ("%s_gmacs=%.1f\n", cfg->conv_c4_name + strlen ("cfqp_int8_"),
        measure_conv (cfg->conv_c4, seconds));
  return 0;
}
