/* cfqp — the calibration library's one public header.
 *
 * A plain C library (GLib only, no GStreamer) on top of the engine: build a
 * representative dataset (RD) from streamed frames, augment it with the
 * clip-free quantization pipeline (CFQP, FP32 outputs only), observe every
 * activation, solve uint8 quantisation parameters, and read/write them as a
 * versioned JSON calibration file.
 *
 *   CfqpHistogram    streaming histogram of one tensor: min/max, percentile
 *                    and MSE-optimal ranges from one pass.
 *   CfqpObserver     one histogram per tensor of a model.
 *   CfqpReservoir    bounded, scene-change-aware, seeded frame sampler.
 *   CfqpCalibrator   reservoir + augmentation + observers for one model.
 *   CfqpCalibration  immutable, refcounted result; shareable between threads.
 *
 * Images are planar float C×H×W in model units ([0,1] for pixels).  Nothing
 * here holds global state: each object belongs to one thread at a time.
 */
#pragma once

#include <gio/gio.h>
#include "cfqp-engine.h"

G_BEGIN_DECLS

#define CFQP_CALIB_ERROR (cfqp_calib_error_quark ())
GQuark cfqp_calib_error_quark (void);

typedef enum {
  CFQP_CALIB_ERROR_IO,              /* file could not be read or written */
  CFQP_CALIB_ERROR_PARSE,           /* not well-formed JSON (truncated…) */
  CFQP_CALIB_ERROR_FORMAT,          /* not a calibration, or a field is missing/mistyped */
  CFQP_CALIB_ERROR_VERSION,         /* a calibration of an unknown version */
  CFQP_CALIB_ERROR_INVALID,         /* a value is out of range (NaN scale, zero point…) */
  CFQP_CALIB_ERROR_MODEL_MISMATCH,  /* made for another model (content hash) */
  CFQP_CALIB_ERROR_TENSOR_MISMATCH, /* tensor count or names differ from the model */
  CFQP_CALIB_ERROR_NO_DATA,         /* nothing to calibrate from */
} CfqpCalibError;

#define CFQP_CALIBRATION_FORMAT  "cfqp-calibration"
#define CFQP_CALIBRATION_VERSION 1
/* Calibrations are ~2 kB (~190 bytes a tensor), 27–85 kB for the shipped
 * models with conv taps (GPTQ: 4/3 byte a weight); a file or string over
 * this is refused unread.  4 MiB still holds the largest model the engine accepts
 * (CFQP_MAX_NODES · 2 tensors) with names of a few hundred bytes, and the
 * calibrator writes taps for at most CFQP_GPTQ_MAX_TAPS weights. */
#define CFQP_CALIBRATION_MAX_BYTES (4 * 1024 * 1024)
#define CFQP_GPTQ_MAX_TAPS         (1536 * 1024)

/* ------------------------------------------------------------------ */
/* Planar float images */

typedef struct {
  guint  channels, width, height;
  float *data;                      /* channels × height × width */
} CfqpImage;

CfqpImage   *cfqp_image_new    (guint channels, guint width, guint height);
CfqpImage   *cfqp_image_new_from_data (const float *data, guint channels, guint width,
                                       guint height);
CfqpImage   *cfqp_image_copy   (const CfqpImage *image);
void         cfqp_image_free   (CfqpImage *image);
gsize        cfqp_image_get_n_values (const CfqpImage *image);
/* A width×height window at (x, y); it must lie inside the image. */
CfqpImage   *cfqp_image_crop   (const CfqpImage *image, guint x, guint y, guint width,
                                guint height);
/* Separable bicubic (a = −0.5), antialiased when shrinking (the kernel is
 * widened by the shrink factor, as PIL and MATLAB imresize do). */
CfqpImage   *cfqp_image_resize_bicubic (const CfqpImage *image, guint width, guint height);
void         cfqp_image_clamp  (CfqpImage *image, float lo, float hi);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CfqpImage, cfqp_image_free)

/* ------------------------------------------------------------------ */
/* Histograms and observers.  Every range includes 0 (lo ≤ 0 ≤ hi). */

typedef struct _CfqpHistogram CfqpHistogram;

#define CFQP_HISTOGRAM_DEFAULT_BINS 2048

/* n_bins per sign (≥ 16): positives and negatives each get n_bins bins
 * over a power-of-two range that doubles (merging bin pairs, exactly) as
 * larger values arrive.  Exact zeros are counted apart. */
CfqpHistogram *cfqp_histogram_new   (guint n_bins);
void         cfqp_histogram_free    (CfqpHistogram *hist);
/* NaN and ±inf are counted (get_n_nonfinite) but not binned. */
void         cfqp_histogram_add     (CfqpHistogram *hist, const float *data, gsize n);
guint64      cfqp_histogram_get_count (const CfqpHistogram *hist);  /* finite values */
guint64      cfqp_histogram_get_n_nonfinite (const CfqpHistogram *hist);
/* Exact extremes of the finite values seen; 0, 0 when none. */
void         cfqp_histogram_get_extremes (const CfqpHistogram *hist, float *min, float *max);
/* The q-quantile (0 ≤ q ≤ 1) of the values, interpolated inside a bin,
 * not widened to include 0. */
double       cfqp_histogram_quantile (const CfqpHistogram *hist, double q);

void         cfqp_histogram_range_minmax     (const CfqpHistogram *hist, float *lo, float *hi);
/* lo, hi at the (100 − percentile)% and percentile% quantiles. */
void         cfqp_histogram_range_percentile (const CfqpHistogram *hist, double percentile,
                                              float *lo, float *hi);
/* The [lo, hi] minimising the expected uint8 quantisation error
 * (cfqp_histogram_quant_mse) over the histogram. */
void         cfqp_histogram_range_mse        (const CfqpHistogram *hist, float *lo, float *hi);
/* Expected squared error per value when the histogram is quantised to
 * uint8 over [lo, hi]: clipping outside, uniform rounding noise inside,
 * none for exact zeros (0 is always representable). */
double       cfqp_histogram_quant_mse        (const CfqpHistogram *hist, float lo, float hi);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CfqpHistogram, cfqp_histogram_free)

typedef enum {
  CFQP_OBSERVER_MINMAX,
  CFQP_OBSERVER_PERCENTILE,
  CFQP_OBSERVER_MSE,
} CfqpObserverKind;

const char  *cfqp_observer_kind_to_nick   (CfqpObserverKind kind);   /* "minmax"… */
gboolean     cfqp_observer_kind_from_nick (const char *nick, CfqpObserverKind *kind);

typedef struct _CfqpObserver CfqpObserver;

CfqpObserver *cfqp_observer_new   (guint n_tensors, guint n_bins);
void         cfqp_observer_free   (CfqpObserver *obs);
guint        cfqp_observer_get_n_tensors (const CfqpObserver *obs);
void         cfqp_observer_add    (CfqpObserver *obs, guint tensor, const float *data, gsize n);
/* A CfqpTensorFunc: pass it with the observer as user_data to
 * cfqp_model_observe_f32. */
void         cfqp_observer_tensor_func (guint tensor, const float *data, guint channels,
                                        guint height, guint width, gpointer observer);
const CfqpHistogram *cfqp_observer_get_histogram (const CfqpObserver *obs, guint tensor);
void         cfqp_observer_get_range (const CfqpObserver *obs, guint tensor,
                                      CfqpObserverKind kind, double percentile,
                                      float *lo, float *hi);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CfqpObserver, cfqp_observer_free)

/* ------------------------------------------------------------------ */
/* Quantisation parameters */

/* Smallest scale a range gets (PyTorch's choice, float epsilon): keeps the
 * requantisation multipliers of all-zero or near-constant tensors sane. */
#define CFQP_MIN_SCALE 1.1920928955078125e-07f

/* [lo, hi] (widened to include 0) → uint8 affine parameters whose zero
 * point is an integer in 0..255, so that 0 is exact. */
CfqpQParams  cfqp_qparams_from_range (float lo, float hi);
/* The pixel grid: what input and output tensors always use. */
CfqpQParams  cfqp_qparams_pixel      (void);
/* A grid finer than the pixel step widened to it (step 1/255), the zero
 * point keeping the range's centre; a coarser grid unchanged. */
CfqpQParams  cfqp_qparams_snap_to_pixel_step (CfqpQParams qp);

/* ------------------------------------------------------------------ */
/* Representative-dataset reservoir */

typedef struct _CfqpReservoir CfqpReservoir;

/* channels: of every frame.  max_samples, max_bytes: bounds of what is
 * kept.  crop_size: keep a random crop_size×crop_size window of each frame
 * (0: whole frames).  scene_threshold: a frame whose 16×16 thumbnail differs
 * from the last distinct frame's by less than this mean absolute value is
 * a repeat and skipped (0: none is).  Once full, distinct frames replace
 * samples by reservoir sampling (each distinct frame has the same chance
 * to be kept).  Same seed, same frames → same samples. */
CfqpReservoir *cfqp_reservoir_new  (guint channels, guint max_samples, gsize max_bytes,
                                    guint crop_size, double scene_threshold, guint32 seed);
void         cfqp_reservoir_free   (CfqpReservoir *res);
/* TRUE when the frame (or its crop) was stored. */
gboolean     cfqp_reservoir_add    (CfqpReservoir *res, const float *data, guint width,
                                    guint height);
guint        cfqp_reservoir_get_n_samples (const CfqpReservoir *res);
const CfqpImage *cfqp_reservoir_get_sample (const CfqpReservoir *res, guint i);
gsize        cfqp_reservoir_get_bytes     (const CfqpReservoir *res);
guint64      cfqp_reservoir_get_n_seen     (const CfqpReservoir *res);  /* frames offered */
guint64      cfqp_reservoir_get_n_distinct (const CfqpReservoir *res);  /* past the scene test */
void         cfqp_reservoir_clear  (CfqpReservoir *res);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CfqpReservoir, cfqp_reservoir_free)

/* ------------------------------------------------------------------ */
/* CFQP augmentation (needs only the FP32 model and its outputs) */

typedef enum {
  CFQP_AUGMENT_NONE   = 0,
  CFQP_AUGMENT_REVIEW = 1 << 0,  /* bicubic-downscaled FP32 output, as an input */
  CFQP_AUGMENT_CROPS  = 1 << 1,  /* input-sized crops of the FP32 output */
  CFQP_AUGMENT_RANGE  = 1 << 2,  /* gain/offset so the FP32 output spans [0,1] */
} CfqpAugmentFlags;

#define CFQP_AUGMENT_ALL (CFQP_AUGMENT_REVIEW | CFQP_AUGMENT_CROPS | CFQP_AUGMENT_RANGE)

typedef enum {
  CFQP_AUGMENT_PRESET_NONE,
  CFQP_AUGMENT_PRESET_REVIEW,
  CFQP_AUGMENT_PRESET_CROPS,
  CFQP_AUGMENT_PRESET_RANGE,
  CFQP_AUGMENT_PRESET_FULL,
} CfqpAugmentPreset;

CfqpAugmentFlags cfqp_augment_preset_get_flags (CfqpAugmentPreset preset);
const char  *cfqp_augment_preset_to_nick   (CfqpAugmentPreset preset);    /* "full"… */
gboolean     cfqp_augment_preset_from_nick (const char *nick, CfqpAugmentPreset *preset);
/* "review+crops+range", "none"; newly allocated. */
char        *cfqp_augment_flags_to_string  (CfqpAugmentFlags flags);
gboolean     cfqp_augment_flags_from_string (const char *str, CfqpAugmentFlags *flags);

/* ------------------------------------------------------------------ */
/* Weight rounding */

typedef enum {
  CFQP_WEIGHT_ROUNDING_NEAREST,  /* the INT8 program's own: nearest, each filter's tap sum kept */
  CFQP_WEIGHT_ROUNDING_GPTQ,     /* from the RD: each conv's taps rounded in turn, the error
                                  * spread over the taps left through the inverse of the
                                  * second moments of its FP32 input (GPTQ) */
} CfqpWeightRounding;

const char  *cfqp_weight_rounding_to_nick   (CfqpWeightRounding rounding);   /* "nearest"… */
gboolean     cfqp_weight_rounding_from_nick (const char *nick, CfqpWeightRounding *rounding);

/* ------------------------------------------------------------------ */
/* Residual grids */

/* The grid of a residual that the INT8 program adds onto pixels into
 * pixels (cfqp_model_find_pixel_residuals: an anchored net's last conv). */
typedef enum {
  CFQP_RESIDUAL_GRID_CALIBRATED,  /* the observer's, like any tensor's */
  CFQP_RESIDUAL_GRID_PIXEL,       /* the pixel step where the observer's grid is finer
                                   * (cfqp_qparams_snap_to_pixel_step): the sum is then
                                   * exact, as FP32 rounds it once */
} CfqpResidualGrid;

const char  *cfqp_residual_grid_to_nick   (CfqpResidualGrid grid);   /* "calibrated"… */
gboolean     cfqp_residual_grid_from_nick (const char *nick, CfqpResidualGrid *grid);

/* ------------------------------------------------------------------ */
/* Activation grids */

/* How many grids a tensor that only convs touch gets
 * (cfqp_model_find_channel_step_tensors). */
typedef enum {
  CFQP_ACTIVATION_GRIDS_TENSOR,   /* one per tensor */
  CFQP_ACTIVATION_GRIDS_CHANNEL,  /* one per channel: channel steps from the RD's
                                   * per-channel ranges (cfqp_channel_steps_from_ranges
                                   * with each of CFQP_CHANNEL_STEP_EXPONENTS), or one
                                   * per tensor, whichever a cross-check on the RD
                                   * prefers (cfqp_calibrator_compute) */
} CfqpActivationGrids;

const char  *cfqp_activation_grids_to_nick   (CfqpActivationGrids grids);   /* "tensor"… */
gboolean     cfqp_activation_grids_from_nick (const char *nick, CfqpActivationGrids *grids);

/* Channel c's step from the channels' range widths (max − min, min ≤ 0 ≤
 * max, over the RD): (width_c / widest)^exponent, the ratio floored at
 * CFQP_CHANNEL_STEP_FLOOR (a dead channel would otherwise take an unbounded
 * step).  Exponent 1 gives every channel the widest one's grid size in
 * bytes; less splits what a narrow channel gains between its own grid and
 * the weight grid of the conv reading it, whose per-output-channel scale
 * sees the weights times the step (docs/cfqp.md, "Channel steps"). */
#define CFQP_CHANNEL_STEP_FLOOR    (1.0 / 16)
void         cfqp_channel_steps_from_ranges (const float *lo, const float *hi, guint n_channels,
                                             double exponent, float *steps);

/* ------------------------------------------------------------------ */
/* Settings */

typedef struct {
  /* observers */
  CfqpObserverKind observer;
  double           percentile;        /* for CFQP_OBSERVER_PERCENTILE, e.g. 99.99 */
  guint            n_bins;            /* per sign, per tensor */
  /* model */
  gboolean         clip_free;         /* calibrate cfqp_model_new_clip_free () of the model */
  /* reservoir (cfqp_reservoir_new) */
  guint            max_samples;
  gsize            max_bytes;
  guint            crop_size;
  double           scene_threshold;
  guint32          seed;
  /* augmentation */
  CfqpAugmentFlags augment;
  guint            n_output_crops;    /* CROPS: crops per sample */
  double           range_low_pct;     /* RANGE: output percentiles mapped to 0… */
  double           range_high_pct;    /* …and to 1 */
  double           range_max_gain;    /* RANGE: bound on the gain (flat images) */
  /* weights */
  CfqpWeightRounding weight_rounding;
  /* grids */
  CfqpResidualGrid   residual_grid;
  CfqpActivationGrids activation_grids;
} CfqpCalibSettings;

/* Defaults: MSE observer (chosen by the ablation, docs/cfqp.md), 2048 bins, clip-free, 64 samples / 256 MiB, whole
 * frames, scene threshold 0.02, full augmentation, GPTQ weight rounding,
 * residuals on the pixel step, per-channel activation grids. */
void         cfqp_calib_settings_init (CfqpCalibSettings *settings);
/* Names the first out-of-range field. */
gboolean     cfqp_calib_settings_validate (const CfqpCalibSettings *settings, GError **error);

/* ------------------------------------------------------------------ */
/* Calibrations */

typedef struct {
  const char  *name;
  CfqpQParams  qparams;
  float        min, max;   /* observed FP32 extremes */
} CfqpCalibTensor;

typedef struct _CfqpCalibration CfqpCalibration;

/* What INT8 with a calibration costs against FP32, as its calibrator
 * measured it on the RD: PSNR(INT8, FP32) in dB over the pixel range [0, 1]
 * (each value clamped to it, before rounding to bytes), at most
 * CFQP_FIDELITY_MAX_PSNR (no error).  held_out: each frame was judged by a
 * calibration made without it (the two-fold cross-check; FALSE for a
 * one-frame RD, judged on itself), so the figure is what unseen frames of
 * the same stream should get, a little pessimistic since each half's
 * calibration saw half the frames. */
#define CFQP_FIDELITY_MAX_PSNR 100.0
typedef struct {
  double   psnr;       /* dB, 0..CFQP_FIDELITY_MAX_PSNR */
  gboolean held_out;
  guint    n_frames;   /* RD frames judged */
} CfqpCalibFidelity;

/* Copies everything.  n_samples: RD frames; n_images: images observed
 * (frames plus augmentations). */
CfqpCalibration *cfqp_calibration_new (const char *model_hash, gboolean clip_free,
                                       const CfqpCalibSettings *settings,
                                       guint n_samples, guint n_images,
                                       const CfqpCalibTensor *tensors, guint n_tensors);
/* The same with the int8 taps of some convs (weight rounding), each naming
 * its conv by the index of the tensor it computes in tensors, and the
 * channel steps of some tensors (per-channel grids), by index likewise. */
CfqpCalibration *cfqp_calibration_new_full (const char *model_hash, gboolean clip_free,
                                            const CfqpCalibSettings *settings,
                                            guint n_samples, guint n_images,
                                            const CfqpCalibTensor *tensors, guint n_tensors,
                                            const CfqpConvTaps *taps, guint n_taps,
                                            const CfqpChannelSteps *steps, guint n_steps);
CfqpCalibration *cfqp_calibration_ref   (CfqpCalibration *calib);
void         cfqp_calibration_unref     (CfqpCalibration *calib);

const char  *cfqp_calibration_get_model_hash (const CfqpCalibration *calib);
gboolean     cfqp_calibration_get_clip_free  (const CfqpCalibration *calib);
/* The model that runs with calib, made from model (the FP32 model as
 * loaded): its clip-free copy when calib was made clip-free, else a new
 * reference to model.  Transfer full. */
CfqpModel   *cfqp_calibration_new_run_model  (const CfqpCalibration *calib, CfqpModel *model);
const CfqpCalibSettings *cfqp_calibration_get_settings (const CfqpCalibration *calib);
guint        cfqp_calibration_get_n_samples  (const CfqpCalibration *calib);
guint        cfqp_calibration_get_n_images   (const CfqpCalibration *calib);
guint        cfqp_calibration_get_n_tensors  (const CfqpCalibration *calib);
const CfqpCalibTensor *cfqp_calibration_get_tensor (const CfqpCalibration *calib, guint i);
/* FALSE when nothing was measured (a calibration with one grid per tensor
 * by choice, activation-grids=tensor, skips the check; older files). */
gboolean     cfqp_calibration_get_fidelity (const CfqpCalibration *calib,
                                            CfqpCalibFidelity *fidelity);
/* Its conv taps (n_taps may be 0): after cfqp_calibration_check_model, what
 * CfqpRunnerOptions.conv_taps or cfqp_runner_set_quantisation take. */
const CfqpConvTaps *cfqp_calibration_get_conv_taps (const CfqpCalibration *calib,
                                                    guint *n_taps);
/* Its channel steps (n_steps may be 0), likewise. */
const CfqpChannelSteps *cfqp_calibration_get_channel_steps (const CfqpCalibration *calib,
                                                            guint *n_steps);
/* What an INT8 runner takes from it (cfqp_runner_set_quantisation): the
 * table qparams (cfqp_calibration_to_qparams), its taps and its steps. */
CfqpQuantisation cfqp_calibration_get_quantisation (const CfqpCalibration *calib,
                                                    const CfqpQParams *qparams);
/* The same into an INT8 runner's options (qparams, conv_taps, channel_steps). */
void         cfqp_calibration_fill_runner_options (const CfqpCalibration *calib,
                                                   const CfqpQParams *qparams,
                                                   CfqpRunnerOptions *options);

/* Does it belong to model (the model the runner runs: for a clip-free
 * calibration, the clip-free copy)?  Content hash, tensor count and names,
 * each conv's taps count and each tensor's channel steps. */
gboolean     cfqp_calibration_check_model (const CfqpCalibration *calib, CfqpModel *model,
                                           GError **error);
/* The runner's table: one CfqpQParams per tensor of model, after
 * cfqp_calibration_check_model.  Free with g_free. */
CfqpQParams *cfqp_calibration_to_qparams (const CfqpCalibration *calib, CfqpModel *model,
                                          GError **error);

/* JSON, human-readable.  save writes atomically (temp file + rename). */
char        *cfqp_calibration_to_json   (const CfqpCalibration *calib, gsize *length);
gboolean     cfqp_calibration_save      (const CfqpCalibration *calib, const char *path,
                                         GError **error);
/* Validate everything; model, if not NULL, must match too. */
CfqpCalibration *cfqp_calibration_new_from_json (const char *data, gssize length,
                                                 CfqpModel *model, GError **error);
CfqpCalibration *cfqp_calibration_load  (const char *path, CfqpModel *model, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CfqpCalibration, cfqp_calibration_unref)

/* ------------------------------------------------------------------ */
/* The calibrator */

typedef struct _CfqpCalibrator CfqpCalibrator;

/* settings NULL: defaults.  With settings->clip_free the calibrator works
 * on cfqp_model_new_clip_free (fp32_model); get_model returns that. */
CfqpCalibrator *cfqp_calibrator_new (CfqpModel *fp32_model, const CfqpCalibSettings *settings);
void         cfqp_calibrator_free   (CfqpCalibrator *cal);
CfqpModel   *cfqp_calibrator_get_model (CfqpCalibrator *cal);
/* The model as given (whose hash names the calibrations). */
CfqpModel   *cfqp_calibrator_get_source_model (CfqpCalibrator *cal);
/* Calibrate another model (and clip-free mode) from now on, keeping the
 * reservoir (emptied if the channel count differs): what a live
 * calibrator does when the element it calibrates for changes model. */
void         cfqp_calibrator_set_model (CfqpCalibrator *cal, CfqpModel *fp32_model,
                                        gboolean clip_free);
const CfqpCalibSettings *cfqp_calibrator_get_settings (CfqpCalibrator *cal);
/* A planar frame with the model's channel count, in [0,1]; goes through
 * the reservoir.  TRUE when it was kept. */
gboolean     cfqp_calibrator_add_frame (CfqpCalibrator *cal, const float *data, guint width,
                                        guint height);
CfqpReservoir *cfqp_calibrator_get_reservoir (CfqpCalibrator *cal);
/* Runs the RD and its augmentations through the FP32 model, observes every
 * tensor and solves the parameters.  Can take a while: call it from a
 * worker thread if needed; cancellable is checked between images.  With
 * CFQP_ACTIVATION_GRIDS_CHANNEL its candidates are one calibration per
 * exponent of CFQP_CHANNEL_STEP_EXPONENTS and one with a grid per tensor:
 * the one whose INT8 errs least against FP32 in a two-fold cross-check on
 * the RD's frames (on the one frame of a one-frame RD) is made from all
 * of them and returned, with that error as its fidelity; a model none of
 * whose tensors can take steps has one candidate, still checked for its
 * fidelity. */
#define CFQP_CHANNEL_STEP_EXPONENTS { 0.5, 1.0 }
CfqpCalibration *cfqp_calibrator_compute (CfqpCalibrator *cal, GCancellable *cancellable,
                                          GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CfqpCalibrator, cfqp_calibrator_free)

G_END_DECLS
