/* INT8 conv weights (cfqp-int8-weights.c): each filter keeps the rounded sum
 * of its taps, every tap stays within one step of its exact value, nearest
 * rounding is kept where it already has the right sum, and integer (QDQ)
 * weights come out unchanged. */
#include "cfqp-int8.h"

#include <math.h>

typedef struct {
  const char *name;
  guint oc, ic, groups, kh, kw, stride, dilation;
  gboolean transpose;
} WeightCase;

static const WeightCase cases[] = {
  { "conv3x3", 12, 5, 1, 3, 3, 1, 1, FALSE },
  { "conv1x1", 7, 9, 1, 1, 1, 1, 1, FALSE },
  { "grouped", 8, 8, 4, 3, 3, 1, 1, FALSE },
  { "strided5x3", 6, 3, 1, 5, 3, 2, 1, FALSE },
  { "transpose4x4-s2", 5, 6, 1, 4, 4, 2, 1, TRUE },
  { "transpose5x5-s3-d2", 4, 3, 1, 5, 5, 3, 2, TRUE },
};

/* A conv of the case's shape over the weights w (not copied). */
static CfqpConvParams
conv_params (const WeightCase *tc, float *w)
{
  CfqpConvParams cp = { 0 };

  cp.kernel_h = tc->kh;
  cp.kernel_w = tc->kw;
  cp.stride_h = cp.stride_w = tc->stride;
  cp.dilation_h = cp.dilation_w = tc->dilation;
  cp.groups = tc->groups;
  cp.in_channels = tc->ic;
  cp.out_channels = tc->oc;
  cp.weight = w;
  return cp;
}

static CfqpConvParams
random_conv (const WeightCase *tc, GRand *rand, gsize *n_w)
{
  CfqpConvParams cp;

  *n_w = (gsize) tc->oc * (tc->ic / tc->groups) * tc->kh * tc->kw;
  cp = conv_params (tc, g_new (float, *n_w));
  for (gsize e = 0; e < *n_w; e++)
    cp.weight[e] = (float) g_rand_double_range (rand, -1.0, 1.0);
  return cp;
}

/* One 3×3 filter, and 4 outputs × 2 inputs of 3×3, stride 1. */
static const WeightCase one_filter = { "one-filter", 1, 1, 1, 3, 3, 1, 1, FALSE };
static const WeightCase four_by_two = { "four-by-two", 4, 2, 1, 3, 3, 1, 1, FALSE };

/* The taps of filter f that one output phase sees (all of them for a conv). */
static guint
phase_taps (const WeightCase *tc, guint py, guint px, guint *tap)
{
  guint s = tc->transpose ? tc->stride : 1, n = 0;

  for (guint ky = 0; ky < tc->kh; ky++)
    for (guint kx = 0; kx < tc->kw; kx++)
      if ((ky * tc->dilation) % s == py && (kx * tc->dilation) % s == px)
        tap[n++] = ky * tc->kw + kx;
  return n;
}

static void
check_case (const WeightCase *tc, CfqpConvParams *cp, gsize n_w, const gint8 *q,
    const double *ws, guint *moved)
{
  guint k = tc->kh * tc->kw, s = tc->transpose ? tc->stride : 1;
  guint icg = tc->ic / tc->groups, ocg = tc->oc / tc->groups;
  g_autofree guint *tap = g_new (guint, k);

  for (gsize f = 0; f < n_w / k; f++) {
    /* output channel of filter f ([OC][IC/g] or, transposed, [IC][OC/g]) */
    guint oc = tc->transpose ? (guint) (f / ocg / icg * ocg + f % ocg) : (guint) (f / icg);
    for (guint py = 0; py < s; py++)
      for (guint px = 0; px < s; px++) {
        guint n = phase_taps (tc, py, px, tap);
        double sum_u = 0;
        gint sum_q = 0, sum_nearest = 0;

        for (guint i = 0; i < n; i++) {
          double u = cp->weight[f * k + tap[i]] / ws[oc];
          sum_u += u;
          sum_q += q[f * k + tap[i]];
          sum_nearest += (gint) lround (u);
          g_assert_cmpfloat (fabs (q[f * k + tap[i]] - u), <, 1.0);
          g_assert_cmpint (q[f * k + tap[i]], >=, -127);
          g_assert_cmpint (q[f * k + tap[i]], <=, 127);
          *moved += q[f * k + tap[i]] != lround (u);
        }
        g_assert_cmpint (sum_q, ==, (gint) round (sum_u));
        if (sum_nearest == (gint) round (sum_u))
          for (guint i = 0; i < n; i++)
            g_assert_cmpint (q[f * k + tap[i]], ==, lround (cp->weight[f * k + tap[i]] / ws[oc]));
      }
  }
}

static void
test_tap_sums (gconstpointer data)
{
  const WeightCase *tc = data;
  g_autoptr (GRand) rand = g_rand_new_with_seed (g_str_hash (tc->name));
  guint moved = 0;

  for (guint rep = 0; rep < 20; rep++) {
    gsize n_w;
    CfqpConvParams cp = random_conv (tc, rand, &n_w);
    g_autofree double *ws = g_new (double, tc->oc);
    g_autofree gint8 *q = g_new (gint8, n_w);

    cfqp_int8_conv_weight_scales (&cp, tc->transpose, ws);
    g_assert_true (cfqp_int8_quantize_conv_weights (&cp, tc->transpose, ws, q));
    check_case (tc, &cp, n_w, q, ws, &moved);
    g_free (cp.weight);
  }
  /* nearest rounding alone misses the sum of random taps often: the test
   * must have exercised the correction */
  if (tc->kh * tc->kw > 1)
    g_assert_cmpuint (moved, >, 0);
}

/* A filter whose every tap is 0.4 step above an integer: nearest rounding
 * makes a flat input's response 0.4·k steps too small. */
static void
test_flat_gain (void)
{
  float w[9];
  gint8 q[9];
  double ws = 1.0 / 127;
  gint sum = 0;
  CfqpConvParams cp = conv_params (&one_filter, w);

  w[0] = 1.0f;                           /* sets the scale to 1/127 */
  for (guint t = 1; t < 9; t++)
    w[t] = (float) ((10 + 0.4) / 127);
  cfqp_int8_conv_weight_scales (&cp, FALSE, &ws);
  g_assert_true (cfqp_int8_quantize_conv_weights (&cp, FALSE, &ws, q));
  g_assert_cmpint (q[0], ==, 127);
  for (guint t = 0; t < 9; t++)
    sum += q[t];
  g_assert_cmpint (sum, ==, 127 + 83);   /* round(127 + 8 × 10.4) */
}

/* Weights already on the int8 grid (a QDQ model's) are taken as they are. */
static void
test_integer_weights_kept (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (7);
  float w[4 * 2 * 9], scale[4];
  gint8 want[4 * 2 * 9], q[4 * 2 * 9];
  double ws[4];
  CfqpConvParams cp = conv_params (&four_by_two, w);

  cp.weight_scale = scale;
  for (guint oc = 0; oc < 4; oc++)
    scale[oc] = (float) g_rand_double_range (rand, 1e-4, 1e-1);
  for (guint e = 0; e < G_N_ELEMENTS (w); e++) {
    want[e] = (gint8) g_rand_int_range (rand, -127, 128);
    w[e] = want[e] * scale[e / 18];
  }
  cfqp_int8_conv_weight_scales (&cp, FALSE, ws);
  g_assert_true (cfqp_int8_quantize_conv_weights (&cp, FALSE, ws, q));
  g_assert_cmpmem (q, sizeof q, want, sizeof want);
}

static void
test_not_finite (void)
{
  float w[9] = { 0.1f, 0.2f, NAN, 0, 0, 0, 0, 0, 0 };
  gint8 q[9];
  double ws = 1.0;
  CfqpConvParams cp = conv_params (&one_filter, w);

  g_assert_false (cfqp_int8_quantize_conv_weights (&cp, FALSE, &ws, q));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *path = g_strdup_printf ("/int8-weights/tap-sums/%s", cases[i].name);
    g_test_add_data_func (path, &cases[i], test_tap_sums);
  }
  g_test_add_func ("/int8-weights/flat-gain", test_flat_gain);
  g_test_add_func ("/int8-weights/integer-kept", test_integer_weights_kept);
  g_test_add_func ("/int8-weights/not-finite", test_not_finite);
  return g_test_run ();
}
