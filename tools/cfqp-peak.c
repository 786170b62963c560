/* cfqp-peak: u8·s8 dot-product peak of one core, and what the cpu INT8
 * GEMM micro-kernels reach on cache-resident data (the conv kernel with
 * its requantising epilogue too).
 *
 *   cfqp-peak [--seconds S]
 *
 * Peak: 16 independent vpdpbusd chains (zmm with AVX-512 VNNI, ymm with
 * AVX-VNNI), so throughput and not latency bounds them.  Times are this
 * thread's CPU time (the machine may be shared); each figure is the median
 * of 7 runs.  Prints "<name>_gmacs=<x>" lines.
 */
#include "cfqp-int8-cpu-gemm.h"

#include <stdio.h>
#include <stdlib.h>
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

#if CFQP_GEMM_X86
/* The conv kernel with its requantising epilogue, as an ABPN body layer
 * drives it: k 252 (3·3·28, 63 groups of 4 read through pointers into one
 * block), 28 output channels, 640 pixels, bytes out. */
static double
measure_conv (double seconds)
{
  enum { K4 = 63, OC = 28, PX = 640 };
  g_autofree guint8 *col = g_malloc (K4 * 4 * PX), *out = g_malloc (OC * PX);
  g_autofree gint8 *w = g_malloc (K4 * 4 * OC);
  g_autofree gint32 *bias = g_new0 (gint32, OC);
  g_autofree CfqpRequant *rq = g_new (CfqpRequant, OC);
  const guint8 *a[K4];
  CfqpInt8ConvOut o = { rq, rq, 3, 3, 255 };
  double rates[RUNS];
  guint64 reps = 16;

  for (guint i = 0; i < K4 * 4 * PX; i++)
    col[i] = (guint8) (i * 7);
  for (guint i = 0; i < K4 * 4 * OC; i++)
    w[i] = (gint8) (i * 13);
  for (guint i = 0; i < OC; i++)
    rq[i] = (CfqpRequant) { 1518500250 - (gint32) i * 1000, 39 };
  for (guint k4 = 0; k4 < K4; k4++)
    a[k4] = col + (gsize) k4 * 4 * PX;
  for (;;) {
    double t0 = thread_cpu_s ();
    for (guint64 r = 0; r < reps; r++)
      cfqp_int8_conv_u8s8_64x4c4__avx512vnni (a, K4, PX, w, OC, bias, &o, out, PX);
    if (thread_cpu_s () - t0 > seconds / 4)
      break;
    reps *= 2;
  }
  for (guint run = 0; run < RUNS; run++) {
    double t0 = thread_cpu_s ();
    for (guint64 r = 0; r < reps; r++)
      cfqp_int8_conv_u8s8_64x4c4__avx512vnni (a, K4, PX, w, OC, bias, &o, out, PX);
    rates[run] = reps * K4 * 4.0 * OC * PX / (thread_cpu_s () - t0) / 1e9;
  }
  qsort (rates, RUNS, sizeof (double), compare_doubles);
  return rates[RUNS / 2];
}
#endif

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
  const char *isa;
  CfqpInt8GemmFunc gemm;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error)) {
    fprintf (stderr, "%s\n", error->message);
    return 2;
  }
  gemm = cfqp_int8_cpu_gemm_select (&isa);
#if CFQP_GEMM_X86
  __builtin_cpu_init ();
  if (__builtin_cpu_supports ("avx512vnni"))
    printf ("peak_avx512vnni_zmm_gmacs=%.1f\n", measure_peak (dpbusd_zmm, 16.0 * 64, seconds));
  if (__builtin_cpu_supports ("avxvnni"))
    printf ("peak_avxvnni_ymm_gmacs=%.1f\n", measure_peak (dpbusd_ymm, 12.0 * 32, seconds));
#endif
  printf ("gemm_u8s8_1x4__%s_gmacs=%.1f\n", isa, measure_gemm (gemm, 64, seconds));
#if CFQP_GEMM_X86
  if (g_str_equal (isa, "avx512vnni"))
    printf ("gemm_u8s8_64x4c4__avx512vnni_gmacs=%.1f\n",
        measure_gemm (cfqp_int8_gemm_u8s8_64x4c4__avx512vnni, 640, seconds));
  if (g_str_equal (isa, "avx512vnni"))
    printf ("conv_u8s8_64x4c4__avx512vnni_gmacs=%.1f\n", measure_conv (seconds));
#endif
  return 0;
}
