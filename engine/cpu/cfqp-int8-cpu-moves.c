/* Byte movement of the cpu set: depth-to-space, nearest resize and tile
 * rows, and the packed-pixel adapters.  The kernel config's move kernels
 * first (ARM: NEON structure stores, blocks 2-4, 3- and 4-byte pixels);
 * else ORC where an opcode interleaves exactly (blocks 2 and 4, 4-byte
 * pixels); C elsewhere, notably block 3, which no ORC 0.4 opcode
 * interleaves. */
#include "cfqp-int8-cpu-private.h"
#include "cfqp-int8-cpu-config.h"
#include "cfqp-int8-cpu-scratch.h"
#include "cfqp-int8-cpu-pixels.h"
#include "cfqp-pixels.h"

#include <config.h>
#include <string.h>
#ifdef HAVE_ORC
#include "cfqp-orc.h"
#endif

#ifdef HAVE_ORC
/* ORC loads and stores whole elements: its arrays must be aligned to the
 * element size (misaligned 4-byte pixels crash its SSE code). */
static inline gboolean
aligned (gconstpointer p, gsize size)
{
  return ((guintptr) p & (size - 1)) == 0;
}
#endif

/* d[b·x + j] = s[j][x] */
static void
interleave_row (guint8 *d, const guint8 *const *s, guint b, guint n)
{
  CfqpInt8InterleaveFunc kernel = cfqp_int8_cpu_config ()->interleave;

  if (kernel && kernel (d, s, b, n))
    return;
#ifdef HAVE_ORC
  if (b == 2 && aligned (d, 2)) {
    cfqp_orc_interleave2_u8 (d, s[0], s[1], n);
    return;
  }
  if (b == 4 && aligned (d, 4)) {
    cfqp_orc_interleave4_u8 (d, s[0], s[1], s[2], s[3], n);
    return;
  }
#endif
  if (b == 3) {
    const guint8 *s0 = s[0], *s1 = s[1], *s2 = s[2];
    for (guint x = 0; x < n; x++) {
      d[3 * x] = s0[x];
      d[3 * x + 1] = s1[x];
      d[3 * x + 2] = s2[x];
    }
    return;
  }
  for (guint j = 0; j < b; j++)
    for (guint x = 0; x < n; x++)
      d[b * x + j] = s[j][x];
}

void
cfqp_int8_cpu_depth_to_space (const CfqpNode *node, const CfqpInt8Node *q,
    const CfqpU8View *inputs, const CfqpU8View *output, guint y0, guint y1)
{
  guint b = node->p.shuffle.block;
  gboolean dcr = node->p.shuffle.mode == CFQP_D2S_DCR;
  const guint8 *src[CFQP_MAX_SCALE * 2];

  if (b > G_N_ELEMENTS (src)) {
    cfqp_int8_ref_backend.ops[node->op] (node, q, inputs, output, y0, y1);
    return;
  }
  for (guint c = 0; c < output->c; c++)
    for (guint y = y0; y < y1; y++) {
      guint i = y % b;
      for (guint j = 0; j < b; j++) {
        guint ic = dcr ? (i * b + j) * output->c + c : c * b * b + i * b + j;
        src[j] = cfqp_u8_row (&inputs[0], ic, y / b);
      }
      interleave_row (cfqp_u8_row (output, c, y), src, b, inputs[0].w);
    }
}

void
cfqp_int8_cpu_resize_nearest (const CfqpNode *node, const CfqpInt8Node *q,
    const CfqpU8View *inputs, const CfqpU8View *output, guint y0, guint y1)
{
  guint sh = node->p.resize.scale_h, sw = node->p.resize.scale_w;

  for (guint c = 0; c < output->c; c++)
    for (guint y = y0; y < y1; y++) {
      guint8 *o = cfqp_u8_row (output, c, y);
      const guint8 *in = cfqp_u8_row (&inputs[0], c, y / sh);
      if (sw == 1) {
        memcpy (o, in, output->w);
        continue;
      }
#ifdef HAVE_ORC
      if (sw == 2 && output->w == 2 * inputs[0].w && aligned (o, 2)) {
        cfqp_orc_dup2_u8 (o, in, inputs[0].w);
        continue;
      }
#endif
      for (guint x = 0; x < output->w; x++)
        o[x] = in[x / sw];
    }
}

/* Whole rows: memcpy already runs at copy speed, ORC adds nothing. */
void
cfqp_int8_cpu_tile_channels (const CfqpNode *node, const CfqpInt8Node *q,
    const CfqpU8View *inputs, const CfqpU8View *output, guint y0, guint y1)
{
  for (guint c = 0; c < output->c; c++) {
    guint src = node->p.tile.interleave ? c / node->p.tile.repeats : c % inputs[0].c;
    for (guint y = y0; y < y1; y++)
      memcpy (cfqp_u8_row (output, c, y), cfqp_u8_row (&inputs[0], src, y), output->w);
  }
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

  if (width > 0 && four_byte_layout (layout, &other) && aligned (src, 4) &&
      aligned ((gconstpointer) src_stride, 4)) {
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
      (guint) layout->a == other && aligned (dst, 4) && aligned ((gconstpointer) dst_stride, 4)) {
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
