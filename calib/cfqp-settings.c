/* CfqpCalibSettings: defaults, validation and the names of the weight
 * rounding, residual grid and activation grids choices. */
#include "cfqp-calib.h"

#include <math.h>
#include <string.h>

G_DEFINE_QUARK (cfqp-calib-error-quark, cfqp_calib_error)

void
cfqp_calib_settings_init (CfqpCalibSettings *s)
{
  *s = (CfqpCalibSettings) {
    .observer = CFQP_OBSERVER_MSE,   /* best on clip-free models with CFQP: docs/cfqp.md */
    .percentile = 99.99,
    .n_bins = CFQP_HISTOGRAM_DEFAULT_BINS,
    .clip_free = TRUE,
    .max_samples = 64,
    .max_bytes = 256u * 1024 * 1024,
    .crop_size = 0,
    .scene_threshold = 0.02,
    .seed = 1,
    .augment = CFQP_AUGMENT_ALL,
    .n_output_crops = 2,
    .range_low_pct = 1.0,
    .range_high_pct = 99.0,
    .range_max_gain = 8.0,
    .weight_rounding = CFQP_WEIGHT_ROUNDING_GPTQ,
    .residual_grid = CFQP_RESIDUAL_GRID_PIXEL,   /* docs/cfqp.md, "Residuals on the pixel step" */
    .activation_grids = CFQP_ACTIVATION_GRIDS_CHANNEL,   /* docs/cfqp.md, "Channel steps" */
  };
}

/* The index of nick in nicks (an enum's values in order), or -1. */
static gint
nick_index (const char *const *nicks, guint n, const char *nick)
{
  for (guint i = 0; i < n; i++)
    if (g_strcmp0 (nick, nicks[i]) == 0)
      return (gint) i;
  return -1;
}

static const char *const rounding_nicks[] = { "nearest", "gptq" };

const char *
cfqp_weight_rounding_to_nick (CfqpWeightRounding rounding)
{
  return (guint) rounding < G_N_ELEMENTS (rounding_nicks) ? rounding_nicks[rounding] : NULL;
}

gboolean
cfqp_weight_rounding_from_nick (const char *nick, CfqpWeightRounding *rounding)
{
  gint i = nick_index (rounding_nicks, G_N_ELEMENTS (rounding_nicks), nick);

  if (i >= 0)
    *rounding = (CfqpWeightRounding) i;
  return i >= 0;
}

static const char *const residual_grid_nicks[] = { "calibrated", "pixel" };

const char *
cfqp_residual_grid_to_nick (CfqpResidualGrid grid)
{
  return (guint) grid < G_N_ELEMENTS (residual_grid_nicks) ? residual_grid_nicks[grid] : NULL;
}

gboolean
cfqp_residual_grid_from_nick (const char *nick, CfqpResidualGrid *grid)
{
  gint i = nick_index (residual_grid_nicks, G_N_ELEMENTS (residual_grid_nicks), nick);

  if (i >= 0)
    *grid = (CfqpResidualGrid) i;
  return i >= 0;
}

static const char *const activation_grids_nicks[] = { "tensor", "channel" };

const char *
cfqp_activation_grids_to_nick (CfqpActivationGrids grids)
{
  return (guint) grids < G_N_ELEMENTS (activation_grids_nicks) ? activation_grids_nicks[grids]
      : NULL;
}

gboolean
cfqp_activation_grids_from_nick (const char *nick, CfqpActivationGrids *grids)
{
  gint i = nick_index (activation_grids_nicks, G_N_ELEMENTS (activation_grids_nicks), nick);

  if (i >= 0)
    *grids = (CfqpActivationGrids) i;
  return i >= 0;
}

static gboolean
bad (GError **error, const char *what)
{
  g_set_error (error, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_INVALID, "invalid setting: %s", what);
  return FALSE;
}

gboolean
cfqp_calib_settings_validate (const CfqpCalibSettings *s, GError **error)
{
  if (!cfqp_observer_kind_to_nick (s->observer))
    return bad (error, "unknown observer");
  if (!(s->percentile >= 50.0 && s->percentile <= 100.0))
    return bad (error, "percentile must be within 50..100");
  if (s->n_bins < 16 || s->n_bins > (1u << 20))
    return bad (error, "bins must be within 16..1048576");
  if (s->max_samples < 1)
    return bad (error, "max-samples must be at least 1");
  if (s->max_bytes < 1)
    return bad (error, "max-bytes must be at least 1");
  if (!(s->scene_threshold >= 0.0 && s->scene_threshold <= 1.0))
    return bad (error, "scene-threshold must be within 0..1");
  if (s->augment & ~CFQP_AUGMENT_ALL)
    return bad (error, "unknown augmentation flag");
  if (s->n_output_crops > 64)
    return bad (error, "output crops must be at most 64 per sample");
  if (!(s->range_low_pct >= 0.0 && s->range_low_pct < s->range_high_pct &&
        s->range_high_pct <= 100.0))
    return bad (error, "range percentiles must satisfy 0 ≤ low < high ≤ 100");
  if (!(s->range_max_gain >= 1.0 && isfinite (s->range_max_gain)))
    return bad (error, "range max gain must be finite and at least 1");
  if (!cfqp_weight_rounding_to_nick (s->weight_rounding))
    return bad (error, "unknown weight rounding");
  if (!cfqp_residual_grid_to_nick (s->residual_grid))
    return bad (error, "unknown residual grid");
  if (!cfqp_activation_grids_to_nick (s->activation_grids))
    return bad (error, "unknown activation grids");
  return TRUE;
}
