/* CfqpCalibrator: reservoir → CFQP augmentation → observers → parameters,
 * for one FP32 model.  Owns all its state (no globals), so a worker thread
 * can run compute while nobody else touches it. */
#include "cfqp-calib-private.h"

#include <math.h>

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

/* Every calibration from one pass through the model as given: grids per
 * tensor from the tensors as they are, each set of grids per channel from
 * them divided by its steps (what the model with those steps folded in
 * computes). */
typedef struct {
  Watchers       per_tensor;    /* obs NULL: not wanted */
  guint          n_sets;
  Watchers      *per_channel;   /* one per set of steps */
  const float ***steps;         /* [set][tensor]: the tensor's steps, or NULL */
  float         *scratch;
  gsize          scratch_size;
} AllWatchers;

static void
watch_all (guint tensor, const float *data, guint channels, guint height, guint width,
           gpointer user_data)
{
  AllWatchers *a = user_data;
  gsize plane = (gsize) height * width, n = plane * channels;

  if (a->per_tensor.obs)
    watch_tensor (tensor, data, channels, height, width, &a->per_tensor);
  for (guint set = 0; set < a->n_sets; set++) {
    const float *k = a->steps[set][tensor], *x = data;

    if (k) {
      if (a->scratch_size < n) {
        g_free (a->scratch);
        a->scratch = g_new (float, n);
        a->scratch_size = n;
      }
      for (guint c = 0; c < channels; c++)
        for (gsize i = 0; i < plane; i++)
          a->scratch[c * plane + i] = data[c * plane + i] / k[c];
      x = a->scratch;
    }
    watch_tensor (tensor, x, channels, height, width, &a->per_channel[set]);
  }
}

static gboolean
observe (CfqpModel *model, const CfqpImage *x, CfqpImage *y, CfqpTensorFunc func,
         gpointer data, GError **error)
{
  return cfqp_model_observe_f32 (model, x->data, x->width, x->height, y ? y->data : NULL,
      func, data, error);
}

/* Per-channel ranges (min ≤ 0 ≤ max) of the tensors that may take channel
 * steps, over every image observed through the model as given. */
typedef struct {
  guint     n;            /* tensors */
  gboolean *allowed;
  guint    *channels;     /* per tensor: 0 until seen */
  float   **lo, **hi;     /* per tensor: one per channel, once seen */
} ChannelRanges;

static void
channel_ranges_init (ChannelRanges *r, CfqpModel *model)
{
  r->n = cfqp_model_get_n_tensors (model);
  r->allowed = g_new (gboolean, r->n);
  r->channels = g_new0 (guint, r->n);
  r->lo = g_new0 (float *, r->n);
  r->hi = g_new0 (float *, r->n);
  cfqp_model_find_channel_step_tensors (model, r->allowed);
}

static void
channel_ranges_clear (ChannelRanges *r)
{
  for (guint v = 0; v < r->n; v++) {
    g_free (r->lo[v]);
    g_free (r->hi[v]);
  }
  g_clear_pointer (&r->lo, g_free);
  g_clear_pointer (&r->hi, g_free);
  g_clear_pointer (&r->channels, g_free);
  g_clear_pointer (&r->allowed, g_free);
}

static void
watch_channels (guint tensor, const float *data, guint channels, guint height, guint width,
                gpointer user_data)
{
  ChannelRanges *r = user_data;
  gsize plane = (gsize) height * width;

  if (tensor >= r->n || !r->allowed[tensor])
    return;
  if (!r->channels[tensor]) {
    r->channels[tensor] = channels;
    r->lo[tensor] = g_new0 (float, channels);   /* zeros: the ranges hold 0 */
    r->hi[tensor] = g_new0 (float, channels);
  }
  for (guint c = 0; c < channels; c++) {
    const float *x = data + c * plane;
    float lo = r->lo[tensor][c], hi = r->hi[tensor][c];
    for (gsize i = 0; i < plane; i++) {
      lo = MIN (lo, x[i]);
      hi = MAX (hi, x[i]);
    }
    r->lo[tensor][c] = lo;
    r->hi[tensor][c] = hi;
  }
}

/* The steps of every tensor the ranges saw, appended to steps (owned). */
static void
channel_ranges_to_steps (const ChannelRanges *r, double exponent, GArray *steps)
{
  for (guint v = 0; v < r->n; v++) {
    CfqpChannelSteps cs = { v, r->channels[v], NULL };
    float *f;

    if (!r->channels[v])
      continue;
    f = g_new (float, cs.n_channels);
    cfqp_channel_steps_from_ranges (r->lo[v], r->hi[v], cs.n_channels, exponent, f);
    cs.steps = f;
    g_array_append_val (steps, cs);
  }
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

/* model: what was observed (cal->model, or its copy with steps folded in,
 * steps its steps; NULL: one grid per tensor). */
static CfqpCalibration *
solve (CfqpCalibrator *cal, CfqpModel *model, Watchers *w, GArray *steps, guint n_samples,
       guint n_images)
{
  CfqpObserver *obs = w->obs;
  GArray *taps = g_array_new (FALSE, FALSE, sizeof (CfqpConvTaps));
  CfqpCalibration *c;
  const CfqpCalibSettings *s = &cal->settings;
  guint n = cfqp_model_get_n_tensors (model);
  guint output = cfqp_model_get_output_tensor (model);
  g_autofree CfqpCalibTensor *t = g_new0 (CfqpCalibTensor, MAX (n, 1));

  for (guint i = 0; i < n; i++) {
    float lo, hi;

    t[i].name = cfqp_model_get_tensor_name (model, i);
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
    snap_residuals (model, t, n);
  if (w->gptq)
    cfqp_gptq_solve (w->gptq, taps);
  c = cfqp_calibration_new_full (cfqp_model_get_hash (cal->source), s->clip_free, s,
      n_samples, n_images, t, n, (const CfqpConvTaps *) taps->data, taps->len,
      steps ? (const CfqpChannelSteps *) steps->data : NULL, steps ? steps->len : 0);
  cfqp_conv_taps_array_free (taps);
  return c;
}

/* A ratio net (×3/2) takes sides den divides: the sample's top-left part
 * that it can take, or NULL when the whole sample is. */
static CfqpImage *
ratio_part (const CfqpImage *sample, guint den)
{
  if (sample->width % den == 0 && sample->height % den == 0)
    return NULL;
  return cfqp_image_crop (sample, 0, 0, sample->width - sample->width % den,
      sample->height - sample->height % den);
}

/* Which of the RD's frames a step takes: all (ALL_FRAMES), or those of
 * one parity (the two folds of the calibrator's cross-check). */
#define ALL_FRAMES (-1)

static gboolean
frame_in (int parity, guint i)
{
  return parity == ALL_FRAMES || (int) (i % 2) == parity;
}

static guint
n_frames_in (CfqpCalibrator *cal, int parity)
{
  guint n = 0;

  for (guint i = 0; i < cfqp_reservoir_get_n_samples (cal->reservoir); i++)
    n += frame_in (parity, i);
  return n;
}

/* Shows the RD's images of parity and their augmentations to func through
 * cal->model; n_images gets their count.  The same images every call: the
 * augmentations draw from their own generator, seeded alike, and are made
 * anew rather than kept (whole frames and their copies would hold GBs). */
static gboolean
show_images (CfqpCalibrator *cal, int parity, GCancellable *cancellable, CfqpTensorFunc func,
             gpointer data, guint *n_images, GError **error)
{
  const CfqpCalibSettings *s = &cal->settings;
  guint num, den;
  guint n_samples = cfqp_reservoir_get_n_samples (cal->reservoir);
  g_autoptr (GRand) rand = g_rand_new_with_seed (s->seed ^ 0x9e3779b9u);

  *n_images = 0;
  cfqp_model_get_scale_ratio (cal->model, &num, &den);
  for (guint i = 0; i < n_samples; i++) {
    const CfqpImage *sample = cfqp_reservoir_get_sample (cal->reservoir, i);
    g_autoptr (CfqpImage) whole = NULL;
    const CfqpImage *x;
    g_autoptr (CfqpImage) y = NULL;
    g_autoptr (GPtrArray) aug = NULL;

    if (!frame_in (parity, i))
      continue;
    whole = ratio_part (sample, den);
    x = whole ? whole : sample;
    y = cfqp_image_new (x->channels, x->width * num / den,
        x->height * num / den);
    aug = g_ptr_array_new_with_free_func ((GDestroyNotify) cfqp_image_free);
    if (g_cancellable_set_error_if_cancelled (cancellable, error) ||
        !observe (cal->model, x, y, func, data, error) ||
        !cfqp_augment_image (x, y, s, rand, forward_f32, cal->model, aug, error))
      return FALSE;
    for (guint j = 0; j < aug->len; j++)
      if (g_cancellable_set_error_if_cancelled (cancellable, error) ||
          !observe (cal->model, g_ptr_array_index (aug, j), NULL, func, data, error))
        return FALSE;
    *n_images += 1 + aug->len;
  }
  return TRUE;
}

/* The squared error of INT8 with each calibration against FP32 over the
 * RD's frames of parity (err[k] for calibs[k]), on the pixel range; the
 * values it summed over are added to *n_values. */
static gboolean
rd_errors (CfqpCalibrator *cal, int parity, CfqpCalibration **calibs, guint n, double *err,
           guint64 *n_values, GCancellable *cancellable, GError **error)
{
  CfqpRunnerOptions o = CFQP_RUNNER_OPTIONS_INIT;
  g_autoptr (CfqpRunner) fp32 = NULL;
  g_autoptr (GPtrArray) int8 = g_ptr_array_new_with_free_func (
      (GDestroyNotify) cfqp_runner_free);
  guint num, den;

  o.n_threads = 1;
  o.backend = CFQP_BACKEND_CPU;
  if (!(fp32 = cfqp_runner_new (cal->model, &o, error)))
    return FALSE;
  for (guint k = 0; k < n; k++) {
    g_autofree CfqpQParams *qp = cfqp_calibration_to_qparams (calibs[k], cal->model, error);
    CfqpRunnerOptions o8 = o;
    CfqpRunner *r;

    if (!qp)
      return FALSE;
    o8.precision = CFQP_PRECISION_INT8;
    cfqp_calibration_fill_runner_options (calibs[k], qp, &o8);
    if (!(r = cfqp_runner_new (cal->model, &o8, error)))
      return FALSE;
    g_ptr_array_add (int8, r);
    err[k] = 0;
  }
  cfqp_model_get_scale_ratio (cal->model, &num, &den);
  for (guint i = 0; i < cfqp_reservoir_get_n_samples (cal->reservoir); i++) {
    const CfqpImage *sample = cfqp_reservoir_get_sample (cal->reservoir, i);
    g_autoptr (CfqpImage) whole = NULL;
    const CfqpImage *x;
    gsize n_out;
    g_autofree float *ref = NULL, *y = NULL;

    if (!frame_in (parity, i))
      continue;
    whole = ratio_part (sample, den);
    x = whole ? whole : sample;
    n_out = (gsize) x->channels * (x->width * num / den) * (x->height * num / den);
    ref = g_new (float, n_out);
    y = g_new (float, n_out);
    if (g_cancellable_set_error_if_cancelled (cancellable, error) ||
        !cfqp_runner_run_f32 (fp32, x->data, x->width, x->height, ref, error))
      return FALSE;
    *n_values += n_out;
    for (guint k = 0; k < n; k++) {
      if (!cfqp_runner_run_f32 (g_ptr_array_index (int8, k), x->data, x->width, x->height, y,
              error))
        return FALSE;
      for (gsize e = 0; e < n_out; e++) {
        double d = CLAMP (y[e], 0.f, 1.f) - CLAMP (ref[e], 0.f, 1.f);
        err[k] += d * d;
      }
    }
  }
  return TRUE;
}

/* PSNR over the pixel range [0, 1] of a summed squared error. */
static double
fidelity_psnr (double sq_error, guint64 n_values)
{
  double psnr = sq_error > 0 && n_values > 0 ?
      10 * log10 ((double) n_values / sq_error) : CFQP_FIDELITY_MAX_PSNR;

  return MIN (psnr, CFQP_FIDELITY_MAX_PSNR);
}

/* One set of channel steps the calibrator tries: the model with them
 * folded in, and what observes it. */
typedef struct {
  GArray       *steps;       /* CfqpChannelSteps */
  CfqpModel    *folded;
  const float **by_tensor;   /* per tensor: its steps, or NULL */
  CfqpObserver *obs;
  CfqpGptq     *gptq;
} StepSet;

static void
step_set_clear (StepSet *set)
{
  cfqp_channel_steps_array_free (set->steps);
  g_clear_pointer (&set->folded, cfqp_model_unref);
  g_clear_pointer (&set->by_tensor, g_free);
  g_clear_pointer (&set->obs, cfqp_observer_free);
  g_clear_pointer (&set->gptq, cfqp_gptq_free);
}

static gboolean
step_set_init (StepSet *set, CfqpCalibrator *cal, const ChannelRanges *ranges, double exponent,
               GError **error)
{
  const CfqpCalibSettings *s = &cal->settings;
  guint nt = cfqp_model_get_n_tensors (cal->model);

  set->steps = g_array_new (FALSE, FALSE, sizeof (CfqpChannelSteps));
  set->by_tensor = g_new0 (const float *, MAX (nt, 1));
  channel_ranges_to_steps (ranges, exponent, set->steps);
  if (!(set->folded = cfqp_model_new_with_channel_steps (cal->model,
          (const CfqpChannelSteps *) set->steps->data, set->steps->len, error)))
    return FALSE;
  for (guint i = 0; i < set->steps->len; i++) {
    const CfqpChannelSteps *cs = &g_array_index (set->steps, CfqpChannelSteps, i);

    set->by_tensor[cs->tensor] = cs->steps;
  }
  set->obs = cfqp_observer_new (nt, s->n_bins);
  if (s->weight_rounding == CFQP_WEIGHT_ROUNDING_GPTQ)
    set->gptq = cfqp_gptq_new (set->folded);
  return TRUE;
}

/* Calibrates every candidate from the RD's frames of parity: c[0] with one
 * grid per tensor (with per_tensor), then one per exponent.  Grids per
 * channel take two passes: the first, for the ranges per channel, makes one
 * set of steps per exponent; the second feeds every calibration, one per
 * set (on the model with the steps folded in) and the one per tensor. */
static gboolean
fit_candidates (CfqpCalibrator *cal, int parity, const double *exponents, guint n_exponents,
                gboolean per_tensor, CfqpCalibration **c, GCancellable *cancellable,
                GError **error)
{
  const CfqpCalibSettings *s = &cal->settings;
  guint nt = cfqp_model_get_n_tensors (cal->model), n_samples = n_frames_in (cal, parity);
  guint first = per_tensor ? 1 : 0;
  g_autoptr (CfqpObserver) obs_t = NULL;
  g_autoptr (CfqpGptq) gptq_t = NULL;
  g_autofree StepSet *sets = g_new0 (StepSet, MAX (n_exponents, 1));
  g_autofree Watchers *per_channel = g_new0 (Watchers, MAX (n_exponents, 1));
  g_autofree const float ***by_set = g_new0 (const float **, MAX (n_exponents, 1));
  AllWatchers all = { { NULL } };
  ChannelRanges ranges;
  gboolean ok = FALSE;
  guint n_images;

  channel_ranges_init (&ranges, cal->model);
  if (n_exponents > 0 &&
      !show_images (cal, parity, cancellable, watch_channels, &ranges, &n_images, error))
    goto out;
  for (guint e = 0; e < n_exponents; e++) {
    if (!step_set_init (&sets[e], cal, &ranges, exponents[e], error))
      goto out;
    per_channel[e] = (Watchers) { sets[e].obs, sets[e].gptq };
    by_set[e] = sets[e].by_tensor;
  }
  if (per_tensor) {
    obs_t = cfqp_observer_new (nt, s->n_bins);
    if (s->weight_rounding == CFQP_WEIGHT_ROUNDING_GPTQ)
      gptq_t = cfqp_gptq_new (cal->model);
  }
  all = (AllWatchers) { { obs_t, gptq_t }, n_exponents, per_channel, by_set, NULL, 0 };
  if (!show_images (cal, parity, cancellable, watch_all, &all, &n_images, error))
    goto out;
  if (per_tensor)
    c[0] = solve (cal, cal->model, &all.per_tensor, NULL, n_samples, n_images);
  for (guint e = 0; e < n_exponents; e++)
    c[first + e] = solve (cal, sets[e].folded, &per_channel[e], sets[e].steps, n_samples,
        n_images);
  ok = TRUE;
out:
  for (guint e = 0; e < n_exponents; e++)
    step_set_clear (&sets[e]);
  g_free (all.scratch);
  channel_ranges_clear (&ranges);
  return ok;
}

static void
unref_all (CfqpCalibration **c, guint n)
{
  for (guint k = 0; k < n; k++)
    g_clear_pointer (&c[k], cfqp_calibration_unref);
}

/* Channel steps trade the grids of the narrow channels against the weight
 * grid of the convs that read them, and which trade wins depends on the
 * net, so the calibrator tries them.  Judged on the frames it calibrated
 * from, a finer fit always looks better (steps from the range ratio itself
 * won on every net and on a two-frame RD where they lost on a held-out
 * image), so each candidate is judged by a two-fold cross-check: calibrated
 * on the even frames and scored on the odd ones, and the other way round;
 * the winner is then calibrated on all of them.  An RD of one frame cannot
 * be split: it is judged on that frame (docs/cfqp.md, "Channel steps"). */
CfqpCalibration *
cfqp_calibrator_compute_candidates (CfqpCalibrator *cal, const double *exponents,
                                    guint n_exponents, gboolean per_tensor, double *rd_error,
                                    GCancellable *cancellable, GError **error)
{
  guint nt = cfqp_model_get_n_tensors (cal->model);
  guint n_samples = cfqp_reservoir_get_n_samples (cal->reservoir), n_c, first, best = 0;
  g_autofree gboolean *allowed = g_new0 (gboolean, MAX (nt, 1));
  g_autofree CfqpCalibration **c = NULL;
  g_autofree double *err = NULL, *fold_err = NULL;
  g_autoptr (GString) line = NULL;
  /* the caller's choice, not the model's: offered more than one candidate,
   * the calibration is checked (and carries its fidelity) even when the
   * model leaves one */
  gboolean check = rd_error != NULL || (per_tensor ? 1 : 0) + n_exponents > 1;
  gboolean any = FALSE;
  guint64 n_values = 0;
  CfqpCalibration *kept = NULL;

  g_return_val_if_fail (per_tensor || n_exponents > 0, NULL);
  if (!cfqp_calib_settings_validate (&cal->settings, error))
    return NULL;
  if (n_samples == 0) {
    g_set_error (error, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_NO_DATA,
        "no frames to calibrate from (the reservoir is empty)");
    return NULL;
  }
  cfqp_model_find_channel_step_tensors (cal->model, allowed);
  for (guint v = 0; v < nt; v++)
    any |= allowed[v];
  if (!any) {
    n_exponents = 0;   /* nothing can take steps: one grid per tensor is all */
    per_tensor = TRUE;
  }
  first = per_tensor ? 1 : 0;   /* c[first + e]: exponent e */
  n_c = first + n_exponents;
  c = g_new0 (CfqpCalibration *, n_c);
  if (!check) {
    if (!fit_candidates (cal, ALL_FRAMES, exponents, n_exponents, per_tensor, c, cancellable,
            error))
      return NULL;
    return g_steal_pointer (&c[0]);
  }
  err = g_new0 (double, n_c);
  fold_err = g_new0 (double, n_c);
  line = g_string_new ("INT8 against FP32, squared error on the RD's frames");
  if (n_samples >= 2) {
    g_string_append (line, " (each judged by the calibrations from the others' parity):");
    for (int parity = 0; parity < 2; parity++) {
      gboolean ok = fit_candidates (cal, parity, exponents, n_exponents, per_tensor, c,
          cancellable, error) && rd_errors (cal, 1 - parity, c, n_c, fold_err, &n_values,
          cancellable, error);

      unref_all (c, n_c);
      if (!ok)
        return NULL;
      for (guint k = 0; k < n_c; k++)
        err[k] += fold_err[k];
    }
  } else {
    g_string_append (line, " (one frame: judged on it):");
    if (!fit_candidates (cal, ALL_FRAMES, exponents, n_exponents, per_tensor, c, cancellable,
            error) || !rd_errors (cal, ALL_FRAMES, c, n_c, err, &n_values, cancellable,
            error)) {
      unref_all (c, n_c);
      return NULL;
    }
  }
  for (guint k = 0; k < n_c; k++) {
    if (k < first)
      g_string_append_printf (line, " %.6g with one grid per tensor", err[k]);
    else
      g_string_append_printf (line, "%s %.6g with steps (width ratio)^%g", k ? "," : "",
          err[k], exponents[k - first]);
    if (err[k] < err[best])
      best = k;
  }
  g_debug ("%s", line->str);
  if (rd_error)
    *rd_error = err[best];
  if (c[best])
    kept = g_steal_pointer (&c[best]);   /* judged on the frames it came from */
  else if (best < first)
    fit_candidates (cal, ALL_FRAMES, NULL, 0, TRUE, &kept, cancellable, error);
  else
    fit_candidates (cal, ALL_FRAMES, &exponents[best - first], 1, FALSE, &kept,
        cancellable, error);
  unref_all (c, n_c);
  if (kept) {
    CfqpCalibFidelity f = { fidelity_psnr (err[best], n_values), n_samples >= 2, n_samples };

    cfqp_calibration_set_fidelity (kept, &f);
  }
  return kept;
}

CfqpCalibration *
cfqp_calibrator_compute (CfqpCalibrator *cal, GCancellable *cancellable, GError **error)
{
  static const double exponents[] = CFQP_CHANNEL_STEP_EXPONENTS;

  if (cal->settings.activation_grids == CFQP_ACTIVATION_GRIDS_TENSOR)
    return cfqp_calibrator_compute_candidates (cal, NULL, 0, TRUE, NULL, cancellable, error);
  return cfqp_calibrator_compute_candidates (cal, exponents, G_N_ELEMENTS (exponents), TRUE,
      NULL, cancellable, error);
}
