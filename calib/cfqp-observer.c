/* CfqpObserver: one streaming histogram per tensor of a model, fed by
 * cfqp_model_observe_f32, and the range each observer kind picks. */
#include "cfqp-calib.h"

struct _CfqpObserver {
  guint           n_tensors;
  CfqpHistogram **hists;
};

static const char *const kind_nicks[] = {
  [CFQP_OBSERVER_MINMAX] = "minmax",
  [CFQP_OBSERVER_PERCENTILE] = "percentile",
  [CFQP_OBSERVER_MSE] = "mse",
};

const char *
cfqp_observer_kind_to_nick (CfqpObserverKind kind)
{
  g_return_val_if_fail (kind < G_N_ELEMENTS (kind_nicks), NULL);
  return kind_nicks[kind];
}

gboolean
cfqp_observer_kind_from_nick (const char *nick, CfqpObserverKind *kind)
{
  for (guint i = 0; i < G_N_ELEMENTS (kind_nicks); i++) {
    if (g_strcmp0 (nick, kind_nicks[i]) == 0) {
      *kind = i;
      return TRUE;
    }
  }
  return FALSE;
}

CfqpObserver *
cfqp_observer_new (guint n_tensors, guint n_bins)
{
  CfqpObserver *obs = g_new0 (CfqpObserver, 1);

  obs->n_tensors = n_tensors;
  obs->hists = g_new0 (CfqpHistogram *, MAX (n_tensors, 1));
  for (guint i = 0; i < n_tensors; i++)
    obs->hists[i] = cfqp_histogram_new (n_bins);
  return obs;
}

void
cfqp_observer_free (CfqpObserver *obs)
{
  if (!obs)
    return;
  for (guint i = 0; i < obs->n_tensors; i++)
    cfqp_histogram_free (obs->hists[i]);
  g_free (obs->hists);
  g_free (obs);
}

guint
cfqp_observer_get_n_tensors (const CfqpObserver *obs)
{
  return obs->n_tensors;
}

void
cfqp_observer_add (CfqpObserver *obs, guint tensor, const float *data, gsize n)
{
  g_return_if_fail (tensor < obs->n_tensors);
  cfqp_histogram_add (obs->hists[tensor], data, n);
}

void
cfqp_observer_tensor_func (guint tensor, const float *data, guint channels, guint height,
                           guint width, gpointer observer)
{
  cfqp_observer_add (observer, tensor, data, (gsize) channels * height * width);
}

const CfqpHistogram *
cfqp_observer_get_histogram (const CfqpObserver *obs, guint tensor)
{
  g_return_val_if_fail (tensor < obs->n_tensors, NULL);
  return obs->hists[tensor];
}

void
cfqp_observer_get_range (const CfqpObserver *obs, guint tensor, CfqpObserverKind kind,
                         double percentile, float *lo, float *hi)
{
  const CfqpHistogram *h;

  *lo = *hi = 0.0f;
  g_return_if_fail (tensor < obs->n_tensors);
  h = obs->hists[tensor];
  switch (kind) {
    case CFQP_OBSERVER_MINMAX:
      cfqp_histogram_range_minmax (h, lo, hi);
      break;
    case CFQP_OBSERVER_PERCENTILE:
      cfqp_histogram_range_percentile (h, percentile, lo, hi);
      break;
    case CFQP_OBSERVER_MSE:
      cfqp_histogram_range_mse (h, lo, hi);
      break;
  }
}
