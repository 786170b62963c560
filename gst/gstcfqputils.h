/* cfqp — helpers shared by cfqpsr and cfqpcalib: formats, model and
 * calibration loading, the calibration registry, pixel layouts.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <gst/video/video.h>
#include "cfqp-engine.h"
#include "cfqp-calib.h"

G_BEGIN_DECLS

/* ---- formats ---- */

/* The packed 8-bit RGB formats both elements accept (same format in and out). */
#define GST_CFQP_VIDEO_FORMATS "{ RGB, BGR, RGBx, BGRx, xRGB, xBGR, RGBA, BGRA, ARGB, ABGR }"
#define GST_CFQP_VIDEO_CAPS GST_VIDEO_CAPS_MAKE (GST_CFQP_VIDEO_FORMATS)

/* Every raw format the elements take: the packed RGB family (the network's
 * own pixels) and the YUV formats converted to RGB and back.  Progressive
 * only: the network would mix the two fields of an interlaced frame (put
 * deinterlace before). */
#define GST_CFQP_ALL_FORMATS "{ RGB, BGR, RGBx, BGRx, xRGB, xBGR, RGBA, BGRA, ARGB, ABGR, I420, NV12 }"
#define GST_CFQP_ALL_CAPS GST_VIDEO_CAPS_MAKE (GST_CFQP_ALL_FORMATS) \
    ", interlace-mode = (string) progressive"

#define GST_CFQP_MIN_SCALE 2
#define GST_CFQP_MAX_SCALE 4

/* ---- models and calibrations ---- */

/* Resource path of the embedded default model for a scale ("3", or "1.5"
 * for the ×3/2 net: gst_cfqp_scale_text). */
#define GST_CFQP_MODEL_RESOURCE_FMT "/org/cfqp/models/default-x%s.onnx"

/* Resource path of the shipped calibration of the embedded default model. */
#define GST_CFQP_CALIB_RESOURCE_FMT "/org/cfqp/models/default-x%s.calib.json"

/* Environment variable naming a folder whose default-x<N>.onnx and
 * default-x<N>.calib.json replace the embedded ones (development, tests). */
#define GST_CFQP_MODEL_DIR_ENV "GST_CFQP_MODEL_DIR"

/* The scale num/den as the default models' names write it: "3", "1.5".
 * Free with g_free. */
gchar *gst_cfqp_scale_text (guint num, guint den);

/* Loads model_file, or with model_file NULL/empty the embedded default model
 * for the scale num/den (an integer scale: den 1).  *source (always set, free with g_free) names what was
 * tried, for messages: the file name or the resource path.  Errors are in
 * CFQP_ENGINE_ERROR (IO for a missing file or embedded model). */
CfqpModel *gst_cfqp_load_model (const gchar * model_file, guint num, guint den,
    gchar ** source, GError ** error);

/* Posts the element error for a model that gst_cfqp_load_model() could not
 * load: the text names source and the engine's reason. */
#define gst_cfqp_post_model_error(element, source, err) \
  gst_cfqp_post_model_error_full (element, source, err, __FILE__, \
      GST_FUNCTION, __LINE__)
void gst_cfqp_post_model_error_full (GstElement * element,
    const gchar * source, const GError * err, const gchar * file,
    const gchar * function, gint line);

/* Is there a default model (embedded or in $GST_CFQP_MODEL_DIR) for the
 * scale num/den? */
gboolean gst_cfqp_have_default_model (guint num, guint den);

/* The calibration shipped with a model: for the default model (model_file
 * NULL) the embedded default-x<N>.calib.json, for a model file m.onnx the
 * file m.calib.json beside it.  NULL (and no error) when there is none;
 * NULL with error when one exists but cannot be read or (model not NULL:
 * the model the runner runs) does not fit it.  *source names it. */
CfqpCalibration *gst_cfqp_load_shipped_calibration (const gchar * model_file,
    guint num, guint den, CfqpModel * model, gchar ** source, GError ** error);

/* Sets the fields `int8-psnr` (gdouble, dB) and `int8-psnr-held-out`
 * (gboolean) of a message structure from what the calibrator measured
 * (cfqp_calibration_get_fidelity); leaves them out when it measured nothing. */
void gst_cfqp_structure_set_fidelity (GstStructure * s,
    const CfqpCalibration * calib);

/* Reads a calibration file (cfqp_calibration_load) after checking, without
 * blocking, that path is a non-empty regular file: a FIFO, a pipe from a
 * process substitution, a directory or a device is refused with an error
 * saying what it is. */
CfqpCalibration *gst_cfqp_load_calibration_file (const gchar * path,
    GError ** error);

/* ---- the calibration registry (cfqpcalib ↔ cfqpsr pairing) ---- */

/* Process-wide registry of calibrations published by name (cfqpcalib
 * calibration-name=… → cfqpsr calibration-name=…).  publish keeps a
 * reference; lookup returns a new reference when the entry's serial number
 * is newer than *serial (and updates *serial), else NULL. */
void gst_cfqp_registry_publish (const gchar * name, CfqpCalibration * calib);
CfqpCalibration *gst_cfqp_registry_lookup (const gchar * name,
    guint64 * serial);

/* The model (as loaded, not its clip-free copy) and clip-free mode that the
 * cfqpsr of a calibration-name runs, so that a paired cfqpcalib can
 * calibrate that model.  set keeps a reference (the last element to set a
 * name wins); unset removes the entry only if owner set it; get returns a
 * new reference, NULL when no cfqpsr of that name runs. */
void gst_cfqp_registry_set_model (const gchar * name, gpointer owner,
    CfqpModel * model, gboolean clip_free);
void gst_cfqp_registry_unset_model (const gchar * name, gpointer owner);
CfqpModel *gst_cfqp_registry_get_model (const gchar * name,
    gboolean * clip_free);

/* ---- pixels ---- */

/* Byte offsets of R, G, B and alpha (-1: none) in one pixel of a packed RGB
 * format.  FALSE for any other format. */
gboolean gst_cfqp_packed_layout_for_format (GstVideoFormat format,
    CfqpPackedLayout * layout);

/* Packed RGB info of width×height with like's framerate, pixel aspect
 * ratio, interlacing and views (what GstVideoConverter wants matched). */
void gst_cfqp_rgb_info_like (GstVideoInfo * rgb, const GstVideoInfo * like,
    guint width, guint height);

/* The R, G, B (or BT.601 luma, channels 1) of a mapped frame of any format
 * above as a planar float image in [0,1]; YUV goes through RGB with the
 * frame's own matrix and range. */
CfqpImage *gst_cfqp_frame_to_image (GstVideoFrame * frame, guint channels);

G_END_DECLS
