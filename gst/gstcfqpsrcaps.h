/* cfqp — cfqpsr's caps: any output size from the input size up to
 * max_scale times per axis, pixel-aspect-ratio free as in videoscale.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

/* transform_caps: direction GST_PAD_SINK gives what the source pad can
 * output for caps (width w → [w, max_scale·w], height likewise), SRC what
 * the sink pad can take for output caps (w → [⌈w/max_scale⌉, w]).  A
 * pixel-aspect-ratio becomes any ratio (the fixation keeps the display
 * aspect ratio).  Other fields and the caps features are kept. */
GstCaps *gst_cfqp_sr_caps_transform (GstPadDirection direction, GstCaps * caps,
    GstCaps * filter, guint max_scale);

/* fixate_caps as videoscale's, except that the size it tries to keep is
 * the input size times scale (the preferred integer scale) instead of the
 * input size: a fixed output size wins, a free one is scale × the input
 * with the display aspect ratio kept, changing the pixel-aspect-ratio or
 * the size as downstream allows.  Takes othercaps. */
GstCaps *gst_cfqp_sr_caps_fixate (GstPadDirection direction, GstCaps * caps,
    GstCaps * othercaps, guint scale);

/* The smallest integer scale ≥ the ratio of out to in on either axis:
 * ⌈max (ow/iw, oh/ih)⌉. */
guint gst_cfqp_sr_caps_needed_scale (gint iw, gint ih, gint ow, gint oh);

G_END_DECLS
