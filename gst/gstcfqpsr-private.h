/* cfqp — cfqpsr's instance and the functions its files share: the element
 * (gstcfqpsr.c: properties, caps, set_info, transform_frame, bus messages),
 * its session side (gstcfqpsrsession.c: model, calibrations, runner) and
 * its frames (gstcfqpsrframe.c: frames ↔ the runner, self-calibration
 * samples).  One debug category, the element's.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "gstcfqpsr.h"
#include "gstcfqpenums.h"
#include "gstcfqputils.h"
#include "cfqp-session.h"
#include "cfqp-filewatch.h"

G_BEGIN_DECLS

GST_DEBUG_CATEGORY_EXTERN (gst_cfqp_sr_debug);
#define GST_CAT_DEFAULT gst_cfqp_sr_debug

struct _GstCfqpSr
{
  GstVideoFilter parent;

  /* properties, under the object lock */
  gchar *model_file;
  guint scale_factor;
  gchar *calibration_file;
  GstCfqpPrecision precision;
  gdouble min_int8_psnr;        /* 0: INT8 whatever its calibration measured */
  GstCfqpInt8Fallback int8_fallback;  /* what runs while min_int8_psnr holds INT8 back */
  GstCfqpBackend backend;
  gboolean clip_free;
  gboolean clip_free_set;       /* clip-free set by the application */
  guint n_threads;
  gchar *device;
  gchar *calibration_name;
  guint self_calibration_frames;
  gchar *active_backend;
  gchar *model_info;
  GstCfqpCpuKernels cpu_kernels;
  gchar *kernel_info;           /* the runner's conv kernels, model-info's tail */
  gchar *resample_info;         /* network and resampling for the caps */
  gint in_w, in_h, out_w, out_h;        /* of the negotiated caps, 0: none */

  /* under the object lock: what the next frame boundary applies, and the
   * session (caps queries and the file watch read it from other threads;
   * its model and run copy are fixed between start and stop) */
  gboolean started;
  gboolean runner_dirty;
  CfqpSession *session;         /* model, run copy, active and pending */

  /* streaming thread, under runner_lock */
  GMutex runner_lock;
  CfqpRunner *runner;
  gboolean int8_warned;
  gboolean int8_held_back;      /* the runner runs int8_fallback for min-int8-psnr */
  guint64 registry_serial;
  guint64 frame_count;
  /* the network's packed RGB frames (gstcfqpsrframe.c): the frame's own
   * bytes, or YUV converted into rgb_in and back from rgb_out */
  CfqpPackedLayout layout;
  gboolean yuv;
  GstVideoInfo rgb_in_info, rgb_out_info;
  GstBuffer *rgb_in, *rgb_out;
  GstVideoConverter *to_rgb, *from_rgb;

  /* calibration-file watch (calib/cfqp-filewatch.c, its own thread) */
  CfqpFileWatch *watch;
  guint watch_refused;          /* refused versions in a row, watch thread */
};

/* ---- gstcfqpsr.c: bus messages (streaming thread, or start) ---- */

/* cfqpsr-calibration: a calibration (a QDQ model's own parameters:
 * n_samples 0) is active from this frame. */
void gst_cfqp_sr_post_calibration (GstCfqpSr * self, const gchar * source,
    const gchar * model_hash, guint n_samples);
void gst_cfqp_sr_post_calibration_of (GstCfqpSr * self, const gchar * source,
    CfqpCalibration * calib);
/* active-backend and model-info's kernels from the runner; cfqpsr-precision
 * when what runs changed. */
void gst_cfqp_sr_update_active_backend (GstCfqpSr * self);

/* ---- gstcfqpsrsession.c ---- */

/* Scales (any thread): the largest per axis caps may ask for, the one a free
 * output size takes, the smallest embedded default ≥ needed (0: none). */
guint gst_cfqp_sr_get_max_scale (GstCfqpSr * self);
guint gst_cfqp_sr_get_scale (GstCfqpSr * self);
guint gst_cfqp_sr_default_scale_for (guint needed);
/* The embedded default for iw × ih → ow × oh as num/den (num 0: none). */
void gst_cfqp_sr_default_for (gint iw, gint ih, gint ow, gint oh, guint * num,
    guint * den);
/* The model for the scale num/den (or model-file), its first calibration, a
 * runner; FALSE after posting an element error.  unload drops them. */
gboolean gst_cfqp_sr_load (GstCfqpSr * self, guint num, guint den);
void gst_cfqp_sr_unload (GstCfqpSr * self);
/* Applies each settled new version of calibration-file at a frame boundary. */
void gst_cfqp_sr_start_watch (GstCfqpSr * self, const gchar * path);
/* Streaming thread, runner_lock held: a pending calibration, changed
 * properties. */
void gst_cfqp_sr_frame_boundary (GstCfqpSr * self);

/* ---- gstcfqpsrframe.c (runner_lock held) ---- */

gboolean gst_cfqp_sr_setup_frames (GstCfqpSr * self, GstVideoInfo * in_info,
    GstVideoInfo * out_info, guint n_threads);
void gst_cfqp_sr_clear_frames (GstCfqpSr * self);
gboolean gst_cfqp_sr_run (GstCfqpSr * self, GstVideoFrame * in_frame,
    GstVideoFrame * out_frame, GError ** error);
/* Self-calibration: a copy of the frame when the worker wants one; the
 * worker's callbacks for a copy. */
void gst_cfqp_sr_self_sample (GstCfqpSr * self, GstVideoFrame * in_frame);
CfqpImage *gst_cfqp_sr_self_sample_image (gpointer data, guint channels,
    gpointer user_data);
void gst_cfqp_sr_self_sample_free (gpointer data);

G_END_DECLS
