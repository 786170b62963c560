/* Exact resampling of 8-bit planes to any size (internal, backend-neutral).
 *
 * What fractional output sizes run after the network: the network's u8
 * output (an integer scale) is resampled to the size asked for.  It always
 * runs on the host, whatever backend ran the network, so its bytes are the
 * same on every backend.
 *
 * Kernel: Catmull-Rom (Keys' cubic with a = −0.5), separable, on pixel
 * centres (input coordinate of output pixel i: (i + ½)·n_in/n_out − ½).
 * Antialiased when it reduces: with ratio r = n_in/n_out > 1 the kernel is
 * stretched by r (support 2r input pixels, weight f((x − c)/r)), as PIL's
 * BICUBIC resize; taps that fall outside the image are dropped and the rest
 * renormalised (PIL's edge rule).
 *
 * Fixed point (the definition every implementation must match):
 *  - Weights: per output pixel, w_k = f(·)/Σf in double, quantised to
 *    q_k = floor(w_k·2^14 + ½); the remainder 2^14 − Σq_k is added to the
 *    largest q_k (the first one on ties); zero taps at either end are
 *    dropped.  So Σq_k = 2^14 exactly.
 *  - Vertical pass first, per input column x:
 *      m = (Σ_k qv_k · src[y_k][x] + 2^7) >> 8        (int16, 6 fraction bits)
 *  - Then the horizontal pass, per output pixel:
 *      out = clamp ((Σ_k qh_k · m[x_k] + 2^19) >> 20, 0, 255)
 *    (>> is an arithmetic shift: floor division by the power of two).
 *  An axis whose size does not change gets one tap of 2^14: the identity.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CFQP_RESAMPLE_WEIGHT_BITS 14
#define CFQP_RESAMPLE_MID_BITS     6

/* One axis: for output i, count[i] weights from input start[i]. */
typedef struct {
  guint   n_in, n_out;
  guint   taps;        /* weights stored per output: the widest window, rounded up to 8 */
  guint  *start;       /* per output */
  guint  *count;       /* per output: its window (≤ taps); the rest of its row is 0 */
  gint16 *weights;     /* [n_out][taps] */
} CfqpResampleAxis;

typedef struct {
  CfqpResampleAxis h, v;
} CfqpResampler;

CfqpResampler *cfqp_resampler_new          (guint in_width, guint in_height,
                                            guint out_width, guint out_height);
void           cfqp_resampler_free         (CfqpResampler *rs);
/* Bytes of scratch one call of cfqp_resample_rows needs. */
gsize          cfqp_resampler_scratch_size (const CfqpResampler *rs);
/* Output rows [y0, y1) of one 8-bit plane.  src_pixel / dst_pixel: bytes
 * from one sample to the next in a row (1: planar; 3 or 4: one channel of
 * packed pixels, the pointer at that channel's byte).  scratch: at least
 * cfqp_resampler_scratch_size bytes, 64-byte aligned. */
void           cfqp_resample_rows          (const CfqpResampler *rs,
                                            const guint8 *src, gsize src_stride, guint src_pixel,
                                            guint8 *dst, gsize dst_stride, guint dst_pixel,
                                            guint y0, guint y1, gpointer scratch);
/* The straightforward scalar form of the same definition (tests). */
void           cfqp_resample_rows_scalar   (const CfqpResampler *rs,
                                            const guint8 *src, gsize src_stride, guint src_pixel,
                                            guint8 *dst, gsize dst_stride, guint dst_pixel,
                                            guint y0, guint y1);

G_END_DECLS
