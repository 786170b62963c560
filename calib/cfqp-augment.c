/* CFQP augmentation: new RD images made from the FP32 model's own outputs,
 * no ground truth (see quantization.md).  Every image made here is clamped
 * to [0,1]: at run time the input tensor is the frame's bytes, so inputs
 * outside [0,1] would widen ranges for values that never occur. */
#include "cfqp-calib-private.h"

#include <math.h>
#include <string.h>

/* ---- flags and presets -------------------------------------------- */

static const struct {
  CfqpAugmentFlags flag;
  const char      *nick;
} flag_nicks[] = {
  { CFQP_AUGMENT_REVIEW, "review" },
  { CFQP_AUGMENT_CROPS, "crops" },
  { CFQP_AUGMENT_RANGE, "range" },
};

static const char *const preset_nicks[] = {
  [CFQP_AUGMENT_PRESET_NONE] = "none",
  [CFQP_AUGMENT_PRESET_REVIEW] = "review",
  [CFQP_AUGMENT_PRESET_CROPS] = "crops",
  [CFQP_AUGMENT_PRESET_RANGE] = "range",
  [CFQP_AUGMENT_PRESET_FULL] = "full",
};

CfqpAugmentFlags
cfqp_augment_preset_get_flags (CfqpAugmentPreset preset)
{
  switch (preset) {
    case CFQP_AUGMENT_PRESET_NONE:
      return CFQP_AUGMENT_NONE;
    case CFQP_AUGMENT_PRESET_REVIEW:
      return CFQP_AUGMENT_REVIEW;
    case CFQP_AUGMENT_PRESET_CROPS:
      return CFQP_AUGMENT_CROPS;
    case CFQP_AUGMENT_PRESET_RANGE:
      return CFQP_AUGMENT_RANGE;
    case CFQP_AUGMENT_PRESET_FULL:
      return CFQP_AUGMENT_ALL;
  }
  g_return_val_if_reached (CFQP_AUGMENT_NONE);
}

const char *
cfqp_augment_preset_to_nick (CfqpAugmentPreset preset)
{
  g_return_val_if_fail (preset < G_N_ELEMENTS (preset_nicks), NULL);
  return preset_nicks[preset];
}

gboolean
cfqp_augment_preset_from_nick (const char *nick, CfqpAugmentPreset *preset)
{
  for (guint i = 0; i < G_N_ELEMENTS (preset_nicks); i++) {
    if (g_strcmp0 (nick, preset_nicks[i]) == 0) {
      *preset = i;
      return TRUE;
    }
  }
  return FALSE;
}

char *
cfqp_augment_flags_to_string (CfqpAugmentFlags flags)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (flag_nicks); i++) {
    if (flags & flag_nicks[i].flag)
      g_string_append_printf (s, "%s%s", s->len ? "+" : "", flag_nicks[i].nick);
  }
  if (s->len == 0)
    g_string_append (s, "none");
  return g_string_free (s, FALSE);
}

gboolean
cfqp_augment_flags_from_string (const char *str, CfqpAugmentFlags *flags)
{
  g_auto (GStrv) parts = NULL;
  CfqpAugmentFlags f = CFQP_AUGMENT_NONE;

  if (!str || !*str)
    return FALSE;
  if (strcmp (str, "none") == 0) {
    *flags = CFQP_AUGMENT_NONE;
    return TRUE;
  }
  parts = g_strsplit (str, "+", -1);
  for (guint p = 0; parts[p]; p++) {
    gboolean found = FALSE;

    for (guint i = 0; i < G_N_ELEMENTS (flag_nicks); i++) {
      if (strcmp (parts[p], flag_nicks[i].nick) == 0) {
        f |= flag_nicks[i].flag;
        found = TRUE;
      }
    }
    if (!found)
      return FALSE;
  }
  *flags = f;
  return TRUE;
}

/* ---- (a) output re-view ------------------------------------------- */

/* The model's own sharpened view of the scene at input size. */
CfqpImage *
cfqp_augment_review (const CfqpImage *y, guint width, guint height)
{
  CfqpImage *v = cfqp_image_resize_bicubic (y, width, height);

  cfqp_image_clamp (v, 0.0f, 1.0f);
  return v;
}

/* ---- (b) output crops --------------------------------------------- */

/* Input-sized windows of y: its high-frequency detail at 1:1 scale. */
void
cfqp_augment_crops (const CfqpImage *y, guint width, guint height, guint n, GRand *rand,
                    GPtrArray *out)
{
  guint cw = MIN (width, y->width), ch = MIN (height, y->height);

  for (guint i = 0; i < n; i++) {
    guint x0 = g_rand_int_range (rand, 0, y->width - cw + 1);
    guint y0 = g_rand_int_range (rand, 0, y->height - ch + 1);
    CfqpImage *c = cfqp_image_crop (y, x0, y0, cw, ch);

    cfqp_image_clamp (c, 0.0f, 1.0f);
    g_ptr_array_add (out, c);
  }
}

/* ---- (c) range targeting ------------------------------------------ */

#define RANGE_TOL 0.02
#define RANGE_ITERATIONS 6

static void
quantiles (const CfqpImage *im, double low_pct, double high_pct, double *lo, double *hi)
{
  g_autoptr (CfqpHistogram) h = cfqp_histogram_new (4096);

  cfqp_histogram_add (h, im->data, cfqp_image_get_n_values (im));
  *lo = cfqp_histogram_quantile (h, low_pct / 100.0);
  *hi = cfqp_histogram_quantile (h, high_pct / 100.0);
}

/* x' = clamp((x − u0) / (u1 − u0)): u0, u1 are the input levels sent to
 * black and white. */
static CfqpImage *
apply_levels (const CfqpImage *x, double u0, double u1)
{
  CfqpImage *o = cfqp_image_new (x->channels, x->width, x->height);
  gsize n = cfqp_image_get_n_values (x);
  double a = 1.0 / (u1 - u0);

  for (gsize i = 0; i < n; i++)
    o->data[i] = (float) CLAMP ((x->data[i] - u0) * a, 0.0, 1.0);
  return o;
}

/* Narrower than 1/max_gain: widen around the centre. */
static void
bound_gain (double *u0, double *u1, double max_gain)
{
  double mid = 0.5 * (*u0 + *u1);

  if (*u1 - *u0 < 1.0 / max_gain) {
    *u0 = mid - 0.5 / max_gain;
    *u1 = mid + 0.5 / max_gain;
  }
}

/* One secant step of an endpoint towards output target t, or NAN when the
 * last two steps did not move the output. */
static double
secant (double u, double u_prev, double q, double q_prev, double t, double width)
{
  double step;

  if (fabs (q - q_prev) < 1e-6 || !isfinite (u_prev))
    return NAN;
  step = (t - q) * (u - u_prev) / (q - q_prev);
  return u + CLAMP (step, -width, width);
}

/* x' = clamp(a·x + b) with the low/high output percentiles of f(x') at 0
 * and 1.  SR networks nearly commute with an intensity affine map (they
 * predict detail over an upsampling of x), so the first levels come from
 * y's percentiles; the clamp of x' and the network's nonlinearity leave an
 * error that secant steps on each end, measured on f(x') itself, remove.
 * The best iterate is kept. */
CfqpImage *
cfqp_augment_range (const CfqpImage *x, const CfqpImage *y, double low_pct,
                    double high_pct, double max_gain, CfqpForwardFunc forward,
                    gpointer user_data, GError **error)
{
  g_autoptr (CfqpImage) yy = cfqp_image_new (y->channels, y->width, y->height);
  CfqpImage *best = NULL;
  double best_err = INFINITY;
  double qlo, qhi, u0, u1, p0 = NAN, p1 = NAN, plo = NAN, phi = NAN;

  quantiles (y, low_pct, high_pct, &qlo, &qhi);
  if (qhi - qlo < 1e-3)
    return NULL;   /* flat: no gain makes it span [0,1] */
  /* Assume f(a·x + b) ≈ a·f(x) + b: x levels whose outputs are 0 and 1. */
  u0 = qlo;
  u1 = qhi;
  for (guint it = 0; it < RANGE_ITERATIONS; it++) {
    g_autoptr (CfqpImage) xx = NULL;
    double err, n0, n1, w;

    bound_gain (&u0, &u1, max_gain);
    xx = apply_levels (x, u0, u1);
    if (!forward (xx, yy, user_data, error)) {
      cfqp_image_free (best);
      return NULL;
    }
    quantiles (yy, low_pct, high_pct, &qlo, &qhi);
    err = MAX (fabs (qlo), fabs (qhi - 1.0));
    g_debug ("range it %u: levels %g..%g -> %g..%g", it, u0, u1, qlo, qhi);
    if (err < best_err) {
      best_err = err;
      g_clear_pointer (&best, cfqp_image_free);
      best = g_steal_pointer (&xx);
    }
    if (err < RANGE_TOL || qhi - qlo < 1e-3)
      break;
    w = u1 - u0;
    n0 = secant (u0, p0, qlo, plo, 0.0, w);
    n1 = secant (u1, p1, qhi, phi, 1.0, w);
    /* No usable history: the affine step (x' = qlo gave output 0). */
    if (isnan (n0))
      n0 = u0 + qlo * w;
    if (isnan (n1))
      n1 = u0 + qhi * w;
    p0 = u0;
    p1 = u1;
    plo = qlo;
    phi = qhi;
    u0 = n0;
    u1 = MAX (n1, n0 + 1e-6);
  }
  return best;
}

gboolean
cfqp_augment_image (const CfqpImage *x, const CfqpImage *y,
                    const CfqpCalibSettings *s, GRand *rand, CfqpForwardFunc forward,
                    gpointer user_data, GPtrArray *out, GError **error)
{
  if (s->augment & CFQP_AUGMENT_REVIEW)
    g_ptr_array_add (out, cfqp_augment_review (y, x->width, x->height));
  if (s->augment & CFQP_AUGMENT_CROPS)
    cfqp_augment_crops (y, x->width, x->height, s->n_output_crops, rand, out);
  if (s->augment & CFQP_AUGMENT_RANGE) {
    GError *err = NULL;
    CfqpImage *r = cfqp_augment_range (x, y, s->range_low_pct, s->range_high_pct,
        s->range_max_gain, forward, user_data, &err);

    if (err) {
      g_propagate_error (error, err);
      return FALSE;
    }
    if (r)
      g_ptr_array_add (out, r);
  }
  return TRUE;
}
