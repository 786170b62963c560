/* Range → uint8 affine quantisation parameters. */
#include "cfqp-calib.h"

#include <math.h>

CfqpQParams
cfqp_qparams_pixel (void)
{
  return (CfqpQParams) { 1.0f / 255.0f, 0 };
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
