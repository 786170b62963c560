/* CfqpSession: the calibration lifecycle of one model, for an element or
 * any program, GLib only.
 *
 * A session holds the model as loaded and the copy that runs (the model, or
 * its clip-free copy), the active calibration and the one waiting for the
 * next frame boundary, and the checks a calibration passes before it is
 * used.  The first calibration decides which copy runs (see
 * cfqp_session_set_first); later ones must fit that copy, and a refused one
 * leaves the active calibration in place.
 *
 * The source order the elements follow: calibration-file, else the
 * calibration shipped with the model, else a paired cfqpcalib's or
 * self-calibration; a QDQ model's embedded parameters count as one too.
 * With none, INT8 runs as FP32 until one comes.
 *
 * Thread safety: set_pending may be called from any thread (a file watch, a
 * calibration worker); the rest from the thread that runs the model.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "cfqp-calib.h"
#include "cfqp-calibworker.h"

G_BEGIN_DECLS

typedef struct _CfqpSession CfqpSession;

/* clip_free: the mode asked for; clip_free_set: whether the application
 * set it (a first calibration may then not change it). */
CfqpSession *cfqp_session_new   (CfqpModel *model, gboolean clip_free,
                                 gboolean clip_free_set);
CfqpSession *cfqp_session_ref   (CfqpSession *session);
void         cfqp_session_unref (CfqpSession *session);

CfqpModel   *cfqp_session_get_model      (CfqpSession *session); /* as loaded */
CfqpModel   *cfqp_session_get_run_model  (CfqpSession *session); /* what runs */
gboolean     cfqp_session_get_clip_free  (CfqpSession *session); /* run copy's mode */
guint        cfqp_session_get_n_removed  (CfqpSession *session); /* clips removed */
/* The loaded model's description (cfqp_model_describe) and which graph
 * runs: " [clip-free: clips removed]", " [clip-free: no clips]", or with
 * clip-free asked for but the graph with its clips running (its first
 * calibration's) " [clips kept: …]".  What the element's model-info shows;
 * free with g_free. */
gchar       *cfqp_session_describe       (CfqpSession *session);

/* Offers a first calibration (in source order, until one is taken).  It
 * decides the mode when it can: the calibration's own mode is taken when it
 * changes nothing (no clips) or clip-free was left at its default;
 * otherwise a mode that differs is refused, with a text naming the setting
 * that would take it.  On success it becomes active. */
gboolean     cfqp_session_set_first      (CfqpSession *session,
                                          CfqpCalibration *calib, GError **error);

/* Whether calib fits what runs: same clip-free mode, content hash and
 * tensors. */
gboolean     cfqp_session_usable         (CfqpSession *session,
                                          CfqpCalibration *calib, GError **error);

/* The embedded QDQ parameters of the run copy, or NULL. */
const CfqpQParams *cfqp_session_get_embedded_qparams (CfqpSession *session);

/* The active calibration (borrowed; NULL: none yet) and its replacement
 * once the runner has taken it. */
CfqpCalibration *cfqp_session_get_active (CfqpSession *session);
void         cfqp_session_set_active     (CfqpSession *session,
                                          CfqpCalibration *calib);

/* Hands calib (from source, a text for messages) to the next frame boundary;
 * a newer one replaces one not yet taken.  Any thread. */
void         cfqp_session_set_pending    (CfqpSession *session,
                                          CfqpCalibration *calib,
                                          const char *source);
/* At a frame boundary: the pending calibration (a new reference, *source
 * set, free with g_free) or NULL; override (a paired cfqpcalib's, with
 * override_source) wins over a pending one, which is dropped.  A
 * calibration that does not fit what runs is refused: NULL, error set,
 * *source names it, the active one stays. */
CfqpCalibration *cfqp_session_take_pending (CfqpSession *session,
                                            CfqpCalibration *override,
                                            const char *override_source,
                                            char **source, GError **error);

/* A runner of the run copy for options (its qparams ignored) with the
 * active calibration, or without one a QDQ model's embedded parameters.
 * INT8 with neither, or with a calibration that gives no parameters
 * (*calib_unusable: why, free with g_free), runs FP32; INT8 the engine
 * cannot run for this model (unsupported or invalid) falls back to FP32
 * (*int8_unavailable: the engine's reason).  Both out-arguments may be
 * NULL and are set to NULL when nothing fell back. */
CfqpRunner  *cfqp_session_new_runner     (CfqpSession *session,
                                          const CfqpRunnerOptions *options,
                                          char **calib_unusable,
                                          char **int8_unavailable,
                                          GError **error);

/* Makes calib active at a frame boundary.  An INT8 runner takes its
 * parameters in place (unless rebuild: the properties changed too); FALSE
 * with error when it refuses them (the active one stays).  Otherwise calib
 * is active at once and *needs_rebuild says a new runner
 * (cfqp_session_new_runner) must run it. */
gboolean     cfqp_session_apply          (CfqpSession *session, CfqpRunner *runner,
                                          CfqpCalibration *calib, gboolean rebuild,
                                          gboolean *needs_rebuild, GError **error);

/* ---- self-calibration ---- */

/* The frame of an item (the caller's copy) as a planar image of channels
 * channels, on the worker thread; NULL to skip it. */
typedef CfqpImage *(*CfqpSessionImageFunc) (gpointer item, guint channels,
                                            gpointer user_data);
/* A self-calibration that failed (not one cancelled), on the worker. */
typedef void       (*CfqpSessionFailedFunc) (const GError *error, gpointer user_data);

/* Calibrates the model (in the run copy's mode) from the next n_frames
 * items handed over, on a CfqpCalibWorker, random crops of crop_size; the
 * result is set pending with source "self".  Every item is a sample (no
 * scene test). */
void     cfqp_session_start_self_calibration (CfqpSession *session, guint n_frames,
                                              guint crop_size,
                                              CfqpSessionImageFunc to_image,
                                              CfqpSessionFailedFunc failed,
                                              GDestroyNotify item_free,
                                              gpointer user_data);
/* Whether an item would be taken now: calibrating, fewer than n_frames
 * handed over, nothing queued (the stream never waits for the worker). */
gboolean cfqp_session_wants_sample           (CfqpSession *session);
/* Hands item over (after wants_sample). */
void     cfqp_session_add_sample             (CfqpSession *session, gpointer item);
/* Cancels and joins the worker (a paired calibrator takes over, or stop);
 * nothing if none runs. */
void     cfqp_session_stop_self_calibration  (CfqpSession *session);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CfqpSession, cfqp_session_unref)

G_END_DECLS
