/* Not a test: what the exact resampler costs (docs/results.md, "Speed of
 * the fractional path").  The three planes of the ×2 network's output for a
 * 720p input, 2560×1440 → 1920×1080, and of the ×3 network's for 480p SD,
 * 2160×1440 → 1920×1080, on one thread: the median of 9 runs of thread CPU
 * time and of wall time.
 *
 *   build/tests/engine/bench-resample
 */
#include <stdio.h>

#include "cfqp-resample.h"
#include "bench-clock.h"

static void
bench (guint iw, guint ih, guint ow, guint oh)
{
  guint8 *src = g_malloc ((gsize) iw * ih), *dst = g_malloc ((gsize) ow * oh);
  CfqpResampler *rs = cfqp_resampler_new (iw, ih, ow, oh);
  gpointer scratch = g_aligned_alloc0 (1, cfqp_resampler_scratch_size (rs), 64);
  double cpu[9], wall[9];

  for (gsize i = 0; i < (gsize) iw * ih; i++)
    src[i] = (guint8) (i * 2654435761u >> 24);
  for (guint r = 0; r < G_N_ELEMENTS (cpu); r++) {
    double c0 = bench_thread_cpu_ms ();
    gint64 t0 = g_get_monotonic_time ();
    for (guint c = 0; c < 3; c++)
      cfqp_resample_rows (rs, src, iw, 1, dst, ow, 1, 0, oh, scratch);
    wall[r] = (g_get_monotonic_time () - t0) / 1000.0;
    cpu[r] = bench_thread_cpu_ms () - c0;
  }
  printf ("%u×%u → %u×%u, 3 planes, 1 thread (taps %u × %u): %.1f ms CPU, %.1f ms wall "
      "(median of %u)\n", iw, ih, ow, oh, rs->h.taps, rs->v.taps,
      bench_median (cpu, G_N_ELEMENTS (cpu)), bench_median (wall, G_N_ELEMENTS (wall)),
      (guint) G_N_ELEMENTS (cpu));
  g_aligned_free (scratch);
  cfqp_resampler_free (rs);
  g_free (src);
  g_free (dst);
}

int
main (void)
{
  bench (2560, 1440, 1920, 1080);
  bench (2160, 1440, 1920, 1080);
  return 0;
}
