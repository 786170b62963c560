/* Range → uint8 affine quantisation parameters, and per-channel steps. */
#include "cfqp-calib.h"

#include <math.h>

CfqpQParams
cfqp_qparams_pixel (void)
{
  return (CfqpQParams) { 1.0f / 255.0f, 0 };
}

/* A residual that is added onto pixels into pixels adds, on the pixel
 * step, a whole number of steps to the anchor: the program's sum is then
 * exact, where a finer grid rounds twice (the residual, then the sum).  A
 * grid much coarser than the pixel step stays: rounded up to whole steps it
 * would be coarser still, which costs more than the second rounding
 * (docs/cfqp.md). */
CfqpQParams
cfqp_qparams_snap_to_pixel_step (CfqpQParams qp)
{
  const float pixel = cfqp_qparams_pixel ().scale;
  double centre = (double) qp.scale * (127.5 - qp.zero_point);
  CfqpQParams out;

  /* up to 10 % coarser too: the range the observer chose shrinks by as
   * much, which costs little near its optimum (MSE is flat there) */
  if (!(qp.scale <= pixel * 1.1))
    return qp;
  out.scale = pixel;
  out.zero_point = (gint32) CLAMP (rint (127.5 - centre / pixel), 0.0, 255.0);
  return out;
}

/* PyTorch's asymmetric rule: s = (hi − lo)/255, z = round(−lo/s) clamped,
 * so that 0 is exactly q = z.  The represented range is then
 * [−z·s, (255 − z)·s], within half a step of [lo, hi]. */
CfqpQParams
cfqp_qparams_from_range (float lo, float hi)
{
  CfqpQParams qp;
  double l = isfinite (lo) ? MIN (lo, 0.0f) : 0.0;
  double h = isfinite (hi) ? MAX (hi, 0.0f) : 0.0;
  double z;

  qp.scale = (float) ((h - l) / 255.0);
  if (!(qp.scale >= CFQP_MIN_SCALE))
    qp.scale = CFQP_MIN_SCALE;
  z = rint (-l / qp.scale);   /* ties to even, as torch.round */
  qp.zero_point = (gint32) CLAMP (z, 0.0, 255.0);
  return qp;
}

void
cfqp_channel_steps_from_ranges (const float *lo, const float *hi, guint n, double exponent,
                                float *steps)
{
  double widest = 0;

  for (guint c = 0; c < n; c++)
    widest = MAX (widest, (double) MAX (hi[c], 0.f) - MIN (lo[c], 0.f));
  for (guint c = 0; c < n; c++) {
    double w = (double) MAX (hi[c], 0.f) - MIN (lo[c], 0.f);
    double r = widest > 0 ? w / widest : 1.0;
    steps[c] = (float) pow (MAX (r, CFQP_CHANNEL_STEP_FLOOR), exponent);
  }
}
