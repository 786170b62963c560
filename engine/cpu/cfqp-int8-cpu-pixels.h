/* Packed 8-bit pixels ↔ planar uint8 RGB for the cpu set (internal): the
 * same bytes as cfqp_pixels_unpack_rgb_u8 / cfqp_pixels_pack_rgb_u8, ORC
 * for 4-byte pixels. */
#pragma once

#include "cfqp-engine.h"

G_BEGIN_DECLS

void cfqp_int8_cpu_unpack_rgb (const CfqpPackedLayout *layout, const guint8 *src,
                               gsize src_stride, guint width, guint height, guint8 *planar);
/* With an alpha byte in a 4-byte pixel, writes it as 255 (the caller then
 * upscales alpha into it); otherwise leaves every non-RGB byte alone. */
void cfqp_int8_cpu_pack_rgb   (const CfqpPackedLayout *layout, const guint8 *planar,
                               guint width, guint height, guint8 *dst, gsize dst_stride);

G_END_DECLS
