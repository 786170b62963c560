/* CfqpCalibration: an immutable, refcounted calibration result and the
 * checks that tie it to a model. */
#include "cfqp-calib-private.h"

#include <math.h>
#include <string.h>

struct _CfqpCalibration {
  gatomicrefcount   ref;
  char             *model_hash;
  gboolean          clip_free;
  CfqpCalibSettings settings;
  guint             n_samples, n_images;
  guint             n_tensors;
  CfqpCalibTensor  *tensors;   /* names owned */
  guint             n_taps;
  CfqpConvTaps     *taps;      /* taps owned */
  guint             n_steps;
  CfqpChannelSteps *steps;     /* steps owned */
  gboolean          has_fidelity;
  CfqpCalibFidelity fidelity;
};

CfqpCalibration *
cfqp_calibration_new (const char *model_hash, gboolean clip_free,
                      const CfqpCalibSettings *settings, guint n_samples, guint n_images,
                      const CfqpCalibTensor *tensors, guint n_tensors)
{
  return cfqp_calibration_new_full (model_hash, clip_free, settings, n_samples, n_images,
      tensors, n_tensors, NULL, 0, NULL, 0);
}

CfqpCalibration *
cfqp_calibration_new_full (const char *model_hash, gboolean clip_free,
                           const CfqpCalibSettings *settings, guint n_samples,
                           guint n_images, const CfqpCalibTensor *tensors, guint n_tensors,
                           const CfqpConvTaps *taps, guint n_taps,
                           const CfqpChannelSteps *steps, guint n_steps)
{
  CfqpCalibration *c;

  g_return_val_if_fail (model_hash != NULL && settings != NULL, NULL);
  c = g_new0 (CfqpCalibration, 1);
  g_atomic_ref_count_init (&c->ref);
  c->model_hash = g_strdup (model_hash);
  c->clip_free = clip_free;
  c->settings = *settings;
  c->n_samples = n_samples;
  c->n_images = n_images;
  c->n_tensors = n_tensors;
  c->tensors = g_new0 (CfqpCalibTensor, MAX (n_tensors, 1));
  for (guint i = 0; i < n_tensors; i++) {
    c->tensors[i] = tensors[i];
    c->tensors[i].name = g_strdup (tensors[i].name);
  }
  c->n_taps = n_taps;
  c->taps = g_new0 (CfqpConvTaps, MAX (n_taps, 1));
  for (guint i = 0; i < n_taps; i++) {
    c->taps[i] = taps[i];
    c->taps[i].taps = g_memdup2 (taps[i].taps, taps[i].n_taps);
  }
  c->n_steps = n_steps;
  c->steps = g_new0 (CfqpChannelSteps, MAX (n_steps, 1));
  for (guint i = 0; i < n_steps; i++) {
    c->steps[i] = steps[i];
    c->steps[i].steps = g_memdup2 (steps[i].steps, steps[i].n_channels * sizeof (float));
  }
  return c;
}

CfqpCalibration *
cfqp_calibration_ref (CfqpCalibration *c)
{
  g_atomic_ref_count_inc (&c->ref);
  return c;
}

void
cfqp_calibration_unref (CfqpCalibration *c)
{
  if (!c || !g_atomic_ref_count_dec (&c->ref))
    return;
  for (guint i = 0; i < c->n_tensors; i++)
    g_free ((char *) c->tensors[i].name);
  g_free (c->tensors);
  for (guint i = 0; i < c->n_taps; i++)
    g_free ((gint8 *) c->taps[i].taps);
  g_free (c->taps);
  for (guint i = 0; i < c->n_steps; i++)
    g_free ((float *) c->steps[i].steps);
  g_free (c->steps);
  g_free (c->model_hash);
  g_free (c);
}

const char *
cfqp_calibration_get_model_hash (const CfqpCalibration *c)
{
  return c->model_hash;
}

gboolean
cfqp_calibration_get_clip_free (const CfqpCalibration *c)
{
  return c->clip_free;
}

CfqpModel *
cfqp_calibration_new_run_model (const CfqpCalibration *c, CfqpModel *model)
{
  g_return_val_if_fail (c != NULL, NULL);
  g_return_val_if_fail (model != NULL, NULL);
  return c->clip_free ? cfqp_model_new_clip_free (model, NULL, NULL) : cfqp_model_ref (model);
}

const CfqpCalibSettings *
cfqp_calibration_get_settings (const CfqpCalibration *c)
{
  return &c->settings;
}

gboolean
cfqp_calibration_get_fidelity (const CfqpCalibration *c, CfqpCalibFidelity *fidelity)
{
  g_return_val_if_fail (c != NULL, FALSE);
  if (c->has_fidelity && fidelity)
    *fidelity = c->fidelity;
  return c->has_fidelity;
}

void
cfqp_calibration_set_fidelity (CfqpCalibration *c, const CfqpCalibFidelity *fidelity)
{
  c->has_fidelity = fidelity != NULL;
  if (fidelity)
    c->fidelity = *fidelity;
}

gboolean
cfqp_calib_fidelity_validate (const CfqpCalibFidelity *f, guint n_samples, GError **error)
{
  if (!(f->psnr >= 0 && f->psnr <= CFQP_FIDELITY_MAX_PSNR)) {
    g_set_error (error, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_INVALID,
        "fidelity: PSNR %g dB is outside 0..%g", f->psnr, CFQP_FIDELITY_MAX_PSNR);
    return FALSE;
  }
  if (f->n_frames < 1 || f->n_frames > n_samples) {
    g_set_error (error, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_INVALID,
        "fidelity: %u frames judged, outside 1..%u (the RD's frames)", f->n_frames, n_samples);
    return FALSE;
  }
  if (f->held_out && f->n_frames < 2) {
    g_set_error (error, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_INVALID,
        "fidelity: held out, but one frame cannot be judged by a calibration made without it");
    return FALSE;
  }
  return TRUE;
}

guint
cfqp_calibration_get_n_samples (const CfqpCalibration *c)
{
  return c->n_samples;
}

guint
cfqp_calibration_get_n_images (const CfqpCalibration *c)
{
  return c->n_images;
}

guint
cfqp_calibration_get_n_tensors (const CfqpCalibration *c)
{
  return c->n_tensors;
}

const CfqpCalibTensor *
cfqp_calibration_get_tensor (const CfqpCalibration *c, guint i)
{
  g_return_val_if_fail (i < c->n_tensors, NULL);
  return &c->tensors[i];
}

void
cfqp_conv_taps_array_free (GArray *taps)
{
  for (guint i = 0; i < taps->len; i++)
    g_free ((gint8 *) g_array_index (taps, CfqpConvTaps, i).taps);
  g_array_free (taps, TRUE);
}

void
cfqp_channel_steps_array_free (GArray *steps)
{
  if (!steps)
    return;
  for (guint i = 0; i < steps->len; i++)
    g_free ((float *) g_array_index (steps, CfqpChannelSteps, i).steps);
  g_array_free (steps, TRUE);
}

const CfqpConvTaps *
cfqp_calibration_get_conv_taps (const CfqpCalibration *c, guint *n_taps)
{
  *n_taps = c->n_taps;
  return c->taps;
}

const CfqpChannelSteps *
cfqp_calibration_get_channel_steps (const CfqpCalibration *c, guint *n_steps)
{
  *n_steps = c->n_steps;
  return c->steps;
}

CfqpQuantisation
cfqp_calibration_get_quantisation (const CfqpCalibration *c, const CfqpQParams *qparams)
{
  return (CfqpQuantisation) { qparams, c->taps, c->n_taps, c->steps, c->n_steps };
}

void
cfqp_calibration_fill_runner_options (const CfqpCalibration *c, const CfqpQParams *qparams,
    CfqpRunnerOptions *o)
{
  o->qparams = qparams;
  o->conv_taps = c->taps;
  o->n_conv_taps = c->n_taps;
  o->channel_steps = c->steps;
  o->n_channel_steps = c->n_steps;
}

gboolean
cfqp_calib_tensor_validate (const CfqpCalibTensor *t, GError **error)
{
  if (!t->name || !*t->name) {
    g_set_error (error, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_INVALID, "a tensor has no name");
    return FALSE;
  }
  if (!isfinite (t->qparams.scale) || t->qparams.scale <= 0.0f) {
    g_set_error (error, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_INVALID,
        "tensor '%s': scale %g is not a finite positive number", t->name, t->qparams.scale);
    return FALSE;
  }
  if (t->qparams.zero_point < 0 || t->qparams.zero_point > 255) {
    g_set_error (error, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_INVALID,
        "tensor '%s': zero point %d is outside 0..255", t->name, t->qparams.zero_point);
    return FALSE;
  }
  if (!isfinite (t->min) || !isfinite (t->max) || t->min > t->max) {
    g_set_error (error, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_INVALID,
        "tensor '%s': min %g / max %g are not a finite range", t->name, t->min, t->max);
    return FALSE;
  }
  return TRUE;
}

static gboolean
has_name (const char *const *names, guint n, const char *name)
{
  for (guint i = 0; i < n; i++)
    if (g_strcmp0 (names[i], name) == 0)
      return TRUE;
  return FALSE;
}

gboolean
cfqp_calibration_check_names (const CfqpCalibration *c, const char *hash,
                              const char *const *names, guint n_names, GError **error)
{
  g_autofree const char **mine = g_new0 (const char *, MAX (c->n_tensors, 1));

  if (g_strcmp0 (c->model_hash, hash) != 0) {
    g_set_error (error, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_MODEL_MISMATCH,
        "calibration was made for model %s, not for this model (%s)", c->model_hash, hash);
    return FALSE;
  }
  for (guint i = 0; i < c->n_tensors; i++)
    mine[i] = c->tensors[i].name;
  for (guint i = 0; i < n_names; i++) {
    if (!has_name (mine, c->n_tensors, names[i])) {
      g_set_error (error, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_TENSOR_MISMATCH,
          "calibration has no tensor '%s' (it has %u tensors, the model %u)", names[i],
          c->n_tensors, n_names);
      return FALSE;
    }
  }
  for (guint i = 0; i < c->n_tensors; i++) {
    if (!has_name (names, n_names, mine[i])) {
      g_set_error (error, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_TENSOR_MISMATCH,
          "calibration has tensor '%s' that the model lacks", mine[i]);
      return FALSE;
    }
  }
  if (c->n_tensors != n_names) {
    g_set_error (error, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_TENSOR_MISMATCH,
        "calibration has %u tensors, the model %u (repeated names)", c->n_tensors, n_names);
    return FALSE;
  }
  for (guint i = 0; i < n_names; i++) {
    if (strcmp (mine[i], names[i]) != 0) {
      g_set_error (error, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_TENSOR_MISMATCH,
          "tensor %u is '%s' in the calibration but '%s' in the model", i, mine[i], names[i]);
      return FALSE;
    }
  }
  return TRUE;
}

/* Each conv's taps as the INT8 program will check them, so that a
 * calibration that does not fit is refused at load, not at the runner. */
static gboolean
check_taps (const CfqpCalibration *c, CfqpModel *model, GError **error)
{
  g_autoptr (GError) err = NULL;

  if (cfqp_model_check_conv_taps (model, c->taps, c->n_taps, &err))
    return TRUE;
  g_set_error (error, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_TENSOR_MISMATCH,
      "calibration's conv taps: %s", err->message);
  return FALSE;
}

static gboolean
check_steps (const CfqpCalibration *c, CfqpModel *model, GError **error)
{
  g_autoptr (GError) err = NULL;

  if (cfqp_model_check_channel_steps (model, c->steps, c->n_steps, &err))
    return TRUE;
  g_set_error (error, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_TENSOR_MISMATCH,
      "calibration's channel steps: %s", err->message);
  return FALSE;
}

gboolean
cfqp_calibration_check_model (const CfqpCalibration *c, CfqpModel *model, GError **error)
{
  guint n = cfqp_model_get_n_tensors (model);
  g_autofree const char **names = g_new0 (const char *, MAX (n, 1));

  for (guint i = 0; i < n; i++)
    names[i] = cfqp_model_get_tensor_name (model, i);
  if (!cfqp_calibration_check_names (c, cfqp_model_get_hash (model), names, n, error))
    return FALSE;
  /* same hash and names, other graph: clip-free and clipped differ in ranges */
  if (c->clip_free != cfqp_model_is_clip_free (model)) {
    g_set_error (error, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_MODEL_MISMATCH,
        "the calibration is for the %s model but the model runs %s",
        c->clip_free ? "clip-free" : "clipped", c->clip_free ? "with its clips" : "clip-free");
    return FALSE;
  }
  return check_taps (c, model, error) && check_steps (c, model, error);
}

CfqpQParams *
cfqp_calibration_to_qparams (const CfqpCalibration *c, CfqpModel *model, GError **error)
{
  CfqpQParams *qp;

  if (!cfqp_calibration_check_model (c, model, error))
    return NULL;
  qp = g_new (CfqpQParams, MAX (c->n_tensors, 1));
  for (guint i = 0; i < c->n_tensors; i++)
    qp[i] = c->tensors[i].qparams;
  /* The pixel grid, whatever the file says (the runner enforces it too). */
  qp[0] = cfqp_qparams_pixel ();
  qp[cfqp_model_get_output_tensor (model)] = cfqp_qparams_pixel ();
  return qp;
}
