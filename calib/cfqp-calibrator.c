/* CfqpCalibrator: reservoir → CFQP augmentation → observers → parameters,
 * for one FP32 model.  Owns all its state (no globals), so a worker thread
 * can run compute while nobody else touches it. */
#include "cfqp-calib-private.h"

struct _CfqpCalibrator {
  CfqpModel        *source;   /* the model as given: its hash names the calibration */
  CfqpModel        *model;    /* what is calibrated: source or its clip-free copy */
  CfqpCalibSettings settings;
  CfqpReservoir    *reservoir;
};

CfqpCalibrator *
cfqp_calibrator_new (CfqpModel *fp32_model, const CfqpCalibSettings *settings)
{
  CfqpCalibrator *cal = g_new0 (CfqpCalibrator, 1);
  const CfqpCalibSettings *s;

  if (settings)
    cal->settings = *settings;
  else
    cfqp_calib_settings_init (&cal->settings);
  s = &cal->settings;
  cal->source = cfqp_model_ref (fp32_model);
  if (s->clip_free)
    cal->model = cfqp_model_new_clip_free (fp32_model, NULL, NULL);
  else
    cal->model = cfqp_model_ref (fp32_model);
  cal->reservoir = cfqp_reservoir_new (cfqp_model_get_channels (fp32_model), s->max_samples,
      s->max_bytes, s->crop_size, s->scene_threshold, s->seed);
  return cal;
}

void
cfqp_calibrator_free (CfqpCalibrator *cal)
{
  if (!cal)
    return;
  cfqp_reservoir_free (cal->reservoir);
  cfqp_model_unref (cal->model);
  cfqp_model_unref (cal->source);
  g_free (cal);
}

void
cfqp_calibrator_set_model (CfqpCalibrator *cal, CfqpModel *fp32_model, gboolean clip_free)
{
  CfqpModel *model = clip_free ? cfqp_model_new_clip_free (fp32_model, NULL, NULL)
      : cfqp_model_ref (fp32_model);

  if (cfqp_model_get_channels (fp32_model) != cfqp_model_get_channels (cal->source)) {
    CfqpCalibSettings *s = &cal->settings;

    cfqp_reservoir_free (cal->reservoir);
    cal->reservoir = cfqp_reservoir_new (cfqp_model_get_channels (fp32_model),
        s->max_samples, s->max_bytes, s->crop_size, s->scene_threshold, s->seed);
  }
  cfqp_model_unref (cal->model);
  cfqp_model_unref (cal->source);
  cal->source = cfqp_model_ref (fp32_model);
  cal->model = model;
  cal->settings.clip_free = clip_free;
}

CfqpModel *
cfqp_calibrator_get_source_model (CfqpCalibrator *cal)
{
  return cal->source;
}

CfqpModel *
cfqp_calibrator_get_model (CfqpCalibrator *cal)
{
  return cal->model;
}

const CfqpCalibSettings *
cfqp_calibrator_get_settings (CfqpCalibrator *cal)
{
  return &cal->settings;
}

CfqpReservoir *
cfqp_calibrator_get_reservoir (CfqpCalibrator *cal)
{
  return cal->reservoir;
}

gboolean
cfqp_calibrator_add_frame (CfqpCalibrator *cal, const float *data, guint width, guint height)
{
  return cfqp_reservoir_add (cal->reservoir, data, width, height);
}

/* The forward pass augmentation needs: FP32, no observation. */
static gboolean
forward_f32 (const CfqpImage *in, CfqpImage *out, gpointer model, GError **error)
{
  return cfqp_model_observe_f32 (model, in->data, in->width, in->height, out->data,
      NULL, NULL, error);
}

/* What every observed image feeds: the range observers and, when the
 * weights are rounded from data, the conv input moments. */
typedef struct {
  CfqpObserver *obs;
  CfqpGptq     *gptq;   /* NULL: nearest rounding */
} Watchers;

static void
watch_tensor (guint tensor, const float *data, guint channels, guint height, guint width,
              gpointer user_data)
{
  Watchers *w = user_data;

  cfqp_observer_tensor_func (tensor, data, channels, height, width, w->obs);
  if (w->gptq)
    cfqp_gptq_tensor_func (tensor, data, channels, height, width, w->gptq);
}

static gboolean
observe (CfqpCalibrator *cal, const CfqpImage *x, CfqpImage *y, Watchers *w, GError **error)
{
  return cfqp_model_observe_f32 (cal->model, x->data, x->width, x->height,
      y ? y->data : NULL, watch_tensor, w, error);
}

/* Residuals summed onto pixels into pixels take the pixel step. */
static void
snap_residuals (CfqpModel *model, CfqpCalibTensor *t, guint n)
{
  g_autofree CfqpQParams *table = g_new (CfqpQParams, MAX (n, 1));
  g_autofree gboolean *residual = g_new (gboolean, MAX (n, 1));

  for (guint i = 0; i < n; i++)
    table[i] = t[i].qparams;
  cfqp_model_find_pixel_residuals (model, table, residual);
  for (guint i = 0; i < n; i++)
    if (residual[i])
      t[i].qparams = cfqp_qparams_snap_to_pixel_step (t[i].qparams);
}

static CfqpCalibration *
solve (CfqpCalibrator *cal, Watchers *w, guint n_samples, guint n_images)
{
  CfqpObserver *obs = w->obs;
  GArray *taps = g_array_new (FALSE, FALSE, sizeof (CfqpConvTaps));
  CfqpCalibration *c;
  const CfqpCalibSettings *s = &cal->settings;
  guint n = cfqp_model_get_n_tensors (cal->model);
  guint output = cfqp_model_get_output_tensor (cal->model);
  g_autofree CfqpCalibTensor *t = g_new0 (CfqpCalibTensor, MAX (n, 1));

  for (guint i = 0; i < n; i++) {
    float lo, hi;

    t[i].name = cfqp_model_get_tensor_name (cal->model, i);
    cfqp_histogram_get_extremes (cfqp_observer_get_histogram (obs, i), &t[i].min, &t[i].max);
    if (i == 0 || i == output) {
      t[i].qparams = cfqp_qparams_pixel ();
    } else {
      /* Derived tensors (depth-to-space…) hold the same values as their
       * source, so observing them gives the source's range anyway; the
       * engine overrides them regardless.  Concat input unification is
       * the engine's: the public API does not show the graph. */
      cfqp_observer_get_range (obs, i, s->observer, s->percentile, &lo, &hi);
      t[i].qparams = cfqp_qparams_from_range (lo, hi);
    }
  }
  if (s->residual_grid == CFQP_RESIDUAL_GRID_PIXEL)
    snap_residuals (cal->model, t, n);
  if (w->gptq)
    cfqp_gptq_solve (w->gptq, taps);
  c = cfqp_calibration_new_full (cfqp_model_get_hash (cal->source), s->clip_free, s,
      n_samples, n_images, t, n, (const CfqpConvTaps *) taps->data, taps->len);
  cfqp_conv_taps_array_free (taps);
  return c;
}

CfqpCalibration *
cfqp_calibrator_compute (CfqpCalibrator *cal, GCancellable *cancellable, GError **error)
{
  const CfqpCalibSettings *s = &cal->settings;
  guint num, den;
  guint n_samples = cfqp_reservoir_get_n_samples (cal->reservoir);
  g_autoptr (CfqpObserver) obs = NULL;
  g_autoptr (CfqpGptq) gptq = NULL;
  g_autoptr (GRand) rand = NULL;
  Watchers w;
  guint n_images = 0;

  if (!cfqp_calib_settings_validate (s, error))
    return NULL;
  if (n_samples == 0) {
    g_set_error (error, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_NO_DATA,
        "no frames to calibrate from (the reservoir is empty)");
    return NULL;
  }
  obs = cfqp_observer_new (cfqp_model_get_n_tensors (cal->model), s->n_bins);
  if (s->weight_rounding == CFQP_WEIGHT_ROUNDING_GPTQ)
    gptq = cfqp_gptq_new (cal->model);
  w = (Watchers) { obs, gptq };
  /* Its own generator: compute gives the same result however often the
   * reservoir's was drawn from. */
  rand = g_rand_new_with_seed (s->seed ^ 0x9e3779b9u);

  cfqp_model_get_scale_ratio (cal->model, &num, &den);
  for (guint i = 0; i < n_samples; i++) {
    const CfqpImage *sample = cfqp_reservoir_get_sample (cal->reservoir, i);
    /* a ratio net (×3/2) takes sides den divides: the sample's top-left part */
    g_autoptr (CfqpImage) whole = sample->width % den || sample->height % den ?
        cfqp_image_crop (sample, 0, 0, sample->width - sample->width % den,
            sample->height - sample->height % den) : NULL;
    const CfqpImage *x = whole ? whole : sample;
    g_autoptr (CfqpImage) y = cfqp_image_new (x->channels, x->width * num / den,
        x->height * num / den);
    g_autoptr (GPtrArray) aug = g_ptr_array_new_with_free_func (
        (GDestroyNotify) cfqp_image_free);

    if (g_cancellable_set_error_if_cancelled (cancellable, error))
      return NULL;
    if (!observe (cal, x, y, &w, error))
      return NULL;
    n_images++;
    if (!cfqp_augment_image (x, y, s, rand, forward_f32, cal->model, aug, error))
      return NULL;
    for (guint j = 0; j < aug->len; j++) {
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return NULL;
      if (!observe (cal, g_ptr_array_index (aug, j), NULL, &w, error))
        return NULL;
      n_images++;
    }
  }
  return solve (cal, &w, n_samples, n_images);
}
