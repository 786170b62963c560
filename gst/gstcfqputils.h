/* cfqp — helpers shared by cfqpsr and cfqpcalib: model choice and pixel layouts.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <gst/video/video.h>
#include "cfqp-engine.h"

G_BEGIN_DECLS

/* The packed 8-bit RGB formats both elements accept (same format in and out). */
#define GST_CFQP_VIDEO_FORMATS "{ RGB, BGR, RGBx, BGRx, xRGB, xBGR, RGBA, BGRA, ARGB, ABGR }"
#define GST_CFQP_VIDEO_CAPS GST_VIDEO_CAPS_MAKE (GST_CFQP_VIDEO_FORMATS)

#define GST_CFQP_MIN_SCALE 2
#define GST_CFQP_MAX_SCALE 4

/* Resource path of the embedded default model for a scale. */
#define GST_CFQP_MODEL_RESOURCE_FMT "/org/cfqp/models/default-x%u.onnx"

/* Loads model_file, or with model_file NULL/empty the embedded default model
 * for scale_factor.  *source (always set, free with g_free) names what was
 * tried, for messages: the file name or the resource path.  Errors are in
 * CFQP_ENGINE_ERROR (IO for a missing file or embedded model). */
CfqpModel *gst_cfqp_load_model (const gchar * model_file, guint scale_factor,
    gchar ** source, GError ** error);

/* Byte offsets of R, G, B and alpha (-1: none) in one pixel of a packed RGB
 * format.  FALSE for any other format. */
gboolean gst_cfqp_packed_layout_for_format (GstVideoFormat format,
    CfqpPackedLayout * layout);

G_END_DECLS

G_BEGIN_DECLS

/* Posts the element error for a model that gst_cfqp_load_model() could not
 * load: the text names source and the engine's reason. */
#define gst_cfqp_post_model_error(element, source, err) \
  gst_cfqp_post_model_error_full (element, source, err, __FILE__, \
      GST_FUNCTION, __LINE__)
void gst_cfqp_post_model_error_full (GstElement * element,
    const gchar * source, const GError * err, const gchar * file,
    const gchar * function, gint line);

G_END_DECLS
