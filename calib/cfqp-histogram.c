/* CfqpHistogram: a streaming per-tensor histogram and the ranges it gives.
 *
 * Each sign has n bins over [0, R) where R is a power of two.  When a value
 * ≥ R arrives, R doubles (as often as needed) and adjacent bin pairs merge:
 * re-binning is exact, so the order frames arrive in does not matter and no
 * interpolation error accumulates (PyTorch's HistogramObserver re-bins by
 * interpolation instead).  The data range always fills at least half of the
 * bins.  Exact zeros (ReLU outputs) are counted apart: they cost nothing
 * when quantised, since 0 is always exact. */
#include "cfqp-calib.h"

#include <float.h>
#include <math.h>

typedef struct {
  guint64 *bins;
  double   range;   /* power of two; 0 until a value of this sign arrives */
} Side;

struct _CfqpHistogram {
  guint   n_bins;
  Side    pos, neg; /* neg holds |x| of negative values */
  guint64 n_zero, count, n_nonfinite;
  float   min, max;
};

CfqpHistogram *
cfqp_histogram_new (guint n_bins)
{
  CfqpHistogram *h = g_new0 (CfqpHistogram, 1);

  h->n_bins = MAX (n_bins, 16);
  h->pos.bins = g_new0 (guint64, h->n_bins);
  h->neg.bins = g_new0 (guint64, h->n_bins);
  return h;
}

void
cfqp_histogram_free (CfqpHistogram *h)
{
  if (!h)
    return;
  g_free (h->pos.bins);
  g_free (h->neg.bins);
  g_free (h);
}

/* Grow side s so that v (> 0) falls inside [0, range). */
static void
side_grow (Side *s, guint n_bins, double v)
{
  int e;
  double r;
  guint k = 0;

  frexp (v, &e);          /* v = m·2^e, 0.5 ≤ m < 1, so 2^e > v */
  r = ldexp (1.0, e);
  if (s->range == 0.0) {
    s->range = r;
    return;
  }
  if (r <= s->range)
    return;
  while (s->range * (1u << k) < r && k < 31)
    k++;
  for (guint i = 0; i < n_bins; i++) {
    guint j = (guint) (((guint64) i) >> k);
    guint64 c = s->bins[i];

    s->bins[i] = 0;
    s->bins[j] += c;
  }
  s->range = r;
}

static inline void
side_put (Side *s, guint n_bins, double v)
{
  guint i = (guint) (v / s->range * n_bins);

  s->bins[MIN (i, n_bins - 1)]++;
}

void
cfqp_histogram_add (CfqpHistogram *h, const float *data, gsize n)
{
  float bmin = INFINITY, bmax = -INFINITY;
  guint64 finite = 0;

  /* Extremes first, so each side grows once per batch. */
  for (gsize i = 0; i < n; i++) {
    float v = data[i];

    if (!isfinite (v)) {
      h->n_nonfinite++;
      continue;
    }
    finite++;
    bmin = MIN (bmin, v);
    bmax = MAX (bmax, v);
  }
  if (!finite)
    return;
  if (h->count == 0) {
    h->min = bmin;
    h->max = bmax;
  } else {
    h->min = MIN (h->min, bmin);
    h->max = MAX (h->max, bmax);
  }
  h->count += finite;
  if (bmax > 0)
    side_grow (&h->pos, h->n_bins, bmax);
  if (bmin < 0)
    side_grow (&h->neg, h->n_bins, -(double) bmin);

  for (gsize i = 0; i < n; i++) {
    float v = data[i];

    if (v > 0 && v <= FLT_MAX)
      side_put (&h->pos, h->n_bins, v);
    else if (v < 0 && v >= -FLT_MAX)
      side_put (&h->neg, h->n_bins, -(double) v);
    else if (v == 0)
      h->n_zero++;
  }
}

guint64
cfqp_histogram_get_count (const CfqpHistogram *h)
{
  return h->count;
}

guint64
cfqp_histogram_get_n_nonfinite (const CfqpHistogram *h)
{
  return h->n_nonfinite;
}

void
cfqp_histogram_get_extremes (const CfqpHistogram *h, float *min, float *max)
{
  *min = h->count ? h->min : 0.0f;
  *max = h->count ? h->max : 0.0f;
}

/* Value at which the cumulative count, taken from the most negative value
 * up, reaches target; linear inside the bin that crosses it. */
double
cfqp_histogram_quantile (const CfqpHistogram *h, double q)
{
  guint n = h->n_bins;
  double target, cum = 0;
  double v;

  if (h->count == 0)
    return 0.0;
  q = CLAMP (q, 0.0, 1.0);
  target = q * (double) h->count;

  v = 0.0;
  if (h->neg.range > 0) {
    double w = h->neg.range / n;

    for (guint i = n; i-- > 0;) {
      double c = (double) h->neg.bins[i];

      if (c > 0 && cum + c >= target) {
        v = -((double) i + 1.0) * w + (target - cum) / c * w;
        goto done;
      }
      cum += c;
    }
  }
  if (cum + (double) h->n_zero >= target && h->n_zero > 0) {
    v = 0.0;
    goto done;
  }
  cum += (double) h->n_zero;
  if (h->pos.range > 0) {
    double w = h->pos.range / n;

    for (guint i = 0; i < n; i++) {
      double c = (double) h->pos.bins[i];

      if (c > 0 && cum + c >= target) {
        v = i * w + (target - cum) / c * w;
        goto done;
      }
      cum += c;
    }
  }
  v = h->max;
done:
  /* Bins are wider than the data at the ends: never beyond what was seen. */
  return CLAMP (v, (double) h->min, (double) h->max);
}

void
cfqp_histogram_range_minmax (const CfqpHistogram *h, float *lo, float *hi)
{
  float mn, mx;

  cfqp_histogram_get_extremes (h, &mn, &mx);
  *lo = MIN (mn, 0.0f);
  *hi = MAX (mx, 0.0f);
}

void
cfqp_histogram_range_percentile (const CfqpHistogram *h, double percentile, float *lo,
                                 float *hi)
{
  double p = CLAMP (percentile, 50.0, 100.0) / 100.0;

  *lo = (float) MIN (cfqp_histogram_quantile (h, 1.0 - p), 0.0);
  *hi = (float) MAX (cfqp_histogram_quantile (h, p), 0.0);
}

/* ---- MSE search ---------------------------------------------------- */

/* Suffix sums over one side's bins, with bin centres c: N[k], S1[k], S2[k]
 * are Σ n, Σ n·c, Σ n·c² over bins ≥ k.  They make the clipping error of a
 * threshold at a bin edge O(1). */
typedef struct {
  guint   n;        /* bins */
  double  w;        /* bin width */
  double *N, *S1, *S2;  /* n + 1 entries each */
  guint   top;      /* one past the last non-empty bin */
  double  max;      /* exact extreme |x| on this side */
} Tail;

static void
tail_init (Tail *t, const Side *s, guint n_bins, double max)
{
  t->n = n_bins;
  t->w = s->range / n_bins;
  t->N = g_new0 (double, 3 * (n_bins + 1));
  t->S1 = t->N + n_bins + 1;
  t->S2 = t->S1 + n_bins + 1;
  t->top = 0;
  t->max = max;
  for (guint i = n_bins; i-- > 0;) {
    double c = (i + 0.5) * t->w, cnt = (double) s->bins[i];

    if (cnt > 0 && t->top == 0)
      t->top = i + 1;
    t->N[i] = t->N[i + 1] + cnt;
    t->S1[i] = t->S1[i + 1] + cnt * c;
    t->S2[i] = t->S2[i + 1] + cnt * c * c;
  }
}

static void
tail_clear (Tail *t)
{
  g_free (t->N);
}

/* Clipping error of values above threshold a (|x| units) and how many
 * values it clips.  Bins straddling a count as clipped from their centre. */
static double
tail_clip (const Tail *t, double a, double *n_clipped)
{
  guint k;
  double err;

  if (t->top == 0 || a >= t->max) {
    *n_clipped = 0;
    return 0.0;
  }
  k = (guint) ceil (a / t->w - 0.5);  /* first bin whose centre is above a */
  if (k >= t->n) {
    *n_clipped = 0;
    return 0.0;
  }
  *n_clipped = t->N[k];
  err = t->S2[k] - 2 * a * t->S1[k] + a * a * t->N[k] + t->N[k] * t->w * t->w / 12;
  return MAX (err, 0.0);
}

static double
total_error (const CfqpHistogram *h, const Tail *pos, const Tail *neg, double lo, double hi)
{
  double np = 0, nn = 0, err = 0;
  double s = (hi - lo) / 255.0;
  double inside;

  if (pos)
    err += tail_clip (pos, hi, &np);
  if (neg)
    err += tail_clip (neg, -lo, &nn);
  inside = (double) (h->count - h->n_zero) - np - nn;
  return err + MAX (inside, 0.0) * s * s / 12.0;
}

double
cfqp_histogram_quant_mse (const CfqpHistogram *h, float lo, float hi)
{
  Tail pos, neg;
  double err;

  if (h->count == 0)
    return 0.0;
  tail_init (&pos, &h->pos, h->n_bins, MAX (h->max, 0.0f));
  tail_init (&neg, &h->neg, h->n_bins, MAX (-h->min, 0.0f));
  err = total_error (h, &pos, &neg, MIN (lo, 0.0f), MAX (hi, 0.0f));
  tail_clear (&pos);
  tail_clear (&neg);
  return err / (double) h->count;
}

/* Candidate thresholds of one side: bin edges up to the exact extreme,
 * every step-th, the extreme itself last. */
static double
candidate (const Tail *t, guint i, guint step, guint n_cand)
{
  if (i + 1 >= n_cand)
    return t->max;
  return MIN ((i + 1) * step * t->w, t->max);
}

static guint
n_candidates (const Tail *t, guint step)
{
  if (t->top == 0)
    return 0;
  return (t->top + step - 1) / step + 1;
}

/* Best threshold on one side with the other side fixed. */
static double
search_side (const CfqpHistogram *h, const Tail *pos, const Tail *neg, gboolean positive,
             double other, guint step)
{
  const Tail *t = positive ? pos : neg;
  guint nc = n_candidates (t, step);
  double best = t->max, best_err = INFINITY;

  for (guint i = 0; i < nc; i++) {
    double a = candidate (t, i, step, nc);
    double e = positive ? total_error (h, pos, neg, -other, a)
                        : total_error (h, pos, neg, -a, other);

    if (e < best_err) {
      best_err = e;
      best = a;
    }
  }
  return best;
}

void
cfqp_histogram_range_mse (const CfqpHistogram *h, float *lo, float *hi)
{
  Tail pos, neg;
  double a_pos = 0, a_neg = 0;
  gboolean has_pos, has_neg;

  if (h->count == 0 || h->count == h->n_zero) {
    *lo = *hi = 0.0f;
    return;
  }
  tail_init (&pos, &h->pos, h->n_bins, MAX (h->max, 0.0f));
  tail_init (&neg, &h->neg, h->n_bins, MAX (-h->min, 0.0f));
  has_pos = pos.top > 0;
  has_neg = neg.top > 0;

  if (has_pos && !has_neg) {
    a_pos = search_side (h, &pos, &neg, TRUE, 0.0, 1);
  } else if (has_neg && !has_pos) {
    a_neg = search_side (h, &pos, &neg, FALSE, 0.0, 1);
  } else {
    /* Both signs: a coarse joint grid, then alternate exact 1-D searches
     * (the error is smooth enough in each threshold for this to settle). */
    guint sp = MAX (1, pos.top / 64), sn = MAX (1, neg.top / 64);
    guint np = n_candidates (&pos, sp), nn = n_candidates (&neg, sn);
    double best = INFINITY;

    for (guint i = 0; i < np; i++) {
      double ap = candidate (&pos, i, sp, np);

      for (guint j = 0; j < nn; j++) {
        double an = candidate (&neg, j, sn, nn);
        double e = total_error (h, &pos, &neg, -an, ap);

        if (e < best) {
          best = e;
          a_pos = ap;
          a_neg = an;
        }
      }
    }
    for (guint it = 0; it < 3; it++) {
      a_pos = search_side (h, &pos, &neg, TRUE, a_neg, 1);
      a_neg = search_side (h, &pos, &neg, FALSE, a_pos, 1);
    }
  }
  tail_clear (&pos);
  tail_clear (&neg);
  *lo = (float) -a_neg;
  *hi = (float) a_pos;
}
