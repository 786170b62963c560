/* Packed 8-bit pixels ↔ planar uint8 RGB for the cpu set (internal): the
 * same bytes as cfqp_pixels_unpack_rgb_u8 / cfqp_pixels_pack_rgb_u8, the
 * kernel config's NEON moves on ARM, ORC for 4-byte pixels; and the byte
 * move kernels the config can name (depth-to-space rows, pixels). */
#pragma once

#include "cfqp-engine.h"
#include "cfqp-int8-cpu-gemm.h"

G_BEGIN_DECLS

void cfqp_int8_cpu_unpack_rgb (const CfqpPackedLayout *layout, const guint8 *src,
                               gsize src_stride, guint width, guint height, guint8 *planar);
/* With an alpha byte in a 4-byte pixel, writes it as 255 (the caller then
 * upscales alpha into it); otherwise leaves every non-RGB byte alone. */
void cfqp_int8_cpu_pack_rgb   (const CfqpPackedLayout *layout, const guint8 *planar,
                               guint width, guint height, guint8 *dst, gsize dst_stride);

/* d[b·x + j] = s[j][x] for j < b; FALSE (nothing written): not a block
 * size of the kernel. */
typedef gboolean (*CfqpInt8InterleaveFunc) (guint8 *d, const guint8 *const *s, guint b,
                                            guint n);
/* cfqp_int8_cpu_unpack_rgb / _pack_rgb for the layouts a kernel takes
 * (FALSE: not this one, nothing written); pack leaves non-RGB bytes alone. */
typedef gboolean (*CfqpInt8UnpackRgbFunc) (const CfqpPackedLayout *layout, const guint8 *src,
                                           gsize src_stride, guint width, guint height,
                                           guint8 *planar);
typedef gboolean (*CfqpInt8PackRgbFunc)   (const CfqpPackedLayout *layout,
                                           const guint8 *planar, guint width, guint height,
                                           guint8 *dst, gsize dst_stride);

#if CFQP_GEMM_ARM64
/* cfqp-int8-cpu-moves-neon.c: blocks 2, 3, 4; 3- and 4-byte pixels */
gboolean cfqp_int8_interleave_row_u8__neon (guint8 *d, const guint8 *const *s, guint b,
                                            guint n);
gboolean cfqp_int8_unpack_rgb_u8__neon     (const CfqpPackedLayout *layout, const guint8 *src,
                                            gsize src_stride, guint width, guint height,
                                            guint8 *planar);
gboolean cfqp_int8_pack_rgb_u8__neon       (const CfqpPackedLayout *layout,
                                            const guint8 *planar, guint width, guint height,
                                            guint8 *dst, gsize dst_stride);
#endif

G_END_DECLS
