/* Pixel format adapters between packed bytes and planar floats. */
#include "cfqp-pixels.h"

#include <math.h>

#define LUMA_R 0.299f
#define LUMA_G 0.587f
#define LUMA_B 0.114f

static inline guint8
to_byte (float v)
{
  float b = v * 255.f + 0.5f;

  /* Written so that NaN saturates to 0 too. */
  if (!(b >= 0.f))
    return 0;
  if (b >= 255.f)
    return 255;
  return (guint8) b;
}

/* Bilinear source position of output index i for an upscale by scale
 * (pixel centres aligned, edges clamped). */
static inline void
bilinear_tap (guint i, guint scale, guint n, guint *i0, guint *i1, float *frac)
{
  float s = ((float) i + 0.5f) / scale - 0.5f;

  if (s <= 0.f) {
    *i0 = *i1 = 0;
    *frac = 0.f;
    return;
  }
  *i0 = MIN ((guint) s, n - 1);
  *i1 = MIN (*i0 + 1, n - 1);
  *frac = s - (float) *i0;
}

static inline float
bilinear_byte (const guint8 *src, gsize src_stride, guint pixel_stride, gint offset,
    guint x0, guint x1, float fx, guint y0, guint y1, float fy)
{
  const guint8 *r0 = src + y0 * src_stride + offset, *r1 = src + y1 * src_stride + offset;
  float top = r0[x0 * pixel_stride] + fx * (r0[x1 * pixel_stride] - r0[x0 * pixel_stride]);
  float bottom = r1[x0 * pixel_stride] + fx * (r1[x1 * pixel_stride] - r1[x0 * pixel_stride]);

  return top + fy * (bottom - top);
}

void
cfqp_pixels_unpack_rgb (const CfqpPackedLayout *layout, const guint8 *src,
    gsize src_stride, guint width, guint height, float *planar)
{
  gsize plane = (gsize) width * height;

  for (guint y = 0; y < height; y++) {
    const guint8 *p = src + y * src_stride;
    float *r = planar + (gsize) y * width, *g = r + plane, *b = g + plane;

    for (guint x = 0; x < width; x++, p += layout->pixel_stride) {
      r[x] = p[layout->r] * (1.f / 255.f);
      g[x] = p[layout->g] * (1.f / 255.f);
      b[x] = p[layout->b] * (1.f / 255.f);
    }
  }
}

void
cfqp_pixels_unpack_luma (const CfqpPackedLayout *layout, const guint8 *src,
    gsize src_stride, guint width, guint height, float *luma)
{
  for (guint y = 0; y < height; y++) {
    const guint8 *p = src + y * src_stride;
    float *o = luma + (gsize) y * width;

    for (guint x = 0; x < width; x++, p += layout->pixel_stride)
      o[x] = (LUMA_R * p[layout->r] + LUMA_G * p[layout->g] + LUMA_B * p[layout->b]) *
          (1.f / 255.f);
  }
}

void
cfqp_pixels_pack_rgb (const CfqpPackedLayout *layout, const float *planar,
    guint width, guint height, guint8 *dst, gsize dst_stride)
{
  gsize plane = (gsize) width * height;

  for (guint y = 0; y < height; y++) {
    guint8 *p = dst + y * dst_stride;
    const float *r = planar + (gsize) y * width, *g = r + plane, *b = g + plane;

    for (guint x = 0; x < width; x++, p += layout->pixel_stride) {
      p[layout->r] = to_byte (r[x]);
      p[layout->g] = to_byte (g[x]);
      p[layout->b] = to_byte (b[x]);
    }
  }
}

void
cfqp_pixels_pack_luma (const CfqpPackedLayout *src_layout, const guint8 *src,
    gsize src_stride, guint src_width, guint src_height, const float *luma, guint scale,
    const CfqpPackedLayout *dst_layout, guint8 *dst, gsize dst_stride)
{
  guint width = src_width * scale, height = src_height * scale;
  guint ps = src_layout->pixel_stride;

  for (guint y = 0; y < height; y++) {
    guint8 *p = dst + y * dst_stride;
    const float *l = luma + (gsize) y * width;
    guint y0, y1;
    float fy;

    bilinear_tap (y, scale, src_height, &y0, &y1, &fy);
    for (guint x = 0; x < width; x++, p += dst_layout->pixel_stride) {
      guint x0, x1;
      float fx, r, g, b, delta;

      bilinear_tap (x, scale, src_width, &x0, &x1, &fx);
      r = bilinear_byte (src, src_stride, ps, src_layout->r, x0, x1, fx, y0, y1, fy);
      g = bilinear_byte (src, src_stride, ps, src_layout->g, x0, x1, fx, y0, y1, fy);
      b = bilinear_byte (src, src_stride, ps, src_layout->b, x0, x1, fx, y0, y1, fy);
      delta = l[x] - (LUMA_R * r + LUMA_G * g + LUMA_B * b) * (1.f / 255.f);
      p[dst_layout->r] = to_byte (r * (1.f / 255.f) + delta);
      p[dst_layout->g] = to_byte (g * (1.f / 255.f) + delta);
      p[dst_layout->b] = to_byte (b * (1.f / 255.f) + delta);
    }
  }
}

void
cfqp_pixels_upscale_alpha (const CfqpPackedLayout *src_layout, const guint8 *src,
    gsize src_stride, guint src_width, guint src_height, guint scale,
    const CfqpPackedLayout *dst_layout, guint8 *dst, gsize dst_stride)
{
  guint width = src_width * scale, height = src_height * scale;

  if (dst_layout->a < 0) {
    /* RGBx and friends: the padding byte is written (opaque) rather than
     * left with whatever the buffer pool held */
    if (dst_layout->pixel_stride == 4) {
      gint pad = 6 - dst_layout->r - dst_layout->g - dst_layout->b;
      for (guint y = 0; y < height; y++)
        for (guint x = 0; x < width; x++)
          dst[y * dst_stride + x * 4 + pad] = 255;
    }
    return;
  }
  for (guint y = 0; y < height; y++) {
    guint8 *p = dst + y * dst_stride + dst_layout->a;
    guint y0, y1;
    float fy;

    if (src_layout->a < 0) {
      for (guint x = 0; x < width; x++)
        p[x * dst_layout->pixel_stride] = 255;
      continue;
    }
    bilinear_tap (y, scale, src_height, &y0, &y1, &fy);
    for (guint x = 0; x < width; x++) {
      guint x0, x1;
      float fx, v;

      bilinear_tap (x, scale, src_width, &x0, &x1, &fx);
      v = bilinear_byte (src, src_stride, src_layout->pixel_stride, src_layout->a,
          x0, x1, fx, y0, y1, fy);
      p[x * dst_layout->pixel_stride] = to_byte (v * (1.f / 255.f));
    }
  }
}
