/* cfqp — calib internals shared between its files and its unit tests. */
#pragma once

#include "cfqp-calib.h"

G_BEGIN_DECLS

/* An FP32 forward pass: out is preallocated C×(s·H)×(s·W). */
typedef gboolean (*CfqpForwardFunc) (const CfqpImage *in, CfqpImage *out, gpointer user_data,
                                     GError **error);

/* Augmentation steps.  x is an RD image, y = f(x) its FP32 output. */
CfqpImage   *cfqp_augment_review (const CfqpImage *y, guint width, guint height);
void         cfqp_augment_crops  (const CfqpImage *y, guint width, guint height, guint n,
                                  GRand *rand, GPtrArray *out);
/* NULL without an error when y is too flat to stretch. */
CfqpImage   *cfqp_augment_range  (const CfqpImage *x, const CfqpImage *y,
                                  double low_pct, double high_pct, double max_gain,
                                  CfqpForwardFunc forward, gpointer user_data, GError **error);
/* All augmentations settings->augment asks for, appended to out. */
gboolean     cfqp_augment_image  (const CfqpImage *x, const CfqpImage *y,
                                  const CfqpCalibSettings *settings, GRand *rand,
                                  CfqpForwardFunc forward, gpointer user_data,
                                  GPtrArray *out, GError **error);

/* GPTQ weight rounding (cfqp-gptq.c): the second moments of the FP32 input
 * of every conv of model that rounds its own weights, shown image by image
 * through cfqp_gptq_tensor_func (a CfqpTensorFunc with the CfqpGptq as
 * user_data); solve appends each conv's taps (CfqpConvTaps, taps newly
 * allocated) to taps — none for a conv no patch reached. */
typedef struct _CfqpGptq CfqpGptq;

CfqpGptq    *cfqp_gptq_new         (CfqpModel *model);
void         cfqp_gptq_free        (CfqpGptq *gptq);
void         cfqp_gptq_tensor_func (guint tensor, const float *data, guint channels,
                                    guint height, guint width, gpointer gptq);
void         cfqp_gptq_solve       (CfqpGptq *gptq, GArray *taps);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CfqpGptq, cfqp_gptq_free)

/* Frees a GArray of CfqpConvTaps whose taps it owns. */
void         cfqp_conv_taps_array_free (GArray *taps);
/* The same for an array of CfqpChannelSteps whose steps it owns. */
void         cfqp_channel_steps_array_free (GArray *steps);

/* What cfqp_calibrator_compute does, with the candidates given: one
 * calibration per exponent (channel steps from
 * cfqp_channel_steps_from_ranges with it) and, with per_tensor, one with a
 * grid per tensor.  More than one offered, or rd_error asked: each is judged by
 * INT8's squared error against FP32 on the RD's frames of one parity when
 * calibrated from the other's, summed over both (on the frame itself for a
 * one-frame RD), that error goes to rd_error, and the least (the first on
 * a tie: per tensor, then the exponents in order) is calibrated from all
 * frames.  A model none of whose tensors can take steps gets one grid per
 * tensor, still judged so when more than one was offered. */
CfqpCalibration *cfqp_calibrator_compute_candidates (CfqpCalibrator *cal,
                                                     const double *exponents,
                                                     guint n_exponents, gboolean per_tensor,
                                                     double *rd_error,
                                                     GCancellable *cancellable,
                                                     GError **error);

/* Records what the calibrator measured (fidelity NULL: nothing); only
 * before the calibration is shared. */
void         cfqp_calibration_set_fidelity (CfqpCalibration *calib,
                                            const CfqpCalibFidelity *fidelity);
/* Checks one read from a file; what names it in errors is "fidelity". */
gboolean     cfqp_calib_fidelity_validate (const CfqpCalibFidelity *fidelity, guint n_samples,
                                           GError **error);

/* Tensor names and hash check without a CfqpModel (tests, file loading). */
gboolean     cfqp_calibration_check_names (const CfqpCalibration *calib, const char *hash,
                                           const char *const *names, guint n_names,
                                           GError **error);
/* Check one tensor's values; what names it in errors is "tensor 'name'". */
gboolean     cfqp_calib_tensor_validate (const CfqpCalibTensor *t, GError **error);

G_END_DECLS
