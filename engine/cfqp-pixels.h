/* Packed 8-bit pixels ↔ planar float tensors (internal).
 *
 * Float values are on the [0,1] scale (byte / 255).  Layouts give the
 * byte offsets of R, G, B (and alpha, or −1) inside a pixel.
 */
#pragma once

#include "cfqp-engine.h"

G_BEGIN_DECLS

/* RGB bytes → planar 3×height×width floats. */
void cfqp_pixels_unpack_rgb    (const CfqpPackedLayout *layout, const guint8 *src,
                                gsize src_stride, guint width, guint height, float *planar);
/* RGB bytes → BT.601 (full range) luma, height×width floats. */
void cfqp_pixels_unpack_luma   (const CfqpPackedLayout *layout, const guint8 *src,
                                gsize src_stride, guint width, guint height, float *luma);
/* Planar 3×height×width floats → R, G, B bytes, rounded to nearest and
 * saturated; other bytes are left alone. */
void cfqp_pixels_pack_rgb      (const CfqpPackedLayout *layout, const float *planar,
                                guint width, guint height, guint8 *dst, gsize dst_stride);
/* Upscaled luma (scale·src size) → R, G, B bytes, with the chroma of the
 * low-resolution src upscaled bilinearly: out = bilinear RGB + (Y − its luma),
 * which is exactly "replace Y, keep bilinear Cb/Cr" for full-range BT.601. */
void cfqp_pixels_pack_luma     (const CfqpPackedLayout *src_layout, const guint8 *src,
                                gsize src_stride, guint src_width, guint src_height,
                                const float *luma, guint scale,
                                const CfqpPackedLayout *dst_layout, guint8 *dst,
                                gsize dst_stride);
/* Alpha of src upscaled bilinearly by scale into dst; 255 when src has no
 * alpha; nothing when dst has none. */
void cfqp_pixels_upscale_alpha (const CfqpPackedLayout *src_layout, const guint8 *src,
                                gsize src_stride, guint src_width, guint src_height,
                                guint scale, const CfqpPackedLayout *dst_layout,
                                guint8 *dst, gsize dst_stride);

/* INT8: bytes straight into and out of planar uint8 RGB tensors. */
void cfqp_pixels_unpack_rgb_u8 (const CfqpPackedLayout *layout, const guint8 *src,
                                gsize src_stride, guint width, guint height, guint8 *planar);
void cfqp_pixels_pack_rgb_u8   (const CfqpPackedLayout *layout, const guint8 *planar,
                                guint width, guint height, guint8 *dst, gsize dst_stride);

G_END_DECLS
