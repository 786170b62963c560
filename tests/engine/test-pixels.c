/* Packed pixel adapters and cfqp_runner_run_packed on a nearest ×2 model,
 * whose exact output is known: each source pixel repeated 2×2. */
#include "cfqp-model-private.h"
#include "cfqp-pixels.h"
#include "test-models.h"

#include <math.h>
#include <string.h>

#define PAD 7
#define FILL 0xA5

static const CfqpPackedLayout rgb = { 3, 0, 1, 2, -1 };
static const CfqpPackedLayout bgrx = { 4, 2, 1, 0, -1 };
static const CfqpPackedLayout argb = { 4, 1, 2, 3, 0 };

/* The bilinear alpha a reader would expect: centres aligned, edges clamped. */
static double
expected_alpha (const guint8 *src, gsize stride, guint w, guint h, guint x, guint y)
{
  double sx = CLAMP ((x + 0.5) / 2 - 0.5, 0, w - 1), sy = CLAMP ((y + 0.5) / 2 - 0.5, 0, h - 1);
  guint x0 = floor (sx), y0 = floor (sy), x1 = MIN (x0 + 1, w - 1), y1 = MIN (y0 + 1, h - 1);
  double fx = sx - x0, fy = sy - y0;
#define A(X, Y) (double) src[(Y) * stride + (X) * 4]
  return (1 - fy) * ((1 - fx) * A (x0, y0) + fx * A (x1, y0)) +
      fy * ((1 - fx) * A (x0, y1) + fx * A (x1, y1));
#undef A
}

static void
check_layout (const CfqpPackedLayout *layout, guint w, guint h)
{
  g_autoptr (CfqpModel) model = cfqp_model_new_from_graph (test_model_nearest (3, 2), "nn", NULL);
  g_autoptr (CfqpRunner) runner = cfqp_runner_new (model, NULL, NULL);
  g_autoptr (GRand) rand = g_rand_new_with_seed (w * 100 + h);
  g_autoptr (GError) error = NULL;
  guint ps = layout->pixel_stride;
  gsize src_stride = w * ps + PAD, dst_stride = 2 * w * ps + PAD;
  g_autofree guint8 *src = g_new (guint8, src_stride * h);
  g_autofree guint8 *dst = g_new (guint8, dst_stride * 2 * h);

  for (gsize i = 0; i < src_stride * h; i++)
    src[i] = g_rand_int_range (rand, 0, 256);
  memset (dst, FILL, dst_stride * 2 * h);
  g_assert_true (cfqp_runner_run_packed (runner, layout, src, src_stride, w, h, dst,
      dst_stride, &error));
  g_assert_no_error (error);

  for (guint y = 0; y < 2 * h; y++) {
    for (gsize b = 0; b < dst_stride; b++) {
      guint x = b / ps, k = b % ps;
      guint8 got = dst[y * dst_stride + b];
      const guint8 *s = &src[(y / 2) * src_stride + (x / 2) * ps];

      if (b >= 2 * w * ps) {
        g_assert_cmpuint (got, ==, FILL);       /* row padding untouched */
      } else if (k != (guint) layout->r && k != (guint) layout->g &&
                 k != (guint) layout->b && (gint) k != layout->a) {
        g_assert_cmpuint (got, ==, 255);        /* x bytes written opaque */
      } else if ((gint) k == layout->a) {
        double want = expected_alpha (src + layout->a - 0, src_stride, w, h, x, y);
        g_assert_cmpfloat (fabs (got - want), <=, 0.51);
      } else {
        g_assert_cmpuint (got, ==, s[k]);        /* nearest upscale is exact */
      }
    }
  }
}

static void
test_run_packed_layouts (void)
{
  check_layout (&rgb, 13, 7);
  check_layout (&bgrx, 13, 7);
  check_layout (&argb, 13, 7);
  check_layout (&argb, 1, 1);
  check_layout (&rgb, 37, 23);
}

static void
test_pack_rounding_and_saturation (void)
{
  const float planar[3 * 4] = { -0.5f, 1.5f, 0.5f / 255, 127.49f / 255,
                                NAN, 1.0f, 0.f, 254.5f / 255,
                                0.2f, 0.4f, 0.6f, 0.8f };
  guint8 out[4 * 4];
  static const guint8 want_r[4] = { 0, 255, 1, 127 };

  memset (out, 0, sizeof out);
  cfqp_pixels_pack_rgb (&argb, planar, 4, 1, out, sizeof out);
  for (guint x = 0; x < 4; x++) {
    g_assert_cmpuint (out[x * 4 + 1], ==, want_r[x]);
    g_assert_cmpuint (out[x * 4 + 0], ==, 0);   /* alpha is not pack_rgb's job */
  }
  g_assert_cmpuint (out[0 * 4 + 2], ==, 0);      /* NaN saturates low */
  g_assert_cmpuint (out[1 * 4 + 2], ==, 255);
  g_assert_cmpuint (out[3 * 4 + 2], ==, 255);    /* 254.5 rounds up */
  g_assert_cmpuint (out[2 * 4 + 3], ==, 153);    /* 0.6·255 = 153 */
}

static void
test_alpha_without_source_alpha (void)
{
  guint8 src[2 * 3] = { 1, 2, 3, 4, 5, 6 };
  guint8 dst[4 * 4 * 2];

  memset (dst, 0, sizeof dst);
  cfqp_pixels_upscale_alpha (&rgb, src, 6, 2, 1, 2, &argb, dst, 4 * 4);
  for (guint i = 0; i < 8; i++)
    g_assert_cmpuint (dst[i * 4], ==, 255);
}

/* A luma model keeps the colour of flat areas and replaces only Y. */
static void
test_luma_model (void)
{
  g_autoptr (CfqpModel) model = cfqp_model_new_from_graph (test_model_nearest (1, 2), "y", NULL);
  g_autoptr (CfqpRunner) runner = cfqp_runner_new (model, NULL, NULL);
  guint8 src[5 * 3 * 4], dst[10 * 3 * 8];
  float luma[4];

  for (guint i = 0; i < 20; i++) {
    src[i * 3 + 0] = 200;
    src[i * 3 + 1] = 40;
    src[i * 3 + 2] = 90;
  }
  g_assert_cmpuint (cfqp_model_get_channels (model), ==, 1);
  g_assert_true (cfqp_runner_run_packed (runner, &rgb, src, 15, 5, 4, dst, 30, NULL));
  for (guint i = 0; i < 80; i++) {
    g_assert_cmpint (abs (dst[i * 3 + 0] - 200), <=, 1);
    g_assert_cmpint (abs (dst[i * 3 + 1] - 40), <=, 1);
    g_assert_cmpint (abs (dst[i * 3 + 2] - 90), <=, 1);
  }
  /* BT.601 weights. */
  cfqp_pixels_unpack_luma (&rgb, (const guint8[]) { 255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255 },
      12, 4, 1, luma);
  g_assert_cmpfloat_with_epsilon (luma[0], 0.299, 1e-6);
  g_assert_cmpfloat_with_epsilon (luma[1], 0.587, 1e-6);
  g_assert_cmpfloat_with_epsilon (luma[2], 0.114, 1e-6);
  g_assert_cmpfloat_with_epsilon (luma[3], 1.0, 1e-6);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/pixels/run-packed-layouts", test_run_packed_layouts);
  g_test_add_func ("/pixels/pack-rounding-and-saturation", test_pack_rounding_and_saturation);
  g_test_add_func ("/pixels/alpha-without-source-alpha", test_alpha_without_source_alpha);
  g_test_add_func ("/pixels/luma-model", test_luma_model);
  return g_test_run ();
}
