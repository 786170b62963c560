/* Packed 8-bit pixels ↔ planar uint8 tensors: for INT8 the frame's bytes
 * are the input tensor (scale 1/255, zero point 0) and the output tensor
 * is already on the pixel grid, so these only move bytes. */
#include "cfqp-pixels.h"

void
cfqp_pixels_unpack_rgb_u8 (const CfqpPackedLayout *layout, const guint8 *src,
    gsize src_stride, guint width, guint height, guint8 *planar)
{
  gsize plane = (gsize) width * height;

  for (guint y = 0; y < height; y++) {
    const guint8 *p = src + y * src_stride;
    guint8 *r = planar + (gsize) y * width, *g = r + plane, *b = g + plane;
    for (guint x = 0; x < width; x++, p += layout->pixel_stride) {
      r[x] = p[layout->r];
      g[x] = p[layout->g];
      b[x] = p[layout->b];
    }
  }
}

void
cfqp_pixels_pack_rgb_u8 (const CfqpPackedLayout *layout, const guint8 *planar,
    guint width, guint height, guint8 *dst, gsize dst_stride)
{
  gsize plane = (gsize) width * height;

  for (guint y = 0; y < height; y++) {
    guint8 *p = dst + y * dst_stride;
    const guint8 *r = planar + (gsize) y * width, *g = r + plane, *b = g + plane;
    for (guint x = 0; x < width; x++, p += layout->pixel_stride) {
      p[layout->r] = r[x];
      p[layout->g] = g[x];
      p[layout->b] = b[x];
    }
  }
}
