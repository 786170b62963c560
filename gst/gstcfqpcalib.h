/* cfqp — cfqpcalib: calibration sink.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <gst/base/gstbasesink.h>

G_BEGIN_DECLS

#define GST_TYPE_CFQP_CALIB (gst_cfqp_calib_get_type ())
G_DECLARE_FINAL_TYPE (GstCfqpCalib, gst_cfqp_calib, GST, CFQP_CALIB, GstBaseSink)

GST_ELEMENT_REGISTER_DECLARE (cfqpcalib);

G_END_DECLS
