/* The RD reservoir: bounds, scene-change skipping, reservoir sampling,
 * crops, determinism. */
#include "cfqp-calib.h"

#include <math.h>
#include <string.h>

#define W 32
#define H 24

/* A frame whose content is a plain level plus a ramp: frames with levels
 * far apart are different scenes. */
static void
fill_frame (float *f, guint channels, guint w, guint h, float level)
{
  for (guint c = 0; c < channels; c++)
    for (guint y = 0; y < h; y++)
      for (guint x = 0; x < w; x++)
        f[((gsize) c * h + y) * w + x] = CLAMP (level + 0.1f * x / w, 0.0f, 1.0f);
}

static void
test_bounds_samples (void)
{
  g_autoptr (CfqpReservoir) r = cfqp_reservoir_new (3, 5, G_MAXSIZE, 0, 0.0, 1);
  float f[3 * W * H];

  for (guint i = 0; i < 50; i++) {
    fill_frame (f, 3, W, H, (i % 10) / 10.0f);
    cfqp_reservoir_add (r, f, W, H);
    g_assert_cmpuint (cfqp_reservoir_get_n_samples (r), <=, 5);
  }
  g_assert_cmpuint (cfqp_reservoir_get_n_samples (r), ==, 5);
  g_assert_cmpuint (cfqp_reservoir_get_n_seen (r), ==, 50);
  g_assert_cmpuint (cfqp_reservoir_get_n_distinct (r), ==, 50);  /* threshold 0 */
  g_assert_cmpuint (cfqp_reservoir_get_bytes (r), ==, 5 * sizeof f);
}

static void
test_bounds_bytes (void)
{
  gsize frame = 3 * W * H * sizeof (float);
  g_autoptr (CfqpReservoir) r = cfqp_reservoir_new (3, 100, 3 * frame + frame / 2, 0, 0.0, 1);
  g_autoptr (CfqpReservoir) tiny = cfqp_reservoir_new (3, 100, frame - 1, 0, 0.0, 1);
  float f[3 * W * H];
  float big[3 * 2 * W * H];

  for (guint i = 0; i < 20; i++) {
    fill_frame (f, 3, W, H, i / 20.0f);
    cfqp_reservoir_add (r, f, W, H);
    g_assert_cmpuint (cfqp_reservoir_get_bytes (r), <=, 3 * frame + frame / 2);
  }
  g_assert_cmpuint (cfqp_reservoir_get_n_samples (r), ==, 3);
  /* A twice larger frame (new caps) evicts others to stay in bounds. */
  for (guint i = 0; i < 20; i++) {
    fill_frame (big, 3, 2 * W, H, i / 20.0f);
    cfqp_reservoir_add (r, big, 2 * W, H);
    g_assert_cmpuint (cfqp_reservoir_get_bytes (r), <=, 3 * frame + frame / 2);
  }
  /* A frame larger than the whole budget is refused. */
  g_assert_false (cfqp_reservoir_add (tiny, f, W, H));
  g_assert_cmpuint (cfqp_reservoir_get_n_samples (tiny), ==, 0);
}

/* A static shot adds one sample; a cut adds another; slow noise under the
 * threshold does not. */
static void
test_scene_change (void)
{
  g_autoptr (CfqpReservoir) r = cfqp_reservoir_new (3, 100, G_MAXSIZE, 0, 0.05, 1);
  g_autoptr (GRand) rand = g_rand_new_with_seed (2);
  float f[3 * W * H];

  fill_frame (f, 3, W, H, 0.2f);
  g_assert_true (cfqp_reservoir_add (r, f, W, H));
  for (guint i = 0; i < 30; i++) {
    /* Sensor noise of ±0.01: a thumbnail averages it away. */
    for (guint k = 0; k < G_N_ELEMENTS (f); k++)
      f[k] = 0.2f + 0.1f * (k % W) / W + (float) (g_rand_double (rand) - 0.5) * 0.02f;
    g_assert_false (cfqp_reservoir_add (r, f, W, H));
  }
  fill_frame (f, 3, W, H, 0.7f);   /* cut */
  g_assert_true (cfqp_reservoir_add (r, f, W, H));
  g_assert_false (cfqp_reservoir_add (r, f, W, H));
  fill_frame (f, 3, W, H, 0.2f);   /* back: distinct from the last distinct frame */
  g_assert_true (cfqp_reservoir_add (r, f, W, H));
  g_assert_cmpuint (cfqp_reservoir_get_n_samples (r), ==, 3);
  g_assert_cmpuint (cfqp_reservoir_get_n_distinct (r), ==, 3);
  g_assert_cmpuint (cfqp_reservoir_get_n_seen (r), ==, 34);
  /* The stored samples are the frames themselves. */
  g_assert_cmpfloat (cfqp_reservoir_get_sample (r, 1)->data[0], ==, 0.7f);
}

/* Over many runs every distinct frame of a long stream is kept about
 * equally often (reservoir sampling, not "the first N"). */
static void
test_uniform (void)
{
  const guint n_frames = 40, k = 4, runs = 1000;
  guint hits[40] = { 0 };
  float f[1 * 8 * 8];

  for (guint run = 0; run < runs; run++) {
    g_autoptr (CfqpReservoir) r = cfqp_reservoir_new (1, k, G_MAXSIZE, 0, 0.0, run + 1);

    for (guint i = 0; i < n_frames; i++) {
      for (guint p = 0; p < G_N_ELEMENTS (f); p++)
        f[p] = (float) i;   /* the frame's index, to find it again */
      cfqp_reservoir_add (r, f, 8, 8);
    }
    for (guint s = 0; s < k; s++)
      hits[(guint) cfqp_reservoir_get_sample (r, s)->data[0]]++;
  }
  /* Expected k/n · runs = 100 per frame; binomial σ ≈ 9.5. */
  for (guint i = 0; i < n_frames; i++) {
    g_assert_cmpuint (hits[i], >, 60);
    g_assert_cmpuint (hits[i], <, 140);
  }
}

static void
test_crops_deterministic (void)
{
  g_autoptr (CfqpReservoir) a = cfqp_reservoir_new (3, 4, G_MAXSIZE, 16, 0.0, 42);
  g_autoptr (CfqpReservoir) b = cfqp_reservoir_new (3, 4, G_MAXSIZE, 16, 0.0, 42);
  g_autoptr (CfqpReservoir) c = cfqp_reservoir_new (3, 4, G_MAXSIZE, 16, 0.0, 43);
  g_autoptr (GRand) rand = g_rand_new_with_seed (1);
  float f[3 * W * H];
  gboolean differs = FALSE;

  for (guint i = 0; i < 30; i++) {
    for (guint k = 0; k < G_N_ELEMENTS (f); k++)
      f[k] = (float) g_rand_double (rand);
    cfqp_reservoir_add (a, f, W, H);
    cfqp_reservoir_add (b, f, W, H);
    cfqp_reservoir_add (c, f, W, H);
  }
  g_assert_cmpuint (cfqp_reservoir_get_n_samples (a), ==, 4);
  for (guint s = 0; s < 4; s++) {
    const CfqpImage *x = cfqp_reservoir_get_sample (a, s), *y = cfqp_reservoir_get_sample (b, s);
    const CfqpImage *z = cfqp_reservoir_get_sample (c, s);

    g_assert_cmpuint (x->width, ==, 16);
    g_assert_cmpuint (x->height, ==, 16);
    g_assert_cmpuint (x->channels, ==, 3);
    g_assert_cmpmem (x->data, 3 * 16 * 16 * sizeof (float), y->data,
        3 * 16 * 16 * sizeof (float));
    differs |= memcmp (x->data, z->data, 3 * 16 * 16 * sizeof (float)) != 0;
  }
  g_assert_true (differs);
  g_assert_cmpuint (cfqp_reservoir_get_bytes (a), ==, 4 * 3 * 16 * 16 * sizeof (float));

  /* A crop larger than a side keeps that side whole. */
  {
    g_autoptr (CfqpReservoir) r = cfqp_reservoir_new (3, 4, G_MAXSIZE, 28, 0.0, 1);
    const CfqpImage *x;

    cfqp_reservoir_add (r, f, W, H);
    x = cfqp_reservoir_get_sample (r, 0);
    g_assert_cmpuint (x->width, ==, 28);
    g_assert_cmpuint (x->height, ==, H);
  }
  cfqp_reservoir_clear (a);
  g_assert_cmpuint (cfqp_reservoir_get_n_samples (a), ==, 0);
  g_assert_cmpuint (cfqp_reservoir_get_bytes (a), ==, 0);
}

/* A crop is a window of the frame: its values appear in the frame at one
 * offset. */
static void
test_crop_content (void)
{
  g_autoptr (CfqpReservoir) r = cfqp_reservoir_new (2, 1, G_MAXSIZE, 8, 0.0, 5);
  float f[2 * W * H];
  const CfqpImage *x;
  guint x0, y0;

  for (guint k = 0; k < G_N_ELEMENTS (f); k++)
    f[k] = (float) k;
  cfqp_reservoir_add (r, f, W, H);
  x = cfqp_reservoir_get_sample (r, 0);
  x0 = (guint) x->data[0] % W;
  y0 = (guint) x->data[0] / W;
  for (guint c = 0; c < 2; c++)
    for (guint y = 0; y < 8; y++)
      for (guint xx = 0; xx < 8; xx++)
        g_assert_cmpfloat (x->data[(c * 8 + y) * 8 + xx], ==,
            f[((gsize) c * H + y0 + y) * W + x0 + xx]);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/calib/reservoir/bounds-samples", test_bounds_samples);
  g_test_add_func ("/calib/reservoir/bounds-bytes", test_bounds_bytes);
  g_test_add_func ("/calib/reservoir/scene-change", test_scene_change);
  g_test_add_func ("/calib/reservoir/uniform", test_uniform);
  g_test_add_func ("/calib/reservoir/crops-deterministic", test_crops_deterministic);
  g_test_add_func ("/calib/reservoir/crop-content", test_crop_content);
  return g_test_run ();
}
