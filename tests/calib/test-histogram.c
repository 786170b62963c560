/* Histograms and observers against brute force over the raw values. */
#include "cfqp-calib.h"

#include <math.h>

static int
cmp_float (const void *a, const void *b)
{
  float x = *(const float *) a, y = *(const float *) b;
  return (x > y) - (x < y);
}

/* Exact quantile of sorted data (same convention: the value below which a
 * fraction q lies). */
static double
sorted_quantile (const float *s, gsize n, double q)
{
  gsize i = (gsize) floor (q * (n - 1));
  return s[MIN (i, n - 1)];
}

/* Brute-force mean squared error of uint8 quantisation with qp. */
static double
brute_mse (const float *v, gsize n, CfqpQParams qp)
{
  double acc = 0;

  for (gsize i = 0; i < n; i++) {
    double q = rint (v[i] / qp.scale) + qp.zero_point;
    double d;

    q = CLAMP (q, 0, 255);
    d = qp.scale * (q - qp.zero_point) - v[i];
    acc += d * d;
  }
  return acc / n;
}

static double
gauss (GRand *r)
{
  double u = g_rand_double (r), v = g_rand_double (r);
  return sqrt (-2 * log (1 - u)) * cos (2 * G_PI * v);
}

/* Streaming batches whose range keeps growing: min/max stay exact and the
 * count is right; values far below the final range land in low bins. */
static void
test_minmax_streaming (void)
{
  g_autoptr (GRand) r = g_rand_new_with_seed (7);
  g_autoptr (CfqpHistogram) h = cfqp_histogram_new (2048);
  float mn = INFINITY, mx = -INFINITY, lo, hi;
  float batch[1000];

  for (guint b = 0; b < 20; b++) {
    double spread = pow (2.0, b * 0.7);

    for (guint i = 0; i < G_N_ELEMENTS (batch); i++) {
      batch[i] = (float) ((g_rand_double (r) - 0.3) * spread);
      mn = MIN (mn, batch[i]);
      mx = MAX (mx, batch[i]);
    }
    cfqp_histogram_add (h, batch, G_N_ELEMENTS (batch));
    cfqp_histogram_range_minmax (h, &lo, &hi);
    g_assert_cmpfloat (lo, ==, mn);
    g_assert_cmpfloat (hi, ==, mx);
  }
  g_assert_cmpuint (cfqp_histogram_get_count (h), ==, 20 * G_N_ELEMENTS (batch));
}

/* Ranges always include 0, even for strictly positive or negative data. */
static void
test_ranges_include_zero (void)
{
  g_autoptr (CfqpHistogram) pos = cfqp_histogram_new (256);
  g_autoptr (CfqpHistogram) neg = cfqp_histogram_new (256);
  g_autoptr (CfqpHistogram) empty = cfqp_histogram_new (256);
  float p[100], n[100], lo, hi;

  for (guint i = 0; i < 100; i++) {
    p[i] = 2.0f + i * 0.01f;
    n[i] = -3.0f - i * 0.01f;
  }
  cfqp_histogram_add (pos, p, 100);
  cfqp_histogram_add (neg, n, 100);

  cfqp_histogram_range_minmax (pos, &lo, &hi);
  g_assert_cmpfloat (lo, ==, 0.0f);
  g_assert_cmpfloat (hi, ==, p[99]);
  cfqp_histogram_range_percentile (pos, 99.0, &lo, &hi);
  g_assert_cmpfloat (lo, ==, 0.0f);
  cfqp_histogram_range_mse (pos, &lo, &hi);
  g_assert_cmpfloat (lo, ==, 0.0f);
  g_assert_cmpfloat (hi, >, 2.0f);

  cfqp_histogram_range_mse (neg, &lo, &hi);
  g_assert_cmpfloat (hi, ==, 0.0f);
  g_assert_cmpfloat (lo, <, -3.0f);
  cfqp_histogram_range_percentile (neg, 99.0, &lo, &hi);
  g_assert_cmpfloat (hi, ==, 0.0f);

  cfqp_histogram_range_mse (empty, &lo, &hi);
  g_assert_cmpfloat (lo, ==, 0.0f);
  g_assert_cmpfloat (hi, ==, 0.0f);
}

static void
test_nonfinite_skipped (void)
{
  g_autoptr (CfqpHistogram) h = cfqp_histogram_new (64);
  float v[] = { 1.0f, NAN, INFINITY, -INFINITY, -0.5f, 0.0f };
  float lo, hi;

  cfqp_histogram_add (h, v, G_N_ELEMENTS (v));
  g_assert_cmpuint (cfqp_histogram_get_count (h), ==, 3);
  g_assert_cmpuint (cfqp_histogram_get_n_nonfinite (h), ==, 3);
  cfqp_histogram_range_minmax (h, &lo, &hi);
  g_assert_cmpfloat (lo, ==, -0.5f);
  g_assert_cmpfloat (hi, ==, 1.0f);
}

/* Percentiles of uniform and Gaussian data, streamed in batches of growing
 * magnitude (so bins merged on the way), against the sorted values. */
static void
test_percentile_known (void)
{
  const gsize n = 200000;
  g_autoptr (GRand) r = g_rand_new_with_seed (11);
  g_autofree float *u = g_new (float, n);
  g_autofree float *g = g_new (float, n);
  g_autoptr (CfqpHistogram) hu = cfqp_histogram_new (2048);
  g_autoptr (CfqpHistogram) hg = cfqp_histogram_new (2048);
  float lo, hi;

  for (gsize i = 0; i < n; i++) {
    u[i] = (float) g_rand_double (r);
    g[i] = (float) gauss (r);
  }
  /* Small values first: the range doubles many times afterwards. */
  cfqp_histogram_add (hu, u, 1000);
  cfqp_histogram_add (hu, u + 1000, n - 1000);
  for (gsize off = 0; off < n; off += 5000)
    cfqp_histogram_add (hg, g + off, 5000);

  cfqp_histogram_range_percentile (hu, 99.0, &lo, &hi);
  g_assert_cmpfloat_with_epsilon (hi, 0.99, 3e-3);
  g_assert_cmpfloat (lo, ==, 0.0f);   /* 1% quantile ≈ 0.01 > 0: widened to 0 */

  /* 99.865% ≈ 3σ for N(0,1); 0.135% ≈ −3σ. */
  cfqp_histogram_range_percentile (hg, 99.865, &lo, &hi);
  qsort (g, n, sizeof (float), cmp_float);
  g_assert_cmpfloat_with_epsilon (hi, sorted_quantile (g, n, 0.99865), 0.02);
  g_assert_cmpfloat_with_epsilon (lo, sorted_quantile (g, n, 0.00135), 0.02);
  g_assert_cmpfloat_with_epsilon (hi, 3.0, 0.1);
  g_assert_cmpfloat_with_epsilon (cfqp_histogram_quantile (hg, 0.5), 0.0, 0.02);

  /* 100% is min/max exactly. */
  cfqp_histogram_range_percentile (hg, 100.0, &lo, &hi);
  g_assert_cmpfloat (lo, ==, g[0]);
  g_assert_cmpfloat (hi, ==, g[n - 1]);
}

/* Exact re-binning: the same values in two orders give the same ranges. */
static void
test_order_independent (void)
{
  g_autoptr (GRand) r = g_rand_new_with_seed (3);
  float v[4096];
  g_autoptr (CfqpHistogram) a = cfqp_histogram_new (512);
  g_autoptr (CfqpHistogram) b = cfqp_histogram_new (512);
  float alo, ahi, blo, bhi;

  for (guint i = 0; i < G_N_ELEMENTS (v); i++)
    v[i] = (float) (gauss (r) * pow (4.0, i / 1024.0));
  for (guint i = 0; i < G_N_ELEMENTS (v); i += 256)
    cfqp_histogram_add (a, v + i, 256);
  for (guint i = G_N_ELEMENTS (v); i > 0; i -= 256)
    cfqp_histogram_add (b, v + i - 256, 256);
  cfqp_histogram_range_percentile (a, 99.0, &alo, &ahi);
  cfqp_histogram_range_percentile (b, 99.0, &blo, &bhi);
  g_assert_cmpfloat (alo, ==, blo);
  g_assert_cmpfloat (ahi, ==, bhi);
  cfqp_histogram_range_mse (a, &alo, &ahi);
  cfqp_histogram_range_mse (b, &blo, &bhi);
  g_assert_cmpfloat (alo, ==, blo);
  g_assert_cmpfloat (ahi, ==, bhi);
}

/* Heavy tails (Pareto, α = 2, with a little negative mass, like a leaky
 * activation): the MSE range clips the tail and beats min/max on the real
 * quantisation error, measured by brute force; the histogram's estimate of
 * that error is close to the brute-force one. */
static void
test_mse_heavy_tail (void)
{
  const gsize n = 100000;
  g_autoptr (GRand) r = g_rand_new_with_seed (5);
  g_autofree float *v = g_new (float, n);
  g_autoptr (CfqpHistogram) h = cfqp_histogram_new (2048);
  float lo, hi, mlo, mhi;
  double e_mse, e_minmax;

  for (gsize i = 0; i < n; i++) {
    double p = pow (1 - g_rand_double (r), -1 / 2.5) - 1;

    v[i] = (float) (g_rand_int_range (r, 0, 10) == 0 ? -0.1 * p : p);
  }
  cfqp_histogram_add (h, v, n);
  cfqp_histogram_range_mse (h, &lo, &hi);
  cfqp_histogram_range_minmax (h, &mlo, &mhi);
  e_mse = brute_mse (v, n, cfqp_qparams_from_range (lo, hi));
  e_minmax = brute_mse (v, n, cfqp_qparams_from_range (mlo, mhi));
  g_test_message ("mse [%g, %g] err %g; minmax [%g, %g] err %g", lo, hi, e_mse, mlo, mhi,
      e_minmax);
  g_assert_cmpfloat (hi, <, mhi);
  g_assert_cmpfloat (lo, >, mlo);
  g_assert_cmpfloat (e_mse, <, 0.95 * e_minmax);
  g_assert_cmpfloat (fabs (cfqp_histogram_quant_mse (h, lo, hi) - e_mse), <, 0.2 * e_mse);
  /* Near the brute-force optimum over a grid of both ends. */
  for (guint i = 1; i <= 40; i++) {
    for (guint j = 0; j <= 10; j++) {
      float glo = mlo * j / 10.0f, ghi = mhi * i / 40.0f;
      double e = brute_mse (v, n, cfqp_qparams_from_range (glo, ghi));

      g_assert_cmpfloat (e_mse, <, 1.05 * e);
    }
  }
  /* A local optimum: nudging either end does not help (histogram model). */
  g_assert_cmpfloat (cfqp_histogram_quant_mse (h, lo, hi), <=,
      cfqp_histogram_quant_mse (h, lo, hi * 1.1f) * (1 + 1e-9));
  g_assert_cmpfloat (cfqp_histogram_quant_mse (h, lo, hi), <=,
      cfqp_histogram_quant_mse (h, lo, hi * 0.9f) * (1 + 1e-9));
}

/* Uniform data has no tail worth clipping: MSE keeps (nearly) the full
 * range, and is never worse than minmax by brute force. */
static void
test_mse_uniform (void)
{
  const gsize n = 50000;
  g_autoptr (GRand) r = g_rand_new_with_seed (9);
  g_autofree float *v = g_new (float, n);
  g_autoptr (CfqpHistogram) h = cfqp_histogram_new (2048);
  float lo, hi, mlo, mhi;

  for (gsize i = 0; i < n; i++)
    v[i] = (float) (g_rand_double (r) * 3.0 - 1.0);
  cfqp_histogram_add (h, v, n);
  cfqp_histogram_range_mse (h, &lo, &hi);
  cfqp_histogram_range_minmax (h, &mlo, &mhi);
  g_assert_cmpfloat (hi, >, 0.97 * mhi);
  g_assert_cmpfloat (lo, <, 0.97 * mlo);
  g_assert_cmpfloat (brute_mse (v, n, cfqp_qparams_from_range (lo, hi)), <=,
      1.05 * brute_mse (v, n, cfqp_qparams_from_range (mlo, mhi)));
}

/* Observers: per-tensor histograms fed through the engine's callback type,
 * kinds by nick. */
static void
test_observer (void)
{
  g_autoptr (CfqpObserver) obs = cfqp_observer_new (3, 256);
  float a[6] = { 0, 1, 2, 3, 4, 5 }, b[4] = { -1, -2, 0.5f, 0 };
  float lo, hi;
  CfqpObserverKind k;

  cfqp_observer_tensor_func (0, a, 1, 2, 3, obs);
  cfqp_observer_add (obs, 2, b, 4);
  cfqp_observer_get_range (obs, 0, CFQP_OBSERVER_MINMAX, 0, &lo, &hi);
  g_assert_cmpfloat (lo, ==, 0);
  g_assert_cmpfloat (hi, ==, 5);
  cfqp_observer_get_range (obs, 1, CFQP_OBSERVER_MSE, 0, &lo, &hi);
  g_assert_cmpfloat (lo, ==, 0);
  g_assert_cmpfloat (hi, ==, 0);
  cfqp_observer_get_range (obs, 2, CFQP_OBSERVER_PERCENTILE, 100.0, &lo, &hi);
  g_assert_cmpfloat (lo, ==, -2);
  g_assert_cmpfloat (hi, ==, 0.5f);
  g_assert_cmpuint (cfqp_histogram_get_count (cfqp_observer_get_histogram (obs, 2)), ==, 4);

  for (k = CFQP_OBSERVER_MINMAX; k <= CFQP_OBSERVER_MSE; k++) {
    CfqpObserverKind back;
    g_assert_true (cfqp_observer_kind_from_nick (cfqp_observer_kind_to_nick (k), &back));
    g_assert_cmpint (back, ==, k);
  }
  g_assert_false (cfqp_observer_kind_from_nick ("kl", &k));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/calib/histogram/minmax-streaming", test_minmax_streaming);
  g_test_add_func ("/calib/histogram/ranges-include-zero", test_ranges_include_zero);
  g_test_add_func ("/calib/histogram/nonfinite", test_nonfinite_skipped);
  g_test_add_func ("/calib/histogram/percentile-known", test_percentile_known);
  g_test_add_func ("/calib/histogram/order-independent", test_order_independent);
  g_test_add_func ("/calib/histogram/mse-heavy-tail", test_mse_heavy_tail);
  g_test_add_func ("/calib/histogram/mse-uniform", test_mse_uniform);
  g_test_add_func ("/calib/observer", test_observer);
  return g_test_run ();
}
