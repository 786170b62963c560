/* The range → (scale, zero point) solver at its edges. */
#include "cfqp-calib.h"

#include <math.h>

/* 0 must be exact: an integer zero point inside the uint8 grid. */
static void
assert_zero_exact (CfqpQParams qp)
{
  g_assert_cmpint (qp.zero_point, >=, 0);
  g_assert_cmpint (qp.zero_point, <=, 255);
  g_assert_true (isfinite (qp.scale));
  g_assert_cmpfloat (qp.scale, >=, CFQP_MIN_SCALE);
}

static void
test_typical (void)
{
  CfqpQParams qp = cfqp_qparams_from_range (-1.0f, 3.0f);

  assert_zero_exact (qp);
  g_assert_cmpfloat_with_epsilon (qp.scale, 4.0 / 255, 1e-7);
  g_assert_cmpint (qp.zero_point, ==, 64);   /* round(63.75) */
  /* Both ends within half a step of the represented range. */
  g_assert_cmpfloat (fabs (-qp.zero_point * qp.scale - (-1.0)), <=, qp.scale / 2);
  g_assert_cmpfloat (fabs ((255 - qp.zero_point) * qp.scale - 3.0), <=, qp.scale / 2);
}

static void
test_positive_only (void)
{
  CfqpQParams qp = cfqp_qparams_from_range (0.5f, 2.0f);   /* widened to [0, 2] */

  assert_zero_exact (qp);
  g_assert_cmpint (qp.zero_point, ==, 0);
  g_assert_cmpfloat_with_epsilon (qp.scale, 2.0 / 255, 1e-7);
}

static void
test_negative_only (void)
{
  CfqpQParams qp = cfqp_qparams_from_range (-5.0f, -1.0f);  /* widened to [−5, 0] */

  assert_zero_exact (qp);
  g_assert_cmpint (qp.zero_point, ==, 255);
  g_assert_cmpfloat_with_epsilon (qp.scale, 5.0 / 255, 1e-7);
}

static void
test_all_zero (void)
{
  CfqpQParams qp = cfqp_qparams_from_range (0.0f, 0.0f);

  assert_zero_exact (qp);
  g_assert_cmpfloat (qp.scale, ==, CFQP_MIN_SCALE);
  g_assert_cmpint (qp.zero_point, ==, 0);
}

/* A range narrower than 255 minimum steps keeps the minimum scale and a
 * zero point that still puts 0 inside. */
static void
test_tiny (void)
{
  CfqpQParams qp = cfqp_qparams_from_range (-1e-6f, 1e-6f);

  assert_zero_exact (qp);
  g_assert_cmpfloat (qp.scale, ==, CFQP_MIN_SCALE);
  g_assert_cmpint (qp.zero_point, ==, 8);   /* round(1e-6 / 2^-23) */

  qp = cfqp_qparams_from_range (-1e-3f, 1e-3f);
  assert_zero_exact (qp);
  g_assert_cmpfloat_with_epsilon (qp.scale, 2e-3 / 255, 1e-10);
  g_assert_cmpint (qp.zero_point, ==, 128);   /* 127.5 rounds to even */

  /* Lopsided: a tiny negative part still gets z ≥ 1 when it is ≥ s/2. */
  qp = cfqp_qparams_from_range (-0.01f, 2.54f);
  assert_zero_exact (qp);
  g_assert_cmpint (qp.zero_point, ==, 1);
}

static void
test_nonfinite (void)
{
  assert_zero_exact (cfqp_qparams_from_range (NAN, 1.0f));
  assert_zero_exact (cfqp_qparams_from_range (-1.0f, INFINITY));
  assert_zero_exact (cfqp_qparams_from_range (NAN, NAN));
}

static void
test_pixel (void)
{
  CfqpQParams qp = cfqp_qparams_pixel ();

  g_assert_cmpfloat (qp.scale, ==, 1.0f / 255.0f);
  g_assert_cmpint (qp.zero_point, ==, 0);
  /* The [0,1] range solves to the pixel grid too. */
  qp = cfqp_qparams_from_range (0.0f, 1.0f);
  g_assert_cmpfloat (qp.scale, ==, 1.0f / 255.0f);
  g_assert_cmpint (qp.zero_point, ==, 0);
}

/* A residual's grid finer than the pixel step (or up to 10 % coarser)
 * takes it exactly, centred where the observer's range was; a coarser one
 * stays. */
static void
test_snap_to_pixel_step (void)
{
  const float pixel = cfqp_qparams_pixel ().scale;
  CfqpQParams in = cfqp_qparams_from_range (-0.30f, 0.40f), out;

  out = cfqp_qparams_snap_to_pixel_step (in);
  assert_zero_exact (out);
  g_assert_cmpfloat (out.scale, ==, pixel);   /* bit for bit: the sum's multiplier is 1 */
  /* centre 0.05 (within half an input step) → z = rint(127.5 − 0.05·255) = 115 */
  g_assert_cmpint (out.zero_point, ==, 115);
  /* it still holds the observer's range */
  g_assert_cmpfloat (-out.zero_point * out.scale, <=, -in.zero_point * in.scale);
  g_assert_cmpfloat ((255 - out.zero_point) * out.scale, >=, (255 - in.zero_point) * in.scale);

  /* one-sided: centred too, 127.5 ∓ 63.75 rounded */
  out = cfqp_qparams_snap_to_pixel_step (cfqp_qparams_from_range (0.0f, 0.5f));
  g_assert_cmpfloat (out.scale, ==, pixel);
  g_assert_cmpint (out.zero_point, ==, 64);
  out = cfqp_qparams_snap_to_pixel_step (cfqp_qparams_from_range (-0.5f, 0.0f));
  g_assert_cmpint (out.zero_point, ==, 191);
  /* a range wider than 255 pixel steps does not reach here (it is
   * coarser); the zero point still saturates */
  out = cfqp_qparams_snap_to_pixel_step ((CfqpQParams) { pixel, 255 });
  g_assert_cmpint (out.zero_point, ==, 255);

  /* 5 % coarser: the pixel step still; 20 % coarser: unchanged */
  in = (CfqpQParams) { pixel * 1.05f, 128 };
  out = cfqp_qparams_snap_to_pixel_step (in);
  g_assert_cmpfloat (out.scale, ==, pixel);
  g_assert_cmpint (out.zero_point, ==, 128);
  in = (CfqpQParams) { pixel * 1.2f, 100 };
  out = cfqp_qparams_snap_to_pixel_step (in);
  g_assert_cmpfloat (out.scale, ==, in.scale);
  g_assert_cmpint (out.zero_point, ==, 100);
  /* the tiniest grid, all zero: the pixel step about 0 (127.5 less a hair) */
  out = cfqp_qparams_snap_to_pixel_step (cfqp_qparams_from_range (0.0f, 0.0f));
  g_assert_cmpfloat (out.scale, ==, pixel);
  g_assert_cmpint (out.zero_point, ==, 127);
}

/* Steps from per-channel ranges: each channel's width over the widest to
 * the exponent given, a ratio under 1/16 counting as 1/16 (a dead
 * channel); the width is max − min with 0 always inside; all dead: all 1. */
static void
test_channel_steps (void)
{
  const float lo[6] = { 0, 0, -0.5f, 0, 0, -0.01f }, hi[6] = { 4, 1, 0.5f, 0, 0.1f, 0.02f };
  const float want_sqrt[6] = { 1, 0.5f, 0.5f, 0.25f, 0.25f, 0.25f };
  const float want_linear[6] = { 1, 0.25f, 0.25f, 0.0625f, 0.0625f, 0.0625f };
  const float dead[3] = { 0, 0, 0 }, up[2] = { 0.5f, 2.f }, down[2] = { 0, 0 };
  float got[6];

  cfqp_channel_steps_from_ranges (lo, hi, 6, 0.5, got);
  for (guint c = 0; c < 6; c++)
    g_assert_cmpfloat_with_epsilon (got[c], want_sqrt[c], 1e-7);
  cfqp_channel_steps_from_ranges (lo, hi, 6, 1.0, got);
  for (guint c = 0; c < 6; c++)
    g_assert_cmpfloat_with_epsilon (got[c], want_linear[c], 1e-7);
  /* a range that does not hold 0 is widened to it: [0.5, 2] is as wide as [0, 2] */
  cfqp_channel_steps_from_ranges (up, (const float[]) { 2.f, 2.f }, 2, 0.5, got);
  g_assert_cmpfloat (got[0], ==, 1.f);
  g_assert_cmpfloat (got[1], ==, 1.f);
  cfqp_channel_steps_from_ranges (down, up, 2, 0.5, got);
  g_assert_cmpfloat (got[0], ==, 0.5f);
  cfqp_channel_steps_from_ranges (dead, dead, 3, 1.0, got);
  for (guint c = 0; c < 3; c++)
    g_assert_cmpfloat (got[c], ==, 1.f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/calib/qparams/typical", test_typical);
  g_test_add_func ("/calib/qparams/positive-only", test_positive_only);
  g_test_add_func ("/calib/qparams/negative-only", test_negative_only);
  g_test_add_func ("/calib/qparams/all-zero", test_all_zero);
  g_test_add_func ("/calib/qparams/tiny", test_tiny);
  g_test_add_func ("/calib/qparams/nonfinite", test_nonfinite);
  g_test_add_func ("/calib/qparams/pixel", test_pixel);
  g_test_add_func ("/calib/qparams/snap-to-pixel-step", test_snap_to_pixel_step);
  g_test_add_func ("/calib/qparams/channel-steps", test_channel_steps);
  return g_test_run ();
}
