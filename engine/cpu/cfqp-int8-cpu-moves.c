/* Byte movement of the cpu set: the data moves (depth-to-space,
 * space-to-depth, nearest resize, tile), which are cfqp-moves.c's byte
 * case, shared with FP32, with the kernel config's row interleave tried
 * first (ARM: NEON structure stores, blocks 2-4); and the packed-pixel
 * adapters, the config's kernels (ARM: 3- and 4-byte pixels) or ORC where
 * an opcode does 4-byte pixels exactly. */
#include "cfqp-int8-cpu-private.h"
#include "cfqp-int8-cpu-config.h"
#include "cfqp-int8-cpu-scratch.h"
#include "cfqp-moves.h"
#include "cfqp-int8-cpu-pixels.h"
#include "cfqp-pixels.h"

#include <config.h>
#include <string.h>
#ifdef HAVE_ORC
#include "cfqp-orc.h"
#endif

void
cfqp_int8_cpu_move (const CfqpNode *node, const CfqpInt8Node *q, const CfqpU8View *inputs,
    const CfqpU8View *output, guint y0, guint y1)
{
  CfqpView *in = g_newa (CfqpView, node->n_inputs);
  CfqpView out = CFQP_VIEW_AS (CfqpView, output);

  for (guint k = 0; k < node->n_inputs; k++)
    in[k] = CFQP_VIEW_AS (CfqpView, &inputs[k]);
  cfqp_moves_run (node, 1, cfqp_int8_cpu_config ()->interleave, in, &out, y0, y1);
}

/* 4-byte pixels whose R, G, B offsets are distinct: the fourth offset. */
static gboolean
four_byte_layout (const CfqpPackedLayout *layout, guint *other)
{
  guint seen = 0;

  if (layout->pixel_stride != 4 || layout->r < 0 || layout->r > 3 || layout->g < 0 ||
      layout->g > 3 || layout->b < 0 || layout->b > 3)
    return FALSE;
  seen = (1u << layout->r) | (1u << layout->g) | (1u << layout->b);
  if (seen == 0xf || __builtin_popcount (seen) != 3)
    return FALSE;
  *other = (guint) __builtin_ctz (~seen & 0xf);
  return TRUE;
}

void
cfqp_int8_cpu_unpack_rgb (const CfqpPackedLayout *layout, const guint8 *src,
    gsize src_stride, guint width, guint height, guint8 *planar)
{
  CfqpInt8UnpackRgbFunc kernel = cfqp_int8_cpu_config ()->unpack_rgb;

  if (kernel && kernel (layout, src, src_stride, width, height, planar))
    return;
#ifdef HAVE_ORC
  gsize plane = (gsize) width * height;
  guint other;

  if (width > 0 && four_byte_layout (layout, &other) && cfqp_aligned (src, 4) &&
      cfqp_aligned ((gconstpointer) src_stride, 4)) {
    for (guint y = 0; y < height; y++) {
      const guint8 *row = src + y * src_stride;
      guint8 *r = planar + (gsize) y * width;
      cfqp_orc_extract_u8_from_u32 (r, row, 8 * layout->r, width);
      cfqp_orc_extract_u8_from_u32 (r + plane, row, 8 * layout->g, width);
      cfqp_orc_extract_u8_from_u32 (r + 2 * plane, row, 8 * layout->b, width);
    }
    return;
  }
#endif
  cfqp_pixels_unpack_rgb_u8 (layout, src, src_stride, width, height, planar);
}

void
cfqp_int8_cpu_pack_rgb (const CfqpPackedLayout *layout, const guint8 *planar,
    guint width, guint height, guint8 *dst, gsize dst_stride)
{
  CfqpInt8PackRgbFunc kernel = cfqp_int8_cpu_config ()->pack_rgb;

  if (kernel && kernel (layout, planar, width, height, dst, dst_stride))
    return;
#ifdef HAVE_ORC
  gsize plane = (gsize) width * height;
  guint other;

  /* only with alpha: its byte is written (255) here and then rewritten by
   * the alpha upscale; a padding byte must be left as it was */
  if (width > 0 && layout->a >= 0 && four_byte_layout (layout, &other) &&
      (guint) layout->a == other && cfqp_aligned (dst, 4) &&
      cfqp_aligned ((gconstpointer) dst_stride, 4)) {
    guint8 *opaque = cfqp_int8_cpu_scratch (width);
    memset (opaque, 255, width);
    for (guint y = 0; y < height; y++) {
      const guint8 *s[4];
      s[layout->r] = planar + (gsize) y * width;
      s[layout->g] = s[layout->r] + plane;
      s[layout->b] = s[layout->r] + 2 * plane;
      s[other] = opaque;
      cfqp_orc_interleave4_u8 (dst + y * dst_stride, s[0], s[1], s[2], s[3], width);
    }
    return;
  }
#endif
  cfqp_pixels_pack_rgb_u8 (layout, planar, width, height, dst, dst_stride);
}
