/* CFQP augmentations on plain float images, with a synthetic ×2 "model". */
#include "cfqp-calib-private.h"

#include <math.h>
#include <string.h>

/* f: nearest ×2 upscale of a contrast boost with a cubic bend: overshoots
 * [0,1] like a sharpening SR net, and is not affine, so range targeting
 * has to iterate. */
static float
curve (float x)
{
  float d = x - 0.5f;
  return 0.5f + 1.2f * d + 0.8f * d * d * d;
}

static gboolean
fake_forward (const CfqpImage *in, CfqpImage *out, gpointer user_data, GError **error)
{
  guint *calls = user_data;

  g_assert_cmpuint (out->width, ==, 2 * in->width);
  g_assert_cmpuint (out->height, ==, 2 * in->height);
  for (guint c = 0; c < in->channels; c++)
    for (guint y = 0; y < out->height; y++)
      for (guint x = 0; x < out->width; x++)
        out->data[((gsize) c * out->height + y) * out->width + x] =
            curve (in->data[((gsize) c * in->height + y / 2) * in->width + x / 2]);
  if (calls)
    (*calls)++;
  return TRUE;
}

static gboolean
failing_forward (const CfqpImage *in, CfqpImage *out, gpointer user_data, GError **error)
{
  g_set_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_BACKEND, "forward failed");
  return FALSE;
}

static CfqpImage *
natural_image (guint w, guint h, float lo, float hi, guint32 seed)
{
  CfqpImage *im = cfqp_image_new (3, w, h);
  g_autoptr (GRand) r = g_rand_new_with_seed (seed);

  for (guint c = 0; c < 3; c++)
    for (guint y = 0; y < h; y++)
      for (guint x = 0; x < w; x++) {
        double t = 0.5 + 0.5 * sin (x * 0.3 + c) * cos (y * 0.05) +
            0.1 * (g_rand_double (r) - 0.5) + ((x + y) % 11 == 0 ? 0.2 : 0.0);
        im->data[((gsize) c * h + y) * w + x] = (float) (lo + (hi - lo) * CLAMP (t, 0.0, 1.0));
      }
  return im;
}

static CfqpImage *
forward_image (const CfqpImage *x)
{
  CfqpImage *y = cfqp_image_new (x->channels, 2 * x->width, 2 * x->height);

  fake_forward (x, y, NULL, NULL);
  return y;
}

static void
image_range (const CfqpImage *im, float *lo, float *hi)
{
  *lo = INFINITY;
  *hi = -INFINITY;
  for (gsize i = 0; i < cfqp_image_get_n_values (im); i++) {
    *lo = MIN (*lo, im->data[i]);
    *hi = MAX (*hi, im->data[i]);
  }
}

static double
percentile (const CfqpImage *im, double q)
{
  g_autoptr (CfqpHistogram) h = cfqp_histogram_new (4096);

  cfqp_histogram_add (h, im->data, cfqp_image_get_n_values (im));
  return cfqp_histogram_quantile (h, q);
}

/* Bicubic keeps constants, and reproduces a ramp in the interior whatever
 * the factor (Keys' kernel is exact on linear functions). */
static void
test_resize (void)
{
  g_autoptr (CfqpImage) k = cfqp_image_new (1, 30, 21);
  g_autoptr (CfqpImage) ramp = cfqp_image_new (2, 60, 9);
  g_autoptr (CfqpImage) kd = NULL, ku = NULL, rd = NULL;

  for (gsize i = 0; i < cfqp_image_get_n_values (k); i++)
    k->data[i] = 0.37f;
  kd = cfqp_image_resize_bicubic (k, 10, 7);
  ku = cfqp_image_resize_bicubic (k, 45, 50);
  for (gsize i = 0; i < cfqp_image_get_n_values (kd); i++)
    g_assert_cmpfloat_with_epsilon (kd->data[i], 0.37, 1e-6);
  for (gsize i = 0; i < cfqp_image_get_n_values (ku); i++)
    g_assert_cmpfloat_with_epsilon (ku->data[i], 0.37, 1e-6);

  for (guint c = 0; c < 2; c++)
    for (guint y = 0; y < 9; y++)
      for (guint x = 0; x < 60; x++)
        ramp->data[((gsize) c * 9 + y) * 60 + x] = x * 0.01f;
  rd = cfqp_image_resize_bicubic (ramp, 20, 3);
  g_assert_cmpuint (rd->width, ==, 20);
  g_assert_cmpuint (rd->height, ==, 3);
  for (guint x = 3; x < 17; x++)   /* away from the edges */
    g_assert_cmpfloat_with_epsilon (rd->data[20 + x], ((x + 0.5) * 3 - 0.5) * 0.01, 1e-5);
}

static void
test_review (void)
{
  g_autoptr (CfqpImage) x = natural_image (24, 18, 0.0f, 1.0f, 1);
  g_autoptr (CfqpImage) y = forward_image (x);
  g_autoptr (CfqpImage) v = cfqp_augment_review (y, x->width, x->height);
  float ylo, yhi, lo, hi;

  image_range (y, &ylo, &yhi);
  g_assert_cmpfloat (ylo, <, 0.0f);   /* the fake model overshoots… */
  g_assert_cmpfloat (yhi, >, 1.0f);
  g_assert_cmpuint (v->channels, ==, 3);
  g_assert_cmpuint (v->width, ==, 24);
  g_assert_cmpuint (v->height, ==, 18);
  image_range (v, &lo, &hi);
  g_assert_cmpfloat (lo, >=, 0.0f);   /* …the re-view is a valid input */
  g_assert_cmpfloat (hi, <=, 1.0f);
  /* Sharper than the input: more of it sits at the extremes. */
  g_assert_cmpfloat (percentile (v, 0.95) - percentile (v, 0.05), >,
      percentile (x, 0.95) - percentile (x, 0.05));
}

static void
test_crops (void)
{
  g_autoptr (CfqpImage) x = natural_image (20, 12, 0.0f, 1.0f, 2);
  g_autoptr (CfqpImage) y = forward_image (x);
  g_autoptr (GPtrArray) a = g_ptr_array_new_with_free_func ((GDestroyNotify) cfqp_image_free);
  g_autoptr (GPtrArray) b = g_ptr_array_new_with_free_func ((GDestroyNotify) cfqp_image_free);
  g_autoptr (GRand) ra = g_rand_new_with_seed (9);
  g_autoptr (GRand) rb = g_rand_new_with_seed (9);

  cfqp_augment_crops (y, x->width, x->height, 3, ra, a);
  cfqp_augment_crops (y, x->width, x->height, 3, rb, b);
  g_assert_cmpuint (a->len, ==, 3);
  for (guint i = 0; i < a->len; i++) {
    CfqpImage *c = g_ptr_array_index (a, i), *d = g_ptr_array_index (b, i);
    float lo, hi;

    g_assert_cmpuint (c->width, ==, 20);
    g_assert_cmpuint (c->height, ==, 12);
    g_assert_cmpmem (c->data, cfqp_image_get_n_values (c) * 4, d->data,
        cfqp_image_get_n_values (d) * 4);
    image_range (c, &lo, &hi);
    g_assert_cmpfloat (lo, >=, 0.0f);
    g_assert_cmpfloat (hi, <=, 1.0f);
  }
}

/* The point of range targeting: f(x') spans [0,1] at the chosen
 * percentiles, for a dim low-contrast image and a bright one alike. */
static void
test_range_reaches (void)
{
  const float cases[][2] = { { 0.35f, 0.6f }, { 0.7f, 1.0f }, { 0.0f, 0.2f } };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (CfqpImage) x = natural_image (32, 32, cases[i][0], cases[i][1], 3 + i);
    g_autoptr (CfqpImage) y = forward_image (x);
    g_autoptr (CfqpImage) yy = NULL;
    g_autoptr (CfqpImage) xx = NULL;
    g_autoptr (GError) err = NULL;
    guint calls = 0;
    float lo, hi;

    g_assert_cmpfloat (percentile (y, 0.99) - percentile (y, 0.01), <, 0.6);
    xx = cfqp_augment_range (x, y, 1.0, 99.0, 8.0, fake_forward, &calls, &err);
    g_assert_no_error (err);
    g_assert_nonnull (xx);
    g_assert_cmpuint (calls, >=, 1);
    g_assert_cmpuint (calls, <=, 6);
    image_range (xx, &lo, &hi);
    g_assert_cmpfloat (lo, >=, 0.0f);
    g_assert_cmpfloat (hi, <=, 1.0f);
    yy = forward_image (xx);
    g_test_message ("case %u: f(x') 1%%..99%% = %.3f..%.3f after %u passes", i,
        percentile (yy, 0.01), percentile (yy, 0.99), calls);
    g_assert_cmpfloat_with_epsilon (percentile (yy, 0.01), 0.0, 0.03);
    g_assert_cmpfloat_with_epsilon (percentile (yy, 0.99), 1.0, 0.03);
  }
}

static void
test_range_flat_and_gain (void)
{
  g_autoptr (CfqpImage) flat = cfqp_image_new (3, 16, 16);
  g_autoptr (CfqpImage) yflat = NULL, xx = NULL, y = NULL;
  g_autoptr (CfqpImage) faint = natural_image (16, 16, 0.5f, 0.52f, 7);
  g_autoptr (GError) err = NULL;
  float lo, hi;

  for (gsize i = 0; i < cfqp_image_get_n_values (flat); i++)
    flat->data[i] = 0.4f;
  yflat = forward_image (flat);
  g_assert_null (cfqp_augment_range (flat, yflat, 1.0, 99.0, 8.0, fake_forward, NULL, &err));
  g_assert_no_error (err);

  /* Contrast 0.02: the gain stops at max_gain (2), centred. */
  y = forward_image (faint);
  xx = cfqp_augment_range (faint, y, 1.0, 99.0, 2.0, fake_forward, NULL, &err);
  g_assert_no_error (err);
  g_assert_nonnull (xx);
  image_range (xx, &lo, &hi);
  g_assert_cmpfloat (hi - lo, <=, 2.0f * 0.02f * 1.3f);   /* bins of the percentiles */

  g_assert_null (cfqp_augment_range (faint, y, 1.0, 99.0, 8.0, failing_forward, NULL, &err));
  g_assert_error (err, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_BACKEND);
}

static void
test_augment_image (void)
{
  g_autoptr (CfqpImage) x = natural_image (16, 12, 0.2f, 0.7f, 4);
  g_autoptr (CfqpImage) y = forward_image (x);
  CfqpCalibSettings s;
  const struct {
    CfqpAugmentPreset preset;
    guint n;
  } cases[] = {
    { CFQP_AUGMENT_PRESET_NONE, 0 },
    { CFQP_AUGMENT_PRESET_REVIEW, 1 },
    { CFQP_AUGMENT_PRESET_CROPS, 3 },
    { CFQP_AUGMENT_PRESET_RANGE, 1 },
    { CFQP_AUGMENT_PRESET_FULL, 5 },
  };

  cfqp_calib_settings_init (&s);
  s.n_output_crops = 3;
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GPtrArray) out =
        g_ptr_array_new_with_free_func ((GDestroyNotify) cfqp_image_free);
    g_autoptr (GRand) r = g_rand_new_with_seed (1);
    g_autoptr (GError) err = NULL;

    s.augment = cfqp_augment_preset_get_flags (cases[i].preset);
    g_assert_true (cfqp_augment_image (x, y, &s, r, fake_forward, NULL, out, &err));
    g_assert_no_error (err);
    g_assert_cmpuint (out->len, ==, cases[i].n);
    for (guint j = 0; j < out->len; j++) {
      CfqpImage *a = g_ptr_array_index (out, j);
      g_assert_cmpuint (a->width, ==, 16);
      g_assert_cmpuint (a->height, ==, 12);
      g_assert_cmpuint (a->channels, ==, 3);
    }
  }
}

static void
test_names (void)
{
  CfqpAugmentFlags f;
  CfqpAugmentPreset p;
  g_autofree char *all = cfqp_augment_flags_to_string (CFQP_AUGMENT_ALL);
  g_autofree char *none = cfqp_augment_flags_to_string (CFQP_AUGMENT_NONE);

  g_assert_cmpstr (all, ==, "review+crops+range");
  g_assert_cmpstr (none, ==, "none");
  g_assert_true (cfqp_augment_flags_from_string ("range+review", &f));
  g_assert_cmpint (f, ==, CFQP_AUGMENT_RANGE | CFQP_AUGMENT_REVIEW);
  g_assert_true (cfqp_augment_flags_from_string ("none", &f));
  g_assert_cmpint (f, ==, 0);
  g_assert_false (cfqp_augment_flags_from_string ("review+blur", &f));
  g_assert_false (cfqp_augment_flags_from_string ("", &f));
  for (p = CFQP_AUGMENT_PRESET_NONE; p <= CFQP_AUGMENT_PRESET_FULL; p++) {
    CfqpAugmentPreset back;
    g_assert_true (cfqp_augment_preset_from_nick (cfqp_augment_preset_to_nick (p), &back));
    g_assert_cmpint (back, ==, p);
  }
  g_assert_cmpint (cfqp_augment_preset_get_flags (CFQP_AUGMENT_PRESET_FULL), ==,
      CFQP_AUGMENT_ALL);
  g_assert_false (cfqp_augment_preset_from_nick ("most", &p));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/calib/augment/resize", test_resize);
  g_test_add_func ("/calib/augment/review", test_review);
  g_test_add_func ("/calib/augment/crops", test_crops);
  g_test_add_func ("/calib/augment/range-reaches", test_range_reaches);
  g_test_add_func ("/calib/augment/range-flat-and-gain", test_range_flat_and_gain);
  g_test_add_func ("/calib/augment/image", test_augment_image);
  g_test_add_func ("/calib/augment/names", test_names);
  return g_test_run ();
}
