/* INT8 conv weights: per output channel scales and the int8 taps.
 *
 * Rounding each tap to nearest errs on every tap alike, and on a flat input
 * (most of an image, and of the feature maps that carry it) a filter's gain
 * is off by the sum of its taps' errors: up to k/2 steps for k taps.  A net
 * that carries the picture itself through a conv, as XLSR's side conv does
 * once trained from an interpolator, lost ~10 dB of PSNR(INT8, FP32) that
 * way (docs/cfqp.md, "Weight rounding").  So every filter (one output
 * channel's taps on one input channel, per output phase for a transposed
 * conv) keeps the nearest integer to its exact tap sum: the taps whose
 * rounding came closest to a tie go the other way until it does.  Each tap
 * stays within one step of its exact value, and integer weights (a QDQ
 * model's) are kept as they are.  Taps beyond ±127 steps (a QDQ file whose
 * scale does not fit its weights, or int8's −128) saturate at ±127.
 * A 16-bit program's int16 taps follow the same rules on ±32767 steps. */
#include "cfqp-int8.h"

#include <float.h>
#include <math.h>
#include <string.h>

/* Output channel of weight element e ([OC][IC/g][k] or, transposed, [IC][OC/g][k]). */
static guint
weight_out_channel (const CfqpConvParams *cp, gboolean transpose, gsize e)
{
  gsize k = (gsize) cp->kernel_h * cp->kernel_w;
  guint icg = cp->in_channels / cp->groups, ocg = cp->out_channels / cp->groups;

  if (!transpose)
    return (guint) (e / (icg * k));
  return (guint) ((e / (ocg * k)) / icg * ocg + (e / k) % ocg);
}

/* Per output channel, the largest |w| over its inputs and taps / limit,
 * rounded to float (the scale a QDQ export stores, so that an exported
 * model re-imported computes with exactly the same multipliers); 1 for an
 * all-zero channel. */
static void
max_abs_scales (const CfqpConvParams *cp, gboolean transpose, double limit, double *wscale)
{
  guint oc_n = cp->out_channels;
  gsize n_w = (gsize) oc_n * (cp->in_channels / cp->groups) * cp->kernel_h * cp->kernel_w;

  memset (wscale, 0, oc_n * sizeof (double));
  for (gsize e = 0; e < n_w; e++) {
    guint oc = weight_out_channel (cp, transpose, e);
    wscale[oc] = MAX (wscale[oc], fabs (cp->weight[e]));
  }
  for (guint oc = 0; oc < oc_n; oc++)
    wscale[oc] = wscale[oc] > 0 ? MAX ((double) (float) (wscale[oc] / limit), FLT_MIN) : 1.0;
}

void
cfqp_int8_conv_weight_scales (const CfqpConvParams *cp, gboolean transpose, double *wscale)
{
  if (cp->weight_scale) {
    /* a QDQ model's own scales (validated finite and > 0 at import) */
    for (guint oc = 0; oc < cp->out_channels; oc++)
      wscale[oc] = cp->weight_scale[oc];
    return;
  }
  max_abs_scales (cp, transpose, 127.0, wscale);
}

void
cfqp_int16_conv_weight_scales (const CfqpConvParams *cp, gboolean transpose, double *wscale)
{
  /* from the float weights, a QDQ model's too (its int8 grid is coarser) */
  max_abs_scales (cp, transpose, 32767.0, wscale);
}

/* One filter's taps (u: exact values in steps, q: their nearest roundings
 * within ±limit, both indexed by tap[0..n)): moves the roundings nearest to
 * a tie until sum(q) is the nearest integer to sum(u). */
static void
keep_tap_sum (const double *u, gint32 *q, const guint *tap, guint n, gint32 limit)
{
  double sum_u = 0;
  gint have = 0, want;

  for (guint i = 0; i < n; i++) {
    sum_u += u[tap[i]];
    have += q[tap[i]];
  }
  /* a QDQ file's scale may make u huge: the saturated taps' sum bounds it */
  want = (gint) round (CLAMP (sum_u, -(double) limit * n, (double) limit * n));
  while (have != want) {
    gint d = want > have ? 1 : -1;
    gint best = -1;
    double best_r = 0;

    for (guint i = 0; i < n; i++) {
      guint t = tap[i];
      double r = d * (u[t] - q[t]);   /* > 0: the tap was rounded against d */
      if (r > best_r && q[t] + d >= -limit && q[t] + d <= limit) {
        best_r = r;
        best = (gint) t;
      }
    }
    if (best < 0)
      break;                          /* only taps at ±limit or exact are left */
    q[best] += d;
    have += d;
  }
}

/* The taps on ±limit steps into wq (n_w entries). */
static gboolean
quantize_taps (const CfqpConvParams *cp, gboolean transpose, const double *wscale,
    gint32 limit, gint32 *wq)
{
  guint kh = cp->kernel_h, kw = cp->kernel_w;
  gsize k = (gsize) kh * kw;
  gsize n_w = (gsize) cp->out_channels * (cp->in_channels / cp->groups) * k;
  /* a transposed conv's output phase (y mod stride, x mod stride) sees the
   * taps whose offset (tap × dilation) is of one residue class: each class
   * is a filter of its own */
  guint sh = transpose ? MAX (cp->stride_h, 1) : 1, sw = transpose ? MAX (cp->stride_w, 1) : 1;
  g_autofree double *u = g_new (double, k);
  g_autofree guint *tap = g_new (guint, k);

  for (gsize e = 0; e < n_w; e++)
    if (!isfinite (cp->weight[e]))
      return FALSE;
  for (gsize f = 0; f < n_w / k; f++) {
    double s = wscale[weight_out_channel (cp, transpose, f * k)];
    gint32 *q = wq + f * k;

    for (gsize t = 0; t < k; t++) {
      u[t] = cp->weight[f * k + t] / s;
      /* saturated before rounding: lround of a huge ratio (a QDQ file's
       * weight far off its scale) is unspecified */
      q[t] = (gint32) lround (CLAMP (u[t], -(double) limit, (double) limit));
    }
    for (guint py = 0; py < sh; py++)
      for (guint px = 0; px < sw; px++) {
        guint n = 0;
        for (guint ky = 0; ky < kh; ky++)
          for (guint kx = 0; kx < kw; kx++)
            if ((ky * cp->dilation_h) % sh == py && (kx * cp->dilation_w) % sw == px)
              tap[n++] = ky * kw + kx;
        keep_tap_sum (u, q, tap, n, limit);
      }
  }
  return TRUE;
}

static gsize
n_weights (const CfqpConvParams *cp)
{
  return (gsize) cp->out_channels * (cp->in_channels / cp->groups) * cp->kernel_h *
      cp->kernel_w;
}

gboolean
cfqp_int8_quantize_conv_weights (const CfqpConvParams *cp, gboolean transpose,
    const double *wscale, gint8 *wq)
{
  gsize n_w = n_weights (cp);
  g_autofree gint32 *q = g_new (gint32, n_w);

  if (!quantize_taps (cp, transpose, wscale, 127, q))
    return FALSE;
  for (gsize e = 0; e < n_w; e++)
    wq[e] = (gint8) q[e];
  return TRUE;
}

gboolean
cfqp_int16_quantize_conv_weights (const CfqpConvParams *cp, gboolean transpose,
    const double *wscale, gint16 *wq)
{
  gsize n_w = n_weights (cp);
  g_autofree gint32 *q = g_new (gint32, n_w);

  if (!quantize_taps (cp, transpose, wscale, 32767, q))
    return FALSE;
  for (gsize e = 0; e < n_w; e++)
    wq[e] = (gint16) q[e];
  return TRUE;
}
