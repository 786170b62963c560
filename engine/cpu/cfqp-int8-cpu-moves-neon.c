/* The byte moves of the cpu set for 64-bit ARM, with NEON's structure loads
 * and stores, which (de)interleave 2, 3 or 4 byte streams exactly:
 *
 *   interleave_row_u8__neon  depth-to-space rows, blocks 2, 3, 4 (vst2/3/4):
 *                            block 3, which no ORC opcode does, included
 *   unpack_rgb_u8__neon      3- and 4-byte pixels → R, G, B planes (vld3/4)
 *   pack_rgb_u8__neon        planes → pixels (vst3; 4-byte pixels load the
 *                            pixel first, so the fourth byte stays as it was)
 *
 * The kernel config names them for every ARM level (NEON is the AArch64
 * baseline); the same bytes as the C adapters, which run the tails. */
#include "cfqp-int8-cpu-pixels.h"
#include "cfqp-pixels.h"

#if CFQP_GEMM_ARM64
#include <arm_neon.h>

gboolean
cfqp_int8_interleave_row_u8__neon (guint8 *d, const guint8 *const *s, guint b, guint n)
{
  guint x = 0;

  switch (b) {
    case 2:
      for (; x + 16 <= n; x += 16)
        vst2q_u8 (d + 2 * x, ((uint8x16x2_t) { { vld1q_u8 (s[0] + x), vld1q_u8 (s[1] + x) } }));
      break;
    case 3:
      for (; x + 16 <= n; x += 16)
        vst3q_u8 (d + 3 * x, ((uint8x16x3_t) { { vld1q_u8 (s[0] + x), vld1q_u8 (s[1] + x),
            vld1q_u8 (s[2] + x) } }));
      break;
    case 4:
      for (; x + 16 <= n; x += 16)
        vst4q_u8 (d + 4 * x, ((uint8x16x4_t) { { vld1q_u8 (s[0] + x), vld1q_u8 (s[1] + x),
            vld1q_u8 (s[2] + x), vld1q_u8 (s[3] + x) } }));
      break;
    default:
      return FALSE;
  }
  for (; x < n; x++)
    for (guint j = 0; j < b; j++)
      d[b * x + j] = s[j][x];
  return TRUE;
}

/* 3- or 4-byte pixels whose R, G, B offsets are distinct bytes of the pixel */
static gboolean
neon_layout (const CfqpPackedLayout *l)
{
  guint n = l->pixel_stride;

  return (n == 3 || n == 4) && l->r >= 0 && l->g >= 0 && l->b >= 0 && (guint) l->r < n &&
      (guint) l->g < n && (guint) l->b < n && l->r != l->g && l->g != l->b && l->r != l->b;
}

gboolean
cfqp_int8_unpack_rgb_u8__neon (const CfqpPackedLayout *l, const guint8 *src, gsize src_stride,
    guint width, guint height, guint8 *planar)
{
  gsize plane = (gsize) width * height;

  if (!neon_layout (l))
    return FALSE;
  for (guint y = 0; y < height; y++) {
    const guint8 *p = src + y * src_stride;
    guint8 *r = planar + (gsize) y * width, *g = r + plane, *b = g + plane;
    guint x = 0;
    for (; x + 16 <= width; x += 16) {
      uint8x16_t v[4];
      if (l->pixel_stride == 3) {
        uint8x16x3_t t = vld3q_u8 (p + 3 * x);
        v[0] = t.val[0], v[1] = t.val[1], v[2] = t.val[2];
      } else {
        uint8x16x4_t t = vld4q_u8 (p + 4 * x);
        v[0] = t.val[0], v[1] = t.val[1], v[2] = t.val[2], v[3] = t.val[3];
      }
      vst1q_u8 (r + x, v[l->r]);
      vst1q_u8 (g + x, v[l->g]);
      vst1q_u8 (b + x, v[l->b]);
    }
    for (; x < width; x++) {
      const guint8 *px = p + (gsize) x * l->pixel_stride;
      r[x] = px[l->r];
      g[x] = px[l->g];
      b[x] = px[l->b];
    }
  }
  return TRUE;
}

gboolean
cfqp_int8_pack_rgb_u8__neon (const CfqpPackedLayout *l, const guint8 *planar, guint width,
    guint height, guint8 *dst, gsize dst_stride)
{
  gsize plane = (gsize) width * height;

  if (!neon_layout (l))
    return FALSE;
  for (guint y = 0; y < height; y++) {
    guint8 *p = dst + y * dst_stride;
    const guint8 *r = planar + (gsize) y * width, *g = r + plane, *b = g + plane;
    guint x = 0;
    for (; x + 16 <= width; x += 16) {
      if (l->pixel_stride == 3) {
        uint8x16x3_t t;
        t.val[l->r] = vld1q_u8 (r + x);
        t.val[l->g] = vld1q_u8 (g + x);
        t.val[l->b] = vld1q_u8 (b + x);
        vst3q_u8 (p + 3 * x, t);
      } else {
        uint8x16x4_t t = vld4q_u8 (p + 4 * x);   /* the fourth byte as it was */
        t.val[l->r] = vld1q_u8 (r + x);
        t.val[l->g] = vld1q_u8 (g + x);
        t.val[l->b] = vld1q_u8 (b + x);
        vst4q_u8 (p + 4 * x, t);
      }
    }
    for (; x < width; x++) {
      guint8 *px = p + (gsize) x * l->pixel_stride;
      px[l->r] = r[x];
      px[l->g] = g[x];
      px[l->b] = b[x];
    }
  }
  return TRUE;
}
#endif
