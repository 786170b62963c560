/* cfqp — cfqpsr: super-resolution video filter.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <gst/video/video.h>
#include <gst/video/gstvideofilter.h>

G_BEGIN_DECLS

#define GST_TYPE_CFQP_SR (gst_cfqp_sr_get_type ())
G_DECLARE_FINAL_TYPE (GstCfqpSr, gst_cfqp_sr, GST, CFQP_SR, GstVideoFilter)

GST_ELEMENT_REGISTER_DECLARE (cfqpsr);

G_END_DECLS
