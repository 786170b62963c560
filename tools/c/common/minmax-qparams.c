/* INT8 parameters from one frame's observed min/max. */
#include "minmax-qparams.h"

#include <math.h>

typedef struct {
  float *lo, *hi;
} Ranges;

static void
observe_range (guint tensor, const float *data, guint c, guint h, guint w, gpointer user_data)
{
  Ranges *r = user_data;
  for (gsize e = 0; e < (gsize) c * h * w; e++) {
    r->lo[tensor] = MIN (r->lo[tensor], data[e]);
    r->hi[tensor] = MAX (r->hi[tensor], data[e]);
  }
}

CfqpQParams *
minmax_qparams_observe (CfqpModel *model, const float *in, guint width, guint height,
    float *out, GError **error)
{
  guint n_t = cfqp_model_get_n_tensors (model);
  g_autofree float *lo = g_new0 (float, n_t), *hi = g_new0 (float, n_t);
  Ranges ranges = { lo, hi };
  CfqpQParams *qp;

  if (!cfqp_model_observe_f32 (model, in, width, height, out, observe_range, &ranges, error))
    return NULL;
  qp = g_new (CfqpQParams, n_t);
  for (guint t = 0; t < n_t; t++) {
    qp[t].scale = MAX ((hi[t] - lo[t]) / 255.f, 1e-6f);
    qp[t].zero_point = (gint32) CLAMP (lroundf (-lo[t] / qp[t].scale), 0, 255);
  }
  return qp;
}
